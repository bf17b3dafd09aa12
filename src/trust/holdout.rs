//! Held-out validation: split the records, choose on one part, check on the other. Pure; the
//! caller passes the seed.
//!
//! Owns the split (a seeded shuffle within each task type, or the records' own split field) and
//! the record of what calibration promised and the held-out part delivered; the subsets are
//! `input`'s, the verdict `Objective::is_met`. It must not
//! choose thresholds (the caller runs the usual sweep on the calibration part) nor print.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::engine::sweep::Metrics;
use crate::input::EvalSet;

/// How to hold records out for validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Holdout {
    /// A seeded random fraction, stratified by task type.
    Fraction {
        /// Share of records held out, in (0, 1).
        fraction: f64,
        /// The split's seed.
        seed: u64,
    },
    /// The records' split field, read from this column.
    Field {
        /// The column.
        column: String,
        /// Its labels in words: `train, …, dev / test, holdout, eval` or the pair given.
        labels: String,
    },
}

impl Holdout {
    /// How the records were split, in words for the report.
    pub fn describe(&self) -> String {
        match self {
            Holdout::Fraction { fraction, seed } => format!(
                "{:.1} % of the records held out at random (seed {seed}, stratified by task \
                 type when present)",
                100.0 * fraction
            ),
            Holdout::Field { column, labels } => {
                format!("records split by column {column:?} ({labels})")
            }
        }
    }
}

/// What calibration promised and what the held-out records delivered at the same threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// How the records were split, in words.
    pub description: String,
    /// Records the threshold was chosen on.
    pub calibration_records: usize,
    /// Records it was checked on.
    pub test_records: usize,
    /// The metrics on the calibration part.
    pub promised: Metrics,
    /// The metrics on the held-out part at the same threshold.
    pub held_out: Metrics,
    /// Whether the held-out part met the objective (`None` for the default objective, which
    /// sets no bar).
    pub met: Option<bool>,
    /// With per-segment thresholds: the whole policy on both parts.
    pub policy: Option<Check>,
}

/// One policy on the calibration part and on the held-out part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    /// The metrics on the calibration part.
    pub promised: Metrics,
    /// The metrics on the held-out part.
    pub held_out: Metrics,
    /// Whether the held-out part met the objective (`None`: the objective sets no bar).
    pub met: Option<bool>,
}

/// Why the records cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// `--split-field` names a column the records lack.
    #[error("--split-field {0}: no such column in the records")]
    NoColumn(String),
    /// One part would be empty.
    #[error(
        "the split leaves {calibration} calibration and {test} test records; both parts need \
         records"
    )]
    EmptyPart {
        /// Records left to choose on.
        calibration: usize,
        /// Records held out.
        test: usize,
    },
}

/// Which records are held out (true) for testing.
pub fn test_mask(set: &EvalSet, how: &Holdout) -> Result<Vec<bool>, SplitError> {
    let mask = match how {
        Holdout::Field { column, .. } => set
            .split
            .clone()
            .ok_or_else(|| SplitError::NoColumn(column.clone()))?,
        Holdout::Fraction { fraction, seed } => stratified(set, *fraction, *seed),
    };
    let test = mask.iter().filter(|t| **t).count();
    if test == 0 || test == mask.len() {
        return Err(SplitError::EmptyPart {
            calibration: mask.len() - test,
            test,
        });
    }
    Ok(mask)
}

/// Within each task type (or over all records), a seeded shuffle holds out each type's share of
/// round(fraction × n) records, shares allotted by largest remainder so they add up exactly.
fn stratified(set: &EvalSet, fraction: f64, seed: u64) -> Vec<bool> {
    let n = set.confidence.len();
    let groups: Vec<Vec<usize>> = match &set.task_type {
        Some(tasks) => {
            let mut g = vec![Vec::new(); tasks.names.len()];
            for (i, &c) in tasks.codes.iter().enumerate() {
                g[c as usize].push(i);
            }
            g
        }
        None => vec![(0..n).collect()],
    };
    let total = (fraction * n as f64).round() as usize;
    let quotas: Vec<f64> = groups.iter().map(|g| fraction * g.len() as f64).collect();
    let mut take: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..groups.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (quotas[a] - quotas[a].floor(), quotas[b] - quotas[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let short = total.saturating_sub(take.iter().sum());
    for &g in by_remainder.iter().take(short) {
        take[g] += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mask = vec![false; n];
    for (mut group, take) in groups.into_iter().zip(take) {
        // Fisher–Yates, then the first `take` of the shuffled group are held out.
        for k in (1..group.len()).rev() {
            let j = (rng.next_u64() % (k as u64 + 1)) as usize;
            group.swap(k, j);
        }
        for &i in &group[..take.min(group.len())] {
            mask[i] = true;
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Labels;

    #[test]
    fn stratified_split_is_seeded_and_per_task() {
        let set = EvalSet {
            confidence: vec![0.5; 10],
            small_quality: vec![1.0; 10],
            task_type: Some(Labels {
                codes: vec![0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
                names: vec!["a".into(), "b".into()],
            }),
            ..EvalSet::default()
        };
        let how = Holdout::Fraction {
            fraction: 0.5,
            seed: 3,
        };
        let mask = test_mask(&set, &how).unwrap();
        // Half of each task: 2 of 4 and 3 of 6.
        assert_eq!(mask[..4].iter().filter(|m| **m).count(), 2);
        assert_eq!(mask[4..].iter().filter(|m| **m).count(), 3);
        assert_eq!(test_mask(&set, &how).unwrap(), mask);
        let test = set.subset(&mask, true);
        assert_eq!(test.confidence.len(), 5);
        assert_eq!(test.task_type.unwrap().codes.len(), 5);
    }

    #[test]
    fn shares_add_up_across_many_small_task_types() {
        // Shares add up across task types: ten one-record types at 0.5 hold out five, not ten.
        let set = EvalSet {
            confidence: vec![0.5; 10],
            small_quality: vec![1.0; 10],
            task_type: Some(Labels {
                codes: (0..10).collect(),
                names: (0..10).map(|i| format!("t{i}")).collect(),
            }),
            ..EvalSet::default()
        };
        let how = Holdout::Fraction {
            fraction: 0.5,
            seed: 1,
        };
        let mask = test_mask(&set, &how).unwrap();
        assert_eq!(mask.iter().filter(|m| **m).count(), 5);
    }

    #[test]
    fn a_split_needs_both_parts() {
        let set = EvalSet {
            confidence: vec![0.5; 3],
            small_quality: vec![1.0; 3],
            split: Some(vec![false; 3]),
            ..EvalSet::default()
        };
        let err = test_mask(
            &set,
            &Holdout::Field {
                column: "split".into(),
                labels: "calibration / test".into(),
            },
        )
        .unwrap_err();
        let empty = SplitError::EmptyPart {
            calibration: 3,
            test: 0,
        };
        assert_eq!(err, empty);
        assert!(err.to_string().contains("3 calibration and 0 test records"));
    }
}
