//! Requested columns under construction: one typed value per kept record, and the bad ones.
//!
//! Owns accumulating a block's values, appending blocks in file order, dropping the records the
//! fixed fields drop, and the end-of-input rules (an optional column in every record or in none,
//! a required one present, no bad value). It must not parse bytes nor know the formats.

use std::collections::HashMap;

use super::{ExtraColumn, ExtraKind, ExtraRequest, Raw};
use super::{label, logprobs, missing, number, samples, text};
use crate::input::Labels;
use crate::input::error::{LoadError, Location, RecordProblem, SHOWN};
use crate::input::retain_rows;

/// Requested columns under construction, for one block of records or a whole file: one value
/// per record pushed, typed as it is pushed.
#[derive(Debug, Default)]
pub struct ExtraColumns {
    builders: Vec<Builder>,
}

/// One requested column: a value per record (a filler where the value is bad or absent) and
/// the bad records, judged only at the end, once the fixed fields have dropped theirs.
#[derive(Debug)]
struct Builder {
    /// Which of the values a reader pushes per record this column reads.
    slot: usize,
    /// A numeric probe notes bad values as NaN fillers only: it never reports them.
    quiet: bool,
    values: Values,
    bad: Vec<Bad>,
}

/// The typed values of one column; only the vector of its kind fills.
#[derive(Debug)]
struct Values {
    kind: ExtraKind,
    labels: Interned,
    numbers: Vec<f64>,
    logprobs: Vec<Vec<f64>>,
    samples: Vec<Vec<String>>,
    texts: Vec<String>,
}

/// Labels as codes in first-seen order (per block); [`NO_CODE`] fills a bad record.
#[derive(Debug, Default)]
struct Interned {
    codes: Vec<u32>,
    names: Vec<String>,
    index: HashMap<String, u32>,
}

const NO_CODE: u32 = u32::MAX;

/// A record whose value is bad: its row among the records pushed, where it is, and what was
/// found (`None`: the field is absent).
#[derive(Debug)]
struct Bad {
    row: usize,
    location: Location,
    found: Option<String>,
}

impl ExtraColumns {
    /// Empty columns for `requests`; request `k` reads value `slots[k]` of each record.
    pub fn new(requests: &[ExtraRequest], slots: &[usize]) -> ExtraColumns {
        let builders = requests.iter().zip(slots).map(|(r, &slot)| Builder {
            slot,
            quiet: r.probe && r.kind == ExtraKind::Number,
            values: Values::new(r.kind),
            bad: Vec::new(),
        });
        ExtraColumns {
            builders: builders.collect(),
        }
    }

    /// Types one kept record's values (`raws[slot]`, `None` where the field is absent).
    pub fn push(&mut self, location: Location, raws: &[Option<Raw<'_>>]) {
        for b in &mut self.builders {
            let row = b.values.len();
            let found = match raws.get(b.slot).and_then(Option::as_ref) {
                Some(raw) => match b.values.push(raw) {
                    Ok(()) => continue,
                    Err(found) => Some(found),
                },
                None => {
                    b.values.fill();
                    None
                }
            };
            if !b.quiet {
                b.bad.push(Bad {
                    row,
                    location,
                    found,
                });
            }
        }
    }

    /// Reserves room for `rows` records (a hint; columns grow past it).
    pub fn reserve(&mut self, rows: usize) {
        for b in &mut self.builders {
            b.values.reserve(rows);
        }
    }

    /// Appends a later block, keeping file order.
    pub fn append(&mut self, other: ExtraColumns) {
        for (mine, theirs) in self.builders.iter_mut().zip(other.builders) {
            let offset = mine.values.len();
            mine.bad.extend(theirs.bad.into_iter().map(|b| Bad {
                row: b.row + offset,
                ..b
            }));
            mine.values.append(theirs.values);
        }
    }

    /// Keeps the records whose `keep` entry is true.
    pub fn retain(&mut self, keep: &[bool]) {
        for b in &mut self.builders {
            b.values.retain(keep);
            b.bad.retain(|bad| keep[bad.row]);
        }
    }

    /// Applies the rules and returns each request's column (`None`: an optional column absent
    /// from every record, or a probe that is not a number everywhere). `available` lists the
    /// columns the input has, for a required column no record holds.
    pub fn finish(
        self,
        requests: &[ExtraRequest],
        available: &str,
        label: &str,
    ) -> Result<Vec<Option<ExtraColumn>>, LoadError> {
        let finish = |(b, r): (Builder, &ExtraRequest)| b.finish(r, available, label);
        self.builders
            .into_iter()
            .zip(requests)
            .map(finish)
            .collect()
    }
}

impl Builder {
    fn finish(
        self,
        request: &ExtraRequest,
        available: &str,
        label: &str,
    ) -> Result<Option<ExtraColumn>, LoadError> {
        let rows = self.values.len();
        if self.quiet {
            return Ok(self.values.into_numbers_if_all_valid());
        }
        let absent = self.bad.iter().filter(|b| b.found.is_none()).count();
        let present = rows - absent;
        if present == 0 && !request.required {
            return Ok(None);
        }
        if request.probe {
            return Ok(self.bad.is_empty().then(|| self.values.into_column()));
        }
        if present == 0 {
            return Err(missing(request, available, label));
        }
        if self.bad.is_empty() {
            return Ok(Some(self.values.into_column()));
        }
        let problem = |bad: &Bad| {
            let (expected, found) = match &bad.found {
                Some(found) => (request.kind.expected().to_string(), found.clone()),
                None => (
                    format!(
                        "{} in every record or in none (it is present in {present})",
                        request.kind.expected()
                    ),
                    "no such field".to_string(),
                ),
            };
            RecordProblem {
                location: bad.location,
                column: Some(request.column.clone()),
                expected,
                found,
            }
        };
        Err(LoadError::BadNamedColumn {
            path: label.into(),
            total: self.bad.len() as u64,
            first: self.bad.iter().take(SHOWN).map(problem).collect(),
        })
    }
}

impl Values {
    fn new(kind: ExtraKind) -> Values {
        Values {
            kind,
            labels: Interned::default(),
            numbers: Vec::new(),
            logprobs: Vec::new(),
            samples: Vec::new(),
            texts: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        match self.kind {
            ExtraKind::Label => self.labels.codes.len(),
            ExtraKind::Number => self.numbers.len(),
            ExtraKind::Logprobs => self.logprobs.len(),
            ExtraKind::Samples => self.samples.len(),
            ExtraKind::Text => self.texts.len(),
        }
    }

    /// Types `raw` and appends it, or appends a filler and says what was found.
    fn push(&mut self, raw: &Raw<'_>) -> Result<(), String> {
        let typed = match self.kind {
            ExtraKind::Label => label(raw).map(|s| self.labels.push(&s)),
            ExtraKind::Number => number(raw).map(|x| self.numbers.push(x)),
            ExtraKind::Logprobs => logprobs(raw).map(|x| self.logprobs.push(x)),
            ExtraKind::Samples => samples(raw).map(|x| self.samples.push(x)),
            ExtraKind::Text => text(raw).map(|x| self.texts.push(x)),
        };
        typed.inspect_err(|_| self.fill())
    }

    /// Appends a filler for a record without a valid value.
    fn fill(&mut self) {
        match self.kind {
            ExtraKind::Label => self.labels.codes.push(NO_CODE),
            ExtraKind::Number => self.numbers.push(f64::NAN),
            ExtraKind::Logprobs => self.logprobs.push(Vec::new()),
            ExtraKind::Samples => self.samples.push(Vec::new()),
            ExtraKind::Text => self.texts.push(String::new()),
        }
    }

    fn reserve(&mut self, rows: usize) {
        let more = rows.saturating_sub(self.len());
        // A hint: when the memory is not there, the column grows as it fills.
        let _ = match self.kind {
            ExtraKind::Label => self.labels.codes.try_reserve_exact(more),
            ExtraKind::Number => self.numbers.try_reserve_exact(more),
            ExtraKind::Logprobs => self.logprobs.try_reserve_exact(more),
            ExtraKind::Samples => self.samples.try_reserve_exact(more),
            ExtraKind::Text => self.texts.try_reserve_exact(more),
        };
    }

    fn append(&mut self, other: Values) {
        self.labels.append(other.labels);
        self.numbers.extend(other.numbers);
        self.logprobs.extend(other.logprobs);
        self.samples.extend(other.samples);
        self.texts.extend(other.texts);
    }

    fn retain(&mut self, keep: &[bool]) {
        retain_rows(&mut self.labels.codes, keep);
        retain_rows(&mut self.numbers, keep);
        retain_rows(&mut self.logprobs, keep);
        retain_rows(&mut self.samples, keep);
        retain_rows(&mut self.texts, keep);
    }

    fn into_numbers_if_all_valid(self) -> Option<ExtraColumn> {
        let valid = !self.numbers.is_empty() && !self.numbers.iter().any(|x| x.is_nan());
        (self.kind == ExtraKind::Number && valid).then_some(ExtraColumn::Numbers(self.numbers))
    }

    fn into_column(self) -> ExtraColumn {
        match self.kind {
            ExtraKind::Label => ExtraColumn::Labels(self.labels.into_sorted()),
            ExtraKind::Number => ExtraColumn::Numbers(self.numbers),
            ExtraKind::Logprobs => ExtraColumn::Logprobs(self.logprobs),
            ExtraKind::Samples => ExtraColumn::Samples(self.samples),
            ExtraKind::Text => ExtraColumn::Texts(self.texts),
        }
    }
}

impl Interned {
    fn push(&mut self, name: &str) {
        let code = self.code(name);
        self.codes.push(code);
    }

    fn code(&mut self, name: &str) -> u32 {
        if let Some(&code) = self.index.get(name) {
            return code;
        }
        let code = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), code);
        code
    }

    fn append(&mut self, other: Interned) {
        let remap: Vec<u32> = other.names.iter().map(|n| self.code(n)).collect();
        let recode = |c: u32| {
            if c == NO_CODE {
                NO_CODE
            } else {
                remap[c as usize]
            }
        };
        self.codes.extend(other.codes.into_iter().map(recode));
    }

    /// Codes into the sorted names of the labels still in use (a dropped record's label is
    /// not one of them).
    fn into_sorted(self) -> Labels {
        let mut used = vec![false; self.names.len()];
        for &c in &self.codes {
            used[c as usize] = true;
        }
        let mut compact = vec![NO_CODE; self.names.len()];
        let mut names = Vec::new();
        for (code, name) in self.names.into_iter().enumerate() {
            if used[code] {
                compact[code] = names.len() as u32;
                names.push(name);
            }
        }
        let codes = self.codes.iter().map(|c| compact[*c as usize]).collect();
        Labels::sorted(codes, names)
    }
}
