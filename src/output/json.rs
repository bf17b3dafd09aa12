//! `summary.json` and `recommend --print json`: the report as JSON, fields in a fixed order.
//!
//! Owns the JSON shape (documented in the README). It must not compute; numbers are copied
//! from the [`Report`].

use anyhow::Result;
use serde::Serialize;

use super::Exporter;
use crate::engine::economics::{CostSource, OutputTokens};
use crate::engine::latency::Latency;
use crate::engine::objective::Objective;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::{Baselines, Metrics};
use crate::policy::document::{Measured, Policy, threshold_of};
use crate::report::{GridSetting, Report};
use crate::signals::Calibration;
use crate::trust::certify::Certification;
use crate::trust::intervals::{RowIntervals, ThresholdSpread};

/// The JSON summary file.
pub struct SummaryJson;

impl Exporter for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(&summary(report))?;
        out.push(b'\n');
        Ok(out)
    }
}

/// The recommendation as one compact JSON line (for `recommend --print json`).
pub fn recommendation_json(
    recommendation: &Result<Metrics, Infeasible>,
    objective: Objective,
    certification: Option<&Certification>,
    policy: Option<&Policy>,
) -> Result<String> {
    let mut r = Recommendation::of(recommendation, objective);
    r.certificate = certification.map(certificate_json);
    r.policy = policy;
    Ok(serde_json::to_string(&r)?)
}

#[derive(Serialize)]
struct CertificateJson {
    certified: bool,
    delta: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guarantee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    needed_records: Option<u64>,
}

fn certificate_json(c: &Certification) -> CertificateJson {
    match c {
        Ok(c) => CertificateJson {
            certified: true,
            delta: c.delta,
            method: Some(c.method.name()),
            tests: Some(c.tests),
            p_value: Some(c.p_value),
            guarantee: Some(c.guarantee()),
            reason: None,
            needed_records: None,
        },
        Err(why) => CertificateJson {
            certified: false,
            delta: why.delta,
            method: None,
            tests: None,
            p_value: None,
            guarantee: None,
            reason: Some(why.to_string()),
            needed_records: why.needed_records,
        },
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    tool: Tool,
    input: Input<'a>,
    settings: SettingsJson<'a>,
    records: usize,
    distinct_confidences: usize,
    baselines: &'a Baselines,
    economics: EconomicsJson,
    recommendation: Recommendation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended_latency_ms: Option<&'a Latency>,
    uncertainty: UncertaintyJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    holdout: Option<HoldoutJson<'a>>,
    signal: SignalJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<SegmentsJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    safeguards: Vec<EffectJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a Policy>,
}

#[derive(Serialize)]
struct SignalJson<'a> {
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

#[derive(Serialize)]
struct SegmentsJson<'a> {
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

#[derive(Serialize)]
struct EffectJson<'a> {
    safeguard: &'a str,
    matched: usize,
    only_this_safeguard: usize,
    moved_to_large: usize,
    with: Measured,
    without: Measured,
}

fn signal_json(r: &Report) -> SignalJson<'_> {
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

fn segments_json(r: &Report) -> Option<SegmentsJson<'_>> {
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
                own_threshold: s.own.as_ref().ok().and_then(threshold_of),
                at_global: s.at_global.as_ref(),
                chosen: &s.chosen,
                always_large: s.always_large,
                reason: s.reason(plan.min_records),
            })
            .collect(),
    })
}

fn effects_json(r: &Report) -> Vec<EffectJson<'_>> {
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

#[derive(Serialize)]
struct HoldoutJson<'a> {
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

#[derive(Serialize)]
struct UncertaintyJson<'a> {
    level: f64,
    bootstrap_resamples: usize,
    seed: u64,
    quality_intervals: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended: Option<&'a RowIntervals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended_threshold_spread: Option<&'a ThresholdSpread>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Input<'a> {
    path: &'a str,
    format: &'a str,
    sha256: &'a str,
    bytes: u64,
    rows_read: u64,
    rows_dropped: u64,
    dropped_by_reason: Vec<Reason<'a>>,
}

#[derive(Serialize)]
struct Reason<'a> {
    reason: &'a str,
    records: u64,
}

#[derive(Serialize)]
struct SettingsJson<'a> {
    fields: serde_json::Map<String, serde_json::Value>,
    small_cost: CostJson,
    large_cost: CostJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    small_timeout_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timed_out: Option<usize>,
    objective: ObjectiveJson,
    grid: GridJson,
    has_large_quality: bool,
}

#[derive(Serialize)]
struct CostJson {
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_request: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<PriceJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_tokens: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored_price: Option<String>,
}

#[derive(Serialize)]
struct PriceJson {
    name: String,
    input_per_million: f64,
    output_per_million: f64,
}

#[derive(Serialize)]
struct BaselineJson<'a> {
    description: &'a str,
    cost_per_request: f64,
}

#[derive(Serialize)]
struct EconomicsJson {
    precedence: &'static str,
    break_even_vs_large: Option<BreakEven>,
    break_even_vs_baseline: Option<BreakEven>,
}

#[derive(Serialize)]
struct BreakEven {
    threshold: f64,
    escalation_rate: f64,
}

#[derive(Serialize)]
struct ObjectiveJson {
    kind: &'static str,
    value: Option<f64>,
    description: String,
}

#[derive(Serialize)]
struct GridJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantiles: Option<usize>,
}

#[derive(Serialize)]
struct Recommendation<'a> {
    found: bool,
    objective: ObjectiveJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<CertificateJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a Policy>,
}

impl<'a> Recommendation<'a> {
    fn of(recommendation: &'a Result<Metrics, Infeasible>, objective: Objective) -> Self {
        let objective = objective_json(objective);
        match recommendation {
            Ok(m) => Recommendation {
                found: true,
                objective,
                metrics: Some(m),
                reason: None,
                certificate: None,
                policy: None,
            },
            Err(why) => Recommendation {
                found: false,
                objective,
                metrics: None,
                reason: Some(why.to_string()),
                certificate: None,
                policy: None,
            },
        }
    }
}

fn objective_json(o: Objective) -> ObjectiveJson {
    ObjectiveJson {
        kind: o.kind(),
        value: o.value(),
        description: o.describe(),
    }
}

fn cost(source: &CostSource) -> CostJson {
    let none = CostJson {
        source: "",
        per_request: None,
        price: None,
        output_tokens: None,
        ignored_price: None,
    };
    match source {
        CostSource::PerRecord { ignored } => CostJson {
            source: "per_record",
            ignored_price: ignored.clone(),
            ..none
        },
        CostSource::PerRequest(c) => CostJson {
            source: "per_request",
            per_request: Some(*c),
            ..none
        },
        CostSource::Tokens { price, output } => CostJson {
            source: "tokens",
            price: Some(PriceJson {
                name: price.name.clone(),
                input_per_million: price.price.input,
                output_per_million: price.price.output,
            }),
            output_tokens: Some(match output {
                OutputTokens::Recorded => "recorded".into(),
                OutputTokens::EstimatedFromSmall { ratio } => {
                    format!("estimated as small_output_tokens x {ratio}")
                }
            }),
            ..none
        },
    }
}

fn break_even(m: &Option<Metrics>) -> Option<BreakEven> {
    m.as_ref().map(|m| BreakEven {
        threshold: m.threshold,
        escalation_rate: m.escalation_rate,
    })
}

/// How costs are chosen, as the summary states it.
pub const PRECEDENCE: &str = "per model: the record's own cost field, else its tokens x --price \
    (large output tokens estimated from the small model's when absent), else the flat \
    --small-cost/--large-cost per request; the small model is paid on every request, the large \
    model only on escalated ones";

fn summary(report: &Report) -> Summary<'_> {
    let s = &report.settings;
    Summary {
        tool: Tool {
            name: "calibrate",
            version: env!("CARGO_PKG_VERSION"),
        },
        input: Input {
            path: &report.input.path,
            format: report.input.format,
            sha256: &report.input.sha256,
            bytes: report.input.bytes,
            rows_read: report.input.rows_read,
            rows_dropped: report.input.rows_dropped,
            dropped_by_reason: report
                .input
                .drop_reasons
                .iter()
                .map(|(reason, records)| Reason {
                    reason,
                    records: *records,
                })
                .collect(),
        },
        settings: SettingsJson {
            fields: s
                .fields
                .iter()
                .map(|(f, c)| (f.clone(), serde_json::Value::String(c.clone())))
                .collect(),
            small_cost: cost(&s.small_cost),
            large_cost: cost(&s.large_cost),
            baseline: s.baseline.as_ref().map(|b| BaselineJson {
                description: &b.description,
                cost_per_request: b.cost_per_request,
            }),
            small_timeout_ms: s.small_timeout_ms,
            timed_out: s.small_timeout_ms.map(|_| s.timed_out),
            objective: objective_json(s.objective),
            grid: match s.grid {
                GridSetting::Step(step) => GridJson {
                    kind: "step",
                    step: Some(step),
                    quantiles: None,
                },
                GridSetting::Quantiles(q) => GridJson {
                    kind: "quantiles",
                    step: None,
                    quantiles: Some(q),
                },
                GridSetting::Exact => GridJson {
                    kind: "exact",
                    step: None,
                    quantiles: None,
                },
            },
            has_large_quality: s.has_large_quality,
        },
        records: report.records,
        distinct_confidences: report.distinct_confidences,
        baselines: &report.baselines,
        economics: EconomicsJson {
            precedence: PRECEDENCE,
            break_even_vs_large: break_even(&report.findings.break_even),
            break_even_vs_baseline: break_even(&report.findings.break_even_vs_baseline),
        },
        recommendation: Recommendation {
            certificate: report.certification.as_ref().map(certificate_json),
            ..Recommendation::of(&report.recommendation, s.objective)
        },
        recommended_latency_ms: report.recommended_latency.as_ref(),
        holdout: report.holdout.as_ref().map(|h| HoldoutJson {
            split: &h.description,
            calibration_records: h.calibration_records,
            test_records: h.test_records,
            met_objective: h.met,
            promised: &h.promised,
            held_out: &h.held_out,
            policy: h.policy.as_ref().map(|(p, t, met)| PolicyHoldoutJson {
                met_objective: *met,
                promised: Measured::of(p),
                held_out: Measured::of(t),
            }),
        }),
        signal: signal_json(report),
        segments: segments_json(report),
        safeguards: effects_json(report),
        policy: report.deployment.policy.as_ref(),
        uncertainty: UncertaintyJson {
            level: report.uncertainty.settings.level,
            bootstrap_resamples: report.uncertainty.settings.resamples,
            seed: report.uncertainty.settings.seed,
            quality_intervals: if report.uncertainty.binary {
                "Wilson (0/1 labels)"
            } else {
                "bootstrap percentile (labels in [0, 1])"
            },
            recommended: report.uncertainty.recommended.as_ref(),
            recommended_threshold_spread: report.uncertainty.spread.as_ref(),
        },
    }
}
