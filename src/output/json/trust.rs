//! How far to trust the numbers, as `summary.json` states it: the intervals at the
//! recommendation, the spread of the recommended threshold, and the held-out check. Copies
//! only; it must not compute.

use serde::Serialize;

use crate::report::CertifiedSegments;
use crate::trust::crossfit::{CrossFit, Estimate};
use crate::trust::holdout::Validation;

use crate::engine::sweep::Metrics;
use crate::policy::document::Measured;
use crate::trust::intervals::{RowIntervals, ThresholdSpread, Uncertainty};

/// `"uncertainty"`: the intervals' settings and the recommendation's intervals.
#[derive(Serialize)]
pub(super) struct UncertaintyJson<'a> {
    level: f64,
    bootstrap_resamples: usize,
    seed: u64,
    quality_intervals: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended: Option<&'a RowIntervals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended_threshold_spread: Option<&'a ThresholdSpread>,
}

/// `"holdout"`: the threshold (and policy) on the held-out records.
#[derive(Serialize)]
pub(super) struct HoldoutJson<'a> {
    split: &'a str,
    calibration_records: usize,
    test_records: usize,
    met_objective: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<VerdictJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    always_large_quality: Option<f64>,
    promised: &'a Metrics,
    held_out: &'a Metrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<PolicyHoldoutJson>,
}

/// The held-out verdict at `level`: `met`, `not met` or `inconclusive`, and its interval.
#[derive(Serialize)]
struct VerdictJson {
    verdict: &'static str,
    metric: &'static str,
    value: f64,
    level: f64,
    interval: Option<[f64; 2]>,
    bar: f64,
    at_most: bool,
}

#[derive(Serialize)]
struct PolicyHoldoutJson {
    met_objective: Option<bool>,
    promised: Measured,
    held_out: Measured,
}

/// The intervals' settings, the recommendation's intervals and the threshold's spread.
pub(super) fn uncertainty(u: &Uncertainty) -> UncertaintyJson<'_> {
    UncertaintyJson {
        level: u.settings.level,
        bootstrap_resamples: u.settings.resamples,
        seed: u.settings.seed,
        quality_intervals: if u.binary {
            "Wilson (0/1 labels)"
        } else {
            "bootstrap percentile (labels in [0, 1])"
        },
        recommended: u.recommended.as_ref(),
        recommended_threshold_spread: u.spread.as_ref(),
    }
}

/// With a hold-out: what calibration promised and what the held-out records delivered.
pub(super) fn holdout(validation: Option<&Validation>) -> Option<HoldoutJson<'_>> {
    validation.map(|h| HoldoutJson {
        split: &h.description,
        calibration_records: h.calibration_records,
        test_records: h.test_records,
        met_objective: h.met,
        verdict: h.verdict.map(|j| VerdictJson {
            verdict: j.verdict.name(),
            metric: j.metric,
            value: j.value,
            level: j.level,
            interval: j.interval.map(|(lo, hi)| [lo, hi]),
            bar: j.bar,
            at_most: j.at_most,
        }),
        always_large_quality: h.always_large_quality,
        promised: &h.promised,
        held_out: &h.held_out,
        policy: h.policy.as_ref().map(|c| PolicyHoldoutJson {
            met_objective: c.met,
            promised: Measured::of(&c.promised),
            held_out: Measured::of(&c.held_out),
        }),
    })
}

/// `"cross_fit"`: the single threshold and the per-segment policy, in sample and cross-fitted.
#[derive(Serialize)]
pub(super) struct CrossFitJson {
    folds: usize,
    seed: u64,
    single: EstimateJson,
    per_segment: EstimateJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    certified_per_segment: Option<EstimateJson>,
}

#[derive(Serialize)]
struct EstimateJson {
    in_sample: Option<Measured>,
    cross_fitted: Measured,
    met_objective: Option<bool>,
    quality_optimism: Option<f64>,
    folds_without_choice: usize,
}

/// With `--segment-by`: the cross-fitted estimates.
pub(super) fn cross_fit(c: Option<&CrossFit>) -> Option<CrossFitJson> {
    let estimate = |e: &Estimate| EstimateJson {
        in_sample: e.in_sample.as_ref().map(Measured::of),
        cross_fitted: Measured::of(&e.cross_fitted),
        met_objective: e.met,
        quality_optimism: e.quality_optimism(),
        folds_without_choice: e.folds_without_choice,
    };
    c.map(|c| CrossFitJson {
        folds: c.folds,
        seed: c.seed,
        single: estimate(&c.single),
        per_segment: estimate(&c.segments),
        certified_per_segment: c.certified.as_ref().map(estimate),
    })
}

/// `"certified_segments"`: the certified per-segment policy, or why none.
#[derive(Serialize)]
pub(super) struct CertifiedSegmentsJson<'a> {
    certified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_records: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test_records: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    thresholds: Vec<SegmentThresholdJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_test: Option<Measured>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_all: Option<Measured>,
}

#[derive(Serialize)]
struct SegmentThresholdJson {
    segment: std::collections::BTreeMap<String, String>,
    /// `None`: always large.
    threshold: Option<f64>,
}

/// With `--segment-by` and `--certify`.
pub(super) fn certified_segments(
    c: Option<&Result<CertifiedSegments, String>>,
) -> Option<CertifiedSegmentsJson<'_>> {
    Some(match c? {
        Err(why) => CertifiedSegmentsJson {
            certified: false,
            reason: Some(why),
            target: None,
            delta: None,
            family: None,
            build_records: None,
            test_records: None,
            p_value: None,
            method: None,
            thresholds: Vec::new(),
            on_test: None,
            on_all: None,
        },
        Ok(c) => CertifiedSegmentsJson {
            certified: true,
            reason: None,
            target: Some(c.target),
            delta: Some(c.delta),
            family: Some(c.family),
            build_records: Some(c.build_records),
            test_records: Some(c.test_records),
            p_value: Some(c.certificate.p_value),
            method: Some(c.certificate.method.name()),
            thresholds: (c.thresholds.iter())
                .map(|(labels, t)| SegmentThresholdJson {
                    segment: labels.iter().cloned().collect(),
                    threshold: t.is_finite().then_some(*t),
                })
                .collect(),
            on_test: Some(Measured::of(&c.on_test)),
            on_all: Some(Measured::of(&c.on_all)),
        },
    })
}
