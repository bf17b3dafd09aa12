//! Per-segment geometry of the joint problem: the Pareto front of a segment's candidates, its
//! upper convex hull, and the LP relaxation built from hull steps.

use super::Choice;

/// A non-dominated candidate of one segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point {
    /// Original candidate index.
    pub(super) idx: usize,
    pub(super) cost: f64,
    pub(super) value: f64,
}

/// Step between consecutive upper-hull points of one segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Increment {
    pub(super) seg: usize,
    /// Position (in the segment's front) of the point this step reaches.
    pub(super) to: usize,
    pub(super) dc: f64,
    pub(super) dv: f64,
}

/// LP relaxation of the remaining segments: the least cost needed to gain a
/// given value, as a convex piecewise-linear function.
pub(super) struct LpBound {
    /// `cum_value[i]`, `cum_cost[i]`: totals after the first `i` increments,
    /// starting from every remaining segment at its cheapest point.
    pub(super) cum_value: Vec<f64>,
    pub(super) cum_cost: Vec<f64>,
}

impl LpBound {
    /// Lower bound on the cost of the remaining segments given their value
    /// must reach `need`. Beyond the reachable maximum it returns the cost at
    /// the maximum (unreachable states are pruned separately).
    pub(super) fn min_cost(&self, need: f64) -> f64 {
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

/// Non-dominated candidates sorted by cost, with cost and value strictly
/// increasing; among exact duplicates the smallest index survives.
pub(super) fn pareto_front(seg: &[Choice]) -> Vec<Point> {
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
pub(super) fn slope(dc: f64, dv: f64) -> f64 {
    dv / dc
}

/// Positions of the upper concave hull of a front (always keeps the first
/// and last point); consecutive slopes strictly decrease.
pub(super) fn upper_hull(front: &[Point]) -> Vec<usize> {
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
