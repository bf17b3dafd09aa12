//! Builds the calibration reference the policy hands to production monitoring: the thresholded
//! signal's distribution per segment (percentile bins and deciles) with per-bin quality.
//!
//! Owns the binning rule (see [`Distribution`]). Pure: takes the sweep's columns, returns the
//! value; it must not read, print or decide anything about logs.

use rayon::prelude::*;

mod cells;

pub use cells::{CellPoint, CellSegments, cells_reference};

use crate::engine::exact::Exact;
use crate::engine::sums::{ascending_key, from_ascending_key};
use crate::engine::sweep::SweepInput;
use crate::input::{Distribution, Reference, ReferenceCost, ReferenceSegment};

/// What a reference describes, in words (the same from records and from cells).
const SCALE: &str = "the thresholded signal (the raw signal mapped through signal.recalibration \
                     when there is one), over eval records no override escalated";

/// Percentile step of the bin edges (5 %: 20 bins before ties merge and the threshold splits).
const EDGE_STEP: usize = 5;

/// The segments to describe: the columns, per segment its (column, value) pairs, each
/// record's segment and each segment's threshold (`None`: always large).
pub struct Segments<'a> {
    /// The columns.
    pub columns: &'a [String],
    /// Per segment, its values by column.
    pub labels: &'a [Vec<(String, String)>],
    /// Per record, its segment.
    pub codes: &'a [u32],
    /// Per segment, its threshold.
    pub thresholds: &'a [Option<f64>],
}

/// The reference of `input` routed at `threshold` (per segment with `segments`).
pub fn reference(
    input: SweepInput<'_>,
    threshold: Option<f64>,
    target: Option<f64>,
    segments: Option<Segments<'_>>,
) -> Reference {
    let n = input.confidence.len();
    let routed = |i: usize| !input.safeguarded.is_some_and(|s| s[i]);
    let all: Vec<usize> = (0..n).filter(|&i| routed(i)).collect();
    // Exact sums (`engine::exact`), so an aggregate's cells give the same means.
    let mean = |f: &dyn Fn(usize) -> f64| {
        let mut sum = Exact::default();
        (0..n).for_each(|i| sum.add(f(i)));
        sum.value() / n.max(1) as f64
    };
    let cost = ReferenceCost {
        small: mean(&|i| input.costs.small.get(i)),
        large: mean(&|i| input.costs.large.get(i)),
        baseline: input.costs.baseline,
    };
    // Every routed confidence with its segment, sorted once: a segment's sorted confidences are
    // its entries in this order.
    let code = |i: usize| segments.as_ref().map_or(0, |s| s.codes[i]);
    let mut ascending: Vec<(u64, u32)> = (all.par_iter())
        .map(|&i| (ascending_key(input.confidence[i]), code(i)))
        .collect();
    ascending.par_sort_unstable();
    let segmented = || match &segments {
        Some(s) => {
            // Each segment's rows in record order, and its confidences ascending, from one pass
            // over each.
            let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); s.labels.len()];
            for &i in &all {
                rows_of[s.codes[i] as usize].push(i);
            }
            let mut signals: Vec<Vec<f64>> = vec![Vec::new(); s.labels.len()];
            for &(key, code) in &ascending {
                signals[code as usize].push(from_ascending_key(key));
            }
            let per = (s.labels.par_iter().zip(rows_of).zip(signals).enumerate())
                .map(|(k, ((labels, rows), signal))| ReferenceSegment {
                    matches: labels.iter().cloned().collect(),
                    distribution: distribution_of(&input, &rows, signal, s.thresholds[k]),
                })
                .collect();
            (s.columns.to_vec(), per)
        }
        None => (Vec::new(), Vec::new()),
    };
    // The segments side by side with the whole.
    let ((segment_by, segs), overall) = rayon::join(segmented, || {
        let signal = ascending.iter().map(|&(key, _)| from_ascending_key(key));
        distribution_of(&input, &all, signal.collect(), threshold)
    });
    Reference {
        scale: SCALE.into(),
        target,
        cost,
        overridden: (n - all.len()) as u64,
        overall,
        segment_by,
        segments: segs,
    }
}

/// The empty distribution of `n` sorted values, `at(i)` being the i-th, routed at `threshold`:
/// its bin edges (every 5th percentile, and the threshold when it splits the range; the lower
/// p-th percentile is `at(p · (n − 1) / 100)`), deciles, and zero counts.
pub(super) fn binned(n: usize, at: impl Fn(usize) -> f64, threshold: Option<f64>) -> Distribution {
    let (edges, deciles) = if n == 0 {
        (vec![0.0, 1.0], vec![0.0, 1.0])
    } else {
        let percentile = |p: usize| at(p * (n - 1) / 100);
        let mut edges: Vec<f64> = (0..=100).step_by(EDGE_STEP).map(percentile).collect();
        let mut deciles: Vec<f64> = (0..=100).step_by(10).map(percentile).collect();
        if let Some(t) = threshold.filter(|t| *t > at(0) && *t <= at(n - 1)) {
            edges.push(t);
        }
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        deciles.dedup();
        if edges.len() == 1 {
            edges.push(edges[0]);
            deciles.push(deciles[0]);
        }
        (edges, deciles)
    };
    Distribution {
        records: n as u64,
        threshold,
        escalated: 0,
        sd: 0.0,
        counts: vec![0; edges.len() - 1],
        small_quality: Vec::new(),
        large_quality: None,
        edges,
        deciles,
    }
}

/// Each bin's mean: its exact sum over its count (`None` for an empty bin).
pub(super) fn bin_means(sums: &[Exact], counts: &[u64]) -> Vec<Option<f64>> {
    (sums.iter().zip(counts))
        .map(|(s, c)| (*c > 0).then(|| s.value() / *c as f64))
        .collect()
}

/// The binned distribution of the records `rows` routed at `threshold`.
#[cfg(test)]
fn distribution(input: &SweepInput<'_>, rows: &[usize], threshold: Option<f64>) -> Distribution {
    let mut signal: Vec<f64> = rows.iter().map(|&i| input.confidence[i]).collect();
    signal.sort_by(f64::total_cmp);
    distribution_of(input, rows, signal, threshold)
}

/// [`distribution`] given the confidences of `rows` sorted ascending (`signal`); the per-bin
/// sums run over `rows` in their order.
fn distribution_of(
    input: &SweepInput<'_>,
    rows: &[usize],
    signal: Vec<f64>,
    threshold: Option<f64>,
) -> Distribution {
    let n = signal.len();
    let mut d = binned(n, |p| signal[p], threshold);
    let bins = d.counts.len();
    let (mut small, mut large) = (vec![Exact::default(); bins], vec![Exact::default(); bins]);
    for &i in rows {
        let b = d.bin(input.confidence[i]);
        d.counts[b] += 1;
        small[b].add(input.small_quality[i]);
        if let Some(l) = input.large_quality {
            large[b].add(l[i]);
        }
    }
    d.small_quality = bin_means(&small, &d.counts);
    d.large_quality = input.large_quality.map(|_| bin_means(&large, &d.counts));
    d.escalated = match threshold {
        Some(t) => signal.partition_point(|x| *x < t) as u64,
        None => n as u64,
    };
    let m = signal.iter().sum::<f64>() / n.max(1) as f64;
    d.sd = (signal.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::economics::{CostColumn, CostModel};

    fn input<'a>(c: &'a [f64], q: &'a [f64]) -> SweepInput<'a> {
        SweepInput {
            confidence: c,
            small_quality: q,
            large_quality: None,
            costs: CostModel {
                small: CostColumn::PerRequest(1.0),
                large: CostColumn::PerRequest(10.0),
                baseline: None,
            },
            safeguarded: None,
        }
    }

    #[test]
    fn bins_are_percentiles_plus_the_threshold_with_per_bin_quality() {
        // Five records 0.1..0.5: the lower p-th percentile is sorted[p * 4 / 100], so the
        // 5 % edges are 0.1 (p < 25), 0.2 (25..49), 0.3 (50..74), 0.4 (75..99), 0.5 (100);
        // the threshold 0.35 is added. Worked by hand.
        let c = [0.3, 0.1, 0.5, 0.2, 0.4];
        let q = [1.0, 0.0, 1.0, 0.0, 1.0];
        let rows: Vec<usize> = (0..5).collect();
        let d = distribution(&input(&c, &q), &rows, Some(0.35));
        assert_eq!(d.edges, [0.1, 0.2, 0.3, 0.35, 0.4, 0.5]);
        assert_eq!(d.deciles, [0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(d.counts, [1, 1, 1, 0, 2]);
        assert_eq!(
            d.small_quality,
            [Some(0.0), Some(0.0), Some(1.0), None, Some(1.0)]
        );
        assert_eq!(d.escalated, 3);
        // Population sd of 0.1..0.5: sqrt(0.02).
        assert!((d.sd - 0.02f64.sqrt()).abs() < 1e-12);
        assert!(!d.accepted(2) && d.accepted(3) && d.accepted(4));
        assert_eq!(d.bin(0.0), 0);
        assert_eq!(d.bin(0.5), 4);
        assert_eq!(d.bin(9.0), 4);
        assert_eq!(d.decile_of_bins(), [0, 1, 2, 2, 3]);
    }
}
