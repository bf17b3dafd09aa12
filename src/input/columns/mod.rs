//! Builds validated columns from records, whatever format they came from.
//!
//! Owns the rules that span records: an optional field is present in every record or in none,
//! bad records are counted and the first few kept for the error, and `--skip-invalid` drops them
//! with a reason. It must not parse bytes; the format readers hand it [`Cell`]s for the fixed
//! fields and [`Raw`] values for the requested extra columns, which it keeps only for the
//! records it keeps. Columns of fields no record carries are never allocated.

mod finish;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::error::{Location, RecordProblem, SHOWN};
use super::extra::{ExtraColumns, Raw};
use super::field::{Field, FieldMap};
use super::value::{Cell, Value, same_bytes, valid_number, validate, validate_split};

/// How many fields a reader extracts per record.
pub const READ: usize = 12;

/// The fields a reader extracts from each record, in this order (every field but `id`); a
/// field's position here is its [`Field::index`].
pub const READ_FIELDS: [Field; READ] = [
    Field::Confidence,
    Field::SmallQuality,
    Field::LargeQuality,
    Field::SmallCost,
    Field::LargeCost,
    Field::InputTokens,
    Field::SmallOutputTokens,
    Field::LargeOutputTokens,
    Field::SmallLatencyMs,
    Field::LargeLatencyMs,
    Field::Split,
    Field::TaskType,
];

const NUMERIC: usize = READ - 1;
const TASK: usize = READ - 1;
const NO_TASK: u32 = u32::MAX;

/// Columns under construction, for one block of records or a whole file.
///
/// A numeric column is empty until its field first appears; earlier kept rows are then filled
/// with NaN (validated values are never NaN), so a column is either empty or padded to `kept`.
#[derive(Debug, Default)]
pub struct Columns {
    numbers: [Vec<f64>; NUMERIC],
    task: Vec<u32>,
    task_names: Vec<String>,
    task_index: HashMap<String, u32>,
    kept: usize,
    present: [u64; READ],
    first_absent: [Vec<Location>; READ],
    first_present: [Option<Location>; READ],
    problems: Vec<RecordProblem>,
    problem_count: u64,
    reasons: BTreeMap<String, u64>,
    records: u64,
    first_columns: Option<Vec<String>>,
    /// The requested extra columns of the kept records.
    extras: ExtraColumns,
    /// The column names the input offers the extra columns, for the error about a required one
    /// no record has: a table's header, or the first kept record's keys.
    extra_names: Option<Vec<String>>,
    /// Keys of JSON objects that the plan does not read (for `calibrate signals`, which lists
    /// the columns it could not try).
    unread_keys: BTreeSet<String>,
}

impl Columns {
    /// Empty columns that also keep `extras` for each kept record.
    pub fn new(extras: ExtraColumns) -> Columns {
        Columns {
            extras,
            ..Columns::default()
        }
    }

    /// Validates one record and keeps it if every fixed field is valid; `raws` are its values
    /// of the requested extra columns. Returns whether it was kept.
    pub fn push(
        &mut self,
        location: Location,
        cells: &mut [Cell<'_>; READ],
        raws: &[Option<Raw<'_>>],
        map: &FieldMap,
    ) -> bool {
        self.records += 1;
        if plain(cells, map) {
            self.keep_plain(location, cells);
            self.extras.push(location, raws);
            return true;
        }
        let mut values: [Option<Value<'_>>; READ] = Default::default();
        let mut bad: Option<RecordProblem> = None;
        for (i, cell) in cells.iter_mut().enumerate() {
            let cell = std::mem::take(cell);
            let field = READ_FIELDS[i];
            if matches!(cell, Cell::Missing) && !map.required(field) {
                continue;
            }
            let checked = match field {
                Field::Split => validate_split(cell, map.split_names()),
                _ => validate(field, cell),
            };
            match checked {
                Ok(v) => values[i] = Some(v),
                Err(p) if bad.is_none() => {
                    bad = Some(RecordProblem {
                        location,
                        column: Some(map.column(field).to_string()),
                        expected: p.expected.to_string(),
                        found: p.found,
                    })
                }
                Err(_) => {}
            }
        }
        match bad {
            Some(problem) => {
                self.note_problem(problem);
                false
            }
            None => {
                self.accept(location, values);
                self.extras.push(location, raws);
                true
            }
        }
    }

    /// Counts a record that could not be read at all (e.g. a line that is not JSON).
    pub fn reject(&mut self, problem: RecordProblem) {
        self.records += 1;
        self.note_problem(problem);
    }

    fn note_problem(&mut self, problem: RecordProblem) {
        self.problem_count += 1;
        *self.reasons.entry(problem.reason_key()).or_default() += 1;
        if self.problems.len() < SHOWN {
            self.problems.push(problem);
        }
    }

    fn accept(&mut self, location: Location, values: [Option<Value<'_>>; READ]) {
        for (i, value) in values.into_iter().enumerate() {
            self.mark(i, location, value.is_some());
            match (i, value) {
                (TASK, Some(Value::Label(label))) => self.keep_label(&label),
                (_, Some(Value::Number(x))) => self.keep_number(i, x),
                _ => {}
            }
        }
        self.kept += 1;
    }

    /// [`accept`](Self::accept) for a record [`plain`] passed: its cells are its values.
    fn keep_plain(&mut self, location: Location, cells: &[Cell<'_>; READ]) {
        for (i, cell) in cells.iter().enumerate() {
            self.mark(i, location, !matches!(cell, Cell::Missing));
            match cell {
                Cell::Text(label) => self.keep_label(label),
                // `-0.0` is kept as 0, as validation does.
                Cell::Number(x) => self.keep_number(i, x + 0.0),
                _ => {}
            }
        }
        self.kept += 1;
    }

    /// Notes whether field `i` is present in the record at `location`.
    #[inline]
    fn mark(&mut self, i: usize, location: Location, present: bool) {
        if present {
            self.present[i] += 1;
            self.first_present[i].get_or_insert(location);
        } else if self.first_absent[i].len() < SHOWN {
            self.first_absent[i].push(location);
        }
    }

    #[inline]
    fn keep_number(&mut self, i: usize, x: f64) {
        pad(&mut self.numbers[i], self.kept, f64::NAN);
        self.numbers[i].push(x);
    }

    #[inline]
    fn keep_label(&mut self, label: &str) {
        let code = intern(&mut self.task_names, &mut self.task_index, label);
        pad(&mut self.task, self.kept, NO_TASK);
        self.task.push(code);
    }

    /// The column names of the first readable record, when the format has no header.
    pub fn first_columns(&self) -> Option<&[String]> {
        self.first_columns.as_deref()
    }

    /// Sets the column names of the first readable record.
    pub fn set_first_columns(&mut self, names: Vec<String>) {
        self.first_columns = Some(names);
    }

    /// Whether the names for a missing extra column's error are known yet.
    pub fn has_extra_names(&self) -> bool {
        self.extra_names.is_some()
    }

    /// Sets the column names a missing extra column's error lists.
    pub fn set_extra_names(&mut self, names: Vec<String>) {
        self.extra_names = Some(names);
    }

    /// Records kept so far.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// Reserves room for `rows` records in every column that `parts` carry. A hint: when the
    /// memory is not there, the columns simply grow as they fill.
    pub fn reserve_like(&mut self, rows: usize, parts: &[Columns]) {
        for i in 0..NUMERIC {
            if parts.iter().any(|p| !p.numbers[i].is_empty()) {
                let column = &mut self.numbers[i];
                let _ = column.try_reserve_exact(rows.saturating_sub(column.len()));
            }
        }
        if parts.iter().any(|p| !p.task.is_empty()) {
            let _ = self
                .task
                .try_reserve_exact(rows.saturating_sub(self.task.len()));
        }
        self.extras.reserve(rows);
    }

    /// Notes keys the plan does not read.
    pub fn note_unread_keys(&mut self, keys: impl IntoIterator<Item = String>) {
        self.unread_keys.extend(keys);
    }

    /// The keys no record's plan read, across every record.
    pub fn take_unread_keys(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.unread_keys)
    }

    /// Appends a later block, keeping file order.
    pub fn append(&mut self, mut other: Columns) {
        self.unread_keys.append(&mut other.unread_keys);
        for (mine, theirs) in self.numbers.iter_mut().zip(other.numbers) {
            if !theirs.is_empty() {
                pad(mine, self.kept, f64::NAN);
                mine.extend(theirs);
            }
        }
        if !other.task.is_empty() {
            let remap: Vec<u32> = other
                .task_names
                .iter()
                .map(|name| intern(&mut self.task_names, &mut self.task_index, name))
                .collect();
            pad(&mut self.task, self.kept, NO_TASK);
            self.task.extend(other.task.iter().map(|&c| {
                if c == NO_TASK {
                    NO_TASK
                } else {
                    remap[c as usize]
                }
            }));
        }
        for i in 0..READ {
            self.present[i] += other.present[i];
            if self.first_present[i].is_none() {
                self.first_present[i] = other.first_present[i];
            }
            let room = SHOWN - self.first_absent[i].len();
            self.first_absent[i].extend(other.first_absent[i].iter().take(room));
        }
        self.problem_count += other.problem_count;
        for (k, v) in other.reasons {
            *self.reasons.entry(k).or_default() += v;
        }
        let room = SHOWN - self.problems.len();
        self.problems.extend(other.problems.into_iter().take(room));
        self.records += other.records;
        self.kept += other.kept;
        self.extras.append(other.extras);
        if self.first_columns.is_none() {
            self.first_columns = other.first_columns;
        }
        if self.extra_names.is_none() {
            self.extra_names = other.extra_names;
        }
    }
}

/// Whether a record's cells are already its values, so validation would only copy them: every
/// number valid for its field, the task type a text, and every absent field optional (the
/// common record; any other goes through [`validate`]).
#[inline]
fn plain(cells: &[Cell<'_>; READ], map: &FieldMap) -> bool {
    cells
        .iter()
        .zip(READ_FIELDS)
        .all(|(cell, field)| match cell {
            Cell::Number(x) => {
                field != Field::TaskType && field != Field::Split && valid_number(field, *x)
            }
            Cell::Text(_) => field == Field::TaskType,
            Cell::Missing => !map.required(field),
            _ => false,
        })
}

/// The code of `name`, adding it to the list if new.
fn intern(names: &mut Vec<String>, index: &mut HashMap<String, u32>, name: &str) -> u32 {
    // Label columns mostly hold a handful of values: comparing with each beats hashing.
    if names.len() <= 16 {
        let name = name.as_bytes();
        if let Some(code) = names.iter().position(|n| same_bytes(n.as_bytes(), name)) {
            return code as u32;
        }
    } else if let Some(&code) = index.get(name) {
        return code;
    }
    let code = names.len() as u32;
    names.push(name.to_string());
    index.insert(name.to_string(), code);
    code
}

/// Fills `column` with `filler` up to `len` rows.
fn pad<T: Copy>(column: &mut Vec<T>, len: usize, filler: T) {
    if column.len() < len {
        column.resize(len, filler);
    }
}

#[cfg(test)]
mod tests {
    use super::finish::Finished;
    use super::*;

    fn cells(conf: f64, small: Cell<'static>, large: Cell<'static>) -> [Cell<'static>; READ] {
        let mut c: [Cell<'static>; READ] = Default::default();
        c[0] = Cell::Number(conf);
        c[1] = small;
        c[2] = large;
        c
    }

    #[test]
    fn optional_field_must_be_everywhere_or_nowhere() {
        let map = FieldMap::default();
        let mut cols = Columns::default();
        cols.push(
            Location::Line(1),
            &mut cells(0.9, Cell::Bool(true), Cell::Number(1.0)),
            &[],
            &map,
        );
        cols.push(
            Location::Line(2),
            &mut cells(0.8, Cell::Bool(false), Cell::Missing),
            &[],
            &map,
        );
        let err = cols.finish("e.jsonl", &map, false).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("e.jsonl:2: field \"large_quality\": expected the field in every record or in none (it is present in 1 records, first at 1), found no such field"), "{text}");
    }

    #[test]
    fn optional_field_appearing_late_is_caught_across_blocks() {
        let map = FieldMap::default();
        let mut a = Columns::default();
        a.push(
            Location::Line(1),
            &mut cells(0.9, Cell::Bool(true), Cell::Missing),
            &[],
            &map,
        );
        let mut b = Columns::default();
        b.push(
            Location::Line(2),
            &mut cells(0.8, Cell::Bool(true), Cell::Number(1.0)),
            &[],
            &map,
        );
        a.append(b);
        let mut c = Columns::default();
        c.push(
            Location::Line(3),
            &mut cells(0.7, Cell::Bool(true), Cell::Missing),
            &[],
            &map,
        );
        a.append(c);
        let Finished { set, drops, .. } = a.finish("e.jsonl", &map, true).unwrap();
        assert_eq!(set.confidence, vec![0.8]);
        assert_eq!(set.large_quality, Some(vec![1.0]));
        assert_eq!(drops.dropped, 2);
    }

    #[test]
    fn a_record_missing_two_fields_is_dropped_once() {
        // Rows 1-2 carry large_quality and small_cost, row 3 neither: one drop, not one per field.
        let map = FieldMap::default();
        let mut cols = Columns::default();
        for (line, present) in [(1, true), (2, true), (3, false)] {
            let mut c = cells(0.5, Cell::Bool(true), Cell::Missing);
            if present {
                c[2] = Cell::Number(1.0);
                c[3] = Cell::Number(0.1);
            }
            cols.push(Location::Line(line), &mut c, &[], &map);
        }
        let Finished { set, drops, .. } = cols.finish("e.jsonl", &map, true).unwrap();
        assert_eq!(set.confidence.len(), 2);
        assert_eq!((drops.read, drops.dropped), (3, 1));
    }

    #[test]
    fn skip_invalid_drops_and_counts() {
        let map = FieldMap::default();
        let mut cols = Columns::default();
        cols.push(
            Location::Line(1),
            &mut cells(0.9, Cell::Bool(true), Cell::Missing),
            &[],
            &map,
        );
        cols.push(
            Location::Line(2),
            &mut cells(0.8, Cell::Null, Cell::Missing),
            &[],
            &map,
        );
        cols.push(
            Location::Line(3),
            &mut cells(0.7, Cell::Number(0.5), Cell::Missing),
            &[],
            &map,
        );
        let Finished { set, drops, .. } = cols.finish("e.jsonl", &map, true).unwrap();
        assert_eq!(set.confidence, vec![0.9, 0.7]);
        assert_eq!(set.small_quality, vec![1.0, 0.5]);
        assert!(set.large_quality.is_none());
        assert_eq!(drops.read, 3);
        assert_eq!(drops.dropped, 1);
        assert_eq!(
            drops.reasons,
            vec![("field \"small_quality\": null".to_string(), 1)]
        );
    }

    #[test]
    fn blocks_append_in_order_and_task_names_sort() {
        let map = FieldMap::default();
        let mut a = Columns::default();
        let mut b = Columns::default();
        let with_task = |conf: f64, task: &'static str| {
            let mut c = cells(conf, Cell::Bool(true), Cell::Missing);
            c[TASK] = Cell::Text(task.into());
            c
        };
        a.push(Location::Line(1), &mut with_task(0.1, "math"), &[], &map);
        b.push(Location::Line(2), &mut with_task(0.2, "chat"), &[], &map);
        b.push(Location::Line(3), &mut with_task(0.3, "math"), &[], &map);
        a.append(b);
        let set = a.finish("e.jsonl", &map, false).unwrap().set;
        let tasks = set.task_type.unwrap();
        assert_eq!(tasks.names, vec!["chat", "math"]);
        assert_eq!(tasks.codes, vec![1, 0, 1]);
        assert_eq!(set.confidence, vec![0.1, 0.2, 0.3]);
    }
}
