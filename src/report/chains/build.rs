//! Assembling the [`ChainReport`]: price, order, split, search every chain, choose, measure.

use anyhow::{Result, anyhow, bail};

use super::rows::{chain_rows, model_rows};
use super::{
    ChainHoldout, ChainInput, ChainPick, ChainReport, ChainSource, priced, refuse_unsupported,
    run_models, stage_order,
};
use crate::engine::chains::{
    Chain, ChainGoal, ChainTable, Choice, ModelData, OracleSummary, Searched, aiq_exact,
    aiq_routerbench, all_chains, choose, evaluate, feasible, search_all,
};
use crate::input::multi::LoadedMulti;
use crate::report::settings::RunSettings;
use crate::trust::chains::{ChainIntervals, bootstrap_chain, chain_test_mask};
use crate::trust::holdout::Holdout;
use crate::trust::intervals::Settings;

/// The chain report of a multi-model set or a chain aggregate (`intervals`: bootstrap the pick,
/// from records only).
pub fn chain_report(
    source: ChainSource,
    run: &RunSettings,
    intervals: Option<Settings>,
) -> Result<ChainReport> {
    refuse_unsupported(run)?;
    let prepared = match source {
        ChainSource::Records(loaded) => from_records(&loaded, run)?,
        ChainSource::Aggregate { table, input } => from_aggregate(&table, input, run)?,
    };
    assemble(prepared, run, intervals)
}

/// What the search starts from: the calibration cells of the run's models (name order), and
/// what only records give.
struct Prepared {
    input: ChainInput,
    /// One row per cell of the calibration prompts.
    cells: Vec<ModelData>,
    /// Where each model's cost came from, in words.
    sources: Vec<String>,
    oracle: Option<OracleSummary>,
    /// Records only: the calibration prompts one by one (for the bootstrap).
    prompts: Option<Vec<ModelData>>,
    /// Records only: the held-out prompts and the split in words.
    test: Option<(Vec<ModelData>, String)>,
    /// What an aggregate leaves out, in words.
    note: Option<String>,
}

/// Prices the records, keeps the run's models, splits, and reduces the calibration prompts to
/// the cells an aggregate of them holds.
fn from_records(loaded: &LoadedMulti, run: &RunSettings) -> Result<Prepared> {
    let (all, sources) = run_prompts(loaded, run)?;
    let mut path = run.load.source.label();
    for joined in &run.chains.join {
        path.push_str(&format!(" + {}", joined.display()));
    }
    let split = held_out(loaded, run)?;
    let (calib, test) = match split {
        None => (all, None),
        Some((mask, description)) => {
            let keep: Vec<bool> = mask.iter().map(|t| !t).collect();
            let calib = all.iter().map(|m| m.select(&keep)).collect();
            let test = all.iter().map(|m| m.select(&mask)).collect();
            (calib, Some((test, description)))
        }
    };
    let table = ChainTable::of_prompts(&calib, -1);
    Ok(Prepared {
        input: input_info(loaded, &path),
        cells: table.model_data(),
        sources,
        oracle: table.oracle_summary(),
        prompts: Some(calib),
        test,
        note: None,
    })
}

/// The run's models (in name order, the order of a [`ChainTable`]), priced, one row per prompt,
/// with where each model's cost came from.
fn run_prompts(loaded: &LoadedMulti, run: &RunSettings) -> Result<(Vec<ModelData>, Vec<String>)> {
    let priced = priced(loaded, &run.chains.sheets)?;
    let mut names: Vec<String> = priced.iter().map(|(m, _)| m.name.clone()).collect();
    names = run_models(&names, run.chains.models.as_deref())?;
    names.sort();
    Ok((names.iter())
        .map(|name| priced.iter().find(|(m, _)| &m.name == name).cloned())
        .map(|p| p.expect("a model of the input"))
        .unzip())
}

/// The chain aggregate of a multi-model eval set: its run's models' prompts as cells, keyed at
/// `resolution` (-1: exact).
pub fn records_table(
    loaded: &LoadedMulti,
    run: &RunSettings,
    resolution: i64,
) -> Result<ChainTable> {
    refuse_unsupported(run)?;
    let (prompts, _) = run_prompts(loaded, run)?;
    if resolution >= 0 {
        unkeyable(loaded, &prompts, resolution)?;
    }
    Ok(ChainTable::of_prompts(&prompts, resolution))
}

/// Refuses a confidence whose product by 2^`resolution` overflows (its key would be infinite),
/// naming the finest resolution that keys every confidence.
fn unkeyable(loaded: &LoadedMulti, prompts: &[ModelData], resolution: i64) -> Result<()> {
    let scale = 2f64.powi(resolution as i32);
    for m in prompts {
        if let Some(i) = m.confidence.iter().position(|c| !(c * scale).is_finite()) {
            let largest =
                (prompts.iter().flat_map(|m| &m.confidence)).fold(0.0f64, |a, c| a.max(c.abs()));
            let finest = crate::report::aggregate::finest_resolution(largest, resolution);
            bail!(
                "--resolution {resolution}: model {:?}, prompt {}: confidence {:e} times 2^{resolution} \
                 overflows, so it has no key; the finest resolution that keys every confidence is \
                 {finest}",
                m.name,
                loaded.set.ids[i],
                m.confidence[i]
            );
        }
    }
    Ok(())
}

/// The aggregate's cells over the run's models.
fn from_aggregate(table: &ChainTable, input: ChainInput, run: &RunSettings) -> Result<Prepared> {
    let given = [
        (run.chains.sheets.len() > 1, "--prices"),
        (
            run.load.fields != Default::default()
                || run.chains.fields != crate::input::multi::MultiFields::default(),
            "--field",
        ),
    ];
    if let Some((_, flag)) = given.iter().find(|(on, _)| *on) {
        bail!(
            "{}: {flag}: a chain aggregate was read and priced when it was built; give {flag} \
             to `calibrate aggregate` (or run on the eval set)",
            input.path
        );
    }
    if let Some(how) = &run.holdout {
        let flag = match how {
            Holdout::Fraction { .. } => "--holdout",
            Holdout::Field { .. } => "--split-field",
        };
        bail!(
            "{}: {flag}: a chain aggregate holds cells, not prompts, so it cannot hold prompts \
             out; aggregate each part of the split apart, or run on the eval set",
            input.path
        );
    }
    let kept = run_models(&table.models, run.chains.models.as_deref())?;
    let table = table.restrict(&kept);
    let resolution = match table.resolution {
        k if k < 0 => String::new(),
        k => format!(
            " Confidences were floored to multiples of 2^-{k} when it was built, so thresholds \
             are on that grid."
        ),
    };
    let oracle = match table.oracle {
        true => "",
        false => {
            " The oracle is left out: the aggregate's oracle sums are over all its models, \
                  not the ones this run considers."
        }
    };
    Ok(Prepared {
        input,
        sources: vec!["as priced when the aggregate was built".into(); kept.len()],
        cells: table.model_data(),
        oracle: table.oracle_summary(),
        prompts: None,
        test: None,
        note: Some(format!(
            "Read from a chain aggregate: every number is the records' own except what needs \
             each prompt: no bootstrap intervals and no hold-out.{resolution}{oracle}"
        )),
    })
}

/// Searches every chain of the run's models, chooses, and measures.
fn assemble(p: Prepared, run: &RunSettings, intervals: Option<Settings>) -> Result<ChainReport> {
    let calib = &p.cells;
    let (order, order_text) = stage_order(calib, run.chains.models.as_deref())?;
    let n = calib[0].prompts();
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
    let searched = search_all(calib, &chains);
    let choice = choose(&searched, &goal, n);
    let rows = chain_rows(calib, &searched, &choice, &goal);
    let pick = choice.pick.map(|pick| ChainPick {
        row: choice
            .ranking
            .iter()
            .position(|&c| c == pick.chain)
            .unwrap_or(0),
        stages: stages(calib, &searched[pick.chain].chain, &pick.point.taus),
    });
    let envelope_points: Vec<(f64, f64)> = choice
        .envelope
        .iter()
        .map(|e| (e.point.cost / n as f64, e.point.quality / n as f64))
        .collect();
    let envelope_aiq = envelope_aiq(&searched, &envelope_points, n);
    let trusted = Trusted {
        calibration: n,
        prompts: p.prompts.as_deref(),
        test: p.test,
    };
    let (holdout, intervals) = trusted.trust(&searched, &choice, &goal, intervals);
    Ok(ChainReport {
        input: p.input,
        objective: run.objective,
        goal: describe(&goal),
        order: order_text,
        prompts: n,
        models: model_rows(calib, &order, &p.sources),
        envelope: choice
            .envelope
            .iter()
            .zip(&envelope_points)
            .map(|(e, &(c, q))| (searched[e.chain].chain.label(calib), c, q))
            .collect(),
        chains: rows,
        envelope_aiq,
        oracle: p.oracle,
        pick,
        holdout,
        intervals,
        note: p.note,
    })
}

/// (model, threshold) per stage, the last without one.
fn stages(models: &[ModelData], chain: &Chain, taus: &[f64]) -> Vec<(String, Option<f64>)> {
    let k = chain.len();
    (chain.stages.iter().enumerate())
        .map(|(s, &m)| (models[m].name.clone(), (s + 1 < k).then(|| taus[s])))
        .collect()
}

/// What the trust numbers are measured on: records only.
struct Trusted<'a> {
    /// Prompts chosen on.
    calibration: usize,
    /// The calibration prompts one by one, for the bootstrap.
    prompts: Option<&'a [ModelData]>,
    /// The held-out prompts and the split in words.
    test: Option<(Vec<ModelData>, String)>,
}

impl Trusted<'_> {
    /// The held-out check and the bootstrap intervals of the pick, when asked for.
    fn trust(
        self,
        searched: &[Searched],
        choice: &Choice,
        goal: &ChainGoal,
        intervals: Option<Settings>,
    ) -> (Option<ChainHoldout>, Option<ChainIntervals>) {
        let Some(p) = &choice.pick else {
            return (None, None);
        };
        let chain = &searched[p.chain].chain;
        let taus = &p.point.taus[..chain.len() - 1];
        let calibration = self.calibration;
        let holdout = self.test.map(|(test, description)| {
            held_out_check(&test, description, calibration, searched, chain, taus, goal)
        });
        let intervals = (intervals.filter(|s| s.resamples > 0))
            .zip(self.prompts)
            .map(|(s, prompts)| bootstrap_chain(prompts, chain, taus, &s));
        (holdout, intervals)
    }
}

/// The chosen chain on the held-out prompts, against the goal on them.
fn held_out_check(
    test: &[ModelData],
    description: String,
    calibration: usize,
    searched: &[Searched],
    chain: &Chain,
    taus: &[f64],
    goal: &ChainGoal,
) -> ChainHoldout {
    let held_out = evaluate(test, chain, taus);
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
        calibration,
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
