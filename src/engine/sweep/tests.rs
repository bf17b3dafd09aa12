use proptest::prelude::*;

use super::*;
use crate::engine::economics::CostColumn;
use crate::engine::sums::ascending_key;

/// Four records worked by hand (see each assertion):
/// r0 conf 0.9 small 1 large 1; r1 conf 0.5 small 0 large 1;
/// r2 conf 0.9 small 0 large 0; r3 conf 0.2 small 1 large 1; small costs 1, large 60.
fn hand() -> Sweep {
    Sweep::new(SweepInput {
        confidence: &[0.9, 0.5, 0.9, 0.2],
        small_quality: &[1.0, 0.0, 0.0, 1.0],
        large_quality: Some(&[1.0, 1.0, 0.0, 1.0]),
        costs: CostModel {
            small: CostColumn::PerRequest(1.0),
            large: CostColumn::PerRequest(60.0),
            baseline: None,
        },
        safeguarded: None,
    })
}

#[test]
fn candidates_are_distinct_confidences_plus_escalate_all() {
    let s = hand();
    assert_eq!(s.distinct_confidences(), &[0.9, 0.5, 0.2]);
    assert_eq!(s.candidates(), 4);
    assert_eq!(s.threshold_of(1), 0.9);
    assert!(s.threshold_of(0) > 0.9 && s.threshold_of(0) < 0.9000000000000001 + 1e-15);
}

#[test]
fn metrics_at_point_nine_by_hand() {
    let m = hand().at_candidate(1);
    // Accepted r0, r2; escalated r1, r3.
    assert_eq!((m.accepted, m.escalated), (2, 2));
    assert_eq!(m.escalation_rate, 0.5);
    assert_eq!(m.non_escalated_quality, Some(0.5)); // (1 + 0) / 2
    assert_eq!(m.cascade_quality, Some(0.75)); // (1 + 0 + 1 + 1) / 4
    assert_eq!(m.cost_per_request, 31.0); // (4 × 1 + 2 × 60) / 4
    assert_eq!(m.wasted_small_cost_per_request, 0.5); // 2 escalated × 1 / 4
    assert_eq!(m.savings_vs_large, Some(1.0 - 31.0 / 60.0));
    assert_eq!(m.quality_times_savings, Some(0.75 * (1.0 - 31.0 / 60.0)));
}

#[test]
fn escalate_everything_is_always_large() {
    // Issue 12: `recommend` printed always_large while the report priced "escalate everything"
    // as a cascade that still runs the small model (61 per request, -1.7 % savings). Escalating
    // every request needs no small answer: the policy is always-large, 240 / 4 = 60 per request.
    let m = hand().at_candidate(0);
    assert!(m.accepts_none);
    assert_eq!(m.non_escalated_quality, None);
    assert_eq!(m.cascade_quality, Some(0.75)); // large quality 1 + 1 + 0 + 1 over 4
    assert_eq!(m.cost_per_request, 60.0); // 4 × 60 / 4, as always-large
    assert_eq!(m.wasted_small_cost_per_request, 0.0);
    assert_eq!(m.savings_vs_large, Some(0.0));
    assert_eq!(
        m.cost_per_request,
        hand().baselines().always_large.cost_per_request
    );
}

#[test]
fn accept_everything_and_baselines() {
    let s = hand();
    let m = s.at_candidate(3);
    assert_eq!(m.escalated, 0);
    assert_eq!(m.non_escalated_quality, Some(0.5));
    assert_eq!(m.cost_per_request, 1.0);
    let b = s.baselines();
    assert_eq!(b.always_small.quality, Some(0.5));
    assert_eq!(b.always_small.cost_per_request, 1.0);
    assert_eq!(b.always_large.quality, Some(0.75));
    assert_eq!(b.always_large.cost_per_request, 60.0);
}

#[test]
fn arbitrary_thresholds_map_to_the_same_split() {
    let s = hand();
    assert_eq!(s.candidate_at(0.6), 1);
    assert_eq!(s.candidate_at(0.9), 1);
    assert_eq!(s.candidate_at(0.95), 0);
    assert_eq!(s.candidate_at(0.0), 3);
    let m = s.at_threshold(0.6);
    assert_eq!(m.threshold, 0.6);
    assert_eq!(m.accepted, 2);
}

/// The obvious twin: for each threshold, loop over every record.
fn naive(input: &SweepInput<'_>, threshold: f64) -> (usize, Option<f64>, Option<f64>, f64, f64) {
    let n = input.confidence.len();
    let (mut acc, mut sq, mut lq, mut cost, mut wasted) = (0usize, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        cost += input.costs.small.get(i);
        let safeguarded = input.safeguarded.is_some_and(|f| f[i]);
        if input.confidence[i] >= threshold && !safeguarded {
            acc += 1;
            sq += input.small_quality[i];
        } else {
            cost += input.costs.large.get(i);
            wasted += input.costs.small.get(i);
            if let Some(l) = input.large_quality {
                lq += l[i];
            }
        }
    }
    let nonesc = (acc > 0).then(|| sq / acc as f64);
    let cascade = input.large_quality.map(|_| (sq + lq) / n as f64);
    if acc == 0 {
        // Escalating everything is always-large: the small model is not run (issue 12).
        let large: f64 = (0..n).map(|i| input.costs.large.get(i)).sum();
        return (acc, nonesc, cascade, large / n as f64, 0.0);
    }
    (acc, nonesc, cascade, cost / n as f64, wasted / n as f64)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

fn close_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => close(a, b),
        (None, None) => true,
        _ => false,
    }
}

proptest! {
    #[test]
    fn fast_sweep_matches_naive_loop(
        rows in prop::collection::vec(
            (0u8..20, prop::bool::ANY, 0.0f64..=1.0, 0.0f64..5.0, 0.0f64..100.0, 0u8..10),
            1..120,
        ),
        binary in prop::bool::ANY,
    ) {
        // Confidences on a coarse grid so ties are common.
        let confidence: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 19.0).collect();
        let small_quality: Vec<f64> = rows
            .iter()
            .map(|r| if binary { f64::from(u8::from(r.1)) } else { r.2 })
            .collect();
        let large_quality: Vec<f64> = rows.iter().map(|r| 1.0 - r.2 / 2.0).collect();
        let small_cost: Vec<f64> = rows.iter().map(|r| r.3).collect();
        let large_cost: Vec<f64> = rows.iter().map(|r| r.4).collect();
        // About one record in ten is safeguarded (as a small-model timeout is).
        let safeguarded: Vec<bool> = rows.iter().map(|r| r.5 == 0).collect();
        let input = SweepInput {
            confidence: &confidence,
            small_quality: &small_quality,
            large_quality: Some(&large_quality),
            costs: CostModel {
                small: CostColumn::PerRecord(&small_cost),
                large: CostColumn::PerRecord(&large_cost),
                baseline: Some(7.5),
            },
            safeguarded: Some(&safeguarded),
        };
        let sweep = Sweep::new(input);
        for j in 0..sweep.candidates() {
            let m = sweep.at_candidate(j);
            let (acc, nonesc, cascade, cost, wasted) = naive(&input, m.threshold);
            prop_assert_eq!(m.accepted, acc);
            prop_assert!(close_opt(m.non_escalated_quality, nonesc));
            prop_assert!(close_opt(m.cascade_quality, cascade));
            prop_assert!(close(m.cost_per_request, cost));
            prop_assert!(close(m.wasted_small_cost_per_request, wasted));
            prop_assert!(close_opt(m.savings_vs_baseline, Some(1.0 - cost / 7.5)));
        }
        // Off-candidate thresholds give the same split as the naive loop too.
        for k in 0..=40 {
            let t = f64::from(k) / 40.0;
            let m = sweep.at_threshold(t);
            let (acc, nonesc, _, cost, _) = naive(&input, t);
            prop_assert_eq!(m.accepted, acc);
            prop_assert!(close_opt(m.non_escalated_quality, nonesc));
            prop_assert!(close(m.cost_per_request, cost));
        }
    }
}

#[test]
fn auroc_by_hand() {
    // Right answers at 0.9 (r0) and 0.2 (r3); wrong at 0.9 (r2) and 0.5 (r1).
    // Pairs (right, wrong): (0.9, 0.9) tie ½, (0.9, 0.5) 1, (0.2, 0.9) 0, (0.2, 0.5) 0 → 1.5 / 4.
    assert_eq!(hand().auroc(), Some(0.375));
}

proptest! {
    #[test]
    fn auroc_matches_pair_count(
        rows in prop::collection::vec((0u8..8, 0.0f64..=1.0), 2..60),
    ) {
        let confidence: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let quality: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let sweep = Sweep::new(SweepInput {
            confidence: &confidence,
            small_quality: &quality,
            large_quality: None,
            costs: CostModel { small: CostColumn::PerRequest(1.0), large: CostColumn::PerRequest(2.0), baseline: None },
        safeguarded: None,
        });
        // Naive: every ordered pair, weighted q_i (1 − q_j).
        let (mut num, mut den) = (0.0, 0.0);
        for (ci, qi) in confidence.iter().zip(&quality) {
            for (cj, qj) in confidence.iter().zip(&quality) {
                let w = qi * (1.0 - qj);
                den += w;
                num += w * if ci > cj { 1.0 } else if ci == cj { 0.5 } else { 0.0 };
            }
        }
        match sweep.auroc() {
            Some(a) => prop_assert!((a - num / den).abs() < 1e-9, "{} vs {}", a, num / den),
            None => prop_assert!(den < 1e-12),
        }
    }
}

proptest! {
    #[test]
    fn ascending_key_preserves_order(a in -1e300f64..1e300, b in -1e300f64..1e300) {
        prop_assert_eq!(ascending_key(a).cmp(&ascending_key(b)), a.partial_cmp(&b).unwrap());
    }
}

#[test]
fn escalating_everything_never_saves_when_the_small_model_is_free() {
    // Always-large and "escalate everything" must use the same large-cost sum,
    // so with a free small model the saving is exactly zero, not ±1 ulp.
    let large: Vec<f64> = (0..1000).map(|i| 0.1 + f64::from(i) * 1e-3 / 7.0).collect();
    let conf: Vec<f64> = (0..1000).map(|i| f64::from(i % 97) / 97.0).collect();
    let q = vec![1.0; 1000];
    let s = Sweep::new(SweepInput {
        confidence: &conf,
        small_quality: &q,
        large_quality: Some(&q),
        costs: CostModel {
            small: CostColumn::PerRequest(0.0),
            large: CostColumn::PerRecord(&large),
            baseline: None,
        },
        safeguarded: None,
    });
    assert_eq!(s.at_candidate(0).savings_vs_large, Some(0.0));
}

#[test]
fn a_resample_with_unit_weights_is_the_sweep_itself() {
    let conf = [0.9, 0.5, 0.9, 0.2];
    let sq = [1.0, 0.0, 0.0, 1.0];
    let lq = [1.0, 1.0, 0.0, 1.0];
    let input = SweepInput {
        confidence: &conf,
        small_quality: &sq,
        large_quality: Some(&lq),
        costs: CostModel {
            small: CostColumn::PerRequest(1.0),
            large: CostColumn::PerRequest(60.0),
            baseline: None,
        },
        safeguarded: None,
    };
    let s = Sweep::new(input);
    let sorted = s.sorted_columns(input);
    let r = s.resampled(&sorted, &[1, 1, 1, 1]);
    for j in 0..s.candidates() {
        assert_eq!(r.at_candidate(j), s.at_candidate(j));
    }
    // Weights (2, 0, 1, 1) by record are the data set {r0, r0, r2, r3}: at 0.9 accept r0, r0,
    // r2 (quality 2/3), escalate r3 (large 1): cascade (2 + 1) / 4, cost (4 + 60) / 4.
    let by_record = [2, 0, 1, 1];
    let weights: Vec<u32> = s.order().iter().map(|&i| by_record[i as usize]).collect();
    let r = s.resampled(&sorted, &weights);
    let m = r.at_candidate(1);
    assert_eq!((m.accepted, m.escalated), (3, 1));
    assert_eq!(m.non_escalated_quality, Some(2.0 / 3.0));
    assert_eq!(m.cascade_quality, Some(0.75));
    assert_eq!(m.cost_per_request, 16.0);
}

proptest! {
    /// A resample's sums, candidate by candidate, against the plain definition: weighted sums
    /// over the first `accepted` positions (forward) and over the rest (backward, as the
    /// escalated sums run), with safeguarded records that count but never accept. Same order of
    /// additions, so the bits agree.
    #[test]
    fn resampled_sums_are_the_weighted_sums(
        rows in prop::collection::vec(
            (0u8..6, 0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..2.0, prop::bool::weighted(0.2), 0u32..4),
            1..60,
        ),
    ) {
        let confidence: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 5.0).collect();
        let sq: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let lq: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let small: Vec<f64> = rows.iter().map(|r| r.3).collect();
        let large: Vec<f64> = rows.iter().map(|r| 10.0 * r.3).collect();
        let guarded: Vec<bool> = rows.iter().map(|r| r.4).collect();
        let input = SweepInput {
            confidence: &confidence,
            small_quality: &sq,
            large_quality: Some(&lq),
            costs: CostModel {
                small: CostColumn::PerRecord(&small),
                large: CostColumn::PerRecord(&large),
                baseline: None,
            },
            safeguarded: Some(&guarded),
        };
        let s = Sweep::new(input);
        let order = s.order().to_vec();
        let weights: Vec<u32> = order.iter().map(|&i| rows[i as usize].5).collect();
        let r = s.resampled(&s.sorted_columns(input), &weights);
        let w = |k: usize| f64::from(weights[k]);
        let at = |k: usize, column: &[f64]| column[order[k] as usize];
        let n = order.len();
        let eligible = n - guarded.iter().filter(|&&g| g).count();
        for j in 0..s.candidates() {
            let a = s.totals(j).accepted;
            let (mut sq_sum, mut count) = (0.0, 0u64);
            for (k, &weight) in weights.iter().enumerate().take(a) {
                sq_sum += w(k) * at(k, &sq);
                count += u64::from(weight);
            }
            let (mut lc, mut sc, mut lqe) = (0.0, 0.0, 0.0);
            for k in (a..n).rev() {
                lc += w(k) * at(k, &large);
                sc += w(k) * at(k, &small);
                lqe += w(k) * at(k, &lq);
            }
            let t = r.totals(j);
            prop_assert_eq!(t.accepted as u64, count);
            prop_assert_eq!(t.small_quality_accepted.to_bits(), sq_sum.to_bits());
            prop_assert_eq!(t.large_cost_escalated.to_bits(), lc.to_bits());
            prop_assert_eq!(t.small_cost_escalated.to_bits(), sc.to_bits());
            prop_assert_eq!(t.large_quality_escalated.unwrap().to_bits(), lqe.to_bits());
            prop_assert!(a <= eligible);
        }
        let total: u64 = weights.iter().map(|&x| u64::from(x)).sum();
        prop_assert_eq!(r.records() as u64, total);
        let mut small_total = 0.0;
        (0..n).for_each(|k| small_total += w(k) * at(k, &small));
        prop_assert_eq!(r.totals(0).small_cost_total.to_bits(), small_total.to_bits());
    }

    /// Issue 18: a sweep of cells (an aggregate, merged from shards in any order) equals the sweep
    /// of the records bit for bit, at every candidate, because every sum is exact.
    #[test]
    fn sweep_of_cells_equals_sweep_of_records_bit_for_bit(
        rows in prop::collection::vec(
            (0u8..15, 0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..3e-3, 0.0f64..7.0),
            1..150,
        ),
        split in 0usize..150,
        binary in prop::bool::ANY,
    ) {
        let confidence: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 14.0 - 0.3).collect();
        let q = |x: f64| if binary { x.round() } else { x };
        let small_quality: Vec<f64> = rows.iter().map(|r| q(r.1)).collect();
        let large_quality: Vec<f64> = rows.iter().map(|r| q(r.2)).collect();
        let small_cost: Vec<f64> = rows.iter().map(|r| r.3).collect();
        let large_cost: Vec<f64> = rows.iter().map(|r| r.4).collect();
        let input = SweepInput {
            confidence: &confidence,
            small_quality: &small_quality,
            large_quality: Some(&large_quality),
            costs: CostModel {
                small: CostColumn::PerRecord(&small_cost),
                large: CostColumn::PerRecord(&large_cost),
                baseline: Some(2.5),
            },
            safeguarded: None,
        };
        let records = Sweep::new(input);
        // Two shards, aggregated apart and merged, the second first.
        let cut = split.min(rows.len());
        let shard = |range: std::ops::Range<usize>| {
            super::cells_of(&input, &|i| u32::from(!range.contains(&i)))
        };
        let mut merged: Vec<(f64, super::Cell)> = Vec::new();
        for ((g, c), cell) in shard(0..cut).into_iter().rev() {
            if g == 0 {
                match merged.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, m)) => m.merge(&cell),
                    None => merged.push((c, cell)),
                }
            }
        }
        for ((g, c), cell) in shard(0..cut) {
            if g == 1 {
                match merged.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, m)) => m.merge(&cell),
                    None => merged.push((c, cell)),
                }
            }
        }
        merged.sort_by(|a, b| b.0.total_cmp(&a.0));
        let cells = Sweep::from_cells(&merged, Some(2.5));
        prop_assert_eq!(cells.candidates(), records.candidates());
        prop_assert_eq!(cells.baselines(), records.baselines());
        prop_assert_eq!(cells.auroc().map(f64::to_bits), records.auroc().map(f64::to_bits));
        for j in 0..records.candidates() {
            prop_assert_eq!(cells.at_candidate(j), records.at_candidate(j));
            prop_assert_eq!(cells.quality_lost(j), records.quality_lost(j));
            prop_assert_eq!(cells.totals(j), records.totals(j));
        }
    }
}
