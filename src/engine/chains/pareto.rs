//! Pareto frontiers of (cost, quality) points: built from cost-sorted points and merged, ties
//! (equal cost and quality) keeping the earlier point. Must not search nor choose.

use super::model::{Frontier, Point};

/// The Pareto points of `points`, which are sorted by cost ascending.
pub fn pareto_sorted(points: &[Point]) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for p in points {
        push_pareto(&mut out, *p);
    }
    out
}

/// Appends `p` (costing at least as much as every point in `out`) if it beats `out`'s best
/// quality; at equal cost the better quality stays, the earlier point on a tie.
pub fn push_pareto(out: &mut Vec<Point>, p: Point) {
    match out.last_mut() {
        None => out.push(p),
        Some(last) if p.cost == last.cost => {
            if p.quality > last.quality {
                *last = p;
            }
        }
        Some(last) => {
            if p.quality > last.quality {
                out.push(p);
            }
        }
    }
}

/// `frontier` ∪ `other`, both Pareto frontiers, as one (`scratch`: reused memory).
pub fn merge_into(frontier: &mut Frontier, other: &[Point], scratch: &mut Vec<Point>) {
    scratch.clear();
    let (mut a, mut b) = (0, 0);
    while a < frontier.len() || b < other.len() {
        let take_a = b == other.len() || (a < frontier.len() && frontier[a].cost <= other[b].cost);
        let p = if take_a {
            a += 1;
            frontier[a - 1]
        } else {
            b += 1;
            other[b - 1]
        };
        push_pareto(scratch, p);
    }
    std::mem::swap(frontier, scratch);
}
