//! Building a sweep: the one sort by confidence, the prefix sums at the end of each tie group
//! and the suffix sums over escalated records. Pure.
//!
//! Every sum is exact (`engine::exact`) and rounded once, so it does not depend on the order of
//! the records: an aggregate of the same records (`engine::cells`) gives the same bits.

use rayon::prelude::*;

use super::SweepInput;
use crate::engine::exact::Exact;
use crate::engine::sums::ascending_key;

/// Record indices from most to least confident (ties by index), safeguarded records last, and
/// how many records are not safeguarded.
pub fn sort(input: &SweepInput<'_>) -> (Vec<u32>, usize) {
    // Safeguarded records go last and never enter an accepted prefix. Sorting integer keys (an
    // order-preserving map of the float) is much faster than comparing floats.
    let safeguarded = |i: usize| input.safeguarded.is_some_and(|f| f[i]);
    let mut keyed: Vec<(u64, u32)> = (input.confidence.par_iter().enumerate())
        .map(|(i, &c)| {
            let key = if safeguarded(i) {
                u64::MAX
            } else {
                !ascending_key(c)
            };
            (key, i as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    let eligible = keyed.partition_point(|&(k, _)| k != u64::MAX);
    (keyed.par_iter().map(|&(_, i)| i).collect(), eligible)
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

/// The prefix sums at the end of each tie group of `eligible` (sorted, most confident first).
pub fn groups(input: &SweepInput<'_>, eligible: &[u32]) -> Groups {
    let mut g = Groups {
        distinct: Vec::new(),
        accepted: vec![0],
        small_quality: vec![0.0],
        lost: input.large_quality.map(|_| vec![0.0]),
    };
    let (mut acc_small, mut acc_lost) = (Exact::default(), Exact::default());
    let confidence = |k: usize| input.confidence[eligible[k] as usize];
    for (k, &i) in eligible.iter().enumerate() {
        let i = i as usize;
        acc_small.add(input.small_quality[i]);
        if let Some(lq) = input.large_quality {
            acc_lost.add((lq[i] - input.small_quality[i]).max(0.0));
        }
        let c = confidence(k);
        if k + 1 == eligible.len() || confidence(k + 1) != c {
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

/// Sums of `value` over the records each cut escalates: suffix sums over the same order, at the
/// same cut points as the prefix sums.
pub fn suffix_sums(
    order: &[u32],
    accepted: &[usize],
    value: &(dyn Fn(usize) -> f64 + Sync),
) -> Vec<f64> {
    let mut out = vec![0.0; accepted.len()];
    let mut acc = Exact::default();
    let mut k = order.len();
    for j in (0..accepted.len()).rev() {
        while k > accepted[j] {
            k -= 1;
            acc.add(value(order[k] as usize));
        }
        out[j] = acc.value();
    }
    out
}

/// Σ `value` over records 0..n, exactly (in record order: sequential memory access).
pub fn total(n: usize, value: &(dyn Fn(usize) -> f64 + Sync)) -> f64 {
    let mut acc = Exact::default();
    (0..n).for_each(|i| acc.add(value(i)));
    acc.value()
}
