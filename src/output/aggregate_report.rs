//! What `sweep` and `recommend` write for an aggregate input: sweep.csv (the same columns and
//! bytes as the records' report, intervals and latency aside), summary.json, report.md and the
//! recommendation on stdout.
//!
//! It formats the [`AggregateReport`]; it must not compute.

use anyhow::Result;
use serde_json::json;

use super::csv::SweepTable;
use crate::policy::document::segment_rules;
use crate::policy::segments::Plan;
use crate::report::RunSettings;
use crate::report::aggregate::AggregateReport;

/// What an aggregate cannot give, said in every report made from one.
const NOT_AVAILABLE: &str = "An aggregate holds counts and sums per confidence, not records, so \
    this report has no per-record checks (signal calibration, ties, departures), cross-fitting or \
    plots. The sweep's metrics, its Wilson intervals and latency means equal those of the \
    records' report to the last digit; latency percentiles come from the sketch (within 0.5 ms \
    or 1.6 %), and the bootstrap intervals resample cells (each cell's record count, and its \
    right and wrong answers with 0/1 labels), so they can be narrower than the records' where \
    costs or large-model labels vary within a confidence.";

/// The report directory's files.
pub fn aggregate_files(
    report: &AggregateReport,
    run: &RunSettings,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let no_intervals;
    let intervals = match &report.uncertainty {
        Some(u) => &u.rows,
        None => {
            no_intervals = Vec::new();
            &no_intervals
        }
    };
    let csv = SweepTable {
        rows: &report.rows,
        intervals,
        baseline: run.costs.baseline.is_some(),
        latency: report.latency.as_deref(),
    }
    .render()?;
    let label = run.load.source.label();
    let summary = json!({
        "input": {
            "aggregate": label,
            "records": report.records,
            "rows": report.cells,
            "distinct_confidences": report.distinct_confidences,
            "resolution": (report.resolution >= 0).then_some(report.resolution),
            "segments_pooled": report.segments,
            "binary_labels": report.binary,
        },
        "objective": run.objective.describe(),
        "baselines": report.baselines,
        "auroc": report.auroc,
        "recommendation": recommendation_json(report),
        "policy": report.policy,
        "latency_at_recommendation": report.latency.as_ref().and_then(|l| {
            report.recommendation.is_ok().then(|| l.last().copied()).flatten()
        }),
        "latency_sketch": report.latency.as_ref().map(|_| "percentiles are the middle of a \
            bucket 1 ms wide below 32 ms and 1/32 of its lower bound above: within 0.5 ms or \
            1.6 % of the records' nearest-rank value; means are exact"),
        "intervals": report.uncertainty.as_ref().map(|u| json!({
            "level": u.settings.level,
            "resamples": u.settings.resamples,
            "seed": u.settings.seed,
            "recommended": u.recommended,
            "threshold_spread": u.spread,
            "bootstrap": "cells: each cell's record count is drawn Poisson(n), and with 0/1 small \
                labels its right and wrong answers separately; costs and large labels vary with \
                the counts only (see README)",
        })),
        "not_available": NOT_AVAILABLE,
    });
    let mut summary = serde_json::to_string_pretty(&summary)?;
    summary.push('\n');
    let mut files = vec![
        ("sweep.csv", csv),
        ("summary.json", summary.into_bytes()),
        ("report.md", markdown(report, run).into_bytes()),
    ];
    if report.plan.is_some() {
        files.push((
            "segments.csv",
            super::csv::segments_csv(report.plan.as_ref())?,
        ));
    }
    Ok(files)
}

fn recommendation_json(report: &AggregateReport) -> serde_json::Value {
    let certificate = report.certification.as_ref().map(|c| match c {
        Ok(c) => json!({ "certified": true, "delta": c.delta, "p_value": c.p_value,
                         "tests": c.tests }),
        Err(why) => json!({ "certified": false, "why": why.to_string() }),
    });
    let mut out = match &report.recommendation {
        Ok(m) => json!({
            "found": true,
            "threshold": m.deployed_threshold(),
            "always_large": m.accepts_none,
            "metrics": m,
            "certificate": certificate,
        }),
        Err(why) => json!({
            "found": false,
            "why": why.to_string(),
            "certificate": certificate,
        }),
    };
    if !report.always_large.is_empty() {
        out["always_large"] = json!(report.always_large);
    }
    if let Some(plan) = &report.plan {
        // The per-segment rules as the records' policy document states them.
        let rules = plan.policy.map(|_| segment_rules(plan));
        out["segment_by"] = json!(plan.columns);
        out["segments"] = json!(rules);
        out["segments_measured"] = json!(plan.policy);
        out["segments_note"] = json!(plan.note);
    }
    out
}

fn markdown(report: &AggregateReport, run: &RunSettings) -> String {
    let b = &report.baselines;
    let opt = |x: Option<f64>| x.map_or("n/a".into(), |x| format!("{x:.4}"));
    let mut md = format!(
        "# Threshold sweep (from an aggregate)\n\n\
         Input: `{}`, {} records in {} rows, {} distinct confidences{}.\n\n\
         Objective: {}.\n\n\
         | policy | quality | cost per request |\n|---|---:|---:|\n\
         | always small | {} | {} |\n| always large | {} | {} |\n",
        run.load.source.label(),
        report.records,
        report.cells,
        report.distinct_confidences,
        match report.resolution {
            k if k < 0 => String::new(),
            k => format!(" (confidences floored to multiples of 2^-{k})"),
        },
        run.objective.describe(),
        opt(b.always_small.quality),
        b.always_small.cost_per_request,
        opt(b.always_large.quality),
        b.always_large.cost_per_request,
    );
    md += &match &report.recommendation {
        Ok(m) => format!(
            "\n**Recommended:** {}: escalation {:.4}, non-escalated quality {}, cascade quality \
             {}, cost per request {}.\n",
            match m.deployed_threshold() {
                Some(t) => format!("threshold {t}"),
                None => "always large".into(),
            },
            m.escalation_rate,
            opt(m.non_escalated_quality),
            opt(m.cascade_quality),
            m.cost_per_request
        ),
        Err(why) => format!("\n**No threshold meets the objective:** {why}.\n"),
    };
    if let Some(plan) = &report.plan {
        md += &segments_markdown(plan);
    }
    if let Some(l) = report
        .latency
        .as_ref()
        .filter(|_| report.recommendation.is_ok())
    {
        let at = l.last().expect("the recommendation's latency comes last");
        md += &format!(
            "\nCascade latency at the recommendation: mean {} ms, p50 {} ms, p95 {} ms, p99 {} \
             ms (percentiles within 0.5 ms or 1.6 %).\n",
            at.mean, at.p50, at.p95, at.p99
        );
    }
    md += &format!("\nsweep.csv has one row per threshold.\n\n{NOT_AVAILABLE}\n");
    md
}

/// The per-segment thresholds, or why none were chosen.
fn segments_markdown(plan: &Plan) -> String {
    let Some(m) = plan.policy else {
        let why = plan.note.as_deref().unwrap_or("no joint choice was made");
        return format!(
            "\nPer-segment thresholds ({}): none, {why}.\n",
            plan.columns.join(", ")
        );
    };
    let mut md = format!(
        "\nPer-segment thresholds ({}): cost per request {}, escalation {:.4}.\n\n\
         | segment | records | threshold | why |\n|---|---:|---:|---|\n",
        plan.columns.join(", "),
        m.cost_per_request,
        m.escalation_rate
    );
    for s in &plan.segments {
        let t = s
            .threshold
            .map_or("always large".to_string(), |t| t.to_string());
        let name = s.name.replace('|', "\\|");
        md += &format!(
            "| {name} | {} | {t} | {} |\n",
            s.records,
            s.rule.reason(plan.min_records)
        );
    }
    md
}

/// The lines `sweep` prints.
pub fn aggregate_summary_text(report: &AggregateReport) -> String {
    match &report.recommendation {
        Ok(m) => match m.deployed_threshold() {
            Some(t) => format!(
                "threshold {t}: escalation {:.4}, cost per request {}\n",
                m.escalation_rate, m.cost_per_request
            ),
            None => format!("always large: cost per request {}\n", m.cost_per_request),
        },
        Err(why) => format!("no threshold meets the objective: {why}\n"),
    }
}
