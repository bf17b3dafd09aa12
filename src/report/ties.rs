//! `--split-ties` (issue 12): the randomised policy that keeps the small answer on a seeded
//! hash-chosen fraction of one tie, when the objective needs part of it, with its metrics in
//! expectation and their bootstrap intervals.
//!
//! Owns the decision to apply a split and why not; the split itself is `engine::ties`', its
//! intervals `trust::intervals`'. It must not read files, print or format.

use super::prepare::Prepared;
use super::settings::RunSettings;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::{Metrics, Sweep};
use crate::engine::ties::{TieSplit, tie_split};
use crate::trust::intervals::{self, RowIntervals};

/// What `--split-ties` did.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitTies {
    /// The seed of the router's hash.
    pub seed: u64,
    /// The split the policy carries, or why the policy stays a plain threshold.
    pub outcome: Result<AppliedSplit, String>,
}

/// A split the policy carries.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedSplit {
    /// The tie, the keep fraction and the metrics in expectation.
    pub split: TieSplit,
    /// The deterministic threshold it refines (its metrics).
    pub base: Metrics,
    /// Bootstrap intervals of the expected metrics (`None` without resamples).
    pub intervals: Option<RowIntervals>,
}

/// With `--split-ties`: the split of the tie just past the recommendation, when it meets the
/// objective in expectation for less than the recommendation costs (`None` without the flag).
pub fn split_ties(
    run: &RunSettings,
    prepared: &Prepared<'_>,
    sweep: &Sweep,
    recommendation: &Result<Metrics, Infeasible>,
    bootstrap: Option<intervals::Settings>,
) -> Option<SplitTies> {
    let seed = run.split_ties?;
    let outcome = match recommendation {
        Err(_) => Err("no threshold meets the objective, so no tie past one can be split".into()),
        Ok(base) => {
            let j = sweep.candidate_at(base.routing_threshold());
            match tie_split(sweep, run.objective, j) {
                None => Err(no_split_reason(sweep, j)),
                Some(s) if s.expected.cost_per_request >= base.cost_per_request => Err(format!(
                    "keeping part of the tie at {} would cost more per request than the \
                     threshold does (the small model would run on every request)",
                    s.value
                )),
                Some(split) => Ok(AppliedSplit {
                    split,
                    base: *base,
                    intervals: bootstrap.and_then(|b| {
                        intervals::split_intervals(prepared.input(), sweep, &split, b)
                    }),
                }),
            }
        }
    };
    Some(SplitTies { seed, outcome })
}

/// Why the tie past candidate `j` cannot be split.
fn no_split_reason(sweep: &Sweep, j: usize) -> String {
    if j + 1 >= sweep.candidates() {
        return "the threshold already keeps every small answer it can".into();
    }
    let records = sweep.totals(j + 1).accepted - sweep.totals(j).accepted;
    if records < 2 {
        return format!(
            "the next confidence, {}, is held by one record: there is no tie to split",
            sweep.threshold_of(j + 1)
        );
    }
    format!(
        "keeping any share of the {records} records at confidence {} misses the objective",
        sweep.threshold_of(j + 1)
    )
}
