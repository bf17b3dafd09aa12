//! Segments: a sweep per segment, per-segment thresholds chosen jointly under one global
//! objective, and the fallbacks for small segments and segments that cannot meet the target.
//!
//! Owns what a segment is (a combination of label values), the rules that pin a segment to the
//! global threshold or to the large model, and the mapping of each objective onto the joint
//! problem that `joint` solves exactly. Pure: columns in, a [`Plan`] out; no I/O, no printing.

pub mod departure;
pub mod family;
pub mod joint;
mod plan;
mod warnings;

pub use departure::Departures;
pub use plan::{PlanSettings, plan, plan_of_sweeps};

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::engine::economics::savings;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::Metrics;
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
        // by their value tuples; so does a mixed-radix number of the codes, the first column
        // most significant, when it fits 64 bits.
        let radix = columns.iter().try_fold(1u64, |product, (_, t)| {
            product.checked_mul(t.names.len().max(1) as u64)
        });
        let (keys, codes) = match radix {
            Some(radix) => by_numbers(columns, n, radix),
            None => by_tuples(columns, n),
        };
        let labels = keys
            .iter()
            .map(|key| {
                columns
                    .iter()
                    .zip(key)
                    .map(|((name, t), &c)| (name.to_string(), t.names[c as usize].clone()))
                    .collect()
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
    AllSafeguarded,
    /// Its own records support no other threshold (the departure test): it keeps the global
    /// threshold.
    Unsupported,
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
            Rule::AllSafeguarded => "every record is sent to the large model by a safeguard".into(),
            Rule::Unsupported => "its records do not differ enough from the other segments' \
                                  to support another threshold: keeps the global threshold"
                .into(),
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

/// One segment's sweep results and its place in the policy.
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
    /// Segments the policy lets ship answers below the target, one sentence each (for stderr
    /// and the report).
    pub warnings: Vec<String>,
    /// Which thresholds a segment could leave the global threshold for.
    pub departures: Departures,
    /// `--segment-floor`.
    pub floor: Option<f64>,
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

/// Up to this many possible segment numbers, [`by_numbers`] marks the numbers present in a
/// table instead of sorting them.
const DENSE: u64 = 1 << 20;

/// Each record's code tuple, as a mixed-radix number (the first column most significant, so
/// numbers order as tuples do): the distinct tuples, ascending, and each record's index among
/// them. Needs the product of the columns' value counts to fit 64 bits.
fn by_numbers(columns: &[(&str, &Labels)], n: usize, radix: u64) -> (Vec<Vec<u32>>, Vec<u32>) {
    let len = |t: &Labels| t.names.len().max(1) as u64;
    let number =
        |i: usize| (columns.iter()).fold(0u64, |k, (_, t)| k * len(t) + u64::from(t.codes[i]));
    let numbers: Vec<u64> = (0..n).into_par_iter().map(number).collect();
    let (distinct, codes) = if radix <= DENSE {
        // Few possible numbers: mark those present and number them in order, without a sort.
        let mut code_of = vec![u32::MAX; radix as usize];
        for &k in &numbers {
            code_of[k as usize] = 0;
        }
        let mut distinct = Vec::new();
        for (k, code) in code_of.iter_mut().enumerate() {
            if *code == 0 {
                *code = distinct.len() as u32;
                distinct.push(k as u64);
            }
        }
        let codes = numbers.par_iter().map(|&k| code_of[k as usize]).collect();
        (distinct, codes)
    } else {
        let mut distinct = numbers.clone();
        distinct.par_sort_unstable();
        distinct.dedup();
        let codes = (numbers.par_iter())
            .map(|k| distinct.binary_search(k).expect("every number is listed") as u32)
            .collect();
        (distinct, codes)
    };
    // Each number back to its codes, the last column least significant.
    let keys = (distinct.iter())
        .map(|&k| {
            let mut rest = k;
            let mut key: Vec<u32> = (columns.iter().rev())
                .map(|(_, t)| {
                    let code = rest % len(t);
                    rest /= len(t);
                    code as u32
                })
                .collect();
            key.reverse();
            key
        })
        .collect();
    (keys, codes)
}

/// [`by_numbers`] for any number of columns: the tuples themselves as keys of an ordered map.
fn by_tuples(columns: &[(&str, &Labels)], n: usize) -> (Vec<Vec<u32>>, Vec<u32>) {
    let key = |i: usize| columns.iter().map(|(_, t)| t.codes[i]).collect::<Vec<_>>();
    let mut index: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
    for i in 0..n {
        index.entry(key(i)).or_insert(0);
    }
    for (k, code) in index.values_mut().enumerate() {
        *code = k as u32;
    }
    let codes = (0..n).map(|i| index[&key(i)]).collect();
    (index.into_keys().collect(), codes)
}

#[cfg(test)]
mod tests;
