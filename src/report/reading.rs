//! What the plots and the dashboard read off the report beyond the sweep: the objective's
//! target line and the shares the escalation funnel shows. Pure; no I/O.
//!
//! Renderers call these rather than divide or subtract themselves.

use super::Report;
use super::findings::Funnel;
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
}
