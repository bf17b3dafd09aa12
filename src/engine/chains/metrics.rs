//! Frontier metrics: the oracle, the random-routing baseline, RouteLLM's APGR and CPT, and
//! RouterBench's AIQ, each computed the way the reference code does and in an exact form.
//!
//! RouteLLM (`routellm/evals`, pair routers): thresholds at the 11 edges of
//! `pd.qcut(score, 10)` (which raises on repeated edges; here `None`), one point per edge
//! (`score ≥ edge`, the last `>`), strong-call % on x, quality × 100 on y; AUC by `np.trapz`,
//! APGR = (AUC − weak area) / (strong area − weak area) over the points' own x range, CPT(p) =
//! `np.interp(weak + p·(strong − weak), accuracy, strong %)`, which assumes accuracy increases.
//! The exact form uses every distinct threshold, and CPT is the least escalation whose
//! achievable quality (mixing adjacent thresholds) reaches the target. RouterBench
//! (`calc_AIQ`): the upper hull at each distinct cost, the first point prepended and the last
//! appended only if not lower, truncated where it stops rising, extended flat to the largest
//! cost compared, integrated by `np.trapz` from the router's own smallest cost and divided by
//! that largest cost. Its exact form integrates the best quality reachable at each cost (no
//! mixing) from 0. Pure.

use super::model::{ModelData, Point};
use super::numpy::{interp, qcut_edges, trapz};
use crate::engine::exact::Exact;

/// RouteLLM's metrics for a pair (weak first stage, strong second stage).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteLlm {
    /// Average performance gap recovered.
    pub apgr: f64,
    /// Strong-model calls (%) to recover 50 % of the gap.
    pub cpt50: f64,
    /// Strong-model calls (%) to recover 80 % of the gap.
    pub cpt80: f64,
}

/// Quality × 100 of weak-or-strong per prompt as chosen by `escalate`.
fn routed(weak: &ModelData, strong: &ModelData, escalate: impl Fn(usize) -> bool) -> (f64, f64) {
    let n = weak.prompts();
    let (mut calls, mut sum) = (0usize, 0.0);
    for i in 0..weak.quality.len() {
        if escalate(i) {
            calls += weak.weight_at(i) as usize;
            sum += strong.quality[i];
        } else {
            sum += weak.quality[i];
        }
    }
    (calls as f64 / n as f64 * 100.0, sum / n as f64 * 100.0)
}

fn metrics_from(points: &mut [(f64, f64)], weak: f64, strong: f64) -> RouteLlm {
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let x: Vec<f64> = points.iter().map(|p| p.0 / 100.0).collect();
    let pct: Vec<f64> = points.iter().map(|p| p.0).collect();
    let acc: Vec<f64> = points.iter().map(|p| p.1).collect();
    let auc = trapz(&acc, &x);
    let weak_auc = trapz(&vec![weak; x.len()], &x);
    let strong_auc = trapz(&vec![strong; x.len()], &x);
    let cpt = |p: f64| interp(p * (strong - weak) + weak, &acc, &pct);
    RouteLlm {
        apgr: (auc - weak_auc) / (strong_auc - weak_auc),
        cpt50: cpt(0.5),
        cpt80: cpt(0.8),
    }
}

/// RouteLLM's numbers for the pair `weak → strong`, its router score being minus the weak
/// model's confidence (escalate the least confident); `None` where `pd.qcut` raises.
pub fn routellm_form(weak: &ModelData, strong: &ModelData) -> Option<RouteLlm> {
    let score: Vec<f64> = weak.confidence.iter().map(|c| -c).collect();
    let edges = qcut_edges(&score, weak.weight.as_deref(), 10)?;
    let last = edges.len() - 1;
    let mut points: Vec<(f64, f64)> = edges
        .iter()
        .enumerate()
        .map(|(e, &t)| {
            routed(weak, strong, |i| {
                if e == last {
                    score[i] > t
                } else {
                    score[i] >= t
                }
            })
        })
        .collect();
    Some(metrics_from(
        &mut points,
        weak.mean_quality() * 100.0,
        strong.mean_quality() * 100.0,
    ))
}

/// The exact form for the pair: every distinct threshold; CPT as the least strong-call % at
/// which the achievable curve reaches the target.
pub fn routellm_exact(weak: &ModelData, strong: &ModelData) -> RouteLlm {
    let mut thresholds: Vec<f64> = weak.confidence.clone();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    let mut points: Vec<(f64, f64)> = vec![routed(weak, strong, |_| true)];
    points.extend(
        thresholds
            .iter()
            .map(|&t| routed(weak, strong, |i| weak.confidence[i] < t)),
    );
    let (w, s) = (weak.mean_quality() * 100.0, strong.mean_quality() * 100.0);
    let mut m = metrics_from(&mut points, w, s);
    let first_reach = |p: f64| {
        let target = w + p * (s - w);
        if points[0].1 >= target {
            return points[0].0;
        }
        for pair in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            if y0 < target && y1 >= target {
                return x0 + (x1 - x0) * (target - y0) / (y1 - y0);
            }
        }
        f64::NAN
    };
    m.cpt50 = first_reach(0.5);
    m.cpt80 = first_reach(0.8);
    m
}

/// AIQ of each router in a comparison set.
#[derive(Debug, Clone, PartialEq)]
pub struct Aiq {
    /// Per router, `None` where the reference code fails (no point strictly inside its cost
    /// range) or the router has a single point.
    pub values: Vec<Option<f64>>,
    /// The largest cost compared (the x range's end).
    pub max_cost: f64,
}

/// RouterBench's non-decreasing hull of (cost, quality) points sorted by cost, or `None` where
/// `get_non_descreasing_convex_hull_of` raises. The interior value at each distinct cost is the
/// upper concave envelope there (the maximum over every chord across it and the points on it).
fn routerbench_hull(points: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (first, last) = (*pts.first()?, *pts.last()?);
    let hull = upper_hull(&pts);
    let mut interior: Vec<(f64, f64)> = Vec::new();
    // Points at one cost are adjacent once sorted: one value per distinct interior cost.
    for group in pts.chunk_by(|a, b| a.0 == b.0) {
        let x = group[0].0;
        if x > first.0 && x < last.0 {
            let here = group.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            interior.push((x, hull_at(&hull, x).max(here)));
        }
    }
    let tail = *interior.last()?;
    if last.1 >= tail.1 {
        interior.push(last);
    }
    interior.insert(0, first);
    let mut out = Vec::with_capacity(interior.len());
    for i in 0..interior.len() {
        if i == 0 || interior[i].1 >= interior[i - 1].1 {
            out.push(interior[i]);
        }
    }
    Some(out)
}

/// The upper concave hull of points sorted by x (Andrew's monotone chain).
fn upper_hull(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut h: Vec<(f64, f64)> = Vec::new();
    for &p in pts {
        if h.last().is_some_and(|l| l.0 == p.0) {
            let l = h.len() - 1;
            if p.1 > h[l].1 {
                h.pop();
            } else {
                continue;
            }
        }
        while h.len() >= 2 {
            let (a, b) = (h[h.len() - 2], h[h.len() - 1]);
            let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
            if cross >= 0.0 {
                h.pop();
            } else {
                break;
            }
        }
        h.push(p);
    }
    h
}

/// The hull's value at `x` (inside its range), as `np.interp` on the edge across `x`.
fn hull_at(hull: &[(f64, f64)], x: f64) -> f64 {
    let i = hull.partition_point(|p| p.0 <= x);
    if i == 0 {
        return hull[0].1;
    }
    if i >= hull.len() {
        return hull[hull.len() - 1].1;
    }
    let ((x1, y1), (x2, y2)) = (hull[i - 1], hull[i]);
    if x1 == x {
        return y1;
    }
    let xs = [x1, x2];
    let ys = [y1, y2];
    interp(x, &xs, &ys)
}

/// RouterBench's `calc_AIQ` over a comparison set of routers, each a list of (cost, quality).
pub fn aiq_routerbench(routers: &[Vec<(f64, f64)>]) -> Aiq {
    let hulls: Vec<Option<Vec<(f64, f64)>>> = routers
        .iter()
        .map(|r| {
            if r.len() < 2 {
                None
            } else {
                routerbench_hull(r)
            }
        })
        .collect();
    let max_cost = hulls
        .iter()
        .flatten()
        .flat_map(|h| h.iter().map(|p| p.0))
        .fold(f64::NEG_INFINITY, f64::max);
    let values = hulls
        .iter()
        .map(|h| {
            let h = h.as_ref()?;
            let mut x: Vec<f64> = h.iter().map(|p| p.0).collect();
            let mut y: Vec<f64> = h.iter().map(|p| p.1).collect();
            x.push(max_cost);
            y.push(*y.last()?);
            Some(trapz(&y, &x) / max_cost)
        })
        .collect();
    Aiq { values, max_cost }
}

/// The exact form: ∫₀^C best quality reachable at cost ≤ c (0 below the router's cheapest
/// point) dc / C, with C the largest cost among the routers' points.
pub fn aiq_exact(routers: &[Vec<(f64, f64)>]) -> Aiq {
    let max_cost = routers
        .iter()
        .flatten()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let values = routers
        .iter()
        .map(|r| {
            let mut pts = r.clone();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (mut area, mut best) = (0.0, f64::NEG_INFINITY);
            for (i, &(c, q)) in pts.iter().enumerate() {
                best = best.max(q);
                let next = pts.get(i + 1).map_or(max_cost, |p| p.0);
                area += best * (next - c);
            }
            (max_cost > 0.0 && !pts.is_empty()).then(|| area / max_cost)
        })
        .collect();
    Aiq { values, max_cost }
}

/// The oracle over some models: per prompt the best quality any of them gets, from the
/// cheapest model that gets it, with no cascading cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleSummary {
    /// Mean cost per request.
    pub cost: f64,
    /// Mean quality.
    pub quality: f64,
}

/// The oracle over `models[which]` (prompts, one per row), its sums exact as in an aggregate:
/// the naive form the tests hold [`ChainTable`](super::ChainTable)'s sums to.
#[cfg(test)]
pub fn oracle(models: &[ModelData], which: &[usize]) -> OracleSummary {
    let n = models[which[0]].quality.len();
    let (mut cost, mut quality) = (Exact::default(), Exact::default());
    for i in 0..n {
        let (q, c) = oracle_answer(models, which, i);
        quality.add(q);
        cost.add(c);
    }
    OracleSummary::of(&cost, &quality, n as u64)
}

/// The oracle's answer to prompt `i` among `models[which]`: the best quality, and the least
/// cost among the models that reach it.
pub fn oracle_answer(models: &[ModelData], which: &[usize], i: usize) -> (f64, f64) {
    let mut best = (f64::NEG_INFINITY, 0.0);
    for &m in which {
        let (q, c) = (models[m].quality[i], models[m].cost[i]);
        if q > best.0 || (q == best.0 && c < best.1) {
            best = (q, c);
        }
    }
    best
}

impl OracleSummary {
    /// From exact sums over `n` prompts.
    pub fn of(cost: &Exact, quality: &Exact, n: u64) -> OracleSummary {
        let per = |x: &Exact| if n == 0 { 0.0 } else { x.value() / n as f64 };
        OracleSummary {
            cost: per(cost),
            quality: per(quality),
        }
    }
}

/// The random-routing baseline at `cost`: the best quality reachable by sending each request
/// to one of these (cost, quality) points at random (their upper concave hull), `None` below
/// the cheapest.
pub fn random_baseline(points: &[(f64, f64)], cost: f64) -> Option<f64> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let hull = upper_hull(&pts);
    let first = *hull.first()?;
    if cost < first.0 {
        return None;
    }
    let peak = hull
        .iter()
        .copied()
        .fold(first, |b, p| if p.1 > b.1 { p } else { b });
    Some(if cost >= peak.0 {
        peak.1
    } else {
        hull_at(&hull, cost)
    })
}

/// The frontier points as (mean cost, mean quality).
pub fn means(frontier: &[Point], n: usize) -> Vec<(f64, f64)> {
    frontier
        .iter()
        .map(|p| (p.cost / n as f64, p.quality / n as f64))
        .collect()
}
