//! The monitoring reference from an aggregate's cells: the same binning rule as the records'
//! (`super`), each cell standing for its records.
//!
//! With exact keys every edge, decile, count, `escalated` and per-bin mean is the records' own
//! (the sums are exact on both paths); the spread is the same up to the order of floating sums.
//! Keys floored to 2^-k stand for their records' confidences. Pure.

use super::{bin_means, binned};
use crate::engine::exact::Exact;
use crate::input::{Distribution, Reference, ReferenceCost, ReferenceSegment};

/// One cell as the reference sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellPoint {
    /// The segment it belongs to (index into the segments' labels; 0 without segments).
    pub segment: u32,
    /// Its confidence key.
    pub confidence: f64,
    /// Records in it.
    pub records: u64,
    /// Σ small-model quality, exact.
    pub small_quality: Exact,
    /// Σ large-model quality, exact, when known.
    pub large_quality: Option<Exact>,
}

/// The segments of a cell reference: the columns, per segment its (column, value) pairs and
/// its threshold (`None`: always large).
pub struct CellSegments<'a> {
    /// The columns.
    pub columns: &'a [String],
    /// Per segment, its values by column.
    pub labels: &'a [Vec<(String, String)>],
    /// Per segment, its threshold.
    pub thresholds: &'a [Option<f64>],
}

/// The reference of the routed cells `points` (overrides left out: `overridden` records),
/// routed at `threshold` (per segment with `segments`).
pub fn cells_reference(
    mut points: Vec<CellPoint>,
    (overridden, large): (u64, bool),
    cost: ReferenceCost,
    (threshold, target): (Option<f64>, Option<f64>),
    segments: Option<CellSegments<'_>>,
) -> Reference {
    points.sort_by(|a, b| a.confidence.total_cmp(&b.confidence));
    let overall = distribution_of_cells(&points, threshold, large);
    let (segment_by, segs) = match &segments {
        Some(s) => {
            let per = (s.labels.iter().enumerate())
                .map(|(k, labels)| {
                    let own: Vec<CellPoint> = points
                        .iter()
                        .filter(|p| p.segment as usize == k)
                        .copied()
                        .collect();
                    ReferenceSegment {
                        matches: labels.iter().cloned().collect(),
                        distribution: distribution_of_cells(&own, s.thresholds[k], large),
                    }
                })
                .collect();
            (s.columns.to_vec(), per)
        }
        None => (Vec::new(), Vec::new()),
    };
    Reference {
        scale: super::SCALE.into(),
        target,
        cost,
        overridden,
        overall,
        segment_by,
        segments: segs,
    }
}

/// The binned distribution of cells sorted by confidence, routed at `threshold` (`large`: the
/// large model's quality is known, so each bin has its mean, `None` in an empty one).
fn distribution_of_cells(
    points: &[CellPoint],
    threshold: Option<f64>,
    large: bool,
) -> Distribution {
    // The end (exclusive) of each cell's run of positions among its records.
    let ends: Vec<u64> = (points.iter())
        .scan(0u64, |end, p| {
            *end += p.records;
            Some(*end)
        })
        .collect();
    let n = ends.last().copied().unwrap_or(0) as usize;
    let at = |i: usize| points[ends.partition_point(|&e| e <= i as u64)].confidence;
    let mut d = binned(n, at, threshold);
    let bins = d.counts.len();
    let (mut small, mut large_sums) = (vec![Exact::default(); bins], vec![Exact::default(); bins]);
    for p in points {
        let b = d.bin(p.confidence);
        d.counts[b] += p.records;
        small[b].plus(&p.small_quality);
        large_sums[b].plus(&p.large_quality.unwrap_or_default());
    }
    d.small_quality = bin_means(&small, &d.counts);
    d.large_quality = large.then(|| bin_means(&large_sums, &d.counts));
    d.escalated = match threshold {
        Some(t) => (points.iter().filter(|p| p.confidence < t))
            .map(|p| p.records)
            .sum(),
        None => n as u64,
    };
    let total = n.max(1) as f64;
    let m = points
        .iter()
        .map(|p| p.confidence * p.records as f64)
        .sum::<f64>()
        / total;
    let spread = (points.iter()).map(|p| (p.confidence - m).powi(2) * p.records as f64);
    d.sd = (spread.sum::<f64>() / total).sqrt();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_bin_as_their_records_spelled_out() {
        // Records 0.1 ×2 (q 1, 0), 0.3 ×1 (q 1), 0.5 ×3 (q 1, 1, 0): as records, the lower p-th
        // percentile of the six sorted values is sorted[p · 5 / 100], so the 5 % edges are 0.1
        // (p < 40), 0.3 (40..59), 0.5 (60..100); the threshold 0.3 is an edge already.
        // Worked by hand: counts 2, 4 (the last bin holds 0.3 and 0.5), escalated 2.
        let point = |confidence, records, q: f64| CellPoint {
            segment: 0,
            confidence,
            records,
            small_quality: {
                let mut e = Exact::default();
                e.add(q);
                e
            },
            large_quality: None,
        };
        let points = vec![point(0.5, 3, 2.0), point(0.1, 2, 1.0), point(0.3, 1, 1.0)];
        let cost = ReferenceCost {
            small: 1.0,
            large: 2.0,
            baseline: None,
        };
        let r = cells_reference(points, (0, false), cost, (Some(0.3), Some(0.9)), None);
        let d = &r.overall;
        assert_eq!(d.edges, [0.1, 0.3, 0.5]);
        assert_eq!(d.deciles, [0.1, 0.3, 0.5]);
        assert_eq!(d.counts, [2, 4]);
        assert_eq!(d.small_quality, [Some(0.5), Some(0.75)]);
        assert_eq!(d.escalated, 2);
        assert_eq!(d.records, 6);
        // Population sd of (0.1, 0.1, 0.3, 0.5, 0.5, 0.5): mean 2/6, variance
        // (2·(0.1−m)² + (0.3−m)² + 3·(0.5−m)²)/6.
        let m = 2.0 / 6.0;
        let var =
            (2.0 * (0.1f64 - m).powi(2) + (0.3f64 - m).powi(2) + 3.0 * (0.5f64 - m).powi(2)) / 6.0;
        assert!((d.sd - var.sqrt()).abs() < 1e-12);
        // The records' own rule on the same six records gives the same distribution.
        let c = [0.1, 0.1, 0.3, 0.5, 0.5, 0.5];
        let q = [1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let input = crate::engine::sweep::SweepInput {
            confidence: &c,
            small_quality: &q,
            large_quality: None,
            costs: crate::engine::economics::CostModel {
                small: crate::engine::economics::CostColumn::PerRequest(1.0),
                large: crate::engine::economics::CostColumn::PerRequest(2.0),
                baseline: None,
            },
            safeguarded: None,
        };
        let mut records = super::super::reference(input, Some(0.3), None, None, None).overall;
        // The spread agrees up to the order of its floating sums.
        assert!((records.sd - d.sd).abs() < 1e-15);
        records.sd = d.sd;
        assert_eq!(&records, d);
    }
}
