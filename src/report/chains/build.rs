//! Assembling the [`ChainReport`]: price, order, split, search every chain, choose, measure.

use anyhow::{Result, anyhow};

use super::rows::{chain_rows, model_rows};
use super::{
    ChainHoldout, ChainInput, ChainPick, ChainReport, priced, refuse_unsupported, stage_order,
};
use crate::engine::chains::{
    Chain, ChainGoal, Choice, ModelData, Searched, aiq_exact, aiq_routerbench, all_chains, choose,
    evaluate, feasible, oracle, search_all,
};
use crate::input::multi::LoadedMulti;
use crate::report::settings::RunSettings;
use crate::trust::chains::{ChainIntervals, bootstrap_chain, chain_test_mask};
use crate::trust::intervals::Settings;

/// The chain report of a multi-model set (`intervals`: bootstrap the pick).
pub fn chain_report(
    loaded: LoadedMulti,
    run: &RunSettings,
    intervals: Option<Settings>,
) -> Result<ChainReport> {
    refuse_unsupported(run)?;
    let priced = priced(&loaded, &run.chains.sheets)?;
    let sources: Vec<String> = priced.iter().map(|(_, s)| s.clone()).collect();
    let all: Vec<ModelData> = priced.into_iter().map(|(m, _)| m).collect();
    let (order, order_text) = stage_order(&all, run.chains.models.as_deref())?;
    let mut path = run.load.source.label();
    for joined in &run.chains.join {
        path.push_str(&format!(" + {}", joined.display()));
    }
    let input = input_info(&loaded, &path);
    let split = held_out(&loaded, run)?;
    let calib: Vec<ModelData> = match &split {
        None => all.clone(),
        Some((mask, _)) => {
            let keep: Vec<bool> = mask.iter().map(|t| !t).collect();
            all.iter().map(|m| m.select(&keep)).collect()
        }
    };
    let n = calib[0].confidence.len();
    let best_single = order
        .iter()
        .map(|&m| calib[m].mean_quality())
        .fold(f64::NEG_INFINITY, f64::max);
    let reference_cost = order
        .iter()
        .map(|&m| calib[m].mean_cost())
        .fold(0.0, f64::max);
    let goal = ChainGoal::of(run.objective, best_single, reference_cost).map_err(|e| anyhow!(e))?;
    let chains = all_chains(&order);
    let searched = search_all(&calib, &chains);
    let choice = choose(&searched, &goal, n);
    let rows = chain_rows(&calib, &searched, &choice, &goal);
    let pick = choice.pick.map(|p| ChainPick {
        row: choice
            .ranking
            .iter()
            .position(|&c| c == p.chain)
            .unwrap_or(0),
        stages: stages(&all, &searched[p.chain].chain, &p.point.taus),
    });
    let envelope_points: Vec<(f64, f64)> = choice
        .envelope
        .iter()
        .map(|p| (p.point.cost / n as f64, p.point.quality / n as f64))
        .collect();
    let envelope_aiq = envelope_aiq(&searched, &envelope_points, n);
    let (holdout, intervals) = trust(&all, &calib, &searched, &choice, &goal, split, intervals);
    Ok(ChainReport {
        input,
        objective: run.objective,
        goal: describe(&goal),
        order: order_text,
        prompts: n,
        models: model_rows(&calib, &order, &sources),
        envelope: choice
            .envelope
            .iter()
            .zip(&envelope_points)
            .map(|(p, &(c, q))| (searched[p.chain].chain.label(&calib), c, q))
            .collect(),
        chains: rows,
        envelope_aiq,
        oracle: oracle(&calib, &order),
        pick,
        holdout,
        intervals,
    })
}

/// (model, threshold) per stage, the last without one.
fn stages(models: &[ModelData], chain: &Chain, taus: &[f64]) -> Vec<(String, Option<f64>)> {
    let k = chain.len();
    (chain.stages.iter().enumerate())
        .map(|(s, &m)| (models[m].name.clone(), (s + 1 < k).then(|| taus[s])))
        .collect()
}

/// The held-out check and the bootstrap intervals of the pick, when asked for.
fn trust(
    all: &[ModelData],
    calib: &[ModelData],
    searched: &[Searched],
    choice: &Choice,
    goal: &ChainGoal,
    split: Option<(Vec<bool>, String)>,
    intervals: Option<Settings>,
) -> (Option<ChainHoldout>, Option<ChainIntervals>) {
    let Some(p) = &choice.pick else {
        return (None, None);
    };
    let chain = &searched[p.chain].chain;
    let taus = &p.point.taus[..chain.len() - 1];
    let holdout = split.map(|(mask, description)| {
        let test: Vec<ModelData> = all.iter().map(|m| m.select(&mask)).collect();
        let held_out = evaluate(&test, chain, taus);
        // A quality-loss bar is against the best single model on the same (held-out) prompts.
        let held_goal = match *goal {
            ChainGoal::MaxLoss { max_loss, .. } => ChainGoal::MaxLoss {
                max_loss,
                best_single: (searched.iter().filter(|s| s.chain.len() == 1))
                    .map(|s| test[s.chain.stages[0]].mean_quality())
                    .fold(f64::NEG_INFINITY, f64::max),
            },
            other => other,
        };
        ChainHoldout {
            description,
            calibration: calib[0].confidence.len(),
            test: held_out.n,
            met: feasible(&held_goal, held_out.cost, held_out.quality),
            bar: match held_goal {
                ChainGoal::MaxLoss {
                    max_loss,
                    best_single,
                } => Some(best_single - max_loss),
                ChainGoal::MinQuality { target } => Some(target),
                _ => None,
            },
            held_out,
        }
    });
    let intervals = intervals
        .filter(|s| s.resamples > 0)
        .map(|s| bootstrap_chain(calib, chain, taus, &s));
    (holdout, intervals)
}

/// The held-out prompts (true) and the split in words, with `--holdout` or `--split-field`.
fn held_out(loaded: &LoadedMulti, run: &RunSettings) -> Result<Option<(Vec<bool>, String)>> {
    let Some(how) = &run.holdout else {
        return Ok(None);
    };
    let mask = chain_test_mask(
        loaded.set.ids.len(),
        loaded.set.task_type.as_ref(),
        loaded.set.split.as_deref(),
        how,
    )?;
    Ok(Some((mask, how.describe())))
}

/// RouterBench's AIQ of the envelope and its exact form, compared with every chain.
fn envelope_aiq(
    searched: &[Searched],
    envelope: &[(f64, f64)],
    n: usize,
) -> (Option<f64>, Option<f64>) {
    let mut routers: Vec<Vec<(f64, f64)>> = searched
        .iter()
        .map(|s| crate::engine::chains::means(&s.frontier, n))
        .collect();
    routers.push(envelope.to_vec());
    (
        aiq_routerbench(&routers).values.last().copied().flatten(),
        aiq_exact(&routers).values.last().copied().flatten(),
    )
}

fn input_info(loaded: &LoadedMulti, path: &str) -> ChainInput {
    ChainInput {
        path: path.to_string(),
        format: loaded.format.name(),
        form: loaded.form.name(),
        sha256: loaded.sha256.clone(),
        bytes: loaded.bytes,
        records_read: loaded.drops.read,
        records_dropped: loaded.drops.dropped,
        drop_reasons: loaded.drops.reasons.clone(),
        prompts: loaded.set.ids.len(),
    }
}

/// The goal in words.
fn describe(goal: &ChainGoal) -> String {
    match *goal {
        ChainGoal::MinQuality { target } => {
            format!("cheapest chain and thresholds with quality (every answer) >= {target}")
        }
        ChainGoal::MaxLoss {
            max_loss,
            best_single,
        } => format!(
            "cheapest chain and thresholds with quality at most {max_loss} below the best single \
             model ({best_single:.4})"
        ),
        ChainGoal::Budget { max_cost } => {
            format!("best quality with cost per request <= {max_cost}")
        }
        ChainGoal::QualityTimesSavings { reference_cost } => {
            format!("maximise quality x (1 - cost / {reference_cost:.6}, the dearest model's cost)")
        }
    }
}
