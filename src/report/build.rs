//! From a loaded eval set and the settings to the [`Report`] value: every number, computed here.
//!
//! Owns the orchestration of the pure core (sweep, grid, recommendation) for one eval set. It
//! must not read files, print or format; renderers turn the report into bytes.

use super::deploy::{Chosen, deployment};
use super::prepare::{Prepared, unmatched};
use super::settings::{Grid, RunSettings, SweepSettings};
use super::{findings, warnings};
use crate::engine::latency::{self, Latency};
use crate::engine::objective::Objective;
use crate::engine::recommend::{Infeasible, recommend};
use crate::engine::sweep::{Metrics, Sweep};
use crate::input::{Field, Loaded};
use crate::policy::safeguards::{self, Safeguard};
use crate::report::{GridSetting, InputInfo, RecalibrationReport, Report, Settings};
use crate::signals::spec::SignalSpec;
use crate::trust::certify::{Certification, Target, certify};
use crate::trust::intervals;

/// Default grid step when every confidence lies in [0, 1].
pub const DEFAULT_STEP: f64 = 0.01;
/// Number of quantile thresholds when confidences leave [0, 1].
pub const QUANTILES: usize = 101;

/// The recommendation: the objective's pick or, with `--certify`, the certified threshold (and
/// the certificate, or why none could be issued).
pub fn decide(
    sweep: &Sweep,
    run: &RunSettings,
    binary: bool,
) -> (Result<Metrics, Infeasible>, Option<Certification>) {
    let objective = run.objective;
    let Some((target, delta)) = certify_target(run) else {
        return (recommend(sweep, objective), None);
    };
    let outcome = certify(sweep, target, delta, binary);
    let recommendation = match &outcome {
        Ok(c) => Ok(c.metrics),
        Err(why) => Err(Infeasible {
            objective,
            closest: why.best.as_ref().map(|b| b.1),
            note: Some(why.to_string()),
        }),
    };
    (recommendation, Some(outcome))
}

/// With `--certify`: what to certify and at which δ (the config only allows it with the two
/// quality objectives).
pub fn certify_target(run: &RunSettings) -> Option<(Target, f64)> {
    let delta = run.certify?;
    match run.objective {
        Objective::MinQuality { target } => Some((Target::MinQuality(target), delta)),
        Objective::MaxQualityLoss { max_loss } => Some((Target::MaxQualityLoss(max_loss), delta)),
        _ => None,
    }
}

/// Computes the whole report for `sweep` (`grid` chooses the rows of the table).
pub fn report(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    sweep: &Sweep,
    how: &SweepSettings,
    (signal, recalibration): (SignalSpec, Option<RecalibrationReport>),
) -> Report {
    let (rows, grid) = table_rows(sweep, how.grid);
    let (recommendation, certification) = decide(sweep, run, prepared.binary);
    let settings = how.intervals.settings(sweep.records());
    let recommended = recommendation.as_ref();
    let grid_rows: Vec<f64> = rows.iter().map(|m| m.threshold).collect();
    let split_ties = super::ties::split_ties(run, prepared, sweep, &recommendation, Some(settings));
    let chosen = Chosen {
        recommendation: &recommendation,
        certification: certification.as_ref(),
        split: split_ties.as_ref().and_then(|s| s.outcome.as_ref().ok()),
    };
    // The findings' passes, the latency sweep, the bootstrap and the deployable policy (with
    // its monitoring reference) are independent: run them side by side.
    let deploy = || {
        deployment(
            loaded,
            run,
            prepared,
            sweep,
            chosen,
            &grid_rows,
            signal.clone(),
        )
    };
    let (((findings, uncertainty), latency), deployment) = rayon::join(
        || analyses(loaded, run, prepared, sweep, (&rows, recommended, settings)),
        deploy,
    );
    let (latency, recommended_latency) = latency;
    let mut findings = findings;
    let why = recommended.map_err(|why| why.to_string());
    let table = Some((rows.len(), settings.resamples));
    findings.warnings = warnings::collect(loaded, run, prepared, sweep, why, table);
    Report {
        input: input_info(loaded, run),
        settings: stated_settings(loaded, run, prepared, grid),
        records: sweep.records(),
        distinct_confidences: sweep.distinct_confidences().len(),
        baselines: sweep.baselines(),
        rows,
        latency,
        recommended_latency,
        recommendation,
        certification,
        split_ties,
        uncertainty,
        holdout: None,
        cross_fit: None,
        certified_segments: None,
        unmatched_safeguards: unmatched(prepared),
        findings,
        signal,
        recalibration,
        deployment,
    }
}

/// The findings, the bootstrap intervals and the latencies, side by side.
#[allow(clippy::type_complexity)]
fn analyses(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    sweep: &Sweep,
    (rows, recommended, settings): (
        &[Metrics],
        Result<&Metrics, &Infeasible>,
        intervals::Settings,
    ),
) -> (
    (findings::Findings, intervals::Uncertainty),
    (Option<Vec<Latency>>, Option<Latency>),
) {
    let input = prepared.input();
    rayon::join(
        || {
            rayon::join(
                || {
                    let why = recommended.map_err(|why| why.to_string());
                    findings::findings(&loaded.set, input, sweep, why)
                },
                || {
                    // Each resample picks its threshold the way this run does.
                    let choose = |r: &Sweep| choose_threshold(r, run, prepared.binary);
                    let (at, binary) = (recommended.ok(), prepared.binary);
                    intervals::uncertainty(input, sweep, rows, at, &choose, settings, binary)
                },
            )
        },
        || latencies(prepared, sweep, rows, recommended.ok()),
    )
}

/// The threshold a run picks on `sweep`: certified when the run certifies.
pub(super) fn choose_threshold(sweep: &Sweep, run: &RunSettings, binary: bool) -> Option<f64> {
    match certify_target(run) {
        Some((target, delta)) => {
            (certify(sweep, target, delta, binary).ok()).map(|c| c.metrics.routing_threshold())
        }
        // "Escalate everything" is infinity, whatever the resample's largest confidence.
        None => (recommend(sweep, run.objective).ok()).map(|m| m.routing_threshold()),
    }
}

/// The rows of sweep.csv, by ascending threshold, and how they were chosen.
pub fn table_rows(sweep: &Sweep, grid: Grid) -> (Vec<Metrics>, GridSetting) {
    let (thresholds, setting) = grid_thresholds(sweep, grid);
    let rows = if grid == Grid::Exact || thresholds.is_empty() {
        let all = (0..sweep.candidates()).rev();
        all.map(|j| sweep.at_candidate(j)).collect()
    } else {
        thresholds.iter().map(|&t| sweep.at_threshold(t)).collect()
    };
    (rows, setting)
}

/// Cascade latency at every row and at the recommendation, when the records carry latencies.
fn latencies(
    prepared: &Prepared<'_>,
    sweep: &Sweep,
    rows: &[Metrics],
    recommended: Option<&Metrics>,
) -> (Option<Vec<Latency>>, Option<Latency>) {
    let Some(l) = &prepared.latency else {
        return (None, None);
    };
    let mut accepted: Vec<usize> = rows.iter().map(|m| m.accepted).collect();
    accepted.extend(recommended.map(|m| m.accepted));
    let mut all = latency::at_accepted(l, sweep.order(), &accepted);
    let at_recommended = recommended.and_then(|_| all.pop());
    (Some(all), at_recommended)
}

/// Facts about the input.
fn input_info(loaded: &Loaded, run: &RunSettings) -> InputInfo {
    InputInfo {
        path: run.load.source.as_given(),
        format: loaded.format.name(),
        sha256: loaded.sha256.clone(),
        bytes: loaded.bytes,
        rows_read: loaded.drops.read,
        rows_dropped: loaded.drops.dropped,
        drop_reasons: loaded.drops.reasons.clone(),
        filtered: None,
    }
}

/// The settings the report states beside its numbers.
fn stated_settings(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    grid: GridSetting,
) -> Settings {
    let fields = Field::ALL
        .into_iter()
        .map(|f| (f.name().to_string(), run.load.fields.column(f).to_string()))
        .collect();
    let timeouts = prepared.safeguards.iter();
    Settings {
        fields,
        small_cost: prepared.small_source.clone(),
        large_cost: prepared.large_source.clone(),
        baseline: prepared.baseline.clone(),
        small_timeout_ms: run.costs.small_timeout_ms,
        timed_out: (timeouts.filter(|s| s.kind == safeguards::Kind::Timeout))
            .map(Safeguard::matched)
            .sum(),
        objective: run.objective,
        grid,
        has_large_quality: loaded.set.large_quality.is_some(),
    }
}

/// The grid's thresholds, ascending, and how the grid was chosen.
fn grid_thresholds(sweep: &Sweep, grid: Grid) -> (Vec<f64>, GridSetting) {
    let distinct = sweep.distinct_confidences();
    let (Some(&lo), Some(&hi)) = (distinct.last(), distinct.first()) else {
        return (Vec::new(), GridSetting::Exact);
    };
    let step = match grid {
        Grid::Exact => return (Vec::new(), GridSetting::Exact),
        Grid::Step(step) => step,
        Grid::Auto if lo >= 0.0 && hi <= 1.0 => {
            // Confidences bunched near 1 leave gaps in escalation between grid steps (issue
            // 12: 74 % to 100 %): every whole percent of escalation joins the grid.
            let t = union(step_grid(DEFAULT_STEP), escalation_percents(sweep));
            return (t, GridSetting::StepAndPercents(DEFAULT_STEP));
        }
        Grid::Auto => {
            // Evenly spaced quantiles of the distinct sorted confidences (nearest rank).
            let t: Vec<f64> = (0..QUANTILES)
                .map(|k| {
                    let rank = (k * (distinct.len() - 1)) / (QUANTILES - 1);
                    distinct[distinct.len() - 1 - rank]
                })
                .collect();
            let t = union(t, escalation_percents(sweep));
            return (t, GridSetting::QuantilesAndPercents(QUANTILES));
        }
    };
    (step_grid(step), GridSetting::Step(step))
}

/// Every multiple of `step` in [0, 1], ascending.
fn step_grid(step: f64) -> Vec<f64> {
    let steps = (1.0 / step + 1e-9).floor() as u64;
    // Round each multiple to 9 decimals so 7 × 0.01 prints and compares as 0.07.
    (0..=steps)
        .map(|k| (k as f64 * step * 1e9).round() / 1e9)
        .collect()
}

/// For each whole percent p of escalation (0 to 100), the candidate threshold that escalates
/// the fewest records while escalating at least p % of them (ties in the confidences can make
/// that more than p %; 100 % is "escalate everything").
pub fn escalation_percents(sweep: &Sweep) -> Vec<f64> {
    let n = sweep.records();
    let escalated = |j: usize| sweep.at_candidate(j).escalated;
    (0..=100usize)
        .map(|p| {
            let want = (p * n).div_ceil(100);
            // Escalated counts fall as j grows: binary search for the first candidate
            // escalating fewer than `want`; the one before it is the last still escalating
            // `want` (candidate 0 escalates everything).
            let (mut lo, mut hi) = (0, sweep.candidates());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if escalated(mid) >= want {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            sweep.threshold_of(lo.saturating_sub(1))
        })
        .collect()
}

/// The sorted union of two threshold lists, without repeats.
fn union(mut a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    a.extend(b);
    a.sort_by(f64::total_cmp);
    a.dedup();
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::economics::{CostColumn, CostModel};
    use crate::engine::sweep::SweepInput;

    fn sweep_of(conf: &[f64]) -> Sweep {
        let q = vec![1.0; conf.len()];
        Sweep::new(SweepInput {
            confidence: conf,
            small_quality: &q,
            large_quality: None,
            costs: CostModel {
                small: CostColumn::PerRequest(1.0),
                large: CostColumn::PerRequest(2.0),
                baseline: None,
            },
            safeguarded: None,
        })
    }

    #[test]
    fn unit_interval_gets_a_step_grid() {
        // The 0.01 grid plus the percents of escalation: with 0.2 and 0.9, 0 % → 0.2 (accept
        // both), 1 %–50 % → 0.9 (one escalated), 51 %–100 % → just above 0.9 (escalate all):
        // 0.2 and 0.9 are grid points already, so one threshold joins.
        let (t, setting) = grid_thresholds(&sweep_of(&[0.2, 0.9]), Grid::Auto);
        assert_eq!(setting, GridSetting::StepAndPercents(0.01));
        assert_eq!(t.len(), 102);
        assert_eq!(t[7], 0.07);
        assert_eq!(t[91], 0.9000000000000001);
        assert_eq!(t[101], 1.0);
        let (t, _) = grid_thresholds(&sweep_of(&[0.2, 0.9]), Grid::Step(0.25));
        assert_eq!(t, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn other_ranges_get_quantiles() {
        let conf: Vec<f64> = (0..1000).map(|i| -5.0 + f64::from(i) * 0.01).collect();
        let (t, setting) = grid_thresholds(&sweep_of(&conf), Grid::Auto);
        assert_eq!(setting, GridSetting::QuantilesAndPercents(101));
        // The 101 quantiles sit at ascending ranks ⌊9.99 k⌋ (0, 9, 19, ..., 999); p % of
        // escalation accepts the top 1000 − 10p, the threshold at rank 10p (0, 10, ..., 990),
        // and 100 % is "escalate everything": 101 + 99 + 1 = 201 (only rank 0 is shared).
        assert_eq!(t.len(), 201);
        assert_eq!(t[0], -5.0);
        assert_eq!(t[199], -5.0 + 999.0 * 0.01);
        assert!(t[200] > t[199] && t[200] < 5.0);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_whole_percent_of_escalation_is_a_row() {
        // Issue 12 point 8: 60 of 100 confidences at 1.0 and 40 spread below. The 0.01 grid
        // alone jumps from 40 % escalation (threshold 1.0) to 100 % (above 1.0); with the
        // percents every escalation from 0 % to 100 % is within one point. By hand: the
        // records below 1.0 are 0.5, 0.51, ..., 0.89 (one each), so p % for p ≤ 40 escalates
        // exactly p records, and 41 %–100 % can only be 40 % (threshold 1.0) or 100 %.
        let mut conf: Vec<f64> = (0..40).map(|i| 0.5 + f64::from(i) / 100.0).collect();
        conf.extend([1.0; 60]);
        let sweep = sweep_of(&conf);
        let (rows, _) = table_rows(&sweep, Grid::Auto);
        let mut rates: Vec<usize> = rows.iter().map(|m| m.escalated).collect();
        rates.sort_unstable();
        rates.dedup();
        let mut expected: Vec<usize> = (0..=40).collect();
        expected.push(100);
        assert_eq!(rates, expected);
        // The plain 0.01 grid misses nothing below 40 % here, but has no row at 100 %.
        let (rows, _) = table_rows(&sweep, Grid::Step(0.01));
        assert!(rows.iter().all(|m| m.escalated <= 40));
    }
}
