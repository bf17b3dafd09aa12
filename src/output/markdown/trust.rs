//! How far to trust the recommendation: its intervals and the spread of the recommended
//! threshold over bootstrap resamples, the certificate, and the held-out check.
//!
//! Words and tables only; every number comes from the [`Report`]. It must not compute.

use std::fmt::Write;

use crate::engine::objective::Objective;
use crate::engine::sweep::Metrics;
use crate::output::format::{cut, money, opt4, pct, row_threshold};
use crate::output::text::judged_words;
use crate::report::Report;
use crate::trust::intervals::Interval;

/// The recommendation's intervals at the report's level, and how the threshold moved across
/// bootstrap resamples.
pub(super) fn intervals(r: &Report, o: &mut String) {
    let u = &r.uncertainty;
    let Some(ri) = &u.recommended else {
        return;
    };
    let q = |x: f64| format!("{x:.4}");
    let _ = write!(
        o,
        "At {:.0} % confidence: escalation {}, non-escalated quality {}, cascade \
         quality {}, cost per request {}.",
        100.0 * u.settings.level,
        range(Some(ri.escalation_rate), pct),
        range(ri.non_escalated_quality, q),
        range(ri.cascade_quality, q),
        range(ri.cost_per_request, money),
    );
    if let Some(s) = &u.spread
        && let (Some((mode, count)), Some(range)) = (s.mode, s.range)
    {
        let _ = write!(
            o,
            " Across {} bootstrap resamples (seed {}) the recommended threshold \
             ranged from {} to {} (the near-optimal range); {} was chosen in {} \
             of them",
            s.resamples,
            u.settings.seed,
            cut(range.lo),
            cut(range.hi),
            cut(mode),
            count
        );
        if s.none > 0 {
            let _ = write!(o, ", and {} met the objective nowhere", s.none);
        }
        o.push('.');
    }
    o.push_str("\n\n");
}

/// An interval as "lo to hi", each end formatted by `f`, or "n/a".
fn range(x: Option<Interval>, f: impl Fn(f64) -> String) -> String {
    x.map(|x| format!("{} to {}", f(x.lo), f(x.hi)))
        .unwrap_or_else(|| "n/a".into())
}

/// With `--certify`, the guarantee the certificate gives.
pub(super) fn certificate(r: &Report, o: &mut String) {
    if let Some(Ok(c)) = &r.certification {
        let _ = writeln!(
            o,
            "**Certified.** {} The quality measured at a threshold picked as best on the \
             same records is biased upward; this guarantee is not.\n",
            c.guarantee()
        );
    }
}

/// With `--holdout` or `--split-field`: what calibration promised beside what the held-out
/// records delivered, for the threshold and for the per-segment policy.
pub(super) fn held_out(r: &Report, o: &mut String) {
    let Some(h) = &r.holdout else {
        return;
    };
    let _ = writeln!(o, "## Held-out check\n");
    let _ = writeln!(
        o,
        "Chosen on {} calibration records, checked on {} held-out records ({}).{}\n",
        h.calibration_records,
        h.test_records,
        h.description,
        match &h.verdict {
            Some(j) => format!(
                " Objective on the held-out records: **{}** ({}).",
                j.verdict.name(),
                judged_words(j)
            ),
            None => String::new(),
        }
    );
    if let (Some(q), Objective::MaxQualityLoss { .. }) =
        (h.always_large_quality, r.settings.objective)
    {
        let _ = writeln!(o, "Always-large quality on the held-out records: {q:.4}.\n");
    }
    let title = format!("at threshold {}", row_threshold(&h.promised));
    promised_and_held_out(o, &title, &h.promised, &h.held_out);
    if let Some(check) = &h.policy {
        let _ = writeln!(
            o,
            "The per-segment policy on the same split{}\n",
            match check.met {
                Some(true) => ": the held-out records meet the objective.",
                Some(false) => ": **the held-out records do not meet the objective.**",
                None => ".",
            }
        );
        let (promised, held) = (&check.promised, &check.held_out);
        promised_and_held_out(o, "per-segment policy", promised, held);
    }
}

/// The held-out table: what calibration promised beside what the held-out part delivered.
fn promised_and_held_out(o: &mut String, title: &str, promised: &Metrics, held: &Metrics) {
    let _ = writeln!(
        o,
        "| {title} | escalation | non-escalated quality | cascade quality | cost / request \
         |\n|---|---:|---:|---:|---:|"
    );
    for (name, m) in [("calibration (promised)", promised), ("held out", held)] {
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {} | {} |",
            pct(m.escalation_rate),
            opt4(m.non_escalated_quality),
            opt4(m.cascade_quality),
            money(m.cost_per_request)
        );
    }
    o.push('\n');
}
