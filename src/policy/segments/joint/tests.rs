//! Tests of the joint solver: hand-worked cases, brute force on small random inputs, and
//! realistic threshold curves.

use super::*;
use proptest::prelude::*;

fn ch(cost: f64, value: f64) -> Choice {
    Choice { cost, value }
}

/// Exhaustive search under the documented rules: feasibility via
/// `is_feasible`, minimum cost, then larger value, then lexicographically
/// smallest picks (the odometer enumerates in lexicographic order, so the
/// first of equal (cost, value) policies is kept).
fn brute_force(segments: &[Vec<Choice>]) -> Option<Solution> {
    if segments.iter().any(Vec::is_empty) {
        return None;
    }
    let mut picks = vec![0; segments.len()];
    let mut best: Option<Solution> = None;
    loop {
        if is_feasible(segments, &picks) {
            let (cost, value) = policy_totals(segments, &picks);
            let better = best
                .as_ref()
                .is_none_or(|b| cost < b.cost || (cost == b.cost && value > b.value));
            if better {
                best = Some(Solution {
                    picks: picks.clone(),
                    cost,
                    value,
                    exact: true,
                });
            }
        }
        let mut s = segments.len();
        loop {
            if s == 0 {
                return best;
            }
            s -= 1;
            picks[s] += 1;
            if picks[s] < segments[s].len() {
                break;
            }
            picks[s] = 0;
        }
    }
}

/// Independent exact method for medium instances: unpruned Pareto DP
/// carrying full pick vectors (needs exact arithmetic for the tie rule).
fn plain_pareto_dp(segments: &[Vec<Choice>]) -> Option<Solution> {
    let mut states: Vec<(f64, f64, Vec<usize>)> = vec![(0.0, 0.0, Vec::new())];
    for seg in segments {
        let mut next: Vec<(f64, f64, Vec<usize>)> = Vec::new();
        for (c, v, picks) in &states {
            for (j, ch) in seg.iter().enumerate() {
                let mut p = picks.clone();
                p.push(j);
                next.push((c + ch.cost, v + ch.value, p));
            }
        }
        next.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(b.1.total_cmp(&a.1))
                .then(a.2.cmp(&b.2))
        });
        states.clear();
        for s in next {
            if states.last().is_none_or(|l| s.1 > l.1) {
                states.push(s);
            }
        }
    }
    let tol = feasibility_tolerance(segments);
    states
        .into_iter()
        .find(|s| s.1 >= -tol)
        .map(|(cost, value, picks)| Solution {
            picks,
            cost,
            value,
            exact: true,
        })
}

/// splitmix64: tiny deterministic generator for test instances.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Threshold-curve-like instance with exact (integer / dyadic) numbers:
/// candidate j accepts the j·step most confident records; cost falls
/// with j (fewer escalations), value = Σ (quality − 13/16) over accepted
/// records rises while confident records are mostly right, then falls.
fn realistic(seed: u64, segments: usize, candidates: usize) -> Vec<Vec<Choice>> {
    let mut rng = Rng(seed);
    (0..segments)
        .map(|_| {
            let step = 1 + (rng.next_u64() % 3) as usize;
            let escalation_cost = (1 + rng.next_u64() % 5) as f64;
            let hi = 0.9 + 0.1 * rng.unit();
            let lo = 0.2 + 0.5 * rng.unit();
            let records = (candidates - 1) * step;
            let mut value = 0.0;
            (0..candidates)
                .map(|j| {
                    let accepted = j * step;
                    let choice = ch(escalation_cost * (records - accepted) as f64, value);
                    for i in accepted..(accepted + step).min(records) {
                        let p = hi - (hi - lo) * (i as f64 / records as f64);
                        value += if rng.unit() < p {
                            3.0 / 16.0
                        } else {
                            -13.0 / 16.0
                        };
                    }
                    choice
                })
                .collect()
        })
        .collect()
}

// ---- hand-worked examples ----

#[test]
fn pooling_lets_one_segment_run_negative() {
    // A: escalate all (10, 0) or accept (4, -1) which alone misses by 1.
    // B: escalate all (10, 0) or accept (5, +3): 3 units of slack.
    // [0,0]: 20, 0 ok   [0,1]: 15, 3 ok   [1,0]: 14, -1 infeasible
    // [1,1]: 4 + 5 = 9, -1 + 3 = 2 ok  -> optimum, A negative on its own.
    let segs = vec![
        vec![ch(10.0, 0.0), ch(4.0, -1.0)],
        vec![ch(10.0, 0.0), ch(5.0, 3.0)],
    ];
    let s = solve(&segs).unwrap();
    assert_eq!(s.picks, vec![1, 1]);
    assert_eq!((s.cost, s.value, s.exact), (9.0, 2.0, true));
    assert!(segs[0][s.picks[0]].value < 0.0);
}

#[test]
fn infeasible_returns_none() {
    // Max value: A -1 (index 1) + B 0.5 (index 1) = -0.5 < 0.
    let segs = vec![
        vec![ch(1.0, -2.0), ch(3.0, -1.0)],
        vec![ch(1.0, 0.0), ch(2.0, 0.5)],
    ];
    assert_eq!(solve(&segs), None);
    assert_eq!(brute_force(&segs), None);
    assert_eq!(solve(&[vec![ch(1.0, 1.0)], vec![]]), None);
}

#[test]
fn pinned_segment_forces_the_other() {
    // A pinned at (6, -2); B needs value >= 2: index 1 (3,1) is short,
    // index 2 (5,2) is the cheapest that works: total 11, value 0.
    // Index 3 (8,3) also works but costs 14.
    let segs = vec![
        vec![ch(6.0, -2.0)],
        vec![ch(1.0, 0.0), ch(3.0, 1.0), ch(5.0, 2.0), ch(8.0, 3.0)],
    ];
    let s = solve(&segs).unwrap();
    assert_eq!((s.picks, s.cost, s.value), (vec![0, 2], 11.0, 0.0));
}

#[test]
fn three_segments_with_dominated_candidate() {
    // A: (2,1) (3,0) dominated by (2,1) (4,2)
    // B: (1,-1) (2,0) (3,1)      C: (0,-2) (5,0)
    // With C at (0,-2) we need A+B >= 2: A(2,1)+B(3,1)=5 or A(4,2)+B(2,0)=6
    //   -> best 5 + 0 = 5.  With C at (5,0): A(2,1)+B(1,-1)=3 -> 8.
    // Optimum [0, 2, 0]: cost 5, value 1 + 1 - 2 = 0.
    let segs = vec![
        vec![ch(2.0, 1.0), ch(3.0, 0.0), ch(4.0, 2.0)],
        vec![ch(1.0, -1.0), ch(2.0, 0.0), ch(3.0, 1.0)],
        vec![ch(0.0, -2.0), ch(5.0, 0.0)],
    ];
    let s = solve(&segs).unwrap();
    assert_eq!(
        (s.picks.clone(), s.cost, s.value),
        (vec![0, 2, 0], 5.0, 0.0)
    );
    assert_eq!(Some(s), brute_force(&segs));
}

#[test]
fn tie_rule_value_then_lexicographic() {
    // C pinned at (0,-1), so A + B must reach 1.
    // Value tie-break: [0,1,0] = 1+3, 0+1 = (4, 1); [1,0,0] = 3+1, 2+0 = (4, 2);
    // [1,1,0] = (6, 3); [0,0,0] = (2, 0) infeasible -> [1,0,0] (larger value).
    let segs = vec![
        vec![ch(1.0, 0.0), ch(3.0, 2.0)],
        vec![ch(1.0, 0.0), ch(3.0, 1.0)],
        vec![ch(0.0, -1.0)],
    ];
    assert_eq!(solve(&segs).unwrap().picks, vec![1, 0, 0]);
    // Lexicographic: [0,1,0] and [1,0,0] both (3, 1); [0,0,0] = (4, 2);
    // [1,1,0] = (2, 0) infeasible -> [0,1,0]. Duplicates keep index 0.
    let segs = vec![
        vec![ch(2.0, 1.0), ch(1.0, 0.0)],
        vec![ch(2.0, 1.0), ch(1.0, 0.0)],
        vec![ch(0.0, -1.0), ch(0.0, -1.0)],
    ];
    assert_eq!(solve(&segs).unwrap().picks, vec![0, 1, 0]);
}

#[test]
fn tolerance_absorbs_round_off() {
    // 0.3 - 0.1 - 0.2 = -2.8e-17 in f64, well inside the 1e-9 tolerance.
    let segs = vec![vec![ch(1.0, 0.3)], vec![ch(1.0, -0.1)], vec![ch(1.0, -0.2)]];
    assert!(policy_totals(&segs, &[0, 0, 0]).1 < 0.0);
    assert!(is_feasible(&segs, &[0, 0, 0]));
    assert_eq!(solve(&segs).unwrap().picks, vec![0, 0, 0]);
    // A real shortfall is not absorbed.
    assert!(!is_feasible(&[vec![ch(0.0, -1e-6)]], &[0]));
}

#[test]
fn no_segments_is_the_empty_policy() {
    let s = solve(&[]).unwrap();
    assert_eq!(
        (s.picks.len(), s.cost, s.value, s.exact),
        (0, 0.0, 0.0, true)
    );
}

// ---- randomized ----

fn instance(
    costs: std::ops::RangeInclusive<i32>,
    values: std::ops::RangeInclusive<i32>,
) -> impl Strategy<Value = Vec<Vec<Choice>>> {
    let seg = prop::collection::vec((costs, values), 1..=6);
    prop::collection::vec(seg, 1..=5).prop_map(|segs| {
        segs.into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|(c, v)| ch(f64::from(c) / 4.0, f64::from(v) / 4.0))
                    .collect()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn matches_brute_force_fine(segs in instance(0..=40, -24..=20)) {
        prop_assert_eq!(solve(&segs), brute_force(&segs));
    }

    #[test]
    fn matches_brute_force_coarse_ties(segs in instance(0..=3, -3..=2)) {
        prop_assert_eq!(solve(&segs), brute_force(&segs));
    }

    #[test]
    fn tiny_state_cap_stays_feasible(segs in instance(0..=40, -24..=20), cap in 1usize..6) {
        let best = brute_force(&segs);
        let got = solve_with_limit(&segs, cap);
        prop_assert_eq!(got.is_some(), best.is_some());
        if let (Some(got), Some(best)) = (got, best) {
            prop_assert!(is_feasible(&segs, &got.picks));
            prop_assert!(got.cost >= best.cost);
            if got.exact {
                prop_assert_eq!(got, best);
            }
        }
    }
}

#[test]
fn realistic_medium_matches_plain_pareto_dp() {
    for seed in 0..6 {
        let segs = realistic(seed, 5, 40);
        assert_eq!(solve(&segs), plain_pareto_dp(&segs), "seed {seed}");
    }
}

#[test]
fn realistic_large_is_exact_and_beats_greedy() {
    for seed in 10..13 {
        let segs = realistic(seed, 12, 300);
        let problem = Problem::new(&segs);
        let (rounded, _) = problem.lp_greedy();
        let greedy_cost = problem.pos_totals(&rounded).0;
        let improved = problem.pos_totals(&problem.improve(rounded)).0;
        let s = solve(&segs).unwrap();
        assert!(s.exact, "seed {seed}");
        assert!(is_feasible(&segs, &s.picks));
        assert!(s.cost <= improved && improved <= greedy_cost, "seed {seed}");
        // The safety valve still yields a feasible, no-better answer.
        let capped = solve_with_limit(&segs, 12).unwrap();
        assert!(!capped.exact && is_feasible(&segs, &capped.picks));
        assert!(capped.cost >= s.cost && capped.cost <= improved);
    }
}

/// Every combination's (Σ cost, Σ value), by brute force.
fn all_totals(segments: &[Vec<Choice>]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut picks = vec![0; segments.len()];
    loop {
        out.push(policy_totals(segments, &picks));
        let mut s = segments.len();
        loop {
            if s == 0 {
                return out;
            }
            s -= 1;
            picks[s] += 1;
            if picks[s] < segments[s].len() {
                break;
            }
            picks[s] = 0;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Issue 12: each member of the Lagrangian path minimises Σ cost − λ Σ value over every
    /// combination (brute force) for a λ between the cost-per-value of the step into it and of
    /// the step out of it; consecutive members differ in one segment, and value never falls.
    #[test]
    fn lagrangian_path_members_are_lambda_optimal(segs in instance(1..=20, -12..=10)) {
        prop_assume!(segs.iter().all(|s| !s.is_empty()));
        let path = lagrangian_path(&segs);
        let totals: Vec<(f64, f64)> = path.iter().map(|p| policy_totals(&segs, p)).collect();
        let combos = all_totals(&segs);
        // λ of each step: Δcost / Δvalue (steps have Δvalue > 0, Δcost > 0).
        let lambdas: Vec<f64> = totals
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) / (w[1].1 - w[0].1))
            .collect();
        for (k, &(cost, value)) in totals.iter().enumerate() {
            let lo = if k == 0 { 0.0 } else { lambdas[k - 1] };
            let hi = lambdas.get(k).copied().unwrap_or(lo.max(1.0) * 2.0);
            let lambda = 0.5 * (lo + hi);
            let mine = cost - lambda * value;
            let best = combos
                .iter()
                .map(|(c, v)| c - lambda * v)
                .fold(f64::INFINITY, f64::min);
            prop_assert!(mine <= best + 1e-9 * (1.0 + best.abs()), "member {} λ {}", k, lambda);
            if k > 0 {
                let changed = path[k].iter().zip(&path[k - 1]).filter(|(a, b)| a != b).count();
                prop_assert_eq!(changed, 1);
                prop_assert!(value > totals[k - 1].1);
            }
        }
    }
}
