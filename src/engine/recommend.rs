//! Objectives and the choice of threshold. Pure: a sweep in, a candidate or a reason out.
//!
//! Owns the choice among candidates (an objective's score and tie-breaking; what each objective
//! means is `objective.rs`) and the explanation when no threshold qualifies. It must not compute metrics (the sweep does) nor format output beyond the reason.

use std::fmt;

use crate::engine::objective::Objective;
use crate::engine::sweep::{Metrics, Sweep};

/// Why no threshold meets the objective, with the closest the data allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Infeasible {
    /// The objective that could not be met.
    pub objective: Objective,
    /// The candidate that comes closest, when one exists.
    pub closest: Option<Metrics>,
    /// A full explanation that replaces the default wording (used when certification fails).
    pub note: Option<String>,
}

impl fmt::Display for Infeasible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(note) = &self.note {
            return f.write_str(note);
        }
        match (self.objective, self.closest) {
            (Objective::MinQuality { target }, Some(m)) => write!(
                f,
                "no threshold reaches non-escalated quality {target}; the best reachable is {:.4} \
                 at threshold {} (escalation rate {:.1}%)",
                m.non_escalated_quality.unwrap_or(f64::NAN),
                m.threshold,
                100.0 * m.escalation_rate
            ),
            (Objective::MinCascadeQuality { target }, Some(m)) => write!(
                f,
                "no threshold reaches cascade quality {target}; the best reachable is {:.4} at \
                 threshold {} (escalation rate {:.1}%)",
                m.cascade_quality.unwrap_or(f64::NAN),
                m.threshold,
                100.0 * m.escalation_rate
            ),
            (Objective::Budget { max_cost }, Some(m)) => write!(
                f,
                "no threshold costs at most {max_cost} per request; the cheapest cascade costs \
                 {:.6} per request (threshold {}, escalation rate {:.1}%)",
                m.cost_per_request,
                m.threshold,
                100.0 * m.escalation_rate
            ),
            (Objective::QualityTimesSavings, _) => f.write_str(
                "the quality x savings objective is undefined: always-large costs nothing, so \
                 there are no savings to weigh; choose --min-quality, --max-escalation or --budget",
            ),
            (objective, _) => write!(f, "no threshold meets: {}", objective.describe()),
        }
    }
}

/// The candidate that best meets `objective`, searching every candidate of the sweep.
pub fn recommend(sweep: &Sweep, objective: Objective) -> Result<Metrics, Infeasible> {
    let all = (0..sweep.candidates()).map(|j| sweep.at_candidate(j));
    // `better(a, b)`: a strictly preferred to b. Candidates come with accepted count increasing.
    let pick = |qualifies: &dyn Fn(&Metrics) -> bool, score: &dyn Fn(&Metrics) -> f64| {
        let mut best: Option<Metrics> = None;
        for m in all.clone().filter(|m| qualifies(m)) {
            let replace = match &best {
                None => true,
                Some(b) => {
                    let (sm, sb) = (score(&m), score(b));
                    sm > sb || (sm == sb && m.cost_per_request < b.cost_per_request)
                }
            };
            if replace {
                best = Some(m);
            }
        }
        best
    };
    // A candidate qualifies when it meets the objective's constraint and the objective's
    // score is defined for it.
    let large = sweep.baselines().always_large.quality;
    let meets = |m: &Metrics| objective.is_met(m, large) != Some(false);
    let found = match objective {
        // Lowest escalation rate = most accepted.
        Objective::MinQuality { .. }
        | Objective::MaxQualityLoss { .. }
        | Objective::MinCascadeQuality { .. } => pick(&meets, &|m| m.accepted as f64),
        Objective::MaxEscalation { .. } => {
            pick(&|m| meets(m) && m.non_escalated_quality.is_some(), &|m| {
                m.non_escalated_quality.unwrap_or(f64::NEG_INFINITY)
            })
        }
        Objective::Budget { .. } => pick(&|m| meets(m) && m.cascade_quality.is_some(), &|m| {
            m.cascade_quality.unwrap_or(f64::NEG_INFINITY)
        }),
        Objective::QualityTimesSavings => pick(&|m| m.quality_times_savings.is_some(), &|m| {
            m.quality_times_savings.unwrap_or(f64::NEG_INFINITY)
        }),
    };
    found.ok_or_else(|| Infeasible {
        objective,
        closest: closest(sweep, objective),
        note: None,
    })
}

fn closest(sweep: &Sweep, objective: Objective) -> Option<Metrics> {
    let all = (0..sweep.candidates()).map(|j| sweep.at_candidate(j));
    match objective {
        Objective::MinQuality { .. } => {
            all.filter(|m| m.non_escalated_quality.is_some())
                .max_by(|a, b| {
                    let (qa, qb) = (a.non_escalated_quality, b.non_escalated_quality);
                    qa.partial_cmp(&qb)
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then(b.escalated.cmp(&a.escalated))
                })
        }
        Objective::Budget { .. } => {
            all.min_by(|a, b| a.cost_per_request.total_cmp(&b.cost_per_request))
        }
        Objective::MinCascadeQuality { .. } => {
            all.filter(|m| m.cascade_quality.is_some()).max_by(|a, b| {
                let (qa, qb) = (a.cascade_quality, b.cascade_quality);
                qa.partial_cmp(&qb)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.escalated.cmp(&a.escalated))
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_quality_loss_tie_is_met() {
        // A loss exactly at the limit meets it: always-large 4/5, cascade 3/5 at every threshold,
        // a loss of exactly 0.2, though 0.8 − 0.6 is 0.20000000000000007 in floating point.
        let conf = [0.9, 0.8, 0.7, 0.6, 0.5];
        let sq = [0.0, 1.0, 1.0, 1.0, 0.0];
        let lq = [1.0, 1.0, 1.0, 1.0, 0.0];
        let sweep = Sweep::new(crate::engine::sweep::flat_input(&conf, &sq, Some(&lq)));
        let m = recommend(&sweep, Objective::MaxQualityLoss { max_loss: 0.2 }).unwrap();
        assert_eq!((m.threshold, m.escalated), (0.5, 0));
    }
    use crate::engine::economics::{CostColumn, CostModel};
    use crate::engine::sweep::SweepInput;
    use crate::engine::sweep::flat_input;

    /// Records (conf, small, large): (0.9,1,1) (0.8,1,1) (0.7,0,1) (0.6,1,0) (0.5,0,1);
    /// small costs 1, large 10 per request.
    fn sweep() -> Sweep {
        Sweep::new(flat_input(
            &[0.9, 0.8, 0.7, 0.6, 0.5],
            &[1.0, 1.0, 0.0, 1.0, 0.0],
            Some(&[1.0, 1.0, 1.0, 0.0, 1.0]),
        ))
    }

    #[test]
    fn min_quality_takes_lowest_escalation() {
        // Non-escalated quality by threshold: 0.9 → 1, 0.8 → 1, 0.7 → 2/3, 0.6 → 3/4, 0.5 → 3/5.
        let m = recommend(&sweep(), Objective::MinQuality { target: 0.75 }).unwrap();
        assert_eq!(m.threshold, 0.6);
        assert_eq!(m.escalated, 1);
        let m = recommend(&sweep(), Objective::MinQuality { target: 0.95 }).unwrap();
        assert_eq!(m.threshold, 0.8);
    }

    #[test]
    fn min_quality_infeasible_names_best() {
        let s = Sweep::new(SweepInput {
            confidence: &[0.9, 0.1],
            small_quality: &[0.5, 0.25],
            large_quality: None,
            costs: CostModel {
                small: CostColumn::PerRequest(1.0),
                large: CostColumn::PerRequest(10.0),
                baseline: None,
            },
            safeguarded: None,
        });
        let err = recommend(&s, Objective::MinQuality { target: 0.9 }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no threshold reaches non-escalated quality 0.9; the best reachable is 0.5000 at \
             threshold 0.9 (escalation rate 50.0%)"
        );
    }

    #[test]
    fn max_escalation_and_budget() {
        // Escalation ≤ 0.4 allows thresholds 0.6 (1 escalated, quality 3/4) and 0.5 (3/5)
        // and 0.7 (2 escalated = 0.4, quality 2/3): best is 0.6.
        let m = recommend(&sweep(), Objective::MaxEscalation { max_rate: 0.4 }).unwrap();
        assert_eq!(m.threshold, 0.6);
        // Cost at threshold t: (5 + 10 × escalated) / 5. Budget 5 allows ≤ 2 escalated:
        // cascade quality at 0.7: (1+1+0 + 1+1)/5 = 0.8; at 0.6: (1+1+0+1 + 1)/5 = 0.8,
        // equal quality, so the cheaper (0.6, cost 3) wins; at 0.8 (cost 5): (1+1 + 1+0+1)/5 = 0.8.
        let m = recommend(&sweep(), Objective::Budget { max_cost: 5.0 }).unwrap();
        assert_eq!(m.threshold, 0.6);
        assert_eq!(m.cost_per_request, 3.0);
        let err = recommend(&sweep(), Objective::Budget { max_cost: 0.5 }).unwrap_err();
        assert!(err.to_string().starts_with(
            "no threshold costs at most 0.5 per request; the cheapest cascade costs 1.000000"
        ));
    }

    #[test]
    fn default_objective_maximises_quality_times_savings() {
        // Cascade quality q and savings 1 − cost/10 per threshold (escalated e: cost 1 + 2e):
        // esc-all: q 0.8, cost 11 → −0.08; 0.9: q (1 + 1+1+0+1)/5 = 0.8, cost 9 → 0.08;
        // 0.8: 0.8, cost 7 → 0.24; 0.7: 0.8, cost 5 → 0.4; 0.6: 0.8, cost 3 → 0.56;
        // 0.5: q 3/5, cost 1 → 0.54. Best: 0.6.
        let m = recommend(&sweep(), Objective::QualityTimesSavings).unwrap();
        assert_eq!(m.threshold, 0.6);
    }
}
