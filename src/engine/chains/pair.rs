//! The last three stages a → b → L of a chain of four or more, swept exactly for fixed outer
//! thresholds: every (τa, τb) in O(1) after an O(|A| + d_a·d_b) pass.
//!
//! With the outer thresholds fixed (alive set A: the prompts that reach stage a), a point is
//!   cost    = const + Σ_A cost_a + Σ_{A, ca<τa} cost_b + Σ_{A, ca<τa, cb<τb} cost_L
//!   quality = const + Σ_{A, ca≥τa} q_a + Σ_{A, ca<τa} q_b + Σ_{A, ca<τa, cb<τb} (q_L − q_b).
//! τa rises through the alive confidences of a (or its grid), adding the prompts it passes on to
//! a histogram over the rank of cb (cost_L, q_L − q_b, count); each τa's row is one prefix pass
//! over that histogram, τb rising through the ranks present in it, then "answer nothing": the
//! row's points come sorted by cost. Each row is reduced to its Pareto points, those the
//! running frontier already dominates are dropped at once (a binary search), and the rest are
//! merged into the frontier in batches. Must not choose a point nor read or print anything.

use super::model::{Frontier, ModelData, Point, Taus};

/// What a chain's pair sweep shares across outer threshold combinations.
pub struct PairIndex {
    /// Per prompt, the rank of stage b's confidence among its distinct values, ascending.
    rank_b: Vec<u32>,
    /// Stage b's distinct confidences, ascending.
    values_b: Vec<f64>,
    /// Stage a's grid values, ascending (`None`: every alive confidence).
    grid_a: Option<Vec<f64>>,
}

impl PairIndex {
    /// The index for stage b's confidences `conf_b`; `grid_a` ascending when stage a is gridded.
    pub fn new(conf_b: &[f64], grid_a: Option<Vec<f64>>) -> PairIndex {
        let mut values_b = conf_b.to_vec();
        values_b.sort_by(f64::total_cmp);
        values_b.dedup();
        let rank_b = conf_b
            .iter()
            .map(|c| values_b.partition_point(|v| v < c) as u32)
            .collect();
        PairIndex {
            rank_b,
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
    /// Points not dominated by the frontier when found, not merged yet (generation order).
    pending: Vec<Point>,
}

/// The stages a, b and L (model columns) and a's prompts by confidence, highest first.
pub struct Stages<'m> {
    pub a: &'m ModelData,
    pub b: &'m ModelData,
    pub last: &'m ModelData,
    pub order_a: &'m [u32],
    /// Positions of τa and τb in the threshold vector.
    pub at: usize,
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
            pending: Vec::new(),
        }
    }

    /// Every (τa, τb) for the prompts `alive` (those reaching stage a); `cost` and `quality`:
    /// what the stages before a spent and answered. Points go to `frontier` (via the batch).
    #[allow(clippy::too_many_arguments)]
    pub fn sweep(
        &mut self,
        st: &Stages,
        alive: &[bool],
        cost: f64,
        quality: f64,
        taus: &mut Taus,
        frontier: &mut Frontier,
        scratch: &mut Vec<Point>,
    ) {
        let order = st.order_a;
        let (mut base_cost, mut qa_all) = (cost, 0.0);
        for &i in order {
            let i = i as usize;
            if alive[i] {
                base_cost += st.a.cost[i];
                qa_all += st.a.quality[i];
            }
        }
        self.hist_cost.fill(0.0);
        self.hist_q.fill(0.0);
        self.hist_n.fill(0);
        // Sums over the prompts a passes on: cost_b, q_b, q_a.
        let mut passed = (0.0, 0.0, 0.0);
        let grid = self.index.grid_a.as_deref();
        let (mut p, mut g) = (order.len(), 0);
        let (mut emitted, mut added) = (false, false);
        loop {
            // Stage a's next threshold, ascending.
            while p > 0 && !alive[order[p - 1] as usize] {
                p -= 1;
            }
            let tau = match grid {
                None if p > 0 => st.a.confidence[order[p - 1] as usize],
                Some(grid) if g < grid.len() => {
                    g += 1;
                    grid[g - 1]
                }
                _ => break,
            };
            added |= self.pass_below(st, alive, &mut p, tau, false, &mut passed);
            if !emitted || added {
                let row_cost = base_cost + passed.0;
                let row_quality = quality + (qa_all - passed.2) + passed.1;
                taus[st.at] = tau;
                self.row(st.at, row_cost, row_quality, taus, frontier, scratch);
                (emitted, added) = (true, false);
            }
            if grid.is_none() {
                added |= self.pass_below(st, alive, &mut p, tau, true, &mut passed);
            }
        }
        // τa = "answer nothing": a passes every alive prompt on.
        self.pass_below(st, alive, &mut p, f64::INFINITY, true, &mut passed);
        taus[st.at] = f64::INFINITY;
        let row_quality = quality + (qa_all - passed.2) + passed.1;
        self.row(
            st.at,
            base_cost + passed.0,
            row_quality,
            taus,
            frontier,
            scratch,
        );
        taus[st.at] = f64::NAN;
        taus[st.at + 1] = f64::NAN;
    }

    /// Moves the alive prompts at `order[..p]`'s end with ca < `tau` (≤ with `inclusive`) onto
    /// the histogram; whether any moved.
    fn pass_below(
        &mut self,
        st: &Stages,
        alive: &[bool],
        p: &mut usize,
        tau: f64,
        inclusive: bool,
        passed: &mut (f64, f64, f64),
    ) -> bool {
        let order = st.order_a;
        let mut moved = false;
        while *p > 0 {
            let i = order[*p - 1] as usize;
            let c = st.a.confidence[i];
            if c > tau || (c == tau && !inclusive) {
                break;
            }
            if alive[i] {
                let r = self.index.rank_b[i] as usize;
                self.hist_cost[r] += st.last.cost[i];
                self.hist_q[r] += st.last.quality[i] - st.b.quality[i];
                self.hist_n[r] += 1;
                passed.0 += st.b.cost[i];
                passed.1 += st.b.quality[i];
                passed.2 += st.a.quality[i];
                moved = true;
            }
            *p -= 1;
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
        self.row.clear();
        let (mut c, mut q) = (0.0, 0.0);
        for r in 0..self.hist_n.len() {
            if self.hist_n[r] == 0 {
                continue;
            }
            push_row(&mut self.row, (cost + c, quality + q, r as u32));
            c += self.hist_cost[r];
            q += self.hist_q[r];
        }
        push_row(&mut self.row, (cost + c, quality + q, u32::MAX));
        for &(c, q, r) in &self.row {
            if dominated(frontier, c, q) {
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

    /// Merges the batch into `frontier` (ties keep the earlier point).
    pub fn flush(&mut self, frontier: &mut Frontier, scratch: &mut Vec<Point>) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_by(|x, y| x.cost.total_cmp(&y.cost));
        let local = super::pareto::pareto_sorted(&self.pending);
        super::pareto::merge_into(frontier, &local, scratch);
        self.pending.clear();
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

/// Whether a frontier point costs at most `cost` and reaches at least `quality`.
fn dominated(frontier: &Frontier, cost: f64, quality: f64) -> bool {
    let at = frontier.partition_point(|f| f.cost <= cost);
    at > 0 && frontier[at - 1].quality >= quality
}
