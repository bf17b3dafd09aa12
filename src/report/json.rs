//! `summary.json` and `recommend --print json`: the report as JSON, fields in a fixed order.
//!
//! Owns the JSON shape (documented in the README). It must not compute; numbers are copied
//! from the [`Report`].

use anyhow::Result;
use serde::Serialize;

use super::{Exporter, GridSetting, Report};
use crate::economics::CostSource;
use crate::recommend::{Infeasible, Objective};
use crate::sweep::{Baselines, Metrics};

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
) -> Result<String> {
    let r = Recommendation::of(recommendation, objective);
    Ok(serde_json::to_string(&r)?)
}

#[derive(Serialize)]
struct Summary<'a> {
    tool: Tool,
    input: Input<'a>,
    settings: SettingsJson,
    records: usize,
    distinct_confidences: usize,
    baselines: &'a Baselines,
    recommendation: Recommendation<'a>,
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
struct SettingsJson {
    fields: serde_json::Map<String, serde_json::Value>,
    small_cost: CostJson,
    large_cost: CostJson,
    objective: ObjectiveJson,
    grid: GridJson,
    has_large_quality: bool,
}

#[derive(Serialize)]
struct CostJson {
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_request: Option<f64>,
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
            },
            Err(why) => Recommendation {
                found: false,
                objective,
                metrics: None,
                reason: Some(why.to_string()),
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

fn cost(source: CostSource) -> CostJson {
    match source {
        CostSource::PerRecord => CostJson {
            source: "per_record",
            per_request: None,
        },
        CostSource::PerRequest(c) => CostJson {
            source: "per_request",
            per_request: Some(c),
        },
    }
}

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
            small_cost: cost(s.small_cost),
            large_cost: cost(s.large_cost),
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
        recommendation: Recommendation::of(&report.recommendation, s.objective),
    }
}
