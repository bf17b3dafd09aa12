//! How good a confidence signal is, measured offline: ranking (AUROC), selective risk
//! (risk–coverage curve, AURC, E-AURC) and calibration (reliability bins, ECE, MCE, Brier).
//!
//! Owns these definitions and their tie and binning conventions. It must not pick thresholds,
//! recalibrate scores (see `recalibrate`), read or write files, or print anything.
//!
//! Inputs: `score` is a confidence signal (any finite real; higher = more confident) and
//! `quality` is the small model's correctness in [0, 1], one per record. A fractional quality q
//! counts as weight q "right" and 1 − q "wrong". Every function panics if `score` and `quality`
//! differ in length (a caller bug); empty input gives `None` or an empty result, as documented.
//! Non-finite inputs never panic but give unspecified results.

use std::cmp::Ordering;
use std::ops::Range;

use crate::engine::sums::auroc_of_groups;

/// Probability that a right answer has a higher score than a wrong one, ties counting half; a
/// quality q weighs q as a positive and 1 − q as a negative (a record's own q·(1 − q) pair is a
/// tie). Equals sklearn's `roc_auc_score` (with the duplicated-rows trick for fractional q).
/// `None` when the total positive or total negative weight is zero. O(n log n).
pub fn auroc(score: &[f64], quality: &[f64]) -> Option<f64> {
    check_lengths(score, quality);
    let order = sorted_order(score, |a, b| a.total_cmp(b));
    // Least confident first, one (positive, negative) weight per tie group.
    let groups = tie_runs(score, &order).into_iter().map(|run| {
        let pos: f64 = order[run.clone()].iter().map(|&i| quality[i]).sum();
        let neg: f64 = order[run].iter().map(|&i| 1.0 - quality[i]).sum();
        (pos, neg)
    });
    auroc_of_groups(groups.collect::<Vec<_>>().into_iter())
}

/// One point of the risk–coverage curve: accept every record with score ≥ `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskCoveragePoint {
    /// Acceptance threshold τ (a score value present in the input).
    pub threshold: f64,
    /// Number of records with score ≥ τ.
    pub accepted: usize,
    /// Fraction of records accepted, accepted / n, in (0, 1].
    pub coverage: f64,
    /// 1 − mean quality of the accepted records, in [0, 1].
    pub risk: f64,
}

/// The risk–coverage curve, one point per distinct score.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RiskCoverage {
    /// Points from the most confident score down (coverage increasing; the last has coverage 1).
    /// Tied records enter together. Empty for empty input.
    pub points: Vec<RiskCoveragePoint>,
}

/// The risk–coverage curve of accepting the records with score ≥ τ, for τ running over the
/// distinct scores from the highest down.
pub fn risk_coverage(score: &[f64], quality: &[f64]) -> RiskCoverage {
    check_lengths(score, quality);
    let n = score.len() as f64;
    let order = sorted_order(score, |a, b| b.total_cmp(a));
    let mut right = 0.0;
    let points = tie_runs(score, &order)
        .into_iter()
        .map(|run| {
            right += order[run.clone()].iter().map(|&i| quality[i]).sum::<f64>();
            RiskCoveragePoint {
                threshold: score[order[run.start]],
                accepted: run.end,
                coverage: run.end as f64 / n,
                risk: 1.0 - right / run.end as f64,
            }
        })
        .collect();
    RiskCoverage { points }
}

/// Area under the risk–coverage curve (dimensionless, in [0, 1]): the mean over k = 1..n of the
/// risk after accepting the k most confident records. Within a tie group every position k gets
/// the risk at the group's end (ties cannot be split by a threshold), so this is the exact area
/// under the right-continuous step curve Σ (coverage_j − coverage_{j−1}) · risk_j over
/// `risk_coverage` points. `None` for empty input.
pub fn aurc(score: &[f64], quality: &[f64]) -> Option<f64> {
    let curve = risk_coverage(score, quality);
    let n = score.len() as f64;
    let mut previous = 0;
    let mut area = 0.0;
    for p in &curve.points {
        area += (p.accepted - previous) as f64 * p.risk;
        previous = p.accepted;
    }
    (previous > 0).then(|| area / n)
}

/// AURC of the oracle that accepts records in order of decreasing quality: the mean over
/// k = 1..n of 1 − (mean of the k largest qualities). A lower bound on `aurc` for any score.
/// `None` for empty input.
pub fn optimal_aurc(quality: &[f64]) -> Option<f64> {
    let mut sorted = quality.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut right = 0.0;
    let mut area = 0.0;
    for (k, q) in sorted.iter().enumerate() {
        right += q;
        area += 1.0 - right / (k + 1) as f64;
    }
    (!sorted.is_empty()).then(|| area / sorted.len() as f64)
}

/// Excess AURC: `aurc` minus `optimal_aurc` (≥ 0 up to rounding). It is 0 only for a perfect
/// ranking that also resolves every record: a signal with tied scores cannot reach the
/// coverages inside a tie group, so even a perfect two-valued signal keeps a positive excess
/// (the oracle is the standard untied one). `None` for empty input.
pub fn e_aurc(score: &[f64], quality: &[f64]) -> Option<f64> {
    Some(aurc(score, quality)? - optimal_aurc(quality)?)
}

/// Bins of every calibration measure and diagram (ECE, MCE, reliability plots).
pub const CALIBRATION_BINS: usize = 10;

/// How `reliability` groups scores (meant for scores in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binning {
    /// b bins of width 1/b over [0, 1], exactly as sklearn's `calibration_curve(...,
    /// strategy='uniform')`: edges are numpy's `linspace(0, 1, b + 1)` (edge i = i · (1/b)),
    /// and a score goes to the bin of `searchsorted(edges[1:-1], s)`, so a score exactly on an
    /// interior edge falls in the lower bin (bins are (e_i, e_{i+1}], the first also holding 0
    /// and anything below; the last anything above 1).
    EqualWidth(usize),
    /// b bins of (almost) equal count. Records are sorted ascending by score; bin i holds
    /// sorted positions j with ⌊i(n−1)/b⌋ < j ≤ ⌊(i+1)(n−1)/b⌋ (bin 0 starts at j = 0), except
    /// that a cut never splits tied scores: it moves past the tie group, which stays in the
    /// lower bin (sklearn's `strategy='quantile'` keeps ties together too, and puts a value
    /// equal to an edge in the lower bin). Without ties, sizes are ⌊(n−1)/b⌋ or one more, and
    /// these are the cuts of numpy's linear quantiles, so the bins equal sklearn's whenever no
    /// i·(n−1)/b is an integer (when one is, float rounding in the percentile decides
    /// sklearn's side; here the record stays in the lower bin). Bins emptied by ties are
    /// omitted.
    EqualMass(usize),
}

/// One non-empty reliability bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// Lower end: i/b for equal width, the smallest score in the bin for equal mass.
    pub lo: f64,
    /// Upper end: (i+1)/b for equal width, the largest score in the bin for equal mass.
    pub hi: f64,
    /// Number of records in the bin (≥ 1).
    pub count: usize,
    /// Mean score of the bin's records.
    pub mean_score: f64,
    /// Mean quality of the bin's records.
    pub mean_quality: f64,
}

/// Reliability diagram: the non-empty bins in increasing score order. Empty for empty input or
/// zero bins.
pub fn reliability(score: &[f64], quality: &[f64], binning: Binning) -> Vec<Bin> {
    check_lengths(score, quality);
    let n = score.len();
    match binning {
        Binning::EqualWidth(b) if b > 0 && n > 0 => {
            // numpy's linspace(0, 1, b + 1): edge i is i · (1/b), the last one exactly 1.
            let step = 1.0 / b as f64;
            let edge = |i: usize| if i == b { 1.0 } else { i as f64 * step };
            let mut sums = vec![(0usize, 0.0, 0.0); b];
            for (&s, &q) in score.iter().zip(quality) {
                // sklearn's searchsorted(edges[1:-1], s): the interior edges strictly below s.
                // The edges rise, so those below s are a prefix: counted without branches.
                let i = (1..b).map(|i| usize::from(edge(i) < s)).sum::<usize>();
                sums[i].0 += 1;
                sums[i].1 += s;
                sums[i].2 += q;
            }
            let bins = sums.into_iter().enumerate().filter(|(_, (c, _, _))| *c > 0);
            bins.map(|(i, (count, s, q))| Bin {
                lo: edge(i),
                hi: edge(i + 1),
                count,
                mean_score: s / count as f64,
                mean_quality: q / count as f64,
            })
            .collect()
        }
        Binning::EqualMass(b) if b > 0 && n > 0 => {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&i, &j| score[i].total_cmp(&score[j]).then(i.cmp(&j)));
            // cut(i) = first sorted position of bin i, moved past the end of a tie group it
            // would split: tied scores share a bin (the lower one), as in sklearn.
            let cut = |i: usize| {
                let mut c = match i {
                    0 => 0,
                    _ => ((i as u128 * (n as u128 - 1) / b as u128) as usize + 1).min(n),
                };
                while c > 0 && c < n && score[order[c]] == score[order[c - 1]] {
                    c += 1;
                }
                c
            };
            (0..b)
                .map(|i| &order[cut(i)..cut(i + 1)])
                .filter(|members| !members.is_empty())
                .map(|members| {
                    let count = members.len();
                    let s: f64 = members.iter().map(|&i| score[i]).sum();
                    let q: f64 = members.iter().map(|&i| quality[i]).sum();
                    Bin {
                        lo: score[members[0]],
                        hi: score[members[count - 1]],
                        count,
                        mean_score: s / count as f64,
                        mean_quality: q / count as f64,
                    }
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Expected calibration error: Σ (count / n) · |mean_quality − mean_score| over `bins`, where
/// `n` is the number of records binned (the sum of the counts). 0 when `n` is 0.
pub fn ece(bins: &[Bin], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let total = n as f64;
    bins.iter()
        .map(|b| b.count as f64 / total * (b.mean_quality - b.mean_score).abs())
        .sum()
}

/// Maximum calibration error: the largest |mean_quality − mean_score| over `bins`; 0 when there
/// are no bins.
pub fn mce(bins: &[Bin]) -> f64 {
    bins.iter()
        .map(|b| (b.mean_quality - b.mean_score).abs())
        .fold(0.0, f64::max)
}

/// Brier score: mean of (score − quality)² (equals sklearn's `brier_score_loss` for 0/1
/// quality). `None` for empty input.
pub fn brier(score: &[f64], quality: &[f64]) -> Option<f64> {
    check_lengths(score, quality);
    let sum: f64 = score
        .iter()
        .zip(quality)
        .map(|(s, q)| (s - q).powi(2))
        .sum();
    (!score.is_empty()).then(|| sum / score.len() as f64)
}

fn check_lengths(score: &[f64], quality: &[f64]) {
    assert_eq!(
        score.len(),
        quality.len(),
        "score and quality must have the same length"
    );
}

/// Record indices sorted by score under `cmp` (stable).
fn sorted_order(score: &[f64], cmp: impl Fn(&f64, &f64) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&i, &j| cmp(&score[i], &score[j]));
    order
}

/// Ranges of `order` whose scores are equal (adjacent after sorting).
fn tie_runs(score: &[f64], order: &[usize]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    for k in 1..=order.len() {
        if k == order.len() || score[order[k]] != score[order[start]] {
            runs.push(start..k);
            start = k;
        }
    }
    runs
}

#[cfg(test)]
mod tests;
