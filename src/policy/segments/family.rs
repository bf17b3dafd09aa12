//! The one-parameter family behind a certified per-segment policy: for a shadow price λ of
//! the quality constraint, the cheapest per-segment choice (Σ cost − λ Σ value) is one policy;
//! ordered by λ these policies run from "every segment at its cheapest threshold" to "every
//! segment at its safest". Pure: records in, per-segment thresholds out; the test of each
//! member is `trust::certify`'s.

use super::Segmentation;
use super::departure::above_floor;
use super::joint;
use super::plan::{choice, split};
use crate::engine::objective::Objective;
use crate::engine::sweep::{Sweep, SweepInput};

/// The family's members, safest first (largest λ): per member, each segment's threshold
/// (`f64::INFINITY`: the segment goes to the large model). Candidates below `floor` are left
/// out. Empty for objectives without a joint form.
pub fn family(
    input: SweepInput<'_>,
    seg: &Segmentation,
    objective: Objective,
    floor: Option<f64>,
) -> Vec<Vec<f64>> {
    let sweeps: Vec<Sweep> = (split(input, seg).iter())
        .map(|p| Sweep::new(p.input(input.costs.baseline)))
        .collect();
    let allowed: Vec<Vec<usize>> = (sweeps.iter())
        .map(|s| {
            (0..s.candidates())
                .filter(|&j| floor.is_none_or(|f| above_floor(s, j, f)))
                .collect()
        })
        .collect();
    let mut choices: Vec<Vec<joint::Choice>> = Vec::with_capacity(sweeps.len());
    for (s, allowed) in sweeps.iter().zip(&allowed) {
        let c: Option<Vec<joint::Choice>> = (allowed.iter())
            .map(|&j| choice(objective, &s.totals(j)))
            .collect();
        match c {
            Some(c) => choices.push(c),
            None => return Vec::new(),
        }
    }
    let path = joint::lagrangian_path(&choices);
    (path.iter().rev())
        .map(|picks| {
            (picks.iter().enumerate())
                .map(|(k, &p)| match allowed[k][p] {
                    0 => f64::INFINITY,
                    j => sweeps[k].threshold_of(j),
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sweep::flat_input;
    use crate::input::Labels;

    /// By hand: segment a (0.9 right, 0.8 wrong), segment b (0.7 right); costs 1 and 10 per
    /// request; target 0.5. Values S − 0.5·n: a: escalate all 0, accept 0.9 +0.5, accept both
    /// 0; b: escalate 0, accept +0.5. Costs (1 + 10 per escalated record): a: 22, 12, 2;
    /// b: 11, 1. Pareto fronts by cost: a (2, 0), (12, 0.5); b (1, 0.5). Safest first: a at
    /// 0.9, then a at 0.8 (both with b at 0.7).
    #[test]
    fn members_step_along_the_hulls_by_hand() {
        let conf = [0.9, 0.8, 0.7];
        let q = [1.0, 0.0, 1.0];
        let labels = Labels {
            codes: vec![0, 0, 1],
            names: vec!["a".into(), "b".into()],
        };
        let seg = Segmentation::new(&[("s", &labels)]);
        let f = family(
            flat_input(&conf, &q, None),
            &seg,
            Objective::MinQuality { target: 0.5 },
            None,
        );
        assert_eq!(f, vec![vec![0.9, 0.7], vec![0.8, 0.7]]);
        // A floor of 0.6 removes a's "accept both" (quality 0.5).
        let f = family(
            flat_input(&conf, &q, None),
            &seg,
            Objective::MinQuality { target: 0.5 },
            Some(0.6),
        );
        assert_eq!(f, vec![vec![0.9, 0.7]]);
    }
}
