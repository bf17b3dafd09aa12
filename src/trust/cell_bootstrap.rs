//! The bootstrap of an aggregate: cells resampled by their record counts.
//!
//! Owns how an aggregate stands in for records when resampling. The record-level bootstrap gives
//! each record a Poisson(1) weight, so a cell of n records gets a Poisson(n) total weight; that
//! part is exact. Within a cell the records' values are not known, only their sums: each cell is
//! one pseudo-record at its mean (with 0/1 small-model labels, two: its right and its wrong
//! answers, each with its own Poisson count, which is exact for the small model's quality too).
//! Costs and the large model's labels then vary only with the counts, so their intervals leave
//! out the spread within a cell: exact for flat costs, narrower than the record-level intervals
//! when costs or large labels vary among records of one confidence. Pure; seeded.

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use crate::engine::economics::Cost;
use crate::engine::sweep::{Cell, Metrics, OwnedInput, Sweep};
use crate::trust::intervals::{Resampling, Settings, Uncertainty, uncertainty_of};

/// Cells as weighted pseudo-records.
struct Pseudo {
    columns: OwnedInput,
    counts: Vec<u64>,
}

fn pseudo_records(
    (cells, safeguarded): (&[(f64, Cell)], Option<&Cell>),
    split_right: bool,
) -> Pseudo {
    let large = (cells.iter().map(|(_, c)| c).chain(safeguarded))
        .next()
        .is_some_and(|c| c.large_quality.is_some());
    let mut p = Pseudo {
        columns: OwnedInput::empty(large),
        counts: Vec::new(),
    };
    // The safeguarded records as one more cell, flagged (its confidence does not matter).
    let held = safeguarded.map(|c| (f64::NEG_INFINITY, *c));
    for (c, cell) in cells.iter().chain(held.as_ref()) {
        let n = cell.records as f64;
        let parts: Vec<(f64, u64)> = if split_right {
            let right = cell.small_right;
            vec![(1.0, right), (0.0, cell.records - right)]
        } else {
            vec![(cell.small_quality.value() / n, cell.records)]
        };
        for (quality, count) in parts.into_iter().filter(|&(_, k)| k > 0) {
            let columns = &mut p.columns;
            columns.confidence.push(*c);
            columns.safeguarded.push(c.is_infinite());
            columns.small_quality.push(quality);
            if let (Some(v), Some(l)) = (&mut columns.large_quality, &cell.large_quality) {
                v.push(l.value() / n);
            }
            columns.small_cost.push(cell.small_cost.value() / n);
            columns.large_cost.push(cell.large_cost.value() / n);
            p.counts.push(count);
        }
    }
    p
}

/// Intervals for `rows` and the recommendation from the cells (pooled, one per confidence,
/// descending), with `choose` picking each resample's threshold.
pub fn cell_uncertainty(
    (cells, safeguarded): (&[(f64, Cell)], Option<&Cell>),
    baseline: Option<Cost>,
    (rows, recommended): (&[Metrics], Option<&Metrics>),
    choose: &(dyn Fn(&Sweep) -> Option<f64> + Sync),
    settings: Settings,
    binary: bool,
) -> Uncertainty {
    let all = || cells.iter().map(|(_, c)| c).chain(safeguarded);
    let split_right = all().all(|c| c.small_fractional == 0);
    let p = pseudo_records((cells, safeguarded), split_right);
    let input = p.columns.input(baseline);
    let template = Sweep::new(input);
    // Counts in the template's order, where weights are drawn.
    let counts: Vec<u64> = template
        .order()
        .iter()
        .map(|&i| p.counts[i as usize])
        .collect();
    let weights = |rng: &mut ChaCha8Rng| -> Vec<u32> {
        (counts.iter())
            .map(|&n| match Poisson::new(n as f64) {
                Ok(d) => d.sample(rng).min(f64::from(u32::MAX)) as u32,
                Err(_) => 0,
            })
            .collect()
    };
    let records = all().map(|c| c.records).sum::<u64>() as usize;
    let resampling = Resampling {
        input,
        template: &template,
        records,
        weights: &weights,
    };
    uncertainty_of(resampling, rows, recommended, choose, settings, binary)
}
