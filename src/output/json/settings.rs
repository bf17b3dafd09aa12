//! The input and the settings behind the numbers, and the economics (how costs are chosen,
//! the break-even thresholds), as `summary.json` states them. Copies only; it must not compute.

use serde::Serialize;

use crate::engine::economics::{CostSource, OutputTokens};
use crate::engine::sweep::Metrics;
use crate::report::findings::Findings;
use crate::report::{GridSetting, InputInfo, Settings};

use super::recommendation::{ObjectiveJson, objective_json};

/// `"input"`: the file and what was read from it.
#[derive(Serialize)]
pub(super) struct Input<'a> {
    path: &'a str,
    format: &'a str,
    sha256: &'a str,
    bytes: u64,
    rows_read: u64,
    rows_dropped: u64,
    dropped_by_reason: Vec<Reason<'a>>,
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    filtered: Option<WhereJson<'a>>,
}

/// `--where`: the conditions and what they kept.
#[derive(Serialize)]
struct WhereJson<'a> {
    conditions: &'a [String],
    kept: usize,
    removed: usize,
}

#[derive(Serialize)]
struct Reason<'a> {
    reason: &'a str,
    records: u64,
}

/// `"settings"`: what the numbers depend on.
#[derive(Serialize)]
pub(super) struct SettingsJson<'a> {
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
    input_tokens: Option<&'static str>,
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
struct GridJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantiles: Option<usize>,
}

/// `"economics"`: how costs are chosen and the break-even thresholds.
#[derive(Serialize)]
pub(super) struct EconomicsJson {
    precedence: &'static str,
    break_even_vs_large: Option<BreakEven>,
    break_even_vs_baseline: Option<BreakEven>,
}

#[derive(Serialize)]
struct BreakEven {
    threshold: f64,
    escalation_rate: f64,
}

/// The input and what was read from it.
pub(super) fn input(i: &InputInfo) -> Input<'_> {
    Input {
        path: &i.path,
        format: i.format,
        sha256: &i.sha256,
        bytes: i.bytes,
        rows_read: i.rows_read,
        rows_dropped: i.rows_dropped,
        dropped_by_reason: i
            .drop_reasons
            .iter()
            .map(|(reason, records)| Reason {
                reason,
                records: *records,
            })
            .collect(),
        filtered: i.filtered.as_ref().map(|f| WhereJson {
            conditions: &f.conditions,
            kept: f.kept,
            removed: f.removed,
        }),
    }
}

/// The settings the numbers depend on.
pub(super) fn settings(s: &Settings) -> SettingsJson<'_> {
    SettingsJson {
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
        grid: grid(s.grid),
        has_large_quality: s.has_large_quality,
    }
}

/// How the rows of sweep.csv were chosen.
fn grid(g: GridSetting) -> GridJson {
    match g {
        GridSetting::Step(step) => GridJson {
            kind: "step",
            step: Some(step),
            quantiles: None,
        },
        GridSetting::StepAndPercents(step) => GridJson {
            kind: "step_and_escalation_percents",
            step: Some(step),
            quantiles: None,
        },
        GridSetting::QuantilesAndPercents(q) => GridJson {
            kind: "quantiles_and_escalation_percents",
            step: None,
            quantiles: Some(q),
        },
        GridSetting::Exact => GridJson {
            kind: "exact",
            step: None,
            quantiles: None,
        },
    }
}

/// Where a model's cost came from.
fn cost(source: &CostSource) -> CostJson {
    let none = CostJson {
        source: "",
        per_request: None,
        price: None,
        output_tokens: None,
        input_tokens: None,
        ignored_price: None,
    };
    match source {
        CostSource::PerRecord { ignored } => CostJson {
            source: "per_record",
            ignored_price: ignored.clone(),
            ..none
        },
        CostSource::Default(c) => CostJson {
            source: "default",
            per_request: Some(*c),
            ..none
        },
        CostSource::PerRequest(c) => CostJson {
            source: "per_request",
            per_request: Some(*c),
            ..none
        },
        CostSource::Tokens {
            price,
            output,
            input_priced,
        } => CostJson {
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
            input_tokens: (!input_priced).then_some("absent: only output tokens are priced"),
            ..none
        },
    }
}

/// How costs are chosen, as the summary states it.
pub const PRECEDENCE: &str = "per model: the record's own cost field, else its tokens x --price \
    (large output tokens estimated from the small model's when absent), else the flat \
    --small-cost/--large-cost per request; the small model is paid on every request, the large \
    model only on escalated ones";

/// How costs are chosen and where the cascade stops paying.
pub(super) fn economics(d: &Findings) -> EconomicsJson {
    EconomicsJson {
        precedence: PRECEDENCE,
        break_even_vs_large: break_even(&d.break_even),
        break_even_vs_baseline: break_even(&d.break_even_vs_baseline),
    }
}

fn break_even(m: &Option<Metrics>) -> Option<BreakEven> {
    m.as_ref().map(|m| BreakEven {
        threshold: m.threshold,
        escalation_rate: m.escalation_rate,
    })
}
