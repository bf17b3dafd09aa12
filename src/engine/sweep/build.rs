//! Building a sweep: the one sort by confidence, the prefix sums at the end of each tie group
//! and the suffix sums over escalated records. Pure.
//!
//! Every sum is exact (`engine::exact`) and rounded once, so it does not depend on the order of
//! the records: an aggregate of the same records (`engine::cells`) gives the same bits.

use rayon::prelude::*;

use std::sync::Arc;

use super::{SortedColumns, Sweep, SweepInput};
use crate::engine::economics::CostColumn;
use crate::engine::exact::Exact;
use crate::engine::sums::{ascending_key, from_ascending_key};

/// The sweep of `input`; `keep`: with the record columns it gathers in its order.
pub fn sweep(input: SweepInput<'_>, keep: bool) -> Sweep {
    let n = input.confidence.len();
    assert!(n > 0, "a sweep needs at least one record");
    // Record indices are u32 (the order, the sort keys).
    assert!(
        u32::try_from(n).is_ok(),
        "a sweep holds at most 2^32 - 1 records"
    );
    assert_eq!(input.small_quality.len(), n);
    let (order, confidence) = sort(&input);
    let eligible = confidence.len();
    let costs = input.costs;
    // Each column is read at random once (gathered into sweep order), then summed in sequence;
    // the four columns side by side.
    let ((small_quality, large_quality), (small_cost, large_cost)) = rayon::join(
        || {
            rayon::join(
                || gather(&order, input.small_quality),
                || input.large_quality.map(|lq| gather(&order, lq)),
            )
        },
        || {
            rayon::join(
                || gather_cost(&order, costs.small),
                || gather_cost(&order, costs.large),
            )
        },
    );
    let groups = self::groups(&confidence, &small_quality, large_quality.as_deref());
    let (
        (large_quality_escalated, small_quality_total),
        (large_cost_escalated, small_cost_escalated),
    ) = rayon::join(
        || {
            rayon::join(
                || (large_quality.as_deref()).map(|lq| suffix_sums(lq, &groups.accepted)),
                || total(&small_quality),
            )
        },
        || {
            rayon::join(
                || suffix_sums(&large_cost, &groups.accepted),
                || suffix_sums(&small_cost, &groups.accepted),
            )
        },
    );
    let columns = keep.then(|| {
        Arc::new(SortedColumns {
            small_quality,
            large_quality,
            small_cost,
            large_cost,
        })
    });
    // Entry 0 escalates everything: the column's total. Always-large totals are these suffix
    // sums themselves, so the two policies compare without a rounding difference.
    Sweep {
        n,
        small_quality_total,
        baseline_cost: costs.baseline,
        safeguarded: n - eligible,
        order,
        quality_lost: groups.lost,
        large_quality_total: large_quality_escalated.as_ref().map(|v| v[0]),
        small_cost_total: small_cost_escalated[0],
        large_cost_total: large_cost_escalated[0],
        distinct: groups.distinct,
        accepted: groups.accepted,
        small_quality_accepted: groups.small_quality,
        large_quality_escalated,
        large_cost_escalated,
        small_cost_escalated,
        columns,
    }
}

/// Record indices from most to least confident (ties by index), safeguarded records last, and
/// the confidences of the records that are not safeguarded, in that order.
pub fn sort(input: &SweepInput<'_>) -> (Vec<u32>, Vec<f64>) {
    // Safeguarded records go last and never enter an accepted prefix. Sorting integer keys (an
    // order-preserving map of the float) is much faster than comparing floats.
    // Each (key, index) pair is one 128-bit integer, key above index, so a comparison is one
    // integer comparison.
    let safeguarded = |i: usize| input.safeguarded.is_some_and(|f| f[i]);
    let mut keyed: Vec<u128> = (input.confidence.par_iter().enumerate())
        .map(|(i, &c)| {
            let key = if safeguarded(i) {
                u64::MAX
            } else {
                !ascending_key(c)
            };
            u128::from(key) << 32 | u128::from(i as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    let key = |k: u128| (k >> 32) as u64;
    let eligible = keyed.partition_point(|&k| key(k) != u64::MAX);
    // The key maps back to the confidence's bits: no second, random read of the column.
    let confidence = (keyed[..eligible].par_iter())
        .map(|&k| from_ascending_key(!key(k)))
        .collect();
    (keyed.par_iter().map(|&k| k as u32).collect(), confidence)
}

/// Per tie group of the eligible records, most confident first (entry 0 is "accept nothing").
pub struct Groups {
    /// The group's confidence.
    pub distinct: Vec<f64>,
    /// Records accepted when the group's confidence is the threshold.
    pub accepted: Vec<usize>,
    /// Σ small quality over the accepted records.
    pub small_quality: Vec<f64>,
    /// Σ max(large − small quality, 0) over the accepted records, with large labels.
    pub lost: Option<Vec<f64>>,
}

/// `column`'s value of each record of `order`, in that order: the one random read of a column,
/// done in parallel, so that the passes over it read memory in sequence. (A plain indexed load
/// in the loop, not a call per record, so the processor keeps many reads in flight.)
pub fn gather(order: &[u32], column: &[f64]) -> Vec<f64> {
    order.par_iter().map(|&i| column[i as usize]).collect()
}

/// [`gather`] of a cost column; a cost per request is the same at every position.
pub fn gather_cost(order: &[u32], cost: CostColumn<'_>) -> Vec<f64> {
    match cost {
        CostColumn::PerRecord(column) => gather(order, column),
        CostColumn::PerRequest(c) => vec![c; order.len()],
    }
}

/// The prefix sums at the end of each tie group of the eligible records, given their
/// confidences and labels gathered in sweep order (most confident first; the label columns may
/// go on past the eligible records).
pub fn groups(confidence: &[f64], small_quality: &[f64], large_quality: Option<&[f64]>) -> Groups {
    let mut g = Groups {
        distinct: Vec::new(),
        accepted: vec![0],
        small_quality: vec![0.0],
        lost: large_quality.map(|_| vec![0.0]),
    };
    let (mut acc_small, mut acc_lost) = (Exact::default(), Exact::default());
    let eligible = confidence.len();
    for (k, &c) in confidence.iter().enumerate() {
        acc_small.add(small_quality[k]);
        if let Some(lq) = large_quality {
            acc_lost.add((lq[k] - small_quality[k]).max(0.0));
        }
        if k + 1 == eligible || confidence[k + 1] != c {
            // -0.0 and 0.0 tie; the group shows 0 (as a cell of an aggregate does).
            g.distinct.push(c + 0.0);
            g.accepted.push(k + 1);
            g.small_quality.push(acc_small.value());
            if let Some(lost) = &mut g.lost {
                lost.push(acc_lost.value());
            }
        }
    }
    g
}

/// Sums over the records each cut escalates, from a column gathered in sweep order: suffix sums
/// at the same cut points as the prefix sums (entry 0 sums the whole column).
pub fn suffix_sums(sorted: &[f64], accepted: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; accepted.len()];
    let mut acc = Exact::default();
    let mut k = sorted.len();
    for j in (0..accepted.len()).rev() {
        while k > accepted[j] {
            k -= 1;
            acc.add(sorted[k]);
        }
        out[j] = acc.value();
    }
    out
}

/// Σ `values`, exactly.
pub fn total(values: &[f64]) -> f64 {
    let mut acc = Exact::default();
    values.iter().for_each(|&v| acc.add(v));
    acc.value()
}
