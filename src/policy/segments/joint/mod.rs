//! Joint (pooled) threshold selection across segments: an exact solver for
//! the multiple-choice knapsack problem with one "Σ value ≥ 0" constraint.
//!
//! **Owns:** given, for every segment, its candidate thresholds already
//! reduced to two numbers each ([`Choice::cost`], to minimise, and
//! [`Choice::value`], whose sum over the picks must be non-negative), choose
//! exactly one candidate per segment minimising the total cost subject to
//! that single pooled constraint; the one definition of feasibility
//! ([`is_feasible`], with its round-off tolerance); the tie rule; and the
//! Lagrangian path ([`lagrangian_path`]), the one-parameter family of
//! policies that are cheapest for some shadow price λ of the value.
//!
//! **Must not:** compute costs, qualities or thresholds, know what a segment
//! or metric means, read configuration, do any I/O or printing, or depend on
//! anything beyond `std`. The caller maps its objective (cost under a quality
//! floor, cascade quality, budget) to `(cost, value)` pairs and maps the
//! returned picks back to thresholds. A pinned segment is simply a segment
//! with one candidate.
//!
//! # Definitions
//! * A policy is one pick per segment. Its totals are summed in segment order
//!   starting from `0.0` ([`policy_totals`]).
//! * Feasible iff total value ≥ −[`feasibility_tolerance`], i.e.
//!   `−1e-9 × (1 + Σ_s max_j |value[s][j]|)`. The scale is per instance, not
//!   per policy, so feasibility is a plain threshold on the value sum.
//! * Tie rule among minimum-cost feasible policies: larger total value wins,
//!   then the lexicographically smallest picks (original candidate indices,
//!   segment by segment in input order). This is guaranteed exactly when all
//!   partial sums are exact in `f64` (e.g. integer or dyadic inputs of
//!   moderate size); otherwise the cost is optimal up to float round-off.
//!
//! # Algorithm
//! 1. Per segment, drop dominated candidates (another has cost ≤ and value ≥;
//!    exact duplicates keep the smallest index) and build the upper convex
//!    hull of the rest.
//! 2. LP greedy (the classic MCKP relaxation): start every segment at its
//!    cheapest candidate, take hull steps by decreasing value per cost until
//!    feasible, then move each segment to its cheapest still-feasible
//!    candidate. This is the incumbent; the last step's cost per value is the
//!    Lagrange multiplier λ.
//! 3. Exact search: dynamic programming over segments (input order) keeping
//!    the Pareto frontier of partial (cost, value) states. A state is pruned
//!    when it cannot become feasible or when cost + LP-relaxation bound of
//!    the remaining segments exceeds the cost limit; among states whose
//!    cheapest completion is already feasible only the cheapest is kept (and
//!    it may improve the incumbent). Candidates whose λ-reduced cost alone
//!    exceeds the limit are dropped up front.
//! 4. The cost limit deepens iteratively: LP bound + gap/256, gap/128, … up
//!    to the incumbent (gap = incumbent − LP bound). The first pass that
//!    finds a feasible policy has found the optimum; tight limits keep the
//!    frontier small.
//! 5. The best feasible final state under the tie rule is the answer. Every
//!    bound is compared with a 1e-9 relative margin (and a 2× tolerance
//!    value slack), so round-off cannot prune an optimal or tied state.
//!
//! # Worst case and safety valves
//! The problem is NP-hard: adversarial (subset-sum-like) inputs can make the
//! frontier grow like the product of the segment sizes. Two valves bound the
//! work, both derived from `max_states` ([`DEFAULT_MAX_STATES`]):
//! * stored states per pass ≤ `max_states` (each layer gets an equal share
//!   of what is left; a layer over its share keeps its lowest-bound states);
//! * examined (state, candidate) pairs over the whole solve
//!   ≤ 8 × `max_states` (before a layer would exceed its equal share of the
//!   remaining pairs, its input frontier is thinned to the lowest bounds).
//!
//! Either cut makes the result a heuristic, reported as
//! [`Solution::exact`] `== false`; it is still feasible and never worse than
//! the LP-greedy incumbent. With the default this bounds a solve to roughly
//! a second and ~100 MB; realistic threshold curves (50 segments × 2,000
//! candidates) take tens of milliseconds and stay far below both caps.

mod hull;
mod problem;

use problem::Problem;

/// Relative tolerance of the feasibility test (see [`feasibility_tolerance`]).
pub const FEASIBILITY_REL_TOL: f64 = 1e-9;

/// Default cap on stored DP states per search pass (all segments together);
/// also sets the pair budget (see the module docs).
pub const DEFAULT_MAX_STATES: usize = 2_000_000;

/// Relative safety margin added to cost bounds before pruning on them, so
/// float round-off in the bounds can never prune an optimal state.
const BOUND_REL_MARGIN: f64 = 1e-9;

/// The first search pass allows costs up to LP bound + gap / this, where
/// gap = greedy incumbent − LP bound (a power of [`LIMIT_GROWTH`]).
const FIRST_LIMIT_DIVISOR: f64 = 256.0;

/// Work valve: at most this many (state, candidate) pairs per allowed stored
/// state are examined over the whole solve.
const PAIRS_PER_STATE: u64 = 8;

/// Factor by which each further pass widens the allowed gap.
const LIMIT_GROWTH: f64 = 2.0;

/// One candidate threshold of one segment, reduced to its two totals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Contribution to the objective (minimised); any finite number.
    pub cost: f64,
    /// Contribution to the constraint Σ value ≥ 0; any finite number.
    pub value: f64,
}

/// An optimal (or, if `exact` is false, best found) feasible policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Chosen candidate index per segment, in input order.
    pub picks: Vec<usize>,
    /// Total cost of `picks` as computed by [`policy_totals`].
    pub cost: f64,
    /// Total value of `picks` as computed by [`policy_totals`].
    pub value: f64,
    /// True if the search completed, i.e. the result is optimal under the
    /// tie rule; false if a safety valve cut the search short (the result is
    /// then feasible but possibly suboptimal).
    pub exact: bool,
}

/// Absolute tolerance of the feasibility test for this instance:
/// `1e-9 × (1 + Σ_s max_j |value[s][j]|)`.
pub fn feasibility_tolerance(segments: &[Vec<Choice>]) -> f64 {
    let scale: f64 = segments
        .iter()
        .map(|seg| max_abs(seg.iter().map(|c| c.value)))
        .sum();
    FEASIBILITY_REL_TOL * (1.0 + scale)
}

/// Total `(cost, value)` of a policy, summed in segment order from `0.0`.
///
/// Panics if `picks` does not have one in-range index per segment.
pub fn policy_totals(segments: &[Vec<Choice>], picks: &[usize]) -> (f64, f64) {
    assert_eq!(segments.len(), picks.len(), "need one pick per segment");
    segments
        .iter()
        .zip(picks)
        .fold((0.0, 0.0), |(cost, value), (seg, &j)| {
            (cost + seg[j].cost, value + seg[j].value)
        })
}

/// The one definition of feasibility: total value (per [`policy_totals`])
/// ≥ −[`feasibility_tolerance`].
///
/// Panics if `picks` does not have one in-range index per segment.
pub fn is_feasible(segments: &[Vec<Choice>], picks: &[usize]) -> bool {
    value_ok(
        policy_totals(segments, picks).1,
        feasibility_tolerance(segments),
    )
}

/// Minimum-cost feasible policy with [`DEFAULT_MAX_STATES`]; `None` iff no
/// policy is feasible (or some segment has no candidates).
///
/// Panics if any cost or value is not finite.
pub fn solve(segments: &[Vec<Choice>]) -> Option<Solution> {
    solve_with_limit(segments, DEFAULT_MAX_STATES)
}

/// Like [`solve`] but with an explicit state cap (at least 1; see the module
/// docs for what it bounds). A cut search returns `exact == false`.
///
/// Panics if any cost or value is not finite.
pub fn solve_with_limit(segments: &[Vec<Choice>], max_states: usize) -> Option<Solution> {
    for seg in segments {
        assert!(seg.len() < u32::MAX as usize, "too many candidates");
        for c in seg {
            assert!(
                c.cost.is_finite() && c.value.is_finite(),
                "costs and values must be finite"
            );
        }
    }
    if segments.iter().any(Vec::is_empty) {
        return None;
    }
    let max_states = max_states.clamp(1, (u32::MAX / 4) as usize);
    Problem::new(segments).solve(max_states)
}

/// The one-parameter family of Lagrangian policies: for a shadow price λ ≥ 0 of the value, the
/// policy minimising Σ cost − λ Σ value picks in each segment a point of its upper hull; as λ
/// grows the picks step along the hulls in order of decreasing value per cost. Returned from
/// λ = 0 (every segment at its cheapest candidate) to λ = ∞ (every segment at its most
/// valuable one), one member per step. Empty when a segment has no candidates.
///
/// Panics if any cost or value is not finite.
pub fn lagrangian_path(segments: &[Vec<Choice>]) -> Vec<Vec<usize>> {
    for seg in segments {
        for c in seg {
            assert!(
                c.cost.is_finite() && c.value.is_finite(),
                "costs and values must be finite"
            );
        }
    }
    if segments.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    Problem::new(segments).path()
}

fn value_ok(total_value: f64, tol: f64) -> bool {
    total_value >= -tol
}

fn max_abs(xs: impl Iterator<Item = f64>) -> f64 {
    xs.fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests;
