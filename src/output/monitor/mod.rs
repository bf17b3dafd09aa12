//! `calibrate monitor`'s outputs: monitor.md, monitor.json, monitor.csv, the escalation plot,
//! and the status and alerts printed to stdout.
//!
//! Formatting only: every number comes from the [`MonitorReport`]; this module words the
//! findings and lays them out. It must not compute or judge.

mod csv;
mod markdown;

use std::fmt::Write as _;

use anyhow::Result;
use serde::Serialize;

pub(super) use super::format::window_label;
use super::format::{pct, threshold};
use super::plots;
use super::plots::monitor::{DriftPlot, Escalation};
use crate::monitor::Status;
use crate::monitor::checks::Row;
use crate::monitor::findings::{Check, Finding, Severity, Suggestion};
use crate::report::MonitorReport;

/// Every file of the report directory.
pub fn monitor_files(r: &MonitorReport) -> Result<Vec<(&'static str, Vec<u8>)>> {
    Ok(vec![
        ("monitor.md", markdown::markdown(r).into_bytes()),
        ("monitor.json", json(r)?),
        ("monitor.csv", csv::csv(r)?),
        ("escalation.svg", plots::svg(&Escalation(r))?),
        ("escalation.png", plots::png(&Escalation(r))?),
        ("drift.svg", plots::svg(&DriftPlot(r))?),
        ("drift.png", plots::png(&DriftPlot(r))?),
    ])
}

/// The status line, then one line per alert and warning, then the suggestions.
pub fn monitor_text(r: &MonitorReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", status_line(r));
    for f in &r.monitor.findings {
        let _ = writeln!(o, "{}", finding_line(r, f));
    }
    for s in &r.monitor.suggestions {
        let _ = writeln!(o, "next: {}", suggestion_line(r, s));
    }
    o
}

/// `HEALTHY`, `WARN` or `ALERT`, with counts and what was read.
fn status_line(r: &MonitorReport) -> String {
    let m = &r.monitor;
    let count = |s: Severity| m.findings.iter().filter(|f| f.severity == s).count();
    let word = match m.status {
        Status::Healthy => "HEALTHY",
        Status::Warn => "WARN",
        Status::Alert => "ALERT",
    };
    let windows = m
        .rows
        .iter()
        .filter(|x| x.window.is_some() && x.scope == 0)
        .count();
    let skipped = match m.out_of_scope {
        0 => String::new(),
        n => format!(", {n} outside the policy's where left out"),
    };
    let n = |k: usize, one: &str| format!("{k} {one}{}", if k == 1 { "" } else { "s" });
    format!(
        "{word}: {}, {} ({}: {} requests{skipped} in {windows} windows of {}; {} tests, \
         false-discovery rate {})",
        n(count(Severity::Alert), "alert"),
        n(count(Severity::Warn), "warning"),
        r.logs,
        r.records,
        duration(r.settings.window),
        m.tests,
        r.settings.fdr
    )
}

/// `1d`, `6h`, `30m`, `90s`.
fn duration(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Where a row is: `2026-01-06 task_type=chat`.
fn place(r: &MonitorReport, row: &Row) -> String {
    format!(
        "{} {}",
        window_label(row.window, r.settings.window),
        r.monitor.scopes[row.scope]
    )
}

/// One finding, worded.
pub(super) fn finding_line(r: &MonitorReport, f: &Finding) -> String {
    let row = &r.monitor.rows[f.row];
    let sev = match f.severity {
        Severity::Alert => "alert",
        Severity::Warn => "warn ",
    };
    format!("{sev} {} {}", place(r, row), finding_words(r, f, row))
}

fn p(f: &Finding) -> String {
    f.p.map_or(String::new(), |p| format!(", p = {p:.2e}"))
}

fn finding_words(r: &MonitorReport, f: &Finding, row: &Row) -> String {
    let s = &r.settings;
    match f.check {
        Check::Conformance => format!(
            "conformance: {} escalated though the policy keeps them, {} kept though it \
             escalates ({}): a router bug (> for >=, a missing override?)",
            row.mismatches.0,
            row.mismatches.1,
            row.first_mismatch_line.map_or_else(
                || "an aggregate names no lines".to_string(),
                |line| format!("first at line {line}")
            )
        ),
        Check::Ceiling => format!(
            "escalation {} above the ceiling {} (savings eroding)",
            pct(row.escalation_rate),
            pct(s.max_escalation)
        ),
        Check::Escalation => format!(
            "escalation: {} of routed requests against {} predicted, beyond the ±{} margin{}",
            pct(row.routed_escalation.unwrap_or(0.0)),
            pct(row.predicted_escalation),
            pct(s.tolerance),
            p(f)
        ),
        Check::Drift => row.drift.map_or_else(String::new, |d| {
            format!(
                "signal drift: PSI {:.3} (levels {} / {}), KS {:.3}{}, Wasserstein {:.2} sd; \
                 share of signals in [{}, {}] {} against {}",
                d.psi,
                s.psi_warn,
                s.psi_alert,
                d.ks,
                p(f),
                d.wasserstein,
                threshold(d.grew.0),
                threshold(d.grew.1),
                pct(d.grew.2),
                pct(d.grew.3)
            )
        }),
        Check::Quality | Check::Calibration => labelled_words(f, row),
        Check::Estimate => row.estimate.map_or_else(String::new, |e| {
            format!(
                "estimated non-escalated quality {:.4} [{:.4}, {:.4}] (no labels) below the floor \
                 {:.4} by more than the margin{}",
                e.quality,
                e.lo,
                e.hi,
                e.floor.unwrap_or(0.0),
                p(f)
            )
        }),
        Check::Coverage => row.estimate.map_or_else(String::new, |e| {
            format!(
                "the quality estimate rests on {:.0} effective eval records; {} of accepted \
                 requests lie where the eval set is thin",
                e.effective_records,
                pct(e.poorly_covered)
            )
        }),
        Check::Regenerated | Check::ThumbsDown => feedback_words(f, row),
        Check::HourOfDay => r.monitor.hours.map_or_else(String::new, |h| {
            format!(
                "escalation differs by hour of day (UTC): {} at {:02}:00 to {} at {:02}:00 \
                 against {} overall{}",
                pct(h.lowest.1),
                h.lowest.0,
                pct(h.highest.1),
                h.highest.0,
                pct(h.pooled),
                p(f)
            )
        }),
        Check::UnseenSegment => format!(
            "{} requests of segments the calibration never saw (routed by the default threshold)",
            row.unseen
        ),
    }
}

fn labelled_words(f: &Finding, row: &Row) -> String {
    row.labelled.map_or_else(String::new, |l| {
        let against = match (f.check, l.floor) {
            (Check::Quality, Some(t)) => format!("the floor {t:.4}"),
            _ => format!("{:.4} predicted by the calibration", l.predicted),
        };
        format!(
            "labelled non-escalated quality {:.4} [{:.4}, {:.4}] on {} labels below {against} \
             by more than the margin{}",
            l.quality,
            l.lo,
            l.hi,
            l.labels,
            p(f)
        )
    })
}

fn feedback_words(f: &Finding, row: &Row) -> String {
    let (what, (small, large)) = match f.check {
        Check::Regenerated => ("regenerated", row.feedback.regenerated),
        _ => ("thumbs-down", row.feedback.thumbs_down),
    };
    format!(
        "complaints correlate with the small model: {what} {} of small answers against {} of \
         large ones{}",
        pct(small.unwrap_or(0.0)),
        pct(large.unwrap_or(0.0)),
        p(f)
    )
}

/// One suggestion, worded.
pub(super) fn suggestion_line(r: &MonitorReport, s: &Suggestion) -> String {
    match s {
        Suggestion::FixRouter { line: Some(line) } => format!(
            "fix the router: {}:{line} is routed differently from the policy",
            r.logs
        ),
        Suggestion::FixRouter { line: None } => format!(
            "fix the router: requests in {} are routed differently from the policy (see the \
             conformance alerts' windows; an aggregate names no lines)",
            r.logs
        ),
        Suggestion::Raise { row } => {
            let x = &r.monitor.rows[*row];
            x.raise.map_or_else(String::new, |a| {
                format!(
                    "raise the threshold of {} to {} (thresholded scale): labelled non-escalated \
                     quality above it {:.4} [{:.4}, {:.4}] on {:.0} effective labels; it would \
                     escalate {} of this traffic (labels cover only the small model's answers, \
                     so lower thresholds cannot be judged)",
                    r.monitor.scopes[x.scope],
                    threshold(a.threshold),
                    a.quality,
                    a.lo,
                    a.hi,
                    a.labels,
                    pct(a.escalation)
                )
            })
        }
        Suggestion::Resweep { labels } => format!(
            "re-calibrate: label a sample of recent requests with both models and re-run \
             `calibrate sweep` on it (the logs' {labels} labels each cover only the model that \
             answered)"
        ),
        Suggestion::Label {
            row,
            lo,
            hi,
            labels,
        } => format!(
            "label about {labels} requests of {} with signal in [{}, {}] to pin quality to ±{}",
            place(r, &r.monitor.rows[*row]),
            threshold(*lo),
            threshold(*hi),
            pct(r.settings.tolerance)
        ),
    }
}

/// monitor.json: the whole value, findings and suggestions worded too.
fn json(r: &MonitorReport) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Out<'a> {
        schema_version: u32,
        tool: &'static str,
        version: &'static str,
        logs: &'a str,
        against: &'a str,
        signal: &'a str,
        records: u64,
        settings: &'a crate::monitor::MonitorSettings,
        status: Status,
        status_line: String,
        messages: Vec<String>,
        suggestions: Vec<String>,
        windows: Vec<String>,
        #[serde(flatten)]
        monitor: &'a crate::monitor::Monitor,
    }
    let m = &r.monitor;
    let out = Out {
        schema_version: 1,
        tool: "calibrate",
        version: env!("CARGO_PKG_VERSION"),
        logs: &r.logs,
        against: &r.against,
        signal: &r.signal,
        records: r.records,
        settings: &r.settings,
        status: m.status,
        status_line: status_line(r),
        messages: m.findings.iter().map(|f| finding_line(r, f)).collect(),
        suggestions: m
            .suggestions
            .iter()
            .map(|s| suggestion_line(r, s))
            .collect(),
        windows: m
            .rows
            .iter()
            .map(|x| window_label(x.window, r.settings.window))
            .collect(),
        monitor: m,
    };
    let mut bytes = serde_json::to_vec_pretty(&out)?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests;
