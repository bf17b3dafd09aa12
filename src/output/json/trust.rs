//! How far to trust the numbers, as `summary.json` states it: the intervals at the
//! recommendation, the spread of the recommended threshold, and the held-out check. Copies
//! only; it must not compute.

use serde::Serialize;

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
    promised: &'a Metrics,
    held_out: &'a Metrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<PolicyHoldoutJson>,
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
    })
}
