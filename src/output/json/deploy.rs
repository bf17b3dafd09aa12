//! What gets deployed, as `summary.json` states it: the signal and its recalibration, the
//! segments, and what each safeguard costs. Copies only; it must not compute.

use serde::Serialize;

use crate::engine::sweep::Metrics;
use crate::policy::document::Measured;
use crate::report::Report;
use crate::signals::Calibration;

/// `"signal"`: the thresholded signal and its recalibration.
#[derive(Serialize)]
pub(super) struct SignalJson<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    formula: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recalibration: Option<RecalibrationJson<'a>>,
}

#[derive(Serialize)]
struct RecalibrationJson<'a> {
    method: &'static str,
    folds: usize,
    before: Option<&'a Calibration>,
    after: Option<&'a Calibration>,
    raw_signal_pick: Option<&'a Metrics>,
}

/// `"segments"`: the per-segment plan, with `--segment-by`.
#[derive(Serialize)]
pub(super) struct SegmentsJson<'a> {
    by: &'a [String],
    min_segment_records: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    exact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<Measured>,
    #[serde(skip_serializing_if = "Option::is_none")]
    best_single_threshold: Option<&'a Metrics>,
    segments: Vec<SegmentJson<'a>>,
}

#[derive(Serialize)]
struct SegmentJson<'a> {
    segment: &'a str,
    records: usize,
    small_quality: f64,
    own_threshold: Option<f64>,
    at_global: Option<&'a Metrics>,
    chosen: &'a Metrics,
    always_large: bool,
    reason: String,
}

/// One entry of `"safeguards"`: a safeguard and the policy with and without it.
#[derive(Serialize)]
pub(super) struct EffectJson<'a> {
    safeguard: &'a str,
    matched: usize,
    only_this_safeguard: usize,
    moved_to_large: usize,
    with: Measured,
    without: Measured,
}

/// The thresholded signal and, with `--recalibrate`, calibration before and after.
pub(super) fn signal(r: &Report) -> SignalJson<'_> {
    SignalJson {
        name: &r.signal.name,
        formula: r.signal.formula.as_deref(),
        recalibration: r.recalibration.as_ref().map(|c| RecalibrationJson {
            method: c.method,
            folds: c.folds,
            before: c.before.as_ref(),
            after: c.after.as_ref(),
            raw_signal_pick: c.raw_pick.as_ref().ok(),
        }),
    }
}

/// With `--segment-by`: the plan and every segment's row.
pub(super) fn segments(r: &Report) -> Option<SegmentsJson<'_>> {
    let plan = r.deployment.plan.as_ref()?;
    Some(SegmentsJson {
        by: &plan.columns,
        min_segment_records: plan.min_records,
        note: plan.note.as_deref(),
        exact: plan.exact,
        policy: plan.policy.as_ref().map(Measured::of),
        best_single_threshold: plan.best_single.as_ref(),
        segments: plan
            .segments
            .iter()
            .map(|s| SegmentJson {
                segment: &s.name,
                records: s.records,
                small_quality: s.small_quality,
                own_threshold: s.own.as_ref().ok().and_then(Metrics::deployed_threshold),
                at_global: s.at_global.as_ref(),
                chosen: &s.chosen,
                always_large: s.always_large,
                reason: s.reason(plan.min_records),
            })
            .collect(),
    })
}

/// Each safeguard: the records it matches and the policy with and without it.
pub(super) fn effects(r: &Report) -> Vec<EffectJson<'_>> {
    r.deployment
        .effects
        .iter()
        .map(|e| EffectJson {
            safeguard: &e.label,
            matched: e.matched,
            only_this_safeguard: e.exclusive,
            moved_to_large: e.moved,
            with: Measured::of(&e.with),
            without: Measured::of(&e.without),
        })
        .collect()
}
