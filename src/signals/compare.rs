//! `calibrate signals`: every candidate signal measured on the same records and ranked by what
//! it buys at the target quality.
//!
//! Owns the comparison's numbers (ranking, the quality–escalation area, length bias). Pure:
//! columns in, a [`Comparison`] out; no I/O, no printing.

use super::{Calibration, Recalibrated, calibration};
use crate::engine::objective::Objective;
use crate::engine::recommend::recommend;
use crate::engine::sweep::{Metrics, Sweep, SweepInput};
use crate::trust::scoring::{self, Bin, Binning, CALIBRATION_BINS, RiskCoverage};

/// One signal to compare.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its name.
    pub name: String,
    /// How it is computed, for derived signals.
    pub formula: Option<String>,
    /// Its value per record.
    pub values: Vec<f64>,
    /// With `--recalibrate`: the recalibrated signal.
    pub recalibrated: Option<Recalibrated>,
}

/// One signal's measures.
#[derive(Debug, Clone)]
pub struct SignalRow {
    /// Its name.
    pub name: String,
    /// How it is computed.
    pub formula: Option<String>,
    /// AUROC for small-model correctness.
    pub auroc: Option<f64>,
    /// Area under the risk–coverage curve.
    pub aurc: Option<f64>,
    /// AURC minus the oracle's.
    pub e_aurc: Option<f64>,
    /// Calibration measures, for signals in [0, 1].
    pub calibration: Option<Calibration>,
    /// The threshold reaching the target non-escalated quality at the lowest escalation.
    pub at_target: Option<Metrics>,
    /// Area under cascade quality against escalation rate (0 to 1), with large labels.
    pub quality_escalation_area: Option<f64>,
    /// Acceptance and accepted quality by output-length quartile, at the target threshold.
    pub length_bias: Option<Vec<LengthBucket>>,
    /// Risk–coverage curve, for the overlay plot.
    pub risk_coverage: RiskCoverage,
    /// Equal-width reliability bins, for the overlay plot (signals in [0, 1]).
    pub reliability: Vec<Bin>,
    /// With `--recalibrate`: the signal after recalibration.
    pub after: Option<After>,
}

/// A signal after recalibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct After {
    /// Its calibration, measured out of fold.
    pub calibration: Option<Calibration>,
    /// The metrics at the target threshold, when a target is given and reachable.
    pub at_target: Option<Metrics>,
}

/// One output-length bucket at a signal's target threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LengthBucket {
    /// Shortest output in the bucket (tokens).
    pub min_length: f64,
    /// Longest output in the bucket (tokens).
    pub max_length: f64,
    /// Records.
    pub records: usize,
    /// Share of them the small model answers.
    pub acceptance_rate: f64,
    /// Mean small quality of the accepted ones.
    pub accepted_quality: Option<f64>,
}

/// The comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The target non-escalated quality the ranking uses.
    pub target: f64,
    /// Whether the target was given (`--min-quality`) or defaulted.
    pub target_given: bool,
    /// Rows, best first: lowest cost at the target, then highest AUROC.
    pub rows: Vec<SignalRow>,
}

/// The default target: halfway from always-small quality to perfect.
pub fn default_target(small_quality: &[f64]) -> f64 {
    let mean = small_quality.iter().sum::<f64>() / small_quality.len() as f64;
    ((mean + (1.0 - mean) / 2.0) * 1e4).round() / 1e4
}

/// Measures every candidate on the same records. `input` supplies qualities and costs (its
/// confidence is replaced by each candidate); `lengths` are output lengths when known.
pub fn compare(
    input: SweepInput<'_>,
    candidates: &[Candidate],
    target: Option<f64>,
    lengths: Option<&[f64]>,
) -> Comparison {
    let quality = input.small_quality;
    let (target, target_given) = match target {
        Some(t) => (t, true),
        None => (default_target(quality), false),
    };
    let objective = Objective::MinQuality { target };
    let mut rows: Vec<SignalRow> = candidates
        .iter()
        .map(|c| {
            let sweep = Sweep::new(SweepInput {
                confidence: &c.values,
                ..input
            });
            let at_target = recommend(&sweep, objective).ok();
            let after = c.recalibrated.as_ref().map(|r| {
                let sweep = Sweep::new(SweepInput {
                    confidence: &r.values,
                    ..input
                });
                After {
                    calibration: r.after,
                    at_target: recommend(&sweep, objective).ok(),
                }
            });
            SignalRow {
                name: c.name.clone(),
                formula: c.formula.clone(),
                auroc: scoring::auroc(&c.values, quality),
                aurc: scoring::aurc(&c.values, quality),
                e_aurc: scoring::e_aurc(&c.values, quality),
                calibration: calibration(&c.values, quality),
                quality_escalation_area: quality_escalation_area(&sweep),
                length_bias: lengths.map(|l| {
                    length_buckets(&c.values, quality, l, at_target.as_ref(), input.safeguarded)
                }),
                at_target,
                risk_coverage: scoring::risk_coverage(&c.values, quality),
                reliability: if c.values.iter().all(|s| (0.0..=1.0).contains(s)) {
                    scoring::reliability(&c.values, quality, Binning::EqualWidth(CALIBRATION_BINS))
                } else {
                    Vec::new()
                },
                after,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let cost = |r: &SignalRow| r.at_target.map_or(f64::INFINITY, |m| m.cost_per_request);
        cost(a)
            .total_cmp(&cost(b))
            .then(b.auroc.unwrap_or(0.0).total_cmp(&a.auroc.unwrap_or(0.0)))
            .then(a.name.cmp(&b.name))
    });
    Comparison {
        target,
        target_given,
        rows,
    }
}

/// Trapezoid area under cascade quality against escalation rate, over every candidate
/// threshold (escalation from its lowest to 1); `None` without large labels.
pub fn quality_escalation_area(sweep: &Sweep) -> Option<f64> {
    let mut points: Vec<(f64, f64)> = (0..sweep.candidates())
        .map(|j| {
            let m = sweep.at_candidate(j);
            m.cascade_quality.map(|q| (m.escalation_rate, q))
        })
        .collect::<Option<_>>()?;
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Below the lowest reachable escalation (safeguarded records) the curve is flat.
    let first = points[0];
    let mut area = first.0 * first.1;
    for w in points.windows(2) {
        area += (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0;
    }
    Some(area)
}

/// Acceptance and accepted quality by output-length quartile (equal-count buckets by length).
fn length_buckets(
    signal: &[f64],
    quality: &[f64],
    lengths: &[f64],
    at: Option<&Metrics>,
    safeguarded: Option<&[bool]>,
) -> Vec<LengthBucket> {
    let threshold = at.map_or(f64::INFINITY, Metrics::routing_threshold);
    let mut order: Vec<usize> = (0..signal.len()).collect();
    order.sort_by(|&a, &b| lengths[a].total_cmp(&lengths[b]).then(a.cmp(&b)));
    let n = order.len();
    (0..4)
        .filter_map(|q| {
            let part = &order[q * n / 4..(q + 1) * n / 4];
            let (first, last) = (part.first()?, part.last()?);
            let accepted: Vec<usize> = part
                .iter()
                .copied()
                .filter(|&i| signal[i] >= threshold && !safeguarded.is_some_and(|f| f[i]))
                .collect();
            Some(LengthBucket {
                min_length: lengths[*first],
                max_length: lengths[*last],
                records: part.len(),
                acceptance_rate: accepted.len() as f64 / part.len() as f64,
                accepted_quality: (!accepted.is_empty()).then(|| {
                    accepted.iter().map(|&i| quality[i]).sum::<f64>() / accepted.len() as f64
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sweep::flat_input;

    #[test]
    fn area_by_hand() {
        // Two records: conf 0.9 (small right), 0.1 (small wrong); large always right.
        // Escalation 0: cascade (1 + 0)/2 = 0.5; escalation 0.5: (1 + 1)/2 = 1; escalation 1: 1.
        // Area: 0.5·(0.5 + 1)/2 + 0.5·(1 + 1)/2 = 0.375 + 0.5 = 0.875.
        let conf = [0.9, 0.1];
        let sq = [1.0, 0.0];
        let lq = [1.0, 1.0];
        let sweep = Sweep::new(flat_input(&conf, &sq, Some(&lq)));
        assert_eq!(quality_escalation_area(&sweep), Some(0.875));
    }

    #[test]
    fn ranking_prefers_the_cheaper_signal_at_target() {
        // "good" ranks the right answers first; "bad" the wrong ones.
        let sq = [1.0, 1.0, 0.0, 0.0];
        let lq = [1.0; 4];
        let input = flat_input(&[0.0; 4], &sq, Some(&lq));
        let good = Candidate {
            name: "good".into(),
            formula: None,
            values: vec![0.9, 0.8, 0.2, 0.1],
            recalibrated: None,
        };
        let bad = Candidate {
            name: "bad".into(),
            values: vec![0.1, 0.2, 0.8, 0.9],
            ..good.clone()
        };
        let c = compare(input, &[bad, good], Some(1.0), None);
        assert_eq!(c.rows[0].name, "good");
        assert_eq!(c.rows[0].auroc, Some(1.0));
        // At target 1.0, "good" accepts the two right answers: escalation 0.5.
        assert_eq!(c.rows[0].at_target.unwrap().escalation_rate, 0.5);
        assert_eq!(c.rows[1].auroc, Some(0.0));
    }

    #[test]
    fn length_buckets_by_hand() {
        // Lengths 10, 20, 30, 40 → one record per quartile; threshold 0.5 accepts the first two.
        let b = length_buckets(
            &[0.9, 0.6, 0.4, 0.1],
            &[1.0, 0.0, 1.0, 1.0],
            &[10.0, 20.0, 30.0, 40.0],
            None,
            None,
        );
        assert_eq!(b.len(), 4);
        assert!(b.iter().all(|x| x.acceptance_rate == 0.0));
        let m = Sweep::new(flat_input(&[0.9, 0.6, 0.4, 0.1], &[1.0; 4], None)).at_threshold(0.5);
        let b = length_buckets(
            &[0.9, 0.6, 0.4, 0.1],
            &[1.0, 0.0, 1.0, 1.0],
            &[10.0, 20.0, 30.0, 40.0],
            Some(&m),
            None,
        );
        let rates: Vec<f64> = b.iter().map(|x| x.acceptance_rate).collect();
        assert_eq!(rates, vec![1.0, 1.0, 0.0, 0.0]);
        assert_eq!(b[1].accepted_quality, Some(0.0));
    }
}
