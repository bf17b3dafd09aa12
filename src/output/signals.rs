//! The `calibrate signals` report: `signals.csv`, `signals.json`, `signals.md`, the overlaid
//! risk–coverage and reliability plots, and the ranking printed to stdout.
//!
//! Formatting only; every number comes from the [`Comparison`].

use std::fmt::Write;

use anyhow::Result;
use serde::Serialize;

use super::format::{money, opt4, pct};
use super::plots::{self, signals::Reliability, signals::RiskCoverage};
use crate::engine::sweep::Metrics;
use crate::report::SignalsReport;
use crate::signals::Calibration;
use crate::signals::compare::{Comparison, LengthBucket, SignalRow};

/// Every file of the signals report directory.
pub fn signals_files(r: &SignalsReport) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let c = &r.comparison;
    Ok(vec![
        ("signals.csv", csv(c)?),
        ("signals.json", json(r)?),
        ("signals.md", markdown(r).into_bytes()),
        ("risk_coverage.svg", plots::svg(&RiskCoverage(c))?),
        ("risk_coverage.png", plots::png(&RiskCoverage(c))?),
        ("signal_reliability.svg", plots::svg(&Reliability(c))?),
        ("signal_reliability.png", plots::png(&Reliability(c))?),
    ])
}

fn num(x: f64) -> String {
    format!("{x}")
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

fn csv(c: &Comparison) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "rank",
        "signal",
        "auroc",
        "aurc",
        "e_aurc",
        "ece_equal_width",
        "ece_equal_mass",
        "mce",
        "brier",
        "target_quality",
        "threshold_at_target",
        "escalation_rate_at_target",
        "cost_per_request_at_target",
        "savings_vs_large_at_target",
        "quality_escalation_area",
        "ece_equal_width_recalibrated",
        "brier_recalibrated",
        "escalation_rate_at_target_recalibrated",
    ])?;
    for (k, row) in c.rows.iter().enumerate() {
        let cal = |f: fn(&Calibration) -> f64| opt(row.calibration.as_ref().map(f));
        let t = row.at_target.as_ref();
        let after_cal = row.after.as_ref().and_then(|(c, _)| c.as_ref());
        let after_m = row.after.as_ref().and_then(|(_, m)| m.as_ref());
        w.write_record([
            (k + 1).to_string(),
            row.name.clone(),
            opt(row.auroc),
            opt(row.aurc),
            opt(row.e_aurc),
            cal(|c| c.ece_width),
            cal(|c| c.ece_mass),
            cal(|c| c.mce),
            cal(|c| c.brier),
            num(c.target),
            opt(t.map(|m| m.threshold)),
            opt(t.map(|m| m.escalation_rate)),
            opt(t.map(|m| m.cost_per_request)),
            opt(t.and_then(|m| m.savings_vs_large)),
            opt(row.quality_escalation_area),
            opt(after_cal.map(|c| c.ece_width)),
            opt(after_cal.map(|c| c.brier)),
            opt(after_m.map(|m| m.escalation_rate)),
        ])?;
    }
    Ok(w.into_inner()?)
}

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

fn json(r: &SignalsReport) -> Result<Vec<u8>> {
    let c = &r.comparison;
    let doc = Json {
        input: &r.path,
        sha256: &r.sha256,
        records: r.records,
        target_quality: c.target,
        target_given: c.target_given,
        recalibrate: r.recalibrate.map(|(m, _)| m),
        columns_not_numeric: &r.skipped,
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
                recalibrated: row.after.as_ref().map(|(c, m)| AfterJson {
                    calibration: c.as_ref(),
                    at_target: m.as_ref(),
                }),
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc)?;
    out.push(b'\n');
    Ok(out)
}

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
    if let Some(best) = c.rows.first().filter(|r| r.at_target.is_some()) {
        let _ = writeln!(o, "deploy: {}", best.name);
    }
    o
}

fn markdown(r: &SignalsReport) -> String {
    let c = &r.comparison;
    let mut o = String::new();
    let name = r.path.rsplit('/').next().unwrap_or(&r.path);
    let _ = writeln!(o, "# Confidence signals compared: `{name}`\n");
    let _ = writeln!(
        o,
        "Input `{}` (sha256 `{}`, {} records). Written by calibrate {}. Each signal is swept on \
         the same records; the ranking is by the cost per request needed to reach {}, then by \
         AUROC.\n",
        r.path,
        &r.sha256[..12.min(r.sha256.len())],
        r.records,
        env!("CARGO_PKG_VERSION"),
        target_words(c)
    );
    match c.rows.first() {
        Some(best) if best.at_target.is_some() => {
            let (esc, cost, saved) = at_target(best);
            let _ = writeln!(
                o,
                "**Deploy `{}`.** At the target it escalates {esc} of requests at {cost} per \
                 request ({saved} saved against always-large).\n",
                best.name
            );
        }
        _ => {
            let _ = writeln!(o, "**No signal reaches the target quality.**\n");
        }
    }
    let _ = writeln!(
        o,
        "| Rank | Signal | AUROC | AURC | E-AURC | ECE (width) | ECE (mass) | MCE | Brier | Escalation at target | Cost/request at target | Savings vs large | Quality-escalation area |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (k, row) in c.rows.iter().enumerate() {
        let (esc, cost, saved) = at_target(row);
        let cal = |f: fn(&Calibration) -> f64| opt4(row.calibration.as_ref().map(f));
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {esc} | {cost} | {saved} | {} |",
            k + 1,
            row.name,
            opt4(row.auroc),
            opt4(row.aurc),
            opt4(row.e_aurc),
            cal(|c| c.ece_width),
            cal(|c| c.ece_mass),
            cal(|c| c.mce),
            cal(|c| c.brier),
            opt4(row.quality_escalation_area),
        );
    }
    let _ = writeln!(
        o,
        "\nAUROC: probability that a right answer scores above a wrong one. AURC: mean error of \
         the answers kept, averaged over every coverage (lower is better); E-AURC subtracts the \
         best possible ordering's AURC (a signal with many ties keeps some excess even when its \
         ranking is right, since thresholds cannot split a tie). ECE: mean gap between signal and observed quality over \
         10 bins (equal-width or equal-mass), weighted by records; MCE: the largest gap; Brier: \
         mean squared error of the signal as a probability (calibration only for signals in \
         [0, 1]). Quality-escalation area: area under cascade quality against escalation rate \
         (needs large-model labels).\n"
    );
    if !r.skipped.is_empty() {
        let _ = writeln!(
            o,
            "Columns that are not known fields were tried as signals; these were left out because \
             they do not hold a number in every record: {}.\n",
            r.skipped
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let formulas: Vec<&SignalRow> = c.rows.iter().filter(|r| r.formula.is_some()).collect();
    if !formulas.is_empty() {
        let _ = writeln!(o, "## How the derived signals are computed\n");
        for row in formulas {
            let _ = writeln!(
                o,
                "- `{}`: {}",
                row.name,
                row.formula.as_deref().unwrap_or_default()
            );
        }
        let _ = writeln!(o);
    }
    if let Some((method, folds)) = r.recalibrate {
        let _ = writeln!(
            o,
            "## Recalibrated ({method}, {folds}-fold cross-fitting)\n"
        );
        let _ = writeln!(
            o,
            "A monotone map fixes calibration without changing the order of the records, so \
             escalation at the target moves little (flat stretches of the map merge candidate \
             thresholds). Escalation after is the deployed map's (fitted on every record); ECE \
             and Brier after are cross-fitted, each record scored by a map fitted on the other \
             folds.\n"
        );
        let _ = writeln!(
            o,
            "| Signal | ECE before | ECE after | Brier before | Brier after | Escalation at target before | after |\n\
             |---|---|---|---|---|---|---|"
        );
        for row in &c.rows {
            let (after_cal, after_m) = match &row.after {
                Some((c, m)) => (*c, *m),
                None => (None, None),
            };
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                row.name,
                opt4(row.calibration.map(|c| c.ece_width)),
                opt4(after_cal.map(|c| c.ece_width)),
                opt4(row.calibration.map(|c| c.brier)),
                opt4(after_cal.map(|c| c.brier)),
                row.at_target
                    .map_or("unreachable".into(), |m| pct(m.escalation_rate)),
                after_m.map_or("unreachable".into(), |m| pct(m.escalation_rate)),
            );
        }
        let _ = writeln!(o);
    }
    let biased: Vec<&SignalRow> = c.rows.iter().filter(|r| r.length_bias.is_some()).collect();
    if !biased.is_empty() {
        let _ = writeln!(o, "## Length bias\n");
        let _ = writeln!(
            o,
            "At each signal's target threshold: the share of answers kept and their quality, by \
             output-length quartile (shortest first). A signal that keeps far fewer long answers \
             than short ones at similar quality is penalising length, not error.\n"
        );
        let _ = writeln!(
            o,
            "| Signal | Q1 kept | Q1 quality | Q2 kept | Q2 quality | Q3 kept | Q3 quality | Q4 kept | Q4 quality |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        for row in biased {
            let cells: Vec<String> = row
                .length_bias
                .iter()
                .flatten()
                .map(|b| format!("{} | {}", pct(b.acceptance_rate), opt4(b.accepted_quality)))
                .collect();
            let _ = writeln!(o, "| `{}` | {} |", row.name, cells.join(" | "));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "## Plots\n\n### Risk-coverage\n\n![Risk-coverage](risk_coverage.png)\n\nLower is \
         better: the error rate of the answers the small model keeps, for each share kept \
         ([SVG](risk_coverage.svg)).\n\n### Reliability\n\n![Reliability](signal_reliability.png)\n\n\
         On the diagonal, a signal means what it says ([SVG](signal_reliability.svg)).\n"
    );
    o
}
