//! The findings behind the report's plots and Markdown sections. Pure; no I/O.
//!
//! Owns the curve points, the oracle, the histograms, the reliability bins, the escalation funnel,
//! the per-task table, the rows around the recommendation and the warnings. Renderers draw and
//! word these; they must not compute anything of their own.

use crate::engine::economics::savings;
use crate::engine::sweep::{Metrics, Sweep, SweepInput};
use crate::input::EvalSet;
use crate::trust::scoring::{self, Bin, Binning, CALIBRATION_BINS};

/// At most this many points of the exact curve are kept for plotting.
pub const CURVE_POINTS: usize = 1500;
/// Confidence histogram bins.
pub const HISTOGRAM_BINS: usize = 20;
/// Escalation-rate offsets of the key-metrics rows around the recommendation.
pub const NEARBY_OFFSETS: [f64; 4] = [-0.10, -0.05, 0.05, 0.10];

/// Everything the report shows beyond the sweep table.
#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    /// Candidates from most to least escalation, thinned to at most [`CURVE_POINTS`].
    pub curve: Vec<Metrics>,
    /// Each prompt to the cheapest model that gets it right; needs large labels.
    pub oracle: Option<Point>,
    /// Confidence histogram of right and wrong small answers.
    pub histogram: Histogram,
    /// Observed small quality against confidence; only for confidences in [0, 1].
    pub reliability: Option<Vec<Bin>>,
    /// Where requests go at the recommended threshold.
    pub funnel: Option<Funnel>,
    /// Per task type at the recommended threshold, sorted by name.
    pub tasks: Option<Vec<TaskRow>>,
    /// The recommendation and its neighbours at ±5 and ±10 points of escalation, by escalation.
    pub nearby: Vec<Metrics>,
    /// Savings of the recommended threshold against always-small (usually negative: the
    /// cascade costs more than the small model alone).
    pub savings_vs_small: Option<f64>,
    /// AUROC of the confidence for small-model correctness.
    pub auroc: Option<f64>,
    /// The least-escalating threshold at which the cascade stops saving against always-large
    /// (cost per request ≥ always-large); `None` if every cascade that keeps an answer saves.
    pub break_even: Option<Metrics>,
    /// The same against the baseline model; `None` without one or if it always saves.
    pub break_even_vs_baseline: Option<Metrics>,
    /// Plain-word cautions (collected by `warnings`, filled in by the report's builder).
    pub warnings: Vec<Warning>,
}

/// A (quality, cost) policy point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Mean quality.
    pub quality: f64,
    /// Cost per request (currency units).
    pub cost_per_request: f64,
}

/// Weighted counts of right and wrong answers per confidence bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Bin edges, ascending; bins are [e_i, e_{i+1}), the last one closed.
    pub edges: Vec<f64>,
    /// Σ small quality per bin.
    pub right: Vec<f64>,
    /// Σ (1 − small quality) per bin.
    pub wrong: Vec<f64>,
}

/// Where requests go at the recommended threshold (quality sums count a right answer as 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Funnel {
    /// All requests.
    pub requests: usize,
    /// Answered by the small model.
    pub accepted: usize,
    /// Sent to the large model.
    pub escalated: usize,
    /// Accepted answers that were wrong: Σ (1 − small quality) over accepted.
    pub shipped_errors: f64,
    /// Escalated requests the small model had right: Σ small quality over escalated.
    pub wasted_escalations: f64,
    /// Quality gained on escalation: Σ max(0, large − small) over escalated (large labels only).
    pub gained: Option<f64>,
    /// Quality lost on escalation: Σ max(0, small − large) over escalated (large labels only).
    pub lost: Option<f64>,
    /// Escalated by a safeguard (timeouts, `--always-large`, refusals) whatever the signal.
    pub overrides: usize,
    /// Mean cost per request on each path: small only, escalated by the threshold, escalated by
    /// a safeguard (small plus large on the last two); `None` for a path no request takes.
    pub path_cost: [Option<f64>; 3],
    /// Mean large-model quality over the escalated requests (large labels only).
    pub large_quality_escalated: Option<f64>,
}

/// One task type at the recommended threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// The task type.
    pub name: String,
    /// Records of this type.
    pub records: usize,
    /// Mean small quality over all its records.
    pub small_quality: f64,
    /// Its escalation rate at the recommended threshold.
    pub escalation_rate: f64,
    /// Its non-escalated quality at the recommended threshold; `None` if all escalate.
    pub non_escalated_quality: Option<f64>,
}

pub use super::warnings::Warning;

/// Computes the findings for a sweep and its recommendation.
pub fn findings(
    set: &EvalSet,
    input: SweepInput<'_>,
    sweep: &Sweep,
    recommended: Result<&Metrics, String>,
) -> Findings {
    let rec = recommended.as_ref().ok().copied();
    let auroc = sweep.auroc();
    // The passes over every record are independent: two at a time.
    let ((oracle, histogram), (reliability, (funnel, tasks))) = rayon::join(
        || rayon::join(|| oracle(input), || histogram(input)),
        || {
            rayon::join(
                || reliability(input.confidence, input.small_quality),
                || {
                    (
                        rec.map(|m| funnel(input, m)),
                        rec.and_then(|m| tasks(set, &input, m)),
                    )
                },
            )
        },
    );
    Findings {
        curve: curve(sweep),
        oracle,
        histogram,
        reliability,
        funnel,
        tasks,
        nearby: rec.map(|m| nearby(sweep, m)).unwrap_or_default(),
        savings_vs_small: rec.and_then(|m| {
            savings(
                m.cost_per_request,
                sweep.baselines().always_small.cost_per_request,
            )
        }),
        auroc,
        break_even: break_even(sweep, |m| m.savings_vs_large),
        break_even_vs_baseline: break_even(sweep, |m| m.savings_vs_baseline),
        warnings: Vec::new(),
    }
}

fn break_even(sweep: &Sweep, saving: impl Fn(&Metrics) -> Option<f64>) -> Option<Metrics> {
    // Candidates from accept-all (cheapest) towards escalate-all: the first that saves nothing.
    // Escalating everything is always-large itself (the small model is not run), not a cascade.
    (1..sweep.candidates())
        .rev()
        .map(|j| sweep.at_candidate(j))
        .find(|m| saving(m).is_some_and(|s| s <= 0.0))
}

fn curve(sweep: &Sweep) -> Vec<Metrics> {
    let total = sweep.candidates();
    if total <= CURVE_POINTS {
        return (0..total).map(|j| sweep.at_candidate(j)).collect();
    }
    // Evenly spaced candidates, always keeping both ends.
    (0..CURVE_POINTS)
        .map(|k| sweep.at_candidate(k * (total - 1) / (CURVE_POINTS - 1)))
        .collect()
}

fn oracle(input: SweepInput<'_>) -> Option<Point> {
    let large = input.large_quality?;
    let n = input.confidence.len();
    let (mut quality, mut cost) = (0.0, 0.0);
    for (i, (&s, &l)) in input.small_quality.iter().zip(large).enumerate() {
        let (cs, cl) = (input.costs.small.get(i), input.costs.large.get(i));
        // The better answer; on equal quality the cheaper model.
        let (q, c) = if s > l || (s == l && cs <= cl) {
            (s, cs)
        } else {
            (l, cl)
        };
        quality += q;
        cost += c;
    }
    Some(Point {
        quality: quality / n as f64,
        cost_per_request: cost / n as f64,
    })
}

fn confidence_range(confidence: &[f64]) -> (f64, f64) {
    let lo = confidence.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = confidence.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo >= 0.0 && hi <= 1.0 {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

fn bin_of(x: f64, lo: f64, hi: f64, bins: usize) -> usize {
    // The floor of a non-negative value is its truncation (`as` truncates, and saturates), so
    // no call to `floor` (a library call on baseline x86-64); below zero and NaN give bin 0.
    let b = (x - lo) / (hi - lo) * bins as f64;
    (b.max(0.0) as usize).min(bins - 1)
}

fn histogram(input: SweepInput<'_>) -> Histogram {
    let (lo, hi) = confidence_range(input.confidence);
    let mut right = vec![0.0; HISTOGRAM_BINS];
    let mut wrong = vec![0.0; HISTOGRAM_BINS];
    for (c, q) in input.confidence.iter().zip(input.small_quality) {
        let b = bin_of(*c, lo, hi, HISTOGRAM_BINS);
        right[b] += q;
        wrong[b] += 1.0 - q;
    }
    let edges = (0..=HISTOGRAM_BINS)
        .map(|k| lo + (hi - lo) * k as f64 / HISTOGRAM_BINS as f64)
        .collect();
    Histogram {
        edges,
        right,
        wrong,
    }
}

/// The reliability diagram: the same equal-width bins as the ECE tables (sklearn's edges, a
/// confidence on an edge in the lower bin); only for scores in [0, 1].
pub(super) fn reliability(score: &[f64], quality: &[f64]) -> Option<Vec<Bin>> {
    if score.iter().any(|c| !(0.0..=1.0).contains(c)) {
        return None;
    }
    let binning = Binning::EqualWidth(CALIBRATION_BINS);
    Some(scoring::reliability(score, quality, binning))
}

fn funnel(input: SweepInput<'_>, m: &Metrics) -> Funnel {
    let (mut shipped_errors, mut wasted, mut gained, mut lost) = (0.0, 0.0, 0.0, 0.0);
    // Σ cost and count per path: small only, escalated by the threshold, sent by a safeguard;
    // Σ large quality over the escalated (both kinds). The small model is paid on every path.
    let (mut cost, mut count, mut large_escalated) = ([0.0; 3], [0usize; 3], 0.0);
    for (i, (&c, &s)) in input.confidence.iter().zip(input.small_quality).enumerate() {
        let (small, large) = (input.costs.small.get(i), input.costs.large.get(i));
        let path = if accepted(&input, i, c, m.threshold) {
            shipped_errors += 1.0 - s;
            0
        } else {
            wasted += s;
            if let Some(large) = input.large_quality {
                gained += (large[i] - s).max(0.0);
                lost += (s - large[i]).max(0.0);
                large_escalated += large[i];
            }
            if input.safeguarded.is_some_and(|f| f[i]) {
                2
            } else {
                1
            }
        };
        cost[path] += if path == 0 { small } else { small + large };
        count[path] += 1;
    }
    let labels = input.large_quality.is_some();
    let mean = |k: usize| (count[k] > 0).then(|| cost[k] / count[k] as f64);
    Funnel {
        requests: input.confidence.len(),
        accepted: m.accepted,
        escalated: m.escalated,
        shipped_errors,
        wasted_escalations: wasted,
        gained: labels.then_some(gained),
        lost: labels.then_some(lost),
        overrides: count[2],
        path_cost: [mean(0), mean(1), mean(2)],
        large_quality_escalated: (labels && m.escalated > 0)
            .then(|| large_escalated / m.escalated as f64),
    }
}

/// Whether record `i` (confidence `c`) is answered by the small model at `threshold`: records
/// safeguarded (timeouts) never are.
fn accepted(input: &SweepInput<'_>, i: usize, c: f64, threshold: f64) -> bool {
    c >= threshold && !input.safeguarded.is_some_and(|f| f[i])
}

fn tasks(set: &EvalSet, input: &SweepInput<'_>, m: &Metrics) -> Option<Vec<TaskRow>> {
    let tasks = set.task_type.as_ref()?;
    let k = tasks.names.len();
    let (mut records, mut quality, mut accepted, mut accepted_quality) =
        (vec![0usize; k], vec![0.0; k], vec![0usize; k], vec![0.0; k]);
    for (i, &code) in tasks.codes.iter().enumerate() {
        let t = code as usize;
        records[t] += 1;
        quality[t] += set.small_quality[i];
        if self::accepted(input, i, set.confidence[i], m.threshold) {
            accepted[t] += 1;
            accepted_quality[t] += set.small_quality[i];
        }
    }
    Some(
        (0..k)
            .filter(|&t| records[t] > 0)
            .map(|t| TaskRow {
                name: tasks.names[t].clone(),
                records: records[t],
                small_quality: quality[t] / records[t] as f64,
                escalation_rate: (records[t] - accepted[t]) as f64 / records[t] as f64,
                non_escalated_quality: (accepted[t] > 0)
                    .then(|| accepted_quality[t] / accepted[t] as f64),
            })
            .collect(),
    )
}

fn nearby(sweep: &Sweep, m: &Metrics) -> Vec<Metrics> {
    let n = sweep.records() as f64;
    let mut rows = vec![*m];
    for offset in NEARBY_OFFSETS {
        let target = m.escalation_rate + offset;
        if !(0.0..=1.0).contains(&target) {
            continue;
        }
        // Escalated count decreases as the candidate index grows; find the closest count.
        let want = (target * n).round() as usize;
        let j = (0..sweep.candidates())
            .min_by_key(|&j| sweep.at_candidate(j).escalated.abs_diff(want))
            .unwrap_or(0);
        let row = sweep.at_candidate(j);
        if !rows.iter().any(|r| r.accepted == row.accepted) {
            rows.push(row);
        }
    }
    rows.sort_by_key(|r| r.escalated);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliability_bins_match_the_ece_tables_on_bin_edges() {
        // Issue 11: a confidence on a decile edge (0.7) fell in the upper bin in the plot and in
        // the lower bin in the ECE table. Both now use sklearn's edges: (0.6, 0.7] holds 0.7.
        let conf = [0.0, 0.1, 0.2, 0.5, 0.7, 0.7, 0.9, 1.0];
        let quality = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let set = EvalSet {
            confidence: conf.to_vec(),
            small_quality: quality.to_vec(),
            ..EvalSet::default()
        };
        let plotted =
            reliability(&set.confidence, &set.small_quality).expect("confidences in [0, 1]");
        let table = scoring::reliability(&conf, &quality, Binning::EqualWidth(CALIBRATION_BINS));
        assert_eq!(plotted, table);
        // By hand, with numpy's edges linspace(0, 1, 11) = 0, 0.1, 0.2, 0.30000000000000004,
        // 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1: 0.0 and 0.1 share the
        // first bin, 0.7 sits below 0.7000000000000001 so both go to (0.6.., 0.7..], and 1.0 to
        // (0.9, 1].
        let counts: Vec<(f64, usize)> = plotted.iter().map(|b| (b.lo, b.count)).collect();
        assert_eq!(
            counts,
            [
                (0.0, 2),
                (0.1, 1),
                (0.4, 1),
                (0.6000000000000001, 2),
                (0.8, 1),
                (0.9, 1)
            ]
        );
    }
    use crate::engine::economics::{CostColumn, CostModel};
    use crate::input::Labels;

    /// The tests/data/tiny.jsonl records (see tests/data/README.md), small 1 and large 60.
    fn tiny() -> EvalSet {
        EvalSet {
            confidence: vec![0.9, 0.8, 0.7, 0.6, 0.5],
            small_quality: vec![1.0, 1.0, 0.0, 1.0, 0.0],
            large_quality: Some(vec![1.0, 1.0, 1.0, 0.0, 1.0]),
            small_cost: None,
            large_cost: None,
            task_type: Some(Labels {
                codes: vec![0, 0, 1, 1, 0],
                names: vec!["chat".into(), "code".into()],
            }),
            ..EvalSet::default()
        }
    }

    fn input(set: &EvalSet) -> SweepInput<'_> {
        SweepInput {
            confidence: &set.confidence,
            small_quality: &set.small_quality,
            large_quality: set.large_quality.as_deref(),
            costs: CostModel {
                small: CostColumn::PerRequest(1.0),
                large: CostColumn::PerRequest(60.0),
                baseline: None,
            },
            safeguarded: None,
        }
    }

    #[test]
    fn safeguarded_records_count_as_escalated() {
        // A safeguarded (say, timed-out) record above the threshold is escalated, not shipped.
        let set = tiny();
        let safeguarded = [true, false, false, false, false];
        let input = SweepInput {
            safeguarded: Some(&safeguarded),
            ..input(&set)
        };
        let sweep = Sweep::new(input);
        let rec = sweep.at_threshold(0.6);
        assert_eq!((rec.accepted, rec.escalated), (3, 2));
        let d = findings(&set, input, &sweep, Ok(&rec));
        let f = d.funnel.unwrap();
        // Accepted b, c, d: c wrong. Escalated a (small right: wasted) and e.
        assert_eq!(
            (f.accepted, f.shipped_errors, f.wasted_escalations),
            (3, 1.0, 1.0)
        );
        // Paths: b, c, d small only (1); e escalated by the threshold (61); a by its safeguard.
        assert_eq!(f.path_cost, [Some(1.0), Some(61.0), Some(61.0)]);
        assert_eq!(f.overrides, 1);
        let chat = &d.tasks.unwrap()[0];
        assert_eq!(chat.escalation_rate, 2.0 / 3.0);
        // AUROC over b–e only: right {0.8, 0.6} vs wrong {0.7, 0.5}: 3 of 4 pairs.
        assert_eq!(d.auroc, Some(0.75));
    }

    #[test]
    fn tiny_by_hand() {
        let set = tiny();
        let sweep = Sweep::new(input(&set));
        let rec = sweep.at_candidate(sweep.candidate_at(0.6));
        let d = findings(&set, input(&set), &sweep, Ok(&rec));
        // Oracle: a, b, d right on small (cost 1); c, e right only on large (cost 60).
        assert_eq!(
            d.oracle,
            Some(Point {
                quality: 1.0,
                cost_per_request: (3.0 + 120.0) / 5.0
            })
        );
        // At 0.6: accepted a–d (c wrong: 1 shipped error); escalated e (small wrong, large right).
        let f = d.funnel.unwrap();
        assert_eq!((f.accepted, f.escalated), (4, 1));
        assert_eq!(f.shipped_errors, 1.0);
        assert_eq!(f.wasted_escalations, 0.0);
        assert_eq!((f.gained, f.lost), (Some(1.0), Some(0.0)));
        // Paths: a–d small only at 1 each; e escalated at 1 + 60; no safeguard. Large quality
        // over the escalated (e): 1.
        assert_eq!(f.path_cost, [Some(1.0), Some(61.0), None]);
        assert_eq!((f.overrides, f.large_quality_escalated), (0, Some(1.0)));
        // Tasks: chat a, b, e (e escalated); code c, d (none escalated).
        let t = d.tasks.unwrap();
        assert_eq!(t[0].name, "chat");
        assert_eq!(t[0].records, 3);
        assert_eq!(t[0].small_quality, 2.0 / 3.0);
        assert_eq!(t[0].escalation_rate, 1.0 / 3.0);
        assert_eq!(t[0].non_escalated_quality, Some(1.0));
        assert_eq!(t[1].escalation_rate, 0.0);
        assert_eq!(t[1].non_escalated_quality, Some(0.5));
        // Histogram over [0, 1] in 20 bins: 0.5 → bin 10, 0.9 → bin 18.
        assert_eq!(d.histogram.right[18], 1.0);
        assert_eq!(d.histogram.wrong[10], 1.0);
        // Reliability: bins 5..=9 one record each.
        let r = d.reliability.unwrap();
        assert_eq!(r.len(), 5);
        assert_eq!((r[0].count, r[0].mean_quality), (1, 0.0));
        // Five records: the few-records warning; AUROC: right {0.9, 0.8, 0.6} vs wrong {0.7, 0.5}:
        // pairs won 2 + 2 + 1 = 5 of 6.
        assert_eq!(d.auroc, Some(5.0 / 6.0));
        // Cost 1 + 12 e stays below 60 for every cascade that keeps an answer (e ≤ 4: 49);
        // escalating all 5 is always-large itself: no break-even.
        assert_eq!(d.break_even, None);
        // Recommended cost 13 against always-small 1: 1 − 13 = −12 (twelve times dearer).
        assert_eq!(d.savings_vs_small, Some(-12.0));
        // Neighbours of 20 % escalation (1 of 5) at 10, 15, 25, 30 %: 0.5, 0.75, 1.25, 1.5
        // records round to 1, 1, 1, 2 escalated, so the rows are the recommendation and 0.7.
        let escalated: Vec<usize> = d.nearby.iter().map(|m| m.escalated).collect();
        assert_eq!(escalated, vec![1, 2]);
    }
}
