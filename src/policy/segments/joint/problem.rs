//! The joint problem prepared for search: each segment's Pareto front, the LP-greedy incumbent,
//! the λ-reduced candidates, and the deepening search passes (`search.rs`).

use std::cmp::Ordering;

use super::hull::{Increment, LpBound, Point, pareto_front, slope, upper_hull};
use super::{
    BOUND_REL_MARGIN, Choice, FIRST_LIMIT_DIVISOR, LIMIT_GROWTH, PAIRS_PER_STATE, Solution,
    feasibility_tolerance, max_abs, policy_totals, value_ok,
};

mod search;

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

pub(super) struct Problem<'a> {
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
    pub(super) fn new(segments: &'a [Vec<Choice>]) -> Self {
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
    pub(super) fn pos_totals(&self, pos: &[usize]) -> (f64, f64) {
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

    pub(super) fn solve(&self, max_states: usize) -> Option<Solution> {
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

    /// The Lagrangian path: every segment at its cheapest point, then the hull steps one by
    /// one by decreasing value per cost; each prefix is the cheapest policy for some shadow
    /// price λ of the value (picks as original candidate indices).
    pub(super) fn path(&self) -> Vec<Vec<usize>> {
        let mut pos = vec![0; self.fronts.len()];
        let mut out = vec![self.pos_picks(&pos)];
        for inc in &self.incs {
            pos[inc.seg] = inc.to;
            out.push(self.pos_picks(&pos));
        }
        out
    }

    /// LP-relaxation greedy rounded up to a feasible policy (positions), and
    /// the cost per value of the last step taken (the Lagrange multiplier).
    /// Requires the cheapest policy infeasible and the top policy feasible.
    pub(super) fn lp_greedy(&self) -> (Vec<usize>, f64) {
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
    pub(super) fn improve(&self, mut pos: Vec<usize>) -> Vec<usize> {
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
}

/// Whether `a` beats `b` under the tie rule (both assumed feasible).
fn tie_rule_better(a: &Solution, b: &Solution) -> bool {
    a.cost
        .total_cmp(&b.cost)
        .then(b.value.total_cmp(&a.value))
        .then(a.picks.cmp(&b.picks))
        == Ordering::Less
}
