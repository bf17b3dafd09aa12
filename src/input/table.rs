//! CSV and Parquet reader, through polars' eager readers.
//!
//! Owns choosing which columns to read, reading them with polars, and turning polars' typed
//! columns into [`Cell`]s for validation. CSV values that polars cannot type (a word in a number
//! column) are re-read as text so the error names the exact row. It must not validate values.

use std::collections::HashMap;
use std::fs::File;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use polars::io::mmap::MmapBytesReader;
use polars::prelude::*;

use super::columns::{Columns, READ, READ_FIELDS};
use super::error::{LoadError, Location};
use super::field::Field;
use super::value::Cell;
use super::value::valid_number;
use super::{Drops, EvalSet, Format, Labels, LoadOptions};

/// Where the table's bytes are.
pub enum TableInput<'a> {
    /// A file on disk (memory-mapped by polars).
    Path(&'a Path),
    /// Bytes already in memory (stdin).
    Bytes(&'a [u8]),
}

impl TableInput<'_> {
    /// A fresh reader over the bytes.
    pub fn reader(&self) -> std::io::Result<Box<dyn MmapBytesReader + '_>> {
        Ok(match self {
            TableInput::Path(p) => Box::new(File::open(p)?),
            TableInput::Bytes(b) => Box::new(Cursor::new(*b)),
        })
    }
}

/// Reads the wanted columns of a CSV or Parquet input and validates every row.
pub fn read(
    input: &TableInput<'_>,
    format: Format,
    options: &LoadOptions,
    label: &str,
) -> Result<(EvalSet, Drops), LoadError> {
    let fail = |e: PolarsError| LoadError::Reader {
        path: label.into(),
        message: polars_message(&e),
    };
    let io = |source| LoadError::Io {
        path: label.into(),
        source,
    };
    // Polars does not say where a CSV is malformed; find the first bad line ourselves.
    let csv_fail = |e: PolarsError| {
        let located = (format == Format::Csv)
            .then(|| input.reader().ok().and_then(|r| malformed_line(r)))
            .flatten();
        match located {
            Some(message) => LoadError::Reader {
                path: label.into(),
                message,
            },
            None => fail(e),
        }
    };
    let names = column_names(input, format).map_err(csv_fail)?;
    if names.is_empty() && format == Format::Csv {
        return Err(LoadError::Empty { path: label.into() });
    }
    let map = &options.fields;
    let mut wanted: Vec<Option<String>> = Vec::new();
    for field in READ_FIELDS {
        let column = map.column(field);
        let present = options.reads(field) && names.iter().any(|n| n == column);
        if !present && map.required(field) {
            return Err(LoadError::MissingColumn {
                path: label.into(),
                field: field.name().into(),
                column: column.into(),
                hint: format!(" (map another column with --field {}=COLUMN)", field.name()),
                available: names.join(", "),
            });
        }
        wanted.push(present.then(|| column.to_string()));
    }
    let projection: Vec<String> = wanted.iter().flatten().cloned().collect();
    let frame = match format {
        Format::Csv => {
            let typed = read_csv(input.reader().map_err(io)?, &projection, false);
            match typed {
                Ok(df) => df,
                // A value polars cannot type: read the columns as text to find the exact row.
                Err(_) => {
                    read_csv(input.reader().map_err(io)?, &projection, true).map_err(csv_fail)?
                }
            }
        }
        Format::Parquet => ParquetReader::new(input.reader().map_err(io)?)
            .with_columns(Some(projection.clone()))
            .finish()
            .map_err(fail)?,
        Format::Jsonl => unreachable!("JSON Lines has its own reader"),
    };
    if let Some(set) = clean(&frame, &wanted) {
        if set.confidence.is_empty() {
            return Err(LoadError::Empty { path: label.into() });
        }
        let drops = Drops {
            read: set.confidence.len() as u64,
            dropped: 0,
            reasons: Vec::new(),
            kept_at: None,
        };
        return Ok((set, drops));
    }
    let mut iters: Vec<CellIter<'_>> = Vec::with_capacity(READ_FIELDS.len());
    for (field, column) in READ_FIELDS.iter().zip(&wanted) {
        match column {
            None => iters.push(Box::new(std::iter::repeat(Cell::Missing))),
            Some(name) => {
                let series = frame.column(name).map_err(fail)?.as_materialized_series();
                iters.push(cells(series).ok_or_else(|| LoadError::Reader {
                    path: label.into(),
                    message: format!(
                        "column \"{name}\" (field {field}) has type {}; expected numbers, \
                         booleans or text",
                        series.dtype()
                    ),
                })?);
            }
        }
    }
    let mut columns = Columns::new(options.skip_invalid);
    for row in 0..frame.height() as u64 {
        let location = match format {
            Format::Csv => Location::Line(row + 2),
            _ => Location::Row(row + 1),
        };
        let record: [Cell<'_>; READ] =
            std::array::from_fn(|i| iters[i].next().unwrap_or(Cell::Missing));
        columns.push(location, record, map);
    }
    if frame.height() == 0 {
        return Err(LoadError::Empty { path: label.into() });
    }
    columns.finish(label, map, options.skip_invalid)
}

type CellIter<'a> = Box<dyn Iterator<Item = Cell<'a>> + 'a>;

/// The fast path: when every wanted column is typed, has no nulls and holds only valid values,
/// build the eval set column by column. `None` sends the caller to the per-row path, which
/// names the first bad row.
fn clean(frame: &DataFrame, wanted: &[Option<String>]) -> Option<EvalSet> {
    let mut numbers: Vec<Option<Vec<f64>>> = Vec::with_capacity(READ_FIELDS.len());
    let mut task_type = None;
    for (field, column) in READ_FIELDS.iter().zip(wanted) {
        let Some(name) = column else {
            numbers.push(None);
            continue;
        };
        let series = frame.column(name).ok()?.as_materialized_series();
        if series.null_count() > 0 {
            return None;
        }
        if *field == Field::TaskType {
            task_type = Some(tasks(series)?);
            numbers.push(None);
            continue;
        }
        let dtype = series.dtype();
        let quality = matches!(field, Field::SmallQuality | Field::LargeQuality);
        let values: Vec<f64> = if dtype.is_bool() && quality {
            series
                .bool()
                .ok()?
                .iter()
                .flatten()
                .map(f64::from)
                .collect()
        } else if dtype.is_primitive_numeric() {
            let cast = series.cast(&DataType::Float64).ok()?;
            cast.f64()
                .ok()?
                .into_no_null_iter()
                .map(|x| x + 0.0)
                .collect()
        } else {
            return None;
        };
        if !values.iter().all(|&x| valid_number(*field, x)) {
            return None;
        }
        numbers.push(Some(values));
    }
    let mut numbers = numbers.into_iter();
    let mut next = || numbers.next().flatten();
    Some(EvalSet {
        confidence: next()?,
        small_quality: next()?,
        large_quality: next(),
        small_cost: next(),
        large_cost: next(),
        input_tokens: next(),
        small_output_tokens: next(),
        large_output_tokens: next(),
        small_latency_ms: next(),
        large_latency_ms: next(),
        // Split labels are text, which sends a wanted split to the per-row path; here the
        // slot is empty.
        split: next().and(None),
        task_type,
    })
}

/// Task types of a text or integer column as codes into sorted names.
fn tasks(series: &Series) -> Option<Labels> {
    let text = if series.dtype() == &DataType::String {
        series.clone()
    } else if series.dtype().is_integer() {
        series.cast(&DataType::String).ok()?
    } else {
        return None;
    };
    let ca = text.str().ok()?;
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
    for s in ca.iter().flatten() {
        let next = index.len() as u32;
        codes.push(*index.entry(s).or_insert(next));
    }
    let mut names: Vec<&str> = index.keys().copied().collect();
    names.sort_unstable();
    let mut renumber = vec![0u32; names.len()];
    for (new, name) in names.iter().enumerate() {
        renumber[index[name] as usize] = new as u32;
    }
    for c in &mut codes {
        *c = renumber[*c as usize];
    }
    Some(Labels {
        codes,
        names: names.into_iter().map(str::to_string).collect(),
    })
}

/// The column names of a CSV header or Parquet schema.
pub fn column_names(input: &TableInput<'_>, format: Format) -> PolarsResult<Vec<String>> {
    let reader = input.reader()?;
    let names: Vec<String> = match format {
        Format::Csv => CsvReadOptions::default()
            .with_has_header(true)
            .with_n_rows(Some(1))
            .with_raise_if_empty(false)
            .into_reader_with_file_handle(reader)
            .finish()?
            .get_column_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect(),
        _ => ParquetReader::new(reader)
            .schema()?
            .iter_names()
            .map(|n| n.to_string())
            .collect(),
    };
    Ok(names)
}

/// Reads `projection` from a CSV (all as text with `as_text`); rows are numbered as the first
/// pass numbers them, so a second pass over the same reader lines up.
pub fn read_csv(
    reader: Box<dyn MmapBytesReader + '_>,
    projection: &[String],
    as_text: bool,
) -> PolarsResult<DataFrame> {
    let columns: Arc<[PlSmallStr]> = projection.iter().map(|c| c.as_str().into()).collect();
    let mut options = CsvReadOptions::default()
        .with_has_header(true)
        .with_columns(Some(columns));
    if as_text {
        let schema: Schema = projection
            .iter()
            .map(|c| polars::prelude::Field::new(c.as_str().into(), DataType::String))
            .collect();
        options = options.with_schema_overwrite(Some(Arc::new(schema)));
    }
    options.into_reader_with_file_handle(reader).finish()
}

/// Turns a polars column into cells, or `None` for a type no field accepts.
fn cells(series: &Series) -> Option<CellIter<'_>> {
    let dtype = series.dtype();
    if dtype.is_bool() {
        let ca = series.bool().ok()?;
        return Some(Box::new(
            ca.iter().map(|v| v.map_or(Cell::Null, Cell::Bool)),
        ));
    }
    if dtype == &DataType::String {
        let ca = series.str().ok()?;
        return Some(Box::new(
            ca.iter()
                .map(|v| v.map_or(Cell::Null, |s| Cell::Text(s.into()))),
        ));
    }
    if dtype.is_primitive_numeric() {
        let cast = series.cast(&DataType::Float64).ok()?;
        let values: Vec<Option<f64>> = cast.f64().ok()?.iter().collect();
        return Some(Box::new(
            values
                .into_iter()
                .map(|v| v.map_or(Cell::Null, Cell::Number)),
        ));
    }
    None
}

/// The first line of a CSV that is not well formed: a record with a different number of fields
/// than the header, or bytes that are not UTF-8. Message without the file name.
fn malformed_line(reader: Box<dyn MmapBytesReader + '_>) -> Option<String> {
    let mut csv = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(reader);
    let width = csv.byte_headers().ok()?.len();
    let mut record = ::csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => return None,
            Ok(true) if record.len() != width => {
                let line = record.position().map_or(0, |p| p.line());
                return Some(format!(
                    "{line}: expected {width} fields as in the header, found {}",
                    record.len()
                ));
            }
            Ok(true) => {}
            Err(e) => {
                let line = match e.kind() {
                    ::csv::ErrorKind::Utf8 { pos: Some(p), .. } => p.line(),
                    _ => e.position().map_or(0, |p| p.line()),
                };
                return Some(format!("{line}: not valid CSV text ({e})"));
            }
        }
    }
}

fn polars_message(e: &PolarsError) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().to_string()
}
