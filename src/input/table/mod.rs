//! CSV and Parquet reader: CSV through the `csv` crate ([`text`]), Parquet through polars.
//!
//! Owns choosing which columns to read (the fixed fields and the requested extras, each once),
//! reading them in one pass, and walking the rows into [`Columns`], each with its CSV line or
//! Parquet row. CSV rows with the wrong number of fields are bad records like any other. It
//! must not validate values.

mod cells;
mod text;
mod types;

use std::fs::File;
use std::io::{Read, Seek};

use polars::prelude::*;

use super::columns::{Columns, READ, READ_FIELDS};
use super::error::{LoadError, Location, RecordProblem};
use super::extra::{ExtraColumns, ExtraRequest, missing_from_header, with_discovered};
use super::source::{hash_all, read_all};
use super::value::Cell;
use super::{Drops, EvalSet, Format, LoadOptions, Loaded, Progress};
use cells::{CellIter, TableExtras, cells, clean};
use types::{no_dates, plain_types};

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
    Ok(Loaded {
        sha256,
        ..load_csv_part(bytes, options, label)?
    })
}

/// Reads CSV text already in memory (all of it, or a part of a larger file with the header
/// first), without hashing it; its body's lines continue from `options.first_line`.
pub fn load_csv_part(
    bytes: Vec<u8>,
    options: &LoadOptions,
    label: &str,
) -> Result<Loaded, LoadError> {
    let size = bytes.len() as u64;
    let offset = options.first_line.saturating_sub(1);
    let (set, drops, extras, columns) = read(Table::Csv(bytes, offset), options, label)?;
    Ok(Loaded {
        columns,
        set,
        drops,
        sha256: String::new(),
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
    let (sha256, bytes) = hash_file(&mut file, label, progress)?;
    let table = Table::Parquet(ParquetReader::new(file), 1);
    parquet_loaded(table, options, label, (sha256, bytes))
}

/// Rows `first..first + count` (0-based) of a Parquet eval set, loaded as a set of their own
/// whose errors count rows from the file's start (`calibrate aggregate` reads big files in
/// slices); not hashed.
pub fn load_parquet_slice(
    file: File,
    options: &LoadOptions,
    label: &str,
    (first, count): (usize, usize),
) -> Result<Loaded, LoadError> {
    let reader = ParquetReader::new(file).with_slice(Some((first, count)));
    let table = Table::Parquet(reader, first as u64 + 1);
    parquet_loaded(table, options, label, (String::new(), 0))
}

/// A Parquet table read into a [`Loaded`] with the given hash and size.
fn parquet_loaded(
    table: Table,
    options: &LoadOptions,
    label: &str,
    (sha256, bytes): (String, u64),
) -> Result<Loaded, LoadError> {
    let (set, drops, extras, columns) = read(table, options, label)?;
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

/// A Parquet file's number of rows, from its footer.
pub fn parquet_rows(file: File, label: &str) -> Result<usize, LoadError> {
    guarded(label, || ParquetReader::new(file).num_rows())
}

/// The columns of a Parquet file that `wanted` picks from its column names, read whole in the
/// plain types (`calibrate monitor` walks its rows).
pub fn parquet_columns(
    file: File,
    wanted: impl Fn(&str) -> bool,
    label: &str,
) -> Result<DataFrame, LoadError> {
    let mut reader = ParquetReader::new(file);
    let schema = guarded(label, || reader.schema())?;
    let names: Vec<String> = (schema.iter_names())
        .map(|n| n.to_string())
        .filter(|n| wanted(n))
        .collect();
    no_dates(&schema, &names, label)?;
    guarded_frame(label, || {
        plain_types(reader.with_columns(Some(names)).finish()?)
    })
}

/// Every column of a Parquet file, read whole in the types it was written with.
pub fn parquet_frame(file: File, label: &str) -> Result<DataFrame, LoadError> {
    guarded_frame(label, || ParquetReader::new(file).finish())
}

/// A Parquet file's column names, from its footer.
pub fn parquet_names(file: File, label: &str) -> Result<Vec<String>, LoadError> {
    let mut reader = ParquetReader::new(file);
    Ok((guarded(label, || reader.schema())?)
        .iter_names()
        .map(|n| n.to_string())
        .collect())
}

/// A seekable file hashed front to back (sha256 hex, bytes), then rewound.
pub fn hash_file(
    file: &mut File,
    label: &str,
    progress: &dyn Progress,
) -> Result<(String, u64), LoadError> {
    let hashed = hash_all(file, progress).map_err(|e| io(label, e))?;
    file.rewind().map_err(|e| io(label, e))?;
    Ok(hashed)
}

fn io(label: &str, source: std::io::Error) -> LoadError {
    LoadError::Io {
        path: label.into(),
        source,
    }
}

/// A table ready for polars.
enum Table {
    /// CSV text, in memory until polars has parsed it, and the lines before it (a part of a
    /// larger file: its body's lines continue the file's).
    Csv(Vec<u8>, u64),
    /// A Parquet file, and the number of its first row read (1, or more for a slice).
    Parquet(ParquetReader<File>, u64),
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
    let (frame, places) = table.frame(&names, &projection, &text, label)?;
    let mut extras = TableExtras::new(&frame, &requests, format);
    let clean = places
        .bad
        .is_empty()
        .then(|| clean(&frame, &wanted))
        .flatten();
    let (set, drops, columns) = match clean {
        Some(set) => all_rows(set, &mut extras, &places, label)?,
        None => per_row(&frame, &wanted, &places, options, label, &mut extras)?,
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
    places: &Places,
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
        columns.push(places.location(row as usize), extras.next_row());
    }
    Ok((set, drops, columns))
}

/// The per-row path: every row validated, the first bad ones named.
fn per_row(
    frame: &DataFrame,
    wanted: &[Option<String>],
    places: &Places,
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
    let mut bad = places.bad.iter().peekable();
    for row in 0..frame.height() {
        while let Some(b) = bad.next_if(|b| b.before <= row) {
            columns.reject(places.width_problem(b));
        }
        let mut record: [Cell<'_>; READ] =
            std::array::from_fn(|i| iters[i].next().unwrap_or(Cell::Missing));
        columns.push(places.location(row), &mut record, extras.next_row(), map);
    }
    for b in bad {
        columns.reject(places.width_problem(b));
    }
    if frame.height() == 0 && places.bad.is_empty() {
        return Err(LoadError::Empty { path: label.into() });
    }
    let finished = columns.finish(label, map, options.skip_invalid)?;
    Ok((finished.set, finished.drops, finished.extras))
}

/// Where a table's rows sit, and its CSV rows of the wrong width.
struct Places {
    /// CSV: the line each row starts on (the header is line 1); Parquet: none (rows count).
    lines: Option<Vec<u64>>,
    /// Parquet: the number of the first row read (1, or more for a slice).
    first_row: u64,
    /// CSV rows with a field count other than the header's.
    bad: Vec<text::BadRow>,
    /// The header's field count.
    width: usize,
}

impl Places {
    /// Where row `row` (0-based) sits.
    fn location(&self, row: usize) -> Location {
        match &self.lines {
            Some(lines) => Location::Line(lines[row]),
            None => Location::Row(row as u64 + self.first_row),
        }
    }

    /// The bad record a row of the wrong width is.
    fn width_problem(&self, b: &text::BadRow) -> RecordProblem {
        let (expected, found) = if b.unclosed_quote {
            (
                "a closing quote".to_string(),
                "a quoted field that runs to the end of the file".to_string(),
            )
        } else {
            (
                format!("{} fields as in the header", self.width),
                format!("{}", b.found),
            )
        };
        RecordProblem {
            location: Location::Line(b.line),
            column: None,
            expected,
            found,
        }
    }
}

impl Table {
    fn format(&self) -> Format {
        match self {
            Table::Csv(..) => Format::Csv,
            Table::Parquet(..) => Format::Parquet,
        }
    }

    /// The column names of the CSV header or the Parquet schema.
    fn names(&mut self, label: &str) -> Result<Vec<String>, LoadError> {
        let names = match self {
            Table::Csv(bytes, _) => text::header(bytes).map_err(|message| LoadError::Reader {
                path: label.into(),
                message,
            })?,
            Table::Parquet(reader, _) => (guarded(label, || reader.schema())?)
                .iter_names()
                .map(|n| n.to_string())
                .collect(),
        };
        Ok(names)
    }

    /// Reads `projection`; in CSV the `text` columns are read as text, the others typed from
    /// all their cells. The CSV bytes are freed here: the frame holds what the run needs.
    fn frame(
        self,
        names: &[String],
        projection: &[String],
        text: &[String],
        label: &str,
    ) -> Result<(DataFrame, Places), LoadError> {
        match self {
            Table::Csv(bytes, offset) => {
                let table =
                    text::read(&bytes, names, projection, text, offset).map_err(|message| {
                        LoadError::Reader {
                            path: label.into(),
                            message,
                        }
                    })?;
                let places = Places {
                    lines: Some(table.lines),
                    first_row: 1,
                    bad: table.bad,
                    width: names.len(),
                };
                Ok((table.frame, places))
            }
            Table::Parquet(mut reader, first_row) => {
                let schema = guarded(label, || reader.schema())?;
                no_dates(&schema, projection, label)?;
                let frame = guarded_frame(label, || {
                    plain_types(reader.with_columns(Some(projection.to_vec())).finish()?)
                })?;
                let places = Places {
                    lines: None,
                    first_row,
                    bad: Vec::new(),
                    width: names.len(),
                };
                Ok((frame, places))
            }
        }
    }
}

/// Runs a polars Parquet read, turning its error, or a panic on a damaged file (polars-parquet
/// panics on some corrupt metadata), into a one-line error. The panic's own message is not
/// printed: the error says what happened.
pub(crate) fn guarded<T>(
    label: &str,
    read: impl FnOnce() -> PolarsResult<T>,
) -> Result<T, LoadError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(hook);
    match result {
        Ok(read) => read.map_err(|e| fail(label, &e)),
        Err(_) => Err(LoadError::Reader {
            path: label.into(),
            message: "not a readable Parquet file: its metadata or pages are damaged (the \
                      Parquet reader stopped)"
                .into(),
        }),
    }
}

/// [`guarded`] for a read that yields a frame, which must hold as many values in every column
/// as it has rows: a damaged file can decode to columns of different lengths, which a reader
/// would otherwise cut to the shortest or index past.
pub(crate) fn guarded_frame(
    label: &str,
    read: impl FnOnce() -> PolarsResult<DataFrame>,
) -> Result<DataFrame, LoadError> {
    let frame = guarded(label, read)?;
    let rows = frame.height();
    match frame.columns().iter().find(|c| c.len() != rows) {
        Some(c) => Err(LoadError::Reader {
            path: label.into(),
            message: format!(
                "not a readable Parquet file: column \"{}\" decodes to {} values for {rows} \
                 rows (its pages are damaged)",
                c.name(),
                c.len()
            ),
        }),
        None => Ok(frame),
    }
}

fn fail(label: &str, e: &PolarsError) -> LoadError {
    LoadError::Reader {
        path: label.into(),
        message: polars_message(e),
    }
}

fn polars_message(e: &PolarsError) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().to_string()
}
