//! The chain report: every number `sweep` and `recommend` show for a multi-model eval set.
//!
//! Owns pricing each model (its cost field, else its tokens × its price in a `--prices` sheet or
//! the built-in one), the order of the models, refusing the flags that do not carry over to
//! chains, and assembling the searched chains, the pick, the frontier metrics and the trust
//! numbers into one [`ChainReport`]. Must not read files, print or format.

mod build;
mod rows;

use anyhow::{Result, bail};

use super::settings::RunSettings;
use crate::engine::chains::{ChainTable, Evaluation, Gap, ModelData, OracleSummary, RouteLlm};
use crate::engine::objective::Objective;
use crate::input::aggregate::chains::ChainAggregate;
use crate::input::multi::{LoadedMulti, ModelColumns};
use crate::input::prices::PriceSheet;
use crate::trust::chains::ChainIntervals;

pub use super::settings::ChainSettings;
pub use build::{chain_report, records_table};

/// Facts about the multi-model input.
#[derive(Debug, Clone)]
pub struct ChainInput {
    /// As named on the command line (`a.jsonl + b.jsonl` with `--join`).
    pub path: String,
    /// jsonl or csv.
    pub format: &'static str,
    /// Long or nested.
    pub form: &'static str,
    /// SHA-256 of the input, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Records read.
    pub records_read: u64,
    /// Records dropped (`--skip-invalid`).
    pub records_dropped: u64,
    /// Why, by reason.
    pub drop_reasons: Vec<(String, u64)>,
    /// Prompts kept (every model answered each).
    pub prompts: usize,
}

/// One model alone.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// Its name.
    pub name: String,
    /// Mean cost per request (calibration part).
    pub cost: f64,
    /// Mean quality (calibration part).
    pub quality: f64,
    /// Mean latency (ms), when known.
    pub latency_ms: Option<f64>,
    /// Where its cost came from, in words.
    pub cost_source: String,
}

/// One chain: its best point under the objective and its frontier metrics.
#[derive(Debug, Clone)]
pub struct ChainRow {
    /// `a → b → c`.
    pub label: String,
    /// Model names, first stage first.
    pub models: Vec<String>,
    /// Its best point: thresholds (stages before the last) and what it does, when a point
    /// meets the objective.
    pub best: Option<(Vec<f64>, Evaluation)>,
    /// Points on its frontier.
    pub frontier_points: usize,
    /// The frontier as (mean cost, mean quality), cost ascending.
    pub frontier: Vec<(f64, f64)>,
    /// The outer grid size when gridded (`None`: exact).
    pub grid: Option<usize>,
    /// What the grid loses, measured on a subsample (gridded chains).
    pub gap: Option<Gap>,
    /// RouteLLM's form (pairs only; `None` also where `pd.qcut` raises).
    pub routellm: Option<RouteLlm>,
    /// The exact form (pairs only).
    pub routellm_exact: Option<RouteLlm>,
    /// RouterBench's AIQ over all chains compared.
    pub aiq: Option<f64>,
    /// The exact AIQ.
    pub aiq_exact: Option<f64>,
    /// The random-routing baseline's quality at this chain's best cost (mixing its models).
    pub random_quality: Option<f64>,
}

/// The pick with its thresholds, ready to deploy.
#[derive(Debug, Clone)]
pub struct ChainPick {
    /// Index into [`ChainReport::chains`].
    pub row: usize,
    /// (model, threshold) per stage, the last without a threshold.
    pub stages: Vec<(String, Option<f64>)>,
}

/// What calibration promised and the held-out prompts delivered with the chosen chain.
#[derive(Debug, Clone)]
pub struct ChainHoldout {
    /// How the prompts were split, in words.
    pub description: String,
    /// Prompts chosen on.
    pub calibration: usize,
    /// Prompts checked on.
    pub test: usize,
    /// On the held-out prompts.
    pub held_out: Evaluation,
    /// Whether the held-out prompts meet the objective.
    pub met: bool,
    /// The quality the held-out prompts had to reach, for a quality floor (with
    /// `--max-quality-loss`: the best single model's quality on them minus the loss).
    pub bar: Option<f64>,
}

/// Every number of a chain report.
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// The input.
    pub input: ChainInput,
    /// The objective as asked.
    pub objective: Objective,
    /// What it means for chains, in words.
    pub goal: String,
    /// How the models were ordered into stages.
    pub order: String,
    /// Prompts chosen on.
    pub prompts: usize,
    /// The models alone, in stage order.
    pub models: Vec<ModelRow>,
    /// Every chain, best first (those meeting the objective by it, then the rest).
    pub chains: Vec<ChainRow>,
    /// The envelope of all chains: (chain label, mean cost, mean quality), cost ascending.
    pub envelope: Vec<(String, f64, f64)>,
    /// RouterBench's AIQ of the envelope and its exact form.
    pub envelope_aiq: (Option<f64>, Option<f64>),
    /// The oracle over the run's models (`None`: an aggregate's oracle sums are over others).
    pub oracle: Option<OracleSummary>,
    /// The pick, when a chain meets the objective.
    pub pick: Option<ChainPick>,
    /// The held-out check, with `--holdout` or `--split-field`.
    pub holdout: Option<ChainHoldout>,
    /// Bootstrap intervals of the pick.
    pub intervals: Option<ChainIntervals>,
    /// What a report from an aggregate leaves out, in words.
    pub note: Option<String>,
}

impl ChainSource {
    /// Prompts the source holds.
    pub fn prompts(&self) -> usize {
        match self {
            ChainSource::Records(loaded) => loaded.set.ids.len(),
            ChainSource::Aggregate { table, .. } => table.records() as usize,
        }
    }
}

/// The facts about a chain aggregate, in the report's words.
pub fn aggregate_input_info(agg: &ChainAggregate, path: &str) -> ChainInput {
    let records: u64 = agg.rows.iter().map(|r| r.records).sum();
    ChainInput {
        path: path.to_string(),
        format: "parquet",
        form: "chain aggregate (one row per cell of the models' confidence keys)",
        sha256: agg.sha256.clone(),
        bytes: agg.bytes,
        records_read: agg.rows.len() as u64,
        records_dropped: 0,
        drop_reasons: Vec::new(),
        prompts: records as usize,
    }
}

/// Where a chain report's prompts come from.
#[derive(Debug)]
pub enum ChainSource {
    /// A multi-model eval set.
    Records(LoadedMulti),
    /// A chain aggregate (several merged), and the facts about it.
    Aggregate {
        /// Its cells.
        table: ChainTable,
        /// The input, as the report names it.
        input: ChainInput,
    },
}

impl ChainReport {
    /// Whether a chain meets the objective.
    pub fn meets_objective(&self) -> bool {
        self.pick.is_some()
    }

    /// The picked chain's row.
    pub fn picked(&self) -> Option<(&ChainPick, &ChainRow)> {
        self.pick.as_ref().map(|p| (p, &self.chains[p.row]))
    }
}

/// Refuses the flags of a two-model run that have no chain form yet, one line each.
pub fn refuse_unsupported(run: &RunSettings) -> Result<()> {
    let why = if run.certify.is_some() {
        "--certify: its guarantee covers one threshold of one pair; a chain sets several \
         thresholds and is chosen among many chains, which the test does not account for; \
         drop --certify (use --holdout to check the pick on unseen prompts)"
    } else if !run.filters.is_empty() {
        "--where is not supported with a multi-model input yet; filter the file first"
    } else if !run.policy.segment_by.is_empty() || !run.policy.always_large.is_empty() {
        "--segment-by and --always-large are not supported with a multi-model input yet"
    } else if run.policy.escalate_refusals {
        "--escalate-refusals is not supported with a multi-model input yet"
    } else if run.signal.source != crate::signals::settings::SignalSource::Confidence
        || run.signal.recalibrate.is_some()
    {
        "--signal and --recalibrate are not supported with a multi-model input yet; each \
         model's confidence field is its signal"
    } else if run.split_ties.is_some() {
        "--split-ties splits the tie of one threshold of one pair; a chain has a threshold per \
         stage, so it is not supported with a multi-model input"
    } else if !run.costs.small.default || !run.costs.large.default {
        "--small-cost/--large-cost price the two models of a pair; a multi-model input prices \
         each model by its cost field or by its tokens and a --prices sheet"
    } else if run.costs.small_timeout_ms.is_some() {
        "--small-timeout-ms escalates the small model's slow answers; a chain has no single \
         small model, so it is not supported with a multi-model input"
    } else if run.costs.baseline.is_some() {
        "--baseline/--baseline-cost compare a pair with a third model; with a multi-model \
         input, add that model to the eval set and compare chains"
    } else if run.costs.large_output_ratio != 1.0 {
        "--large-output-ratio estimates a pair's large output tokens; a multi-model input \
         gives each model's own output_tokens"
    } else {
        return Ok(());
    };
    bail!("{why}")
}

/// Each model with its cost resolved: the cost field, else tokens × its sheet price.
pub fn priced(loaded: &LoadedMulti, sheets: &[PriceSheet]) -> Result<Vec<(ModelData, String)>> {
    loaded
        .set
        .models
        .iter()
        .map(|m| {
            let (model, source) = price_model(m, sheets)?;
            // A cost a sum cannot hold exactly (`engine::exact`), as the readers refuse in a
            // cost field.
            if let Some(i) = model.cost.iter().position(|c| !c.is_finite() || *c >= 1e30) {
                bail!(
                    "model {:?}, prompt {}: its tokens at its price cost {:e} per request; costs \
                     must be below 1e30 (state prices in a larger unit)",
                    m.name,
                    loaded.set.ids[i],
                    model.cost[i]
                );
            }
            Ok((model, source))
        })
        .collect()
}

fn price_model(m: &ModelColumns, sheets: &[PriceSheet]) -> Result<(ModelData, String)> {
    let (cost, source) = match (&m.cost, &m.output_tokens) {
        (Some(c), _) => (c.clone(), "the records' cost field".to_string()),
        (None, Some(out)) => {
            let Some((price, sheet)) = sheets
                .iter()
                .find_map(|s| s.get(&m.name).map(|p| (p, s.source().to_string())))
            else {
                bail!(
                    "model {:?}: the records carry tokens but no cost, and no price sheet has \
                     this model; add it to a sheet passed with --prices, or give each record a \
                     cost",
                    m.name
                );
            };
            let input = m
                .input_tokens
                .clone()
                .unwrap_or_else(|| vec![0.0; out.len()]);
            let cost = input
                .iter()
                .zip(out)
                .map(|(i, o)| (i * price.input + o * price.output) / 1e6)
                .collect();
            (cost, format!("tokens × {price} ({sheet})"))
        }
        (None, None) => bail!(
            "model {:?}: the records carry neither a cost nor output_tokens to price; give each \
             record a cost (--field cost=COLUMN) or token counts and a --prices sheet",
            m.name
        ),
    };
    Ok((
        ModelData {
            name: m.name.clone(),
            confidence: m.confidence.clone(),
            quality: m.quality.clone(),
            cost,
            latency_ms: m.latency_ms.clone(),
            weight: None,
        },
        source,
    ))
}

/// The models a run considers: those `--models` names (each in the input once), else every
/// model; at most [`MAX_MODELS`](crate::engine::chains::MAX_MODELS).
pub fn run_models(names: &[String], wanted: Option<&[String]>) -> Result<Vec<String>> {
    let max = crate::engine::chains::MAX_MODELS;
    let Some(wanted) = wanted else {
        if names.len() > max {
            bail!(
                "the input has {} models; chains consider at most {max}: name the ones to \
                 consider, in stage order, with --models a,b,c",
                names.len()
            );
        }
        return Ok(names.to_vec());
    };
    for (k, name) in wanted.iter().enumerate() {
        if !names.contains(name) {
            bail!(
                "--models: no model {name:?} in the input; it has {}",
                names.join(", ")
            );
        }
        if wanted[..k].contains(name) {
            bail!("--models: {name:?} is named twice");
        }
    }
    if wanted.len() > max {
        bail!("--models: at most {max} models");
    }
    Ok(wanted.to_vec())
}

/// The stage order of `models` (the run's models): as `--models` names them, else by mean cost
/// (ties by name).
pub fn stage_order(
    models: &[ModelData],
    wanted: Option<&[String]>,
) -> Result<(Vec<usize>, String)> {
    if let Some(names) = wanted {
        let order = (names.iter())
            .map(|name| models.iter().position(|m| &m.name == name))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| anyhow::anyhow!("--models: a model missing from the run"))?;
        return Ok((order, "as given by --models".into()));
    }
    let mut order: Vec<usize> = (0..models.len()).collect();
    order.sort_by(|&a, &b| {
        models[a]
            .mean_cost()
            .total_cmp(&models[b].mean_cost())
            .then(models[a].name.cmp(&models[b].name))
    });
    Ok((order, "by mean cost per request, cheapest first".into()))
}
