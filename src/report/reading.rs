//! What the plots and the dashboard read off the report beyond the sweep: the objective's
//! target line and the shares the escalation funnel shows. Pure; no I/O.
//!
//! Renderers call these rather than divide or subtract themselves.

use super::Report;
use super::findings::{Funnel, Histogram};
use crate::engine::objective::Objective;

/// The objective drawn on the tradeoff plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetLine {
    /// A floor on the quality of the answers the small model ships.
    NonEscalatedQuality(f64),
    /// A floor on the cascade's quality (all answers).
    CascadeQuality(f64),
    /// A ceiling on the escalation rate.
    Escalation(f64),
}

impl Report {
    /// The objective as a line on the quality–escalation plane; `None` for objectives that are
    /// not one (a budget, quality × savings).
    pub fn target_line(&self) -> Option<TargetLine> {
        match self.settings.objective {
            Objective::MinQuality { target } => Some(TargetLine::NonEscalatedQuality(target)),
            Objective::MinCascadeQuality { target } => Some(TargetLine::CascadeQuality(target)),
            Objective::MaxEscalation { max_rate } => Some(TargetLine::Escalation(max_rate)),
            Objective::MaxQualityLoss { max_loss } => self
                .baselines
                .always_large
                .quality
                .map(|q| TargetLine::CascadeQuality(q - max_loss)),
            Objective::Budget { .. } | Objective::QualityTimesSavings => None,
        }
    }
}

impl Funnel {
    /// Share of requests the small model answers.
    pub fn accepted_share(&self) -> Option<f64> {
        share(self.accepted as f64, self.requests)
    }

    /// Share of requests sent to the large model.
    pub fn escalated_share(&self) -> Option<f64> {
        share(self.escalated as f64, self.requests)
    }

    /// Error rate of the answers the small model ships: shipped errors over accepted answers.
    pub fn shipped_error_rate(&self) -> Option<f64> {
        share(self.shipped_errors, self.accepted)
    }

    /// Share of escalations the small model had right.
    pub fn wasted_share(&self) -> Option<f64> {
        share(self.wasted_escalations, self.escalated)
    }

    /// Share of escalations where the large answer was better (quality gained per escalation).
    pub fn gained_share(&self) -> Option<f64> {
        share(self.gained?, self.escalated)
    }

    /// Share of escalations where the large answer was worse (quality lost per escalation).
    pub fn lost_share(&self) -> Option<f64> {
        share(self.lost?, self.escalated)
    }
}

impl Histogram {
    /// Right answers in all (Σ small quality).
    pub fn right_total(&self) -> f64 {
        self.right.iter().sum()
    }

    /// Wrong answers in all (Σ (1 − small quality)).
    pub fn wrong_total(&self) -> f64 {
        self.wrong.iter().sum()
    }

    /// Each bin's share of the right answers: the right answers' density, comparable with the
    /// wrong answers' however few those are.
    pub fn right_shares(&self) -> Vec<f64> {
        shares(&self.right)
    }

    /// Each bin's share of the wrong answers.
    pub fn wrong_shares(&self) -> Vec<f64> {
        shares(&self.wrong)
    }
}

/// Each count over their sum (all zero when the sum is).
fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| if total > 0.0 { c / total } else { 0.0 })
        .collect()
}

/// `part / whole`, or `None` when the whole is empty.
fn share(part: f64, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_shares_are_of_their_own_base() {
        // Issue 15: 3.7 % of all requests were shipped errors, but the error rate of shipped
        // answers is 5.0 %. By hand: 1000 requests, 740 accepted with 37 wrong: 37 / 740 = 0.05.
        let f = Funnel {
            requests: 1000,
            accepted: 740,
            escalated: 260,
            shipped_errors: 37.0,
            wasted_escalations: 65.0,
            gained: Some(52.0),
            lost: Some(13.0),
            overrides: 0,
            path_cost: [None; 3],
            large_quality_escalated: None,
        };
        assert_eq!(f.shipped_error_rate(), Some(0.05));
        assert_eq!(f.wasted_share(), Some(0.25));
        assert_eq!(f.gained_share(), Some(0.2));
        assert_eq!(f.lost_share(), Some(0.05));
        assert_eq!(f.accepted_share(), Some(0.74));
        let none = Funnel {
            accepted: 0,
            escalated: 0,
            ..f
        };
        assert_eq!(none.shipped_error_rate(), None);
        assert_eq!(none.wasted_share(), None);
    }

    #[test]
    fn histogram_shares_are_densities_of_each_class() {
        // Issue 15: 30 wrong answers a bin vanished beside 1,600 right ones on a count axis. By
        // hand: right 10, 30, 60 over 100; wrong 3, 1, 0 over 4.
        let h = Histogram {
            edges: vec![0.0, 0.5, 0.9, 1.0],
            right: vec![10.0, 30.0, 60.0],
            wrong: vec![3.0, 1.0, 0.0],
        };
        assert_eq!(h.right_shares(), vec![0.1, 0.3, 0.6]);
        assert_eq!(h.wrong_shares(), vec![0.75, 0.25, 0.0]);
        assert_eq!((h.right_total(), h.wrong_total()), (100.0, 4.0));
    }
}
