//! The cautions a run states: one list, built here from the run's numbers, that `report.md`
//! shows under "Warnings" and `sweep` and `recommend` print to stderr, once each.
//!
//! Owns which cautions apply and the facts behind each. It must not word them (`output` does)
//! nor print.

use crate::engine::economics::CostSource;
use crate::engine::objective::Objective;
use crate::engine::sweep::{Metrics, Sweep};
use crate::engine::ties::{TieSplit, tie_split};
use crate::input::{Field, Loaded};
use crate::trust::holdout::{Judged, Validation, Verdict};
use crate::trust::intervals::{MAX_BOOTSTRAP_ROWS, booted_rows};

use super::prepare::Prepared;
use super::settings::RunSettings;

/// Fewer records than this draws a warning.
pub const FEW_RECORDS: usize = 500;
/// An AUROC below this draws the weak-signal warning.
pub const WEAK_AUROC: f64 = 0.65;
/// An escalation rate above this draws a warning (the post: savings erode above 30 to 40 %).
pub const HIGH_ESCALATION: f64 = 0.40;
/// A confidence value shared by at least this share of the records draws the ties warning.
pub const TIE_SHARE: f64 = 0.05;
/// The ties warning names at most this many values.
pub const TIES_SHOWN: usize = 3;

/// A caution the report states in plain words.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// Few records: the recommendation is noisy.
    FewRecords {
        /// Records used.
        records: usize,
    },
    /// The confidence barely separates right from wrong answers.
    WeakSignal {
        /// Its AUROC.
        auroc: f64,
    },
    /// The recommended threshold escalates a lot.
    HighEscalation {
        /// The escalation rate.
        rate: f64,
    },
    /// The recommended cascade costs as much as always-large or more.
    PastBreakEven {
        /// Its savings against always-large (≤ 0).
        savings: f64,
    },
    /// No threshold meets the objective.
    NoThreshold {
        /// Why, in words (from the recommendation).
        reason: String,
    },
    /// Records were dropped as invalid.
    Dropped {
        /// How many.
        records: u64,
        /// Records read.
        read: u64,
    },
    /// Many records share one confidence value: a threshold takes or leaves them all.
    Ties {
        /// (value, records) for each value held by at least [`TIE_SHARE`] of the records,
        /// largest first.
        ties: Vec<(f64, usize)>,
        /// Records in the sweep.
        records: usize,
    },
    /// A model was priced at the built-in default per-request cost.
    DefaultCosts {
        /// The small model's default cost, when used.
        small: Option<f64>,
        /// The large model's default cost, when used.
        large: Option<f64>,
        /// Unmapped columns whose names look like costs or token counts.
        columns: Vec<String>,
    },
    /// The recommendation stops before a tie that could be partly accepted.
    TieSplit {
        /// The split, in expectation.
        split: TieSplit,
        /// The recommendation's cost per request.
        recommended_cost: f64,
    },
    /// No objective was given: the default rule applies.
    NoObjective,
    /// The held-out records did not clearly meet the objective.
    HeldOutMiss {
        /// The verdict (not met or inconclusive) and its interval.
        judged: Judged,
    },
    /// The table is too long for bootstrap intervals on every row.
    LongTable {
        /// Rows of sweep.csv.
        rows: usize,
        /// Rows up to which every row gets them.
        limit: usize,
        /// Bootstrap resamples.
        resamples: usize,
    },
}

/// The cautions that follow from the sweep, the recommendation and the input (the held-out
/// check adds its own, [`held_out`]); `table_rows` is the length of sweep.csv (`None` for
/// `recommend`, which writes no table).
pub fn collect(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    sweep: &Sweep,
    recommended: Result<&Metrics, String>,
    table_rows: Option<(usize, usize)>,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if let Some(w) = default_costs(loaded, run, prepared) {
        warnings.push(w);
    }
    if run.objective == Objective::QualityTimesSavings {
        warnings.push(Warning::NoObjective);
    }
    if loaded.drops.dropped > 0 {
        warnings.push(Warning::Dropped {
            records: loaded.drops.dropped,
            read: loaded.drops.read,
        });
    }
    if sweep.records() < FEW_RECORDS {
        warnings.push(Warning::FewRecords {
            records: sweep.records(),
        });
    }
    if let Some(a) = sweep.auroc().filter(|a| *a < WEAK_AUROC) {
        warnings.push(Warning::WeakSignal { auroc: a });
    }
    let ties = ties(sweep);
    if !ties.is_empty() {
        warnings.push(Warning::Ties {
            ties,
            records: sweep.records(),
        });
    }
    // With --split-ties the split is applied or its absence explained, not hinted at.
    if run.split_ties.is_none()
        && let Ok(m) = &recommended
    {
        let j = sweep.candidate_at(m.routing_threshold());
        // Worth saying only for a large tie whose split is cheaper than the recommendation.
        let n = sweep.records() as f64;
        let worth = |s: &TieSplit| {
            s.records as f64 >= TIE_SHARE * n && s.expected.cost_per_request < m.cost_per_request
        };
        if let Some(split) = tie_split(sweep, run.objective, j).filter(worth) {
            warnings.push(Warning::TieSplit {
                split,
                recommended_cost: m.cost_per_request,
            });
        }
    }
    match recommended.clone() {
        Ok(m) if m.escalation_rate > HIGH_ESCALATION && !m.accepts_none => {
            warnings.push(Warning::HighEscalation {
                rate: m.escalation_rate,
            })
        }
        Ok(_) => {}
        Err(reason) => warnings.push(Warning::NoThreshold { reason }),
    }
    // "Escalate everything" is always-large itself; a cascade that keeps answers should save.
    if let Ok(m) = recommended
        && !m.accepts_none
        && let Some(s) = m.savings_vs_large.filter(|s| *s <= 0.0)
    {
        warnings.push(Warning::PastBreakEven { savings: s });
    }
    if let Some((rows, resamples)) = table_rows.filter(|(r, n)| booted_rows(*r, *n) < *r) {
        warnings.push(Warning::LongTable {
            rows,
            limit: MAX_BOOTSTRAP_ROWS,
            resamples,
        });
    }
    warnings
}

/// The held-out check's caution: the objective was not met, or the held-out records cannot
/// tell, at the verdict's level.
pub fn held_out(v: &Validation) -> Option<Warning> {
    let judged = v.verdict?;
    (judged.verdict != Verdict::Met).then_some(Warning::HeldOutMiss { judged })
}

/// Confidence values held by at least [`TIE_SHARE`] of the records (and two or more), as
/// (value, records), largest first (equal counts by value, descending), at most
/// [`TIES_SHOWN`]. Candidate j ≥ 1 accepts the records at or above the j-th distinct
/// confidence, so consecutive accepted counts give each value's records.
fn ties(sweep: &Sweep) -> Vec<(f64, usize)> {
    let n = sweep.records() as f64;
    let accepted = |j: usize| sweep.at_candidate(j).accepted;
    let mut ties: Vec<(f64, usize)> = (sweep.distinct_confidences().iter().enumerate())
        .map(|(k, &value)| (value, accepted(k + 1) - accepted(k)))
        .filter(|&(_, count)| count >= 2 && count as f64 >= TIE_SHARE * n)
        .collect();
    ties.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.total_cmp(&a.0)));
    ties.truncate(TIES_SHOWN);
    ties
}

/// The default costs in use, with the unmapped columns that look like costs or tokens.
pub(super) fn default_costs(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
) -> Option<Warning> {
    let default = |s: &CostSource| match s {
        CostSource::Default(c) => Some(*c),
        _ => None,
    };
    let (small, large) = (
        default(&prepared.small_source),
        default(&prepared.large_source),
    );
    if small.is_none() && large.is_none() {
        return None;
    }
    let mapped: Vec<&str> = Field::ALL
        .iter()
        .map(|f| run.load.fields.column(*f))
        .collect();
    let columns = (loaded.columns.iter())
        .filter(|c| !mapped.contains(&c.as_str()) && looks_like_cost(c))
        .cloned()
        .collect();
    Some(Warning::DefaultCosts {
        small,
        large,
        columns,
    })
}

/// Whether a column name reads like a cost, a price or a token count.
fn looks_like_cost(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["cost", "price", "usd", "dollar", "token", "spend"]
        .iter()
        .any(|w| name.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_by_hand() {
        // Confidences 0.9 × 3, 0.5 × 3, 0.2 × 2, 0.1 × 1 of 9 (every share ≥ 5 %): the three
        // largest, equal counts by value descending; the single 0.1 is no tie.
        let conf = [0.9, 0.5, 0.9, 0.2, 0.5, 0.9, 0.5, 0.2, 0.1];
        let q = [1.0; 9];
        let sweep = Sweep::new(crate::engine::sweep::flat_input(&conf, &q, None));
        assert_eq!(ties(&sweep), vec![(0.9, 3), (0.5, 3), (0.2, 2)]);
    }

    #[test]
    fn cost_like_names() {
        for name in [
            "small_cost_usd",
            "large_cost_usd",
            "input_tokens",
            "Price",
            "spend",
        ] {
            assert!(looks_like_cost(name), "{name}");
        }
        for name in ["confidence", "task_type", "id", "large_correct"] {
            assert!(!looks_like_cost(name), "{name}");
        }
    }
}
