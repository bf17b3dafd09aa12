//! The per-segment policy's warnings: a segment that ships answers below the quality target,
//! and whether it escalates less than it would at the global threshold. Pure: the plan's
//! segments in, sentences out; the caller prints them (stderr) and the report lists them.

use super::SegmentResult;
use crate::engine::objective::Objective;
use crate::engine::sweep::Sweep;

/// One sentence per segment whose policy ships answers below the objective's quality target
/// and does worse than the global threshold there (escalates less, or ships lower quality);
/// quality objectives only (a segment that escalates everything ships nothing). Below the
/// target at the global threshold as well, the pooled target carries it: the report's table
/// shows it, no warning.
pub fn below_target(
    segments: &[SegmentResult],
    sweeps: &[Sweep],
    objective: Objective,
) -> Vec<String> {
    if !objective.is_quality_floor() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (s, sweep) in segments.iter().zip(sweeps) {
        let large = sweep.baselines().always_large.quality;
        if s.chosen.accepted == 0 || objective.is_met(&s.chosen, large) != Some(false) {
            continue;
        }
        let worse = s.at_global.as_ref().is_none_or(|g| {
            s.chosen.escalation_rate < g.escalation_rate
                || s.chosen.non_escalated_quality < g.non_escalated_quality
        });
        if !worse {
            continue;
        }
        let quality = match objective {
            Objective::MinQuality { .. } => s.chosen.non_escalated_quality,
            _ => s.chosen.cascade_quality,
        };
        let mut line = format!(
            "segment {} ships answers below the target under the per-segment policy ({} {:.4}; \
             objective: {})",
            s.name,
            match objective {
                Objective::MinQuality { .. } => "non-escalated quality",
                _ => "cascade quality",
            },
            quality.unwrap_or(f64::NAN),
            objective.describe()
        );
        if let Some(g) = &s.at_global
            && s.chosen.escalation_rate < g.escalation_rate
        {
            line.push_str(&format!(
                ", and escalates less than at the global threshold ({:.1}% against {:.1}%)",
                100.0 * s.chosen.escalation_rate,
                100.0 * g.escalation_rate
            ));
        }
        line.push_str("; --segment-floor Q sets a floor per segment");
        out.push(line);
    }
    out
}
