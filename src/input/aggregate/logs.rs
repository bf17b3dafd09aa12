//! The log aggregate: production logs reduced on an engine (`calibrate sql --logs`) to one row
//! per (window, hour of day, label values, signal, router decision), read back for
//! `calibrate monitor`.
//!
//! Owns its column names, its schema version and the validation of a table an engine wrote
//! (each bad row named by its row and column). It must not route or tally: the monitor routes
//! each row as it routes a logged request.

use std::fs::File;

use polars::prelude::*;

use super::{INVALID, Read, limb_columns, limbs_fit, shown};
use crate::input::LoadError;
use crate::input::logs::Labels;

/// The schema version, the value of [`LOG_VERSION_COLUMN`] in every row.
pub const LOG_VERSION: i64 = 1;
/// The column that marks a table as a log aggregate and holds its schema version.
pub const LOG_VERSION_COLUMN: &str = "calibrate_log_aggregate";
/// The windows' length in seconds, the same in every row.
pub const WINDOW_SECONDS: &str = "window_seconds";
/// The window's start, seconds since the epoch (a multiple of the window's length).
pub const WINDOW_START: &str = "window_start";
/// The UTC hour of day of the row's requests.
pub const HOUR: &str = "hour";
/// Prefix of a label column: `label_task_type` holds the `task_type` value as text.
pub const LABEL_PREFIX: &str = "label_";
/// The raw signal (a double).
pub const SIGNAL: &str = "signal";
/// 1 when the router escalated the row's requests, 0 when the small model answered.
pub const ESCALATED: &str = "escalated";
/// Requests in the row.
pub const REQUESTS: &str = "requests";
/// The counts of a row, each over its requests: small-model labels, large-model labels (both
/// whatever the route), values of each cost and of latency, feedback values and how many
/// were true.
pub const LOG_COUNTS: [&str; 10] = [
    "small_labels",
    "large_labels",
    "cost_n",
    "small_cost_n",
    "large_cost_n",
    "latency_n",
    "regenerated_n",
    "regenerated",
    "thumbs_down_n",
    "thumbs_down",
];
/// The exact sums of a row, as three limb columns each, with the count in [`LOG_COUNTS`]
/// they are over: Σ w, Σ w², Σ w·q and Σ w²·q·(1 − q) over small-model labels (w: the
/// label's weight, 1 without one), Σ large-model quality, Σ cost (the `cost` field, else the
/// small model's cost plus, when escalated, the large model's), Σ small cost, Σ large cost,
/// Σ latency in ms.
pub const LOG_SUMS: [(&str, usize); 9] = [
    ("w", 0),
    ("w2", 0),
    ("wq", 0),
    ("w2qq", 0),
    ("large_quality", 1),
    ("cost", 2),
    ("small_cost", 3),
    ("large_cost", 4),
    ("latency_ms", 5),
];

/// One row of a log aggregate, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LogAggregateRow {
    /// The row's window start (seconds since the epoch).
    pub window_start: i64,
    /// The UTC hour of day, 0 to 23.
    pub hour: i64,
    /// The label values, in the order asked for (shared by rows with the same values).
    pub labels: Labels,
    /// The raw signal.
    pub signal: f64,
    /// Whether the router escalated.
    pub escalated: bool,
    /// Requests.
    pub requests: u64,
    /// The counts of [`LOG_COUNTS`].
    pub counts: [u64; 10],
    /// The limb sums of [`LOG_SUMS`].
    pub sums: [[i128; 3]; 9],
}

/// A log aggregate: one Parquet file, or a directory of them (an engine's parts), read in
/// slices of rows (memory holds one slice).
#[derive(Debug, Clone)]
pub struct LogAggregate {
    /// The windows' length, seconds (from the first row; every row is checked against it).
    pub window: i64,
    files: Vec<Part>,
    labels: Vec<String>,
}

/// One file of a log aggregate.
#[derive(Debug, Clone)]
struct Part {
    path: std::path::PathBuf,
    label: String,
    rows: usize,
}

/// Rows per slice.
const SLICE: usize = 1 << 16;

/// Whether a table with these column names is a log aggregate.
pub fn is_log_aggregate(names: &[String]) -> bool {
    names.iter().any(|n| n == LOG_VERSION_COLUMN)
}

impl Part {
    fn open(&self) -> Result<File, LoadError> {
        File::open(&self.path).map_err(|source| LoadError::Io {
            path: self.label.clone(),
            source,
        })
    }

    fn slice(&self, first: usize, count: usize) -> Result<DataFrame, LoadError> {
        let file = self.open()?;
        crate::input::table::guarded_frame(&self.label, || {
            ParquetReader::new(file)
                .with_slice(Some((first, count)))
                .finish()
        })
    }
}

impl LogAggregate {
    /// Hands every row, checked, to `each`, file by file in name order, rows in file order;
    /// the rows read.
    pub fn rows(&self, each: &mut dyn FnMut(&LogAggregateRow)) -> Result<usize, LoadError> {
        let mut total = 0u64;
        for part in &self.files {
            for first in (0..part.rows).step_by(SLICE) {
                let frame = part.slice(first, SLICE.min(part.rows - first))?;
                let read = Read {
                    frame: &frame,
                    label: &part.label,
                    first,
                };
                check_versions(&read, self.window)?;
                let columns = LogColumns::read(&read, &self.labels)?;
                let mut seen = Vec::new();
                for r in 0..frame.height() {
                    let row = columns.row(&read, r, (self.window, &mut seen))?;
                    // At most 2^53 requests in all: every count and limb sum stays exact.
                    total = total.saturating_add(row.requests);
                    if total > 1 << 53 {
                        let why = "more than 2^53 requests in all by this row".to_string();
                        return Err(read.bad(Some(r), REQUESTS, why));
                    }
                    each(&row);
                }
            }
        }
        Ok(self.files.iter().map(|p| p.rows).sum())
    }
}

/// The schema version and the window length of every row of a slice.
fn check_versions(read: &Read<'_>, window: i64) -> Result<(), LoadError> {
    let version = read.ints(LOG_VERSION_COLUMN)?;
    let windows = read.ints(WINDOW_SECONDS)?;
    for r in 0..read.frame.height() {
        if version[r] != Some(LOG_VERSION.into()) {
            let why = format!(
                "expected {LOG_VERSION}, found {} (this calibrate reads log aggregates of \
                 schema version {LOG_VERSION})",
                shown(version[r])
            );
            return Err(read.bad(Some(r), LOG_VERSION_COLUMN, why));
        }
        if windows[r] != Some(window.into()) {
            let why = format!(
                "expected the same positive number of seconds in every row, found {} after {}",
                shown(windows[r]),
                window
            );
            return Err(read.bad(Some(r), WINDOW_SECONDS, why));
        }
    }
    Ok(())
}

/// Opens the parts of a log aggregate, with the label columns `labels` (each must be there):
/// the window from the first row.
fn open_log_aggregate(
    files: Vec<std::path::PathBuf>,
    label: &str,
    labels: &[String],
) -> Result<LogAggregate, LoadError> {
    let mut parts = Vec::new();
    for path in files {
        let mut part = Part {
            label: path.display().to_string(),
            path,
            rows: 0,
        };
        part.rows = crate::input::table::parquet_rows(part.open()?, &part.label)?;
        if part.rows > 0 {
            parts.push(part);
        }
    }
    let Some(first) = parts.first() else {
        return Err(LoadError::Reader {
            path: label.into(),
            message: "a log aggregate with no rows (it holds no requests)".into(),
        });
    };
    let frame = first.slice(0, 1)?;
    let read = Read {
        frame: &frame,
        label: &first.label,
        first: 0,
    };
    let window = read.ints(WINDOW_SECONDS)?[0];
    let Some(window) = window.filter(|w| (1..=i128::from(i32::MAX)).contains(w)) else {
        let why = format!(
            "expected a positive number of seconds, found {}",
            shown(window)
        );
        return Err(read.bad(Some(0), WINDOW_SECONDS, why));
    };
    Ok(LogAggregate {
        window: window as i64,
        files: parts,
        labels: labels.to_vec(),
    })
}

/// The columns, each whole.
struct LogColumns {
    start: Vec<Option<i128>>,
    hour: Vec<Option<i128>>,
    labels: Vec<Vec<Option<String>>>,
    signal: Vec<Option<f64>>,
    escalated: Vec<Option<i128>>,
    requests: Vec<Option<i128>>,
    invalid: Vec<Option<i128>>,
    counts: Vec<Vec<Option<i128>>>,
    sums: Vec<[Vec<Option<i128>>; 3]>,
}

impl LogColumns {
    /// Row `r`'s label values, the same allocation as an earlier row's with equal values
    /// (segments and overrides take few values).
    fn labels_of(&self, r: usize, seen: &mut Vec<Labels>) -> Labels {
        let same = |set: &Labels| (0..set.len()).all(|k| set[k] == self.labels[k][r]);
        if let Some(set) = seen.iter().rev().find(|set| same(set)) {
            return set.clone();
        }
        let set: Labels = self.labels.iter().map(|v| v[r].clone()).collect();
        if seen.len() < 32 {
            seen.push(set.clone());
        }
        set
    }

    fn read(read: &Read<'_>, labels: &[String]) -> Result<LogColumns, LoadError> {
        let labels = (labels.iter())
            .map(|l| {
                let name = format!("{LABEL_PREFIX}{l}");
                let c = read.frame.column(&name).map_err(|_| {
                    let why = format!(
                        "missing: the policy reads the log column {l:?}; build the aggregate \
                         with `calibrate sql --logs --against` this policy"
                    );
                    read.bad(None, &name, why)
                })?;
                let text = c
                    .cast(&DataType::String)
                    .map_err(|e| read.bad(None, &name, format!("expected text, found {e}")))?;
                let values = text.str().expect("cast to text");
                Ok(values.iter().map(|v| v.map(str::to_string)).collect())
            })
            .collect::<Result<_, LoadError>>()?;
        let signal = read.cast(SIGNAL, &DataType::Float64)?;
        Ok(LogColumns {
            start: read.ints(WINDOW_START)?,
            hour: read.ints(HOUR)?,
            labels,
            signal: signal.f64().expect("cast to f64").iter().collect(),
            escalated: read.ints(ESCALATED)?,
            requests: read.ints(REQUESTS)?,
            invalid: read.ints(INVALID)?,
            counts: (LOG_COUNTS.iter())
                .map(|c| read.ints(c))
                .collect::<Result<_, _>>()?,
            sums: (LOG_SUMS.iter())
                .map(|(s, _)| {
                    let [a, b, c] = limb_columns(s).map(|c| read.ints(&c));
                    Ok([a?, b?, c?])
                })
                .collect::<Result<_, LoadError>>()?,
        })
    }

    /// Row `r`, checked; `seen`: label sets of earlier rows, shared when equal.
    fn row(
        &self,
        read: &Read<'_>,
        r: usize,
        (window, seen): (i64, &mut Vec<Labels>),
    ) -> Result<LogAggregateRow, LoadError> {
        let count = |name: &str, v: Option<i128>| read.count(r, name, v);
        let requests = count(REQUESTS, self.requests[r])?;
        if requests == 0 || requests > 1 << 53 {
            let why = format!("expected 1 to 2^53 requests, found {requests}");
            return Err(read.bad(Some(r), REQUESTS, why));
        }
        let invalid = count(INVALID, self.invalid[r])?;
        if invalid > 0 {
            let why = format!(
                "{invalid} requests have a missing or out-of-range field (no timestamp, signal \
                 or route, a cost or latency outside [0, 1e30), a label outside [0, 1], a \
                 weight outside (0, 1e15), feedback other than 0/1); `calibrate monitor` on \
                 the logs refuses them: fix the source table"
            );
            return Err(read.bad(Some(r), INVALID, why));
        }
        let start = self.start[r].and_then(|s| i64::try_from(s).ok());
        let Some(start) = start.filter(|s| s.rem_euclid(window) == 0 && s.abs() < 10i64.pow(15))
        else {
            let why = format!(
                "expected a multiple of window_seconds ({window}) within ±1e15 seconds, found {}",
                shown(self.start[r])
            );
            return Err(read.bad(Some(r), WINDOW_START, why));
        };
        let Some(hour) = self.hour[r].filter(|h| (0..24).contains(h)) else {
            let why = format!("expected an hour 0 to 23, found {}", shown(self.hour[r]));
            return Err(read.bad(Some(r), HOUR, why));
        };
        let Some(signal) = self.signal[r].filter(|s| s.is_finite()) else {
            let found = self.signal[r].map_or("null".into(), |c| c.to_string());
            let why = format!("expected a finite number, found {found}");
            return Err(read.bad(Some(r), SIGNAL, why));
        };
        let escalated = match self.escalated[r] {
            Some(0) => false,
            Some(1) => true,
            v => {
                let why = format!("expected 0 or 1, found {}", shown(v));
                return Err(read.bad(Some(r), ESCALATED, why));
            }
        };
        let (counts, sums) = self.sums(read, r, requests)?;
        Ok(LogAggregateRow {
            window_start: start,
            hour: hour as i64,
            labels: self.labels_of(r, seen),
            signal,
            escalated,
            requests,
            counts,
            sums,
        })
    }

    /// Row `r`'s counts and limb sums, checked against its `requests`.
    #[allow(clippy::type_complexity)]
    fn sums(
        &self,
        read: &Read<'_>,
        r: usize,
        requests: u64,
    ) -> Result<([u64; 10], [[i128; 3]; 9]), LoadError> {
        let count = |name: &str, v: Option<i128>| read.count(r, name, v);
        let mut counts = [0; 10];
        for (k, name) in LOG_COUNTS.iter().enumerate() {
            counts[k] = count(name, self.counts[k][r])?;
            if counts[k] > requests {
                let why = format!("{} in a row of {requests} requests", counts[k]);
                return Err(read.bad(Some(r), name, why));
            }
        }
        for (k, of) in [(7, 6), (9, 8)] {
            if counts[k] > counts[of] {
                let why = format!("{} true of {} values", counts[k], counts[of]);
                return Err(read.bad(Some(r), LOG_COUNTS[k], why));
            }
        }
        let mut sums = [[0; 3]; 9];
        for (k, (name, over)) in LOG_SUMS.iter().enumerate() {
            let n = counts[*over];
            let [a, b, c] = self.sums[k].each_ref().map(|v| v[r]);
            sums[k] = match [a, b, c] {
                [Some(a), Some(b), Some(c)] if n > 0 && limbs_fit([a, b, c], n) => [a, b, c],
                // An engine's SUM over no values is null.
                [None | Some(0), None | Some(0), None | Some(0)] if n == 0 => [0; 3],
                found => {
                    let found = found.map(shown).join(", ");
                    let why = format!(
                        "expected three whole-number limb sums of {n} values in [0, 2^103), \
                         found {found}"
                    );
                    return Err(read.bad(Some(r), &format!("{name}_p0"), why));
                }
            };
        }
        // Qualities lie in [0, 1]: Σ w·q ≤ Σ w, Σ w²·q·(1 − q) ≤ Σ w², Σ q ≤ labels.
        let count = |n: u64| {
            [
                i128::from(n >> 40),
                i128::from(n & ((1 << 40) - 1)) << 20,
                0,
            ]
        };
        for (k, bound) in [(2, sums[0]), (3, sums[1]), (4, count(counts[1]))] {
            if !not_above(sums[k], bound) {
                let why = "a quality sum above what qualities in [0, 1] allow".to_string();
                return Err(read.bad(Some(r), &format!("{}_p0", LOG_SUMS[k].0), why));
            }
        }
        Ok((counts, sums))
    }
}

/// Whether the limb sum `a` is at most `b` (limbs in units of 2^40, 2^-20 and 2^-80).
fn not_above(a: [i128; 3], b: [i128; 3]) -> bool {
    let carried = |[p0, p1, p2]: [i128; 3]| {
        let (p1, p2) = (p1 + (p2 >> 60), p2 & ((1 << 60) - 1));
        [p0 + (p1 >> 60), p1 & ((1 << 60) - 1), p2]
    };
    carried(a) <= carried(b)
}

/// The log aggregate at `source`, when it is one (a Parquet file carrying
/// [`LOG_VERSION_COLUMN`], or a directory of them such as Spark writes: its `.parquet` files,
/// by name), with the label columns `labels`; `None` for logs.
pub fn log_aggregate_input(
    source: &crate::input::Source,
    format: Option<crate::input::Format>,
    labels: &[String],
) -> Result<Option<LogAggregate>, LoadError> {
    let crate::input::Source::File(path) = source else {
        return Ok(None);
    };
    let label = source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let files = if path.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let file = entry.map_err(io)?.path();
            let name = file
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into());
            // Engines' markers (_SUCCESS, .crc checksums) are not parts.
            if name.ends_with(".parquet") && !name.starts_with(['.', '_']) {
                files.push(file);
            }
        }
        files.sort();
        files
    } else {
        let parquet = format.or_else(|| crate::input::Format::from_path(path));
        if parquet != Some(crate::input::Format::Parquet) {
            return Ok(None);
        }
        vec![path.clone()]
    };
    for file in &files {
        let shown = file.display().to_string();
        let names = File::open(file)
            .map_err(|source| LoadError::Io {
                path: shown.clone(),
                source,
            })
            .and_then(|f| crate::input::table::parquet_names(f, &shown));
        match names {
            Ok(names) if is_log_aggregate(&names) => {}
            Ok(names) if super::is_eval_aggregate(&names) => return Err(super::not_logs(shown)),
            // A single file that is not one is logs: the log reader reads it or says why.
            _ if !path.is_dir() => return Ok(None),
            _ => {
                return Err(LoadError::Reader {
                    path: shown,
                    message: format!(
                        "not a log aggregate (no column {LOG_VERSION_COLUMN}); a directory is \
                         read as the parts of one"
                    ),
                });
            }
        }
    }
    match (files.is_empty(), path.is_dir()) {
        (true, true) => Err(LoadError::NoLogParts { path: label }),
        (true, false) => Ok(None),
        _ => open_log_aggregate(files, &label, labels).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::not_above;

    #[test]
    fn limb_sums_compare_as_numbers() {
        // By hand: 2^60 units of 2^-80 carry into one unit of 2^-20, so [0, 1, 0] and
        // [0, 0, 2^60] are equal; [0, 0, 2^60 + 1] is one unit more.
        let one_up = 1i128 << 60;
        assert!(not_above([0, 1, 0], [0, 0, one_up]));
        assert!(not_above([0, 0, one_up], [0, 1, 0]));
        assert!(!not_above([0, 0, one_up + 1], [0, 1, 0]));
        // 1.0 is [0, 2^20, 0]; a quality sum of 1.5 over one label is above it.
        assert!(not_above([0, 1 << 20, 0], [0, 1 << 20, 0]));
        assert!(!not_above([0, (1 << 20) + (1 << 19), 0], [0, 1 << 20, 0]));
        // A higher unit of 2^40 outweighs any lower limbs below 2^60.
        assert!(not_above([0, (1 << 60) - 1, (1 << 60) - 1], [1, 0, 0]));
    }
}
