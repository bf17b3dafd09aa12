//! What a threshold cannot do: accept part of a tie. When the recommendation stops just before
//! a confidence value shared by many records, a router that keeps the small answer on a random
//! fraction p of that value's records (a seeded hash of the request id) meets the objective in
//! expectation at a cost between the two neighbouring thresholds. This computes the largest
//! such p and its expected metrics, for the report to point out.
//!
//! Pure: a sweep in, a value out. It must not choose the recommendation (`recommend` does) nor
//! word anything.

use crate::engine::objective::{LOSS_TOLERANCE, Objective};
use crate::engine::sweep::Sweep;

/// Keeping the small answer on a fraction of the next tie, in expectation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TieSplit {
    /// The tied confidence value.
    pub value: f64,
    /// Records sharing it.
    pub records: usize,
    /// The largest fraction of them whose small answers can be kept with the objective met in
    /// expectation, in (0, 1).
    pub fraction: f64,
    /// The expected cost per request of that policy (the small model runs on every request).
    pub cost_per_request: f64,
    /// The expected value of the metric the objective constrains.
    pub metric: f64,
}

/// For a quality-floor objective whose pick is candidate `j` (and `j + 1` misses it), the
/// split of the tie at candidate `j + 1`: every sum is linear in p, so the expected metrics are
/// the neighbours' interpolated (non-escalated quality is a ratio of two linear sums). `None`
/// for other objectives, at the last candidate, for a tie of one record, or when no p > 0
/// qualifies.
pub fn tie_split(sweep: &Sweep, objective: Objective, j: usize) -> Option<TieSplit> {
    if j + 1 >= sweep.candidates() {
        return None;
    }
    let (lo, hi) = (sweep.totals(j), sweep.totals(j + 1));
    let records = hi.accepted - lo.accepted;
    if records < 2 {
        return None;
    }
    let n = lo.records as f64;
    let lerp = |a: f64, b: f64, p: f64| a + p * (b - a);
    let cascade = |p: f64| {
        let lq = lerp(lo.large_quality_escalated?, hi.large_quality_escalated?, p);
        Some((lerp(lo.small_quality_accepted, hi.small_quality_accepted, p) + lq) / n)
    };
    let non_escalated = |p: f64| {
        let accepted = lerp(lo.accepted as f64, hi.accepted as f64, p);
        let q = lerp(lo.small_quality_accepted, hi.small_quality_accepted, p);
        (accepted > 0.0).then(|| q / accepted)
    };
    let large = lo.large_quality_total.map(|q| q / n);
    let metric = |p: f64| -> Option<(f64, bool)> {
        match objective {
            Objective::MinQuality { target } => non_escalated(p).map(|q| (q, q >= target)),
            Objective::MinCascadeQuality { target } => cascade(p).map(|q| (q, q >= target)),
            Objective::MaxQualityLoss { max_loss } => {
                let (c, l) = (cascade(p)?, large?);
                Some((c, l - c <= max_loss + LOSS_TOLERANCE))
            }
            _ => None,
        }
    };
    // Each metric is monotone in p: bisect for the largest p that still meets the objective.
    if metric(1.0)?.1 {
        return None; // the whole tie qualifies: the recommendation would have taken it
    }
    let (mut ok, mut bad) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = 0.5 * (ok + bad);
        if metric(mid).is_some_and(|m| m.1) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    if ok <= 0.0 {
        return None;
    }
    let small = lo.small_cost_total;
    let large_escalated = lerp(lo.large_cost_escalated, hi.large_cost_escalated, ok);
    Some(TieSplit {
        value: sweep.threshold_of(j + 1),
        records,
        fraction: ok,
        cost_per_request: (small + large_escalated) / n,
        metric: metric(ok)?.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sweep::flat_input;

    #[test]
    fn part_of_a_tie_meets_a_loss_target_in_expectation() {
        // Issue 12 point 3: ten records, six tied at confidence 1.0 (small right on four of
        // them), four at 0.5 (small wrong); the large model is right on all ten. Always-large
        // quality 1. Accepting a fraction p of the tie ships 2p of its wrong answers in
        // expectation: cascade quality 1 − 0.2 p. --max-quality-loss 0.05 allows p = 0.25
        // (by hand: 0.2 p ≤ 0.05). Costs (flat 1 and 10): every request pays the small model
        // (10), the large model runs on the 4 + 6 (1 − p) escalated: (10 + 10 × 8.5) / 10 = 9.5.
        let conf = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5];
        let small = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let large = [1.0; 10];
        let sweep = Sweep::new(flat_input(&conf, &small, Some(&large)));
        let objective = Objective::MaxQualityLoss { max_loss: 0.05 };
        // The deterministic pick escalates everything (candidate 0).
        let pick = crate::engine::recommend::recommend(&sweep, objective).unwrap();
        assert!(pick.accepts_none);
        let split = tie_split(&sweep, objective, 0).unwrap();
        assert_eq!((split.value, split.records), (1.0, 6));
        // (The loss comparison's 1e-12 slack lets p pass 0.25 by 5e-12.)
        assert!((split.fraction - 0.25).abs() < 1e-9, "{}", split.fraction);
        assert!((split.cost_per_request - 9.5).abs() < 1e-9);
        assert!((split.metric - 0.95).abs() < 1e-9);
        // --min-quality 0.7 on the accepted answers: 4p / 6p = 2/3 for any p > 0: no split.
        let floor = Objective::MinQuality { target: 0.7 };
        assert_eq!(tie_split(&sweep, floor, 0), None);
        // The default objective has no floor.
        assert_eq!(tie_split(&sweep, Objective::QualityTimesSavings, 0), None);
    }
}
