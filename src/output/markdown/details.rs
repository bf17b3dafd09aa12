//! The "Details" section: how well the signal ranks, the economics (break-even, where costs
//! came from, the baseline, wasted spend), latency and timeouts, and what was searched and
//! dropped.
//!
//! Words only; every number comes from the [`Report`]. It must not compute.

use std::fmt::Write;

use crate::engine::economics::{CostSource, OutputTokens};
use crate::output::format::{cell, money, pct, threshold};
use crate::report::Report;

/// The section, one bullet per fact.
pub(super) fn details(r: &Report, o: &mut String) {
    let _ = writeln!(o, "## Details\n");
    if let Some(a) = r.findings.auroc {
        let _ = writeln!(
            o,
            "- Confidence AUROC for small-model correctness: {a:.3} (0.5 is chance, 1 is perfect)."
        );
    }
    economics(r, o);
    latency(r, o);
    searched(r, o);
}

/// Break-even, where each model's cost came from, the baseline and wasted spend.
fn economics(r: &Report, o: &mut String) {
    let d = &r.findings;
    if let Some(be) = &d.break_even {
        let _ = writeln!(
            o,
            "- Break-even: at threshold {} ({} escalated) the cascade costs as much as \
             always-large or more, because the small model is paid on every request.",
            threshold(be.threshold),
            pct(be.escalation_rate)
        );
    }
    let _ = writeln!(
        o,
        "- Costs: small model {}, large model {}.",
        cost_words(&r.settings.small_cost),
        cost_words(&r.settings.large_cost)
    );
    if let Some(b) = &r.settings.baseline {
        let _ = writeln!(
            o,
            "- Baseline: {} ({} per request){}.",
            b.description,
            money(b.cost_per_request),
            match (&r.recommendation, &d.break_even_vs_baseline) {
                (Ok(m), _) => format!(
                    "; the recommendation saves {} against it",
                    m.savings_vs_baseline
                        .map(pct)
                        .unwrap_or_else(|| "n/a".into())
                ),
                _ => String::new(),
            }
        );
        if let Some(be) = &d.break_even_vs_baseline {
            let _ = writeln!(
                o,
                "- Break-even against the baseline: threshold {} ({} escalated).",
                threshold(be.threshold),
                pct(be.escalation_rate)
            );
        }
    }
    if let Ok(m) = &r.recommendation {
        let _ = writeln!(
            o,
            "- Wasted spend: at the recommendation, the small model's cost on requests that \
             escalated anyway is {} per request.",
            money(m.wasted_small_cost_per_request)
        );
    }
}

/// Latency at the recommendation, and what the small model's timeout does.
fn latency(r: &Report, o: &mut String) {
    if let Some(l) = &r.recommended_latency {
        let _ = writeln!(
            o,
            "- Latency at the recommendation (escalated requests wait for both models): mean \
             {:.0} ms, p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms.",
            l.mean, l.p50, l.p95, l.p99
        );
    }
    if let Some(t) = r.settings.small_timeout_ms {
        let _ = writeln!(
            o,
            "- Timeout: {} records whose small model took longer than {} ms escalate whatever \
             their confidence (their small-model cost is still paid).",
            r.settings.timed_out,
            threshold(t)
        );
    }
}

/// The candidate thresholds searched and the records dropped, by reason.
fn searched(r: &Report, o: &mut String) {
    let _ = writeln!(
        o,
        "- Candidate thresholds: {} distinct confidences plus \"escalate everything\"; all were \
         searched.",
        r.distinct_confidences
    );
    for (reason, n) in &r.input.drop_reasons {
        let _ = writeln!(o, "- Dropped {n} records: {}.", cell(reason));
    }
}

/// Where a model's cost came from, in words.
fn cost_words(c: &CostSource) -> String {
    match c {
        CostSource::PerRecord { ignored: None } => "from each record's cost field".into(),
        CostSource::PerRecord { ignored: Some(p) } => {
            format!("from each record's cost field (which overrides the price {p})")
        }
        CostSource::PerRequest(x) => format!("{} per request (flag)", money(*x)),
        CostSource::Default(x) => format!("{} per request (the built-in default)", money(*x)),
        CostSource::Tokens {
            price,
            output,
            input_priced,
        } => format!(
            "tokens at {} ({}){}{}",
            price.name,
            price.price,
            match output {
                OutputTokens::Recorded => String::new(),
                OutputTokens::EstimatedFromSmall { ratio } =>
                    format!(", its output tokens estimated as the small model's x {ratio}"),
            },
            match input_priced {
                true => "",
                false => ", output tokens only (the records carry no input_tokens)",
            }
        ),
    }
}
