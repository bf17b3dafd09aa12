//! `signals.json`: the input, the target and every signal's measures, best first, fields in
//! a fixed order. It must not compute; numbers are copied from the report.

use anyhow::Result;
use serde::Serialize;

use crate::engine::sweep::Metrics;
use crate::report::SignalsReport;
use crate::signals::Calibration;
use crate::signals::compare::LengthBucket;

#[derive(Serialize)]
struct Json<'a> {
    input: &'a str,
    sha256: &'a str,
    records: usize,
    target_quality: f64,
    target_given: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    recalibrate: Option<&'static str>,
    signals: Vec<RowJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    columns_not_numeric: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    columns_not_ranked: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suspect_signals: Vec<&'a str>,
}

#[derive(Serialize)]
struct RowJson<'a> {
    rank: usize,
    signal: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    formula: Option<&'a str>,
    auroc: Option<f64>,
    aurc: Option<f64>,
    e_aurc: Option<f64>,
    calibration: Option<&'a Calibration>,
    at_target: Option<&'a Metrics>,
    quality_escalation_area: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length_bias: Option<Vec<BucketJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recalibrated: Option<AfterJson<'a>>,
}

#[derive(Serialize)]
struct BucketJson {
    min_length: f64,
    max_length: f64,
    records: usize,
    acceptance_rate: f64,
    accepted_quality: Option<f64>,
}

#[derive(Serialize)]
struct AfterJson<'a> {
    calibration: Option<&'a Calibration>,
    at_target: Option<&'a Metrics>,
}

fn bucket(b: &LengthBucket) -> BucketJson {
    BucketJson {
        min_length: b.min_length,
        max_length: b.max_length,
        records: b.records,
        acceptance_rate: b.acceptance_rate,
        accepted_quality: b.accepted_quality,
    }
}

/// The report as pretty JSON with a final newline.
pub(super) fn json(r: &SignalsReport) -> Result<Vec<u8>> {
    let c = &r.comparison;
    let doc = Json {
        input: &r.path,
        sha256: &r.sha256,
        records: r.records,
        target_quality: c.target,
        target_given: c.target_given,
        recalibrate: r.recalibrate.map(|(m, _)| m),
        columns_not_numeric: &r.skipped,
        columns_not_ranked: &r.unranked,
        suspect_signals: r.suspects.iter().map(|s| s.name.as_str()).collect(),
        signals: c
            .rows
            .iter()
            .enumerate()
            .map(|(k, row)| RowJson {
                rank: k + 1,
                signal: &row.name,
                formula: row.formula.as_deref(),
                auroc: row.auroc,
                aurc: row.aurc,
                e_aurc: row.e_aurc,
                calibration: row.calibration.as_ref(),
                at_target: row.at_target.as_ref(),
                quality_escalation_area: row.quality_escalation_area,
                length_bias: row
                    .length_bias
                    .as_ref()
                    .map(|b| b.iter().map(bucket).collect()),
                recalibrated: row.after.as_ref().map(|a| AfterJson {
                    calibration: a.calibration.as_ref(),
                    at_target: a.at_target.as_ref(),
                }),
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc)?;
    out.push(b'\n');
    Ok(out)
}
