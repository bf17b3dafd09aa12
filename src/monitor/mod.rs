//! Production logs against the calibration reference: `calibrate monitor`'s pure checks.
//!
//! Owns routing logged requests by the policy ([`route`]), aggregating them per window ×
//! scope ([`tally`]), the figures of each cell ([`checks`]), the statistics behind them
//! ([`stats`]) and which ones alert ([`findings`]). It must not read logs (`input` hands
//! records over one at a time), print or format.

pub mod checks;
pub mod findings;
pub mod route;
pub mod stats;
pub mod tally;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::input::Reference;
use checks::{Row, row};
use findings::{Finding, Severity, Suggestion};
use tally::Tally;

/// What the checks need besides the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MonitorSettings {
    /// Window length, seconds.
    pub window: i64,
    /// Equivalence margin of rates and qualities (absolute, e.g. 0.02 = 2 points).
    pub tolerance: f64,
    /// Escalation share above which a window alerts whatever the prediction.
    pub max_escalation: f64,
    /// False-discovery rate of the run's tests (Benjamini–Hochberg).
    pub fdr: f64,
    /// PSI at which a significant drift warns.
    pub psi_warn: f64,
    /// PSI at which a significant drift alerts.
    pub psi_alert: f64,
    /// Confidence level of the intervals.
    pub level: f64,
}

/// The verdict of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing to report.
    Healthy,
    /// Warnings only.
    Warn,
    /// At least one alert.
    Alert,
}

/// Everything `monitor` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monitor {
    /// The verdict.
    pub status: Status,
    /// Scope names: `all`, then each reference segment (`column=value,...`).
    pub scopes: Vec<String>,
    /// One row per window × scope (windows ascending, scopes in order), then the whole run.
    pub rows: Vec<Row>,
    /// Alerts first, then warnings.
    pub findings: Vec<Finding>,
    /// Tests under the false-discovery control.
    pub tests: usize,
    /// Per UTC hour of day: (requests, escalated).
    pub by_hour: Vec<(u64, u64)>,
    /// Whether escalation differs by hour of day (hours of 30 requests or more).
    pub hours: Option<HourTest>,
    /// Requests outside the policy's `where`, left out of every figure.
    pub out_of_scope: u64,
    /// What to do next.
    pub suggestions: Vec<Suggestion>,
}

/// Escalation by UTC hour of day: the hour furthest from the pooled rate, tested against the
/// margin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HourTest {
    /// P-value that the furthest hour stays within the margin of the pooled rate (the
    /// two-sample margin test of the escalation check), times the hours tested (Bonferroni).
    pub p: f64,
    /// The hour escalating least and its rate.
    pub lowest: (usize, f64),
    /// The hour escalating most and its rate.
    pub highest: (usize, f64),
    /// The pooled rate.
    pub pooled: f64,
}

/// The hour-of-day test over hours with at least [`checks::MIN_LABELS`] requests (two or more).
fn hours(by_hour: &[(u64, u64)], tolerance: f64) -> Option<HourTest> {
    let hours: Vec<(usize, u64, u64)> = (by_hour.iter().enumerate())
        .filter(|(_, (n, _))| *n >= checks::MIN_LABELS)
        .map(|(h, (n, e))| (h, *e, *n))
        .collect();
    if hours.len() < 2 {
        return None;
    }
    let groups: Vec<(u64, u64)> = hours.iter().map(|(_, e, n)| (*e, *n)).collect();
    let rate = |(h, e, n): &(usize, u64, u64)| (*h, *e as f64 / *n as f64);
    // Ties go to the earliest hour, both ways.
    let low = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
    let high = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0));
    let (x, n) = groups.iter().fold((0, 0), |a, g| (a.0 + g.0, a.1 + g.1));
    let pooled = x as f64 / n as f64;
    let lowest = hours.iter().map(rate).min_by(low)?;
    let highest = hours.iter().map(rate).max_by(high)?;
    let far = if highest.1 - pooled >= pooled - lowest.1 {
        highest
    } else {
        lowest
    };
    let n_far = hours.iter().find(|h| h.0 == far.0)?.2 as f64;
    let var = pooled * (1.0 - pooled) / n as f64;
    let test = stats::beyond_margin(far.1, n_far, pooled, var, tolerance);
    Some(HourTest {
        p: (test.p_beyond_margin * hours.len() as f64).min(1.0),
        lowest,
        highest,
        pooled,
    })
}

/// The checks of a finished tally.
pub fn monitor(tally: &Tally, reference: &Reference, hidden: bool, s: &MonitorSettings) -> Monitor {
    let segments = reference.segments.len();
    let mut rows = Vec::new();
    let mut whole: Vec<Option<tally::Cell>> = vec![None; segments + 1];
    for w in tally.windows() {
        let mix: Vec<u64> = (1..=segments)
            .map(|k| tally.cells.get(&(w, k)).map_or(0, |c| c.routed))
            .collect();
        for (scope, sum) in whole.iter_mut().enumerate() {
            if let Some(cell) = tally.cells.get(&(w, scope)) {
                rows.push(row(Some(w), scope, cell, reference, &mix, s));
                match sum {
                    Some(c) => c.merge(cell),
                    slot => *slot = Some(cell.clone()),
                }
            }
        }
    }
    let mix: Vec<u64> = (1..=segments)
        .map(|k| whole[k].as_ref().map_or(0, |c| c.routed))
        .collect();
    for (scope, cell) in whole.iter().enumerate() {
        if let Some(cell) = cell {
            rows.push(row(None, scope, cell, reference, &mix, s));
        }
    }
    let hours = hours(&tally.by_hour, s.tolerance);
    let overall = rows.iter().position(|r| r.window.is_none() && r.scope == 0);
    let hour_test = overall.zip(hours).map(|(row, h)| (row, h.p));
    let (findings, tests) = findings::findings(&rows, (segments > 0, hidden), hour_test, s);
    let suggestions = findings::suggestions(&rows, &findings, reference.target, s);
    let status = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Alert) => Status::Alert,
        Some(Severity::Warn) => Status::Warn,
        None => Status::Healthy,
    };
    let mut scopes = vec!["all".to_string()];
    for seg in &reference.segments {
        let parts: Vec<String> = seg
            .matches
            .iter()
            .map(|(c, v)| format!("{c}={v}"))
            .collect();
        scopes.push(parts.join(","));
    }
    Monitor {
        status,
        scopes,
        rows,
        findings,
        tests,
        by_hour: tally.by_hour.to_vec(),
        hours,
        out_of_scope: tally.out_of_scope,
        suggestions,
    }
}
