//! The figures of one window × scope: escalation against the calibration's prediction, signal
//! drift, quality estimated without labels and measured with them, cost and feedback, each
//! test with its p-value (which ones alert is decided across the run, in `findings`).
//!
//! Owns these figures. Pure: cells and the reference in, rows out.

use serde::Serialize;

use super::MonitorSettings;
use super::stats::{
    Difference, band_z, beyond_margin, ks_binned, ks_p_value, psi, two_proportion_greater,
    wasserstein_binned,
};
use super::tally::{Cell, Feedback, LabelTotals};
use crate::input::{Distribution, Reference};
use crate::trust::stats::{binomial_cdf, normal_cdf, normal_quantile, wilson};

/// Cells with fewer routed requests are reported but not tested.
pub const MIN_REQUESTS: u64 = 100;
/// Label checks need this many labelled requests.
pub const MIN_LABELS: u64 = 30;
/// A reference bin with fewer eval records than this covers its signal range barely (bins are
/// 5 % of the eval records, so only a sliver split off by the threshold or a tiny segment).
pub const BARELY_COVERED: u64 = 10;

/// The figures of one window × scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Window start, seconds since the epoch; `None` for the whole run.
    pub window: Option<i64>,
    /// `0` every request, `k + 1` the reference's segment `k`.
    pub scope: usize,
    /// Requests.
    pub requests: u64,
    /// Share the router escalated (overrides included).
    pub escalation_rate: f64,
    /// Share an override sent to the large model.
    pub override_rate: f64,
    /// Requests routed by the threshold.
    pub routed: u64,
    /// Share of those escalated, observed.
    pub routed_escalation: Option<f64>,
    /// Share the calibration predicts for this traffic.
    pub predicted_escalation: f64,
    /// Observed minus predicted, with its test against the margin.
    pub escalation_shift: Option<Difference>,
    /// The expected band of the routed escalation: the prediction ± [`band_z`](super::stats::band_z) standard errors
    /// of the difference, when tested (for the plot and the report; not in monitor.json).
    #[serde(skip)]
    pub escalation_band: Option<(f64, f64)>,
    /// Requests the router sent elsewhere than the policy: (escalated but kept by the policy,
    /// kept but escalated by the policy).
    pub mismatches: (u64, u64),
    /// The first mismatching line.
    pub first_mismatch_line: Option<u64>,
    /// Requests of segments the reference lacks.
    pub unseen: u64,
    /// Signal drift against the reference.
    pub drift: Option<Drift>,
    /// Non-escalated quality estimated from the signal.
    pub estimate: Option<Estimate>,
    /// Non-escalated quality measured on labelled requests.
    pub labelled: Option<LabelledQuality>,
    /// Costs.
    pub cost: Option<CostRow>,
    /// Feedback by model.
    pub feedback: FeedbackRow,
    /// Mean latency (ms) by path: small only, escalated, overridden (`None`: no latencies).
    pub latency_ms: [Option<f64>; 3],
    /// The lowest higher threshold whose labelled quality clears the floor, when the current
    /// one does not.
    pub raise: Option<Raise>,
}

/// A higher threshold the labelled requests support: above it, labelled non-escalated quality's
/// Wilson lower bound clears the floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Raise {
    /// The threshold (a reference bin edge, on the thresholded scale).
    pub threshold: f64,
    /// Labelled quality above it.
    pub quality: f64,
    /// Its Wilson interval on the effective count.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Effective labels above it.
    pub labels: f64,
    /// Share of routed requests it would escalate.
    pub escalation: f64,
}

/// Drift of the signal's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Drift {
    /// PSI over the reference deciles.
    pub psi: f64,
    /// Binned KS statistic.
    pub ks: f64,
    /// Its asymptotic p-value.
    pub ks_p: f64,
    /// Wasserstein-1 distance divided by the reference's standard deviation.
    pub wasserstein: f64,
    /// Share of routed requests outside the reference's range.
    pub outside: f64,
    /// The decile whose share grew most: its signal range and (traffic, reference) shares.
    pub grew: (f64, f64, f64, f64),
}

/// Label-free estimate of non-escalated quality (the calibration's per-bin quality averaged
/// over the requests the policy accepts).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The estimate.
    pub quality: f64,
    /// Its interval at the run's level (the calibration's uncertainty included).
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Effective eval records behind it: 1 / Σ (share_b² / n_b).
    pub effective_records: f64,
    /// Share of accepted requests in barely covered signal ranges.
    pub poorly_covered: f64,
    /// What the checks hold it to: the target, or the scope's own non-escalated quality on
    /// the eval set when that is lower (a segment the global threshold lets fall short).
    pub floor: Option<f64>,
    /// P-value of "not below the floor by more than the margin".
    pub p_below: Option<f64>,
}

/// Non-escalated quality on labelled requests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabelledQuality {
    /// Labelled requests.
    pub labels: u64,
    /// Effective labels (Kish, under the weights).
    pub effective: f64,
    /// (Weighted) mean quality.
    pub quality: f64,
    /// Wilson interval at the run's level, on the effective count.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// What the calibration predicts for the same requests.
    pub predicted: f64,
    /// The target, or the scope's eval quality when lower (see [`Estimate::floor`]).
    pub floor: Option<f64>,
    /// P-value of "not below the floor by more than the margin" (exact binomial tail).
    pub p_below_target: Option<f64>,
    /// P-value of "not below the prediction by more than the margin" (calibration in the
    /// large).
    pub p_below_predicted: f64,
}

/// Cost per request (currency units), where the logs carry costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostRow {
    /// Mean over requests with a cost.
    pub per_request: f64,
    /// Mean per path: small only, escalated, overridden (`None`: no request took it).
    pub by_path: [Option<f64>; 3],
    /// Small-model spend on escalated requests, per request.
    pub wasted_small: f64,
    /// 1 − cost / always-large's cost (the logs' mean large cost, else the reference's).
    pub savings_vs_large: f64,
    /// 1 − cost / the comparison model's (`--baseline` at calibration), if there was one.
    pub savings_vs_baseline: Option<f64>,
}

/// Feedback rates by the model that answered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FeedbackRow {
    /// Regeneration rate: (small, large).
    pub regenerated: (Option<f64>, Option<f64>),
    /// One-sided p-value of "small answers are not regenerated more".
    pub p_regenerated: Option<f64>,
    /// Thumbs-down rate: (small, large).
    pub thumbs_down: (Option<f64>, Option<f64>),
    /// One-sided p-value of "small answers get no more thumbs-down".
    pub p_thumbs_down: Option<f64>,
}

/// The row of `cell`, scope `scope`; `mix`: routed requests per reference segment in the
/// same window (the overall prediction weights the segments by them).
pub fn row(
    window: Option<i64>,
    scope: usize,
    cell: &Cell,
    reference: &Reference,
    mix: &[u64],
    s: &MonitorSettings,
) -> Row {
    let d = distribution(reference, scope);
    let labels = cell.labels.totals(d);
    let (p0, var0) = prediction(reference, scope, mix);
    let n = cell.requests.max(1) as f64;
    let routed = cell.routed as f64;
    let observed = (cell.routed > 0).then(|| cell.routed_escalated as f64 / routed);
    let tested = cell.routed >= MIN_REQUESTS;
    // Per-segment thresholds: which overall bins are accepted depends on the segment, so the
    // overall row has no estimate of its own (its segments' rows do).
    let shift =
        (observed.filter(|_| tested)).map(|p1| beyond_margin(p1, routed, p0, var0, s.tolerance));
    let one_threshold =
        scope > 0 || (reference.segments.iter()).all(|x| x.distribution.threshold == d.threshold);
    Row {
        window,
        scope,
        requests: cell.requests,
        escalation_rate: cell.escalated as f64 / n,
        override_rate: cell.overridden as f64 / n,
        routed: cell.routed,
        routed_escalation: observed,
        predicted_escalation: p0,
        escalation_shift: shift,
        escalation_band: shift.map(|d| {
            let z = band_z(s.level);
            (p0 - z * d.se, p0 + z * d.se)
        }),
        mismatches: (cell.wrongly_escalated, cell.wrongly_kept),
        first_mismatch_line: cell.first_mismatch_line,
        unseen: cell.unseen,
        drift: tested.then(|| drift(cell, d)),
        estimate: one_threshold
            .then(|| estimate(cell, d, reference.target, s))
            .flatten(),
        labelled: labelled(&labels, d, reference.target, s),
        cost: cost(cell, reference),
        feedback: feedback(&cell.feedback),
        latency_ms: (cell.latency.each_ref()).map(|(k, s)| (*k > 0).then(|| s.value() / *k as f64)),
        raise: one_threshold
            .then(|| raise(cell, &labels, d, (floor(d, reference.target), s.level)))
            .flatten(),
    }
}

/// The reference distribution of a scope.
pub fn distribution(reference: &Reference, scope: usize) -> &Distribution {
    match scope {
        0 => &reference.overall,
        k => &reference.segments[k - 1].distribution,
    }
}

/// Predicted escalation share of routed requests and its variance (the eval set's sampling).
fn prediction(reference: &Reference, scope: usize, mix: &[u64]) -> (f64, f64) {
    let one = |d: &Distribution| {
        let n = d.records.max(1) as f64;
        let p = d.escalated as f64 / n;
        (p, p * (1.0 - p) / n)
    };
    let total: u64 = mix.iter().sum();
    if scope > 0 || reference.segments.is_empty() || total == 0 {
        return one(distribution(reference, scope));
    }
    let mut out = (0.0, 0.0);
    for (seg, r) in reference.segments.iter().zip(mix) {
        let share = *r as f64 / total as f64;
        let (p, v) = one(&seg.distribution);
        out.0 += share * p;
        out.1 += share * share * v;
    }
    out
}

fn drift(cell: &Cell, d: &Distribution) -> Drift {
    let deciles = d.decile_of_bins();
    let k = d.deciles.len() - 1;
    let (mut traffic, mut reference) = (vec![0u64; k], vec![0u64; k]);
    for (i, b) in deciles.iter().enumerate() {
        traffic[*b] += cell.bins[i];
        reference[*b] += d.counts[i];
    }
    let ks = ks_binned(&cell.bins, &d.counts);
    let (nt, nr) = (cell.routed.max(1) as f64, d.records.max(1) as f64);
    let grew = (0..k)
        .map(|b| (b, traffic[b] as f64 / nt - reference[b] as f64 / nr))
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
        .map_or((0.0, 0.0, 0.0, 0.0), |(b, _)| {
            let shares = (traffic[b] as f64 / nt, reference[b] as f64 / nr);
            (d.deciles[b], d.deciles[b + 1], shares.0, shares.1)
        });
    let w = wasserstein_binned(&cell.bins, &d.counts, &d.edges);
    Drift {
        psi: psi(&traffic, &reference),
        ks,
        ks_p: ks_p_value(ks, cell.routed as f64, d.records as f64),
        wasserstein: if d.sd > 0.0 { w / d.sd } else { 0.0 },
        outside: cell.outside as f64 / nt,
        grew,
    }
}

fn z(level: f64) -> f64 {
    normal_quantile(1.0 - (1.0 - level) / 2.0)
}

fn estimate(
    cell: &Cell,
    d: &Distribution,
    target: Option<f64>,
    s: &MonitorSettings,
) -> Option<Estimate> {
    let accepted: Vec<usize> = (0..d.counts.len()).filter(|&b| d.accepted(b)).collect();
    let covered = |b: &&usize| d.small_quality[**b].is_some();
    let a: f64 = accepted
        .iter()
        .filter(covered)
        .map(|&b| cell.bins[b] as f64)
        .sum();
    let all: f64 = accepted.iter().map(|&b| cell.bins[b] as f64).sum();
    if a < MIN_REQUESTS as f64 {
        return None;
    }
    let (mut est, mut calib, mut inv_ess, mut barely) = (0.0, 0.0, 0.0, 0.0);
    for &b in &accepted {
        let share = cell.bins[b] as f64 / a;
        let n_b = d.counts[b] as f64;
        if d.counts[b] < BARELY_COVERED {
            barely += cell.bins[b] as f64;
        }
        if let Some(q) = d.small_quality[b] {
            est += share * q;
            calib += share * share * q * (1.0 - q) / n_b;
            inv_ess += share * share / n_b;
        }
    }
    let spread: f64 = (accepted.iter().filter(covered))
        .map(|&b| cell.bins[b] as f64 / a * (d.small_quality[b].unwrap_or(0.0) - est).powi(2))
        .sum::<f64>()
        / a;
    let se = (calib + spread).sqrt();
    let half = z(s.level) * se;
    let floor = floor(d, target);
    let p_below = floor.map(|t| p_lower(est, t - s.tolerance, se));
    Some(Estimate {
        quality: est,
        lo: (est - half).max(0.0),
        hi: (est + half).min(1.0),
        effective_records: if inv_ess > 0.0 { 1.0 / inv_ess } else { 0.0 },
        poorly_covered: (barely + cell.outside as f64).min(all) / all,
        floor,
        p_below,
    })
}

/// The quality a scope is held to: the target, or the scope's own non-escalated quality on
/// the eval set when lower.
fn floor(d: &Distribution, target: Option<f64>) -> Option<f64> {
    let (mut n, mut q) = (0.0, 0.0);
    for b in (0..d.counts.len()).filter(|&b| d.accepted(b)) {
        if let Some(mean) = d.small_quality[b] {
            n += d.counts[b] as f64;
            q += d.counts[b] as f64 * mean;
        }
    }
    let own = (n > 0.0).then(|| q / n);
    match (target, own) {
        (Some(t), Some(o)) => Some(t.min(o)),
        (t, _) => t,
    }
}

/// P-value of "the true value is at least `bound`" given `x` with standard error `se`.
fn p_lower(x: f64, bound: f64, se: f64) -> f64 {
    if se > 0.0 {
        normal_cdf((x - bound) / se)
    } else if x < bound {
        0.0
    } else {
        1.0
    }
}

fn labelled(
    l: &LabelTotals,
    d: &Distribution,
    target: Option<f64>,
    s: &MonitorSettings,
) -> Option<LabelledQuality> {
    if l.n < MIN_LABELS || l.w <= 0.0 {
        return None;
    }
    let effective = l.w * l.w / l.w2;
    let quality = l.wq / l.w;
    let predicted = l.wpred / l.w;
    let (lo, hi) = wilson(quality * effective, effective, s.level);
    let calib: f64 = (l.bin_w.iter().enumerate())
        .filter_map(|(b, w)| {
            let q = d.small_quality[b]?;
            Some((w / l.w).powi(2) * q * (1.0 - q) / d.counts[b].max(1) as f64)
        })
        .sum();
    let se = (l.w2var / (l.w * l.w) + calib).sqrt();
    let floor = floor(d, target);
    // Exact binomial tails on the effective counts (a normal tail is far too thin near 1 with
    // tens of labels).
    let (k, m) = (
        (quality * effective).round() as u64,
        effective.round() as u64,
    );
    let exact = |bound: f64| binomial_cdf(k, m, bound.clamp(0.0, 1.0));
    Some(LabelledQuality {
        labels: l.n,
        effective,
        quality,
        lo,
        hi,
        predicted,
        floor,
        p_below_target: floor.map(|t| exact(t - s.tolerance)),
        // The label draw (exact) or the calibration's own uncertainty too (normal): the larger.
        p_below_predicted: exact(predicted - s.tolerance).max(p_lower(
            quality,
            predicted - s.tolerance,
            se,
        )),
    })
}

/// The lowest reference edge above the threshold whose labelled tail (requests at or above it)
/// has a Wilson lower bound at the floor, with at least [`MIN_LABELS`] labels; `None` when the
/// threshold itself qualifies or nothing does. Labels exist only where the small model
/// answered, so only higher thresholds can be judged.
fn raise(
    cell: &Cell,
    l: &LabelTotals,
    d: &Distribution,
    (floor, level): (Option<f64>, f64),
) -> Option<Raise> {
    let floor = floor?;
    let accepted: Vec<usize> = (0..d.counts.len()).filter(|&b| d.accepted(b)).collect();
    let (mut w, mut wq, mut w2, mut best) = (0.0, 0.0, 0.0, None);
    for &b in accepted.iter().rev() {
        w += l.bin_w[b];
        wq += l.bin_wq[b];
        w2 += l.bin_w2[b];
        if w <= 0.0 || w * w / w2 < MIN_LABELS as f64 {
            continue;
        }
        let (q, n) = (wq / w, w * w / w2);
        let (lo, hi) = wilson(q * n, n, level);
        if lo >= floor {
            best = Some((b, q, lo, hi, n));
        }
    }
    let (b, quality, lo, hi, labels) = best?;
    if accepted.first() == Some(&b) {
        return None;
    }
    let below: u64 = cell.bins[..b].iter().sum();
    Some(Raise {
        threshold: d.edges[b],
        quality,
        lo,
        hi,
        labels,
        escalation: below as f64 / cell.routed.max(1) as f64,
    })
}

fn cost(cell: &Cell, reference: &Reference) -> Option<CostRow> {
    let c = &cell.cost;
    let paths = [&c.small_only, &c.escalated, &c.overridden];
    let (n, sum) = c.total();
    if n == 0 {
        return None;
    }
    let per_request = sum / n as f64;
    // 1 − cost / the comparison's, when it costs anything.
    let save = |x: f64| (x > 0.0).then(|| 1.0 - per_request / x);
    let large = match &c.large {
        (k, s) if *k > 0 => s.value() / *k as f64,
        _ => reference.cost.large,
    };
    Some(CostRow {
        per_request,
        by_path: paths.map(|(k, s)| (*k > 0).then(|| s.value() / *k as f64)),
        wasted_small: c.wasted_small.1.value() / cell.requests.max(1) as f64,
        savings_vs_large: save(large).unwrap_or(0.0),
        savings_vs_baseline: reference.cost.baseline.and_then(save),
    })
}

fn feedback(f: &[Feedback; 2]) -> FeedbackRow {
    let rate = |x: (u64, u64)| (x.0 > 0).then(|| x.1 as f64 / x.0 as f64);
    let test = |a: (u64, u64), b: (u64, u64)| {
        (a.0 >= MIN_LABELS && b.0 >= MIN_LABELS)
            .then(|| two_proportion_greater(a.1 as f64, a.0 as f64, b.1 as f64, b.0 as f64))
    };
    FeedbackRow {
        regenerated: (rate(f[0].regenerated), rate(f[1].regenerated)),
        p_regenerated: test(f[0].regenerated, f[1].regenerated),
        thumbs_down: (rate(f[0].thumbs_down), rate(f[1].thumbs_down)),
        p_thumbs_down: test(f[0].thumbs_down, f[1].thumbs_down),
    }
}
