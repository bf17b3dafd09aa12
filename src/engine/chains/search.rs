//! The frontier of one chain: every (cost, quality) its thresholds reach, kept where no other
//! point is cheaper and at least as good.
//!
//! Thresholds at every distinct observed confidence of the prompts that reach the stage (ties
//! move together) plus "answer nothing". The outer thresholds are walked in confidence order
//! over a once-sorted list (a mask marks the prompts still in the chain). Two and three stages:
//! for each outer combination the second-to-last threshold is swept in one pass with running
//! sums: O(n log n) for two stages, O(d₁·n) for three (dᵢ: distinct confidences of stage i).
//! Four and more: the last three stages are swept together (`pair.rs`), O(n + d_{k−3}·d_{k−2})
//! per combination of the stages before them, so O(d₁·(n + d₂·d₃)) for four stages and
//! O(d₁·d₂·(n + d₃·d₄)) for five, the first stage's thresholds split among threads. Exact while
//! that stays within [`BUDGET`] steps; past it, every stage but the last two goes on a grid of G
//! confidence quantiles (see [`plan`]) and [`gap_on_subsample`] measures what that loses.
//! Must not choose a point (`pick.rs`) nor read or print anything.

use rayon::prelude::*;

use super::model::{Chain, Frontier, ModelData, Point, Searched, Taus};
use super::pair::{PairIndex, PairSweep};
use super::pareto::{merge_into, pareto_sorted};
use super::pick::{ChainGoal, best_point};

/// Steps a chain's search may take (see [`steps`]); beyond it the outer thresholds are gridded.
/// About 3 s of one core per chain at the budget in a release build (measured with
/// `scripts/bench-chains.sh 20000 3`: 8 ns a step); two-decimal confidences on 20,000 prompts
/// take at most 3·10⁸.
pub const BUDGET: f64 = 4e8;

/// Distinct values of `conf`.
fn distinct(conf: &[f64]) -> usize {
    let mut d = conf.to_vec();
    d.sort_by(f64::total_cmp);
    d.dedup();
    d.len()
}

/// The work of searching a chain of four or more stages whose first k − 2 stages take `d[s]`
/// thresholds each and stage k − 2 has `d[k − 2]` distinct confidences, over `n` prompts:
/// Π_{s<k−3} d[s] outer combinations × (n prompts + d[k−3]·d[k−2] points) (see `pair.rs`).
fn steps(d: &[f64], n: f64) -> f64 {
    let k = d.len() + 1;
    let combos: f64 = d[..k - 3].iter().product();
    combos * (n + d[k - 3] * d[k - 2])
}

/// How a chain is searched: `None` exactly (always for up to three stages, and for longer
/// chains while [`steps`] ≤ [`BUDGET`]), else `Some(G)`: each stage but the last two on a grid
/// of G confidence quantiles, the largest G (at least 4) whose [`steps`] fit the budget.
pub fn plan(models: &[ModelData], chain: &Chain) -> Option<usize> {
    let k = chain.len();
    if k <= 3 {
        return None;
    }
    let n = models[chain.stages[0]].confidence.len().max(1) as f64;
    let d: Vec<f64> = chain.stages[..k - 1]
        .iter()
        .map(|&m| distinct(&models[m].confidence) as f64)
        .collect();
    if steps(&d, n) <= BUDGET {
        return None;
    }
    let gridded = |g: usize| {
        let mut e = d.clone();
        for x in &mut e[..k - 2] {
            *x = x.min(g as f64);
        }
        steps(&e, n)
    };
    let mut g = 4;
    while gridded(g + 1) <= BUDGET && ((g + 1) as f64) < n {
        g += 1;
    }
    Some(g)
}

/// Every chain's frontier, chains in parallel.
pub fn search_all(models: &[ModelData], chains: &[Chain]) -> Vec<Searched> {
    chains
        .par_iter()
        .map(|chain| {
            let grid = plan(models, chain);
            Searched {
                chain: chain.clone(),
                frontier: frontier_of(models, chain, &vec![grid; chain.len()]),
                grid,
            }
        })
        .collect()
}

/// The frontier of `chain`; `grid[s]`: quantile values for outer stage s (`None`: exact).
pub fn frontier_of(models: &[ModelData], chain: &Chain, grid: &[Option<usize>]) -> Frontier {
    let n = models[chain.stages[0]].confidence.len();
    let k = chain.len();
    if k == 1 {
        let m = &models[chain.stages[0]];
        return vec![Point {
            cost: m.cost.iter().sum(),
            quality: m.quality.iter().sum(),
            taus: [f64::NAN; super::MAX_MODELS - 1],
        }];
    }
    let orders: Vec<Vec<u32>> = chain.stages[..k - 1]
        .iter()
        .map(|&m| descending(&models[m].confidence))
        .collect();
    let grids: Vec<Option<Vec<f64>>> = chain.stages[..k - 1]
        .iter()
        .enumerate()
        .map(|(s, &m)| {
            let g = if s + 2 < k {
                grid.get(s).copied().flatten()
            } else {
                None
            };
            g.map(|g| quantile_grid(&models[m].confidence, g))
        })
        .collect();
    if k >= 4 {
        return long_frontier(models, chain, &orders, grids);
    }
    let mut walk = Walk::new(models, chain, &orders, grids, n, None);
    let mut taus = [f64::NAN; super::MAX_MODELS - 1];
    walk.outer(0, 0.0, 0.0, &mut taus);
    walk.frontier
}

/// Four or more stages: the first stage's thresholds split among threads, the stages between it
/// and the last three walked as in three-stage chains, the last three swept by [`PairSweep`];
/// the threads' frontiers merged in threshold order, so ties keep the same point on any number
/// of threads.
fn long_frontier(
    models: &[ModelData],
    chain: &Chain,
    orders: &[Vec<u32>],
    grids: Vec<Option<Vec<f64>>>,
) -> Frontier {
    let k = chain.len();
    let n = models[chain.stages[0]].confidence.len();
    let grid_a = grids[k - 3].clone().map(|mut g| {
        g.reverse();
        g
    });
    let stage = |s: usize| &models[chain.stages[s]];
    let index = PairIndex::new(
        [stage(k - 3), stage(k - 2), stage(k - 1)],
        &orders[k - 3],
        grid_a,
    );
    let first = &models[chain.stages[0]];
    // The first stage's thresholds: "answer nothing", then its confidences (or grid), descending.
    let mut firsts = vec![f64::INFINITY];
    match &grids[0] {
        Some(g) => firsts.extend(g),
        None => {
            let mut d = first.confidence.clone();
            d.sort_by(|a, b| b.total_cmp(a));
            d.dedup();
            firsts.extend(d);
        }
    }
    let paid: f64 = first.cost.iter().sum();
    let chunk = firsts
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(1);
    let parts: Vec<Frontier> = firsts
        .par_chunks(chunk)
        .map(|part| {
            let pair = PairSweep::new(&index);
            let mut walk = Walk::new(models, chain, orders, grids.clone(), n, Some(pair));
            let mut taus = [f64::NAN; super::MAX_MODELS - 1];
            for &t in part {
                let mut quality = 0.0;
                for (i, alive) in walk.alive.iter_mut().enumerate() {
                    *alive = first.confidence[i] < t;
                    if !*alive {
                        quality += first.quality[i];
                    }
                }
                taus[0] = t;
                walk.outer(1, paid, quality, &mut taus);
            }
            walk.finish()
        })
        .collect();
    let (mut frontier, mut scratch) = (Vec::new(), Vec::new());
    for part in parts {
        merge_into(&mut frontier, &part, &mut scratch);
    }
    frontier
}

/// Prompt indices by confidence, highest first (ties by index).
fn descending(conf: &[f64]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..conf.len() as u32).collect();
    order.sort_by(|&a, &b| {
        conf[b as usize]
            .total_cmp(&conf[a as usize])
            .then(a.cmp(&b))
    });
    order
}

/// Up to `g` distinct confidences at evenly spaced ranks of the distinct values, highest first
/// (all of them when there are at most `g`).
pub(super) fn quantile_grid(conf: &[f64], g: usize) -> Vec<f64> {
    let mut d: Vec<f64> = conf.to_vec();
    d.sort_by(|a, b| b.total_cmp(a));
    d.dedup();
    if d.len() <= g {
        return d;
    }
    let mut out: Vec<f64> = (0..g)
        .map(|i| d[((i * (d.len() - 1)) as f64 / (g - 1) as f64).round() as usize])
        .collect();
    out.dedup();
    out
}

struct Walk<'a> {
    models: &'a [ModelData],
    chain: &'a Chain,
    orders: &'a [Vec<u32>],
    grids: Vec<Option<Vec<f64>>>,
    alive: Vec<bool>,
    frontier: Frontier,
    buf: Vec<Point>,
    merged: Vec<Point>,
    /// Four or more stages: the last three swept together.
    pair: Option<PairSweep<'a>>,
}

impl<'a> Walk<'a> {
    fn new(
        models: &'a [ModelData],
        chain: &'a Chain,
        orders: &'a [Vec<u32>],
        grids: Vec<Option<Vec<f64>>>,
        n: usize,
        pair: Option<PairSweep<'a>>,
    ) -> Walk<'a> {
        Walk {
            models,
            chain,
            orders,
            grids,
            alive: vec![true; n],
            frontier: Vec::new(),
            buf: Vec::new(),
            merged: Vec::new(),
            pair,
        }
    }

    /// The frontier, with the pair sweep's last batch merged.
    fn finish(mut self) -> Frontier {
        if let Some(pair) = self.pair.as_mut() {
            pair.flush(&mut self.frontier, &mut self.merged);
        }
        self.frontier
    }

    /// The last stages, once every threshold before them is set.
    fn tail(&mut self, cost: f64, quality: f64, taus: &mut Taus) {
        let Some(pair) = self.pair.as_mut() else {
            self.inner(cost, quality, taus);
            return;
        };
        let at = self.chain.len() - 3;
        let (frontier, scratch) = (&mut self.frontier, &mut self.merged);
        pair.sweep(at, &self.alive, cost, quality, taus, frontier, scratch);
    }

    /// Stage `level` (an outer one) at each of its thresholds, then the next.
    fn outer(&mut self, level: usize, cost: f64, quality: f64, taus: &mut Taus) {
        let k = self.chain.len();
        let tail = if self.pair.is_some() { 3 } else { 2 };
        if level + tail == k {
            self.tail(cost, quality, taus);
            return;
        }
        let m = &self.models[self.chain.stages[level]];
        let orders = self.orders;
        let order = &orders[level];
        let paid: f64 = order
            .iter()
            .filter(|&&i| self.alive[i as usize])
            .map(|&i| m.cost[i as usize])
            .sum();
        let cost = cost + paid;
        taus[level] = f64::INFINITY;
        self.outer(level + 1, cost, quality, taus);
        let grid = self.grids[level].clone();
        let mut killed: Vec<u32> = Vec::new();
        let mut answered_q = 0.0;
        let mut p = 0;
        let mut steps = grid.iter().flatten().copied();
        loop {
            // The next threshold: the next grid value, or the next alive confidence.
            let tau = match &grid {
                Some(_) => match steps.next() {
                    Some(t) => t,
                    None => break,
                },
                None => {
                    while p < order.len() && !self.alive[order[p] as usize] {
                        p += 1;
                    }
                    match order.get(p) {
                        Some(&i) => m.confidence[i as usize],
                        None => break,
                    }
                }
            };
            while p < order.len() && m.confidence[order[p] as usize] >= tau {
                let i = order[p] as usize;
                if self.alive[i] {
                    self.alive[i] = false;
                    killed.push(i as u32);
                    answered_q += m.quality[i];
                }
                p += 1;
            }
            taus[level] = tau;
            self.outer(level + 1, cost, quality + answered_q, taus);
        }
        for i in killed {
            self.alive[i as usize] = true;
        }
        taus[level] = f64::NAN;
    }

    /// The second-to-last stage swept exactly in one pass; merges its points into the frontier.
    fn inner(&mut self, cost: f64, quality: f64, taus: &mut Taus) {
        let k = self.chain.len();
        let s = &self.models[self.chain.stages[k - 2]];
        let last = &self.models[self.chain.stages[k - 1]];
        let order = &self.orders[k - 2];
        let (mut c, mut q) = (cost, quality);
        for &i in order {
            let i = i as usize;
            if self.alive[i] {
                c += s.cost[i] + last.cost[i];
                q += last.quality[i];
            }
        }
        self.buf.clear();
        taus[k - 2] = f64::INFINITY;
        self.buf.push(Point {
            cost: c,
            quality: q,
            taus: *taus,
        });
        let mut p = 0;
        while p < order.len() {
            let i = order[p] as usize;
            if !self.alive[i] {
                p += 1;
                continue;
            }
            let v = s.confidence[i];
            while p < order.len() && s.confidence[order[p] as usize] == v {
                let j = order[p] as usize;
                if self.alive[j] {
                    c -= last.cost[j];
                    q += s.quality[j] - last.quality[j];
                }
                p += 1;
            }
            taus[k - 2] = v;
            self.buf.push(Point {
                cost: c,
                quality: q,
                taus: *taus,
            });
        }
        taus[k - 2] = f64::NAN;
        // Costs fall as the threshold falls (costs are non-negative): reversed, they rise.
        self.buf.reverse();
        let local = pareto_sorted(&self.buf);
        merge_into(&mut self.frontier, &local, &mut self.merged);
    }
}

/// What the grid loses on a chain, measured against the exact search on a subsample.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// Prompts in the subsample (every ⌈n/s⌉-th in input order).
    pub prompts: usize,
    /// The grid size per outer stage.
    pub grid: usize,
    /// Exact pick on the subsample: (cost per request, quality), `None` if none meets the goal.
    pub exact: Option<(f64, f64)>,
    /// Gridded pick on the subsample.
    pub gridded: Option<(f64, f64)>,
}

/// The gridded search against the exact one on an evenly spaced subsample small enough for the
/// exact search (s^(stages−1) ≤ 2·10⁷ steps), for one gridded chain and goal. On the subsample
/// each outer stage keeps the share of its distinct confidences the full grid keeps (G of d
/// becomes ⌈G·d_sub/d⌉, at least 2), so the subsample's grid is as coarse as the full one.
pub fn gap_on_subsample(models: &[ModelData], chain: &Chain, goal: &ChainGoal) -> Option<Gap> {
    let grid = plan(models, chain)?;
    let n = models[0].confidence.len();
    let s = (2e7f64.powf(1.0 / (chain.len() - 1) as f64) as usize).clamp(2, n.max(2));
    let step = n.div_ceil(s).max(1);
    let rows: Vec<usize> = (0..n).step_by(step).collect();
    let sub: Vec<ModelData> = models.iter().map(|m| m.rows(&rows)).collect();
    let thinned: Vec<Option<usize>> = chain
        .stages
        .iter()
        .map(|&m| {
            let (full, part) = (
                distinct(&models[m].confidence),
                distinct(&sub[m].confidence),
            );
            (full > grid).then(|| (grid * part).div_ceil(full).max(2))
        })
        .collect();
    let prompts = sub[chain.stages[0]].prompts();
    let pick = |f: &Frontier| {
        best_point(f, goal, prompts).map(|p| (p.cost / prompts as f64, p.quality / prompts as f64))
    };
    Some(Gap {
        prompts,
        grid,
        exact: pick(&frontier_of(&sub, chain, &vec![None; chain.len()])),
        gridded: pick(&frontier_of(&sub, chain, &thinned)),
    })
}
