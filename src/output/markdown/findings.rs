//! What the sweep found around the recommendation: the warnings, the key metrics of the
//! neighbouring thresholds against the two single-model policies, and the task types.
//!
//! Words and tables only; every number comes from the report's
//! [`Findings`](crate::report::findings::Findings). It must not compute.

use std::fmt::Write;

use crate::engine::sweep::Metrics;
use crate::output::format::{cell as escape, money, opt4, pct, row_threshold};
use crate::output::warnings::warning_words;
use crate::report::Report;
use crate::report::findings::Warning;

/// The warnings, one bullet each.
pub(super) fn warnings(r: &Report, o: &mut String) {
    let d = &r.findings;
    if d.warnings.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Warnings\n");
    for w in &d.warnings {
        let (title, body) = warning_words(w);
        let _ = write!(o, "- **{title}** {body}");
        if let (Warning::HighEscalation { .. }, Some(be)) = (w, &d.break_even) {
            let _ = write!(
                o,
                " On this data the cascade stops saving against always-large only at {} \
                 escalation.",
                pct(be.escalation_rate)
            );
        }
        o.push('\n');
    }
    o.push('\n');
}

/// The recommendation and its neighbouring thresholds beside always-small and always-large.
pub(super) fn nearby(r: &Report, o: &mut String) {
    let d = &r.findings;
    let b = &r.baselines;
    if d.nearby.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Key metrics around the recommendation\n");
    let _ = writeln!(
        o,
        "| threshold | escalation | non-escalated quality | cascade quality | cost / request | \
         savings vs always-large |\n|---:|---:|---:|---:|---:|---:|"
    );
    let rec = r.recommendation.as_ref().ok();
    for m in &d.nearby {
        let bold = rec.is_some_and(|x| x.accepted == m.accepted);
        let _ = writeln!(o, "{}", metrics_row(m, bold));
    }
    let _ = writeln!(
        o,
        "| always-small | 0.0% | {} | {} | {} | – |",
        opt4(b.always_small.quality),
        opt4(b.always_small.quality),
        money(b.always_small.cost_per_request),
    );
    let _ = writeln!(
        o,
        "| always-large | 100.0% | – | {} | {} | 0.0% |\n",
        opt4(b.always_large.quality),
        money(b.always_large.cost_per_request),
    );
    let _ = writeln!(
        o,
        "Rows are the recommendation and the thresholds that escalate 5 and 10 points more \
         and less. The full table is [`sweep.csv`](sweep.csv).\n"
    );
}

/// Each task type at the recommended threshold.
pub(super) fn by_task_type(r: &Report, o: &mut String) {
    let (Some(tasks), Ok(m)) = (&r.findings.tasks, &r.recommendation) else {
        return;
    };
    let _ = writeln!(o, "## By task type, at threshold {}\n", row_threshold(m));
    let _ = writeln!(
        o,
        "| task type | records | small quality | escalation | non-escalated quality |\n\
         |---|---:|---:|---:|---:|"
    );
    for t in tasks {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            escape(&t.name),
            t.records,
            opt4(Some(t.small_quality)),
            pct(t.escalation_rate),
            opt4(t.non_escalated_quality)
        );
    }
    o.push('\n');
}

/// One row of the key-metrics table, bold for the recommendation.
fn metrics_row(m: &Metrics, bold: bool) -> String {
    let cell = |s: String| if bold { format!("**{s}**") } else { s };
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        cell(row_threshold(m)),
        cell(pct(m.escalation_rate)),
        cell(opt4(m.non_escalated_quality)),
        cell(opt4(m.cascade_quality)),
        cell(money(m.cost_per_request)),
        cell(m.savings_vs_large.map(pct).unwrap_or_else(|| "n/a".into())),
    )
}
