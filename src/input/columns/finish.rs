//! The end of input: the rules that need every record, applied once the last block is in.
//!
//! Owns the checks that turn [`Columns`] into an eval set or the error that stops the run: a
//! required field no record has, an optional field in some records only, bad records without
//! `--skip-invalid`, nothing left. It must not read input.

use rayon::prelude::*;

use super::{Columns, NO_TASK, READ_FIELDS, TASK, pad};
use crate::input::error::{LoadError, RecordProblem, SHOWN};
use crate::input::extra::ExtraColumns;
use crate::input::field::{Field, FieldMap};
use crate::input::{Drops, EvalSet, Labels, retain_rows};

/// Finished columns: the eval set, what was dropped, and the extra columns of the same records
/// (not yet checked, see [`ExtraColumns::finish`]).
#[derive(Debug)]
pub struct Finished {
    /// The fixed fields.
    pub set: EvalSet,
    /// What was read and dropped.
    pub drops: Drops,
    /// The requested extra columns, one value per kept record.
    pub extras: ExtraColumns,
    /// See [`Columns::set_extra_names`].
    pub extra_names: Vec<String>,
}

impl Columns {
    /// Applies the cross-record rules and returns the eval set, or the error that stops the run.
    pub fn finish(
        mut self,
        path: &str,
        map: &FieldMap,
        skip_invalid: bool,
    ) -> Result<Finished, LoadError> {
        if self.records == 0 {
            return Err(LoadError::Empty { path: path.into() });
        }
        self.check_required_fields(path, map)?;
        let kept = self.kept;
        for column in self.numbers.iter_mut().filter(|c| !c.is_empty()) {
            pad(column, kept, f64::NAN);
        }
        if !self.task.is_empty() {
            pad(&mut self.task, kept, NO_TASK);
        }
        let keep = self.optional_fields_everywhere_or_nowhere(map);
        // A record missing several fields is one dropped record.
        self.problem_count += keep.iter().filter(|k| !**k).count() as u64;
        self.problems.sort_by_key(|p| p.location);
        self.problems.dedup_by_key(|p| p.location);
        self.problems.truncate(SHOWN);
        if self.problem_count > 0 && !skip_invalid {
            return Err(LoadError::BadRecords {
                path: path.into(),
                total: self.problem_count,
                all: self.problem_count == self.records,
                first: self.problems,
            });
        }
        let mut rows = kept;
        if !keep.is_empty() {
            for column in self.numbers.iter_mut() {
                retain_rows(column, &keep);
            }
            retain_rows(&mut self.task, &keep);
            self.extras.retain(&keep);
            rows = keep.iter().filter(|k| **k).count();
        }
        if rows == 0 {
            return Err(LoadError::AllDropped {
                path: path.into(),
                dropped: self.problem_count,
            });
        }
        let drops = Drops {
            read: self.records,
            dropped: self.problem_count,
            reasons: std::mem::take(&mut self.reasons).into_iter().collect(),
        };
        let extras = std::mem::take(&mut self.extras);
        let extra_names = self.extra_names.take().unwrap_or_default();
        Ok(Finished {
            set: self.into_eval_set(rows),
            drops,
            extras,
            extra_names,
        })
    }

    /// A required field absent from every record is a mapping problem, not many bad records.
    fn check_required_fields(&self, path: &str, map: &FieldMap) -> Result<(), LoadError> {
        for field in READ_FIELDS.iter().filter(|f| map.required(**f)) {
            let key = format!("field \"{}\": no such field", map.column(*field));
            if self.reasons.get(&key) == Some(&self.records) {
                return Err(missing_everywhere(
                    path,
                    *field,
                    map,
                    self.first_columns.as_deref(),
                ));
            }
        }
        Ok(())
    }

    /// Notes the kept records that lack an optional field other kept records carry, and
    /// returns which records to keep (empty: all of them).
    fn optional_fields_everywhere_or_nowhere(&mut self, map: &FieldMap) -> Vec<bool> {
        let kept = self.kept;
        let mut keep: Vec<bool> = Vec::new();
        for (i, field) in READ_FIELDS.iter().enumerate() {
            let present = self.present[i];
            if map.required(*field) || present == 0 || present == kept as u64 {
                continue;
            }
            let absent = kept as u64 - present;
            let column = map.column(*field).to_string();
            let first_present = self.first_present[i].expect("present > 0");
            for location in &self.first_absent[i] {
                self.problems.push(RecordProblem {
                    location: *location,
                    column: Some(column.clone()),
                    expected: format!(
                        "the field in every record or in none (it is present in {present} \
                         records, first at {first_present})"
                    ),
                    found: "no such field".into(),
                });
            }
            *self
                .reasons
                .entry(format!("field \"{column}\": no such field"))
                .or_default() += absent;
            if keep.is_empty() {
                keep = vec![true; kept];
            }
            for (row, k) in keep.iter_mut().enumerate() {
                let missing = if i == TASK {
                    self.task[row] == NO_TASK
                } else {
                    self.numbers[i][row].is_nan()
                };
                if missing {
                    *k = false;
                }
            }
        }
        keep
    }

    fn into_eval_set(self, rows: usize) -> EvalSet {
        // A column is whole when every kept record has a value: the columns checked in parallel.
        let whole: Vec<bool> = (self.numbers.par_iter())
            .map(|v| v.len() == rows && !v.par_iter().any(|x| x.is_nan()))
            .collect();
        let mut numbers = self.numbers.into_iter().zip(whole);
        let mut next = || {
            let (v, whole) = numbers.next().unwrap_or_default();
            whole.then_some(v)
        };
        let confidence = next().unwrap_or_default();
        let small_quality = next().unwrap_or_default();
        let (large_quality, small_cost, large_cost) = (next(), next(), next());
        let (input_tokens, small_output_tokens, large_output_tokens) = (next(), next(), next());
        let (small_latency_ms, large_latency_ms) = (next(), next());
        let split = next().map(|v| v.into_iter().map(|x| x == 1.0).collect());
        let task_type = (self.task.len() == rows && !self.task.contains(&NO_TASK))
            .then(|| Labels::sorted(self.task, self.task_names));
        EvalSet {
            confidence,
            small_quality,
            large_quality,
            small_cost,
            large_cost,
            input_tokens,
            small_output_tokens,
            large_output_tokens,
            small_latency_ms,
            large_latency_ms,
            split,
            task_type,
        }
    }
}

fn missing_everywhere(
    path: &str,
    field: Field,
    map: &FieldMap,
    first: Option<&[String]>,
) -> LoadError {
    // A multi-model set read as a two-model one: only a regular file is looked at for the
    // model column (standard input and pipes can be read once).
    let multi = first.is_some_and(|names| names.iter().any(|n| n == "model"))
        && field == Field::SmallQuality;
    let hint = match multi {
        true => " (no record has it; the records have a \"model\" column: a multi-model eval set \
                 is recognised in a regular file, not on standard input or a pipe)"
            .to_string(),
        false => format!(
            " (no record has it; map another column with --field {}=COLUMN)",
            field.name()
        ),
    };
    LoadError::MissingColumn {
        path: path.into(),
        field: field.name().into(),
        column: map.column(field).into(),
        hint,
        available: match first {
            Some(names) => format!("{} (in the first record)", names.join(", ")),
            None => "none readable".into(),
        },
    }
}
