//! `signals.md`: the signals compared, for a reviewer: the verdict, the ranking with what each
//! measure means, the derived signals' formulas, recalibration, length bias and the plots.
//!
//! Words and tables only; every number comes from the [`Comparison`]. It must not compute.

use std::fmt::Write;

use super::{at_target, target_words};
use crate::output::format::{opt4, pct};
use crate::report::SignalsReport;
use crate::signals::Calibration;
use crate::signals::compare::{Comparison, SignalRow};

/// The report, section by section; a section with nothing to say is left out.
pub(super) fn markdown(r: &SignalsReport) -> String {
    let c = &r.comparison;
    let mut o = String::new();
    title(r, &mut o);
    verdict(c, &mut o);
    ranking(c, &mut o);
    skipped(r, &mut o);
    formulas(c, &mut o);
    recalibrated(r, &mut o);
    length_bias(c, &mut o);
    plots(&mut o);
    o
}

/// The title and the line about the input, the tool and how the ranking is made.
fn title(r: &SignalsReport, o: &mut String) {
    let c = &r.comparison;
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
}

/// The signal to deploy, or that none reaches the target.
fn verdict(c: &Comparison, o: &mut String) {
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
}

/// The ranking table and what each measure means.
fn ranking(c: &Comparison, o: &mut String) {
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
}

/// Columns tried as signals and left out, numeric columns not ranked, and named columns that
/// look undeployable.
fn skipped(r: &SignalsReport, o: &mut String) {
    for s in &r.suspects {
        let _ = writeln!(o, "**Warning.** {}.\n", super::suspect_words(s));
    }
    if !r.unranked.is_empty() {
        let names: Vec<String> = r.unranked.iter().map(|s| format!("`{s}`")).collect();
        let _ = writeln!(
            o,
            "Other numeric columns are not ranked, since a router may not know them when it \
             decides (a label, the large model's confidence or tokens): {}. Pass `--signal \
             NAME` to rank one.\n",
            names.join(", ")
        );
    }
    if r.skipped.is_empty() {
        return;
    }
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

/// How each derived signal is computed.
fn formulas(c: &Comparison, o: &mut String) {
    let formulas: Vec<&SignalRow> = c.rows.iter().filter(|r| r.formula.is_some()).collect();
    if formulas.is_empty() {
        return;
    }
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

/// With `--recalibrate`: calibration and escalation before and after, per signal.
fn recalibrated(r: &SignalsReport, o: &mut String) {
    let c = &r.comparison;
    let Some((method, folds)) = r.recalibrate else {
        return;
    };
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
            Some(a) => (a.calibration, a.at_target),
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

/// Share kept and quality by output-length quartile, per signal.
fn length_bias(c: &Comparison, o: &mut String) {
    let biased: Vec<&SignalRow> = c.rows.iter().filter(|r| r.length_bias.is_some()).collect();
    if biased.is_empty() {
        return;
    }
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

/// The two plots with how to read them.
fn plots(o: &mut String) {
    let _ = writeln!(
        o,
        "## Plots\n\n### Risk-coverage\n\n![Risk-coverage](risk_coverage.png)\n\nLower is \
         better: the error rate of the answers the small model keeps, for each share kept \
         ([SVG](risk_coverage.svg)).\n\n### Reliability\n\n![Reliability](signal_reliability.png)\n\n\
         On the diagonal, a signal means what it says ([SVG](signal_reliability.svg)).\n"
    );
}
