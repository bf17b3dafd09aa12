//! The exact search of the joint problem: a Pareto dynamic programme over segments, pruned by
//! the LP bound, with the safety valves described in the parent module.

use std::collections::BinaryHeap;

use super::super::hull::Point;
use super::super::{BOUND_REL_MARGIN, value_ok};
use super::{Back, Budget, Cand, Incumbent, Problem, State, Suffix};

impl Problem<'_> {
    /// The Pareto DP. Returns the best feasible final policy (original
    /// indices) and whether no safety valve cut it.
    pub(super) fn search(
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
            let (states, back) = next_frontier(&next);
            frontier = states;
            backs.push(back);
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

/// The new layer's states ranked by their picks (parent's picks + choice, so sorting by
/// (parent rank, choice) is the lexicographic order of the picks), and their back pointers.
fn next_frontier(next: &[Cand]) -> (Vec<State>, Vec<Back>) {
    let mut order: Vec<usize> = (0..next.len()).collect();
    order.sort_unstable_by_key(|&i| (next[i].parent_rank, next[i].choice));
    let mut rank = vec![0u32; next.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    let states = (next.iter().zip(&rank))
        .map(|(c, &rank)| State {
            cost: c.cost,
            value: c.value,
            bound: c.bound,
            rank,
        })
        .collect();
    let backs = next
        .iter()
        .map(|c| Back {
            parent: c.parent,
            choice: c.choice,
        })
        .collect();
    (states, backs)
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
