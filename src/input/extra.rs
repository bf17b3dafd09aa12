//! The second pass: columns a run names beyond the fixed fields (segment labels, override
//! fields, raw model outputs such as per-token log-probabilities).
//!
//! Owns reading those columns from any format, validating them by kind, and lining them up with
//! the records the first pass kept. It must not compute signals or metrics; it hands back typed
//! columns. It runs only when a run asks for such columns, so plain sweeps stay on the fast path.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use polars::io::mmap::MmapBytesReader;
use polars::prelude::*;
use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;

use super::error::{LoadError, Location, RecordProblem};
use super::table::{TableInput, column_names, read_csv};
use super::{Format, Labels, pick};

/// What a requested column must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraKind {
    /// A label: text, a number or a boolean (numbers and booleans become their JSON text).
    Label,
    /// A finite number.
    Number,
    /// A non-empty array of per-token log-probabilities (finite numbers ≤ 0).
    Logprobs,
    /// A non-empty array of sampled answers (text; numbers and booleans become their JSON text).
    Samples,
    /// Text (a response).
    Text,
}

impl ExtraKind {
    fn expected(self) -> &'static str {
        match self {
            ExtraKind::Label => "a label (text, a number or a boolean)",
            ExtraKind::Number => "a finite number",
            ExtraKind::Logprobs => {
                "a non-empty array of log-probabilities (finite numbers <= 0; in CSV, JSON array \
                 text)"
            }
            ExtraKind::Samples => {
                "a non-empty array of sampled answers (text; in CSV, JSON array text)"
            }
            ExtraKind::Text => "text",
        }
    }
}

/// One column a run asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRequest {
    /// The column name in the file.
    pub column: String,
    /// What it must hold.
    pub kind: ExtraKind,
    /// Whether the run fails without it; otherwise an absent column reads as `None`.
    pub required: bool,
    /// What asks for it, for messages (e.g. `--segment-by`).
    pub purpose: String,
    /// A discovered column tried as a numeric signal: `None` unless every kept record holds a
    /// valid value (never an error).
    pub probe: bool,
}

/// The column names of the input (JSON Lines: the first record's keys), for discovery.
pub fn column_names_of(input: &ExtraInput<'_>, format: Format) -> std::io::Result<Vec<String>> {
    match format {
        Format::Jsonl => {
            let mut reader: Box<dyn Read> = match input {
                ExtraInput::Path(p) => Box::new(std::fs::File::open(p)?),
                ExtraInput::Bytes(b) => Box::new(*b),
            };
            let mut first = Vec::new();
            let mut buf = std::io::BufReader::new(&mut reader);
            loop {
                first.clear();
                if std::io::BufRead::read_until(&mut buf, b'\n', &mut first)? == 0 {
                    return Ok(Vec::new());
                }
                if !first.iter().all(u8::is_ascii_whitespace) {
                    break;
                }
            }
            Ok(
                serde_json::from_slice::<serde_json::Map<String, Json>>(&first)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default(),
            )
        }
        _ => {
            let table = match input {
                ExtraInput::Path(p) => TableInput::Path(p),
                ExtraInput::Bytes(b) => TableInput::Bytes(b),
            };
            column_names(&table, format).map_err(std::io::Error::other)
        }
    }
}

/// A column read by the second pass, one entry per kept record.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtraColumn {
    /// Labels as codes into sorted names.
    Labels(Labels),
    /// Numbers.
    Numbers(Vec<f64>),
    /// Per-token log-probabilities.
    Logprobs(Vec<Vec<f64>>),
    /// Sampled answers.
    Samples(Vec<Vec<String>>),
    /// Texts.
    Texts(Vec<String>),
}

impl ExtraColumn {
    /// The records where `mask` equals `want`, in order.
    pub fn subset(&self, mask: &[bool], want: bool) -> ExtraColumn {
        match self {
            ExtraColumn::Labels(t) => ExtraColumn::Labels(t.subset(mask, want)),
            ExtraColumn::Numbers(v) => ExtraColumn::Numbers(pick(v, mask, want)),
            ExtraColumn::Logprobs(v) => ExtraColumn::Logprobs(pick(v, mask, want)),
            ExtraColumn::Samples(v) => ExtraColumn::Samples(pick(v, mask, want)),
            ExtraColumn::Texts(v) => ExtraColumn::Texts(pick(v, mask, want)),
        }
    }
}

/// Where the second pass reads from.
pub enum ExtraInput<'a> {
    /// A file on disk.
    Path(&'a std::path::Path),
    /// Bytes already in memory (stdin).
    Bytes(&'a [u8]),
}

/// A value as read: the typed cell, or what was found instead (in words).
type Parsed = Result<Cell, String>;

/// Each kept record's location and requested values (`None`: the field is absent), typed as
/// soon as each record is parsed so no record's raw JSON outlives its parse.
type Records = Vec<(Location, Vec<Option<Parsed>>)>;

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Label(String),
    Number(f64),
    Logprobs(Vec<f64>),
    Samples(Vec<String>),
    Text(String),
}

/// Reads the requested columns for the kept records (`kept_at`: their locations when some were
/// dropped; `rows`: how many were kept). Each result is `None` when an optional column is absent
/// from every record.
pub fn read(
    input: &ExtraInput<'_>,
    format: Format,
    requests: &[ExtraRequest],
    kept_at: Option<&[Location]>,
    rows: usize,
    label: &str,
) -> Result<Vec<Option<ExtraColumn>>, LoadError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let io = |source| LoadError::Io {
        path: label.into(),
        source,
    };
    // The first record's keys, for a message about a column no record has (the table formats
    // report a missing column before reading rows).
    let mut first_keys: Vec<String> = Vec::new();
    let mut records: Records = match format {
        Format::Jsonl => {
            let mut reader: Box<dyn Read> = match input {
                ExtraInput::Path(p) => Box::new(std::fs::File::open(p).map_err(io)?),
                ExtraInput::Bytes(b) => Box::new(*b),
            };
            jsonl_records(&mut reader, requests, kept_at, &mut first_keys).map_err(io)?
        }
        Format::Csv => csv_records(input, requests, kept_at, label)?,
        Format::Parquet => parquet_records(input, requests, kept_at, label)?,
    };
    if records.len() != rows {
        return Err(LoadError::Reader {
            path: label.into(),
            message: format!(
                "the second pass over the file found {} records where the first kept {rows}; \
                 was the file changed while calibrate read it?",
                records.len()
            ),
        });
    }
    requests
        .iter()
        .enumerate()
        .map(|(k, request)| column(&mut records, &first_keys, k, request, label))
        .collect()
}

fn column(
    records: &mut Records,
    first_keys: &[String],
    k: usize,
    request: &ExtraRequest,
    label: &str,
) -> Result<Option<ExtraColumn>, LoadError> {
    let present = records.iter().filter(|(_, r)| r[k].is_some()).count();
    if present == 0 && !request.required {
        return Ok(None);
    }
    if request.probe {
        let numbers: Option<Vec<f64>> = records
            .iter()
            .map(|(_, r)| match &r[k] {
                Some(Ok(Cell::Number(x))) => Some(*x),
                _ => None,
            })
            .collect();
        return Ok(numbers.map(ExtraColumn::Numbers));
    }
    if present == 0 {
        return Err(LoadError::MissingColumn {
            path: label.into(),
            field: request.purpose.clone(),
            column: request.column.clone(),
            hint: String::new(),
            available: first_keys.join(", "),
        });
    }
    let mut first: Vec<RecordProblem> = Vec::new();
    let mut total: u64 = 0;
    for (location, r) in records.iter() {
        let (expected, found) = match &r[k] {
            Some(Ok(_)) => continue,
            Some(Err(found)) => (request.kind.expected().to_string(), found.clone()),
            None => (
                format!(
                    "{} in every record or in none (it is present in {present})",
                    request.kind.expected()
                ),
                "no such field".to_string(),
            ),
        };
        total += 1;
        if first.len() < 5 {
            first.push(RecordProblem {
                location: *location,
                column: Some(request.column.clone()),
                expected,
                found,
            });
        }
    }
    if total > 0 {
        return Err(LoadError::BadNamedColumn {
            path: label.into(),
            total,
            first,
        });
    }
    let cells = records.iter_mut().map(|(_, r)| match r[k].take() {
        Some(Ok(cell)) => cell,
        _ => unreachable!("checked above"),
    });
    Ok(Some(match request.kind {
        ExtraKind::Label => {
            let labels: Vec<String> = cells
                .map(|c| match c {
                    Cell::Label(s) => s,
                    _ => unreachable!("validated as a label"),
                })
                .collect();
            ExtraColumn::Labels(intern(labels.iter().map(String::as_str)))
        }
        ExtraKind::Number => ExtraColumn::Numbers(
            cells
                .map(|c| match c {
                    Cell::Number(x) => x,
                    _ => unreachable!("validated as a number"),
                })
                .collect(),
        ),
        ExtraKind::Logprobs => ExtraColumn::Logprobs(
            cells
                .map(|c| match c {
                    Cell::Logprobs(v) => v,
                    _ => unreachable!("validated as log-probabilities"),
                })
                .collect(),
        ),
        ExtraKind::Samples => ExtraColumn::Samples(
            cells
                .map(|c| match c {
                    Cell::Samples(v) => v,
                    _ => unreachable!("validated as samples"),
                })
                .collect(),
        ),
        ExtraKind::Text => ExtraColumn::Texts(
            cells
                .map(|c| match c {
                    Cell::Text(s) => s,
                    _ => unreachable!("validated as text"),
                })
                .collect(),
        ),
    }))
}

/// Labels as codes into their sorted distinct names.
fn intern<'a>(labels: impl Iterator<Item = &'a str>) -> Labels {
    let mut index: HashMap<&str, u32> = HashMap::new();
    let first_seen: Vec<u32> = labels
        .map(|l| {
            let next = index.len() as u32;
            *index.entry(l).or_insert(next)
        })
        .collect();
    let mut names: Vec<&str> = index.keys().copied().collect();
    names.sort_unstable();
    let mut renumber = vec![0u32; names.len()];
    for (new, name) in names.iter().enumerate() {
        renumber[index[name] as usize] = new as u32;
    }
    Labels {
        codes: first_seen.iter().map(|&c| renumber[c as usize]).collect(),
        names: names.into_iter().map(str::to_string).collect(),
    }
}

/// Checks one value; `Err` holds what was found, in words.
fn validate(kind: ExtraKind, value: Option<&Json>) -> Result<Cell, String> {
    let Some(value) = value else {
        return Err("no such field".into());
    };
    let found = || describe(value);
    match (kind, value) {
        (_, Json::Null) => Err("null".into()),
        (ExtraKind::Label, v) => label_text(Some(v)).map(|c| Cell::Label(c.into_owned())),
        (ExtraKind::Number, Json::Number(n)) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Cell::Number)
            .ok_or_else(found),
        (ExtraKind::Number, Json::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Cell::Number)
            .ok_or_else(found),
        (ExtraKind::Logprobs, Json::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|x| x.as_f64().filter(|x| x.is_finite() && *x <= 0.0))
            .collect::<Option<Vec<f64>>>()
            .map(|v| Cell::Logprobs(v.into_iter().map(|x| x + 0.0).collect()))
            .ok_or_else(found),
        (ExtraKind::Samples, Json::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|x| match x {
                Json::String(s) => Some(s.clone()),
                Json::Number(_) | Json::Bool(_) => Some(x.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<String>>>()
            .map(Cell::Samples)
            .ok_or_else(found),
        (ExtraKind::Text, Json::String(s)) => Ok(Cell::Text(s.clone())),
        _ => Err(found()),
    }
}

/// A label's text: text as is, numbers and booleans as their JSON text.
fn label_text(value: Option<&Json>) -> Result<Cow<'_, str>, String> {
    match value {
        None => Err("no such field".into()),
        Some(Json::String(s)) => Ok(Cow::Borrowed(s.as_str())),
        Some(v @ (Json::Number(_) | Json::Bool(_))) => Ok(Cow::Owned(v.to_string())),
        Some(Json::Null) => Err("null".into()),
        Some(v) => Err(describe(v)),
    }
}

/// A value as error messages quote it (long values cut).
fn describe(value: &Json) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// Whether the record at `location` was kept; `kept_at` is sorted, so a cursor walks it.
struct KeptFilter<'a> {
    kept_at: Option<&'a [Location]>,
    next: usize,
}

impl KeptFilter<'_> {
    fn keeps(&mut self, location: Location) -> bool {
        let Some(kept) = self.kept_at else {
            return true;
        };
        while self.next < kept.len() && kept[self.next] < location {
            self.next += 1;
        }
        kept.get(self.next) == Some(&location)
    }
}

/// Bytes read per step of the second JSON Lines pass (whole lines are parsed in parallel).
const CHUNK: u64 = 32 << 20;

fn jsonl_records(
    reader: &mut dyn Read,
    requests: &[ExtraRequest],
    kept_at: Option<&[Location]>,
    first_keys: &mut Vec<String>,
) -> std::io::Result<Records> {
    let mut filter = KeptFilter { kept_at, next: 0 };
    let keys: Vec<&str> = requests.iter().map(|r| r.column.as_str()).collect();
    let kinds: Vec<ExtraKind> = requests.iter().map(|r| r.kind).collect();
    let mut out = Vec::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut first_line: u64 = 1;
    loop {
        let mut buf = std::mem::take(&mut carry);
        let n = (&mut *reader).take(CHUNK).read_to_end(&mut buf)?;
        let eof = n == 0;
        let cut = match memchr::memrchr(b'\n', &buf) {
            _ if eof => buf.len(),
            Some(i) => i + 1,
            None => {
                carry = buf; // a line longer than a chunk: read on
                continue;
            }
        };
        carry = buf.split_off(cut);
        let mut lines: Vec<(Location, &[u8])> = Vec::new();
        let mut count = 0;
        for (i, raw) in buf.split(|b| *b == b'\n').enumerate() {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            count = i as u64 + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let location = Location::Line(first_line + i as u64);
            if filter.keeps(location) {
                lines.push((location, line));
            }
        }
        // `split` yields an empty piece after a final newline; it is not a line.
        if buf.ends_with(b"\n") {
            count -= 1;
        }
        first_line += count;
        if first_keys.is_empty()
            && let Some(m) = lines
                .iter()
                .find_map(|(_, l)| serde_json::from_slice::<serde_json::Map<String, Json>>(l).ok())
        {
            *first_keys = m.keys().cloned().collect();
        }
        out.par_extend(lines.par_iter().map(|(location, line)| {
            // The first pass kept only lines that are JSON objects.
            let mut de = serde_json::Deserializer::from_slice(line);
            let values = Pick {
                keys: &keys,
                kinds: &kinds,
            }
            .deserialize(&mut de)
            .unwrap_or_else(|_| vec![None; keys.len()]);
            (*location, values)
        }));
        if eof {
            return Ok(out);
        }
    }
}

/// Deserializes only the wanted keys of a JSON object, skipping the other values unparsed.
struct Pick<'k> {
    keys: &'k [&'k str],
    kinds: &'k [ExtraKind],
}

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Vec<Option<Parsed>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Vec<Option<Parsed>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.keys.len()];
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            // A column can be asked for twice, as different kinds (`--signal score` and
            // `--always-large score=0.2`): every request gets it.
            if self.keys.contains(&key.as_ref()) {
                let value = map.next_value::<Json>()?;
                for (i, k) in self.keys.iter().enumerate() {
                    if *k == key {
                        out[i] = Some(validate(self.kinds[i], Some(&value)));
                    }
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

fn csv_records(
    input: &ExtraInput<'_>,
    requests: &[ExtraRequest],
    kept_at: Option<&[Location]>,
    label: &str,
) -> Result<Records, LoadError> {
    // Read through the same polars reader as the first pass, so rows are numbered alike
    // (blank lines and quoted line breaks included).
    let fail = |e: PolarsError| LoadError::Reader {
        path: label.into(),
        message: e.to_string().lines().next().unwrap_or_default().to_string(),
    };
    let table = match input {
        ExtraInput::Path(p) => TableInput::Path(p),
        ExtraInput::Bytes(b) => TableInput::Bytes(b),
    };
    let names = column_names(&table, Format::Csv).map_err(fail)?;
    let positions: Vec<Option<usize>> = requests
        .iter()
        .map(|r| names.iter().position(|h| *h == r.column))
        .collect();
    missing_columns(
        requests,
        &positions,
        &::csv::StringRecord::from(names.clone()),
        label,
    )?;
    let mut projection: Vec<String> = requests
        .iter()
        .zip(&positions)
        .filter(|(_, p)| p.is_some())
        .map(|(r, _)| r.column.clone())
        .collect();
    projection.dedup();
    let reader = table.reader().map_err(|source| LoadError::Io {
        path: label.into(),
        source,
    })?;
    let frame = read_csv(reader, &projection, true).map_err(fail)?;
    let columns: Vec<Option<&StringChunked>> = requests
        .iter()
        .zip(&positions)
        .map(|(r, p)| match p {
            Some(_) => frame
                .column(&r.column)
                .ok()
                .and_then(|c| c.as_materialized_series().str().ok()),
            None => None,
        })
        .collect();
    let mut filter = KeptFilter { kept_at, next: 0 };
    let mut out = Vec::new();
    for row in 0..frame.height() {
        // The same numbering as the first pass: the header is line 1.
        let location = Location::Line(row as u64 + 2);
        if !filter.keeps(location) {
            continue;
        }
        let values = requests
            .iter()
            .zip(&columns)
            .map(|(r, c)| c.map(|c| validate(r.kind, Some(&csv_value(r.kind, c.get(row))))))
            .collect();
        out.push((location, values));
    }
    Ok(out)
}

/// A CSV cell as a JSON value: arrays are JSON text, an empty cell is null (text excepted).
fn csv_value(kind: ExtraKind, cell: Option<&str>) -> Json {
    let cell = match cell {
        Some(c) => c,
        None if kind == ExtraKind::Text => "",
        None => return Json::Null,
    };
    match kind {
        ExtraKind::Text => Json::String(cell.into()),
        _ if cell.is_empty() => Json::Null,
        ExtraKind::Logprobs | ExtraKind::Samples => {
            serde_json::from_str(cell).unwrap_or_else(|_| Json::String(cell.into()))
        }
        ExtraKind::Label | ExtraKind::Number => Json::String(cell.into()),
    }
}

fn missing_columns(
    requests: &[ExtraRequest],
    positions: &[Option<usize>],
    names: &::csv::StringRecord,
    label: &str,
) -> Result<(), LoadError> {
    for (r, p) in requests.iter().zip(positions) {
        if r.required && p.is_none() {
            return Err(LoadError::MissingColumn {
                path: label.into(),
                field: r.purpose.clone(),
                column: r.column.clone(),
                hint: String::new(),
                available: names.iter().collect::<Vec<_>>().join(", "),
            });
        }
    }
    Ok(())
}

fn parquet_records(
    input: &ExtraInput<'_>,
    requests: &[ExtraRequest],
    kept_at: Option<&[Location]>,
    label: &str,
) -> Result<Records, LoadError> {
    let fail = |e: PolarsError| LoadError::Reader {
        path: label.into(),
        message: e.to_string().lines().next().unwrap_or_default().to_string(),
    };
    let open = || -> Result<Box<dyn MmapBytesReader + '_>, LoadError> {
        Ok(match input {
            ExtraInput::Path(p) => {
                Box::new(std::fs::File::open(p).map_err(|source| LoadError::Io {
                    path: label.into(),
                    source,
                })?)
            }
            ExtraInput::Bytes(b) => Box::new(std::io::Cursor::new(*b)),
        })
    };
    let schema = ParquetReader::new(open()?).schema().map_err(fail)?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let positions: Vec<Option<usize>> = requests
        .iter()
        .map(|r| names.iter().position(|n| *n == r.column))
        .collect();
    missing_columns(
        requests,
        &positions,
        &::csv::StringRecord::from(names.clone()),
        label,
    )?;
    let projection: Vec<String> = requests
        .iter()
        .zip(&positions)
        .filter(|(_, p)| p.is_some())
        .map(|(r, _)| r.column.clone())
        .collect();
    let frame = ParquetReader::new(open()?)
        .with_columns(Some(projection))
        .finish()
        .map_err(fail)?;
    let mut columns: Vec<Option<Vec<Json>>> = Vec::new();
    for (r, p) in requests.iter().zip(&positions) {
        if p.is_none() {
            columns.push(None);
            continue;
        }
        let series = frame
            .column(&r.column)
            .map_err(fail)?
            .as_materialized_series();
        let text_arrays = matches!(r.kind, ExtraKind::Logprobs | ExtraKind::Samples);
        columns.push(Some(series_values(series, text_arrays).ok_or_else(
            || LoadError::Reader {
                path: label.into(),
                message: format!(
                    "column \"{}\" has type {}; expected {}",
                    r.column,
                    series.dtype(),
                    r.kind.expected()
                ),
            },
        )?));
    }
    let mut filter = KeptFilter { kept_at, next: 0 };
    let mut out = Vec::new();
    for row in 0..frame.height() {
        let location = Location::Row(row as u64 + 1);
        if filter.keeps(location) {
            let values = columns
                .iter()
                .zip(requests)
                .map(|(c, r)| c.as_ref().map(|c| validate(r.kind, Some(&c[row]))))
                .collect();
            out.push((location, values));
        }
    }
    Ok(out)
}

/// A Parquet column as JSON values: scalars, and lists of scalars; with `text_arrays`, text
/// cells holding JSON arrays are parsed (as in CSV).
fn series_values(series: &Series, text_arrays: bool) -> Option<Vec<Json>> {
    let dtype = series.dtype();
    if let DataType::List(_) = dtype {
        let lists = series.list().ok()?;
        return lists
            .series_iter()
            .map(|item| match item {
                None => Some(Json::Null),
                Some(inner) => series_values(&inner, false).map(Json::Array),
            })
            .collect();
    }
    if dtype.is_bool() {
        return Some(
            series
                .bool()
                .ok()?
                .iter()
                .map(|v| v.map_or(Json::Null, Json::Bool))
                .collect(),
        );
    }
    if dtype == &DataType::String {
        return Some(
            series
                .str()
                .ok()?
                .iter()
                .map(|v| match v {
                    None => Json::Null,
                    Some(s) if text_arrays => {
                        serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.into()))
                    }
                    Some(s) => Json::String(s.into()),
                })
                .collect(),
        );
    }
    if dtype.is_integer() {
        let cast = series.cast(&DataType::Int64).ok()?;
        return Some(
            cast.i64()
                .ok()?
                .iter()
                .map(|v| v.map_or(Json::Null, Json::from))
                .collect(),
        );
    }
    if dtype.is_primitive_numeric() {
        let cast = series.cast(&DataType::Float64).ok()?;
        return Some(
            cast.f64()
                .ok()?
                .iter()
                .map(|v| {
                    v.and_then(serde_json::Number::from_f64)
                        .map_or(Json::Null, Json::Number)
                })
                .collect(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(column: &str, kind: ExtraKind) -> ExtraRequest {
        ExtraRequest {
            column: column.into(),
            kind,
            required: true,
            purpose: "a test".into(),
            probe: false,
        }
    }

    #[test]
    fn jsonl_labels_arrays_and_kept_rows() {
        let text = "{\"seg\":\"a\",\"lp\":[-0.5,0],\"s\":[\"x\",1]}\n\n\
                    {\"seg\":2,\"lp\":[-1],\"s\":[\"y\"]}\n\
                    {\"seg\":true,\"lp\":[-2],\"s\":[\"z\"]}\n";
        let requests = [
            request("seg", ExtraKind::Label),
            request("lp", ExtraKind::Logprobs),
            request("s", ExtraKind::Samples),
        ];
        let input = ExtraInput::Bytes(text.as_bytes());
        let got = read(&input, Format::Jsonl, &requests, None, 3, "e").unwrap();
        let Some(ExtraColumn::Labels(labels)) = &got[0] else {
            panic!("labels")
        };
        // Sorted names: "2" < "a" < "true".
        assert_eq!(labels.names, vec!["2", "a", "true"]);
        assert_eq!(labels.codes, vec![1, 0, 2]);
        assert_eq!(
            got[1],
            Some(ExtraColumn::Logprobs(vec![
                vec![-0.5, 0.0],
                vec![-1.0],
                vec![-2.0]
            ]))
        );
        // Line 3 was dropped by the first pass: only lines 1 and 4 remain.
        let kept = [Location::Line(1), Location::Line(4)];
        let got = read(&input, Format::Jsonl, &requests, Some(&kept), 2, "e").unwrap();
        assert_eq!(
            got[2],
            Some(ExtraColumn::Samples(vec![
                vec!["x".into(), "1".into()],
                vec!["z".into()]
            ]))
        );
    }

    #[test]
    fn one_column_read_as_two_kinds() {
        // A column asked for twice (a signal and an override) fills both requests, each its kind.
        let text = "{\"score\":0.2}\n{\"score\":0.7}\n";
        let input = ExtraInput::Bytes(text.as_bytes());
        let requests = [
            request("score", ExtraKind::Number),
            request("score", ExtraKind::Label),
        ];
        let got = read(&input, Format::Jsonl, &requests, None, 2, "e").unwrap();
        assert_eq!(got[0], Some(ExtraColumn::Numbers(vec![0.2, 0.7])));
        let Some(ExtraColumn::Labels(l)) = &got[1] else {
            panic!("labels")
        };
        assert_eq!(l.names, vec!["0.2", "0.7"]);
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let text = "{\"lp\":[-0.5]}\n{\"lp\":[0.5]}\n";
        let input = ExtraInput::Bytes(text.as_bytes());
        let err = read(
            &input,
            Format::Jsonl,
            &[request("lp", ExtraKind::Logprobs)],
            None,
            2,
            "e.jsonl",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("e.jsonl:2: field \"lp\": expected a non-empty array"),
            "{err}"
        );
        assert!(err.contains("found [0.5]"), "{err}");
    }

    #[test]
    fn optional_columns_all_or_none() {
        let text = "{\"x\":1}\n{\"x\":2}\n";
        let input = ExtraInput::Bytes(text.as_bytes());
        let mut r = request("response", ExtraKind::Text);
        r.required = false;
        let got = read(&input, Format::Jsonl, &[r.clone()], None, 2, "e").unwrap();
        assert_eq!(got, vec![None]);
        let text = "{\"response\":\"hi\"}\n{\"x\":2}\n";
        let input = ExtraInput::Bytes(text.as_bytes());
        let err = read(&input, Format::Jsonl, &[r], None, 2, "e")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("e:2: field \"response\": expected text in every record or in none"),
            "{err}"
        );
    }

    #[test]
    fn csv_cells_hold_json_arrays() {
        let text = "seg,lp\nlegal,\"[-0.25,-1]\"\nchat,[-3]\n";
        let input = ExtraInput::Bytes(text.as_bytes());
        let requests = [
            request("seg", ExtraKind::Label),
            request("lp", ExtraKind::Logprobs),
        ];
        let got = read(&input, Format::Csv, &requests, None, 2, "e.csv").unwrap();
        assert_eq!(
            got[1],
            Some(ExtraColumn::Logprobs(vec![vec![-0.25, -1.0], vec![-3.0]]))
        );
        let err = read(
            &input,
            Format::Csv,
            &[request("tier", ExtraKind::Label)],
            None,
            2,
            "e.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no column \"tier\""), "{err}");
    }
}
