//! Chains of two or more models: which models to cascade, in which order, at which thresholds.
//!
//! A chain is an ordered subsequence of the models. Stage i answers (and the chain stops) iff its
//! confidence is at least τᵢ; the last stage always answers; every stage that runs is paid, and
//! latencies add up. This module owns those semantics (`model.rs`), the exact and gridded
//! frontier searches (`search.rs`; `pair.rs` sweeps the last three stages of longer chains,
//! `pareto.rs` keeps the frontiers), the pick over the envelope of all chains (`pick.rs`) and
//! the frontier metrics of RouteLLM and RouterBench with their exact forms (`metrics.rs`,
//! `numpy.rs`). Pure: it must not read files, print, or draw unseeded random numbers.

mod cells;
mod metrics;
mod model;
mod numpy;
mod pair;
mod pareto;
mod pick;
mod search;

pub use cells::{ChainCell, ChainTable, table_of};
pub use metrics::{
    OracleSummary, RouteLlm, aiq_exact, aiq_routerbench, means, random_baseline, routellm_exact,
    routellm_form,
};
pub use model::{
    Chain, Evaluation, MAX_MODELS, ModelData, Searched, all_chains, evaluate, evaluate_rows,
};
pub use pick::{ChainGoal, Choice, choose, feasible};
pub use search::{Gap, gap_on_subsample, search_all};

#[cfg(test)]
pub use metrics::oracle;
#[cfg(test)]
pub use model::Frontier;
#[cfg(test)]
pub use pick::better;
#[cfg(test)]
use search::quantile_grid;
#[cfg(test)]
pub use search::{frontier_of, plan};

#[cfg(test)]
mod tests;
