//! Choosing over the chains: what the objective means for a chain, the best point of each
//! chain, the ranking, the envelope of all chains and the pick.
//!
//! Every objective here is a function of a point's mean cost and mean quality, so the best
//! point of a chain lies on its frontier and the pick on the envelope. Ties between chains go to
//! the one with fewer stages, then to the earlier chain in [`all_chains`](super::all_chains)
//! order. Must not search (`search.rs`) nor format.

use std::cmp::Ordering;

use super::model::{Frontier, Point, Searched};
use crate::engine::objective::{LOSS_TOLERANCE, Objective};

/// What the chosen chain should achieve, on means over the prompts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChainGoal {
    /// The cheapest point whose quality (every answer, from whichever stage) is ≥ `target`.
    MinQuality {
        /// Quality in [0, 1].
        target: f64,
    },
    /// The cheapest point whose quality is at most `max_loss` below the best single model's.
    MaxLoss {
        /// Quality in [0, 1].
        max_loss: f64,
        /// The best single model's quality.
        best_single: f64,
    },
    /// The best quality at cost per request ≤ `max_cost`.
    Budget {
        /// Currency units per request.
        max_cost: f64,
    },
    /// Maximise quality × (1 − cost / `reference_cost`), the most expensive model's cost.
    QualityTimesSavings {
        /// Currency units per request.
        reference_cost: f64,
    },
}

impl ChainGoal {
    /// The chain form of `objective`; `Err` says why it has none.
    pub fn of(
        objective: Objective,
        best_single: f64,
        reference_cost: f64,
    ) -> Result<ChainGoal, String> {
        Ok(match objective {
            Objective::MinQuality { target } | Objective::MinCascadeQuality { target } => {
                ChainGoal::MinQuality { target }
            }
            Objective::MaxQualityLoss { max_loss } => ChainGoal::MaxLoss {
                max_loss,
                best_single,
            },
            Objective::Budget { max_cost } => ChainGoal::Budget { max_cost },
            Objective::QualityTimesSavings => ChainGoal::QualityTimesSavings { reference_cost },
            Objective::MaxEscalation { .. } => {
                return Err(
                    "--max-escalation has no single meaning for a chain of models \
                            (which stage's escalations?); use --min-quality, --max-quality-loss \
                            or --budget"
                        .into(),
                );
            }
        })
    }
}

/// Whether mean `cost` and mean `quality` meet the goal.
pub fn feasible(goal: &ChainGoal, cost: f64, quality: f64) -> bool {
    match *goal {
        ChainGoal::MinQuality { target } => quality >= target,
        ChainGoal::MaxLoss {
            max_loss,
            best_single,
        } => best_single - quality <= max_loss + LOSS_TOLERANCE,
        ChainGoal::Budget { max_cost } => cost <= max_cost,
        ChainGoal::QualityTimesSavings { .. } => true,
    }
}

/// How `a` compares with `b` (means: cost, quality) under the goal: `Greater` is better.
pub fn better(goal: &ChainGoal, a: (f64, f64), b: (f64, f64)) -> Ordering {
    let cheaper = b.0.total_cmp(&a.0);
    let higher = a.1.total_cmp(&b.1);
    match *goal {
        ChainGoal::MinQuality { .. } | ChainGoal::MaxLoss { .. } => cheaper.then(higher),
        ChainGoal::Budget { .. } => higher.then(cheaper),
        ChainGoal::QualityTimesSavings { reference_cost } => {
            let f = |(c, q): (f64, f64)| {
                if reference_cost > 0.0 {
                    q * (1.0 - c / reference_cost)
                } else {
                    q
                }
            };
            f(a).total_cmp(&f(b)).then(cheaper)
        }
    }
}

/// A mean rounded to 40 significant bits (a relative 2^-41, about 4.5e-13): sums taken in
/// different orders differ below that.
fn rounded(x: f64) -> f64 {
    f64::from_bits((x.to_bits() + (1 << 11)) & !((1 << 12) - 1))
}

/// The best point of a frontier of totals over `n` prompts, if any meets the goal.
pub fn best_point(frontier: &Frontier, goal: &ChainGoal, n: usize) -> Option<Point> {
    let means = |p: &Point| (p.cost / n as f64, p.quality / n as f64);
    let mut best: Option<Point> = None;
    for p in frontier {
        let (c, q) = means(p);
        if !feasible(goal, c, q) {
            continue;
        }
        if best.is_none_or(|b| better(goal, (c, q), means(&b)) == Ordering::Greater) {
            best = Some(*p);
        }
    }
    best
}

/// A chain's point.
#[derive(Debug, Clone, Copy)]
pub struct Pick {
    /// Index into the searched chains.
    pub chain: usize,
    /// The point (totals).
    pub point: Point,
}

/// The choice over every chain.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Each chain's best point under the goal (`None`: no point of it meets the goal).
    pub per_chain: Vec<Option<Point>>,
    /// Chain indices, best first: those meeting the goal by the goal's order, then the rest in
    /// chain order.
    pub ranking: Vec<usize>,
    /// The envelope of all chains: (chain index, point), cost ascending, quality increasing.
    pub envelope: Vec<Pick>,
    /// The pick, when some chain meets the goal.
    pub pick: Option<Pick>,
}

/// The best point of every chain, their ranking, the envelope and the pick.
pub fn choose(searched: &[Searched], goal: &ChainGoal, n: usize) -> Choice {
    let per_chain: Vec<Option<Point>> = searched
        .iter()
        .map(|s| best_point(&s.frontier, goal, n))
        .collect();
    let means = |p: &Point| (p.cost / n as f64, p.quality / n as f64);
    let stages = |c: usize| searched[c].chain.len();
    let mut ranking: Vec<usize> = (0..searched.len()).collect();
    ranking.sort_by(|&a, &b| match (&per_chain[a], &per_chain[b]) {
        (Some(pa), Some(pb)) => better(goal, means(pb), means(pa))
            .then(stages(a).cmp(&stages(b)))
            .then(a.cmp(&b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(&b),
    });
    // Sums taken in different orders differ in the last bits: neighbours whose means agree to
    // 40 bits are equally good, and the shorter chain goes first (a stage that never runs adds
    // nothing but a model to deploy). A tolerance inside the sort is not transitive (the sort
    // panicked on it), so the runs are reordered after it.
    let key = |c: usize| per_chain[c].map(|p| (rounded(means(&p).0), rounded(means(&p).1)));
    let mut start = 0;
    while start < ranking.len() {
        let Some(k) = key(ranking[start]) else { break };
        let end = (start..ranking.len())
            .find(|&i| key(ranking[i]) != Some(k))
            .unwrap_or(ranking.len());
        ranking[start..end].sort_by(|&a, &b| stages(a).cmp(&stages(b)).then(a.cmp(&b)));
        start = end;
    }
    let pick = ranking
        .first()
        .and_then(|&c| per_chain[c].map(|point| Pick { chain: c, point }));
    Choice {
        envelope: envelope(searched),
        per_chain,
        ranking,
        pick,
    }
}

/// The Pareto points over every chain's frontier (ties to the earlier chain).
fn envelope(searched: &[Searched]) -> Vec<Pick> {
    let mut all: Vec<Pick> = searched
        .iter()
        .enumerate()
        .flat_map(|(c, s)| {
            s.frontier
                .iter()
                .map(move |&point| Pick { chain: c, point })
        })
        .collect();
    all.sort_by(|a, b| {
        a.point
            .cost
            .total_cmp(&b.point.cost)
            .then(b.point.quality.total_cmp(&a.point.quality))
            .then(
                searched[a.chain]
                    .chain
                    .len()
                    .cmp(&searched[b.chain].chain.len()),
            )
            .then(a.chain.cmp(&b.chain))
    });
    let mut out: Vec<Pick> = Vec::new();
    for p in all {
        if out.last().is_none_or(|l| p.point.quality > l.point.quality) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::chains::Chain;

    #[test]
    fn near_ties_go_to_the_shorter_chain_and_the_sort_holds() {
        // Points a few 1e-13 apart (what sums in another order give): a tolerance inside the
        // sort made a < b, b < c but a = c, and sort_by panicked on forty such chains. Now the
        // sort is exact and runs of equal rounded means put the shorter chain first.
        let chain = |k: usize| Chain {
            stages: (0..k).collect(),
        };
        let searched: Vec<Searched> = (0..40)
            .map(|i| {
                let e = i as f64 * 3e-13;
                Searched {
                    chain: chain(1 + (39 - i) % 4),
                    frontier: vec![Point {
                        cost: 0.5 * (1.0 + e),
                        quality: 0.8 * (1.0 - e * (i % 3) as f64),
                        taus: [f64::NAN; 7],
                    }],
                    grid: None,
                }
            })
            .collect();
        for goal in [
            ChainGoal::MinQuality { target: 0.0 },
            ChainGoal::Budget { max_cost: 1.0 },
            ChainGoal::QualityTimesSavings {
                reference_cost: 2.0,
            },
        ] {
            let choice = choose(&searched, &goal, 1);
            assert_eq!(choice.ranking.len(), 40);
            // Equal to 40 bits: the two cheapest points, a single stage beats four stages.
            let two = [(0.5, 0.8), (0.5 * (1.0 + 1e-15), 0.8)];
            let near: Vec<Searched> = (two.iter().zip([4, 1]))
                .map(|(&(cost, quality), k)| Searched {
                    chain: chain(k),
                    frontier: vec![Point {
                        cost,
                        quality,
                        taus: [f64::NAN; 7],
                    }],
                    grid: None,
                })
                .collect();
            let pick = choose(&near, &goal, 1).pick.unwrap();
            assert_eq!(near[pick.chain].chain.len(), 1, "{goal:?}");
        }
    }
}
