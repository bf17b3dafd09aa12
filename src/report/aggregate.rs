//! Runs on an aggregate (issue 18): records reduced to cells, cells merged, and the sweep,
//! recommendation and certificate computed from cells.
//!
//! Owns which settings an aggregate can serve (the statistics it carries suffice for the sweep,
//! every objective and `--certify`; not for what needs records) and the refusal of the rest. It
//! must not read files, print or format.

use std::collections::BTreeMap;

use crate::engine::cells::{CellTable, LatencyInput, SegmentKey, latency_at};
use crate::engine::latency::Latency;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::{Baselines, Metrics, Sweep};
use crate::input::Loaded;
use crate::policy::document::Policy;
use crate::policy::segments::{Plan, PlanSettings, Segmentation, plan_of_sweeps};
use crate::trust::cell_bootstrap::cell_uncertainty;
use crate::trust::certify::Certification;
use crate::trust::intervals::{Settings, Uncertainty};

use super::RunError;
use super::build::{choose_threshold, decide, table_rows};
use super::deploy::segmentation;
use super::prepare::prepare;
use super::settings::{Grid, RunSettings};

/// What `sweep` and `recommend` report from an aggregate.
#[derive(Debug, Clone)]
pub struct AggregateReport {
    /// Records the cells hold.
    pub records: u64,
    /// Distinct confidence keys.
    pub distinct_confidences: usize,
    /// Cells (rows of the aggregate after merging).
    pub cells: usize,
    /// -1 exact, else the resolution k.
    pub resolution: i64,
    /// Segment columns the aggregate carries (pooled here).
    pub segments: Vec<String>,
    /// Whether every quality label is 0 or 1.
    pub binary: bool,
    /// Always-small and always-large.
    pub baselines: Baselines,
    /// AUROC of the confidence for small-model quality.
    pub auroc: Option<f64>,
    /// Rows of sweep.csv.
    pub rows: Vec<Metrics>,
    /// The recommended threshold, or why none qualifies.
    pub recommendation: Result<Metrics, Infeasible>,
    /// With `--certify`: the certificate, or why none.
    pub certification: Option<Certification>,
    /// With `--segment-by`: the per-segment plan, from each segment's cells.
    pub plan: Option<Plan>,
    /// Intervals for every row and the recommendation (Wilson from counts, the rest from the
    /// cells' bootstrap), when asked for.
    pub uncertainty: Option<Uncertainty>,
    /// `--always-large` overrides, as `FIELD=VALUE`.
    pub always_large: Vec<String>,
    /// Overrides no cell matches, in words.
    pub unmatched_safeguards: Vec<String>,
    /// The deployable policy document (with a reference from the cells), when one meets the
    /// objective.
    pub policy: Option<Policy>,
    /// Cascade latency at every row, then at the recommendation, from the latency sketch
    /// (exact means; percentiles within a bucket), when the aggregate carries one.
    pub latency: Option<Vec<Latency>>,
}

impl AggregateReport {
    /// What `recommend` prints: the recommendation, the certificate, the policy, and the
    /// intervals at the recommended threshold.
    pub fn decision(self) -> super::Decision {
        let segment_warnings = (self.plan.iter())
            .flat_map(|p| p.warnings.iter().cloned())
            .collect();
        super::Decision {
            recommendation: self.recommendation,
            certification: self.certification,
            split_ties: None,
            policy: self.policy,
            holdout: None,
            uncertainty: self.uncertainty.map(|u| Uncertainty {
                rows: Vec::new(),
                ..u
            }),
            filtered: None,
            unmatched_safeguards: Vec::new(),
            segment_warnings,
            cross_fit: None,
            warnings: Vec::new(),
        }
    }

    /// Whether a policy meets the objective: the global threshold, or the per-segment plan
    /// where no single threshold does (as on the records).
    pub fn meets_objective(&self) -> bool {
        self.recommendation.is_ok() || self.plan.as_ref().is_some_and(|p| p.policy.is_some())
    }
}

/// Settings an aggregate cannot serve, and why; `None` when it serves them all.
pub fn unsupported(run: &RunSettings) -> Option<String> {
    let costs = &run.costs;
    let why = if priced(run) {
        "cost flags: the aggregate's costs were priced when it was built; give the prices to \
         `calibrate aggregate` or `calibrate sql`"
    } else if costs.small_timeout_ms.is_some() {
        "--small-timeout-ms needs each record's latency"
    } else if run.policy.escalate_refusals {
        "--escalate-refusals needs each record's response"
    } else if run.holdout.is_some() {
        "--holdout and --split-field need records"
    } else if !run.filters.is_empty() {
        "--where needs each record's fields; filter when aggregating"
    } else if run.split_ties.is_some() {
        "--split-ties routes by each request's id"
    } else if run.certify.is_some() && !run.policy.segment_by.is_empty() {
        "--certify with --segment-by: the records' run also certifies a per-segment policy, \
         built and tested on two seeded halves of the records, and deploys it when cheaper; \
         cells cannot be split by record, so certify the global threshold (drop --segment-by) \
         or run on the eval set"
    } else if run.signal.recalibrate.is_some()
        || run.signal.source != crate::signals::settings::SignalSource::Confidence
    {
        "--signal and --recalibrate need the records' signals"
    } else if matches!(
        costs.baseline,
        Some(crate::engine::economics::Baseline::Tokens(_))
    ) {
        "--baseline priced per token needs token counts; use --baseline-cost"
    } else {
        return None;
    };
    Some(format!("an aggregate input cannot take {why}"))
}

/// Whether the run prices records (cost flags other than the defaults).
pub fn priced(run: &RunSettings) -> bool {
    let priced = |p: &crate::engine::economics::Pricing| !p.default || p.price.is_some();
    priced(&run.costs.small) || priced(&run.costs.large)
}

/// Adds an eval set's records, priced and segmented as `run` says, to `table` (a new table keyed
/// at `resolution` when there is none yet); their latencies are sketched when the records carry
/// both models'. Records of another shape (large labels, latencies) are refused. Returns the
/// default-costs warning when a model was priced by the built-in defaults (an aggregate cannot
/// tell later).
pub fn add_records(
    table: &mut Option<CellTable>,
    loaded: &Loaded,
    run: &RunSettings,
    resolution: i64,
) -> Result<Option<super::warnings::Warning>, RunError> {
    let prepared = prepare(loaded, run)?;
    let defaulted = super::warnings::default_costs(loaded, run, &prepared);
    let input = prepared.input();
    unkeyable(input.confidence, resolution)?;
    let segments = run.policy.segment_by.clone();
    let large = input.large_quality.is_some();
    let latency = prepared.latency.map(|l| LatencyInput {
        small: l.small,
        large: l.large,
    });
    let shape = (segments.clone(), resolution, large, latency.is_some());
    let table = match table {
        Some(t) => {
            t.check(&shape.0, shape.1, shape.2, shape.3)?;
            t
        }
        None => table.insert(CellTable::new(shape.0, shape.1, shape.2, shape.3)),
    };
    let seg = segmentation(loaded, run);
    let names: Option<Vec<SegmentKey>> = seg.as_ref().map(|seg| {
        (seg.labels.iter())
            .map(|l| l.iter().map(|(_, v)| Some(v.clone())).collect())
            .collect()
    });
    let groups = (seg.as_ref().zip(names.as_deref())).map(|(s, n)| (s.codes.as_slice(), n));
    table.add_records(&input, groups);
    if let Some(latency) = latency {
        table.add_record_latencies(input.confidence, latency, input.safeguarded, groups);
    }
    Ok(defaulted)
}

/// Refuses confidences whose key at `resolution` (a product by 2^resolution) would overflow to
/// infinity, where the records' own sweep keeps them.
fn unkeyable(confidence: &[f64], resolution: i64) -> Result<(), RunError> {
    let largest = confidence.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    if resolution < 0 || (largest * 2f64.powi(resolution as i32)).is_finite() {
        return Ok(());
    }
    Err(RunError::Unkeyable {
        resolution,
        confidence: largest,
        most: finest_resolution(largest, resolution),
    })
}

/// The finest resolution below `resolution` at which `largest` (a magnitude) still has a key:
/// its product by 2^k is finite.
pub(super) fn finest_resolution(largest: f64, resolution: i64) -> i64 {
    (0..resolution)
        .rev()
        .find(|&k| (largest * 2f64.powi(k as i32)).is_finite())
        .unwrap_or(0)
}

/// The sweep of every cell of `table`, the table rows of `grid`, the recommendation and, with
/// `--segment-by` (columns the aggregate carries), the per-segment plan.
pub fn aggregate_report(
    table: &CellTable,
    run: &RunSettings,
    (grid, intervals): (Grid, Option<Settings>),
    sha256: &str,
) -> Result<AggregateReport, String> {
    let segment_by = &run.policy.segment_by;
    let positions = segment_positions(table, segment_by)?;
    let overrides = overrides(table, run)?;
    let unmatched_safeguards = unmatched(table, &overrides);
    let held = |key: &SegmentKey| overrides.iter().any(|(p, v)| key[*p].as_deref() == Some(v));
    let (pooled, safeguarded) = table.pooled_except(&held);
    if pooled.is_empty() {
        let labels: Vec<String> = (run.policy.always_large.iter())
            .map(|a| format!("{}={}", a.column, a.value))
            .collect();
        return Err(RunError::AllSafeguarded(labels.join("; ")).to_string());
    }
    let sweep = Sweep::from_cells_with(&pooled, safeguarded.as_ref(), baseline_cost(run));
    let binary = (pooled.iter().map(|(_, c)| c).chain(safeguarded.as_ref()))
        .all(|c| c.small_fractional == 0 && (!table.large || c.large_fractional == 0));
    let (rows, _) = table_rows(&sweep, grid);
    let (recommendation, certification) = decide(&sweep, run, binary);
    let uncertainty = intervals.map(|settings| {
        let choose = |r: &Sweep| choose_threshold(r, run, binary);
        let at = (rows.as_slice(), recommendation.as_ref().ok());
        let cells = (&pooled[..], safeguarded.as_ref());
        cell_uncertainty(cells, baseline_cost(run), at, &choose, settings, binary)
    });
    let latency = table.latency.then(|| {
        let mut at: Vec<f64> = rows.iter().map(Metrics::routing_threshold).collect();
        at.extend(recommendation.as_ref().ok().map(Metrics::routing_threshold));
        let (pooled, held) = table.pooled_latency(&held);
        latency_at(&pooled, &held, &at)
    });
    let plan = (!segment_by.is_empty()).then(|| {
        let grid: Vec<f64> = rows.iter().map(|m| m.threshold).collect();
        segment_plan(
            table,
            run,
            (&positions, &held),
            (&sweep, recommendation.as_ref().ok(), &grid),
        )
    });
    let chosen = super::aggregate_policy::Chosen {
        recommendation: &recommendation,
        certification: certification.as_ref(),
        plan: plan.as_ref(),
        held: &held,
    };
    let policy =
        super::aggregate_policy::aggregate_policy(table, run, sha256, chosen, baseline_cost(run));
    Ok(AggregateReport {
        policy,
        records: table.records(),
        distinct_confidences: pooled.len(),
        cells: table.cells().count(),
        resolution: table.resolution,
        segments: table.segments.clone(),
        binary,
        baselines: sweep.baselines(),
        auroc: sweep.auroc(),
        rows,
        recommendation,
        certification,
        plan,
        uncertainty,
        latency,
        always_large: (run.policy.always_large.iter())
            .map(|a| format!("{}={}", a.column, a.value))
            .collect(),
        unmatched_safeguards,
    })
}

/// The `--always-large` overrides no cell matches, in words: the value is compared as text,
/// and an engine may spell a number otherwise (`1e-07` against `1e-7`), so the values the
/// aggregate has are listed.
fn unmatched(table: &CellTable, overrides: &[(usize, String)]) -> Vec<String> {
    (overrides.iter())
        .filter(|(p, v)| !table.cells().any(|(k, _, _)| k[*p].as_deref() == Some(v)))
        .map(|(p, v)| {
            let mut values: Vec<&str> = table
                .cells()
                .filter_map(|(k, _, _)| k[*p].as_deref())
                .collect();
            values.sort_unstable();
            values.dedup();
            let shown: Vec<String> = values.iter().take(8).map(|v| format!("{v:?}")).collect();
            let more = if values.len() > 8 { ", ..." } else { "" };
            let column = &table.segments[*p];
            format!(
                "--always-large {column}={v} matches no row of the aggregate (values are \
                 compared as text; its {column} values: {}{more})",
                shown.join(", ")
            )
        })
        .collect()
}

/// The positions of the `--segment-by` columns among the aggregate's segment columns.
fn segment_positions(table: &CellTable, segment_by: &[String]) -> Result<Vec<usize>, String> {
    (segment_by.iter())
        .map(|c| {
            table.segments.iter().position(|s| s == c).ok_or_else(|| {
                let has = match table.segments.is_empty() {
                    true => "none".to_string(),
                    false => table.segments.join(", "),
                };
                format!(
                    "--segment-by {c}: the aggregate has no segment column {c:?} (it has: \
                     {has}); aggregate with --segment-by {c}"
                )
            })
        })
        .collect()
}

/// `--always-large FIELD=VALUE` as (position among the aggregate's segment columns, value):
/// the cells of matching segments escalate whatever their confidence.
fn overrides(table: &CellTable, run: &RunSettings) -> Result<Vec<(usize, String)>, String> {
    let always = &run.policy.always_large;
    (always.iter())
        .map(|a| {
            let position = table.segments.iter().position(|s| *s == a.column);
            let position = position.ok_or_else(|| {
                format!(
                    "--always-large {}={}: the aggregate has no segment column {:?}; aggregate \
                     with --segment-by {}",
                    a.column, a.value, a.column, a.column
                )
            })?;
            Ok((position, a.value.clone()))
        })
        .collect()
}

/// Which segments' cells an `--always-large` override sends to the large model.
type Held<'a> = dyn Fn(&SegmentKey) -> bool + 'a;

/// The per-segment plan from each segment's cells (segments are the value tuples of the
/// columns at `positions`, in sorted order, as for records); the cells `held` picks (an
/// `--always-large` override) escalate whatever their confidence, in their segment too.
fn segment_plan(
    table: &CellTable,
    run: &RunSettings,
    (positions, held): (&[usize], &Held<'_>),
    (sweep, global, grid): (&Sweep, Option<&Metrics>, &[f64]),
) -> Plan {
    let mut by_segment: BTreeMap<Vec<String>, CellTable> = BTreeMap::new();
    for (values, confidence, cell) in table.cells() {
        // Segment values are never null: the raw path and the SQL refuse such records.
        let key: Vec<String> = positions
            .iter()
            .map(|&p| values[p].clone().unwrap_or_default())
            .collect();
        // Each segment keeps the whole key, for the overrides.
        let segments = table.segments.clone();
        by_segment
            .entry(key)
            .or_insert_with(|| CellTable::new(segments, table.resolution, table.large, false))
            .add(values.clone(), confidence, cell);
    }
    let baseline = baseline_cost(run);
    let columns = &run.policy.segment_by;
    let labels = (by_segment.keys())
        .map(|k| columns.iter().cloned().zip(k.iter().cloned()).collect())
        .collect();
    let seg = Segmentation {
        labels,
        codes: Vec::new(),
    };
    let sweeps = (by_segment.values())
        .map(|t| {
            let (pooled, safeguarded) = t.pooled_except(held);
            Sweep::from_cells_with(&pooled, safeguarded.as_ref(), baseline)
        })
        .collect();
    let certified = run.certify.is_some();
    let settings = PlanSettings {
        objective: run.objective,
        min_records: run.policy.min_segment_records,
        global,
        no_joint: certified.then_some(
            "with --certify every segment keeps the certified global threshold (from an \
             aggregate, no certified per-segment policy is computed)",
        ),
        grid,
        sweep,
        departures: run.policy.departures,
        floor: run.policy.segment_floor,
    };
    plan_of_sweeps(sweeps, &seg, columns, settings)
}

/// The comparison model's cost per request (`--baseline-cost`).
fn baseline_cost(run: &RunSettings) -> Option<f64> {
    match run.costs.baseline {
        Some(crate::engine::economics::Baseline::PerRequest(c)) => Some(c),
        _ => None,
    }
}
