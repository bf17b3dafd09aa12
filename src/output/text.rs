//! Text for the terminal: the short summary `sweep` prints, and the one-line notes on the
//! held-out check and `--where` that `recommend` and `signals` print to stderr.
//!
//! It must not compute; it rounds numbers for reading, nothing more.

use std::fmt::Write;

use super::format::{money, opt4, pct, row_threshold};
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::Metrics;
use crate::report::{Filtered, Report};
use crate::trust::crossfit::CrossFit;
use crate::trust::holdout::{Judged, Validation};

/// The human summary `calibrate sweep` prints to stdout.
pub fn summary_text(report: &Report) -> String {
    let mut out = String::new();
    input_line(report, &mut out);
    match &report.recommendation {
        Ok(m) => {
            recommended(report, m, &mut out);
            held_out(report, &mut out);
            if let Some(Ok(c)) = &report.certification {
                let _ = writeln!(out, "  certified: {}", c.guarantee());
            }
            if let Some(s) = &report.split_ties {
                let _ = writeln!(out, "  {}", super::ties::split_line(s));
            }
        }
        Err(why) => none(report, why, &mut out),
    }
    certified_segments(report, &mut out);
    cross_fit(report, &mut out);
    out
}

/// With `--segment-by` and `--certify`: the certified per-segment policy, or why none.
fn certified_segments(report: &Report, out: &mut String) {
    match &report.certified_segments {
        Some(Ok(c)) => {
            let _ = writeln!(
                out,
                "certified per-segment policy: non-escalated quality >= {} with probability at \
                 least {} (family of {} built on {} records, tested on {}: p = {:.3e}, {}); on \
                 all records escalation {}, non-escalated quality {}, cost per request {}",
                c.target,
                1.0 - c.delta,
                c.family,
                c.build_records,
                c.test_records,
                c.certificate.p_value,
                c.certificate.method.name(),
                pct(c.on_all.escalation_rate),
                opt4(c.on_all.non_escalated_quality),
                money(c.on_all.cost_per_request)
            );
        }
        Some(Err(why)) => {
            let _ = writeln!(out, "no certified per-segment policy: {why}");
        }
        None => {}
    }
}

/// With `--segment-by`: the single threshold and the per-segment policy cross-fitted, beside
/// their in-sample figures.
fn cross_fit(report: &Report, out: &mut String) {
    for line in report.cross_fit.iter().flat_map(cross_fit_lines) {
        let _ = writeln!(out, "{line}");
    }
}

/// The cross-fitted estimates, a heading line and one line per policy (`recommend` prints them
/// to stderr, `sweep` in its summary).
pub fn cross_fit_lines(c: &CrossFit) -> Vec<String> {
    let mut lines = vec![format!(
        "cross-fitted ({} folds, seed {}): chosen on the other folds, measured on each",
        c.folds, c.seed
    )];
    let certified = c.certified.iter().map(|e| ("certified segs", e));
    let rows = [
        ("single threshold", &c.single),
        ("per-segment", &c.segments),
    ];
    for (name, e) in rows.into_iter().chain(certified) {
        let m = &e.cross_fitted;
        lines.push(format!(
            "  {name:<17} non-escalated quality {} (in sample {}), escalation {}, cost per \
             request {}{}",
            opt4(m.non_escalated_quality),
            opt4(e.in_sample.and_then(|i| i.non_escalated_quality)),
            pct(m.escalation_rate),
            money(m.cost_per_request),
            match e.met {
                Some(true) => ", objective met",
                Some(false) => ", objective NOT met",
                None => "",
            }
        ));
    }
    lines
}

/// The input, its records and distinct confidences.
fn input_line(report: &Report, out: &mut String) {
    let i = &report.input;
    let _ = writeln!(
        out,
        "{}: {} records{}, {} distinct confidences",
        i.path,
        report.records,
        if i.rows_dropped > 0 {
            format!(
                " ({} invalid dropped of {} read)",
                i.rows_dropped, i.rows_read
            )
        } else {
            String::new()
        },
        report.distinct_confidences
    );
}

/// The recommended threshold, its signal and its metrics beside the single-model policies.
fn recommended(report: &Report, m: &Metrics, out: &mut String) {
    let b = &report.baselines;
    let _ = writeln!(
        out,
        "recommended threshold {}  ({})",
        row_threshold(m),
        report.settings.objective.describe()
    );
    signal_line(report, out);
    let _ = writeln!(
        out,
        "  escalation rate        {:>8}  ({} of {} escalated)",
        pct(m.escalation_rate),
        m.escalated,
        report.records
    );
    let _ = writeln!(
        out,
        "  non-escalated quality  {:>8}  (always-small {})",
        opt4(m.non_escalated_quality),
        opt4(b.always_small.quality)
    );
    if m.cascade_quality.is_some() {
        let _ = writeln!(
            out,
            "  cascade quality        {:>8}  (always-large {})",
            opt4(m.cascade_quality),
            opt4(b.always_large.quality)
        );
    }
    let _ = writeln!(
        out,
        "  cost per request       {:>8}  (always-small {}, always-large {})",
        money(m.cost_per_request),
        money(b.always_small.cost_per_request),
        money(b.always_large.cost_per_request)
    );
    let _ = writeln!(
        out,
        "  savings vs always-large {:>7}",
        m.savings_vs_large.map(pct).unwrap_or_else(|| "n/a".into())
    );
}

/// The thresholded signal, when it is not the plain confidence field.
fn signal_line(report: &Report, out: &mut String) {
    let signal = &report.signal;
    if signal.name == "confidence" && signal.recalibration.is_none() {
        return;
    }
    let raw = report
        .deployment
        .policy
        .as_ref()
        .and_then(|p| p.default_raw_threshold);
    let _ = writeln!(
        out,
        "  on signal {}{}",
        signal.name,
        match (&signal.recalibration, raw) {
            (Some(r), Some(raw)) => {
                format!(" recalibrated ({}); on the raw signal: {raw}", r.method)
            }
            (Some(r), None) => format!(" recalibrated ({})", r.method),
            (None, _) => String::new(),
        }
    );
}

/// One line on what `--where` kept: `--where task_type=chat kept 1200 of 5000 records`.
pub fn filtered_line(f: &Filtered) -> String {
    format!(
        "--where {} kept {} of {} records",
        f.conditions.join(" --where "),
        f.kept,
        f.total
    )
}

/// With a hold-out: the threshold on the held-out records.
fn held_out(report: &Report, out: &mut String) {
    if let Some(h) = &report.holdout {
        let _ = writeln!(out, "  {}", held_out_line(h));
    }
}

/// One line on the held-out check: `held out (N records): escalation …, non-escalated
/// quality …, objective met`. `recommend` prints it to stderr.
pub fn held_out_line(h: &Validation) -> String {
    let mut line = format!(
        "held out ({} records): escalation {}, non-escalated quality {}",
        h.test_records,
        pct(h.held_out.escalation_rate),
        opt4(h.held_out.non_escalated_quality),
    );
    if let Some(q) = h.held_out.cascade_quality {
        let _ = write!(
            line,
            ", cascade quality {} (always-large {})",
            opt4(Some(q)),
            opt4(h.always_large_quality)
        );
    }
    if let Some(j) = &h.verdict {
        let _ = write!(
            line,
            ", objective {}: {}",
            j.verdict.name(),
            judged_words(j)
        );
    }
    line
}

/// The interval behind a held-out verdict: `non-escalated quality 0.8505, 95 % Wilson
/// interval 0.7939 to 0.8929, against at least 0.85`.
pub fn judged_words(j: &Judged) -> String {
    let bar = if j.at_most { "at most" } else { "at least" };
    let value = |x: f64| match j.metric {
        "escalation rate" => pct(x),
        "cost per request" => money(x),
        _ => format!("{x:.4}"),
    };
    match j.interval {
        Some((lo, hi)) => format!(
            "{} {}, {:.0} % Wilson interval {} to {}, against {bar} {}",
            j.metric,
            value(j.value),
            100.0 * j.level,
            value(lo),
            value(hi),
            value(j.bar)
        ),
        None => format!(
            "{} {} against {bar} {}",
            j.metric,
            value(j.value),
            value(j.bar)
        ),
    }
}

/// Why no single threshold qualifies, and the per-segment policy when it meets the objective.
fn none(report: &Report, why: &Infeasible, out: &mut String) {
    let _ = writeln!(out, "no recommendation: {why}");
    if let Some(p) = &report.deployment.policy {
        let _ = writeln!(
            out,
            "per-segment policy meets the objective: escalation {}, non-escalated \
             quality {}, cost per request {} (see report.md)",
            pct(p.measured.escalation_rate),
            opt4(p.measured.non_escalated_quality),
            money(p.measured.cost_per_request)
        );
    }
}
