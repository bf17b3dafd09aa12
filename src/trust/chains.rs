//! Trust for a chosen chain: bootstrap intervals of its cost and quality, and the held-out
//! split of a multi-model set.
//!
//! Owns resampling prompts (seeded by the caller) and re-evaluating the chain at its fixed
//! thresholds with the one rule in `engine::chains::evaluate`. Must not search or choose.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

#[cfg(test)]
use crate::engine::chains::evaluate;
use crate::engine::chains::{Chain, ModelData, evaluate_rows};
use crate::input::{EvalSet, Labels};
use crate::trust::holdout::{Holdout, SplitError, test_mask};
use crate::trust::intervals::{Interval, Settings, percentile};

/// Percentile intervals of the chosen chain at its thresholds, over resampled prompts.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainIntervals {
    /// Confidence level.
    pub level: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// Mean cost per request (currency units).
    pub cost: Option<Interval>,
    /// Mean quality.
    pub quality: Option<Interval>,
}

/// Resamples the prompts with replacement `settings.resamples` times (seeded) and evaluates the
/// chain at `taus` on each; the thresholds stay fixed (the choice is not redone).
pub fn bootstrap_chain(
    models: &[ModelData],
    chain: &Chain,
    taus: &[f64],
    settings: &Settings,
) -> ChainIntervals {
    let n = models[0].confidence.len();
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let (mut costs, mut qualities) = (Vec::new(), Vec::new());
    for _ in 0..settings.resamples {
        let rows: Vec<usize> = (0..n)
            .map(|_| (rng.next_u64() % n as u64) as usize)
            .collect();
        let e = evaluate_rows(models, chain, taus, rows.into_iter());
        costs.push(e.cost);
        qualities.push(e.quality);
    }
    ChainIntervals {
        level: settings.level,
        resamples: settings.resamples,
        cost: percentile(&mut costs, settings.level),
        quality: percentile(&mut qualities, settings.level),
    }
}

/// Which prompts are held out (true), by the same rule as a two-model set: a seeded fraction
/// stratified by task type, or the records' split field.
pub fn chain_test_mask(
    prompts: usize,
    task_type: Option<&Labels>,
    split: Option<&[bool]>,
    how: &Holdout,
) -> Result<Vec<bool>, SplitError> {
    let set = EvalSet {
        confidence: vec![0.0; prompts],
        task_type: task_type.cloned(),
        split: split.map(<[bool]>::to_vec),
        ..EvalSet::default()
    };
    test_mask(&set, how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_bracket_the_point_and_rerun_identically() {
        let n = 200;
        let models: Vec<ModelData> = (0..2)
            .map(|j| ModelData {
                name: format!("m{j}"),
                confidence: (0..n).map(|i| (i % 10) as f64 / 10.0).collect(),
                quality: (0..n).map(|i| f64::from((i % (3 + j)) != 0)).collect(),
                cost: vec![1.0 + 9.0 * j as f64; n],
                latency_ms: None,
                weight: None,
            })
            .collect();
        let chain = Chain { stages: vec![0, 1] };
        let settings = Settings {
            level: 0.9,
            resamples: 200,
            seed: 7,
        };
        let a = bootstrap_chain(&models, &chain, &[0.5], &settings);
        let point = evaluate(&models, &chain, &[0.5]);
        let (c, q) = (a.cost.unwrap(), a.quality.unwrap());
        assert!(
            c.lo <= point.cost && point.cost <= c.hi,
            "{c:?} {}",
            point.cost
        );
        assert!(q.lo <= point.quality && point.quality <= q.hi);
        assert!(c.lo < c.hi);
        assert_eq!(a, bootstrap_chain(&models, &chain, &[0.5], &settings));
    }
}
