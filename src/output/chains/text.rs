//! The chain report on stdout: the summary `sweep` prints, and the policy `recommend` prints
//! in each `--print` format (one `model<TAB>threshold` line per stage as text; the last stage
//! has no threshold).

use std::fmt::Write;

use anyhow::Result;
use serde_json::Value;

use super::json::{chain_policy_value, chain_recommend_json};
use crate::output::PolicyFormat;
use crate::output::format::{money, pct, stage_threshold};
use crate::report::chains::ChainReport;

/// The policy in `format`: `Ok(stdout)`, or `Err(why)` when no chain meets the objective
/// (JSON prints either way).
pub fn chain_decision_text(
    r: &ChainReport,
    format: PolicyFormat,
) -> Result<Result<String, String>> {
    if format == PolicyFormat::Json {
        return Ok(Ok(chain_recommend_json(r)?));
    }
    let Some(policy) = chain_policy_value(r) else {
        return Ok(Err(format!(
            "no chain of the {} considered meets the objective ({})",
            r.chains.len(),
            r.goal
        )));
    };
    Ok(Ok(match format {
        PolicyFormat::Text => stages_text(r),
        PolicyFormat::Yaml => {
            let mut out = String::new();
            crate::output::policy::yaml(&policy, 0, &mut out);
            out
        }
        PolicyFormat::Toml => toml::to_string(&without_nulls(policy))?,
        PolicyFormat::Env => crate::output::policy::env_text(&policy)?,
        PolicyFormat::Json => unreachable!("handled above"),
    }))
}

/// TOML has no null: absent values are left out.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn stages_text(r: &ChainReport) -> String {
    let mut out = String::new();
    if let Some((pick, _)) = r.picked() {
        for (model, t) in &pick.stages {
            // Escaped as segment values are: a tab or line end in a name cannot fake a stage.
            let model = crate::output::policy::escaped(model);
            match t {
                Some(t) => {
                    let _ = writeln!(out, "{model}\t{t}");
                }
                None => {
                    let _ = writeln!(out, "{model}");
                }
            }
        }
    }
    out
}

/// What `sweep` prints after writing a chain report.
pub fn chain_summary_text(r: &ChainReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} prompts x {} models, {} chains searched; objective: {}",
        r.prompts,
        r.models.len(),
        r.chains.len(),
        r.goal
    );
    match r.picked() {
        None => {
            let _ = writeln!(out, "no chain meets the objective");
        }
        Some((pick, row)) => {
            let stages: Vec<String> = pick
                .stages
                .iter()
                .map(|(m, t)| match t {
                    Some(t) => format!("{m} (answers if confidence >= {})", stage_threshold(*t)),
                    None => m.clone(),
                })
                .collect();
            let _ = writeln!(out, "chain: {}", stages.join(" → "));
            if let Some((_, e)) = &row.best {
                let dearest = r.models.iter().map(|m| m.cost).fold(0.0, f64::max);
                let _ = writeln!(
                    out,
                    "cost per request {} ({} below the dearest model alone), quality {:.4}",
                    money(e.cost),
                    pct(1.0 - e.cost / dearest),
                    e.quality
                );
            }
        }
    }
    for c in r.chains.iter().skip(1).filter(|c| c.best.is_some()).take(3) {
        if let Some((_, e)) = &c.best {
            let _ = writeln!(
                out,
                "runner-up: {}: cost {}, quality {:.4}",
                c.label,
                money(e.cost),
                e.quality
            );
        }
    }
    if let Some(h) = &r.holdout {
        let _ = writeln!(
            out,
            "held out ({} prompts): cost {}, quality {:.4}: {}",
            h.test,
            money(h.held_out.cost),
            h.held_out.quality,
            if h.met {
                "meets the objective"
            } else {
                "MISSES the objective"
            }
        );
    }
    out
}
