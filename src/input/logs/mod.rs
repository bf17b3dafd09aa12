//! Production logs for `calibrate monitor`: one record per request, read front to back (JSON
//! Lines in chunks whose blocks are parsed in parallel) and handed to the caller one at a time in
//! file order, so memory does not grow with the number of records.
//!
//! Owns the log fields, their columns (`--field`), their accepted values (timestamps as
//! RFC 3339 text or epoch numbers, booleans, numbers) and the errors naming file, line and
//! field. It must not aggregate or judge the records; the caller's closure does that.

mod cells;
mod parquet;
mod picked;
mod time;

use std::io::Read;

use serde::de::DeserializeSeed;
use serde_json::Value as Json;
use thiserror::Error;

use super::source::{self, Input};
use super::{Format, LoadError, Progress, Source};
use cells::{COST, Cells, QUALITY, as_text};

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
    pub labels: Vec<Option<String>>,
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
        Format::Csv => csv_records(reader, options, &label, progress, &mut each)?,
        _ => jsonl_records(reader, options, &label, progress, &mut each)?,
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

/// A cell as the record holds it.
enum Cell<'a> {
    Missing,
    Json(&'a Json),
    Text(&'a str),
}

/// Bytes of whole lines read per step; their lines are parsed in parallel blocks of [`BLOCK`]
/// bytes and handed on in file order, so the caller sees exactly the sequence a line-by-line
/// read gives and memory stays near one chunk.
const CHUNK: usize = 8 << 20;
/// Target size of one parallel parse job.
const BLOCK: usize = 256 << 10;

fn jsonl_records(
    mut reader: Box<dyn Read + Send>,
    options: &LogOptions,
    path: &str,
    progress: &dyn Progress,
    each: &mut dyn FnMut(LogRecord),
) -> Result<u64, LogError> {
    use rayon::prelude::*;
    let wanted = wanted(options);
    let (mut next_line, mut records) = (1u64, 0u64);
    let (mut buf, mut tail): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    loop {
        buf.clear();
        buf.append(&mut tail);
        let eof = fill_lines(&mut reader, &mut buf, path, progress)?;
        let cut = if eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(buf.len(), |i| i + 1)
        };
        tail = buf.split_off(cut);
        // Blocks end at line ends; each knows its first line's number.
        let mut blocks: Vec<(&[u8], u64)> = Vec::new();
        let mut rest: &[u8] = &buf;
        while !rest.is_empty() {
            let at = BLOCK.min(rest.len());
            let end = memchr::memchr(b'\n', &rest[at - 1..]).map_or(rest.len(), |i| at + i);
            let (block, after) = rest.split_at(end);
            blocks.push((block, next_line));
            next_line += memchr::memchr_iter(b'\n', block).count() as u64;
            rest = after;
        }
        let parsed: Vec<Result<Vec<LogRecord>, LogError>> = (blocks.par_iter())
            .map(|&(block, first)| parse_block(block, first, &wanted, options, path))
            .collect();
        for block in parsed {
            for record in block? {
                each(record);
                records += 1;
            }
        }
        if eof && tail.is_empty() {
            return Ok(records);
        }
    }
}

/// Reads into `buf` until it holds about [`CHUNK`] bytes ending in a line end, or the input
/// ends (`true`).
fn fill_lines(
    reader: &mut Box<dyn Read + Send>,
    buf: &mut Vec<u8>,
    path: &str,
    progress: &dyn Progress,
) -> Result<bool, LogError> {
    loop {
        let start = buf.len();
        let n = (&mut *reader)
            .take(CHUNK as u64)
            .read_to_end(buf)
            .map_err(|source| LoadError::Io {
                path: path.into(),
                source,
            })?;
        progress.advance(n as u64);
        if n == 0 {
            return Ok(true);
        }
        if memchr::memchr(b'\n', &buf[start..]).is_some() {
            return Ok(false);
        }
    }
}

/// The records of a block of whole lines whose first line is `first`, in order.
fn parse_block(
    block: &[u8],
    first: u64,
    wanted: &[String],
    options: &LogOptions,
    path: &str,
) -> Result<Vec<LogRecord>, LogError> {
    let mut out = Vec::new();
    for (k, raw) in block.split(|&b| b == b'\n').enumerate() {
        let line = first + k as u64;
        let bad = |why: String| LogError::Record {
            path: path.into(),
            line,
            expected: "a JSON object",
            why,
        };
        let text = std::str::from_utf8(raw).map_err(|e| bad(format!("not UTF-8 text: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let picked = (picked::Pick { wanted })
            .deserialize(&mut de)
            .map_err(|e| bad(e.to_string()))?;
        de.end().map_err(|e| bad(e.to_string()))?;
        let picked = &picked;
        let get = |c: &str| match wanted.iter().position(|w| w == c) {
            Some(k) => picked[k].as_ref().map_or(Cell::Missing, Cell::Json),
            None => Cell::Missing,
        };
        out.push(record(&get, options, path, line)?);
    }
    Ok(out)
}

fn csv_records(
    reader: Box<dyn Read + Send>,
    options: &LogOptions,
    path: &str,
    progress: &dyn Progress,
    each: &mut dyn FnMut(LogRecord),
) -> Result<u64, LogError> {
    let mut csv = csv::ReaderBuilder::new().from_reader(reader);
    // The line the parser names when it knows it.
    let bad = |line: u64, e: csv::Error| LogError::Record {
        path: path.into(),
        line: e.position().map_or(line, |p| p.line()),
        expected: "a CSV row",
        why: e.to_string(),
    };
    let header = csv.headers().map_err(|e| bad(1, e))?.clone();
    let (mut records, mut row, mut offset) = (0u64, csv::StringRecord::new(), 0u64);
    loop {
        let line = csv.position().line() + 1;
        if !csv.read_record(&mut row).map_err(|e| bad(line, e))? {
            return Ok(records);
        }
        let at = csv.position().byte();
        progress.advance(at - offset);
        offset = at;
        let line = row.position().map_or(line, |p| p.line());
        let row = &row;
        let get = |c: &str| match header.iter().position(|h| h == c) {
            Some(k) => match row.get(k) {
                Some("") | None => Cell::Missing,
                Some(text) => Cell::Text(text),
            },
            None => Cell::Missing,
        };
        each(record(&get, options, path, line)?);
        records += 1;
    }
}

/// One record from its cells.
fn record<'a>(
    get: &dyn Fn(&str) -> Cell<'a>,
    options: &LogOptions,
    path: &str,
    line: u64,
) -> Result<LogRecord, LogError> {
    let c = &options.columns;
    let cells = Cells { get, path, line };
    let signal = cells
        .number(&c.signal, "a finite number", f64::is_finite)?
        .ok_or_else(|| cells.fail(&c.signal, "a finite number", "nothing".into()))?;
    let unit = |x: f64| (0.0..=1.0).contains(&x);
    let cost_ok = |x: f64| x.is_finite() && x >= 0.0;
    Ok(LogRecord {
        line,
        timestamp: cells.timestamp(&c.timestamp)?,
        signal,
        escalated: cells.escalated(c, &options.small_model)?,
        labels: (options.labels.iter())
            .map(|column| cells.present(column).and_then(|cell| as_text(&cell)))
            .collect(),
        cost: cells.number(&c.cost, COST, cost_ok)?,
        small_cost: cells.number(&c.small_cost, COST, cost_ok)?,
        large_cost: cells.number(&c.large_cost, COST, cost_ok)?,
        latency_ms: cells.number(&c.latency_ms, COST, cost_ok)?,
        regenerated: cells.boolean(&c.regenerated)?,
        thumbs_down: cells.boolean(&c.thumbs_down)?,
        small_quality: cells.number(&c.small_quality, QUALITY, unit)?,
        large_quality: cells.number(&c.large_quality, QUALITY, unit)?,
        weight: match &c.label_weight {
            Some(w) => cells.number(w, "a finite number > 0", |x| x.is_finite() && x > 0.0)?,
            None => None,
        },
    })
}
