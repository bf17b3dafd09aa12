//! The top of the report: the title, the input line, and the recommendation (or why there is
//! none) with how a router reproduces it.
//!
//! Words only; every number comes from the [`Report`]. It must not compute.

use std::fmt::Write;

use crate::engine::recommend::Infeasible;
use crate::engine::sweep::Metrics;
use crate::output::format::{money, opt4, pct, threshold};
use crate::output::warnings::warning_words;
use crate::report::Report;
use crate::report::warnings::Warning;

/// The title and the line about the input, the objective and the tool.
pub(super) fn title(r: &Report, o: &mut String) {
    let i = &r.input;
    let name = i.path.rsplit('/').next().unwrap_or(&i.path);
    let _ = writeln!(o, "# Cascade threshold report: `{name}`\n");
    let _ = writeln!(
        o,
        "Input `{}` ({}, sha256 `{}`, {} records used of {} read{}). Objective: {}. \
         Written by calibrate {}.\n",
        i.path,
        i.format,
        &i.sha256[..12.min(i.sha256.len())],
        r.records,
        i.rows_read,
        match (i.rows_dropped, &i.filtered) {
            (0, None) => String::new(),
            (d, None) => format!(", {d} invalid dropped"),
            (d, Some(f)) => format!(
                "{}, {} kept by `--where {}`",
                if d > 0 {
                    format!(", {d} invalid dropped")
                } else {
                    String::new()
                },
                f.kept,
                f.conditions.join("` `--where ")
            ),
        },
        r.settings.objective.describe(),
        env!("CARGO_PKG_VERSION"),
    );
    // Costs nobody stated change every number below: say so before them (issue 12).
    for w in &r.findings.warnings {
        if let Warning::DefaultCosts { .. } = w {
            let (title, words) = warning_words(w);
            let _ = writeln!(o, "**{title}** {words}\n");
        }
    }
}

/// The recommended threshold: what it escalates, ships and costs, and how to route with it.
pub(super) fn recommended(r: &Report, m: &Metrics, o: &mut String) {
    let b = &r.baselines;
    let _ = write!(
        o,
        "**Recommendation: {}.** It escalates {} of requests ({} of {}); the \
         answers the small model ships have quality {} (always-small: {})",
        match m.accepts_none {
            true => "always_large".to_string(),
            false => format!("threshold {}", threshold(m.threshold)),
        },
        pct(m.escalation_rate),
        m.escalated,
        r.records,
        opt4(m.non_escalated_quality),
        opt4(b.always_small.quality),
    );
    if let Some(q) = m.cascade_quality {
        let _ = write!(
            o,
            "; the cascade delivers {} overall (always-large: {})",
            opt4(Some(q)),
            opt4(b.always_large.quality)
        );
    }
    let _ = writeln!(
        o,
        ". It costs {} per request: {} always-large ({}) and {} always-small ({}).\n",
        money(m.cost_per_request),
        savings_words(m.savings_vs_large),
        money(b.always_large.cost_per_request),
        savings_words(r.findings.savings_vs_small),
        money(b.always_small.cost_per_request),
    );
    let _ = writeln!(o, "{}\n", routing_words(r, m));
}

/// Why no single threshold qualifies, and the per-segment policy when it meets the objective.
pub(super) fn none(r: &Report, why: &Infeasible, o: &mut String) {
    let _ = writeln!(o, "**No recommendation:** {why}.\n");
    if let Some(p) = &r.deployment.policy {
        let _ = writeln!(
            o,
            "**The per-segment policy meets the objective:** it escalates {} of \
             requests, ships answers of quality {} and costs {} per request (see \
             \"Segments\" and \"Deployable policy\" below).\n",
            pct(p.measured.escalation_rate),
            opt4(p.measured.non_escalated_quality),
            money(p.measured.cost_per_request)
        );
    }
}

/// How a router reproduces the recommended split: the signal, its map, the safeguards.
fn routing_words(r: &Report, m: &Metrics) -> String {
    if m.accepts_none {
        return "Send every request to the large model, without running the small model: no \
                threshold that keeps any small answer meets the objective."
            .into();
    }
    let name = &r.signal.name;
    let policy = r.deployment.policy.as_ref();
    let mut out = match (
        &r.signal.recalibration,
        policy.and_then(|p| p.default_raw_threshold),
    ) {
        (Some(map), Some(raw)) => format!(
            "Route with `{name} >= {}` on the raw signal (or, equivalently, the {} map of \
             `{name}` >= {}, the map exported with the policy)",
            threshold(raw),
            map.method,
            threshold(m.threshold)
        ),
        (Some(map), None) => format!(
            "Route with the {} map of `{name}` >= {} (the map exported with the policy)",
            map.method,
            threshold(m.threshold)
        ),
        (None, _) => format!("Route with `{name} >= {}`", threshold(m.threshold)),
    };
    let guards = policy.is_some_and(|p| !p.always_large.is_empty() || p.escalate_refusals)
        || r.settings.small_timeout_ms.is_some();
    if guards {
        out.push_str(", after the safeguards below send their requests to the large model");
    }
    out.push_str(
        ": with the exact thresholds `summary.json` holds under `policy`, that reproduces this \
         split (the values here are rounded for reading).",
    );
    if policy.is_some_and(|p| !p.segments.is_empty()) {
        out.push_str(
            " This is the best single threshold; the per-segment policy below replaces it.",
        );
    }
    out
}

/// A saving against a reference policy, in words ("20.7% less than").
fn savings_words(s: Option<f64>) -> String {
    match s {
        Some(s) if s >= 0.0 => format!("{} less than", pct(s)),
        Some(s) => format!("{} more than", pct(-s)),
        None => "not comparable (zero cost) with".into(),
    }
}
