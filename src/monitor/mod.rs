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
    /// Requests outside the policy's `where`, left out of every figure.
    pub out_of_scope: u64,
    /// What to do next.
    pub suggestions: Vec<Suggestion>,
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
    let (findings, tests) = findings::findings(&rows, segments > 0, hidden, s);
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
        out_of_scope: tally.out_of_scope,
        suggestions,
    }
}
