//! The eval set made ready for the sweep: costs resolved, the baseline priced, latencies paired,
//! and the safeguarded records marked. Pure.
//!
//! Owns the checks that a setting's fields are in the data (a price needs tokens, a timeout
//! needs latencies). It must not sweep, read files or print.

use crate::engine::economics::{
    CostModel, CostSource, Costs, Model, PricedBaseline, check_finite, price_baseline, resolve,
};
use crate::engine::latency::{self, LatencyInput};
use crate::engine::sweep::SweepInput;
use crate::input::{EvalSet, ExtraColumn, ExtraKind, Loaded};
use crate::policy::safeguards::{self, Safeguard};
use crate::signals::derive::{RawField, is_refusal};

use super::RunError;
use super::settings::RunSettings;

/// The eval set with its costs resolved and safeguarded records marked: what the sweep borrows.
pub struct Prepared<'a> {
    set: &'a EvalSet,
    small: Costs<'a>,
    large: Costs<'a>,
    /// Where the small model's costs came from.
    pub small_source: CostSource,
    /// Where the large model's costs came from.
    pub large_source: CostSource,
    /// The comparison model, priced.
    pub baseline: Option<PricedBaseline>,
    safeguarded: Option<Vec<bool>>,
    /// Small and large latencies, when the records carry both.
    pub latency: Option<LatencyInput<'a>>,
    /// Whether every quality label is 0 or 1 (exact binomial statistics apply).
    pub binary: bool,
    /// Why records escalate whatever their confidence, one entry per reason.
    pub safeguards: Vec<Safeguard>,
}

impl Prepared<'_> {
    /// The sweep's input.
    pub fn input(&self) -> SweepInput<'_> {
        SweepInput {
            confidence: &self.set.confidence,
            small_quality: &self.set.small_quality,
            large_quality: self.set.large_quality.as_deref(),
            costs: CostModel {
                small: self.small.column(),
                large: self.large.column(),
                baseline: self.baseline.as_ref().map(|b| b.cost_per_request),
            },
            safeguarded: self.safeguarded.as_deref(),
        }
    }
}

/// Resolves costs, the baseline and timeouts, and marks the safeguarded records; errs when a
/// setting needs a field the data lacks.
pub fn prepare<'a>(loaded: &'a Loaded, run: &RunSettings) -> Result<Prepared<'a>, RunError> {
    let set = &loaded.set;
    let c = &run.costs;
    let (small, small_source) = resolve(Model::Small, set, &c.small, c.large_output_ratio)?;
    let (large, large_source) = resolve(Model::Large, set, &c.large, c.large_output_ratio)?;
    let baseline = (c.baseline.as_ref())
        .map(|b| price_baseline(b, set))
        .transpose()?;
    let cost = |b: &PricedBaseline| b.cost_per_request;
    check_finite(
        &small,
        &large,
        set.confidence.len(),
        baseline.as_ref().map(cost),
    )?;
    let latency = match (&set.small_latency_ms, &set.large_latency_ms) {
        (Some(small), Some(large)) => Some(LatencyInput {
            small,
            large,
            timeout: c.small_timeout_ms,
        }),
        _ if c.small_timeout_ms.is_some() => return Err(RunError::TimeoutNeedsLatency),
        _ => None,
    };
    let safeguards = collect_safeguards(loaded, run, latency.as_ref())?;
    let safeguarded = safeguards::combined(&safeguards);
    if safeguarded.as_ref().is_some_and(|f| f.iter().all(|x| *x)) {
        let reasons: Vec<&str> = safeguards.iter().map(|s| s.label.as_str()).collect();
        return Err(RunError::AllSafeguarded(reasons.join("; ")));
    }
    let is_binary = |v: &[f64]| v.iter().all(|q| *q == 0.0 || *q == 1.0);
    let (small_binary, large_binary) = rayon::join(
        || is_binary(&set.small_quality),
        || set.large_quality.as_deref().is_none_or(is_binary),
    );
    let binary = small_binary && large_binary;
    Ok(Prepared {
        binary,
        set,
        small,
        large,
        small_source,
        large_source,
        baseline,
        safeguarded,
        latency,
        safeguards,
    })
}

/// Every reason a record escalates whatever its confidence: timeouts, `--always-large` rules,
/// refusals, in that order.
fn collect_safeguards(
    loaded: &Loaded,
    run: &RunSettings,
    latency: Option<&LatencyInput<'_>>,
) -> Result<Vec<Safeguard>, RunError> {
    let mut safeguards = Vec::new();
    if let (Some(mask), Some(t)) = (
        latency.and_then(latency::timed_out),
        run.costs.small_timeout_ms,
    ) {
        safeguards.push(Safeguard {
            kind: safeguards::Kind::Timeout,
            label: format!("small model slower than {t} ms"),
            mask,
        });
    }
    for rule in &run.policy.always_large {
        let Some(ExtraColumn::Labels(labels)) = loaded.extra(&rule.column, ExtraKind::Label) else {
            return Err(RunError::NotRead(format!(
                "--always-large {}",
                rule.label()
            )));
        };
        safeguards.push(Safeguard {
            kind: safeguards::Kind::AlwaysLarge,
            label: rule.label(),
            mask: safeguards::label_mask(labels, &rule.value),
        });
    }
    if run.policy.escalate_refusals {
        let column = run.signal.raw_column(RawField::Response);
        let Some(ExtraColumn::Texts(texts)) = loaded.extra(column, ExtraKind::Text) else {
            return Err(RunError::ResponseNotRead);
        };
        safeguards.push(Safeguard {
            kind: safeguards::Kind::Refusal,
            label: "refusals (response text)".into(),
            mask: texts.iter().map(|t| is_refusal(t)).collect(),
        });
    }
    Ok(safeguards)
}

/// Safeguards that match no record of the eval set.
pub fn unmatched(prepared: &Prepared<'_>) -> Vec<String> {
    let quiet = prepared.safeguards.iter().filter(|s| s.matched() == 0);
    quiet.map(|s| s.label.clone()).collect()
}
