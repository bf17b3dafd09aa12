//! Planning per-segment thresholds: a sweep per segment, each segment's options (joint, the
//! global threshold, or always-large), the joint solve, and the pooled result. Pure.

use super::departure::{Departures, above_floor, supported};
use super::joint;
use super::{Plan, Rule, SegmentResult, Segmentation};
use crate::engine::objective::Objective;
use crate::engine::recommend::recommend;
use crate::engine::sweep::{Metrics, OwnedInput, Sweep, SweepInput, Totals};

/// The records of each segment (in the order of `seg.labels`), gathered from the full columns.
pub(super) fn split(input: SweepInput<'_>, seg: &Segmentation) -> Vec<OwnedInput> {
    let large = input.large_quality.is_some();
    let mut parts: Vec<OwnedInput> = (0..seg.len()).map(|_| OwnedInput::empty(large)).collect();
    for (i, &code) in seg.codes.iter().enumerate() {
        let p = &mut parts[code as usize];
        p.confidence.push(input.confidence[i]);
        p.small_quality.push(input.small_quality[i]);
        if let (Some(lq), Some(v)) = (input.large_quality, &mut p.large_quality) {
            v.push(lq[i]);
        }
        p.small_cost.push(input.costs.small.get(i));
        p.large_cost.push(input.costs.large.get(i));
        p.safeguarded.push(input.safeguarded.is_some_and(|f| f[i]));
    }
    parts
}

/// The target a segment must reach alone to avoid "always large", for the objectives that are
/// quality floors: whether candidate `j` meets it.
fn meets_target(objective: Objective, sweep: &Sweep, j: usize) -> Option<bool> {
    if !objective.is_quality_floor() {
        return None;
    }
    let large = sweep.baselines().always_large.quality;
    objective.is_met(&sweep.at_candidate(j), large)
}

/// The joint problem's (cost, value) of candidate `j` of a segment; `None` for objectives
/// without a joint form.
pub(super) fn choice(objective: Objective, t: &Totals) -> Option<joint::Choice> {
    let total_cost = t.small_cost_total + t.large_cost_escalated;
    let cascade = t
        .large_quality_escalated
        .map(|lq| t.small_quality_accepted + lq);
    match objective {
        // Σ quality ≥ Q · Σ accepted.
        Objective::MinQuality { target } => Some(joint::Choice {
            cost: total_cost,
            value: t.small_quality_accepted - target * t.accepted as f64,
        }),
        // Σ cascade quality ≥ Σ (large quality − L) over all records.
        // Σ cascade quality ≥ Q · records.
        Objective::MinCascadeQuality { target } => Some(joint::Choice {
            cost: total_cost,
            value: cascade? - target * t.records as f64,
        }),
        Objective::MaxQualityLoss { max_loss } => Some(joint::Choice {
            cost: total_cost,
            value: cascade? - t.large_quality_total? + max_loss * t.records as f64,
        }),
        // Maximise Σ cascade quality with Σ cost ≤ B · n.
        Objective::Budget { max_cost } => Some(joint::Choice {
            cost: -cascade?,
            value: max_cost * t.records as f64 - total_cost,
        }),
        Objective::MaxEscalation { .. } | Objective::QualityTimesSavings => None,
    }
}

/// The single threshold with the lowest joint cost among those meeting the joint constraint.
fn best_single(sweep: &Sweep, objective: Objective) -> Option<Metrics> {
    // Ties on the joint cost go to the cheaper threshold (the budget objective's "cost" is
    // minus quality, so equal quality prefers lower spend).
    let mut best: Option<(usize, joint::Choice, f64)> = None;
    for j in 0..sweep.candidates() {
        let t = sweep.totals(j);
        let c = choice(objective, &t)?;
        let spend = t.small_cost_total + t.large_cost_escalated;
        let feasible = joint::is_feasible(&[vec![c]], &[0])
            && (t.accepted > 0 || !matches!(objective, Objective::MinQuality { .. }));
        let better =
            best.is_none_or(|(_, b, s)| c.cost < b.cost || (c.cost == b.cost && spend < s));
        if feasible && better {
            best = Some((j, c, spend));
        }
    }
    best.map(|(j, _, _)| sweep.at_candidate(j))
}

/// Settings of a plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanSettings<'a> {
    /// The objective.
    pub objective: Objective,
    /// `--min-segment-records`.
    pub min_records: usize,
    /// The global recommendation, if there is one.
    pub global: Option<&'a Metrics>,
    /// Why joint thresholds are not chosen even though the objective has a joint form.
    pub no_joint: Option<&'a str>,
    /// Thresholds of the main table's rows.
    pub grid: &'a [f64],
    /// The sweep over all records (for the best single threshold and the departure test).
    pub sweep: &'a Sweep,
    /// Which thresholds a segment may leave the global threshold for.
    pub departures: Departures,
    /// `--segment-floor`: no segment ships answers of lower quality.
    pub floor: Option<f64>,
}

/// Per-segment sweeps and the joint per-segment thresholds.
pub fn plan(
    input: SweepInput<'_>,
    seg: &Segmentation,
    columns: &[String],
    settings: PlanSettings<'_>,
) -> Plan {
    let sweeps: Vec<Sweep> = (split(input, seg).iter())
        .map(|p| Sweep::new(p.input(input.costs.baseline)))
        .collect();
    plan_of_sweeps(sweeps, seg, columns, settings)
}

/// The same plan from each segment's sweep (in the order of `seg.labels`; an aggregate's
/// segments have sweeps but no records to split).
pub fn plan_of_sweeps(
    sweeps: Vec<Sweep>,
    seg: &Segmentation,
    columns: &[String],
    settings: PlanSettings<'_>,
) -> Plan {
    let objective = settings.objective;
    let joint_form = choice(objective, &sweeps[0].totals(0)).is_some();
    let mut note = if !joint_form {
        Some(format!(
            "per-segment thresholds are chosen jointly for --min-quality, --max-quality-loss \
             and --budget; with the objective \"{}\" every segment keeps the global threshold",
            objective.describe()
        ))
    } else {
        settings.no_joint.map(str::to_string)
    };
    let options: Vec<Options> = (sweeps.iter())
        .map(|s| options(s, &settings, note.is_some()))
        .collect();
    let choices: Vec<Vec<joint::Choice>> = options.iter().map(|o| o.choices.clone()).collect();
    let solved = note.is_none().then(|| joint::solve(&choices)).flatten();
    let picks: Vec<Option<usize>> = match &solved {
        Some(sol) => (sol.picks.iter().zip(&options))
            .map(|(&k, o)| Some(o.allowed[k]))
            .collect(),
        None => {
            note.get_or_insert_with(|| {
                format!(
                    "no combination of per-segment thresholds meets: {}",
                    objective.describe()
                )
            });
            sweeps
                .iter()
                .map(|s| global_candidate(s, settings.global))
                .collect()
        }
    };
    let policy = match (&solved, picks.iter().all(Option::is_some)) {
        (Some(_), true) => pooled(
            &sweeps,
            &picks.iter().flatten().copied().collect::<Vec<_>>(),
            objective,
        ),
        _ => None,
    };
    let routed_alternative = match &note {
        None => routed_alternative(&sweeps, &options, objective),
        Some(_) => None,
    };
    // The small model runs unless the whole policy accepts nothing (always-large).
    let cascade = policy.as_ref().is_some_and(|m| !m.accepts_none);
    let segments: Vec<SegmentResult> = (sweeps.iter().enumerate())
        .map(|(k, s)| {
            let (j, rule) = (picks[k].unwrap_or(0), options[k].rule);
            segment_result(s, seg, (k, j, rule), cascade, &settings)
        })
        .collect();
    let warnings = match policy {
        Some(_) => super::warnings::below_target(&segments, &sweeps, objective),
        None => Vec::new(),
    };
    Plan {
        warnings,
        departures: settings.departures,
        floor: settings.floor,
        routed_alternative,
        best_single: joint_form
            .then(|| best_single(settings.sweep, objective))
            .flatten(),
        columns: columns.to_vec(),
        min_records: settings.min_records,
        segments,
        policy,
        exact: solved.as_ref().is_none_or(|s| s.exact),
        note,
    }
}

/// One segment's rule, the candidates it may take, and their joint-problem choices.
struct Options {
    rule: Rule,
    allowed: Vec<usize>,
    choices: Vec<joint::Choice>,
}

/// The global threshold's candidate in a segment ("escalate everything" stays so).
fn global_candidate(s: &Sweep, global: Option<&Metrics>) -> Option<usize> {
    global.map(|m| s.candidate_at(m.routing_threshold()))
}

/// What a segment may do: everything the departure test and the floor allow (joint), keep
/// the global threshold (too few records, no joint form, or no supported departure), or go to
/// the large model.
fn options(s: &Sweep, settings: &PlanSettings<'_>, no_joint: bool) -> Options {
    let objective = settings.objective;
    let global = global_candidate(s, settings.global);
    let any_meets = (1..s.candidates()).any(|j| meets_target(objective, s, j) != Some(false));
    let (mut rule, allowed): (Rule, Vec<usize>) = if s.candidates() == 1 {
        (Rule::AllSafeguarded, vec![0])
    } else if no_joint {
        (Rule::Global, global.into_iter().collect())
    } else if s.records() < settings.min_records {
        match global {
            Some(j) if any_meets => (Rule::TooFewGlobal, vec![j]),
            _ => (Rule::TooFewAlwaysLarge, vec![0]),
        }
    } else if !any_meets {
        // Chosen jointly like the others (pooling may carry it); the report shows what
        // routing it all to the large model would cost instead.
        (Rule::CannotMeetTarget, departures(s, settings, global))
    } else {
        (Rule::Joint, departures(s, settings, global))
    };
    if rule == Rule::Joint && allowed.len() == 1 && Some(allowed[0]) == global {
        rule = Rule::Unsupported;
    }
    let choices = (allowed.iter())
        .filter_map(|&j| choice(objective, &s.totals(j)))
        .collect();
    Options {
        rule,
        allowed,
        choices,
    }
}

/// The candidates a segment may take in the joint search: above the floor, and either the
/// global split (the reference: "escalate everything" without a global threshold) or a
/// departure its records support; below the floor at the global split, any floor-abiding
/// candidate that escalates more.
fn departures(s: &Sweep, settings: &PlanSettings<'_>, global: Option<usize>) -> Vec<usize> {
    let reference = global.unwrap_or(0);
    let floor_ok = |j: usize| settings.floor.is_none_or(|f| above_floor(s, j, f));
    let forced_up = !floor_ok(reference);
    (0..s.candidates())
        .filter(|&j| floor_ok(j))
        .filter(|&j| match settings.departures {
            Departures::Free => true,
            Departures::Tested { alpha } => {
                j == reference
                    || (forced_up && j < reference)
                    || supported(settings.objective, alpha, (s, settings.sweep), reference, j)
            }
        })
        .collect()
}

/// The metrics of one pick per segment, pooled; accepting nothing anywhere is always-large, not
/// a cascade.
fn pooled(sweeps: &[Sweep], picks: &[usize], objective: Objective) -> Option<Metrics> {
    let total = (sweeps.iter().zip(picks))
        .map(|(s, &j)| s.totals(j))
        .reduce(Totals::plus)
        .expect("at least one segment");
    let m = total.metrics(f64::NAN, total.accepted == 0);
    (m.accepted > 0 || !matches!(objective, Objective::MinQuality { .. })).then_some(m)
}

/// The alternative a per-segment guarantee would take: segments that cannot meet the target
/// alone routed to the large model, the rest re-chosen jointly.
fn routed_alternative(
    sweeps: &[Sweep],
    options: &[Options],
    objective: Objective,
) -> Option<Metrics> {
    let hopeless = |o: &Options| o.rule == Rule::CannotMeetTarget;
    if !options.iter().any(hopeless) {
        return None;
    }
    let pinned: Vec<Vec<joint::Choice>> = (options.iter())
        .map(|o| match hopeless(o) {
            true => vec![o.choices[0]],
            false => o.choices.clone(),
        })
        .collect();
    let sol = joint::solve(&pinned)?;
    let picks: Vec<usize> = (sol.picks.iter().zip(options))
        .map(|(&k, o)| if hopeless(o) { 0 } else { o.allowed[k] })
        .collect();
    pooled(sweeps, &picks, objective)
}

/// Segment `k`'s line of the plan at candidate `j`; `cascade`: the policy runs the small model
/// (it accepts something somewhere), so a segment it sends wholly to the large model still pays
/// the small model on its requests, as the policy's own cost counts them.
fn segment_result(
    s: &Sweep,
    seg: &Segmentation,
    (k, j, rule): (usize, usize, Rule),
    cascade: bool,
    settings: &PlanSettings<'_>,
) -> SegmentResult {
    let global = settings.global;
    // At candidate j, labelled `threshold`: accepting nothing within a cascade is not
    // always-large, so the small model is still paid.
    let paid = |j: usize, threshold: f64, cascade: bool| match (j, cascade) {
        (0, true) => Metrics {
            accepts_none: true,
            ..s.totals(0).metrics(threshold, false)
        },
        _ => s.totals(j).metrics(threshold, j == 0),
    };
    let chosen = paid(j, s.at_candidate(j).threshold, cascade);
    // A segment that keeps the global threshold keeps its value, not its own smallest
    // accepted signal: the two differ on traffic the eval set lacks.
    let threshold = match rule {
        Rule::TooFewGlobal | Rule::Global | Rule::Unsupported => {
            global.and_then(Metrics::deployed_threshold)
        }
        _ => (j > 0).then_some(chosen.threshold),
    };
    SegmentResult {
        name: seg.name(k),
        labels: seg.labels[k].clone(),
        records: s.records(),
        small_quality: s.baselines().always_small.quality.unwrap_or(f64::NAN),
        own: recommend(s, settings.objective),
        at_global: global.map(|m| match m.accepts_none {
            true => s.at_candidate(0),
            false => paid(s.candidate_at(m.threshold), m.threshold, true),
        }),
        always_large: threshold.is_none(),
        threshold,
        chosen,
        rule,
        rows: settings.grid.iter().map(|&t| s.at_threshold(t)).collect(),
    }
}
