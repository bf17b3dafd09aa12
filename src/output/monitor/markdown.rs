//! `monitor.md`: the status line and the alerts first, then what to do, the funnel, escalation
//! over time against its expected band, drift, quality, cost and feedback. Layout only.

use std::fmt::Write as _;

use super::{finding_line, status_line, suggestion_line, window_label};
use crate::monitor::checks::Row;
use crate::monitor::stats::band_z;
use crate::output::format::{cell, money, pct};
use crate::report::MonitorReport;

/// The whole document.
pub(super) fn markdown(r: &MonitorReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Cascade health: {}\n", cell(&r.logs));
    let _ = writeln!(o, "**{}**\n", status_line(r));
    let _ = writeln!(
        o,
        "Against `{}` (signal `{}`); windows of {} s, UTC.\n",
        cell(&r.against),
        cell(&r.signal),
        r.settings.window
    );
    alerts(&mut o, r);
    funnel(&mut o, r);
    escalation(&mut o, r);
    drift(&mut o, r);
    quality(&mut o, r);
    cost(&mut o, r);
    feedback(&mut o, r);
    method(&mut o, r);
    o
}

fn alerts(o: &mut String, r: &MonitorReport) {
    let _ = writeln!(o, "## Alerts and warnings\n");
    if r.monitor.findings.is_empty() {
        let _ = writeln!(o, "None.\n");
    }
    for f in &r.monitor.findings {
        let _ = writeln!(o, "- {}", cell(&finding_line(r, f)));
    }
    for s in &r.monitor.suggestions {
        let _ = writeln!(o, "- **Next:** {}", cell(&suggestion_line(r, s)));
    }
    let _ = writeln!(o);
}

/// Rows of the whole run, by scope.
fn whole(r: &MonitorReport) -> impl Iterator<Item = &Row> {
    r.monitor.rows.iter().filter(|x| x.window.is_none())
}

/// Rows of windows (scope 0 only with `overall`).
fn windows(r: &MonitorReport, overall: bool) -> impl Iterator<Item = &Row> {
    (r.monitor.rows.iter()).filter(move |x| x.window.is_some() && (!overall || x.scope == 0))
}

fn place(r: &MonitorReport, row: &Row) -> String {
    format!(
        "{} | {}",
        window_label(row.window, r.settings.window),
        cell(&r.monitor.scopes[row.scope])
    )
}

fn funnel(o: &mut String, r: &MonitorReport) {
    let _ = writeln!(o, "## Funnel (whole run)\n");
    let _ = writeln!(
        o,
        "| scope | requests | overridden | routed | escalated by threshold | kept small | against policy |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
    for row in whole(r) {
        let esc = row.routed_escalation.unwrap_or(0.0);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.monitor.scopes[row.scope]),
            row.requests,
            pct(row.override_rate),
            row.routed,
            pct(esc),
            pct(1.0 - esc),
            row.mismatches.0 + row.mismatches.1
        );
    }
    let _ = writeln!(o);
}

fn escalation(o: &mut String, r: &MonitorReport) {
    let z = band_z(r.settings.level);
    let _ = writeln!(o, "## Escalation over time\n");
    let _ = writeln!(o, "![escalation](escalation.svg)\n");
    let _ = writeln!(
        o,
        "Expected band: the prediction ± {z:.2} standard errors (traffic and eval set); moves \
         within ±{} never alert.\n",
        pct(r.settings.tolerance)
    );
    let _ = writeln!(
        o,
        "| window | scope | requests | escalated (all) | by threshold | predicted | band |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---|");
    for row in windows(r, false) {
        let band = (row.escalation_band).map_or("untested".into(), |(lo, hi)| {
            format!("{} – {}", pct(lo), pct(hi))
        });
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {band} |",
            place(r, row),
            row.requests,
            pct(row.escalation_rate),
            row.routed_escalation.map_or("n/a".into(), pct),
            pct(row.predicted_escalation)
        );
    }
    let _ = writeln!(o, "\nBy hour of day (UTC, whole run):\n");
    let _ = writeln!(o, "| hour | requests | escalated |");
    let _ = writeln!(o, "|---:|---:|---:|");
    for (h, (n, e)) in r.monitor.by_hour.iter().enumerate() {
        if *n > 0 {
            let _ = writeln!(o, "| {h:02} | {n} | {} |", pct(*e as f64 / *n as f64));
        }
    }
    if let Some(h) = r.monitor.hours {
        let _ = writeln!(
            o,
            "\nHours of 30 requests or more: lowest {1} at {2:02}:00, highest {3} at {4:02}:00, \
             overall {5}; the hour furthest from overall, tested against the ±{6} margin \
             (Bonferroni over the hours): p = {0:.2e}.",
            h.p,
            pct(h.lowest.1),
            h.lowest.0,
            pct(h.highest.1),
            h.highest.0,
            pct(h.pooled),
            pct(r.settings.tolerance)
        );
    }
    let _ = writeln!(o);
}

fn drift(o: &mut String, r: &MonitorReport) {
    let _ = writeln!(o, "## Signal drift\n");
    let _ = writeln!(o, "![drift](drift.svg)\n");
    let _ = writeln!(
        o,
        "PSI over the reference deciles (empty bins count as 1e-4; warn {}, alert {}), binned KS \
         and Wasserstein-1 in reference standard deviations.\n",
        r.settings.psi_warn, r.settings.psi_alert
    );
    let _ = writeln!(
        o,
        "| window | scope | PSI | KS | KS p | Wasserstein | outside range |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|");
    for row in r.monitor.rows.iter() {
        if let Some(d) = row.drift {
            let _ = writeln!(
                o,
                "| {} | {:.3} | {:.3} | {:.2e} | {:.3} | {} |",
                place(r, row),
                d.psi,
                d.ks,
                d.ks_p,
                d.wasserstein,
                pct(d.outside)
            );
        }
    }
    let _ = writeln!(o);
}

fn quality(o: &mut String, r: &MonitorReport) {
    let target = r.reference.target.map_or("none".into(), |t| t.to_string());
    let _ = writeln!(o, "## Quality of non-escalated answers (target {target})\n");
    let _ = writeln!(
        o,
        "| window | scope | estimated (no labels) | effective eval records | thin coverage | labels | labelled | predicted for them |"
    );
    let _ = writeln!(o, "|---|---|---|---:|---:|---:|---|---:|");
    for row in r.monitor.rows.iter() {
        let (e, l) = (row.estimate, row.labelled);
        if e.is_none() && l.is_none() {
            continue;
        }
        let est = e.map_or("n/a".into(), |e| {
            format!("{:.4} [{:.4}, {:.4}]", e.quality, e.lo, e.hi)
        });
        let lab = l.map_or("n/a".into(), |l| {
            format!("{:.4} [{:.4}, {:.4}]", l.quality, l.lo, l.hi)
        });
        let _ = writeln!(
            o,
            "| {} | {est} | {} | {} | {} | {lab} | {} |",
            place(r, row),
            e.map_or("n/a".into(), |e| format!("{:.0}", e.effective_records)),
            e.map_or("n/a".into(), |e| pct(e.poorly_covered)),
            l.map_or(0, |l| l.labels),
            l.map_or("n/a".into(), |l| format!("{:.4}", l.predicted)),
        );
    }
    let _ = writeln!(o);
}

fn cost(o: &mut String, r: &MonitorReport) {
    let _ = writeln!(o, "## Cost per request\n");
    let rows: Vec<&Row> = windows(r, true)
        .chain(whole(r).filter(|x| x.scope == 0))
        .collect();
    if rows.iter().all(|x| x.cost.is_none()) {
        let _ = writeln!(
            o,
            "The logs carry no cost or small_cost/large_cost fields.\n"
        );
        return;
    }
    let _ = writeln!(
        o,
        "| window | scope | per request | small only | escalated | overridden | wasted small | savings vs always-large | vs baseline |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let m = |x: Option<f64>| x.map_or("n/a".into(), money);
    for row in &rows {
        if let Some(c) = row.cost {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                place(r, row),
                money(c.per_request),
                m(c.by_path[0]),
                m(c.by_path[1]),
                m(c.by_path[2]),
                money(c.wasted_small),
                pct(c.savings_vs_large),
                c.savings_vs_baseline.map_or("n/a".into(), pct)
            );
        }
    }
    let _ = writeln!(o);
    latency(o, r, &rows);
}

/// Mean latency by path, when the logs carry `latency_ms`.
fn latency(o: &mut String, r: &MonitorReport, rows: &[&Row]) {
    if rows
        .iter()
        .all(|x| x.latency_ms.iter().all(Option::is_none))
    {
        return;
    }
    let _ = writeln!(o, "Mean latency (ms) by path:\n");
    let _ = writeln!(
        o,
        "| window | scope | small only | escalated | overridden |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|");
    let ms = |x: Option<f64>| x.map_or("n/a".into(), |x| format!("{x:.0}"));
    for row in rows {
        let l = row.latency_ms;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            place(r, row),
            ms(l[0]),
            ms(l[1]),
            ms(l[2])
        );
    }
    let _ = writeln!(o);
}

fn feedback(o: &mut String, r: &MonitorReport) {
    let _ = writeln!(o, "## Feedback by model\n");
    let _ = writeln!(
        o,
        "| window | scope | regenerated (small) | regenerated (large) | thumbs-down (small) | thumbs-down (large) |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|");
    let p = |x: Option<f64>| x.map_or("n/a".into(), pct);
    for row in windows(r, true).chain(whole(r).filter(|x| x.scope == 0)) {
        let f = row.feedback;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            place(r, row),
            p(f.regenerated.0),
            p(f.regenerated.1),
            p(f.thumbs_down.0),
            p(f.thumbs_down.1)
        );
    }
    let _ = writeln!(o);
}

fn method(o: &mut String, r: &MonitorReport) {
    let _ = writeln!(
        o,
        "## Method\n\nEvery p-valued test of every window × scope (escalation beyond the margin, \
         KS drift, quality below the target or the prediction, feedback by model) goes through \
         one Benjamini–Hochberg procedure at false-discovery rate {} ({} tests this run); a \
         significant drift warns or alerts by its PSI level. A routing mismatch and escalation \
         above {} alert on their own. Cells with fewer than 100 routed requests (30 labels) \
         are shown, not tested.",
        r.settings.fdr,
        r.monitor.tests,
        pct(r.settings.max_escalation)
    );
}
