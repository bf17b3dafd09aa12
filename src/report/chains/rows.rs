//! The rows of the chain table and the models' own row, with each chain's frontier metrics.

use super::{ChainRow, ModelRow};
use crate::engine::chains::{
    ChainGoal, Choice, ModelData, Searched, aiq_exact, aiq_routerbench, evaluate, gap_on_subsample,
    means, random_baseline, routellm_exact, routellm_form,
};

/// Each model alone, in stage order.
pub fn model_rows(models: &[ModelData], order: &[usize], sources: &[String]) -> Vec<ModelRow> {
    order
        .iter()
        .map(|&m| {
            let d = &models[m];
            ModelRow {
                name: d.name.clone(),
                cost: d.mean_cost(),
                quality: d.mean_quality(),
                latency_ms: d.mean_latency(),
                cost_source: sources[m].clone(),
            }
        })
        .collect()
}

/// Every chain's row, in ranking order.
pub fn chain_rows(
    models: &[ModelData],
    searched: &[Searched],
    choice: &Choice,
    goal: &ChainGoal,
) -> Vec<ChainRow> {
    let n = models[0].prompts();
    let frontiers: Vec<Vec<(f64, f64)>> = searched.iter().map(|s| means(&s.frontier, n)).collect();
    let aiq = aiq_routerbench(&frontiers).values;
    let aiq_x = aiq_exact(&frontiers).values;
    choice
        .ranking
        .iter()
        .map(|&c| {
            let s = &searched[c];
            let stages = &s.chain.stages;
            let best = choice.per_chain[c].map(|p| {
                let taus = p.taus[..stages.len() - 1].to_vec();
                let e = evaluate(models, &s.chain, &taus);
                (taus, e)
            });
            let singles: Vec<(f64, f64)> = stages
                .iter()
                .map(|&m| (models[m].mean_cost(), models[m].mean_quality()))
                .collect();
            let pair = (stages.len() == 2).then(|| (&models[stages[0]], &models[stages[1]]));
            ChainRow {
                label: s.chain.label(models),
                models: stages.iter().map(|&m| models[m].name.clone()).collect(),
                random_quality: best
                    .as_ref()
                    .and_then(|(_, e)| random_baseline(&singles, e.cost)),
                best,
                frontier_points: s.frontier.len(),
                frontier: frontiers[c].clone(),
                grid: s.grid,
                gap: gap_on_subsample(models, &s.chain, goal),
                routellm: pair.and_then(|(w, st)| routellm_form(w, st)),
                routellm_exact: pair.map(|(w, st)| routellm_exact(w, st)),
                aiq: aiq[c],
                aiq_exact: aiq_x[c],
            }
        })
        .collect()
}
