//! `--split-ties` in words and JSON: the split the policy carries (the tie, the keep fraction,
//! the hash, the metrics in expectation with their intervals) or why the policy stays a plain
//! threshold. For stderr, the summary, `report.md` and the JSON documents alike.
//!
//! Copies and words only; every number comes from the report. It must not compute.

use serde::Serialize;

use crate::engine::ties::Expected;
use crate::output::format::{money, opt4, pct, threshold};
use crate::report::{AppliedSplit, SplitTies};
use crate::trust::intervals::RowIntervals;

/// One line: what the split keeps and what it delivers in expectation, or why none applies.
pub fn split_line(s: &SplitTies) -> String {
    match &s.outcome {
        Err(why) => format!("--split-ties: no split, the policy is a plain threshold: {why}"),
        Ok(a) => format!(
            "--split-ties: at confidence {} ({} records), keep the small answer on {} of such \
             requests (hash seed {}); in expectation: escalation {}, non-escalated quality {}, \
             cascade quality {}, cost per request {} (the threshold alone: {})",
            threshold(a.split.value),
            a.split.records,
            pct(a.split.fraction),
            s.seed,
            pct(a.split.expected.escalation_rate),
            opt4(a.split.expected.non_escalated_quality),
            opt4(a.split.expected.cascade_quality),
            money(a.split.expected.cost_per_request),
            money(a.base.cost_per_request),
        ),
    }
}

/// A paragraph of `report.md`.
pub fn split_markdown(s: &SplitTies) -> String {
    let Ok(a) = &s.outcome else {
        return format!("**Split tie:** none; {}.\n\n", split_reason(s));
    };
    let e = &a.split.expected;
    let range = |f: fn(&RowIntervals) -> Option<(f64, f64)>, show: fn(f64) -> String| match a
        .intervals
        .as_ref()
        .and_then(f)
    {
        Some((lo, hi)) => format!(" ({} to {})", show(lo), show(hi)),
        None => String::new(),
    };
    let q4 = |x: f64| opt4(Some(x));
    format!(
        "**Split tie (`--split-ties`).** At confidence {} exactly ({} records), the policy keeps \
         the small answer on {} of requests, those whose `hash_unit` (a seeded hash of the \
         request id, seed {}; the policy's `tie_split.hash` says how to compute it) is below \
         `tie_split.keep_fraction`, and escalates the rest; above it, the threshold applies. \
         Its figures are expectations over that split, with bootstrap intervals at the \
         report's level: escalation {}{}, non-escalated quality {}{}, cascade quality {}{}, \
         cost per request {}{} (the threshold alone: {}).\n\n",
        threshold(a.split.value),
        a.split.records,
        pct(a.split.fraction),
        s.seed,
        pct(e.escalation_rate),
        range(|i| Some((i.escalation_rate.lo, i.escalation_rate.hi)), pct),
        opt4(e.non_escalated_quality),
        range(|i| i.non_escalated_quality.map(|x| (x.lo, x.hi)), q4),
        opt4(e.cascade_quality),
        range(|i| i.cascade_quality.map(|x| (x.lo, x.hi)), q4),
        money(e.cost_per_request),
        range(|i| i.cost_per_request.map(|x| (x.lo, x.hi)), money),
        money(a.base.cost_per_request),
    )
}

fn split_reason(s: &SplitTies) -> &str {
    s.outcome.as_ref().err().map_or("", String::as_str)
}

/// `split_ties` in `summary.json` and `recommend --print json`.
#[derive(Serialize)]
pub struct SplitJson<'a> {
    applied: bool,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_fraction: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<ExpectedJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    intervals: Option<&'a RowIntervals>,
}

#[derive(Serialize)]
struct ExpectedJson {
    escalation_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    non_escalated_quality: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cascade_quality: Option<f64>,
    cost_per_request: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    savings_vs_large: Option<f64>,
}

/// The JSON form of `s`.
pub fn split_json(s: &SplitTies) -> SplitJson<'_> {
    let applied: Option<&AppliedSplit> = s.outcome.as_ref().ok();
    let expected = |e: &Expected| ExpectedJson {
        escalation_rate: e.escalation_rate,
        non_escalated_quality: e.non_escalated_quality,
        cascade_quality: e.cascade_quality,
        cost_per_request: e.cost_per_request,
        savings_vs_large: e.savings_vs_large,
    };
    SplitJson {
        applied: applied.is_some(),
        seed: s.seed,
        reason: s.outcome.as_ref().err().map(String::as_str),
        signal: applied.map(|a| a.split.value),
        records: applied.map(|a| a.split.records),
        keep_fraction: applied.map(|a| a.split.fraction),
        expected: applied.map(|a| expected(&a.split.expected)),
        intervals: applied.and_then(|a| a.intervals.as_ref()),
    }
}
