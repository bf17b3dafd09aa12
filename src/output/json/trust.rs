//! How far to trust the numbers, as `summary.json` states it: the intervals at the
//! recommendation, the spread of the recommended threshold, and the held-out check. Copies
//! only; it must not compute.

use serde::Serialize;

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
