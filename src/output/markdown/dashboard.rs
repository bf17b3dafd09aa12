//! The cascade health dashboard on the report's first screen: the four views the post
//! ("Starting Cheap and Escalating When Needed") asks of one (the escalation funnel, quality of
//! small against large answers, cost per request by path, the threshold suggestion), read at
//! the recommended threshold.
//!
//! Words and one table; every number comes from the report's findings and their readings. It
//! must not compute.

use std::fmt::Write;

use super::POST;
use crate::engine::sweep::Metrics;
use crate::output::format::{money, opt4, pct, threshold};
use crate::report::Report;
use crate::report::findings::Funnel;

/// The dashboard, when there is a recommendation to read it at.
pub(super) fn dashboard(r: &Report, m: &Metrics, o: &mut String) {
    let Some(f) = &r.findings.funnel else {
        return;
    };
    let _ = writeln!(
        o,
        "## Cascade health at threshold {}\n",
        threshold(m.threshold)
    );
    let _ = writeln!(
        o,
        "The four views {POST} puts on a cascade health dashboard.\n\n| View | Reading |\n|---|---|"
    );
    let _ = writeln!(o, "| Escalation funnel | {} |", funnel(f));
    let _ = writeln!(o, "| Quality, small against large | {} |", quality(r, f, m));
    let _ = writeln!(o, "| Cost per request by path | {} |", cost(r, f, m));
    let _ = writeln!(o, "| Threshold suggestion | {} |\n", suggestion(r, m));
}

/// Where requests go, each share of its own base.
fn funnel(f: &Funnel) -> String {
    let share = |s: Option<f64>| s.map_or_else(|| "n/a".into(), pct);
    let mut funnel = format!(
        "{} requests: {} answered by the small model ({}), {} escalated ({})",
        f.requests,
        f.accepted,
        share(f.accepted_share()),
        f.escalated,
        share(f.escalated_share()),
    );
    if f.overrides > 0 {
        let _ = write!(funnel, ", {} of them by a safeguard", f.overrides);
    }
    let of = |s: Option<f64>, what: &str, base: &str| {
        s.map_or_else(
            || format!("no {base}"),
            |s| format!("{what} {} of the {base}", pct(s)),
        )
    };
    let _ = write!(
        funnel,
        "; {}; {}",
        of(f.shipped_error_rate(), "shipped errors", "shipped answers"),
        of(f.wasted_share(), "wasted escalations", "escalations"),
    );
    funnel
}

/// The quality of the answers each model gives.
fn quality(r: &Report, f: &Funnel, m: &Metrics) -> String {
    let mut quality = format!(
        "small answers shipped {} (always-small {})",
        opt4(m.non_escalated_quality),
        opt4(r.baselines.always_small.quality)
    );
    if let Some(q) = f.large_quality_escalated {
        let _ = write!(
            quality,
            "; large answers to the escalated requests {}",
            opt4(Some(q))
        );
    }
    if let Some(q) = m.cascade_quality {
        let _ = write!(
            quality,
            "; cascade {} (always-large {})",
            opt4(Some(q)),
            opt4(r.baselines.always_large.quality)
        );
    }
    quality
}

/// Cost per request on each path and over all.
fn cost(r: &Report, f: &Funnel, m: &Metrics) -> String {
    let path = |c: Option<f64>| c.map_or_else(|| "no requests".into(), money);
    let mut cost = format!(
        "small only {}; escalated {}",
        path(f.path_cost[0]),
        path(f.path_cost[1])
    );
    if f.overrides > 0 {
        let _ = write!(cost, "; sent by a safeguard {}", path(f.path_cost[2]));
    }
    let _ = write!(
        cost,
        "; all requests {} (always-large {})",
        money(m.cost_per_request),
        money(r.baselines.always_large.cost_per_request)
    );
    cost
}

/// The threshold, this data's break-even and the post's rule of thumb.
fn suggestion(r: &Report, m: &Metrics) -> String {
    let mut suggestion = format!(
        "threshold {} ({}), escalating {}",
        threshold(m.threshold),
        r.settings.objective.describe(),
        pct(m.escalation_rate)
    );
    match &r.findings.break_even {
        Some(be) if be.accepts_none => suggestion.push_str(
            "; on this data the cascade saves against always-large at any escalation short of \
             all requests",
        ),
        Some(be) => {
            let _ = write!(
                suggestion,
                "; on this data the cascade stops saving against always-large at {} escalation \
                 (threshold {})",
                pct(be.escalation_rate),
                threshold(be.threshold)
            );
        }
        None => suggestion.push_str("; on this data the cascade saves at every escalation rate"),
    }
    suggestion.push_str(" (the post's rule of thumb, for reference: savings erode above 30-40 %)");
    suggestion
}
