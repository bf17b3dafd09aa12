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
    let sorted = gathered(&order, &input);
    let cuts = self::cuts(&confidence);
    let sums = sums(&sorted, &cuts.accepted);
    let columns = keep.then(|| Arc::new(sorted));
    Sweep {
        n,
        small_quality_total: sums.small_quality_total,
        baseline_cost: costs.baseline,
        safeguarded: n - eligible,
        order,
        quality_lost: sums.lost,
        large_quality_total: sums.large_quality_escalated.as_ref().map(|v| v[0]),
        small_cost_total: sums.small_cost_escalated[0],
        large_cost_total: sums.large_cost_escalated[0],
        distinct: cuts.distinct,
        accepted: cuts.accepted,
        small_quality_accepted: sums.small_quality_accepted,
        large_quality_escalated: sums.large_quality_escalated,
        large_cost_escalated: sums.large_cost_escalated,
        small_cost_escalated: sums.small_cost_escalated,
        columns,
    }
}

/// The record columns laid out in `order`: each read at random once, the four side by side,
/// so that every later pass over them reads memory in sequence.
pub fn gathered(order: &[u32], input: &SweepInput<'_>) -> SortedColumns {
    let costs = input.costs;
    let ((small_quality, large_quality), (small_cost, large_cost)) = rayon::join(
        || {
            rayon::join(
                || gather(order, input.small_quality),
                || input.large_quality.map(|lq| gather(order, lq)),
            )
        },
        || {
            rayon::join(
                || gather_cost(order, costs.small),
                || gather_cost(order, costs.large),
            )
        },
    );
    SortedColumns {
        small_quality,
        large_quality,
        small_cost,
        large_cost,
    }
}

/// max(large − small quality, 0) per record: the quality lost by accepting it.
fn lost<'a>(small: &'a [f64], large: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
    small.iter().zip(large).map(|(&s, &l)| (l - s).max(0.0))
}

/// The exact sums of a sweep at its cut points.
struct Sums {
    small_quality_accepted: Vec<f64>,
    lost: Option<Vec<f64>>,
    large_quality_escalated: Option<Vec<f64>>,
    small_quality_total: f64,
    large_cost_escalated: Vec<f64>,
    small_cost_escalated: Vec<f64>,
}

/// The six exact sums over the cut points `accepted`, side by side: each is one sequential
/// pass, so two threads share six passes. Entry 0 of an escalated sum escalates everything: the
/// column's total. Always-large totals are these suffix sums themselves, so the two policies
/// compare without a rounding difference.
fn sums(c: &SortedColumns, accepted: &[usize]) -> Sums {
    let (sq, lq) = (&c.small_quality[..], c.large_quality.as_deref());
    let (((small_quality_accepted, lost), (large_quality_escalated, small_quality_total)), costs) =
        rayon::join(
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || prefix_sums(sq.iter().copied(), accepted),
                            || lq.map(|lq| prefix_sums(lost(sq, lq), accepted)),
                        )
                    },
                    || rayon::join(|| lq.map(|lq| suffix_sums(lq, accepted)), || total(sq)),
                )
            },
            || {
                rayon::join(
                    || suffix_sums(&c.large_cost, accepted),
                    || suffix_sums(&c.small_cost, accepted),
                )
            },
        );
    Sums {
        small_quality_accepted,
        lost,
        large_quality_escalated,
        small_quality_total,
        large_cost_escalated: costs.0,
        small_cost_escalated: costs.1,
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

/// The tie groups of the eligible records, most confident first (entry 0 is "accept nothing").
pub struct Cuts {
    /// The group's confidence.
    pub distinct: Vec<f64>,
    /// Records accepted when the group's confidence is the threshold.
    pub accepted: Vec<usize>,
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

/// The tie groups of the eligible records from their confidences in sweep order (most
/// confident first): where each group ends, found in parallel.
pub fn cuts(confidence: &[f64]) -> Cuts {
    let eligible = confidence.len();
    let ends: Vec<usize> = (0..eligible)
        .into_par_iter()
        .with_min_len(1 << 14)
        .filter(|&k| k + 1 == eligible || confidence[k + 1] != confidence[k])
        .map(|k| k + 1)
        .collect();
    // -0.0 and 0.0 tie; the group shows 0 (as a cell of an aggregate does).
    let distinct = ends.iter().map(|&end| confidence[end - 1] + 0.0).collect();
    let mut accepted = Vec::with_capacity(ends.len() + 1);
    accepted.push(0);
    accepted.extend(ends);
    Cuts { distinct, accepted }
}

/// Exact sums of `values` (one per record, in sweep order) over the records each cut accepts:
/// prefix sums at the cut points (entry 0, accepting nothing, is 0).
fn prefix_sums(mut values: impl Iterator<Item = f64>, accepted: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(accepted.len());
    out.push(0.0);
    let mut acc = Exact::default();
    for pair in accepted.windows(2) {
        (values.by_ref().take(pair[1] - pair[0])).for_each(|v| acc.add(v));
        out.push(acc.value());
    }
    out
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
