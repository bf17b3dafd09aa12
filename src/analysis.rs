//! From a loaded eval set and the settings to the [`Report`] value: every number, computed here.
//!
//! Owns the orchestration of the pure core (sweep, grid, recommendation) for one eval set. It
//! must not read files, print or format; renderers turn the report into bytes.

use crate::config::{Analysis, Grid};
use crate::dashboard;
use crate::economics::{CostColumn, CostModel};
use crate::eval_set::{Field, Loaded, Source};
use crate::recommend::recommend;
use crate::report::{GridSetting, InputInfo, Report, Settings};
use crate::sweep::{Sweep, SweepInput};

/// Default grid step when every confidence lies in [0, 1].
pub const DEFAULT_STEP: f64 = 0.01;
/// Number of quantile thresholds when confidences leave [0, 1].
pub const QUANTILES: usize = 101;

/// Builds the sweep of a loaded eval set.
pub fn sweep(loaded: &Loaded, analysis: &Analysis) -> Sweep {
    Sweep::new(sweep_input(loaded, analysis))
}

fn sweep_input<'a>(loaded: &'a Loaded, analysis: &Analysis) -> SweepInput<'a> {
    let set = &loaded.set;
    let column = |v: &'a Option<Vec<f64>>, flat: f64| match v {
        Some(v) => CostColumn::PerRecord(v),
        None => CostColumn::PerRequest(flat),
    };
    SweepInput {
        confidence: &set.confidence,
        small_quality: &set.small_quality,
        large_quality: set.large_quality.as_deref(),
        costs: CostModel {
            small: column(&set.small_cost, analysis.small_cost),
            large: column(&set.large_cost, analysis.large_cost),
        },
    }
}

/// Computes the whole report for `sweep` (`grid` chooses the rows of the table).
pub fn report(loaded: &Loaded, analysis: &Analysis, sweep: &Sweep, grid: Grid) -> Report {
    let input = sweep_input(loaded, analysis);
    let (thresholds, grid_setting) = grid_thresholds(sweep, grid);
    let rows = if grid == Grid::Exact {
        (0..sweep.candidates())
            .rev()
            .map(|j| sweep.at_candidate(j))
            .collect()
    } else {
        thresholds.iter().map(|&t| sweep.at_threshold(t)).collect()
    };
    let fields = Field::ALL
        .into_iter()
        .map(|f| {
            (
                f.name().to_string(),
                analysis.load.fields.column(f).to_string(),
            )
        })
        .collect();
    let recommendation = recommend(sweep, analysis.objective);
    let dashboard = dashboard::dashboard(
        &loaded.set,
        input,
        sweep,
        recommendation.as_ref().map_err(|why| why.to_string()),
        loaded.drops.dropped,
    );
    Report {
        input: InputInfo {
            path: match &analysis.load.source {
                Source::File(p) => p.display().to_string(),
                Source::Stdin => "-".into(),
            },
            format: loaded.format.name(),
            sha256: loaded.sha256.clone(),
            bytes: loaded.bytes,
            rows_read: loaded.drops.read,
            rows_dropped: loaded.drops.dropped,
            drop_reasons: loaded.drops.reasons.clone(),
        },
        settings: Settings {
            fields,
            small_cost: input.costs.small.source(),
            large_cost: input.costs.large.source(),
            objective: analysis.objective,
            grid: grid_setting,
            has_large_quality: loaded.set.large_quality.is_some(),
        },
        records: sweep.records(),
        distinct_confidences: sweep.distinct_confidences().len(),
        baselines: sweep.baselines(),
        rows,
        recommendation,
        dashboard,
    }
}

/// The grid's thresholds, ascending, and how the grid was chosen.
fn grid_thresholds(sweep: &Sweep, grid: Grid) -> (Vec<f64>, GridSetting) {
    let distinct = sweep.distinct_confidences();
    let (lo, hi) = (distinct[distinct.len() - 1], distinct[0]);
    let step = match grid {
        Grid::Exact => return (Vec::new(), GridSetting::Exact),
        Grid::Step(step) => step,
        Grid::Auto if lo >= 0.0 && hi <= 1.0 => DEFAULT_STEP,
        Grid::Auto => {
            // Evenly spaced quantiles of the distinct sorted confidences (nearest rank).
            let mut t: Vec<f64> = (0..QUANTILES)
                .map(|k| {
                    let rank = (k * (distinct.len() - 1)) / (QUANTILES - 1);
                    distinct[distinct.len() - 1 - rank]
                })
                .collect();
            t.dedup();
            return (t, GridSetting::Quantiles(QUANTILES));
        }
    };
    let steps = (1.0 / step + 1e-9).floor() as u64;
    // Round each multiple to 9 decimals so 7 × 0.01 prints and compares as 0.07.
    let t = (0..=steps)
        .map(|k| (k as f64 * step * 1e9).round() / 1e9)
        .collect();
    (t, GridSetting::Step(step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::{CostColumn, CostModel};

    fn sweep_of(conf: &[f64]) -> Sweep {
        let q = vec![1.0; conf.len()];
        Sweep::new(SweepInput {
            confidence: conf,
            small_quality: &q,
            large_quality: None,
            costs: CostModel {
                small: CostColumn::PerRequest(1.0),
                large: CostColumn::PerRequest(2.0),
            },
        })
    }

    #[test]
    fn unit_interval_gets_a_step_grid() {
        let (t, setting) = grid_thresholds(&sweep_of(&[0.2, 0.9]), Grid::Auto);
        assert_eq!(setting, GridSetting::Step(0.01));
        assert_eq!(t.len(), 101);
        assert_eq!(t[7], 0.07);
        assert_eq!(t[100], 1.0);
        let (t, _) = grid_thresholds(&sweep_of(&[0.2, 0.9]), Grid::Step(0.25));
        assert_eq!(t, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn other_ranges_get_quantiles() {
        let conf: Vec<f64> = (0..1000).map(|i| -5.0 + f64::from(i) * 0.01).collect();
        let (t, setting) = grid_thresholds(&sweep_of(&conf), Grid::Auto);
        assert_eq!(setting, GridSetting::Quantiles(101));
        assert_eq!(t.len(), 101);
        assert_eq!(t[0], -5.0);
        assert_eq!(t[100], -5.0 + 999.0 * 0.01);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }
}
