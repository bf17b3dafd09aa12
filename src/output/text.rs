//! Text for the terminal: the short summary `sweep` prints and the bare threshold `recommend`
//! prints.
//!
//! It must not compute; it rounds numbers for reading, nothing more.

use std::fmt::Write;

use super::format::{money, opt4, pct};
use crate::report::Report;

/// The human summary `calibrate sweep` prints to stdout.
pub fn summary_text(report: &Report) -> String {
    let mut out = String::new();
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
    let b = &report.baselines;
    match &report.recommendation {
        Ok(m) => {
            let _ = writeln!(
                out,
                "recommended threshold {}  ({})",
                m.threshold,
                report.settings.objective.describe()
            );
            let signal = &report.signal;
            if signal.name != "confidence" || signal.recalibration.is_some() {
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
            if let Some(h) = &report.holdout {
                let _ = writeln!(
                    out,
                    "  held out ({} records): escalation {}, non-escalated quality {}{}",
                    h.test_records,
                    pct(h.held_out.escalation_rate),
                    opt4(h.held_out.non_escalated_quality),
                    match h.met {
                        Some(true) => ", objective met",
                        Some(false) => ", objective NOT met",
                        None => "",
                    }
                );
            }
            if let Some(Ok(c)) = &report.certification {
                let _ = writeln!(out, "  certified: {}", c.guarantee());
            }
        }
        Err(why) => {
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
    }
    out
}
