//! Which figures alert: every p-valued test of every window × scope goes through one
//! Benjamini–Hochberg procedure at `--fdr`; deterministic facts (a routing mismatch, escalation
//! above `--max-escalation`) alert on their own; PSI levels set the severity of a significant
//! drift. Then what to do next.
//!
//! Owns the alert rules and the suggestions. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::MonitorSettings;
use super::checks::{MIN_REQUESTS, Row};
use super::stats::benjamini_hochberg;
use crate::trust::stats::normal_quantile;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Warn,
    /// Act on it.
    Alert,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The router sent requests elsewhere than the policy.
    Conformance,
    /// Escalation above the absolute ceiling.
    Ceiling,
    /// Escalation moved from the prediction by more than the margin.
    Escalation,
    /// The signal's distribution drifted.
    Drift,
    /// Labelled quality below the target by more than the margin.
    Quality,
    /// Labelled quality below the calibration's prediction (calibration in the large).
    Calibration,
    /// Label-free quality estimate below the target by more than the margin.
    Estimate,
    /// The estimate rests on signal ranges the eval set barely covers.
    Coverage,
    /// Small answers regenerated more often than large ones.
    Regenerated,
    /// Small answers get more thumbs-down than large ones.
    ThumbsDown,
    /// Requests of segments the calibration never saw.
    UnseenSegment,
    /// Escalation differs by hour of day beyond the margin.
    HourOfDay,
}

/// One alert or warning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Warn or alert.
    pub severity: Severity,
    /// The check.
    pub check: Check,
    /// Index of its row in [`super::Monitor::rows`].
    pub row: usize,
    /// The adjusted-for-the-run evidence: the test's own p-value (`None`: not a test).
    pub p: Option<f64>,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Suggestion {
    /// Fix the router: the first mismatching line.
    FixRouter {
        /// The line (`None`: an aggregate, which has no lines).
        line: Option<u64>,
    },
    /// Raise a scope's threshold to where the labelled requests clear the floor.
    Raise {
        /// The whole-run row of the scope.
        row: usize,
    },
    /// Re-run the sweep on the labelled logs.
    Resweep {
        /// Labelled requests available.
        labels: u64,
    },
    /// Label requests of a scope's signal range.
    Label {
        /// The row whose drift or estimate prompted it.
        row: usize,
        /// Signal range (thresholded scale): from.
        lo: f64,
        /// To.
        hi: f64,
        /// Labels that would pin quality to ± the margin at the run's level.
        labels: u64,
    },
}

/// The findings of `rows` and how many tests the false-discovery control covered.
/// `hours`: the whole run's overall row and the hour-of-day p-value.
pub fn findings(
    rows: &[Row],
    (segmented, hidden): (bool, bool),
    hours: Option<(usize, f64)>,
    s: &MonitorSettings,
) -> (Vec<Finding>, usize) {
    let mut out = Vec::new();
    let mut tests: Vec<(usize, Check, f64)> = Vec::new();
    if let Some((row, p)) = hours {
        tests.push((row, Check::HourOfDay, p));
    }
    // Mismatches of a window's segments; the overall row reports only the rest (requests of
    // segments the reference lacks), so each mismatch is reported once, where it happened.
    let mut in_segments: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.scope > 0) {
        let e = in_segments.entry(r.window.unwrap_or(i64::MIN)).or_default();
        e.0 += r.mismatches.0;
        e.1 += r.mismatches.1;
    }
    for (i, r) in rows.iter().enumerate() {
        let Some(window) = r.window else {
            continue;
        };
        let own = (r.scope > 0) == segmented;
        let seg = in_segments.get(&window).copied().unwrap_or_default();
        let mismatches = match r.scope {
            0 => (r.mismatches.0 - seg.0, r.mismatches.1 - seg.1),
            _ => r.mismatches,
        };
        deterministic(i, r, (own, mismatches), hidden, s, &mut out);
        let mut test = |c: Check, p: Option<f64>| {
            if let Some(p) = p {
                tests.push((i, c, p));
            }
        };
        test(
            Check::Escalation,
            r.escalation_shift.map(|d| d.p_beyond_margin),
        );
        test(Check::Drift, r.drift.map(|d| d.ks_p));
        test(Check::Estimate, r.estimate.and_then(|e| e.p_below));
        test(Check::Quality, r.labelled.and_then(|l| l.p_below_target));
        test(Check::Calibration, r.labelled.map(|l| l.p_below_predicted));
        if r.scope == 0 {
            test(Check::Regenerated, r.feedback.p_regenerated);
            test(Check::ThumbsDown, r.feedback.p_thumbs_down);
        }
    }
    let p: Vec<f64> = tests.iter().map(|t| t.2).collect();
    let rejected = benjamini_hochberg(&p, s.fdr);
    for ((row, check, p), reject) in tests.iter().zip(rejected) {
        let severity = match check {
            _ if !reject => None,
            Check::Drift => rows[*row].drift.and_then(|d| {
                (d.psi >= s.psi_alert)
                    .then_some(Severity::Alert)
                    .or((d.psi >= s.psi_warn).then_some(Severity::Warn))
            }),
            Check::Estimate | Check::HourOfDay => Some(Severity::Warn),
            _ => Some(Severity::Alert),
        };
        if let Some(severity) = severity {
            out.push(Finding {
                severity,
                check: *check,
                row: *row,
                p: Some(*p),
            });
        }
    }
    out.sort_by(|a, b| (b.severity, a.check, a.row).cmp(&(a.severity, b.check, b.row)));
    (out, p.len())
}

/// Findings that need no test (`mismatches`: the ones this row reports).
fn deterministic(
    i: usize,
    r: &Row,
    (own, mismatches): (bool, (u64, u64)),
    hidden: bool,
    s: &MonitorSettings,
    out: &mut Vec<Finding>,
) {
    let mut push = |severity, check| {
        out.push(Finding {
            severity,
            check,
            row: i,
            p: None,
        })
    };
    let (escalated, kept) = mismatches;
    if kept > 0 || escalated > 0 && !hidden {
        push(Severity::Alert, Check::Conformance);
    } else if escalated > 0 {
        push(Severity::Warn, Check::Conformance);
    }
    if r.scope == 0 && r.requests >= MIN_REQUESTS && r.escalation_rate > s.max_escalation {
        push(Severity::Alert, Check::Ceiling);
    }
    if r.scope == 0 && r.unseen > 0 {
        push(Severity::Warn, Check::UnseenSegment);
    }
    let thin = |e: &super::checks::Estimate| e.poorly_covered > 0.1 || e.effective_records < 50.0;
    if own && r.estimate.as_ref().is_some_and(thin) {
        push(Severity::Warn, Check::Coverage);
    }
}

/// What to do next, from the findings.
pub fn suggestions(
    rows: &[Row],
    findings: &[Finding],
    target: Option<f64>,
    s: &MonitorSettings,
) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let mismatched: Vec<&Row> = (findings.iter())
        .filter(|f| f.check == Check::Conformance)
        .map(|f| &rows[f.row])
        .collect();
    if !mismatched.is_empty() {
        let line = mismatched
            .iter()
            .filter_map(|r| r.first_mismatch_line)
            .min();
        out.push(Suggestion::FixRouter { line });
    }
    let labels: u64 = (rows.iter())
        .filter(|r| r.window.is_none() && r.scope == 0)
        .filter_map(|r| r.labelled.map(|l| l.labels))
        .sum();
    for (i, r) in rows.iter().enumerate() {
        let alerted = (findings.iter()).any(|f| {
            matches!(f.check, Check::Quality | Check::Calibration) && rows[f.row].scope == r.scope
        });
        if r.window.is_none() && r.raise.is_some() && alerted {
            out.push(Suggestion::Raise { row: i });
        }
    }
    let quality = |c: Check| matches!(c, Check::Quality | Check::Calibration | Check::Ceiling);
    if findings.iter().any(|f| quality(f.check)) && labels >= 200 {
        out.push(Suggestion::Resweep { labels });
    }
    let unlabelled = |f: &&Finding| {
        matches!(f.check, Check::Drift | Check::Estimate | Check::Coverage)
            && rows[f.row].labelled.is_none()
    };
    let worst = (findings.iter().filter(unlabelled)).max_by(|a, b| {
        let psi = |f: &Finding| rows[f.row].drift.map_or(0.0, |d| d.psi);
        psi(a).total_cmp(&psi(b)).then(b.row.cmp(&a.row))
    });
    if let Some(f) = worst
        && let Some(d) = rows[f.row].drift
    {
        let t = target.unwrap_or(0.9);
        let z = normal_quantile(1.0 - (1.0 - s.level) / 2.0);
        out.push(Suggestion::Label {
            row: f.row,
            lo: d.grew.0,
            hi: d.grew.1,
            labels: (z * z * t * (1.0 - t) / (s.tolerance * s.tolerance)).ceil() as u64,
        });
    }
    out
}
