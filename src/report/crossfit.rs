//! The cross-fitted estimate of a `--segment-by` run: the whole selection (the single
//! threshold, and the per-segment policy with its departure test and floor) is rerun on K − 1
//! folds and measured on the held-out fold; the held-out sums over all folds are set beside
//! the in-sample figures.
//!
//! Owns the per-fold orchestration; the folds are `trust::crossfit`'s, the choices the same
//! code the run uses. It must not read files, print or format.

use super::build::decide;
use super::certified::{certified_segments, route};
use super::deploy::{Chosen, deployment, plan_totals, segmentation};
use super::prepare::prepare;
use super::{RunError, RunSettings};
use crate::engine::sweep::{Metrics, Sweep, Totals};
use crate::input::Loaded;
use crate::signals::spec::SignalSpec;
use crate::trust::crossfit::{CrossFit, Estimate, folds};

/// One fold's held-out sums (single threshold, per-segment policy, certified per-segment
/// policy) and whether each selection chose anything.
struct Held {
    single: Totals,
    segments: Totals,
    certified: Totals,
    single_chose: bool,
    segments_chose: bool,
    certified_chose: bool,
}

/// The cross-fitted estimates (`None` without `--segment-by` or with `--cross-fit 0`);
/// `in_sample`: the single threshold's, the per-segment policy's and the certified
/// per-segment policy's metrics on all records.
pub fn cross_fit(
    loaded: &Loaded,
    run: &RunSettings,
    signal: &SignalSpec,
    in_sample: (Option<Metrics>, Option<Metrics>, Option<Metrics>),
) -> Result<Option<CrossFit>, RunError> {
    let k = run.policy.cross_fit_folds;
    let Some(seg) = segmentation(loaded, run).filter(|_| k >= 2) else {
        return Ok(None);
    };
    let n = loaded.set.confidence.len();
    if n < k {
        return Ok(None);
    }
    let fold = folds(n, k, run.policy.cross_fit_seed, Some(&seg.codes));
    let mut held: Vec<Held> = Vec::with_capacity(k);
    for f in 0..k as u32 {
        let mask: Vec<bool> = fold.iter().map(|&x| x == f).collect();
        held.push(one_fold(loaded, run, signal, &mask)?);
    }
    let large = |t: &Totals| t.large_quality_total.map(|q| q / t.records as f64);
    let estimate = |pick: &dyn Fn(&Held) -> (Totals, bool), inside: Option<Metrics>| {
        let total = (held.iter().map(|h| pick(h).0))
            .reduce(Totals::plus)
            .expect("at least two folds");
        let m = total.metrics(f64::NAN, total.accepted == 0);
        Estimate {
            in_sample: inside,
            cross_fitted: m,
            met: run.objective.is_met(&m, large(&total)),
            folds_without_choice: held.iter().filter(|h| !pick(h).1).count(),
        }
    };
    Ok(Some(CrossFit {
        folds: k,
        seed: run.policy.cross_fit_seed,
        single: estimate(&|h| (h.single, h.single_chose), in_sample.0),
        segments: estimate(&|h| (h.segments, h.segments_chose), in_sample.1),
        certified: (run.certify.is_some())
            .then(|| estimate(&|h| (h.certified, h.certified_chose), in_sample.2)),
    }))
}

/// Chooses on the records outside `test` and measures on those inside it. A fold whose
/// selection finds nothing escalates its held-out records; a fold without a joint
/// per-segment policy uses its single threshold for the segments too.
fn one_fold(
    loaded: &Loaded,
    run: &RunSettings,
    signal: &SignalSpec,
    test: &[bool],
) -> Result<Held, RunError> {
    let (train, held_out) = (loaded.subset(test, false), loaded.subset(test, true));
    let prepared = prepare(&train, run)?;
    let sweep = Sweep::new(prepared.input());
    let (recommendation, certification) = decide(&sweep, run, prepared.binary);
    let chosen = Chosen {
        recommendation: &recommendation,
        certification: certification.as_ref(),
        split: None, // --split-ties does not go with --segment-by
    };
    let d = deployment(&train, run, &prepared, &sweep, chosen, &[], signal.clone());
    let test_prepared = prepare(&held_out, run)?;
    let test_sweep = Sweep::new(test_prepared.input());
    let threshold = recommendation
        .as_ref()
        .map_or(f64::INFINITY, Metrics::routing_threshold);
    let single = test_sweep.totals(test_sweep.candidate_at(threshold));
    let plan = d.plan.as_ref().filter(|p| p.policy.is_some());
    let segments = match plan {
        Some(p) => plan_totals(&held_out, run, &test_prepared, p, threshold),
        None => None,
    };
    let certified = match certified_segments(&train, run)? {
        Some(Ok(c)) => Some(route(&held_out, run, &test_prepared, &c.thresholds)),
        _ => None,
    };
    Ok(Held {
        certified_chose: certified.is_some(),
        certified: certified.unwrap_or_else(|| test_sweep.totals(0)),
        single,
        single_chose: recommendation.is_ok(),
        segments_chose: segments.is_some() || recommendation.is_ok(),
        segments: segments.unwrap_or(single),
    })
}
