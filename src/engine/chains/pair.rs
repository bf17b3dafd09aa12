//! The last three stages a → b → L of a chain of four or more, swept exactly for fixed outer
//! thresholds: every (τa, τb) in O(1) after an O(|A| + d_a·d_b) pass.
//!
//! With the outer thresholds fixed (alive set A: the prompts that reach stage a), a point is
//!   cost    = const + Σ_A cost_a + Σ_{A, ca<τa} cost_b + Σ_{A, ca<τa, cb<τb} cost_L
//!   quality = const + Σ_{A, ca≥τa} q_a + Σ_{A, ca<τa} q_b + Σ_{A, ca<τa, cb<τb} (q_L − q_b).
//! τa rises through the alive confidences of a (or its grid), adding the prompts it passes on to
//! a histogram over the rank of cb (cost_L, q_L − q_b, count); each τa's row is one prefix pass
//! over that histogram, τb rising through the ranks present in it, then "answer nothing": the
//! row's points come sorted by cost. A row the running frontier dominates at its cheapest cost
//! is dropped whole, then blocks of 16 points likewise; the rest is reduced to its Pareto
//! points, those the frontier dominates are dropped (galloping along the frontier's costs), and
//! the others are merged into the frontier in batches. Must not choose a point nor read or print anything.

use super::model::{Frontier, ModelData, Point, Taus};

/// One prompt's numbers for the sweep, stored in stage a's confidence order so that the passes
/// over the prompts read memory in sequence.
#[derive(Clone, Copy)]
struct Prompt {
    /// Index in the input.
    index: u32,
    /// Rank of stage b's confidence among its distinct values, ascending.
    rank_b: u32,
    conf_a: f64,
    cost_a: f64,
    quality_a: f64,
    cost_b: f64,
    quality_b: f64,
    cost_last: f64,
    /// q_L − q_b: what L's answer adds over b's.
    gain_last: f64,
}

/// Points of a row checked against the frontier together before one by one.
const BLOCK: usize = 16;

/// What a chain's pair sweep shares across outer threshold combinations.
pub struct PairIndex {
    /// The prompts by stage a's confidence, lowest first.
    prompts: Vec<Prompt>,
    /// Stage b's distinct confidences, ascending.
    values_b: Vec<f64>,
    /// Stage a's grid values, ascending (`None`: every alive confidence).
    grid_a: Option<Vec<f64>>,
}

impl PairIndex {
    /// The index for stages `a` → `b` → `last`; `order_a`: prompts by a's confidence, highest
    /// first; `grid_a` ascending when stage a is gridded.
    pub fn new(
        [a, b, last]: [&ModelData; 3],
        order_a: &[u32],
        grid_a: Option<Vec<f64>>,
    ) -> PairIndex {
        let mut values_b = b.confidence.clone();
        values_b.sort_by(f64::total_cmp);
        values_b.dedup();
        let prompts = order_a
            .iter()
            .rev()
            .map(|&index| {
                let i = index as usize;
                Prompt {
                    index,
                    rank_b: values_b.partition_point(|v| *v < b.confidence[i]) as u32,
                    conf_a: a.confidence[i],
                    cost_a: a.cost[i],
                    quality_a: a.quality[i],
                    cost_b: b.cost[i],
                    quality_b: b.quality[i],
                    cost_last: last.cost[i],
                    gain_last: last.quality[i] - b.quality[i],
                }
            })
            .collect();
        PairIndex {
            prompts,
            values_b,
            grid_a,
        }
    }
}

/// One walker's working memory for the pair sweep.
pub struct PairSweep<'a> {
    index: &'a PairIndex,
    /// Per rank of cb: Σ cost_L, Σ (q_L − q_b) and the count of the prompts a passes on.
    hist_cost: Vec<f64>,
    hist_q: Vec<f64>,
    hist_n: Vec<u32>,
    /// One row's Pareto points: (cost, quality, rank of τb or `u32::MAX` for "answer nothing").
    row: Vec<(f64, f64, u32)>,
    /// The row's next points, before the block check.
    block: Vec<(f64, f64, u32)>,
    /// Points not dominated by the frontier when found, not merged yet (generation order).
    pending: Vec<Point>,
    /// The frontier's costs and qualities as of the last merge (compact, for the checks).
    costs: Vec<f64>,
    qualities: Vec<f64>,
}

/// Sums over the prompts stage a passes on.
#[derive(Default)]
struct Passed {
    cost_b: f64,
    quality_b: f64,
    quality_a: f64,
}

impl Passed {
    /// The row's fixed part: every alive prompt pays a (`base_cost`), those passed on pay b
    /// and answer at b, the rest answer at a (`qa_all`: a's quality over every alive prompt).
    fn row(&self, base_cost: f64, quality: f64, qa_all: f64) -> (f64, f64) {
        let row_cost = base_cost + self.cost_b;
        let row_quality = quality + (qa_all - self.quality_a) + self.quality_b;
        (row_cost, row_quality)
    }
}

impl<'a> PairSweep<'a> {
    /// Working memory for `index`.
    pub fn new(index: &'a PairIndex) -> PairSweep<'a> {
        let d = index.values_b.len();
        PairSweep {
            index,
            hist_cost: vec![0.0; d],
            hist_q: vec![0.0; d],
            hist_n: vec![0; d],
            row: Vec::new(),
            block: Vec::with_capacity(BLOCK),
            pending: Vec::new(),
            costs: Vec::new(),
            qualities: Vec::new(),
        }
    }

    /// Every (τa, τb) for the prompts `alive` (those reaching stage a, whose thresholds sit at
    /// `taus[at]` and `taus[at + 1]`); `cost` and `quality`: what the stages before a spent and
    /// answered. Points go to `frontier` (in batches).
    #[allow(clippy::too_many_arguments)]
    pub fn sweep(
        &mut self,
        at: usize,
        alive: &[bool],
        cost: f64,
        quality: f64,
        taus: &mut Taus,
        frontier: &mut Frontier,
        scratch: &mut Vec<Point>,
    ) {
        let prompts = &self.index.prompts;
        let (mut base_cost, mut qa_all) = (cost, 0.0);
        // Branch-free (a dead prompt adds zero): alive prompts are scattered in a's order.
        for p in prompts {
            let w = f64::from(u8::from(alive[p.index as usize]));
            base_cost += w * p.cost_a;
            qa_all += w * p.quality_a;
        }
        self.hist_cost.fill(0.0);
        self.hist_q.fill(0.0);
        self.hist_n.fill(0);
        let mut passed = Passed::default();
        let grid = self.index.grid_a.as_deref();
        let (mut p, mut g) = (0, 0);
        let (mut emitted, mut added) = (false, false);
        loop {
            // Stage a's next threshold, ascending.
            while p < prompts.len() && !alive[prompts[p].index as usize] {
                p += 1;
            }
            let tau = match grid {
                None if p < prompts.len() => prompts[p].conf_a,
                Some(grid) if g < grid.len() => {
                    g += 1;
                    grid[g - 1]
                }
                _ => break,
            };
            added |= self.pass_below(alive, &mut p, tau, false, &mut passed);
            if !emitted || added {
                taus[at] = tau;
                let (row_cost, row_quality) = passed.row(base_cost, quality, qa_all);
                self.row(at, row_cost, row_quality, taus, frontier, scratch);
                (emitted, added) = (true, false);
            }
            if grid.is_none() {
                added |= self.pass_below(alive, &mut p, tau, true, &mut passed);
            }
        }
        // τa = "answer nothing": a passes every alive prompt on.
        self.pass_below(alive, &mut p, f64::INFINITY, true, &mut passed);
        taus[at] = f64::INFINITY;
        let (row_cost, row_quality) = passed.row(base_cost, quality, qa_all);
        self.row(at, row_cost, row_quality, taus, frontier, scratch);
        taus[at] = f64::NAN;
        taus[at + 1] = f64::NAN;
    }

    /// Moves the alive prompts from position `p` on with ca < `tau` (≤ with `inclusive`) onto
    /// the histogram; whether any moved.
    fn pass_below(
        &mut self,
        alive: &[bool],
        p: &mut usize,
        tau: f64,
        inclusive: bool,
        passed: &mut Passed,
    ) -> bool {
        let prompts = &self.index.prompts;
        let mut moved = false;
        while *p < prompts.len() {
            let x = &prompts[*p];
            if x.conf_a > tau || (x.conf_a == tau && !inclusive) {
                break;
            }
            // Branch-free, as in `sweep`: a dead prompt adds zero.
            let live = alive[x.index as usize];
            let w = f64::from(u8::from(live));
            let r = x.rank_b as usize;
            self.hist_cost[r] += w * x.cost_last;
            self.hist_q[r] += w * x.gain_last;
            self.hist_n[r] += u32::from(live);
            passed.cost_b += w * x.cost_b;
            passed.quality_b += w * x.quality_b;
            passed.quality_a += w * x.quality_a;
            moved |= live;
            *p += 1;
        }
        moved
    }

    /// One τa's row: τb through the ranks present, then "answer nothing"; its Pareto points not
    /// dominated by `frontier` join the batch.
    fn row(
        &mut self,
        at: usize,
        cost: f64,
        quality: f64,
        taus: &mut Taus,
        frontier: &mut Frontier,
        scratch: &mut Vec<Point>,
    ) {
        // The row's points cost at least `cost`; if the frontier already reaches its best
        // quality at that cost, every point of the row is dominated.
        let (mut q, mut best) = (0.0, 0.0f64);
        for &h in &self.hist_q {
            q += h;
            best = best.max(q);
        }
        let start = self.costs.partition_point(|&f| f <= cost);
        if start > 0 && self.qualities[start - 1] >= quality + best {
            return;
        }
        // The row in blocks of up to BLOCK points; a block the frontier dominates at its
        // cheapest point is skipped (a later point one of its points dominates is dominated by
        // the same frontier point), the others go through the row's Pareto filter.
        self.row.clear();
        self.block.clear();
        let mut j = start;
        let (mut c, mut q) = (0.0, 0.0);
        for r in 0..self.hist_n.len() {
            if self.hist_n[r] == 0 {
                continue;
            }
            self.block.push((cost + c, quality + q, r as u32));
            if self.block.len() == BLOCK {
                j = self.take_block(j);
            }
            c += self.hist_cost[r];
            q += self.hist_q[r];
        }
        self.block.push((cost + c, quality + q, u32::MAX));
        self.take_block(j);
        let mut j = start;
        // Row points rise in cost: the frontier point at or below each is found by galloping
        // on from the previous one.
        for &(c, q, r) in &self.row {
            j = gallop(&self.costs, j, c);
            if j > 0 && self.qualities[j - 1] >= q {
                continue;
            }
            taus[at + 1] = match r {
                u32::MAX => f64::INFINITY,
                r => self.index.values_b[r as usize],
            };
            self.pending.push(Point {
                cost: c,
                quality: q,
                taus: *taus,
            });
        }
        if self.pending.len() >= frontier.len().max(4096) {
            self.flush(frontier, scratch);
        }
    }

    /// The block's points into the row's Pareto filter unless the frontier dominates them all;
    /// `j`: frontier points at or below the block's cost so far (returned updated).
    fn take_block(&mut self, j: usize) -> usize {
        let j = gallop(&self.costs, j, self.block[0].0);
        let best = self.block.iter().fold(f64::NEG_INFINITY, |b, p| b.max(p.1));
        if j == 0 || self.qualities[j - 1] < best {
            for &p in &self.block {
                push_row(&mut self.row, p);
            }
        }
        self.block.clear();
        j
    }

    /// Merges the batch into `frontier` (ties keep the earlier point).
    pub fn flush(&mut self, frontier: &mut Frontier, scratch: &mut Vec<Point>) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_by(|x, y| x.cost.total_cmp(&y.cost));
        let local = super::pareto::pareto_sorted(&self.pending);
        super::pareto::merge_into(frontier, &local, scratch);
        self.pending.clear();
        self.costs.clear();
        self.qualities.clear();
        self.costs.extend(frontier.iter().map(|f| f.cost));
        self.qualities.extend(frontier.iter().map(|f| f.quality));
    }
}

/// [`super::pareto::push_pareto`] for a row's (cost, quality, rank) triples.
fn push_row(out: &mut Vec<(f64, f64, u32)>, p: (f64, f64, u32)) {
    match out.last_mut() {
        None => out.push(p),
        Some(last) if p.0 == last.0 => {
            if p.1 > last.1 {
                *last = p;
            }
        }
        Some(last) => {
            if p.1 > last.1 {
                out.push(p);
            }
        }
    }
}

/// The first position at or after `from` whose cost exceeds `cost` in the ascending `costs`
/// (every cost before `from` is at most `cost`): steps of 1, 2, 4, … then a binary search.
fn gallop(costs: &[f64], from: usize, cost: f64) -> usize {
    let (mut lo, mut step) = (from, 1);
    while lo + step <= costs.len() && costs[lo + step - 1] <= cost {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step - 1).min(costs.len());
    lo + costs[lo..hi].partition_point(|&f| f <= cost)
}
