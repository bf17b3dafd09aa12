//! The exact threshold sweep: sort once by confidence, prefix sums, O(1) metrics per threshold.
//!
//! Owns the semantics of a threshold τ (accept the small answer iff confidence ≥ τ) and every
//! metric of a split. Pure: takes slices, returns values; no I/O, no printing. The candidate set
//! is every distinct observed confidence plus "escalate everything".

use std::sync::Arc;

use serde::Serialize;

use crate::engine::economics::{Cost, CostModel, cascade_cost_per_request, savings};
use crate::engine::sums::auroc_of_groups;

/// The columns a sweep needs, borrowed from the eval set.
#[derive(Debug, Clone, Copy)]
pub struct SweepInput<'a> {
    /// Confidence per record.
    pub confidence: &'a [f64],
    /// Small-model quality per record, in [0, 1].
    pub small_quality: &'a [f64],
    /// Large-model quality per record, when known.
    pub large_quality: Option<&'a [f64]>,
    /// Costs of both models.
    pub costs: CostModel<'a>,
    /// Records that escalate whatever their confidence (e.g. the small model timed out).
    pub safeguarded: Option<&'a [bool]>,
}

/// Metrics of the cascade at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    /// The threshold: records with confidence ≥ this are answered by the small model.
    pub threshold: f64,
    /// True for the "escalate everything" candidate (threshold above every confidence): the
    /// always-large policy, priced without the small model (it need not run).
    pub accepts_none: bool,
    /// Records answered by the small model.
    pub accepted: usize,
    /// Records escalated to the large model.
    pub escalated: usize,
    /// escalated / n.
    pub escalation_rate: f64,
    /// Mean small quality over accepted records; `None` when none are accepted.
    pub non_escalated_quality: Option<f64>,
    /// (Σ small quality over accepted + Σ large quality over escalated) / n; `None` without
    /// large-model labels.
    pub cascade_quality: Option<f64>,
    /// (Σ small cost over all + Σ large cost over escalated) / n, currency units per request;
    /// for "escalate everything", Σ large cost / n (the small model is not run).
    pub cost_per_request: Cost,
    /// Small-model spend on requests that escalated anyway, per request (wasted spend).
    pub wasted_small_cost_per_request: Cost,
    /// 1 − cost_per_request / always-large cost per request; `None` if always-large costs 0.
    pub savings_vs_large: Option<f64>,
    /// 1 − cost_per_request / baseline cost per request; `None` without a baseline.
    pub savings_vs_baseline: Option<f64>,
    /// The post's objective: quality × (1 − cost / always-large cost), with quality the cascade
    /// quality when large labels exist, else the non-escalated quality.
    #[serde(rename = "objective")]
    pub quality_times_savings: Option<f64>,
}

impl Metrics {
    /// The threshold as the deployed policy states it: `None` for "escalate everything".
    pub fn deployed_threshold(&self) -> Option<f64> {
        (!self.accepts_none).then_some(self.threshold)
    }

    /// The threshold a router applies to reproduce this row: "escalate everything" accepts no
    /// confidence at all (infinity), whatever confidences other records carry.
    pub fn routing_threshold(&self) -> f64 {
        if self.accepts_none {
            f64::INFINITY
        } else {
            self.threshold
        }
    }
}

/// One single-model policy: every request to one model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Baseline {
    /// Mean quality; `None` when that model's labels are absent.
    pub quality: Option<f64>,
    /// Cost per request (currency units).
    pub cost_per_request: Cost,
}

/// The always-small and always-large policies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Baselines {
    /// Every request answered by the small model, none escalated.
    pub always_small: Baseline,
    /// Every request sent straight to the large model (the small model is not run).
    pub always_large: Baseline,
}

/// A prepared sweep: sorted prefix sums at every candidate threshold.
#[derive(Debug, Clone)]
pub struct Sweep {
    n: usize,
    /// Distinct confidences, descending.
    distinct: Vec<f64>,
    /// Per candidate j (0 = escalate everything, j ≥ 1 = threshold `distinct[j-1]`):
    accepted: Vec<usize>,
    small_quality_accepted: Vec<f64>,
    large_quality_escalated: Option<Vec<f64>>,
    large_cost_escalated: Vec<f64>,
    small_cost_escalated: Vec<f64>,
    small_quality_total: f64,
    large_quality_total: Option<f64>,
    small_cost_total: f64,
    large_cost_total: f64,
    baseline_cost: Option<f64>,
    safeguarded: usize,
    /// Record indices from most to least confident, safeguarded records last.
    order: Vec<u32>,
    /// Per candidate: Σ max(large − small quality, 0) over accepted records.
    quality_lost: Option<Vec<f64>>,
    /// With [`Sweep::keeping_columns`]: the record columns in `order`.
    columns: Option<Arc<SortedColumns>>,
}

impl Sweep {
    /// Sorts the records by confidence and builds the prefix sums. O(n log n).
    ///
    /// Panics if `input.confidence` is empty or the columns differ in length (the loader
    /// guarantees neither happens).
    pub fn new(input: SweepInput<'_>) -> Sweep {
        build::sweep(input, false)
    }

    /// [`Sweep::new`] that also keeps the record columns it lays out in its order, for
    /// [`Sweep::sorted_columns`] (the bootstrap) to reuse instead of gathering them again.
    pub fn keeping_columns(input: SweepInput<'_>) -> Sweep {
        build::sweep(input, true)
    }

    /// The record columns laid out in this sweep's order, so that resampling reads memory
    /// sequentially.
    /// (Kept from the build with [`Sweep::keeping_columns`], which must have had `input`.)
    pub fn sorted_columns(&self, input: SweepInput<'_>) -> Arc<SortedColumns> {
        if let Some(kept) = &self.columns {
            return Arc::clone(kept);
        }
        Arc::new(build::gathered(&self.order, &input))
    }

    /// Number of records.
    pub fn records(&self) -> usize {
        self.n
    }

    /// Number of candidate thresholds: distinct confidences plus "escalate everything".
    pub fn candidates(&self) -> usize {
        self.accepted.len()
    }

    /// Record indices from most to least confident (safeguarded records last): candidate j accepts
    /// the first `at_candidate(j).accepted` of them.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// The tie groups of the eligible records from least to most confident: each group's shown
    /// value (its confidence; 0 for a group that holds -0.0) and the positions of
    /// [`Sweep::order`] its records hold.
    pub fn ascending_groups(&self) -> impl Iterator<Item = (f64, std::ops::Range<usize>)> + '_ {
        (1..self.accepted.len())
            .rev()
            .map(|j| (self.distinct[j - 1], self.accepted[j - 1]..self.accepted[j]))
    }

    /// At candidate `j`, the mean over all records of max(large − small quality, 0) on the
    /// accepted ones: the quality given up by not escalating them (an upper bound on the drop
    /// against always-large). `None` without large labels.
    pub fn quality_lost(&self, j: usize) -> Option<f64> {
        self.quality_lost.as_ref().map(|v| v[j] / self.n as f64)
    }

    /// Distinct confidences of records that can be accepted, descending.
    pub fn distinct_confidences(&self) -> &[f64] {
        &self.distinct
    }

    /// The candidate whose split equals the split at threshold τ.
    pub fn candidate_at(&self, threshold: f64) -> usize {
        self.distinct.partition_point(|&c| c >= threshold)
    }

    /// The threshold that reproduces candidate `j` with `confidence >= threshold`: the smallest
    /// accepted confidence, or just above the largest confidence for "escalate everything".
    pub fn threshold_of(&self, j: usize) -> f64 {
        if j == 0 {
            // Above every confidence that could be accepted (infinite if none can).
            self.distinct.first().map_or(f64::INFINITY, |c| c.next_up())
        } else {
            self.distinct[j - 1]
        }
    }

    /// Metrics of candidate `j` (0 = escalate everything; higher j accepts more).
    pub fn at_candidate(&self, j: usize) -> Metrics {
        self.metrics(j, self.threshold_of(j))
    }

    /// Metrics at an arbitrary threshold τ; the row shows τ itself.
    pub fn at_threshold(&self, threshold: f64) -> Metrics {
        self.metrics(self.candidate_at(threshold), threshold)
    }

    /// The raw sums behind candidate `j`, so that several sweeps (segments) can be combined
    /// into one policy's metrics exactly.
    pub fn totals(&self, j: usize) -> Totals {
        Totals {
            records: self.n,
            accepted: self.accepted[j],
            small_quality_accepted: self.small_quality_accepted[j],
            large_quality_escalated: self.large_quality_escalated.as_ref().map(|v| v[j]),
            large_quality_total: self.large_quality_total,
            small_cost_total: self.small_cost_total,
            large_cost_escalated: self.large_cost_escalated[j],
            small_cost_escalated: self.small_cost_escalated[j],
            large_cost_total: self.large_cost_total,
            baseline_cost: self.baseline_cost,
        }
    }

    fn metrics(&self, j: usize, threshold: f64) -> Metrics {
        self.totals(j).metrics(threshold, j == 0)
    }

    /// AUROC of the confidence for small-model quality: the probability that a right answer
    /// has a higher confidence than a wrong one (ties count half). A quality q counts as weight
    /// q right and 1 − q wrong. Safeguarded records (escalated whatever their confidence) are left out. `None` when all answers
    /// are right or all wrong.
    pub fn auroc(&self) -> Option<f64> {
        // Over the records a threshold can accept (safeguarded records have no say). Candidate
        // groups run from most to least confident; the shared area wants the reverse.
        let group = |j: usize| {
            let count = (self.accepted[j] - self.accepted[j - 1]) as f64;
            let pos = self.small_quality_accepted[j] - self.small_quality_accepted[j - 1];
            (pos, count - pos)
        };
        auroc_of_groups((1..self.accepted.len()).rev().map(group))
    }

    /// The always-small and always-large policies.
    pub fn baselines(&self) -> Baselines {
        let n = self.n as f64;
        Baselines {
            always_small: Baseline {
                quality: Some(self.small_quality_total / n),
                cost_per_request: self.small_cost_total / n,
            },
            always_large: Baseline {
                quality: self.large_quality_total.map(|q| q / n),
                cost_per_request: self.large_cost_total / n,
            },
        }
    }
}

/// The sums a split's metrics are computed from; sums of several disjoint sweeps' totals give
/// the metrics of their union.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Records.
    pub records: usize,
    /// Records answered by the small model.
    pub accepted: usize,
    /// Σ small quality over accepted records.
    pub small_quality_accepted: f64,
    /// Σ large quality over escalated records, when known.
    pub large_quality_escalated: Option<f64>,
    /// Σ large quality over every record (always-large), when known.
    pub large_quality_total: Option<f64>,
    /// Σ small cost over every record (the small model always runs).
    pub small_cost_total: Cost,
    /// Σ large cost over escalated records.
    pub large_cost_escalated: Cost,
    /// Σ small cost over escalated records (wasted spend).
    pub small_cost_escalated: Cost,
    /// Σ large cost over every record (always-large).
    pub large_cost_total: Cost,
    /// The baseline's cost per request, when compared against one.
    pub baseline_cost: Option<Cost>,
}

impl Totals {
    /// The sum of two disjoint parts (the baseline's per-request cost is shared).
    pub fn plus(self, other: Totals) -> Totals {
        Totals {
            records: self.records + other.records,
            accepted: self.accepted + other.accepted,
            small_quality_accepted: self.small_quality_accepted + other.small_quality_accepted,
            large_quality_escalated: self
                .large_quality_escalated
                .zip(other.large_quality_escalated)
                .map(|(a, b)| a + b),
            large_quality_total: self
                .large_quality_total
                .zip(other.large_quality_total)
                .map(|(a, b)| a + b),
            small_cost_total: self.small_cost_total + other.small_cost_total,
            large_cost_escalated: self.large_cost_escalated + other.large_cost_escalated,
            small_cost_escalated: self.small_cost_escalated + other.small_cost_escalated,
            large_cost_total: self.large_cost_total + other.large_cost_total,
            baseline_cost: self.baseline_cost.or(other.baseline_cost),
        }
    }

    /// The metrics of this split, labelled with `threshold`.
    pub fn metrics(&self, threshold: f64, accepts_none: bool) -> Metrics {
        let n = self.records as f64;
        let accepted = self.accepted;
        let escalated = self.records - accepted;
        let small_q = self.small_quality_accepted;
        let non_escalated_quality = (accepted > 0).then(|| small_q / accepted as f64);
        let cascade_quality = self.large_quality_escalated.map(|lq| (small_q + lq) / n);
        // "Escalate everything" is the always-large policy: a router that escalates every
        // request does not run the small model, so it pays the large model alone (issue 12:
        // `recommend` said always_large while the report priced the small model in too).
        let cost = if accepts_none {
            self.large_cost_escalated / n
        } else {
            cascade_cost_per_request(
                self.small_cost_total,
                self.large_cost_escalated,
                self.records,
            )
        };
        let wasted = if accepts_none {
            0.0
        } else {
            self.small_cost_escalated / n
        };
        let large_cost = self.large_cost_total / n;
        let savings_vs_large = savings(cost, large_cost);
        let savings_vs_baseline = self.baseline_cost.and_then(|b| savings(cost, b));
        let quality = cascade_quality.or(non_escalated_quality);
        let objective = quality.zip(savings_vs_large).map(|(q, saved)| q * saved);
        Metrics {
            threshold,
            accepts_none,
            accepted,
            escalated,
            escalation_rate: escalated as f64 / n,
            non_escalated_quality,
            cascade_quality,
            cost_per_request: cost,
            wasted_small_cost_per_request: wasted,
            savings_vs_large,
            savings_vs_baseline,
            quality_times_savings: objective,
        }
    }
}

/// Record columns in a sweep's order (see [`Sweep::sorted_columns`]).
#[derive(Debug, Clone)]
pub struct SortedColumns {
    small_quality: Vec<f64>,
    large_quality: Option<Vec<f64>>,
    small_cost: Vec<f64>,
    large_cost: Vec<f64>,
}

mod build;
mod cell;
mod from_cells;
mod owned;
mod resample;

pub use cell::{Cell, cells_of};
pub use owned::OwnedInput;
#[cfg(test)]
pub use testing::flat_input;

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests;
