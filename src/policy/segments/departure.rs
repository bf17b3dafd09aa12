//! When a segment may leave the global threshold: a test of whether its own records support
//! another threshold, and the `--segment-floor` on the quality it ships. Pure.
//!
//! Owns the rule (issue 12): moving segment s from the global split to candidate j changes
//! which of its records in the confidence band between the two thresholds are answered by the
//! small model. The move is supported only when, in that band, the segment's records differ
//! from every other segment's records in the same band in the direction of the move (better
//! to accept more, worse to escalate more), by a one-sided two-sample z-test at level
//! α / (candidates of the segment) (Bonferroni over the thresholds it could take). A segment
//! whose calibration matches the rest has nothing to gain but noise, so it keeps the global
//! threshold. It must not solve the joint problem nor print.

use crate::engine::objective::Objective;
use crate::engine::sweep::{Sweep, Totals};
use crate::trust::stats::normal_quantile;

/// Which per-segment thresholds the joint search may choose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Departures {
    /// Only thresholds the segment's own records support (the default), at this error level.
    Tested {
        /// Family-wise error level per segment (Bonferroni over its candidates).
        alpha: f64,
    },
    /// Any threshold: the joint optimum in sample (`--segment-departures free`).
    Free,
}

/// The default level of the departure test.
pub const DEFAULT_ALPHA: f64 = 0.05;

impl Departures {
    /// The default: tested at [`DEFAULT_ALPHA`].
    pub const DEFAULT: Departures = Departures::Tested {
        alpha: DEFAULT_ALPHA,
    };
}

/// What a band of records contributes: count and the sum of the per-record quality change
/// the objective weighs (small quality; or small minus large quality for the cascade
/// objectives).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Band {
    records: f64,
    sum: f64,
}

/// Per record, the quality the objective counts for accepting it, summed over the accepted
/// records of `t`: small quality for `--min-quality`, small − large for the cascade objectives.
fn accepted_sum(objective: Objective, t: &Totals) -> f64 {
    match objective {
        Objective::MinQuality { .. } => t.small_quality_accepted,
        _ => {
            let large_accepted = (t.large_quality_total.zip(t.large_quality_escalated))
                .map_or(0.0, |(total, esc)| total - esc);
            t.small_quality_accepted - large_accepted
        }
    }
}

/// The records accepted under one split and not the other (`more` accepts at least as many).
fn band(objective: Objective, more: &Totals, fewer: &Totals) -> Band {
    Band {
        records: (more.accepted - fewer.accepted) as f64,
        sum: accepted_sum(objective, more) - accepted_sum(objective, fewer),
    }
}

/// Whether moving a segment from candidate `global` to candidate `j` of its sweep `s` is
/// supported against the other segments' records in the same band (`all`: the sweep over
/// every record). Moving to the same split is always allowed.
pub fn supported(
    objective: Objective,
    alpha: f64,
    (s, all): (&Sweep, &Sweep),
    global: usize,
    j: usize,
) -> bool {
    let (lo, hi) = (global.min(j), global.max(j));
    let seg = band(objective, &s.totals(hi), &s.totals(lo));
    if seg.records == 0.0 {
        return true;
    }
    // The same band (by threshold) over all records, minus the segment's own records.
    let at = |k: usize| all.totals(all.candidate_at(s.threshold_of(k)));
    let pooled = band(objective, &at(hi), &at(lo));
    let rest = Band {
        records: pooled.records - seg.records,
        sum: pooled.sum - seg.sum,
    };
    if rest.records <= 0.0 {
        return false;
    }
    let (m_seg, m_rest) = (seg.sum / seg.records, rest.sum / rest.records);
    let mean = (seg.sum + rest.sum) / (seg.records + rest.records);
    // Variance bounds for values in [0, 1] (μ(1 − μ)) or in [−1, 1] ((1 − μ)(1 + μ)).
    let variance = match objective {
        Objective::MinQuality { .. } => mean * (1.0 - mean),
        _ => (1.0 - mean) * (1.0 + mean),
    }
    .max(0.0);
    let se = (variance * (1.0 / seg.records + 1.0 / rest.records)).sqrt();
    let z = normal_quantile(1.0 - alpha / (s.candidates().max(2) - 1) as f64);
    // Accepting more needs better records than the rest; escalating more, worse ones.
    let gain = if j > global {
        m_seg - m_rest
    } else {
        m_rest - m_seg
    };
    if se == 0.0 {
        return gain > 0.0;
    }
    gain / se >= z
}

/// Whether candidate `j` of `s` ships answers of quality at least `floor` (accepting nothing
/// always does).
pub fn above_floor(s: &Sweep, j: usize, floor: f64) -> bool {
    let t = s.totals(j);
    t.accepted == 0 || t.small_quality_accepted >= floor * t.accepted as f64 - 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sweep::flat_input;

    /// Band means checked by hand, and the z statistic against scipy-free arithmetic.
    #[test]
    fn a_segment_better_than_the_rest_may_accept_more() {
        // Segment: 40 records at confidence 0.5, all right. Rest: 40 at 0.5, half right.
        // Band between "escalate everything" (0) and 0.5: segment 40/40, rest 20/40; pooled
        // mean 0.75, se = sqrt(0.1875 · (1/40 + 1/40)) = 0.0968; z = 0.5 / 0.0968 = 5.16 > the
        // one-sided quantile at 0.05 / 1 (1.645).
        let seg_conf = vec![0.5; 40];
        let seg_q = vec![1.0; 40];
        let mut all_conf = seg_conf.clone();
        all_conf.extend(vec![0.5; 40]);
        let mut all_q = seg_q.clone();
        all_q.extend((0..40).map(|i| f64::from(i % 2)));
        let s = Sweep::new(flat_input(&seg_conf, &seg_q, None));
        let all = Sweep::new(flat_input(&all_conf, &all_q, None));
        let obj = Objective::MinQuality { target: 0.8 };
        assert!(supported(obj, 0.05, (&s, &all), 0, 1));
        // The other way round (the rest as the segment): it may escalate more, not accept more.
        let rest_q: Vec<f64> = (0..40).map(|i| f64::from(i % 2)).collect();
        let r = Sweep::new(flat_input(&seg_conf, &rest_q, None));
        assert!(!supported(obj, 0.05, (&r, &all), 0, 1));
        assert!(supported(obj, 0.05, (&r, &all), 1, 0));
    }

    #[test]
    fn a_segment_like_the_rest_keeps_the_global_split() {
        // Same quality in the band (half right in both): z = 0, not supported either way.
        let conf = vec![0.5; 20];
        let q: Vec<f64> = (0..20).map(|i| f64::from(i % 2)).collect();
        let s = Sweep::new(flat_input(&conf, &q, None));
        let mut all_conf = conf.clone();
        all_conf.extend(&conf);
        let mut all_q = q.clone();
        all_q.extend(&q);
        let all = Sweep::new(flat_input(&all_conf, &all_q, None));
        let obj = Objective::MinQuality { target: 0.8 };
        assert!(!supported(obj, 0.05, (&s, &all), 0, 1));
        assert!(!supported(obj, 0.05, (&s, &all), 1, 0));
        assert!(supported(obj, 0.05, (&s, &all), 1, 1));
    }

    #[test]
    fn the_floor_counts_accepted_quality() {
        // Accepting the top two (0.9 right, 0.8 wrong) ships 0.5.
        let conf = [0.9, 0.8, 0.7];
        let q = [1.0, 0.0, 1.0];
        let s = Sweep::new(flat_input(&conf, &q, None));
        assert!(above_floor(&s, 0, 0.99));
        assert!(above_floor(&s, 1, 1.0));
        assert!(!above_floor(&s, 2, 0.6));
        assert!(above_floor(&s, 3, 2.0 / 3.0));
    }
}
