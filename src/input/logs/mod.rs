//! Production logs for `calibrate monitor`: one record per request, read front to back (JSON
//! Lines in chunks whose blocks are parsed in parallel) and handed to the caller one at a time in
//! file order, so memory does not grow with the number of records.
//!
//! Owns the log fields, their columns (`--field`), their accepted values (timestamps as
//! RFC 3339 text or epoch numbers, booleans, numbers) and the errors naming file, line and
//! field. It must not aggregate or judge the records; the caller's closure does that.

mod cells;
mod csv_rows;
mod fast;
mod jsonl;
mod parquet;
mod picked;
mod time;

use serde_json::Value as Json;
use thiserror::Error;

use super::source::{self, Input};
use super::{Format, LoadError, Progress, Source};
use cells::{COST, Cells, LabelSets, QUALITY, WEIGHT};

/// Epoch numbers above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
pub const EPOCH_MS_ABOVE: f64 = 1e11;

/// The column each log field is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogColumns {
    /// When the request was served (required).
    pub timestamp: String,
    /// The raw signal (required).
    pub signal: String,
    /// Whether the router escalated (boolean); read when present.
    pub escalated: String,
    /// Which model answered; used when `escalated` is absent.
    pub model: String,
    /// The request's total cost (currency units).
    pub cost: String,
    /// The small model's cost on the request.
    pub small_cost: String,
    /// The large model's cost on the request.
    pub large_cost: String,
    /// Latency of the answer, milliseconds.
    pub latency_ms: String,
    /// The user regenerated the answer (boolean).
    pub regenerated: String,
    /// The user gave a thumbs-down (boolean).
    pub thumbs_down: String,
    /// A quality label of the small model's answer, in [0, 1] (a labelled sample).
    pub small_quality: String,
    /// A quality label of the large model's answer, in [0, 1].
    pub large_quality: String,
    /// The inverse-probability weight of a labelled record (1 / its labelling probability).
    pub label_weight: Option<String>,
}

impl LogColumns {
    /// The defaults, reading the signal from `signal`.
    pub fn new(signal: &str) -> LogColumns {
        LogColumns {
            timestamp: "timestamp".into(),
            signal: signal.into(),
            escalated: "escalated".into(),
            model: "model".into(),
            cost: "cost".into(),
            small_cost: "small_cost".into(),
            large_cost: "large_cost".into(),
            latency_ms: "latency_ms".into(),
            regenerated: "regenerated".into(),
            thumbs_down: "thumbs_down".into(),
            small_quality: "small_quality".into(),
            large_quality: "large_quality".into(),
            label_weight: None,
        }
    }

    /// Sets a field's column from `--field NAME=COLUMN`; `false` for an unknown name.
    pub fn set(&mut self, name: &str, column: &str) -> bool {
        let slot = match name {
            "timestamp" => &mut self.timestamp,
            "signal" => &mut self.signal,
            "escalated" => &mut self.escalated,
            "model" => &mut self.model,
            "cost" => &mut self.cost,
            "small_cost" => &mut self.small_cost,
            "large_cost" => &mut self.large_cost,
            "latency_ms" => &mut self.latency_ms,
            "regenerated" => &mut self.regenerated,
            "thumbs_down" => &mut self.thumbs_down,
            "small_quality" => &mut self.small_quality,
            "large_quality" => &mut self.large_quality,
            _ => return false,
        };
        *slot = column.to_string();
        true
    }

    /// The field names `--field` accepts.
    pub const NAMES: &'static str = "timestamp, signal, escalated, model, cost, small_cost, \
        large_cost, latency_ms, regenerated, thumbs_down, small_quality, large_quality";
}

/// What to read.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The logs.
    pub source: Source,
    /// The format, or `None` to decide from the extension.
    pub format: Option<Format>,
    /// The fields' columns.
    pub columns: LogColumns,
    /// Label columns read as text (segments, overrides), in this order.
    pub labels: Vec<String>,
    /// The `model` value that means the small model answered.
    pub small_model: String,
}

/// One production request.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// 1-based line (CSV counts the header as line 1).
    pub line: u64,
    /// Seconds since 1970-01-01T00:00:00Z.
    pub timestamp: f64,
    /// The raw signal.
    pub signal: f64,
    /// Whether the large model answered.
    pub escalated: bool,
    /// The label columns' values as text (`None`: absent or null), in [`LogOptions::labels`]
    /// order.
    pub labels: Labels,
    /// Total cost (currency units).
    pub cost: Option<f64>,
    /// Small-model cost.
    pub small_cost: Option<f64>,
    /// Large-model cost.
    pub large_cost: Option<f64>,
    /// Latency, milliseconds.
    pub latency_ms: Option<f64>,
    /// Regenerated by the user.
    pub regenerated: Option<bool>,
    /// Thumbs-down.
    pub thumbs_down: Option<bool>,
    /// Small-model quality label, in [0, 1].
    pub small_quality: Option<f64>,
    /// Large-model quality label, in [0, 1].
    pub large_quality: Option<f64>,
    /// Inverse-probability weight of the label (> 0).
    pub weight: Option<f64>,
}

impl LogRecord {
    /// A request with only what routing reads: its signal, route and labels (no costs,
    /// feedback or quality labels).
    pub fn routed(line: u64, timestamp: f64, signal: f64, escalated: bool, labels: Labels) -> Self {
        LogRecord {
            line,
            timestamp,
            signal,
            escalated,
            labels,
            cost: None,
            small_cost: None,
            large_cost: None,
            latency_ms: None,
            regenerated: None,
            thumbs_down: None,
            small_quality: None,
            large_quality: None,
            weight: None,
        }
    }
}

/// A record's label values in [`LogOptions::labels`] order (`None`: absent or null), shared by
/// the records of a block that have the same values.
pub type Labels = std::sync::Arc<[Option<String>]>;

/// A bad log record or an unreadable log.
#[derive(Debug, Error)]
pub enum LogError {
    /// The input could not be opened or read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A field with a bad or missing value.
    #[error("{path}:{line}: field {column:?}: expected {expected}, found {found}")]
    Field {
        /// The input.
        path: String,
        /// The 1-based line.
        line: u64,
        /// The column.
        column: String,
        /// What it accepts.
        expected: &'static str,
        /// What was there.
        found: String,
    },
    /// A line that is not a record.
    #[error("{path}:{line}: expected {expected}: {why}")]
    Record {
        /// The input.
        path: String,
        /// The 1-based line.
        line: u64,
        /// What a record must be.
        expected: &'static str,
        /// The parser's message.
        why: String,
    },
    /// A format this reader does not stream.
    #[error("{path}: {why}")]
    Unsupported {
        /// The input.
        path: String,
        /// Why.
        why: String,
    },
}

/// What was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFacts {
    /// The format read.
    pub format: Format,
    /// Records read.
    pub records: u64,
    /// Bytes read, when known.
    pub bytes: Option<u64>,
}

/// Reads every record, handing each to `each` in file order.
pub fn read_logs(
    options: &LogOptions,
    progress: &dyn Progress,
    mut each: impl FnMut(LogRecord),
) -> Result<LogFacts, LogError> {
    let label = options.source.label();
    let (format, input, _) = source::open(&options.source, options.format)?;
    let (reader, size) = match input {
        Input::Stream { reader, size } => (reader, size),
        Input::Seekable { file, size } => {
            let size = Some(size);
            progress.start(size);
            let records = parquet::parquet_records(file, options, &label, progress, &mut each)?;
            return Ok(LogFacts {
                format,
                records,
                bytes: size,
            });
        }
        Input::Array { .. } => {
            return Err(LogError::Unsupported {
                path: label,
                why: "monitor streams JSON Lines, CSV and Parquet logs (a JSON array: convert \
                      it to JSON Lines first)"
                    .into(),
            });
        }
    };
    progress.start(size);
    let records = match format {
        Format::Csv => csv_rows::csv_records(reader, options, &label, progress, &mut each)?,
        _ => jsonl::jsonl_records(reader, options, &label, progress, &mut each)?,
    };
    Ok(LogFacts {
        format,
        records,
        bytes: size,
    })
}

/// Every column a record may be read from.
fn wanted(options: &LogOptions) -> Vec<String> {
    let c = &options.columns;
    let mut out: Vec<String> = [
        &c.timestamp,
        &c.signal,
        &c.escalated,
        &c.model,
        &c.cost,
        &c.small_cost,
        &c.large_cost,
        &c.latency_ms,
        &c.regenerated,
        &c.thumbs_down,
        &c.small_quality,
        &c.large_quality,
    ]
    .into_iter()
    .cloned()
    .collect();
    out.extend(c.label_weight.iter().cloned());
    out.extend(options.labels.iter().cloned());
    out
}

/// Where each field sits in [`wanted`]'s list: the fixed fields first, in this order, then the
/// label weight (when mapped), then the labels.
mod at {
    pub const TIMESTAMP: usize = 0;
    pub const SIGNAL: usize = 1;
    pub const ESCALATED: usize = 2;
    pub const MODEL: usize = 3;
    pub const COST: usize = 4;
    pub const SMALL_COST: usize = 5;
    pub const LARGE_COST: usize = 6;
    pub const LATENCY: usize = 7;
    pub const REGENERATED: usize = 8;
    pub const THUMBS_DOWN: usize = 9;
    pub const SMALL_QUALITY: usize = 10;
    pub const LARGE_QUALITY: usize = 11;
    /// The label weight, when mapped; the labels follow it (or take its place).
    pub const AFTER_FIXED: usize = 12;
}

/// For each entry of `names`, the first entry with the same name: a column read for two fields
/// is read once and seen by both.
fn first_of(names: &[String]) -> Vec<usize> {
    (0..names.len())
        .map(|k| names.iter().position(|n| *n == names[k]).unwrap_or(k))
        .collect()
}

/// A cell as the record holds it.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Missing,
    Json(&'a Json),
    /// A CSV field.
    Text(&'a str),
    /// JSON Lines values read by the fast scan.
    Null,
    Bool(bool),
    /// A number: its value as serde_json gives it, and its text.
    Number(f64, &'a str),
    /// A string without escapes.
    Str(&'a str),
}

/// One record from its cells; `get(k)` is the cell of column `wanted[k]`.
fn record<'a>(
    get: &dyn Fn(usize) -> Cell<'a>,
    sets: &mut LabelSets,
    wanted: &[String],
    options: &LogOptions,
    path: &str,
    line: u64,
) -> Result<LogRecord, LogError> {
    let cells = Cells {
        get,
        names: wanted,
        path,
        line,
    };
    let signal = cells
        .number(at::SIGNAL, "a finite number", f64::is_finite)?
        .ok_or_else(|| cells.fail(at::SIGNAL, "a finite number", "nothing".into()))?;
    let unit = |x: f64| (0.0..=1.0).contains(&x);
    let cost_ok = |x: f64| (0.0..1e30).contains(&x);
    let weighted = options.columns.label_weight.is_some();
    let labels = at::AFTER_FIXED + usize::from(weighted);
    Ok(LogRecord {
        line,
        timestamp: cells.timestamp(at::TIMESTAMP)?,
        signal,
        escalated: cells.escalated(&options.small_model)?,
        labels: cells.labels(sets, labels, options.labels.len()),
        cost: cells.number(at::COST, COST, cost_ok)?,
        small_cost: cells.number(at::SMALL_COST, COST, cost_ok)?,
        large_cost: cells.number(at::LARGE_COST, COST, cost_ok)?,
        latency_ms: cells.number(at::LATENCY, COST, cost_ok)?,
        regenerated: cells.boolean(at::REGENERATED)?,
        thumbs_down: cells.boolean(at::THUMBS_DOWN)?,
        small_quality: cells.number(at::SMALL_QUALITY, QUALITY, unit)?,
        large_quality: cells.number(at::LARGE_QUALITY, QUALITY, unit)?,
        weight: match weighted {
            true => cells.number(at::AFTER_FIXED, WEIGHT, |x| x > 0.0 && x < 1e15)?,
            false => None,
        },
    })
}
