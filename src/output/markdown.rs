//! `report.md`: the dashboard a reviewer reads in a pull request.
//!
//! Words and tables only; every number is taken from the [`Report`] (computed in the core) and
//! rounded for reading. It must not compute.

use std::fmt::Write;

use anyhow::Result;

use super::Exporter;
use super::format::{money, opt4, pct};
use super::plots::Plot;
use crate::engine::economics::{CostSource, OutputTokens};
use crate::engine::sweep::Metrics;
use crate::report::Report;
use crate::report::findings::Warning;

/// The Markdown report.
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        Ok(markdown(report).into_bytes())
    }
}

fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let i = &r.input;
    let d = &r.findings;
    let b = &r.baselines;
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
        if i.rows_dropped > 0 {
            format!(", {} invalid dropped", i.rows_dropped)
        } else {
            String::new()
        },
        r.settings.objective.describe(),
        env!("CARGO_PKG_VERSION"),
    );
    match &r.recommendation {
        Ok(m) => {
            let _ = write!(
                o,
                "**Recommendation: threshold {}.** It escalates {} of requests ({} of {}); the \
                 answers the small model ships have quality {} (always-small: {})",
                m.threshold,
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
                savings_words(d.savings_vs_small),
                money(b.always_small.cost_per_request),
            );
            let _ = writeln!(o, "{}\n", routing_words(r, m));
            let u = &r.uncertainty;
            if let Some(ri) = &u.recommended {
                let range = |x: Option<crate::trust::intervals::Interval>,
                             f: &dyn Fn(f64) -> String| {
                    x.map(|x| format!("{} to {}", f(x.lo), f(x.hi)))
                        .unwrap_or_else(|| "n/a".into())
                };
                let q = |x: f64| format!("{x:.4}");
                let _ = write!(
                    o,
                    "At {:.0} % confidence: escalation {}, non-escalated quality {}, cascade \
                     quality {}, cost per request {}.",
                    100.0 * u.settings.level,
                    range(Some(ri.escalation_rate), &|x| pct(x)),
                    range(ri.non_escalated_quality, &q),
                    range(ri.cascade_quality, &q),
                    range(ri.cost_per_request, &|x| money(x)),
                );
                if let Some(s) = &u.spread
                    && let (Some((mode, count)), Some(range)) = (s.mode, s.range)
                {
                    let _ = write!(
                        o,
                        " Across {} bootstrap resamples (seed {}) the recommended threshold \
                             ranged from {} to {} (the near-optimal range); {} was chosen in {} \
                             of them",
                        s.resamples, u.settings.seed, range.lo, range.hi, mode, count
                    );
                    if s.none > 0 {
                        let _ = write!(o, ", and {} met the objective nowhere", s.none);
                    }
                    o.push('.');
                }
                o.push_str("\n\n");
            }
            if let Some(Ok(c)) = &r.certification {
                let _ = writeln!(
                    o,
                    "**Certified.** {} The quality measured at a threshold picked as best on the \
                     same records is biased upward; this guarantee is not.\n",
                    c.guarantee()
                );
            }
        }
        Err(why) => {
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
    }

    if let Some(h) = &r.holdout {
        let _ = writeln!(o, "## Held-out check\n");
        let _ = writeln!(
            o,
            "Chosen on {} calibration records, checked on {} held-out records ({}).{}\n",
            h.calibration_records,
            h.test_records,
            h.description,
            match h.met {
                Some(true) => " The held-out records meet the objective.",
                Some(false) => " **The held-out records do not meet the objective.**",
                None => "",
            }
        );
        let title = format!("at threshold {}", h.promised.threshold);
        promised_and_held_out(&mut o, &title, &h.promised, &h.held_out);
        if let Some((promised, held, met)) = &h.policy {
            let _ = writeln!(
                o,
                "The per-segment policy on the same split{}\n",
                match met {
                    Some(true) => ": the held-out records meet the objective.",
                    Some(false) => ": **the held-out records do not meet the objective.**",
                    None => ".",
                }
            );
            promised_and_held_out(&mut o, "per-segment policy", promised, held);
        }
    }

    if !d.warnings.is_empty() {
        let _ = writeln!(o, "## Warnings\n");
        for w in &d.warnings {
            let _ = writeln!(o, "- {}", warning(w));
        }
        o.push('\n');
    }

    if !d.nearby.is_empty() {
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

    if let Some(tasks) = &d.tasks
        && let Ok(m) = &r.recommendation
    {
        let _ = writeln!(o, "## By task type, at threshold {}\n", m.threshold);
        let _ = writeln!(
            o,
            "| task type | records | small quality | escalation | non-escalated quality |\n\
             |---|---:|---:|---:|---:|"
        );
        for t in tasks {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                t.name.replace('|', "\\|"),
                t.records,
                opt4(Some(t.small_quality)),
                pct(t.escalation_rate),
                opt4(t.non_escalated_quality)
            );
        }
        o.push('\n');
    }

    super::deploy_md::sections(r, &mut o);
    let _ = writeln!(o, "## Plots\n");
    for plot in Plot::ALL {
        if !plot.applies(r) {
            continue;
        }
        let (heading, caption) = plot_words(plot);
        let _ = writeln!(
            o,
            "### {heading}\n\n![{heading}]({stem}.png)\n\n{caption} ([SVG]({stem}.svg))\n",
            stem = plot.stem()
        );
    }

    let _ = writeln!(o, "## Details\n");
    if let Some(a) = d.auroc {
        let _ = writeln!(
            o,
            "- Confidence AUROC for small-model correctness: {a:.3} (0.5 is chance, 1 is perfect)."
        );
    }
    if let Some(be) = &d.break_even {
        let _ = writeln!(
            o,
            "- Break-even: at threshold {} ({} escalated) the cascade costs as much as \
             always-large or more, because the small model is paid on every request.",
            be.threshold,
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
                be.threshold,
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
            "- Timeout: {} records whose small model took longer than {t} ms escalate whatever \
             their confidence (their small-model cost is still paid).",
            r.settings.timed_out
        );
    }
    let _ = writeln!(
        o,
        "- Candidate thresholds: {} distinct confidences plus \"escalate everything\"; all were \
         searched.",
        r.distinct_confidences
    );
    for (reason, n) in &i.drop_reasons {
        let _ = writeln!(o, "- Dropped {n} records: {reason}.");
    }
    o
}

/// How a router reproduces the recommended split: the signal, its map, the safeguards.
fn routing_words(r: &Report, m: &Metrics) -> String {
    if m.accepts_none {
        return "Send every request to the large model: no threshold that keeps any small answer \
                meets the objective."
            .into();
    }
    let name = &r.signal.name;
    let policy = r.deployment.policy.as_ref();
    let mut out = match (
        &r.signal.recalibration,
        policy.and_then(|p| p.default_raw_threshold),
    ) {
        (Some(map), Some(raw)) => format!(
            "Route with `{name} >= {raw}` on the raw signal (or, equivalently, the {} map of \
             `{name}` >= {}, the map exported with the policy)",
            map.method, m.threshold
        ),
        (Some(map), None) => format!(
            "Route with the {} map of `{name}` >= {} (the map exported with the policy)",
            map.method, m.threshold
        ),
        (None, _) => format!("Route with `{name} >= {}`", m.threshold),
    };
    let guards = policy.is_some_and(|p| !p.always_large.is_empty() || p.escalate_refusals)
        || r.settings.small_timeout_ms.is_some();
    if guards {
        out.push_str(", after the safeguards below send their requests to the large model");
    }
    out.push_str(": that reproduces this split exactly.");
    if policy.is_some_and(|p| !p.segments.is_empty()) {
        out.push_str(
            " This is the best single threshold; the per-segment policy below replaces it.",
        );
    }
    out
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

fn metrics_row(m: &Metrics, bold: bool) -> String {
    let cell = |s: String| if bold { format!("**{s}**") } else { s };
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        cell(format!("{}", m.threshold)),
        cell(pct(m.escalation_rate)),
        cell(opt4(m.non_escalated_quality)),
        cell(opt4(m.cascade_quality)),
        cell(money(m.cost_per_request)),
        cell(m.savings_vs_large.map(pct).unwrap_or_else(|| "n/a".into())),
    )
}

fn savings_words(s: Option<f64>) -> String {
    match s {
        Some(s) if s >= 0.0 => format!("{} less than", pct(s)),
        Some(s) => format!("{} more than", pct(-s)),
        None => "not comparable (zero cost) with".into(),
    }
}

fn cost_words(c: &CostSource) -> String {
    match c {
        CostSource::PerRecord { ignored: None } => "from each record's cost field".into(),
        CostSource::PerRecord { ignored: Some(p) } => {
            format!("from each record's cost field (which overrides the price {p})")
        }
        CostSource::PerRequest(x) => format!("{} per request (flag)", money(*x)),
        CostSource::Tokens { price, output } => format!(
            "tokens at {} ({}){}",
            price.name,
            price.price,
            match output {
                OutputTokens::Recorded => String::new(),
                OutputTokens::EstimatedFromSmall { ratio } =>
                    format!(", its output tokens estimated as the small model's x {ratio}"),
            }
        ),
    }
}

fn warning(w: &Warning) -> String {
    match w {
        Warning::FewRecords { records } => format!(
            "**Few records.** Only {records} records: the chosen threshold is noisy and the \
             quality measured at it is optimistic (it was picked where it looked best). Several \
             thousand labelled records make the choice reliable."
        ),
        Warning::WeakSignal { auroc } => format!(
            "**Weak signal.** The confidence barely separates right from wrong answers (AUROC \
             {auroc:.2}; 0.5 is chance). No threshold buys much here: a better confidence signal \
             would."
        ),
        Warning::HighEscalation { rate } => format!(
            "**High escalation.** The recommended threshold escalates {} of requests, above the \
             40 % at which the post warns cascade savings erode.",
            pct(*rate)
        ),
        Warning::NoThreshold { reason } => {
            format!("**No threshold meets the objective.** {reason}.")
        }
        Warning::Dropped { records } => format!(
            "**Invalid records dropped.** {records} records were dropped by `--skip-invalid`; \
             the reasons are listed under Details and in `summary.json`."
        ),
    }
}

fn plot_words(plot: Plot) -> (&'static str, &'static str) {
    match plot {
        Plot::Tradeoff => (
            "Quality against escalation rate",
            "Each threshold is a point: moving right escalates more. The blue curve is the \
             quality of the answers the small model ships; the orange one is the quality of all \
             answers. The shaded band is the post's rule of thumb: above 30 to 40 % escalation \
             the savings erode.",
        ),
        Plot::Cost => (
            "Cost and savings against threshold",
            "Cost per request of the cascade (the small model is always paid) and its savings \
             against always-large. Where savings reach zero the cascade stops paying for itself.",
        ),
        Plot::Frontier => (
            "Quality against cost",
            "Every threshold as a (cost, quality) point, with the two single-model policies and \
             the oracle that sends each prompt to the cheapest model that gets it right: the gap \
             to the oracle is what a better confidence signal could still buy.",
        ),
        Plot::Confidence => (
            "Confidence of right and wrong answers",
            "Histograms of the small model's confidence, split by whether its answer was right. \
             The more the two overlap, the less any threshold can separate them.",
        ),
        Plot::Reliability => (
            "Reliability diagram",
            "Observed small-model quality per confidence bin (labels: records per bin) against \
             the diagonal of perfect calibration. Above the diagonal the model is under-confident; \
             below, over-confident. A threshold only needs the ranking to be right, not the scale.",
        ),
        Plot::Funnel => (
            "Escalation funnel",
            "Where requests go at the recommended threshold: shipped errors are accepted answers \
             that were wrong; wasted escalations are escalated requests the small model had \
             right; gained and lost compare the large model's answer with the small one's on \
             escalated requests.",
        ),
    }
}
