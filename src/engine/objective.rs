//! Objectives: what the recommended threshold should achieve, and whether a row meets it.
//!
//! Owns what each objective means (one `is_met`) and which ones need large-model labels. It must
//! not choose among candidates (`recommend` does) nor compute metrics (the sweep does).

use crate::engine::sweep::Metrics;

/// Slack on a quality-loss comparison: the loss is a difference of two means, whose rounding
/// must not reject an exact tie (0.8 − 0.6 is 0.20000000000000007 in floating point).
pub const LOSS_TOLERANCE: f64 = 1e-12;

/// What the recommended threshold should achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// The lowest escalation rate whose non-escalated quality is at least `target`.
    MinQuality {
        /// Quality in [0, 1].
        target: f64,
    },
    /// The best non-escalated quality with escalation rate at most `max_rate`.
    MaxEscalation {
        /// Fraction in [0, 1].
        max_rate: f64,
    },
    /// The best cascade quality with cost per request at most `max_cost`.
    Budget {
        /// Currency units per request.
        max_cost: f64,
    },
    /// The lowest escalation whose cascade quality is at most `max_loss` below always-large.
    MaxQualityLoss {
        /// Quality in [0, 1].
        max_loss: f64,
    },
    /// The lowest escalation whose cascade quality (all answers, small and large) is at least
    /// `target`.
    MinCascadeQuality {
        /// Quality in [0, 1].
        target: f64,
    },
    /// The post's rule: maximise quality × (1 − cost / always-large cost).
    QualityTimesSavings,
}

impl Objective {
    /// A one-line description for summaries.
    pub fn describe(&self) -> String {
        match self {
            Objective::MinQuality { target } => {
                format!("lowest escalation with non-escalated quality >= {target}")
            }
            Objective::MaxEscalation { max_rate } => {
                format!("best non-escalated quality with escalation rate <= {max_rate}")
            }
            Objective::Budget { max_cost } => {
                format!("best cascade quality with cost per request <= {max_cost}")
            }
            Objective::MaxQualityLoss { max_loss } => {
                format!(
                    "lowest escalation with cascade quality at most {max_loss} below always-large"
                )
            }
            Objective::MinCascadeQuality { target } => {
                format!("lowest escalation with cascade quality >= {target}")
            }
            Objective::QualityTimesSavings => {
                "maximise quality x (1 - cost / always-large cost)".into()
            }
        }
    }

    /// The machine name used in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Objective::MinQuality { .. } => "min_quality",
            Objective::MaxEscalation { .. } => "max_escalation",
            Objective::Budget { .. } => "budget",
            Objective::MaxQualityLoss { .. } => "max_quality_loss",
            Objective::MinCascadeQuality { .. } => "min_cascade_quality",
            Objective::QualityTimesSavings => "quality_times_savings",
        }
    }

    /// The objective's numeric parameter, if it has one.
    pub fn value(&self) -> Option<f64> {
        match *self {
            Objective::MinQuality { target } => Some(target),
            Objective::MaxEscalation { max_rate } => Some(max_rate),
            Objective::Budget { max_cost } => Some(max_cost),
            Objective::MaxQualityLoss { max_loss } => Some(max_loss),
            Objective::MinCascadeQuality { target } => Some(target),
            Objective::QualityTimesSavings => None,
        }
    }

    /// Whether `m` meets the objective's constraint, where `large_quality` is always-large's
    /// quality on the same records. `None` for the quality × savings rule, which has no
    /// constraint. The one definition of "meets" (recommend, hold-out checks and segments).
    pub fn is_met(&self, m: &Metrics, large_quality: Option<f64>) -> Option<bool> {
        Some(match *self {
            Objective::MinQuality { target } => {
                m.non_escalated_quality.is_some_and(|q| q >= target)
            }
            Objective::MaxEscalation { max_rate } => m.escalation_rate <= max_rate,
            Objective::Budget { max_cost } => m.cost_per_request <= max_cost,
            Objective::MinCascadeQuality { target } => {
                m.cascade_quality.is_some_and(|q| q >= target)
            }
            Objective::MaxQualityLoss { max_loss } => large_quality
                .zip(m.cascade_quality)
                .is_some_and(|(l, c)| l - c <= max_loss + LOSS_TOLERANCE),
            Objective::QualityTimesSavings => return None,
        })
    }

    /// Whether the objective is a quality floor that a part of the records (a segment) can
    /// meet or miss on its own.
    pub fn is_quality_floor(&self) -> bool {
        matches!(
            self,
            Objective::MinQuality { .. }
                | Objective::MinCascadeQuality { .. }
                | Objective::MaxQualityLoss { .. }
        )
    }

    /// Why the objective needs large-model quality labels, when it does.
    pub fn needs_large_labels(&self) -> Option<&'static str> {
        match self {
            Objective::Budget { .. } => Some("--budget maximises cascade quality"),
            Objective::MaxQualityLoss { .. } => {
                Some("--max-quality-loss compares with always-large")
            }
            Objective::MinCascadeQuality { .. } => {
                Some("--min-cascade-quality counts the large model's answers")
            }
            _ => None,
        }
    }
}
