//! Segments: a sweep per segment, per-segment thresholds chosen jointly under one global
//! objective, and the fallbacks for small segments and segments that cannot meet the target.
//!
//! Owns what a segment is (a combination of label values), the rules that pin a segment to the
//! global threshold or to the large model, and the mapping of each objective onto the joint
//! problem that `joint` solves exactly. Pure: columns in, a [`Plan`] out; no I/O, no printing.

pub mod joint;

use std::collections::BTreeMap;

use crate::engine::economics::{CostColumn, CostModel, savings};
use crate::engine::objective::Objective;
use crate::engine::recommend::{Infeasible, recommend};
use crate::engine::sweep::{Metrics, Sweep, SweepInput, Totals};
use crate::input::Labels;

/// The segment of every record.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// Per segment, its (column, value) pairs, sorted by value tuple.
    pub labels: Vec<Vec<(String, String)>>,
    /// The segment of each record.
    pub codes: Vec<u32>,
}

impl Segmentation {
    /// Groups records by the combination of their labels in `columns` (name, labels).
    pub fn new(columns: &[(&str, &Labels)]) -> Segmentation {
        let n = columns.first().map_or(0, |(_, t)| t.codes.len());
        // Label names are sorted within each column, so ordering by code tuples orders segments
        // by their value tuples.
        let mut index: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
        for i in 0..n {
            let key: Vec<u32> = columns.iter().map(|(_, t)| t.codes[i]).collect();
            index.entry(key).or_insert(0);
        }
        for (k, code) in index.values_mut().enumerate() {
            *code = k as u32;
        }
        let labels = index
            .keys()
            .map(|key| {
                columns
                    .iter()
                    .zip(key)
                    .map(|((name, t), &c)| (name.to_string(), t.names[c as usize].clone()))
                    .collect()
            })
            .collect();
        let codes = (0..n)
            .map(|i| {
                let key: Vec<u32> = columns.iter().map(|(_, t)| t.codes[i]).collect();
                index[&key]
            })
            .collect();
        Segmentation { labels, codes }
    }

    /// `task_type=legal` or `task_type=legal, tier=pro`.
    pub fn name(&self, segment: usize) -> String {
        self.labels[segment]
            .iter()
            .map(|(c, v)| format!("{c}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
}

/// What the policy does with one segment, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Its threshold was chosen jointly with the other segments'.
    Joint,
    /// Too few records to choose a threshold of its own: it keeps the global threshold.
    TooFewGlobal,
    /// Too few records, and even its most confident records miss the target: always large.
    TooFewAlwaysLarge,
    /// No threshold meets the target on this segment alone; pooled with the others, its
    /// threshold is still chosen jointly (see [`Plan::routed_alternative`]).
    CannotMeetTarget,
    /// No joint choice was made (see [`Plan::note`]): it keeps the global threshold.
    Global,
    /// Safeguards send every record of the segment to the large model.
    AllForced,
}

impl Rule {
    /// Why, in words for the report.
    pub fn reason(self, min_records: usize) -> String {
        match self {
            Rule::Joint => "threshold chosen jointly under the global objective".into(),
            Rule::TooFewGlobal => {
                format!("fewer than {min_records} records: keeps the global threshold")
            }
            Rule::TooFewAlwaysLarge => format!(
                "fewer than {min_records} records, and even its most confident records miss \
                 the target: always large"
            ),
            Rule::CannotMeetTarget => "no threshold meets the target on this segment alone; \
                                       its threshold is chosen jointly with the others"
                .into(),
            Rule::Global => "keeps the global threshold".into(),
            Rule::AllForced => "every record is sent to the large model by a safeguard".into(),
        }
    }
}

impl SegmentResult {
    /// What its policy costs over its cost at the global threshold, spread over `records`
    /// requests in all (currency units per request); `None` without a global threshold.
    pub fn extra_cost_over(&self, records: usize) -> Option<f64> {
        let g = self.at_global.as_ref()?;
        Some(
            (self.chosen.cost_per_request - g.cost_per_request) * self.records as f64
                / records as f64,
        )
    }

    /// Why the policy treats it so, in words (`min_records`: `--min-segment-records`).
    pub fn reason(&self, min_records: usize) -> String {
        let why = self.rule.reason(min_records);
        match self.rule {
            Rule::Joint | Rule::CannotMeetTarget if self.always_large => {
                format!("{why}: it goes to the large model")
            }
            _ => why,
        }
    }
}

/// One segment's analysis and its place in the policy.
#[derive(Debug, Clone)]
pub struct SegmentResult {
    /// `task_type=legal`.
    pub name: String,
    /// Its (column, value) pairs.
    pub labels: Vec<(String, String)>,
    /// Records in the segment.
    pub records: usize,
    /// Mean small-model quality over all its records.
    pub small_quality: f64,
    /// Its own best threshold under the objective, chosen on this segment alone.
    pub own: Result<Metrics, Infeasible>,
    /// Its metrics at the global threshold.
    pub at_global: Option<Metrics>,
    /// Its metrics under the policy.
    pub chosen: Metrics,
    /// The threshold the policy gives it: its chosen threshold, or the global one for a
    /// segment that keeps it; `None` when it goes to the large model.
    pub threshold: Option<f64>,
    /// Whether the policy routes it all to the large model.
    pub always_large: bool,
    /// Why.
    pub rule: Rule,
    /// Its metrics at each threshold of the main table (segments.csv).
    pub rows: Vec<Metrics>,
}

/// The per-segment policy and how it compares with one global threshold.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The columns that define segments.
    pub columns: Vec<String>,
    /// `--min-segment-records`.
    pub min_records: usize,
    /// Every segment, in label order.
    pub segments: Vec<SegmentResult>,
    /// The whole policy's metrics, when a joint choice was made and is feasible.
    pub policy: Option<Metrics>,
    /// The single threshold that does best on the joint problem's terms (e.g. the cheapest one
    /// meeting the quality target), for a like-for-like comparison.
    pub best_single: Option<Metrics>,
    /// With segments that cannot meet the target alone: the policy's metrics if those went
    /// all to the large model (the rest re-chosen), or `None` when that is infeasible.
    pub routed_alternative: Option<Metrics>,
    /// Whether the joint search proved its choice optimal.
    pub exact: bool,
    /// Why no joint choice was made, or why it is infeasible.
    pub note: Option<String>,
}

impl Plan {
    /// The per-segment policy's savings against the best single threshold (0.1 = 10 %
    /// cheaper, negative = dearer); `None` without both or when the single threshold costs
    /// nothing.
    pub fn savings_vs_single(&self) -> Option<f64> {
        savings(
            self.policy?.cost_per_request,
            self.best_single?.cost_per_request,
        )
    }
}

/// The inputs of one segment, gathered from the full columns.
struct Part {
    confidence: Vec<f64>,
    small_quality: Vec<f64>,
    large_quality: Option<Vec<f64>>,
    small_cost: Vec<f64>,
    large_cost: Vec<f64>,
    safeguarded: Vec<bool>,
}

impl Part {
    fn input(&self, baseline: Option<f64>) -> SweepInput<'_> {
        SweepInput {
            confidence: &self.confidence,
            small_quality: &self.small_quality,
            large_quality: self.large_quality.as_deref(),
            costs: CostModel {
                small: CostColumn::PerRecord(&self.small_cost),
                large: CostColumn::PerRecord(&self.large_cost),
                baseline,
            },
            safeguarded: Some(&self.safeguarded),
        }
    }
}

fn split(input: SweepInput<'_>, seg: &Segmentation) -> Vec<Part> {
    let mut parts: Vec<Part> = (0..seg.len())
        .map(|_| Part {
            confidence: Vec::new(),
            small_quality: Vec::new(),
            large_quality: input.large_quality.map(|_| Vec::new()),
            small_cost: Vec::new(),
            large_cost: Vec::new(),
            safeguarded: Vec::new(),
        })
        .collect();
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
fn choice(objective: Objective, t: &Totals) -> Option<joint::Choice> {
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
    /// The sweep over all records (for the best single threshold).
    pub sweep: &'a Sweep,
}

/// Per-segment sweeps and the joint per-segment thresholds.
pub fn plan(
    input: SweepInput<'_>,
    seg: &Segmentation,
    columns: &[String],
    settings: PlanSettings<'_>,
) -> Plan {
    let PlanSettings {
        objective,
        min_records,
        global,
        ..
    } = settings;
    let parts = split(input, seg);
    let sweeps: Vec<Sweep> = parts
        .iter()
        .map(|p| Sweep::new(p.input(input.costs.baseline)))
        .collect();
    // The global threshold's candidate in each segment ("escalate everything" stays so).
    let global_j = |s: &Sweep| match global {
        Some(m) if !m.accepts_none => Some(s.candidate_at(m.threshold)),
        Some(_) => Some(0),
        None => None,
    };
    let joint_form = choice(objective, &sweeps[0].totals(0)).is_some();
    let note = if !joint_form {
        Some(format!(
            "per-segment thresholds are chosen jointly for --min-quality, --max-quality-loss \
             and --budget; with the objective \"{}\" every segment keeps the global threshold",
            objective.describe()
        ))
    } else {
        settings.no_joint.map(str::to_string)
    };
    // Each segment's rule and allowed candidates.
    let mut rules = Vec::with_capacity(sweeps.len());
    let mut choices: Vec<Vec<joint::Choice>> = Vec::with_capacity(sweeps.len());
    let mut allowed: Vec<Vec<usize>> = Vec::with_capacity(sweeps.len());
    for s in &sweeps {
        let any_meets = (1..s.candidates()).any(|j| meets_target(objective, s, j) != Some(false));
        let (rule, js): (Rule, Vec<usize>) = if s.candidates() == 1 {
            (Rule::AllForced, vec![0])
        } else if note.is_some() {
            (Rule::Global, global_j(s).into_iter().collect())
        } else if s.records() < min_records {
            match global_j(s) {
                Some(j) if any_meets => (Rule::TooFewGlobal, vec![j]),
                _ => (Rule::TooFewAlwaysLarge, vec![0]),
            }
        } else if !any_meets {
            // Chosen jointly like the others (pooling may carry it); the report shows what
            // routing it all to the large model would cost instead.
            (Rule::CannotMeetTarget, (0..s.candidates()).collect())
        } else {
            (Rule::Joint, (0..s.candidates()).collect())
        };
        choices.push(
            js.iter()
                .filter_map(|&j| choice(objective, &s.totals(j)))
                .collect(),
        );
        rules.push(rule);
        allowed.push(js);
    }
    let solved = if note.is_none() {
        joint::solve(&choices)
    } else {
        None
    };
    let mut note = note;
    let picks: Vec<Option<usize>> = match &solved {
        Some(sol) => sol
            .picks
            .iter()
            .zip(&allowed)
            .map(|(&k, a)| Some(a[k]))
            .collect(),
        None => {
            if note.is_none() {
                note = Some(format!(
                    "no combination of per-segment thresholds meets: {}",
                    objective.describe()
                ));
            }
            sweeps.iter().map(global_j).collect()
        }
    };
    // The metrics of one pick per segment; accepting nothing anywhere is always-large, not a
    // cascade.
    let metrics_of = |picks: &[usize]| {
        let total = sweeps
            .iter()
            .zip(picks)
            .map(|(s, &j)| s.totals(j))
            .reduce(Totals::plus)
            .expect("at least one segment");
        let m = total.metrics(f64::NAN, total.accepted == 0);
        (m.accepted > 0 || !matches!(objective, Objective::MinQuality { .. })).then_some(m)
    };
    let policy = match (&solved, picks.iter().all(Option::is_some)) {
        (Some(_), true) => metrics_of(&picks.iter().flatten().copied().collect::<Vec<_>>()),
        _ => None,
    };
    // The alternative a per-segment guarantee would take: segments that cannot meet the target
    // alone routed to the large model, the rest re-chosen jointly.
    let hopeless = rules.contains(&Rule::CannotMeetTarget);
    let routed_alternative = if hopeless && note.is_none() {
        let pinned: Vec<Vec<joint::Choice>> = choices
            .iter()
            .zip(&rules)
            .map(|(c, r)| match r {
                Rule::CannotMeetTarget => vec![c[0]],
                _ => c.clone(),
            })
            .collect();
        joint::solve(&pinned).and_then(|sol| {
            let picks: Vec<usize> = sol
                .picks
                .iter()
                .zip(&allowed)
                .zip(&rules)
                .map(|((&k, a), r)| {
                    if *r == Rule::CannotMeetTarget {
                        0
                    } else {
                        a[k]
                    }
                })
                .collect();
            metrics_of(&picks)
        })
    } else {
        None
    };
    let segments = sweeps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let j = picks[k].unwrap_or(0);
            let chosen = s.at_candidate(j);
            // A segment that keeps the global threshold keeps its value, not its own smallest
            // accepted signal: the two differ on traffic the eval set lacks.
            let threshold = match rules[k] {
                Rule::TooFewGlobal | Rule::Global => {
                    global.filter(|m| !m.accepts_none).map(|m| m.threshold)
                }
                _ => (j > 0).then_some(chosen.threshold),
            };
            SegmentResult {
                name: seg.name(k),
                labels: seg.labels[k].clone(),
                records: s.records(),
                small_quality: s.baselines().always_small.quality.unwrap_or(f64::NAN),
                own: recommend(s, objective),
                at_global: global.map(|m| {
                    if m.accepts_none {
                        s.at_candidate(0)
                    } else {
                        s.at_threshold(m.threshold)
                    }
                }),
                always_large: threshold.is_none(),
                threshold,
                chosen,
                rule: rules[k],
                rows: settings.grid.iter().map(|&t| s.at_threshold(t)).collect(),
            }
        })
        .collect();
    let best_single = if joint_form {
        best_single(settings.sweep, objective)
    } else {
        None
    };
    Plan {
        routed_alternative,
        best_single,
        columns: columns.to_vec(),
        min_records,
        segments,
        policy,
        exact: solved.as_ref().is_none_or(|s| s.exact),
        note,
    }
}

#[cfg(test)]
mod tests;
