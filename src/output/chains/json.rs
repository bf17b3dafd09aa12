//! The chain report as JSON: `summary.json`, the deployable policy with its `stages`, and what
//! `recommend --print json` prints.

use anyhow::Result;
use serde_json::{Value, json};

use crate::engine::chains::Evaluation;
use crate::report::chains::{ChainReport, ChainRow};
use crate::trust::intervals::Interval;

/// A number as JSON (`null` when not finite).
fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

fn interval(i: &Option<Interval>) -> Value {
    i.as_ref()
        .map_or(Value::Null, |i| json!([num(i.lo), num(i.hi)]))
}

fn evaluation(e: &Evaluation) -> Value {
    json!({
        "prompts": e.n,
        "cost_per_request": num(e.cost),
        "quality": num(e.quality),
        "latency_ms": opt(e.latency_ms),
        "passed_on_cost_per_request": num(e.stages.iter().map(|s| s.passed_on_cost).sum()),
        "funnel": e.stages.iter().map(|s| json!({
            "reached": s.reached,
            "answered": s.answered,
            "quality": opt(s.quality),
            "passed_on_cost_per_request": num(s.passed_on_cost),
        })).collect::<Vec<_>>(),
    })
}

fn objective(r: &ChainReport) -> Value {
    json!({
        "kind": r.objective.kind(),
        "value": opt(r.objective.value()),
        "description": r.goal,
    })
}

/// The deployable policy: the stages in order, each with its threshold but the last.
pub fn chain_policy_value(r: &ChainReport) -> Option<Value> {
    let (pick, row) = r.picked()?;
    let e = &row.best.as_ref()?.1;
    let stages: Vec<Value> = pick
        .stages
        .iter()
        .map(|(model, t)| match t {
            Some(t) => json!({"model": model, "threshold": num(*t)}),
            None => json!({"model": model}),
        })
        .collect();
    Some(json!({
        "tool": "calibrate",
        "version": env!("CARGO_PKG_VERSION"),
        "input_sha256": r.input.sha256,
        "rule": "run the stages in order: a stage answers, and the chain stops, iff its \
                 confidence >= its threshold; the last stage always answers; every stage that \
                 runs is paid",
        "objective": {"kind": r.objective.kind(), "value": opt(r.objective.value())},
        "stages": stages,
        "measured": {
            "prompts": e.n,
            "cost_per_request": num(e.cost),
            "quality": num(e.quality),
            "latency_ms": opt(e.latency_ms),
        },
    }))
}

fn row(c: &ChainRow) -> Value {
    json!({
        "chain": c.label,
        "models": c.models,
        "meets_objective": c.best.is_some(),
        "thresholds": c.best.as_ref().map(|(t, _)| t.iter().map(|x| num(*x)).collect::<Vec<_>>()),
        "at_best": c.best.as_ref().map(|(_, e)| evaluation(e)),
        "random_routing_quality": opt(c.random_quality),
        "frontier_points": c.frontier_points,
        "search": c.grid.map_or(json!("exact"), |g| json!({"grid": g})),
        "gap": c.gap.as_ref().map(|g| json!({
            "prompts": g.prompts,
            "grid": g.grid,
            "exact": g.exact.map(|(c, q)| json!({"cost_per_request": num(c), "quality": num(q)})),
            "gridded": g.gridded.map(|(c, q)| json!({"cost_per_request": num(c), "quality": num(q)})),
        })),
        "routellm": c.routellm.map(|m| json!({"apgr": num(m.apgr), "cpt50": num(m.cpt50), "cpt80": num(m.cpt80)})),
        "routellm_exact": c.routellm_exact.map(|m| json!({"apgr": num(m.apgr), "cpt50": num(m.cpt50), "cpt80": num(m.cpt80)})),
        "aiq_routerbench": opt(c.aiq),
        "aiq_exact": opt(c.aiq_exact),
    })
}

fn trust(r: &ChainReport) -> (Value, Value) {
    let holdout = r.holdout.as_ref().map_or(Value::Null, |h| {
        json!({
            "description": h.description,
            "calibration_prompts": h.calibration,
            "test_prompts": h.test,
            "held_out": evaluation(&h.held_out),
            "meets_objective": h.met,
            "quality_bar": opt(h.bar),
        })
    });
    let intervals = r.intervals.as_ref().map_or(Value::Null, |i| {
        json!({
            "level": i.level,
            "resamples": i.resamples,
            "cost_per_request": interval(&i.cost),
            "quality": interval(&i.quality),
        })
    });
    (holdout, intervals)
}

/// `summary.json`.
pub fn summary_json(r: &ChainReport) -> Result<Vec<u8>> {
    let i = &r.input;
    let (holdout, intervals) = trust(r);
    let v = json!({
        "tool": "calibrate",
        "version": env!("CARGO_PKG_VERSION"),
        "mode": "chains",
        "input": {
            "path": i.path, "format": i.format, "form": i.form, "sha256": i.sha256,
            "bytes": i.bytes, "records_read": i.records_read,
            "records_dropped": i.records_dropped,
            "drop_reasons": i.drop_reasons.iter().map(|(k, v)| json!({"reason": k, "count": v})).collect::<Vec<_>>(),
            "prompts": i.prompts,
        },
        "objective": objective(r),
        "stage_order": r.order,
        "prompts": r.prompts,
        "models": r.models.iter().map(|m| json!({
            "name": m.name, "cost_per_request": num(m.cost), "quality": num(m.quality),
            "latency_ms": opt(m.latency_ms), "cost_source": m.cost_source,
        })).collect::<Vec<_>>(),
        "found": r.pick.is_some(),
        "pick": r.picked().map(|(_, c)| row(c)),
        "policy": chain_policy_value(r),
        "note": r.note,
        "oracle": r.oracle.map(|o| json!({"cost_per_request": num(o.cost), "quality": num(o.quality)})),
        "envelope": {
            "points": r.envelope.len(),
            "aiq_routerbench": opt(r.envelope_aiq.0),
            "aiq_exact": opt(r.envelope_aiq.1),
        },
        "holdout": holdout,
        "intervals": intervals,
        "chains": r.chains.iter().map(row).collect::<Vec<_>>(),
    });
    Ok((serde_json::to_string_pretty(&v)? + "\n").into_bytes())
}

/// What `recommend --print json` prints: the pick, its policy under `policy`, the runners-up.
pub fn chain_recommend_json(r: &ChainReport) -> Result<String> {
    let (holdout, intervals) = trust(r);
    let runners: Vec<Value> = r
        .chains
        .iter()
        .skip(1)
        .filter(|c| c.best.is_some())
        .take(3)
        .map(row)
        .collect();
    let v = json!({
        "found": r.pick.is_some(),
        "objective": objective(r),
        "chain": r.picked().map(|(_, c)| c.label.clone()),
        "metrics": r.picked().and_then(|(_, c)| c.best.as_ref().map(|(_, e)| evaluation(e))),
        "policy": chain_policy_value(r),
        "runners_up": runners,
        "holdout": holdout,
        "intervals": intervals,
    });
    Ok(serde_json::to_string(&v)? + "\n")
}
