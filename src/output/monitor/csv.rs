//! `monitor.csv`: one row per window × scope (then the whole run, window `all`), at full
//! precision; empty cells mean "not measured". It must not compute.

use anyhow::Result;

use super::window_label;
use crate::report::MonitorReport;

/// The columns.
const HEADER: [&str; 37] = [
    "window",
    "scope",
    "requests",
    "escalation_rate",
    "override_rate",
    "routed",
    "routed_escalation",
    "predicted_escalation",
    "escalation_p_beyond_margin",
    "escalated_against_policy",
    "kept_against_policy",
    "psi",
    "ks",
    "ks_p",
    "wasserstein_sd",
    "outside_reference",
    "estimated_quality",
    "estimated_quality_lo",
    "estimated_quality_hi",
    "effective_eval_records",
    "poorly_covered",
    "labels",
    "labelled_quality",
    "labelled_quality_lo",
    "labelled_quality_hi",
    "predicted_quality",
    "cost_per_request",
    "savings_vs_large",
    "wasted_small_per_request",
    "regenerated_small",
    "regenerated_large",
    "thumbs_down_small",
    "thumbs_down_large",
    "savings_vs_baseline",
    "latency_ms_small_only",
    "latency_ms_escalated",
    "latency_ms_overridden",
];

/// The rows as CSV.
pub(super) fn csv(r: &MonitorReport) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for row in &r.monitor.rows {
        let (d, e, l, c, f) = (
            row.drift,
            row.estimate,
            row.labelled,
            row.cost,
            row.feedback,
        );
        w.write_record([
            window_label(row.window, r.settings.window),
            r.monitor.scopes[row.scope].clone(),
            row.requests.to_string(),
            row.escalation_rate.to_string(),
            row.override_rate.to_string(),
            row.routed.to_string(),
            opt(row.routed_escalation),
            row.predicted_escalation.to_string(),
            opt(row.escalation_shift.map(|s| s.p_beyond_margin)),
            row.mismatches.0.to_string(),
            row.mismatches.1.to_string(),
            opt(d.map(|d| d.psi)),
            opt(d.map(|d| d.ks)),
            opt(d.map(|d| d.ks_p)),
            opt(d.map(|d| d.wasserstein)),
            opt(d.map(|d| d.outside)),
            opt(e.map(|e| e.quality)),
            opt(e.map(|e| e.lo)),
            opt(e.map(|e| e.hi)),
            opt(e.map(|e| e.effective_records)),
            opt(e.map(|e| e.poorly_covered)),
            opt(l.map(|l| l.labels as f64)),
            opt(l.map(|l| l.quality)),
            opt(l.map(|l| l.lo)),
            opt(l.map(|l| l.hi)),
            opt(l.map(|l| l.predicted)),
            opt(c.map(|c| c.per_request)),
            opt(c.map(|c| c.savings_vs_large)),
            opt(c.map(|c| c.wasted_small)),
            opt(f.regenerated.0),
            opt(f.regenerated.1),
            opt(f.thumbs_down.0),
            opt(f.thumbs_down.1),
            opt(c.and_then(|c| c.savings_vs_baseline)),
            opt(row.latency_ms[0]),
            opt(row.latency_ms[1]),
            opt(row.latency_ms[2]),
        ])?;
    }
    Ok(w.into_inner()?)
}

fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), |x| x.to_string())
}
