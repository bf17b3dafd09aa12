//! CSV and Parquet reader, through polars' eager readers.
//!
//! Owns choosing which columns to read (the fixed fields and the requested extras, each once),
//! reading them with polars in one pass, and walking the rows into [`Columns`]. CSV values that
//! polars cannot type (a word in a number column) are re-read as text so the error names the
//! exact row. It must not validate values.

mod cells;

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::sync::Arc;

use polars::prelude::*;

use super::columns::{Columns, READ, READ_FIELDS};
use super::error::{LoadError, Location};
use super::extra::{ExtraColumns, ExtraRequest, missing_from_header, with_discovered};
use super::source::{hash_all, read_all};
use super::value::Cell;
use super::{Drops, EvalSet, Format, LoadOptions, Loaded, Progress};
use cells::{CellIter, TableExtras, cells, clean};

/// Reads a CSV eval set: the bytes are read once (hashed as they come), then parsed in memory,
/// so a pipe or stdin works like a file.
pub fn load_csv(
    reader: &mut dyn Read,
    size: Option<u64>,
    options: &LoadOptions,
    label: &str,
    progress: &dyn Progress,
) -> Result<Loaded, LoadError> {
    let (bytes, sha256) = read_all(reader, size, progress).map_err(|e| io(label, e))?;
    let size = bytes.len() as u64;
    let (set, drops, extras, columns) = read(Table::Csv(bytes), options, label)?;
    Ok(Loaded {
        columns,
        set,
        drops,
        sha256,
        bytes: size,
        format: Format::Csv,
        extras,
        notes: Vec::new(),
    })
}

/// Reads a Parquet eval set from a seekable file: hashed front to back, then polars reads the
/// footer and only the columns the run needs.
pub fn load_parquet(
    mut file: File,
    options: &LoadOptions,
    label: &str,
    progress: &dyn Progress,
) -> Result<Loaded, LoadError> {
    let (sha256, bytes) = hash_all(&mut file, progress).map_err(|e| io(label, e))?;
    file.rewind().map_err(|e| io(label, e))?;
    let (set, drops, extras, columns) =
        read(Table::Parquet(ParquetReader::new(file)), options, label)?;
    Ok(Loaded {
        columns,
        set,
        drops,
        sha256,
        bytes,
        format: Format::Parquet,
        extras,
        notes: Vec::new(),
    })
}

fn io(label: &str, source: std::io::Error) -> LoadError {
    LoadError::Io {
        path: label.into(),
        source,
    }
}

/// A table ready for polars.
enum Table {
    /// CSV text, in memory until polars has parsed it.
    Csv(Vec<u8>),
    /// A Parquet file.
    Parquet(ParquetReader<File>),
}

type Extras = Vec<(ExtraRequest, Option<super::ExtraColumn>)>;

/// Reads the wanted columns of a table, validates every row and reads the requested extras.
fn read(
    mut table: Table,
    options: &LoadOptions,
    label: &str,
) -> Result<(EvalSet, Drops, Extras, Vec<String>), LoadError> {
    let names = table.names(label)?;
    let format = table.format();
    if names.is_empty() && format == Format::Csv {
        return Err(LoadError::Empty { path: label.into() });
    }
    let wanted = wanted_columns(&names, options, label)?;
    let except = options.discover_except.as_deref();
    let requests = with_discovered(&options.extras, &names, except);
    let mut projection: Vec<String> = wanted.iter().flatten().cloned().collect();
    // Columns read only as extras are read as text in CSV: each kind types its cells itself.
    let mut text = Vec::new();
    for r in requests.iter().filter(|r| names.contains(&r.column)) {
        if !projection.contains(&r.column) {
            projection.push(r.column.clone());
            text.push(r.column.clone());
        }
    }
    let frame = table.frame(&projection, &text, label)?;
    let mut extras = TableExtras::new(&frame, &requests, format);
    let (set, drops, columns) = match clean(&frame, &wanted) {
        Some(set) => all_rows(set, &mut extras, format, label)?,
        None => per_row(&frame, &wanted, format, options, label, &mut extras)?,
    };
    // Errors in the extra columns come after those of the fixed fields, in this order.
    missing_from_header(&requests, &names, label)?;
    if let Some(e) = extras.take_error(label) {
        return Err(e);
    }
    let columns = columns.finish(&requests, &names.join(", "), label)?;
    Ok((
        set,
        drops,
        requests.into_iter().zip(columns).collect(),
        names,
    ))
}

/// The column each fixed field is read from (`None`: not read), or the error for a required
/// field the table lacks.
fn wanted_columns(
    names: &[String],
    options: &LoadOptions,
    label: &str,
) -> Result<Vec<Option<String>>, LoadError> {
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
    Ok(wanted)
}

/// The fast path's rows, all kept: their extra columns.
fn all_rows(
    set: EvalSet,
    extras: &mut TableExtras<'_>,
    format: Format,
    label: &str,
) -> Result<(EvalSet, Drops, ExtraColumns), LoadError> {
    let rows = set.confidence.len();
    if rows == 0 {
        return Err(LoadError::Empty { path: label.into() });
    }
    let drops = Drops {
        read: rows as u64,
        dropped: 0,
        reasons: Vec::new(),
    };
    let mut columns = extras.columns();
    columns.reserve(rows);
    for row in 0..rows as u64 {
        columns.push(location(format, row), extras.next_row());
    }
    Ok((set, drops, columns))
}

/// The per-row path: every row validated, the first bad ones named.
fn per_row(
    frame: &DataFrame,
    wanted: &[Option<String>],
    format: Format,
    options: &LoadOptions,
    label: &str,
    extras: &mut TableExtras<'_>,
) -> Result<(EvalSet, Drops, ExtraColumns), LoadError> {
    let mut iters: Vec<CellIter<'_>> = Vec::with_capacity(READ_FIELDS.len());
    for (field, column) in READ_FIELDS.iter().zip(wanted) {
        match column {
            None => iters.push(Box::new(std::iter::repeat(Cell::Missing))),
            Some(name) => {
                let series = frame.column(name).map_err(|e| fail(label, &e))?;
                let series = series.as_materialized_series();
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
    let map = &options.fields;
    let mut columns = Columns::new(extras.columns());
    for row in 0..frame.height() as u64 {
        let record: [Cell<'_>; READ] =
            std::array::from_fn(|i| iters[i].next().unwrap_or(Cell::Missing));
        columns.push(location(format, row), record, extras.next_row(), map);
    }
    if frame.height() == 0 {
        return Err(LoadError::Empty { path: label.into() });
    }
    let finished = columns.finish(label, map, options.skip_invalid)?;
    Ok((finished.set, finished.drops, finished.extras))
}

/// Where row `row` (0-based) sits: CSV counts lines with the header as line 1.
fn location(format: Format, row: u64) -> Location {
    match format {
        Format::Csv => Location::Line(row + 2),
        _ => Location::Row(row + 1),
    }
}

impl Table {
    fn format(&self) -> Format {
        match self {
            Table::Csv(_) => Format::Csv,
            Table::Parquet(_) => Format::Parquet,
        }
    }

    /// The column names of the CSV header or the Parquet schema.
    fn names(&mut self, label: &str) -> Result<Vec<String>, LoadError> {
        let names = match self {
            Table::Csv(bytes) => CsvReadOptions::default()
                .with_has_header(true)
                .with_n_rows(Some(1))
                .with_raise_if_empty(false)
                .into_reader_with_file_handle(Cursor::new(bytes.as_slice()))
                .finish()
                .map_err(|e| csv_fail(bytes, label, &e))?
                .get_column_names()
                .into_iter()
                .map(|n| n.to_string())
                .collect(),
            Table::Parquet(reader) => (reader.schema().map_err(|e| fail(label, &e))?)
                .iter_names()
                .map(|n| n.to_string())
                .collect(),
        };
        Ok(names)
    }

    /// Reads `projection`; in CSV the `text` columns are read as text, the others typed by
    /// polars (all as text when a value does not fit the type polars chose). The CSV bytes are
    /// freed here: the frame holds what the run needs.
    fn frame(
        self,
        projection: &[String],
        text: &[String],
        label: &str,
    ) -> Result<DataFrame, LoadError> {
        match self {
            Table::Csv(bytes) => read_csv(&bytes, projection, text)
                // A value polars cannot type: read the columns as text to find the exact row.
                .or_else(|_| read_csv(&bytes, projection, projection))
                .map_err(|e| csv_fail(&bytes, label, &e)),
            Table::Parquet(reader) => (reader.with_columns(Some(projection.to_vec())))
                .finish()
                .map_err(|e| fail(label, &e)),
        }
    }
}

/// Reads `projection` from CSV text, the `text` columns as text.
fn read_csv(bytes: &[u8], projection: &[String], text: &[String]) -> PolarsResult<DataFrame> {
    let columns: Arc<[PlSmallStr]> = projection.iter().map(|c| c.as_str().into()).collect();
    let mut options = CsvReadOptions::default()
        .with_has_header(true)
        .with_columns(Some(columns));
    if !text.is_empty() {
        let schema: Schema = (text.iter())
            .map(|c| polars::prelude::Field::new(c.as_str().into(), DataType::String))
            .collect();
        options = options.with_schema_overwrite(Some(Arc::new(schema)));
    }
    options
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
}

fn fail(label: &str, e: &PolarsError) -> LoadError {
    LoadError::Reader {
        path: label.into(),
        message: polars_message(e),
    }
}

/// Polars does not say where a CSV is malformed; find the first bad line ourselves.
fn csv_fail(bytes: &[u8], label: &str, e: &PolarsError) -> LoadError {
    match malformed_line(bytes) {
        Some(message) => LoadError::Reader {
            path: label.into(),
            message,
        },
        None => fail(label, e),
    }
}

/// The first line of a CSV that is not well formed: a record with a different number of fields
/// than the header, or bytes that are not UTF-8. Message without the file name.
fn malformed_line(bytes: &[u8]) -> Option<String> {
    let mut csv = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes);
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
