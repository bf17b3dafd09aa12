//! The policy document of a run on an aggregate: the records' document (`deploy::document`)
//! with a monitoring reference built from the cells, so `calibrate monitor --against` reads it
//! as it reads one calibrated on the records.
//!
//! Owns which cells stand for which segment of the reference. It must not read files, print or
//! format.

use crate::engine::cells::{CellTable, SegmentKey};
use crate::engine::exact::Exact;
use crate::engine::objective::Objective;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::Metrics;
use crate::input::{Field, Reference, ReferenceCost};
use crate::policy::document::Policy;
use crate::policy::reference::{CellPoint, CellSegments, cells_reference};
use crate::policy::segments::{Plan, Rule};
use crate::signals::spec::SignalSpec;
use crate::trust::certify::Certification;

use super::settings::RunSettings;

/// Whether a cell's segment values are held by an `--always-large` override.
type Held<'a> = &'a dyn Fn(&SegmentKey) -> bool;

/// The reference's segments: columns, per segment its labels, per segment its threshold.
type Segments = (Vec<String>, Vec<Vec<(String, String)>>, Vec<Option<f64>>);

/// What the policy is built on: the global recommendation, the certificate, the per-segment
/// plan, and which cells an `--always-large` override holds.
pub struct Chosen<'a> {
    /// The recommended threshold, or why none qualifies.
    pub recommendation: &'a Result<Metrics, Infeasible>,
    /// With `--certify`: the certificate, or why none.
    pub certification: Option<&'a Certification>,
    /// With `--segment-by`: the plan.
    pub plan: Option<&'a Plan>,
    /// Whether a cell's segment values are held by an override.
    pub held: Held<'a>,
}

/// The deployable document, when a policy meets the objective.
pub fn aggregate_policy(
    table: &CellTable,
    run: &RunSettings,
    sha256: &str,
    chosen: Chosen<'_>,
    baseline: Option<f64>,
) -> Option<Policy> {
    let global = chosen.recommendation.as_ref().ok();
    let joint = chosen.plan.and_then(|p| p.policy.map(|m| (p, m)));
    let measured = joint.map(|(_, m)| m).or(global.copied())?;
    let signal = SignalSpec {
        name: "confidence".into(),
        formula: None,
        recalibration: None,
    };
    let plan = joint.map(|(p, _)| p);
    let mut doc = super::deploy::document(run, sha256, signal, global, plan, &measured);
    doc.guarantee = (chosen.certification.and_then(|c| c.as_ref().ok())).map(|c| c.guarantee());
    let threshold = global.and_then(Metrics::deployed_threshold);
    doc.reference = (!run.policy.skip_reference)
        .then(|| reference(table, run, (chosen.held, plan), threshold, baseline));
    Some(doc)
}

/// The reference of the cells no override holds: per segment of the plan or, without one, per
/// task type when the aggregate carries that column (as the records' reference is).
fn reference(
    table: &CellTable,
    run: &RunSettings,
    (held, plan): (Held<'_>, Option<&Plan>),
    threshold: Option<f64>,
    baseline: Option<f64>,
) -> Reference {
    let target = match run.objective {
        Objective::MinQuality { target } | Objective::MinCascadeQuality { target } => Some(target),
        _ => None,
    };
    let n = table.records().max(1) as f64;
    // Exact sums, as the records' reference takes them.
    let (mut small, mut large) = (Exact::default(), Exact::default());
    for (_, _, cell) in table.cells() {
        let sums = cell.sums();
        small.plus(&sums[3].unwrap_or_default());
        large.plus(&sums[4].unwrap_or_default());
    }
    let cost = ReferenceCost {
        small: small.value() / n,
        large: large.value() / n,
        baseline,
    };
    let (columns, labels, thresholds) = reference_segments(table, run, plan, threshold);
    let positions: Vec<usize> = (columns.iter())
        .map(|c| table.segments.iter().position(|s| s == c).unwrap_or(0))
        .collect();
    let segment_of = |key: &SegmentKey| -> u32 {
        let values: Vec<Option<&str>> = positions.iter().map(|&p| key[p].as_deref()).collect();
        (labels.iter())
            .position(|l| {
                l.iter()
                    .zip(&values)
                    .all(|((_, v), k)| Some(v.as_str()) == *k)
            })
            .unwrap_or(0) as u32
    };
    let (mut points, mut overridden) = (Vec::new(), 0u64);
    for (key, confidence, cell) in table.cells() {
        if held(key) {
            overridden += cell.records;
            continue;
        }
        let sums = cell.sums();
        points.push(CellPoint {
            segment: segment_of(key),
            confidence,
            records: cell.records,
            small_quality: sums[0].unwrap_or_default(),
            large_quality: sums[1],
        });
    }
    let segments = (!columns.is_empty()).then_some(CellSegments {
        columns: &columns,
        labels: &labels,
        thresholds: &thresholds,
    });
    let large = table.large;
    cells_reference(
        points,
        (overridden, large),
        cost,
        (threshold, target),
        segments,
    )
}

/// The reference's segments: the plan's, else the task types the aggregate carries, else none;
/// as (columns, per segment its labels, per segment its threshold).
fn reference_segments(
    table: &CellTable,
    run: &RunSettings,
    plan: Option<&Plan>,
    threshold: Option<f64>,
) -> Segments {
    let task = run.load.fields.column(Field::TaskType).to_string();
    match plan {
        Some(p) => (
            p.columns.clone(),
            p.segments.iter().map(|s| s.labels.clone()).collect(),
            (p.segments.iter())
                .map(|s| match s.rule {
                    Rule::AllSafeguarded => threshold,
                    _ => s.threshold,
                })
                .collect(),
        ),
        None if table.segments.contains(&task) => {
            let p = table.segments.iter().position(|s| *s == task).unwrap_or(0);
            let mut values: Vec<String> =
                table.cells().filter_map(|(k, _, _)| k[p].clone()).collect();
            values.sort();
            values.dedup();
            let labels: Vec<Vec<(String, String)>> = values
                .into_iter()
                .map(|v| vec![(task.clone(), v)])
                .collect();
            let thresholds = vec![threshold; labels.len()];
            (vec![task], labels, thresholds)
        }
        None => (Vec::new(), Vec::new(), Vec::new()),
    }
}
