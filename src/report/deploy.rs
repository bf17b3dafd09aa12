//! From the recommendation to the deployable policy: per-segment thresholds, what each
//! safeguard costs, and the [`Policy`] document.
//!
//! Owns the orchestration; the numbers come from `segments`, `safeguards` and the sweep. It
//! must not read files, print or format.

use super::prepare::Prepared;
use super::settings::RunSettings;
use super::ties::AppliedSplit;
use crate::engine::objective::Objective;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::{Metrics, Sweep, SweepInput, Totals};
use crate::input::{ExtraColumn, ExtraKind, Field, Labels, Loaded, Reference};
use crate::policy::document::{
    AlwaysLargePolicy, Measured, ObjectivePolicy, Policy, RULE, RULE_TIE_SPLIT, ScopePolicy,
    TIE_HASH, TieSplitPolicy, segment_rules,
};
use crate::policy::reference::{Segments as ReferenceSegments, reference as policy_reference};
use crate::policy::safeguards::{self, Effect, Routing};
use crate::policy::segments::{self, Plan, PlanSettings, Rule, Segmentation};
use crate::signals::spec::SignalSpec;
use crate::trust::certify::Certification;

/// The policy and what stands behind it.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// With `--segment-by`: per-segment run and thresholds.
    pub plan: Option<Plan>,
    /// What each safeguard costs and buys under the policy.
    pub effects: Vec<Effect>,
    /// The policy, when one meets the objective.
    pub policy: Option<Policy>,
}

/// Segments of the records by the `--segment-by` columns; `None` without them.
pub fn segmentation(loaded: &Loaded, run: &RunSettings) -> Option<Segmentation> {
    let columns: Vec<(&str, &Labels)> = run
        .policy
        .segment_by
        .iter()
        .map(|c| match loaded.extra(c, ExtraKind::Label) {
            Some(ExtraColumn::Labels(labels)) => (c.as_str(), labels),
            _ => unreachable!("--segment-by columns are required extras"),
        })
        .collect();
    (!columns.is_empty()).then(|| Segmentation::new(&columns))
}

/// The per-segment policy of `plan` applied to other records (a held-out part): each segment
/// keeps its threshold, a segment the plan has not seen uses `default` (infinity: always
/// large), and the records' own safeguards apply.
pub fn apply_plan(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    plan: &Plan,
    default: f64,
) -> Option<Metrics> {
    let t = plan_totals(loaded, run, prepared, plan, default)?;
    Some(t.metrics(f64::NAN, t.accepted == 0))
}

/// The sums behind [`apply_plan`], so several held-out parts add up exactly.
pub fn plan_totals(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    plan: &Plan,
    default: f64,
) -> Option<Totals> {
    let seg = segmentation(loaded, run)?;
    let thresholds: Vec<f64> = seg
        .labels
        .iter()
        .map(|labels| {
            plan.segments
                .iter()
                .find(|s| &s.labels == labels)
                .map_or(default, |s| s.threshold.unwrap_or(f64::INFINITY))
        })
        .collect();
    let input = prepared.input();
    let routing = Routing {
        thresholds: &thresholds,
        codes: Some(&seg.codes),
    };
    Some(safeguards::totals(input, routing, input.safeguarded))
}

/// The choice the policy is built on: the global recommendation and, with `--certify`, the
/// certificate.
#[derive(Clone, Copy)]
pub struct Chosen<'a> {
    /// The recommended threshold, or why none qualifies.
    pub recommendation: &'a Result<Metrics, Infeasible>,
    /// With `--certify`: the certificate, or why none could be issued.
    pub certification: Option<&'a Certification>,
    /// With `--split-ties`: the split the policy carries, if one applies.
    pub split: Option<&'a AppliedSplit>,
}

/// Everything the policy needs, for `sweep` and `recommend` alike (`grid`: the thresholds of
/// the main table's rows, for the per-segment tables).
pub fn deployment(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    sweep: &Sweep,
    chosen: Chosen<'_>,
    grid: &[f64],
    signal: SignalSpec,
) -> Deployment {
    let input = prepared.input();
    let global = chosen.recommendation.as_ref().ok();
    let seg = segmentation(loaded, run);
    let no_joint = chosen.certification.map(|_| {
        "with --certify the joint choice gives way to the certified policies: the certified \
             global threshold in every segment, or the certified per-segment policy below when \
             it is cheaper"
    });
    let plan = seg.as_ref().map(|seg| {
        let settings = PlanSettings {
            objective: run.objective,
            min_records: run.policy.min_segment_records,
            global,
            no_joint,
            grid,
            sweep,
            departures: run.policy.departures,
            floor: run.policy.segment_floor,
        };
        segments::plan(input, seg, &run.policy.segment_by, settings)
    });
    let joint = plan.as_ref().and_then(|p| p.policy.map(|m| (p, m)));
    let thresholds = routing_thresholds(joint.map(|(p, _)| p), global);
    let routing = Routing {
        thresholds: &thresholds,
        codes: match (joint, &seg) {
            (Some(_), Some(seg)) => Some(&seg.codes),
            _ => None,
        },
    };
    let measured = joint.map(|(_, m)| m).or(global.copied());
    let effects = match measured {
        Some(_) => safeguards::effects(input, routing, &prepared.safeguards),
        None => Vec::new(),
    };
    let policy = measured.map(|m| {
        let segments = joint.map(|(p, _)| p);
        let threshold = global.and_then(Metrics::deployed_threshold);
        let per_segment = segments.map(|p| {
            (p.segments.iter())
                .map(|s| match s.rule {
                    Rule::AllSafeguarded => threshold,
                    _ => s.threshold,
                })
                .collect()
        });
        let of = (input, Some(sweep));
        let reference = (!run.policy.skip_reference)
            .then(|| reference(loaded, run, of, seg.as_ref(), per_segment, threshold));
        let mut doc = Policy {
            reference,
            ..document(run, &loaded.sha256, signal, global, segments, &m)
        };
        doc.guarantee = (chosen.certification.and_then(|c| c.as_ref().ok())).map(|c| c.guarantee());
        match (chosen.split, run.split_ties) {
            (Some(split), Some(seed)) => with_split(doc, split, seed),
            _ => doc,
        }
    });
    Deployment {
        plan,
        effects,
        policy,
    }
}

/// What monitoring compares production with: per segment of the policy (or, without
/// segments, per task type when the eval set has one), the signal's distribution and quality.
fn reference(
    loaded: &Loaded,
    run: &RunSettings,
    (input, sweep): (SweepInput<'_>, Option<&Sweep>),
    seg: Option<&Segmentation>,
    per_segment: Option<Vec<Option<f64>>>,
    threshold: Option<f64>,
) -> Reference {
    let target = match run.objective {
        Objective::MinQuality { target } | Objective::MinCascadeQuality { target } => Some(target),
        _ => None,
    };
    let by_task = loaded.set.task_type.as_ref().map(|labels| {
        let column = run.load.fields.column(Field::TaskType).to_string();
        (
            vec![column.clone()],
            Segmentation::new(&[(&column, labels)]),
        )
    });
    let (columns, seg) = match (seg, &by_task) {
        (Some(seg), _) => (run.policy.segment_by.clone(), seg),
        (None, Some((columns, seg))) => (columns.clone(), seg),
        (None, None) => return policy_reference(input, threshold, target, None, sweep),
    };
    let thresholds = per_segment.unwrap_or_else(|| vec![threshold; seg.labels.len()]);
    let segments = ReferenceSegments {
        columns: &columns,
        labels: &seg.labels,
        codes: &seg.codes,
        thresholds: &thresholds,
    };
    policy_reference(input, threshold, target, Some(segments), sweep)
}

/// The monitoring reference of a per-segment policy given by its thresholds (`f64::INFINITY`:
/// always large): every segment at its own threshold, a segment it does not name escalating.
pub(super) fn segments_reference(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    thresholds: &[(Vec<(String, String)>, f64)],
) -> Reference {
    let seg = segmentation(loaded, run);
    let per_segment = seg.as_ref().map(|seg| {
        (seg.labels.iter())
            .map(|labels| {
                (thresholds.iter())
                    .find(|(l, _)| l == labels)
                    .and_then(|(_, t)| t.is_finite().then_some(*t))
            })
            .collect()
    });
    reference(
        loaded,
        run,
        (prepared.input(), None),
        seg.as_ref(),
        per_segment,
        None,
    )
}

/// The threshold the policy applies per segment (one entry without a joint plan), for the
/// safeguards' effects.
fn routing_thresholds(joint: Option<&Plan>, global: Option<&Metrics>) -> Vec<f64> {
    let global_threshold = global.map_or(f64::INFINITY, Metrics::routing_threshold);
    let Some(p) = joint else {
        return vec![global_threshold];
    };
    (p.segments.iter())
        .map(|s| match s.rule {
            // Without the safeguards that force them, its records would follow the global
            // threshold.
            Rule::AllSafeguarded => global_threshold,
            _ => s.threshold.unwrap_or(f64::INFINITY),
        })
        .collect()
}

/// The document of a policy that also keeps a hash-chosen share of one tie: its rule, the
/// split, and the metrics in expectation.
fn with_split(doc: Policy, applied: &AppliedSplit, seed: u64) -> Policy {
    let s = &applied.split;
    Policy {
        rule: RULE_TIE_SPLIT,
        tie_split: Some(TieSplitPolicy {
            signal: s.value,
            keep_fraction: s.fraction,
            seed,
            hash: TIE_HASH,
            records: s.records,
        }),
        measured: Measured::expected(&s.expected),
        ..doc
    }
}

/// The deployable document: what a router needs, and what calibration measured for it.
pub(super) fn document(
    run: &RunSettings,
    sha256: &str,
    signal: SignalSpec,
    global: Option<&Metrics>,
    joint: Option<&Plan>,
    measured: &Metrics,
) -> Policy {
    let always_large = (run.policy.always_large.iter())
        .map(|o| AlwaysLargePolicy {
            field: o.column.clone(),
            value: o.value.clone(),
        })
        .collect();
    Policy {
        tool: "calibrate",
        version: env!("CARGO_PKG_VERSION"),
        input_sha256: sha256.to_string(),
        scope: (run.filters.iter())
            .map(|f| ScopePolicy {
                field: f.column.clone(),
                op: if f.equal { "=" } else { "!=" },
                value: f.value.clone(),
            })
            .collect(),
        rule: RULE,
        signal,
        objective: ObjectivePolicy::of(run.objective),
        default_threshold: global.and_then(Metrics::deployed_threshold),
        default_raw_threshold: None,
        tie_split: None,
        segment_by: match joint {
            Some(_) => run.policy.segment_by.clone(),
            None => Vec::new(),
        },
        segments: joint.map(segment_rules).unwrap_or_default(),
        always_large,
        escalate_refusals: run.policy.escalate_refusals,
        small_timeout_ms: run.costs.small_timeout_ms,
        guarantee: None,
        measured: Measured::of(measured),
        reference: None,
    }
}
