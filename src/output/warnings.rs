//! The words of every caution: one wording, shown under "Warnings" in `report.md` and printed
//! to stderr by `sweep` and `recommend` (once each).
//!
//! Words only; every number comes from the [`Warning`]. It must not compute.

use std::fmt::Write;

use super::format::{money, pct, threshold};
use super::text::judged_words;
use crate::engine::ties::TieSplit;
use crate::report::warnings::Warning;
use crate::trust::intervals::MAX_BOOTSTRAP_CELLS;

/// Why a run without an objective deserves a second look.
const NO_OBJECTIVE: &str = "Without `--min-quality` or `--max-quality-loss` (or another \
    objective) the threshold maximises quality × savings, which often escalates little or \
    nothing. Say what quality you need: `--min-quality Q` for the answers the small model \
    ships, `--max-quality-loss L` against always-large.";

/// The lines `sweep` and `recommend` print to stderr: `warning: TITLE BODY`, one per caution.
pub fn warnings_text(warnings: &[Warning]) -> String {
    let mut out = String::new();
    for w in warnings {
        let (title, body) = warning_words(w);
        let _ = writeln!(out, "warning: {title} {}", body.replace('`', ""));
    }
    out
}

/// A caution as (title, explanation).
pub fn warning_words(w: &Warning) -> (String, String) {
    let (title, body) = match w {
        Warning::FewRecords { records } => (
            "Few records.".into(),
            format!(
                "Only {records} records: the chosen threshold is noisy and the quality measured \
                 at it is optimistic (it was picked where it looked best). Several thousand \
                 labelled records make the choice reliable."
            ),
        ),
        Warning::WeakSignal { auroc } => (
            "Weak signal.".into(),
            format!(
                "The confidence barely separates right from wrong answers (AUROC {auroc:.2}; \
                 0.5 is chance). No threshold buys much here: a better confidence signal would."
            ),
        ),
        Warning::HighEscalation { rate } => (
            "High escalation.".into(),
            format!(
                "The recommended threshold escalates {} of requests, above the 40 % at which \
                 the post warns cascade savings erode.",
                pct(*rate)
            ),
        ),
        Warning::PastBreakEven { savings } => break_even_words(*savings),
        Warning::NoThreshold { reason } => (
            "No threshold meets the objective.".into(),
            format!("{reason}."),
        ),
        Warning::Dropped { records, read } => (
            "Invalid records dropped.".into(),
            format!(
                "{records} of {read} records were dropped by `--skip-invalid`; the reasons are \
                 listed under Details and in `summary.json`."
            ),
        ),
        Warning::Ties { ties, records } => ("Tied confidences.".into(), ties_words(ties, *records)),
        Warning::DefaultCosts {
            small,
            large,
            columns,
        } => (
            "Default costs.".into(),
            default_cost_words(*small, *large, columns),
        ),
        Warning::NoObjective => ("No objective.".into(), NO_OBJECTIVE.into()),
        Warning::TieSplit {
            split,
            recommended_cost,
        } => (
            "A tie blocks the next step.".into(),
            split_words(split, *recommended_cost),
        ),
        Warning::HeldOutMiss { judged } => (
            format!("Held-out check {}.", judged.verdict.name()),
            format!(
                "On the held-out records the objective is {}: {}.",
                judged.verdict.name(),
                judged_words(judged)
            ),
        ),
        Warning::LongTable {
            rows,
            limit,
            resamples,
        } => ("Long table.".into(), long_table(*rows, *limit, *resamples)),
    };
    (title, body)
}

/// `46.0 % of the records (136 of 295) share confidence 1; ...`.
/// The break-even warning: exactly at break-even the cascade costs what always-large does (not
/// "-0.0 % more").
fn break_even_words(savings: f64) -> (String, String) {
    if savings == 0.0 {
        return (
            "At break-even.".into(),
            "The recommended cascade costs as much as always-large: the small model is paid on \
             every request and its answers save nothing. Sending everything to the large model \
             costs the same."
                .into(),
        );
    }
    (
        "Past break-even.".into(),
        format!(
            "The recommended cascade costs {} more than always-large: the small model is paid \
             on every request. Sending everything to the large model is cheaper.",
            pct(-savings)
        ),
    )
}

fn ties_words(ties: &[(f64, usize)], records: usize) -> String {
    let parts: Vec<String> = ties
        .iter()
        .map(|(value, count)| {
            format!(
                "{} of the records ({count} of {records}) share the confidence {}",
                pct(*count as f64 / records as f64),
                threshold(*value)
            )
        })
        .collect();
    format!(
        "{}. A threshold accepts or escalates each tie whole, so an objective that needs part \
         of one jumps past it (often to always-large).",
        parts.join("; ")
    )
}

/// Why a long table's bootstrap columns are empty.
fn long_table(rows: usize, limit: usize, resamples: usize) -> String {
    let why = if rows > limit {
        format!("`sweep.csv` has {rows} rows, more than {limit}")
    } else {
        format!(
            "`sweep.csv` has {rows} rows and the bootstrap {resamples} resamples, more than \
             {MAX_BOOTSTRAP_CELLS} rows × resamples"
        )
    };
    format!(
        "{why}: its bootstrap interval columns (cost, and qualities that are not 0/1) are empty; \
         the Wilson columns and the recommended row's intervals are filled. Drop `--exact` (or \
         lower `--bootstrap`) for a grid with every interval."
    )
}

/// What accepting part of the next tie would buy, in expectation.
fn split_words(s: &TieSplit, recommended_cost: f64) -> String {
    format!(
        "The next threshold would accept all {} records at confidence {} at once and miss the \
         objective. Keeping the small answer on a random {} of them (a seeded hash of the \
         request id) meets it in expectation ({:.4}) at {} per request, against {} for the \
         recommendation. A threshold cannot split a tie; `--split-ties` exports that randomised \
         policy (not with `--certify`).",
        s.records,
        threshold(s.value),
        pct(s.fraction),
        s.metric,
        money(s.expected.cost_per_request),
        money(recommended_cost)
    )
}

/// Which model ran at the built-in cost, and the columns that may hold the real one.
fn default_cost_words(small: Option<f64>, large: Option<f64>, columns: &[String]) -> String {
    let priced: Vec<String> = [("small", small), ("large", large)]
        .iter()
        .filter_map(|(m, c)| c.map(|c| format!("the {m} model at {} per request", money(c))))
        .collect();
    let mut out = format!(
        "No cost field, price or cost flag: {} (built-in defaults). Every cost, saving and \
         break-even depends on them; give `--small-cost`/`--large-cost`, `--price`, or map cost \
         fields with `--field small_cost=COLUMN`.",
        priced.join(" and ")
    );
    if !columns.is_empty() {
        let named: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
        let _ = write!(
            out,
            " Columns that look like costs or tokens: {}.",
            named.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_even_is_worded_apart_from_costing_more() {
        // A cascade that costs what always-large does used to read "costs -0.0% more".
        let (title, words) = warning_words(&Warning::PastBreakEven { savings: 0.0 });
        assert_eq!(title, "At break-even.");
        assert!(words.contains("costs as much as always-large"), "{words}");
        let (title, words) = warning_words(&Warning::PastBreakEven { savings: -0.25 });
        assert_eq!(title, "Past break-even.");
        assert!(words.contains("costs 25.0% more"), "{words}");
    }
}
