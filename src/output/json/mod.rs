//! `summary.json` and `recommend --print json`: the report as JSON, fields in a fixed order.
//!
//! Owns the JSON shape (documented in the README). It must not compute; numbers are copied
//! from the [`Report`]. The document's top level is here; each group of fields has its own
//! file: settings.rs (the input, the settings, the economics), recommendation.rs, trust.rs
//! (intervals, hold-out) and deploy.rs (signal, segments, safeguards).

mod deploy;
mod recommendation;
mod settings;
mod trust;

use anyhow::Result;
use serde::Serialize;

use super::Exporter;
use crate::engine::latency::Latency;
use crate::engine::sweep::Baselines;
use crate::policy::document::Policy;
use crate::report::Report;

pub use recommendation::recommendation_json;

/// The layout version of `summary.json`, its first field: raised when a field is renamed,
/// removed or changes meaning, not when one is added.
pub const SCHEMA_VERSION: u32 = 1;

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

#[derive(Serialize)]
struct Summary<'a> {
    schema_version: u32,
    tool: Tool,
    input: settings::Input<'a>,
    settings: settings::SettingsJson<'a>,
    records: usize,
    distinct_confidences: usize,
    baselines: &'a Baselines,
    economics: settings::EconomicsJson,
    recommendation: recommendation::Recommendation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommended_latency_ms: Option<&'a Latency>,
    uncertainty: trust::UncertaintyJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    holdout: Option<trust::HoldoutJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cross_fit: Option<trust::CrossFitJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certified_segments: Option<trust::CertifiedSegmentsJson<'a>>,
    signal: deploy::SignalJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<deploy::SegmentsJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    safeguards: Vec<deploy::EffectJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a Policy>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// The document; serde writes its fields in the order [`Summary`] declares them.
fn summary(report: &Report) -> Summary<'_> {
    Summary {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "calibrate",
            version: env!("CARGO_PKG_VERSION"),
        },
        input: settings::input(&report.input),
        settings: settings::settings(&report.settings),
        records: report.records,
        distinct_confidences: report.distinct_confidences,
        baselines: &report.baselines,
        economics: settings::economics(&report.findings),
        recommendation: recommendation::recommendation(report),
        recommended_latency_ms: report.recommended_latency.as_ref(),
        uncertainty: trust::uncertainty(&report.uncertainty),
        holdout: trust::holdout(report.holdout.as_ref()),
        cross_fit: trust::cross_fit(report.cross_fit.as_ref()),
        certified_segments: trust::certified_segments(report.certified_segments.as_ref()),
        signal: deploy::signal(report),
        segments: deploy::segments(report),
        safeguards: deploy::effects(report),
        policy: report.deployment.policy.as_ref(),
    }
}
