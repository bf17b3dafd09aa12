//! Cross-fitting a whole selection procedure: the records are dealt into K seeded folds
//! (stratified by a grouping, e.g. the segments); the caller chooses on K − 1 folds and measures
//! on the held-out fold, and the held-out parts, summed, are an honest out-of-sample estimate
//! of what the procedure delivers. Pure.
//!
//! Owns the fold assignment and the record of in-sample against cross-fitted figures. It must
//! not choose thresholds (the caller runs the usual selection per fold) nor print.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::engine::sweep::Metrics;

/// The fold (0..k) of every record: within each group (all records when `groups` is `None`),
/// a seeded shuffle, then folds dealt in turn, so every fold gets each group's share to within
/// one record.
pub fn folds(n: usize, k: usize, seed: u64, groups: Option<&[u32]>) -> Vec<u32> {
    assert!(k >= 2, "cross-fitting needs at least two folds");
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        let g = groups.map_or(0, |g| g[i] as usize);
        if members.len() <= g {
            members.resize(g + 1, Vec::new());
        }
        members[g].push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0u32; n];
    // The dealing continues across groups, so small groups do not all start at fold 0.
    let mut next = 0usize;
    for mut group in members {
        for j in (1..group.len()).rev() {
            let r = (rng.next_u64() % (j as u64 + 1)) as usize;
            group.swap(j, r);
        }
        for i in group {
            fold[i] = (next % k) as u32;
            next += 1;
        }
    }
    fold
}

/// One policy, in sample and cross-fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Chosen and measured on all records (what the report's other sections show).
    pub in_sample: Option<Metrics>,
    /// Chosen on K − 1 folds and measured on the held-out fold, summed over the folds.
    pub cross_fitted: Metrics,
    /// Whether the cross-fitted metrics meet the objective (`None`: it sets no bar).
    pub met: Option<bool>,
    /// Folds whose selection found nothing (their held-out records counted as escalated).
    pub folds_without_choice: usize,
}

impl Estimate {
    /// In-sample minus cross-fitted non-escalated quality: how much the selection flatters
    /// itself (positive = optimistic).
    pub fn quality_optimism(&self) -> Option<f64> {
        let inside = self.in_sample?.non_escalated_quality?;
        Some(inside - self.cross_fitted.non_escalated_quality?)
    }
}

/// The cross-fitted estimates of a run with `--segment-by`.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossFit {
    /// Folds.
    pub folds: usize,
    /// The seed of the fold assignment.
    pub seed: u64,
    /// The single threshold (certified, with `--certify`).
    pub single: Estimate,
    /// The per-segment policy (with `--certify`, every segment keeps the certified threshold).
    pub segments: Estimate,
    /// With `--certify`: the certified per-segment policy.
    pub certified: Option<Estimate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_seeded_balanced_and_stratified() {
        // Two groups of 10 and 5 records into 5 folds: 15 records, 3 per fold; each group
        // reaches every fold it can (10 → 2 each; 5 → 1 each).
        let groups: Vec<u32> = (0..15).map(|i| u32::from(i >= 10)).collect();
        let f = folds(15, 5, 7, Some(&groups));
        assert_eq!(f, folds(15, 5, 7, Some(&groups)));
        for k in 0..5 {
            assert_eq!(f.iter().filter(|&&x| x == k).count(), 3);
            assert_eq!(f[..10].iter().filter(|&&x| x == k).count(), 2);
            assert_eq!(f[10..].iter().filter(|&&x| x == k).count(), 1);
        }
        assert_ne!(f, folds(15, 5, 8, Some(&groups)));
    }
}
