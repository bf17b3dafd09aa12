//! The `calibrate signals` report: `signals.csv`, `signals.json`, `signals.md`, the overlaid
//! risk–coverage and reliability plots, and the ranking printed to stdout.
//!
//! Formatting only; every number comes from the [`Comparison`]. One file per format; this one
//! lists the files and prints the ranking.

mod csv;
mod json;
mod markdown;

use std::fmt::Write;

use anyhow::Result;

use super::format::{money, opt4, pct};
use super::plots::{self, signals::Reliability, signals::RiskCoverage};
use crate::report::SignalsReport;
use crate::signals::compare::{Comparison, SignalRow};
use crate::signals::routing::{Reason, Suspect};

/// Every file of the signals report directory.
pub fn signals_files(r: &SignalsReport) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let c = &r.comparison;
    Ok(vec![
        ("signals.csv", csv::csv(c)?),
        ("signals.json", json::json(r)?),
        ("signals.md", markdown::markdown(r).into_bytes()),
        ("risk_coverage.svg", plots::svg(&RiskCoverage(c))?),
        ("risk_coverage.png", plots::png(&RiskCoverage(c))?),
        ("signal_reliability.svg", plots::svg(&Reliability(c))?),
        ("signal_reliability.png", plots::png(&Reliability(c))?),
    ])
}

/// The ranking as printed to stdout.
pub fn signals_text(r: &SignalsReport) -> String {
    let c = &r.comparison;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: {} records; ranked by cost at {}",
        r.path,
        r.records,
        target_words(c)
    );
    let _ = writeln!(
        o,
        "{:<4} {:<20} {:>7} {:>8} {:>8} {:>11} {:>12} {:>9}",
        "rank", "signal", "AUROC", "E-AURC", "ECE", "escalation", "cost/req", "savings"
    );
    for (k, row) in c.rows.iter().enumerate() {
        let (esc, cost, saved) = at_target(row);
        let _ = writeln!(
            o,
            "{:<4} {:<20} {:>7} {:>8} {:>8} {:>11} {:>12} {:>9}",
            k + 1,
            row.name,
            opt4(row.auroc),
            opt4(row.e_aurc),
            opt4(row.calibration.map(|c| c.ece_width)),
            esc,
            cost,
            saved
        );
    }
    if !r.unranked.is_empty() {
        let _ = writeln!(o, "{}", unranked_words(&r.unranked));
    }
    if let Some(best) = c.rows.first().filter(|r| r.at_target.is_some()) {
        let _ = writeln!(o, "deploy: {}", best.name);
    }
    o
}

/// `not ranked: a, b (not known at routing time unless you say so); pass --signal NAME to
/// rank it`.
fn unranked_words(names: &[String]) -> String {
    format!(
        "not ranked: {} (another column may not be known when the router decides); pass --signal NAME to rank it",
        names.join(", ")
    )
}

/// The warnings `calibrate signals` prints to stderr: one per named column that looks like a
/// label or a large-model output.
pub fn signals_warnings(r: &SignalsReport) -> String {
    let mut o = String::new();
    for s in &r.suspects {
        let _ = writeln!(o, "warning: {}", suspect_words(s));
    }
    o
}

/// Why a named signal may not be deployable, in words.
fn suspect_words(s: &Suspect) -> String {
    let why = match s.reason {
        Reason::Name => "its name reads like a label or the large model's output",
        Reason::Separates => "it separates right from wrong answers perfectly, as a label would",
    };
    format!(
        "--signal {}: {why}; a router can use it only if it is known before the large model \
         runs and without the answer's grade",
        s.name
    )
}

/// The target the ranking uses, in words, and where it came from.
fn target_words(c: &Comparison) -> String {
    if c.target_given {
        format!("non-escalated quality {} (--min-quality)", c.target)
    } else {
        format!(
            "non-escalated quality {} (halfway from always-small quality to 1; set it with \
             --min-quality)",
            c.target
        )
    }
}

/// A signal's escalation, cost per request and savings at the target, formatted.
fn at_target(row: &SignalRow) -> (String, String, String) {
    match &row.at_target {
        Some(m) => (
            pct(m.escalation_rate),
            money(m.cost_per_request),
            m.savings_vs_large.map_or("n/a".into(), pct),
        ),
        None => ("unreachable".into(), "n/a".into(), "n/a".into()),
    }
}
