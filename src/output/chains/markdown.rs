//! `report.md` of a chain report.

use std::fmt::Write;

use crate::output::format::{cell, money, opt4, pct, stage_threshold};
use crate::report::chains::{ChainReport, ChainRow};

/// The whole Markdown report.
pub fn report_md(r: &ChainReport) -> String {
    let mut out = String::new();
    header(&mut out, r);
    recommendation(&mut out, r);
    models(&mut out, r);
    chains(&mut out, r);
    metrics_notes(&mut out, r);
    search_notes(&mut out, r);
    out
}

fn header(out: &mut String, r: &ChainReport) {
    let i = &r.input;
    let _ = writeln!(out, "# Which models to cascade\n");
    let _ = writeln!(
        out,
        "Input `{}` ({}, {} form): {} records read, {} dropped, {} prompts answered by every \
         model; sha256 `{}`.\n",
        cell(&i.path),
        i.format,
        i.form,
        i.records_read,
        i.records_dropped,
        i.prompts,
        i.sha256
    );
    for (reason, n) in &i.drop_reasons {
        let _ = writeln!(out, "- dropped: {} ({n})", cell(reason));
    }
    if let Some(note) = &r.note {
        let _ = writeln!(out, "{note}\n");
    }
    let _ = writeln!(
        out,
        "Objective: {}. Stages ordered {}; every ordered subsequence of the {} models is a \
         chain ({} chains). A stage answers, and the chain stops, iff its confidence is at \
         least its threshold; the last stage always answers; every stage that runs is paid and \
         latencies add up. Chosen on {} prompts.\n",
        r.goal,
        r.order,
        r.models.len(),
        r.chains.len(),
        r.prompts
    );
}

fn recommendation(out: &mut String, r: &ChainReport) {
    let _ = writeln!(out, "## Recommendation\n");
    let Some((pick, row)) = r.picked() else {
        let _ = writeln!(out, "No chain meets the objective.\n");
        return;
    };
    let Some((_, e)) = &row.best else { return };
    let _ = writeln!(out, "Deploy **{}**:\n", cell(&row.label));
    let _ = writeln!(
        out,
        "| stage | model | answers if confidence >= | reached | answered | quality of its \
         answers | its spend on prompts it passed on (per request) |\n|---|---|---|---|---|---|---|"
    );
    for (s, ((model, t), f)) in pick.stages.iter().zip(&e.stages).enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} ({}) | {} ({}) | {} | {} |",
            s + 1,
            cell(model),
            t.map_or("always answers".into(), stage_threshold),
            f.reached,
            pct(f.reached as f64 / e.n as f64),
            f.answered,
            pct(f.answered as f64 / e.n as f64),
            opt4(f.quality),
            money(f.passed_on_cost)
        );
    }
    let dearest = r.models.iter().map(|m| m.cost).fold(0.0, f64::max);
    let best = r
        .models
        .iter()
        .max_by(|a, b| a.quality.total_cmp(&b.quality))
        .map(|m| (m.name.as_str(), m.quality, m.cost));
    let _ = writeln!(
        out,
        "\nCost per request {} ({} below the dearest model alone, {}), quality {:.4}{}.",
        money(e.cost),
        pct(1.0 - e.cost / dearest),
        money(dearest),
        e.quality,
        e.latency_ms
            .map(|l| format!(", mean latency {l:.1} ms"))
            .unwrap_or_default()
    );
    if let Some((name, q, c)) = best {
        let _ = writeln!(
            out,
            "The best single model, {}, has quality {q:.4} at {}.",
            cell(name),
            money(c)
        );
    }
    let passed: f64 = e.stages.iter().map(|s| s.passed_on_cost).sum();
    let _ = writeln!(
        out,
        "The structural cost of answering cheap-first: {} per request goes to stages that pass \
         the prompt on ({} of the chain's cost).",
        money(passed),
        pct(passed / e.cost.max(f64::MIN_POSITIVE))
    );
    let oracle = match r.oracle {
        Some(o) => format!("{:.4} at {}", o.quality, money(o.cost)),
        None => "n/a (the aggregate's oracle sums are over other models)".into(),
    };
    let _ = writeln!(
        out,
        "Random routing among the chain's models at the same cost reaches quality {}; the \
         oracle (each prompt to the cheapest model that gets it right, no cascading cost) \
         {oracle}.\n",
        opt4(row.random_quality),
    );
    trust(out, r);
    let _ = writeln!(
        out,
        "![chain frontier](chain_frontier.svg)\n\n![stage funnel](chain_funnel.svg)\n"
    );
}

fn trust(out: &mut String, r: &ChainReport) {
    if let Some(h) = &r.holdout {
        let _ = writeln!(
            out,
            "Held out ({}): chosen on {} prompts, checked on {}: cost {}, quality {:.4}{}, {} \
             the objective.\n",
            h.description,
            h.calibration,
            h.test,
            money(h.held_out.cost),
            h.held_out.quality,
            h.bar
                .map(|b| format!(" (the bar there: {b:.4})"))
                .unwrap_or_default(),
            if h.met { "meets" } else { "**misses**" }
        );
    }
    if let Some(i) = &r.intervals {
        let show = |x: &Option<crate::trust::intervals::Interval>, cost: bool| {
            x.as_ref().map_or("n/a".into(), |i| {
                if cost {
                    format!("[{}, {}]", money(i.lo), money(i.hi))
                } else {
                    format!("[{:.4}, {:.4}]", i.lo, i.hi)
                }
            })
        };
        let _ = writeln!(
            out,
            "Bootstrap ({} resamples of the prompts, thresholds fixed), {} intervals: cost per \
             request {}, quality {}.\n",
            i.resamples,
            pct(i.level),
            show(&i.cost, true),
            show(&i.quality, false)
        );
    }
}

fn models(out: &mut String, r: &ChainReport) {
    let _ = writeln!(
        out,
        "## The models alone\n\n| model | cost per request | quality | latency (ms) | cost from \
         |\n|---|---|---|---|---|"
    );
    for m in &r.models {
        let _ = writeln!(
            out,
            "| {} | {} | {:.4} | {} | {} |",
            cell(&m.name),
            money(m.cost),
            m.quality,
            m.latency_ms.map_or("n/a".into(), |l| format!("{l:.1}")),
            cell(&m.cost_source)
        );
    }
    let _ = writeln!(out);
}

fn metric(x: Option<f64>) -> String {
    opt4(x)
}

fn chain_line(k: usize, c: &ChainRow) -> String {
    let (th, cost, q, passed) = match &c.best {
        Some((t, e)) => (
            t.iter()
                .map(|x| stage_threshold(*x))
                .collect::<Vec<_>>()
                .join(", "),
            money(e.cost),
            format!("{:.4}", e.quality),
            money(e.stages.iter().map(|s| s.passed_on_cost).sum()),
        ),
        None => ("—".into(), "—".into(), "—".into(), "—".into()),
    };
    let apgr = |m: Option<crate::engine::chains::RouteLlm>| metric(m.map(|m| m.apgr));
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} / {} |",
        k + 1,
        cell(&c.label),
        if c.best.is_some() { "yes" } else { "no" },
        th,
        cost,
        q,
        passed,
        c.grid.map_or("exact".into(), |g| format!("grid {g}")),
        c.frontier_points,
        metric(c.aiq),
        metric(c.aiq_exact),
        apgr(c.routellm),
        apgr(c.routellm_exact),
    )
}

fn chains(out: &mut String, r: &ChainReport) {
    let _ = writeln!(
        out,
        "## Every chain, best first\n\nEach chain at its own best thresholds for the objective \
         (those meeting it first). All {} rows, with RouteLLM's CPT(50 %) and CPT(80 %) and the \
         search's gap, are in `chains.csv`.\n",
        r.chains.len()
    );
    let _ = writeln!(
        out,
        "| rank | chain | meets | thresholds | cost per request | quality | spend passed on | \
         search | frontier points | AIQ RouterBench / exact | APGR RouteLLM / exact \
         |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (k, c) in r.chains.iter().enumerate().take(20) {
        let _ = writeln!(out, "{}", chain_line(k, c));
    }
    if r.chains.len() > 20 {
        let _ = writeln!(out, "\n({} more in `chains.csv`.)", r.chains.len() - 20);
    }
    let _ = writeln!(
        out,
        "\nThe envelope of all chains has {} points; its AIQ is {} (RouterBench's way) and {} \
         (exact).\n",
        r.envelope.len(),
        metric(r.envelope_aiq.0),
        metric(r.envelope_aiq.1)
    );
}

fn metrics_notes(out: &mut String, _r: &ChainReport) {
    let _ = writeln!(
        out,
        "## How the frontier metrics are computed\n\n\
         - **APGR, CPT(50 %), CPT(80 %)** (pairs only), as RouteLLM's evaluation code does: the \
         router's score is minus the first model's confidence; thresholds are the 11 edges of \
         `pd.qcut(score, 10)` (pandas raises on repeated edges, so with tied confidences the \
         metric is undefined: `n/a`); x is the share sent to the second model, y its accuracy; \
         AUC by `np.trapz`, APGR = (AUC − weak area) / (strong area − weak area); CPT(p) = \
         `np.interp` of the accuracy that recovers p of the gap, which assumes accuracy rises \
         with calls. The **exact** form uses every distinct threshold and takes CPT as the \
         least share of calls whose achievable accuracy reaches the target. RouteLLM's routers \
         do not pay the first model on escalated prompts; a cascade does, so these metrics \
         ignore the cascade's structural cost.\n\
         - **AIQ**, as RouterBench's `calc_AIQ` does: each chain's (cost, quality) frontier, its \
         upper hull at each distinct cost, the first point prepended, the last appended only \
         if not lower, cut where it stops rising, extended flat to the largest cost compared, \
         integrated by `np.trapz` from the chain's own cheapest cost and divided by that largest \
         cost. The **exact** form integrates the best quality reachable at each cost (no mixing \
         of routers) from 0.\n\
         - **Random routing**: sending each prompt to one of the chain's models at random, at \
         the chain's cost (the upper hull of the models' points).\n\
         - **Oracle**: each prompt to the cheapest model that gets it right (best quality), with \
         no cascading cost: a bound no confidence threshold reaches.\n\
         - Fixtures: `tests/data/chains_reference.py` reimplements both codes with numpy and \
         pandas; the numbers here match them to 1e-9.\n"
    );
}

fn search_notes(out: &mut String, r: &ChainReport) {
    let _ = writeln!(
        out,
        "## How the chains were searched\n\nChains of up to three stages are exact: thresholds at \
         every distinct confidence (ties move together) and \"answer nothing\", the outer \
         threshold walked over a once-sorted list and the inner one swept with running sums \
         (O(d·n) per three-stage chain). Longer chains sweep their last three stages \
         together (every pair of thresholds from one histogram per threshold of the first of \
         them: O(n + d²) per combination of the thresholds before) and are exact while that \
         stays within 4·10⁸ steps; past that every stage but the last two goes on a grid of G \
         confidence quantiles, the largest G that fits. The gap below compares the grid with the exact search on an \
         evenly spaced subsample, its grid thinned to the same share of distinct confidences.\n"
    );
    let gapped: Vec<&ChainRow> = r.chains.iter().filter(|c| c.gap.is_some()).collect();
    if gapped.is_empty() {
        let _ = writeln!(out, "Every chain here was searched exactly.");
        return;
    }
    let _ = writeln!(
        out,
        "| chain | subsample prompts | grid | exact pick (cost, quality) | gridded pick (cost, \
         quality) |\n|---|---|---|---|---|"
    );
    let show = |p: Option<(f64, f64)>| {
        p.map_or("none meets the objective".into(), |(c, q)| {
            format!("{}, {q:.4}", money(c))
        })
    };
    for c in gapped {
        if let Some(g) = &c.gap {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&c.label),
                g.prompts,
                g.grid,
                show(g.exact),
                show(g.gridded)
            );
        }
    }
}
