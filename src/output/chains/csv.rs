//! `chains.csv`: one row per chain, best first.

use anyhow::Result;

use crate::report::chains::ChainReport;

/// An optional number as a CSV cell (empty when absent).
fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

/// Thresholds joined by `;` (`inf`: the stage answers nothing).
pub fn thresholds(taus: &[f64]) -> String {
    taus.iter()
        .map(|t| format!("{t}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The ranked chain table.
pub fn chains_csv(r: &ChainReport) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "rank",
        "chain",
        "stages",
        "meets_objective",
        "thresholds",
        "cost_per_request",
        "quality",
        "latency_ms",
        "passed_on_cost_per_request",
        "random_routing_quality",
        "frontier_points",
        "search",
        "gap_prompts",
        "gap_exact_cost",
        "gap_exact_quality",
        "gap_grid_cost",
        "gap_grid_quality",
        "routellm_apgr",
        "routellm_cpt50",
        "routellm_cpt80",
        "exact_apgr",
        "exact_cpt50",
        "exact_cpt80",
        "aiq_routerbench",
        "aiq_exact",
    ])?;
    for (k, c) in r.chains.iter().enumerate() {
        let e = c.best.as_ref().map(|(_, e)| e);
        let passed: Option<f64> = e.map(|e| e.stages.iter().map(|s| s.passed_on_cost).sum());
        let gap = c.gap.as_ref();
        let pair =
            |x: Option<(f64, f64)>, first: bool| opt(x.map(|p| if first { p.0 } else { p.1 }));
        let search = match c.grid {
            None => "exact".to_string(),
            Some(g) => format!("grid {g}"),
        };
        w.write_record([
            (k + 1).to_string(),
            c.label.clone(),
            c.models.len().to_string(),
            c.best.is_some().to_string(),
            c.best
                .as_ref()
                .map(|(t, _)| thresholds(t))
                .unwrap_or_default(),
            opt(e.map(|e| e.cost)),
            opt(e.map(|e| e.quality)),
            opt(e.and_then(|e| e.latency_ms)),
            opt(passed),
            opt(c.random_quality),
            c.frontier_points.to_string(),
            search,
            gap.map(|g| g.prompts.to_string()).unwrap_or_default(),
            pair(gap.and_then(|g| g.exact), true),
            pair(gap.and_then(|g| g.exact), false),
            pair(gap.and_then(|g| g.gridded), true),
            pair(gap.and_then(|g| g.gridded), false),
            opt(c.routellm.map(|m| m.apgr)),
            opt(c.routellm.map(|m| m.cpt50)),
            opt(c.routellm.map(|m| m.cpt80)),
            opt(c.routellm_exact.map(|m| m.apgr)),
            opt(c.routellm_exact.map(|m| m.cpt50)),
            opt(c.routellm_exact.map(|m| m.cpt80)),
            opt(c.aiq),
            opt(c.aiq_exact),
        ])?;
    }
    Ok(w.into_inner()?)
}
