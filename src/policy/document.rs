//! The deployable policy: everything a router needs to route requests the way the sweep
//! assumed, and what calibration measured for it.
//!
//! Owns the policy's shape (serialised as-is into `summary.json` and by `recommend --print`).
//! It must not compute metrics; it gathers numbers computed elsewhere.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::objective::Objective;
use crate::engine::sweep::Metrics;
use crate::engine::ties::Expected;
use crate::input::Reference;
use crate::policy::segments::Plan;
use crate::signals::spec::SignalSpec;

/// The policy document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// `calibrate`.
    pub tool: &'static str,
    /// The tool version that computed it.
    pub version: &'static str,
    /// SHA-256 of the eval set it was calibrated on.
    pub input_sha256: String,
    /// With `--where`: the records it was calibrated on, so the traffic it is for: a request
    /// matching every condition.
    #[serde(rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<ScopePolicy>,
    /// How a router applies it, in one sentence.
    pub rule: &'static str,
    /// The thresholded signal.
    pub signal: SignalSpec,
    /// The objective it was chosen for.
    pub objective: ObjectivePolicy,
    /// The threshold for requests of no listed segment (or every request without segments);
    /// absent when they all go to the large model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_threshold: Option<f64>,
    /// With a recalibration: the same split as `default_threshold`, on the raw signal (the
    /// smallest raw signal the eval set accepts), free of interpolation rounding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_raw_threshold: Option<f64>,
    /// With `--split-ties`: the one signal value below `default_threshold` at which a
    /// hash-chosen share of requests keeps the small answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tie_split: Option<TieSplitPolicy>,
    /// The columns whose values select a segment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segment_by: Vec<String>,
    /// Per-segment rules, checked before the default threshold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentPolicy>,
    /// Requests matching any of these go to the large model whatever the signal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub always_large: Vec<AlwaysLargePolicy>,
    /// Refusals ("I cannot", "I don't know") go to the large model.
    pub escalate_refusals: bool,
    /// Small answers slower than this (milliseconds) go to the large model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub small_timeout_ms: Option<f64>,
    /// With `--certify`: what the policy is certified to deliver, with its assumption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guarantee: Option<String>,
    /// What the whole policy delivered on the eval set.
    pub measured: Measured,
    /// What production monitoring compares logs with (`calibrate monitor --against`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
}

/// A split tie: requests whose signal equals `signal` keep the small answer iff
/// `hash_unit(seed, request id) < keep_fraction`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TieSplitPolicy {
    /// The tied signal value (compared with `==`).
    pub signal: f64,
    /// The share of its requests that keep the small answer.
    pub keep_fraction: f64,
    /// The hash's seed.
    pub seed: u64,
    /// How a router computes the hash.
    pub hash: &'static str,
    /// Eval-set records holding that value (not escalated by a safeguard).
    pub records: usize,
}

/// How a router computes `hash_unit` (`engine::ties::hash_unit` is the reference).
pub const TIE_HASH: &str = "hash_unit = (first 8 bytes of SHA-256 of the UTF-8 text \
     \"{seed}:{request id}\", read as a big-endian unsigned integer) / 2^64";

/// One `--where` condition: `field` `op` `value`, compared as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopePolicy {
    /// The field.
    pub field: String,
    /// `=` or `!=`.
    pub op: &'static str,
    /// The value, as text.
    pub value: String,
}

/// The objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectivePolicy {
    /// Machine name (`min_quality`, ...).
    pub kind: &'static str,
    /// Its parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl ObjectivePolicy {
    /// From the objective.
    pub fn of(o: Objective) -> ObjectivePolicy {
        ObjectivePolicy {
            kind: o.kind(),
            value: o.value(),
        }
    }
}

/// One segment's rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentPolicy {
    /// The values that select it, by column.
    #[serde(rename = "match")]
    pub matches: BTreeMap<String, String>,
    /// `threshold` or `always_large`.
    pub action: &'static str,
    /// The segment's threshold (with action `threshold`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// With a recalibration: the same split on the raw signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_threshold: Option<f64>,
    /// Why.
    pub reason: String,
    /// Records of the segment in the eval set.
    pub records: usize,
}

/// One `--always-large`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlwaysLargePolicy {
    /// The column.
    pub field: String,
    /// The value, as text.
    pub value: String,
}

/// What the policy delivered on the eval set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    /// Records.
    pub records: usize,
    /// Share escalated.
    pub escalation_rate: f64,
    /// Mean small quality over accepted records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_escalated_quality: Option<f64>,
    /// Mean quality of the cascade's answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cascade_quality: Option<f64>,
    /// Currency units per request.
    pub cost_per_request: f64,
    /// Against always-large.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savings_vs_large: Option<f64>,
}

impl Measured {
    /// From a randomised policy's metrics in expectation.
    pub fn expected(e: &Expected) -> Measured {
        Measured {
            records: e.records,
            escalation_rate: e.escalation_rate,
            non_escalated_quality: e.non_escalated_quality,
            cascade_quality: e.cascade_quality,
            cost_per_request: e.cost_per_request,
            savings_vs_large: e.savings_vs_large,
        }
    }

    /// From a policy's metrics.
    pub fn of(m: &Metrics) -> Measured {
        Measured {
            records: m.accepted + m.escalated,
            escalation_rate: m.escalation_rate,
            non_escalated_quality: m.non_escalated_quality,
            cascade_quality: m.cascade_quality,
            cost_per_request: m.cost_per_request,
            savings_vs_large: m.savings_vs_large,
        }
    }
}

impl Policy {
    /// Adds the raw-signal form of every threshold: `cut(t)` is the smallest raw signal whose
    /// recalibrated value is ≥ t.
    pub fn with_raw_thresholds(mut self, cut: impl Fn(f64) -> Option<f64>) -> Policy {
        self.default_raw_threshold = self.default_threshold.and_then(&cut);
        for s in &mut self.segments {
            s.raw_threshold = s.threshold.and_then(&cut);
        }
        self
    }

    /// Whether one number says it all: a single global threshold on the signal, with no
    /// segments, safeguards or recalibration map.
    pub fn is_bare(&self) -> bool {
        self.segments.is_empty()
            && self.always_large.is_empty()
            && !self.escalate_refusals
            && self.signal.recalibration.is_none()
            && self.tie_split.is_none()
    }

    /// Whether it is one global threshold on the confidence field, nothing else.
    pub fn is_single(&self) -> bool {
        self.is_bare() && self.signal.formula.is_none() && self.signal.name == "confidence"
    }
}

/// The sentence every policy carries.
pub const RULE: &str = "send a request to the large model if it matches an always_large entry, \
     if it is a refusal (when escalate_refusals) or if the small model timed out; otherwise use \
     the first segment whose match equals the request's values: always_large escalates, else \
     keep the small answer iff signal >= threshold (with a recalibration: iff the mapped signal \
     >= threshold, or equivalently the raw signal >= raw_threshold); a request of no listed \
     segment uses default_threshold, and with no default_threshold it escalates";

/// The sentence a policy with a split tie carries.
pub const RULE_TIE_SPLIT: &str = "send a request to the large model if it matches an \
     always_large entry, if it is a refusal (when escalate_refusals) or if the small model timed \
     out; otherwise keep the small answer iff signal >= default_threshold, or signal == \
     tie_split.signal and hash_unit < tie_split.keep_fraction (tie_split.hash says how to compute \
     hash_unit from the request id); escalate every other request";

/// The per-segment rules of a plan whose joint choice was made.
pub fn segment_rules(plan: &Plan) -> Vec<SegmentPolicy> {
    plan.segments
        .iter()
        .map(|s| SegmentPolicy {
            matches: s.labels.iter().cloned().collect(),
            action: if s.always_large {
                "always_large"
            } else {
                "threshold"
            },
            threshold: s.threshold,
            raw_threshold: None,
            reason: s.reason(plan.min_records),
            records: s.records,
        })
        .collect()
}
