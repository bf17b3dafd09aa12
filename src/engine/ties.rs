//! What a threshold cannot do: accept part of a tie. When the recommendation stops just before
//! a confidence value shared by many records, a router that keeps the small answer on a random
//! fraction p of that value's records (a seeded hash of the request id) meets the objective in
//! expectation at a cost between the two neighbouring thresholds. This computes the largest
//! such p and its expected metrics, for the report to point out.
//!
//! Pure: a sweep in, a value out. It must not choose the recommendation (`recommend` does) nor
//! word anything.

use crate::engine::economics::{cascade_cost_per_request, savings};
use crate::engine::objective::{LOSS_TOLERANCE, Objective};
use crate::engine::sweep::{Sweep, Totals};

/// Keeping the small answer on a fraction of the next tie, in expectation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TieSplit {
    /// The deterministic pick's candidate; the tie is the records candidate `candidate + 1`
    /// adds.
    pub candidate: usize,
    /// The tied confidence value.
    pub value: f64,
    /// Records sharing it (and not escalated by a safeguard).
    pub records: usize,
    /// The fraction of them whose small answers are kept, in (0, 1): the largest with the
    /// objective met in expectation, rounded down to a multiple of [`FRACTION_STEP`].
    pub fraction: f64,
    /// The policy's metrics in expectation over the split.
    pub expected: Expected,
    /// The expected value of the metric the objective constrains.
    pub metric: f64,
}

/// The keep fraction is rounded down to a multiple of this, so the policy document carries a
/// short number (rounding down keeps the objective met: every metric is monotone in p).
pub const FRACTION_STEP: f64 = 1e-6;

/// A randomised policy's metrics in expectation over its random split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expected {
    /// Records.
    pub records: usize,
    /// Share escalated.
    pub escalation_rate: f64,
    /// Mean small quality over the accepted records (a ratio of expectations).
    pub non_escalated_quality: Option<f64>,
    /// Mean quality of the cascade's answers, with large-model labels.
    pub cascade_quality: Option<f64>,
    /// Currency units per request; the small model runs on every request, since the router
    /// needs its confidence to find the tie.
    pub cost_per_request: f64,
    /// Against always-large.
    pub savings_vs_large: Option<f64>,
}

/// The metrics in expectation of the policy that keeps what `lo` keeps and a fraction `p` of
/// the records `hi` keeps beyond it (`lo` and `hi` two nested candidates of one sweep): every
/// sum is linear in p, and non-escalated quality is the ratio of two of them.
pub fn expected(lo: &Totals, hi: &Totals, p: f64) -> Expected {
    let n = lo.records as f64;
    let lerp = |a: f64, b: f64| a + p * (b - a);
    let accepted = lerp(lo.accepted as f64, hi.accepted as f64);
    let small_q = lerp(lo.small_quality_accepted, hi.small_quality_accepted);
    let large_q = lo.large_quality_escalated.zip(hi.large_quality_escalated);
    let large_escalated = lerp(lo.large_cost_escalated, hi.large_cost_escalated);
    let cost = cascade_cost_per_request(lo.small_cost_total, large_escalated, lo.records);
    Expected {
        records: lo.records,
        escalation_rate: 1.0 - accepted / n,
        non_escalated_quality: (accepted > 0.0).then(|| small_q / accepted),
        cascade_quality: large_q.map(|(a, b)| (small_q + lerp(a, b)) / n),
        cost_per_request: cost,
        savings_vs_large: savings(cost, lo.large_cost_total / n),
    }
}

/// The value of the metric `objective` constrains, and whether it is met (`None` for
/// objectives without a quality floor, or when the metric is undefined).
fn constrained(objective: Objective, e: &Expected, large: Option<f64>) -> Option<(f64, bool)> {
    match objective {
        Objective::MinQuality { target } => e.non_escalated_quality.map(|q| (q, q >= target)),
        Objective::MinCascadeQuality { target } => e.cascade_quality.map(|q| (q, q >= target)),
        Objective::MaxQualityLoss { max_loss } => {
            let (c, l) = (e.cascade_quality?, large?);
            Some((c, l - c <= max_loss + LOSS_TOLERANCE))
        }
        _ => None,
    }
}

/// For a quality-floor objective whose pick is candidate `j` (and `j + 1` misses it), the
/// split of the tie at candidate `j + 1`. `None` for other objectives, at the last candidate,
/// for a tie of one record, or when no p ≥ [`FRACTION_STEP`] qualifies.
pub fn tie_split(sweep: &Sweep, objective: Objective, j: usize) -> Option<TieSplit> {
    if j + 1 >= sweep.candidates() {
        return None;
    }
    let (lo, hi) = (sweep.totals(j), sweep.totals(j + 1));
    let records = hi.accepted - lo.accepted;
    if records < 2 {
        return None;
    }
    let large = lo.large_quality_total.map(|q| q / lo.records as f64);
    let metric = |p: f64| constrained(objective, &expected(&lo, &hi, p), large);
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
    // Whole steps divided once, so 0.983333 prints as such (not 0.9833329999999999).
    let fraction = (ok / FRACTION_STEP).floor() / (1.0 / FRACTION_STEP).round();
    let (value, met) = metric(fraction)?;
    if fraction <= 0.0 || !met {
        return None;
    }
    Some(TieSplit {
        candidate: j,
        value: sweep.threshold_of(j + 1),
        records,
        fraction,
        expected: expected(&lo, &hi, fraction),
        metric: value,
    })
}

/// Where a request falls in `[0, 1)` under the policy's hash: the first eight bytes of
/// SHA-256 of `"{seed}:{id}"` (UTF-8), read big-endian, over 2^64. A router keeps the small
/// answer on a tied request iff this is below the keep fraction; the same id always lands in
/// the same place, so retries route alike. The reference for routers (the README gives the
/// same in Python); tests check it against Python's hashlib.
#[cfg(test)]
pub fn hash_unit(seed: u64, id: &str) -> f64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{seed}:{id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) as f64 / 2f64.powi(64)
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
        // (The loss comparison's 1e-12 slack lets p pass 0.25 by 5e-12; rounding down to a
        // multiple of 1e-6 gives 0.25 itself, up to the float's last digit.)
        assert!((split.fraction - 0.25).abs() < 1e-12, "{}", split.fraction);
        assert!((split.expected.cost_per_request - 9.5).abs() < 1e-9);
        assert!((split.metric - 0.95).abs() < 1e-9);
        // Escalated in expectation: 4 + 6 × 0.75 = 8.5 of 10; accepted 1.5, right on 1 (4 of
        // the 6 tied are right: 4p of 6p), so non-escalated quality 2/3; savings 1 − 9.5/10.
        let e = split.expected;
        assert!((e.escalation_rate - 0.85).abs() < 1e-12);
        assert!((e.non_escalated_quality.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.cascade_quality.unwrap() - 0.95).abs() < 1e-12);
        assert!((e.savings_vs_large.unwrap() - 0.05).abs() < 1e-12);
        // --min-quality 0.7 on the accepted answers: 4p / 6p = 2/3 for any p > 0: no split.
        let floor = Objective::MinQuality { target: 0.7 };
        assert_eq!(tie_split(&sweep, floor, 0), None);
        // The default objective has no floor.
        assert_eq!(tie_split(&sweep, Objective::QualityTimesSavings, 0), None);
    }

    #[test]
    fn the_hash_matches_python_hashlib() {
        // Expected values from Python 3: int.from_bytes(hashlib.sha256(f"{seed}:{id}"
        // .encode()).digest()[:8], "big") / 2**64, the snippet the README gives routers.
        for (seed, id, want) in HASHES {
            assert_eq!(hash_unit(seed, id), want, "{seed}:{id}");
        }
    }

    /// `hash_unit` fixtures, computed with Python's hashlib (see the test).
    const HASHES: [(u64, &str, f64); 5] = [
        (0, "req-1", 0.9755504980307452),
        (0, "req-2", 0.526765358220688),
        (42, "q17", 0.8565964520853251),
        (7, "é", 0.13415981079193712),
        (u64::MAX, "", 0.29932838044601107),
    ];
}
