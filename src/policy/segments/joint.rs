//! Joint (pooled) threshold selection across segments: an exact solver for
//! the multiple-choice knapsack problem with one "Σ value ≥ 0" constraint.
//!
//! **Owns:** given, for every segment, its candidate thresholds already
//! reduced to two numbers each ([`Choice::cost`], to minimise, and
//! [`Choice::value`], whose sum over the picks must be non-negative), choose
//! exactly one candidate per segment minimising the total cost subject to
//! that single pooled constraint; the one definition of feasibility
//! ([`is_feasible`], with its round-off tolerance); and the tie rule.
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

use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

fn value_ok(total_value: f64, tol: f64) -> bool {
    total_value >= -tol
}

fn max_abs(xs: impl Iterator<Item = f64>) -> f64 {
    xs.fold(0.0, |m, x| m.max(x.abs()))
}

/// A non-dominated candidate of one segment.
#[derive(Debug, Clone, Copy)]
struct Point {
    /// Original candidate index.
    idx: usize,
    cost: f64,
    value: f64,
}

/// Step between consecutive upper-hull points of one segment.
#[derive(Debug, Clone, Copy)]
struct Increment {
    seg: usize,
    /// Position (in the segment's front) of the point this step reaches.
    to: usize,
    dc: f64,
    dv: f64,
}

/// LP relaxation of the remaining segments: the least cost needed to gain a
/// given value, as a convex piecewise-linear function.
struct LpBound {
    /// `cum_value[i]`, `cum_cost[i]`: totals after the first `i` increments,
    /// starting from every remaining segment at its cheapest point.
    cum_value: Vec<f64>,
    cum_cost: Vec<f64>,
}

impl LpBound {
    /// Lower bound on the cost of the remaining segments given their value
    /// must reach `need`. Beyond the reachable maximum it returns the cost at
    /// the maximum (unreachable states are pruned separately).
    fn min_cost(&self, need: f64) -> f64 {
        let i = self.cum_value.partition_point(|&v| v < need);
        if i == 0 {
            return self.cum_cost[0];
        }
        if i == self.cum_value.len() {
            return self.cum_cost[i - 1];
        }
        let (v0, v1) = (self.cum_value[i - 1], self.cum_value[i]);
        let (c0, c1) = (self.cum_cost[i - 1], self.cum_cost[i]);
        let t = ((need - v0) / (v1 - v0)).clamp(0.0, 1.0);
        c0 + t * (c1 - c0)
    }
}

/// What the DP needs to know about the segments not yet processed.
struct Suffix {
    first: usize,
    lp: LpBound,
    /// Σ of the largest values (approximate, used with slack).
    max_value: f64,
    /// Σ of the values of the cheapest points (approximate prefilter).
    cheapest_value: f64,
}

/// A partial policy in the DP frontier.
#[derive(Debug, Clone, Copy)]
struct State {
    cost: f64,
    value: f64,
    /// cost + LP bound of the segments after this layer.
    bound: f64,
    /// Lexicographic rank of this state's picks within its layer.
    rank: u32,
}

/// Back pointer of a stored state.
#[derive(Debug, Clone, Copy)]
struct Back {
    parent: u32,
    /// Original candidate index picked in this layer's segment.
    choice: u32,
}

/// A candidate new state: frontier state `parent` plus candidate `list`.
#[derive(Debug, Clone, Copy)]
struct Cand {
    cost: f64,
    value: f64,
    /// cost + LP bound of the remaining segments.
    bound: f64,
    parent: u32,
    parent_rank: u32,
    choice: u32,
    list: u32,
}

impl Cand {
    /// Sweep order: cost ascending, value descending, then lexicographic.
    fn key_cmp(&self, other: &Self) -> Ordering {
        self.cost
            .total_cmp(&other.cost)
            .then(other.value.total_cmp(&self.value))
            .then(self.parent_rank.cmp(&other.parent_rank))
            .then(self.choice.cmp(&other.choice))
    }
}

// Reversed so that `BinaryHeap` (a max-heap) pops the smallest key first.
impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key_cmp(self)
    }
}

impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Cand {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Cand {}

/// Safety-valve limits shared by all search passes.
struct Budget {
    /// Cap on stored states per pass (all layers together).
    max_states: usize,
    /// Remaining (state, candidate) pairs that may still be examined.
    pairs_left: u64,
}

/// Best feasible policy known so far (original indices).
struct Incumbent {
    cost: f64,
    picks: Vec<usize>,
}

struct Problem<'a> {
    segments: &'a [Vec<Choice>],
    tol: f64,
    /// Σ_s max_j |cost|.
    cost_scale: f64,
    /// Σ_s max_j |value|.
    value_scale: f64,
    /// Per segment: non-dominated candidates, cost and value strictly rising.
    fronts: Vec<Vec<Point>>,
    /// All segments' hull steps by decreasing value per cost.
    incs: Vec<Increment>,
}

impl<'a> Problem<'a> {
    fn new(segments: &'a [Vec<Choice>]) -> Self {
        let fronts: Vec<Vec<Point>> = segments.iter().map(|s| pareto_front(s)).collect();
        let mut incs = Vec::new();
        for (seg, front) in fronts.iter().enumerate() {
            let hull = upper_hull(front);
            for w in hull.windows(2) {
                let (a, b) = (front[w[0]], front[w[1]]);
                incs.push(Increment {
                    seg,
                    to: w[1],
                    dc: b.cost - a.cost,
                    dv: b.value - a.value,
                });
            }
        }
        // Within a segment slopes strictly decrease, so the (seg, to)
        // tie-break never reorders one segment's steps.
        incs.sort_by(|a, b| {
            slope(b.dc, b.dv)
                .total_cmp(&slope(a.dc, a.dv))
                .then(a.seg.cmp(&b.seg))
                .then(a.to.cmp(&b.to))
        });
        let cost_scale = segments
            .iter()
            .map(|seg| max_abs(seg.iter().map(|c| c.cost)))
            .sum();
        let value_scale = segments
            .iter()
            .map(|seg| max_abs(seg.iter().map(|c| c.value)))
            .sum();
        Problem {
            segments,
            tol: feasibility_tolerance(segments),
            cost_scale,
            value_scale,
            fronts,
            incs,
        }
    }

    /// Totals of a policy given as positions in the fronts. Same summation
    /// order as [`policy_totals`], hence bit-identical results.
    fn pos_totals(&self, pos: &[usize]) -> (f64, f64) {
        self.fronts
            .iter()
            .zip(pos)
            .fold((0.0, 0.0), |(c, v), (f, &p)| {
                (c + f[p].cost, v + f[p].value)
            })
    }

    fn pos_feasible(&self, pos: &[usize]) -> bool {
        value_ok(self.pos_totals(pos).1, self.tol)
    }

    fn pos_picks(&self, pos: &[usize]) -> Vec<usize> {
        self.fronts
            .iter()
            .zip(pos)
            .map(|(f, &p)| f[p].idx)
            .collect()
    }

    fn solution(&self, picks: Vec<usize>, exact: bool) -> Solution {
        let (cost, value) = policy_totals(self.segments, &picks);
        Solution {
            picks,
            cost,
            value,
            exact,
        }
    }

    fn solve(&self, max_states: usize) -> Option<Solution> {
        let top: Vec<usize> = self.fronts.iter().map(|f| f.len() - 1).collect();
        if !self.pos_feasible(&top) {
            return None; // even the largest value in every segment fails
        }
        let bottom = vec![0; self.fronts.len()];
        if self.pos_feasible(&bottom) {
            // Every other policy costs strictly more.
            return Some(self.solution(self.pos_picks(&bottom), true));
        }
        let (greedy, lambda) = self.lp_greedy();
        let greedy = self.improve(greedy);
        let mut incumbent = Incumbent {
            cost: self.pos_totals(&greedy).0,
            picks: self.pos_picks(&greedy),
        };
        // Iterative deepening on the cost limit: search exactly among
        // policies costing at most `limit`, starting just above the LP
        // bound; the first pass that finds a feasible policy has found the
        // optimum (a tight limit keeps the frontier small). The last rung is
        // the incumbent itself, so at most log2(FIRST_LIMIT_DIVISOR) + 1
        // passes run.
        let lp_bound = self.suffix(0).lp.min_cost(-2.0 * self.tol);
        let gap = (incumbent.cost - lp_bound).max(0.0);
        let mut budget = Budget {
            max_states,
            pairs_left: (max_states as u64).saturating_mul(PAIRS_PER_STATE),
        };
        let mut fraction = 1.0 / FIRST_LIMIT_DIVISOR;
        loop {
            let limit = (lp_bound + gap * fraction).min(incumbent.cost);
            let last = fraction >= 1.0 || limit >= incumbent.cost;
            let limit = if last { incumbent.cost } else { limit };
            let cands = self.reduce(lambda, limit);
            let (best, complete) = self.search(&cands, &mut incumbent, limit, &mut budget);
            if best.is_none() && complete && !last {
                fraction *= LIMIT_GROWTH;
                continue;
            }
            let fallback = self.solution(incumbent.picks, complete);
            return Some(match best.map(|picks| self.solution(picks, complete)) {
                Some(found) if !tie_rule_better(&fallback, &found) => found,
                _ => fallback,
            });
        }
    }

    /// LP-relaxation greedy rounded up to a feasible policy (positions), and
    /// the cost per value of the last step taken (the Lagrange multiplier).
    /// Requires the cheapest policy infeasible and the top policy feasible.
    fn lp_greedy(&self) -> (Vec<usize>, f64) {
        let mut pos = vec![0; self.fronts.len()];
        let mut approx: f64 = self.fronts.iter().map(|f| f[0].value).sum();
        let mut lambda = 0.0;
        for inc in &self.incs {
            if approx >= -self.tol && self.pos_feasible(&pos) {
                break;
            }
            pos[inc.seg] = inc.to;
            approx += inc.dv;
            lambda = inc.dc / inc.dv;
        }
        // After all steps every segment sits at its top point: feasible.
        (pos, lambda)
    }

    /// Greedily move each segment to its cheapest point that keeps the
    /// policy feasible.
    fn improve(&self, mut pos: Vec<usize>) -> Vec<usize> {
        for s in 0..pos.len() {
            let old = pos[s];
            for q in 0..old {
                pos[s] = q;
                if self.pos_feasible(&pos) {
                    break;
                }
                pos[s] = old;
            }
        }
        pos
    }

    /// Lagrangian variable reduction. For λ ≥ 0 and any feasible policy
    /// (Σ value ≥ −2·tol allowing for round-off),
    /// cost ≥ Σ_s min_j (c − λv) + Σ_s r_s − 2λ·tol with reduced costs
    /// r ≥ 0, so a candidate whose own r already pushes that bound above
    /// `cost_limit` is in no policy costing ≤ `cost_limit`.
    fn reduce(&self, lambda: f64, cost_limit: f64) -> Vec<Vec<Point>> {
        // Any λ ≥ 0 gives a valid bound; guard against a degenerate step.
        let lambda = if lambda.is_finite() { lambda } else { 0.0 };
        let reduced = |p: &Point| p.cost - lambda * p.value;
        let mins: Vec<f64> = self
            .fronts
            .iter()
            .map(|f| f.iter().map(reduced).fold(f64::INFINITY, f64::min))
            .collect();
        let base: f64 = mins.iter().sum();
        let margin = BOUND_REL_MARGIN * (1.0 + self.cost_scale + lambda * self.value_scale);
        let limit = cost_limit + margin - base + 2.0 * lambda * self.tol;
        self.fronts
            .iter()
            .zip(&mins)
            .map(|(f, &m)| {
                f.iter()
                    .filter(|p| reduced(p) - m <= limit)
                    .copied()
                    .collect()
            })
            .collect()
    }

    /// Bounds for segments `first..`.
    fn suffix(&self, first: usize) -> Suffix {
        let rest = &self.fronts[first..];
        let mut cum_value = vec![rest.iter().map(|f| f[0].value).sum::<f64>()];
        let mut cum_cost = vec![rest.iter().map(|f| f[0].cost).sum::<f64>()];
        for inc in self.incs.iter().filter(|inc| inc.seg >= first) {
            cum_value.push(cum_value[cum_value.len() - 1] + inc.dv);
            cum_cost.push(cum_cost[cum_cost.len() - 1] + inc.dc);
        }
        Suffix {
            first,
            cheapest_value: cum_value[0],
            max_value: rest.iter().map(|f| f[f.len() - 1].value).sum(),
            lp: LpBound {
                cum_value,
                cum_cost,
            },
        }
    }

    /// Whether a partial policy with total `value` stays feasible when every
    /// remaining segment takes its cheapest point (exact, same summation
    /// order as [`policy_totals`]).
    fn cheapest_completion_feasible(&self, value: f64, rest: &Suffix) -> bool {
        if value + rest.cheapest_value < -2.0 * self.tol {
            return false;
        }
        let total = self.fronts[rest.first..]
            .iter()
            .fold(value, |v, f| v + f[0].value);
        value_ok(total, self.tol)
    }

    /// The Pareto DP. Returns the best feasible final policy (original
    /// indices) and whether no safety valve cut it.
    fn search(
        &self,
        cands: &[Vec<Point>],
        incumbent: &mut Incumbent,
        limit: f64,
        budget: &mut Budget,
    ) -> (Option<Vec<usize>>, bool) {
        let n = self.fronts.len();
        let cost_margin = BOUND_REL_MARGIN * (1.0 + self.cost_scale);
        let mut frontier = vec![State {
            cost: 0.0,
            value: 0.0,
            bound: 0.0,
            rank: 0,
        }];
        let mut backs: Vec<Vec<Back>> = Vec::with_capacity(n);
        let mut stored = 1usize;
        let mut exact = true;
        for (k, seg_cands) in cands.iter().enumerate() {
            // Work valve: this layer may examine an equal share of the
            // remaining (state, candidate) pair budget.
            let width = seg_cands.len().max(1) as u64;
            let allowance = budget.pairs_left / (n - k) as u64;
            if frontier.len() as u64 * width > allowance {
                let keep = ((allowance / width) as usize).max(1);
                if keep < frontier.len() {
                    thin(&mut frontier, backs.last_mut(), keep);
                    exact = false;
                }
            }
            budget.pairs_left = budget
                .pairs_left
                .saturating_sub(frontier.len() as u64 * width);
            let rest = self.suffix(k + 1);
            let layer = Layer {
                problem: self,
                frontier: &frontier,
                cands: seg_cands,
                rest: &rest,
                slack: 2.0 * self.tol,
                cost_limit: limit.min(incumbent.cost) + cost_margin,
            };
            let share = (budget.max_states.saturating_sub(stored) / (n - k)).max(1);
            let (next, satisfied, truncated) = layer.expand(share);
            exact &= !truncated;
            if let Some(s) = satisfied {
                let cost = self.fronts[k + 1..]
                    .iter()
                    .fold(s.cost, |c, f| c + f[0].cost);
                if cost < incumbent.cost {
                    let mut picks = trace(&backs, s.parent as usize);
                    picks.push(s.choice as usize);
                    picks.extend(self.fronts[k + 1..].iter().map(|f| f[0].idx));
                    *incumbent = Incumbent { cost, picks };
                }
            }
            if next.is_empty() {
                return (None, exact); // nothing within the cost limit
            }
            stored += next.len();
            // Picks of a new state = parent's picks + choice, so this order
            // is the lexicographic order of the new layer's picks.
            let mut order: Vec<usize> = (0..next.len()).collect();
            order.sort_unstable_by_key(|&i| (next[i].parent_rank, next[i].choice));
            let mut rank = vec![0u32; next.len()];
            for (r, &i) in order.iter().enumerate() {
                rank[i] = r as u32;
            }
            frontier = next
                .iter()
                .zip(&rank)
                .map(|(c, &rank)| State {
                    cost: c.cost,
                    value: c.value,
                    bound: c.bound,
                    rank,
                })
                .collect();
            backs.push(
                next.iter()
                    .map(|c| Back {
                        parent: c.parent,
                        choice: c.choice,
                    })
                    .collect(),
            );
        }
        let best = (0..frontier.len())
            .filter(|&i| value_ok(frontier[i].value, self.tol))
            .min_by(|&a, &b| {
                let (x, y) = (frontier[a], frontier[b]);
                x.cost
                    .total_cmp(&y.cost)
                    .then(y.value.total_cmp(&x.value))
                    .then(x.rank.cmp(&y.rank))
            });
        (best.map(|i| trace(&backs, i)), exact)
    }
}

/// One DP step: frontier × candidates of one segment → new frontier.
struct Layer<'p> {
    problem: &'p Problem<'p>,
    frontier: &'p [State],
    cands: &'p [Point],
    rest: &'p Suffix,
    /// Value slack for bounds: 2 × tolerance (tolerance + round-off).
    slack: f64,
    /// min(pass limit, incumbent) plus round-off margin: prune bounds above.
    cost_limit: f64,
}

impl Layer<'_> {
    /// First frontier state at or after `from` that, extended by candidate
    /// `list`, survives the feasibility and cost bounds.
    fn first_from(&self, list: usize, from: usize) -> Option<Cand> {
        let p = self.cands[list];
        (from..self.frontier.len()).find_map(|fi| {
            let f = self.frontier[fi];
            let (cost, value) = (f.cost + p.cost, f.value + p.value);
            if value + self.rest.max_value < -self.slack {
                return None;
            }
            let bound = cost + self.rest.lp.min_cost(-value - self.slack);
            (bound <= self.cost_limit).then_some(Cand {
                cost,
                value,
                bound,
                parent: fi as u32,
                parent_rank: f.rank,
                choice: p.idx as u32,
                list: list as u32,
            })
        })
    }

    /// Merge the per-candidate shifted frontiers (each sorted by cost) in
    /// sweep order, keeping Pareto-optimal states. Returns the new states in
    /// cost order, the first state whose cheapest completion is feasible
    /// (all costlier ones are dropped), and whether `share` forced a cut.
    fn expand(&self, share: usize) -> (Vec<Cand>, Option<Cand>, bool) {
        let mut heap = BinaryHeap::with_capacity(self.cands.len());
        for (list, p) in self.cands.iter().enumerate() {
            let from = self
                .frontier
                .partition_point(|f| f.value + p.value + self.rest.max_value < -self.slack);
            heap.extend(self.first_from(list, from));
        }
        let mut out: Vec<Cand> = Vec::new();
        let mut best_value = f64::NEG_INFINITY;
        let mut satisfied: Option<Cand> = None;
        let mut truncated = false;
        while let Some(c) = heap.pop() {
            if satisfied.is_some_and(|s| c.cost > s.cost) {
                break; // later states are dominated or satisfied but costlier
            }
            heap.extend(self.first_from(c.list as usize, c.parent as usize + 1));
            if c.value <= best_value {
                continue; // dominated (or an identical, lexicographically later state)
            }
            best_value = c.value;
            if satisfied.is_none()
                && self
                    .problem
                    .cheapest_completion_feasible(c.value, self.rest)
            {
                satisfied = Some(c);
            }
            out.push(c);
            if out.len() >= 2 * share {
                keep_most_promising(&mut out, share);
                truncated = true;
            }
        }
        if out.len() > share {
            keep_most_promising(&mut out, share);
            truncated = true;
        }
        if truncated {
            out.sort_unstable_by(|a, b| {
                a.cost
                    .total_cmp(&b.cost)
                    .then(a.value.total_cmp(&b.value))
                    .then(a.parent_rank.cmp(&b.parent_rank))
                    .then(a.choice.cmp(&b.choice))
            });
        }
        (out, satisfied, truncated)
    }
}

/// Keep the `keep` frontier states (and their back pointers) with the
/// lowest bound, preserving order (safety valve only).
fn thin(frontier: &mut Vec<State>, backs: Option<&mut Vec<Back>>, keep: usize) {
    let mut idx: Vec<usize> = (0..frontier.len()).collect();
    idx.select_nth_unstable_by(keep, |&a, &b| {
        frontier[a]
            .bound
            .total_cmp(&frontier[b].bound)
            .then(a.cmp(&b))
    });
    idx.truncate(keep);
    idx.sort_unstable();
    *frontier = idx.iter().map(|&i| frontier[i]).collect();
    if let Some(backs) = backs {
        *backs = idx.iter().map(|&i| backs[i]).collect();
    }
}

/// Keep the `keep` states with the lowest bound (safety valve only).
fn keep_most_promising(states: &mut Vec<Cand>, keep: usize) {
    if states.len() > keep {
        states.select_nth_unstable_by(keep, |a, b| a.bound.total_cmp(&b.bound).then(a.key_cmp(b)));
        states.truncate(keep);
    }
}

/// Picks (original indices) of state `idx` of the last layer in `backs`.
fn trace(backs: &[Vec<Back>], mut idx: usize) -> Vec<usize> {
    let mut picks = Vec::with_capacity(backs.len());
    for layer in backs.iter().rev() {
        let b = layer[idx];
        picks.push(b.choice as usize);
        idx = b.parent as usize;
    }
    picks.reverse();
    picks
}

/// Whether `a` beats `b` under the tie rule (both assumed feasible).
fn tie_rule_better(a: &Solution, b: &Solution) -> bool {
    a.cost
        .total_cmp(&b.cost)
        .then(b.value.total_cmp(&a.value))
        .then(a.picks.cmp(&b.picks))
        == Ordering::Less
}

/// Non-dominated candidates sorted by cost, with cost and value strictly
/// increasing; among exact duplicates the smallest index survives.
fn pareto_front(seg: &[Choice]) -> Vec<Point> {
    // `+ 0.0` turns −0.0 into 0.0 so that `total_cmp` sees equal numbers as
    // equal; sums starting from 0.0 are unaffected.
    let points: Vec<Point> = seg
        .iter()
        .enumerate()
        .map(|(idx, c)| Point {
            idx,
            cost: c.cost + 0.0,
            value: c.value + 0.0,
        })
        .collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (points[a], points[b]);
        x.cost
            .total_cmp(&y.cost)
            .then(y.value.total_cmp(&x.value))
            .then(a.cmp(&b))
    });
    let mut front: Vec<Point> = Vec::new();
    for i in order {
        if front.last().is_none_or(|p| points[i].value > p.value) {
            front.push(points[i]);
        }
    }
    front
}

/// Value gained per unit cost of a hull step (`dc > 0`).
fn slope(dc: f64, dv: f64) -> f64 {
    dv / dc
}

/// Positions of the upper concave hull of a front (always keeps the first
/// and last point); consecutive slopes strictly decrease.
fn upper_hull(front: &[Point]) -> Vec<usize> {
    let step = |a: usize, b: usize| {
        slope(
            front[b].cost - front[a].cost,
            front[b].value - front[a].value,
        )
    };
    let mut hull: Vec<usize> = Vec::with_capacity(front.len());
    for i in 0..front.len() {
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            if step(a, b) <= step(b, i) {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(i);
    }
    hull
}

#[cfg(test)]
mod tests;
