//! The aggregate table (issue 18): its schema, and reading one from Parquet.
//!
//! Owns the column names and the schema version that `calibrate aggregate`, `calibrate sql` and
//! every reader share, and the validation of an aggregate an engine wrote: each row is checked and
//! a bad one is named by its row and column. It must not compute: the limb sums stay whole numbers
//! here and `engine::cells` turns them into sums.

use std::fs::File;

use polars::prelude::*;

use super::LoadError;

/// The schema version, the value of [`VERSION_COLUMN`] in every row.
pub const VERSION: i64 = 1;
/// The column that marks a table as an aggregate and holds its schema version.
pub const VERSION_COLUMN: &str = "calibrate_aggregate";
/// -1 when `confidence` is the exact confidence; k when it is floor(confidence · 2^k) / 2^k.
pub const RESOLUTION: &str = "resolution";
/// The confidence key (a double).
pub const CONFIDENCE: &str = "confidence";
/// Records in the cell.
pub const RECORDS: &str = "records";
/// Records the raw path would refuse (missing or out-of-range fields); must be 0.
pub const INVALID: &str = "invalid_records";
/// Prefix of a segment column: `segment_task_type` holds the `task_type` value as text.
pub const SEGMENT_PREFIX: &str = "segment_";
/// The summed quantities, each stored as three limb sums `NAME_p0`, `NAME_p1`, `NAME_p2`.
pub const SUMS: [&str; 5] = [
    "small_quality",
    "large_quality",
    "quality_lost",
    "small_cost",
    "large_cost",
];
/// Counts of 0/1 labels: right answers and fractional labels, per model.
pub const COUNTS: [&str; 4] = [
    "small_right",
    "small_fractional",
    "large_right",
    "large_fractional",
];

/// The limb column names of a summed quantity.
pub fn limb_columns(sum: &str) -> [String; 3] {
    [0, 1, 2].map(|k| format!("{sum}_p{k}"))
}

/// Whether a table with these column names is an aggregate.
pub fn is_aggregate(names: &[String]) -> bool {
    names.iter().any(|n| n == VERSION_COLUMN)
}

/// One row of an aggregate, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateRow {
    /// Segment values, in the order of [`Aggregate::segments`]; `None` when absent.
    pub segments: Vec<Option<String>>,
    /// The confidence key.
    pub confidence: f64,
    /// Records.
    pub records: u64,
    /// Limb sums per quantity of [`SUMS`]; `None` when null (no large labels).
    pub sums: [Option<[i128; 3]>; 5],
    /// The counts of [`COUNTS`].
    pub counts: [u64; 4],
}

/// An aggregate table.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Segment field names (without the prefix), in column order.
    pub segments: Vec<String>,
    /// -1 for exact confidences, else the resolution k.
    pub resolution: i64,
    /// Whether the large model's quality is known (every row carries its sums).
    pub large: bool,
    /// The rows, in file order.
    pub rows: Vec<AggregateRow>,
}

/// Reads an aggregate from a Parquet file (any engine's writer), refusing a row whose value the
/// raw path would refuse.
pub fn read_aggregate(file: File, label: &str) -> Result<Aggregate, LoadError> {
    let frame = super::table::parquet_frame(file, label)?;
    let read = Read {
        frame: &frame,
        label,
    };
    let columns = read.columns()?;
    let large = columns.sums[1].first().is_some_and(|l| l[0].is_some());
    let rows = (0..frame.height())
        .map(|r| columns.row(&read, r, large))
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Err(LoadError::Empty { path: label.into() });
    }
    let resolution = columns.resolution.first().copied().flatten().unwrap_or(-1) as i64;
    Ok(Aggregate {
        segments: columns.segment_names,
        resolution,
        large,
        rows,
    })
}

/// The frame being read, and how to word its errors.
struct Read<'a> {
    frame: &'a DataFrame,
    label: &'a str,
}

/// The aggregate's columns, each whole.
struct Columns {
    resolution: Vec<Option<i128>>,
    confidence: Vec<Option<f64>>,
    records: Vec<Option<i128>>,
    invalid: Vec<Option<i128>>,
    sums: [Vec<[Option<i128>; 3]>; 5],
    counts: [Vec<Option<i128>>; 4],
    segment_names: Vec<String>,
    segment_values: Vec<Vec<Option<String>>>,
}

/// A row's value as the error shows it.
fn shown(v: Option<i128>) -> String {
    v.map_or("null".into(), |v| v.to_string())
}

impl Read<'_> {
    fn bad(&self, row: Option<usize>, column: &str, message: String) -> LoadError {
        let at = row.map_or(String::new(), |r| format!("row {}: ", r + 1));
        LoadError::Reader {
            path: self.label.into(),
            message: format!("{at}column \"{column}\": {message}"),
        }
    }

    fn column(&self, name: &str) -> Result<&Column, LoadError> {
        (self.frame.column(name)).map_err(|_| {
            let why = "missing: an aggregate of schema version 1 has it";
            self.bad(None, name, why.into())
        })
    }

    fn ints(&self, name: &str) -> Result<Vec<Option<i128>>, LoadError> {
        whole_numbers(self.column(name)?).map_err(|found| {
            let expected = "expected whole numbers (an integer or DECIMAL(38,0) column)";
            self.bad(None, name, format!("{expected}, found {found}"))
        })
    }

    fn cast(&self, name: &str, to: &DataType) -> Result<Column, LoadError> {
        (self.column(name)?.cast(to)).map_err(|e| self.bad(None, name, e.to_string()))
    }

    /// Every column, with the version and resolution checked in every row.
    fn columns(&self) -> Result<Columns, LoadError> {
        for (r, v) in self.ints(VERSION_COLUMN)?.iter().enumerate() {
            if *v != Some(VERSION.into()) {
                let why = format!(
                    "expected {VERSION}, found {} (this calibrate reads schema version {VERSION})",
                    shown(*v)
                );
                return Err(self.bad(Some(r), VERSION_COLUMN, why));
            }
        }
        let resolution = self.ints(RESOLUTION)?;
        let first = resolution.first().copied().flatten();
        for (r, v) in resolution.iter().enumerate() {
            if *v != first || !v.is_some_and(|k| (-1..=60).contains(&k)) {
                let why = format!(
                    "expected the same resolution in -1..=60 in every row, found {} after {}",
                    shown(*v),
                    shown(first)
                );
                return Err(self.bad(Some(r), RESOLUTION, why));
            }
        }
        let confidence = self.cast(CONFIDENCE, &DataType::Float64)?;
        let limbs = |sum: &str| -> Result<Vec<[Option<i128>; 3]>, LoadError> {
            let [a, b, c] = limb_columns(sum).map(|c| self.ints(&c));
            let (a, b, c) = (a?, b?, c?);
            Ok((0..a.len()).map(|r| [a[r], b[r], c[r]]).collect())
        };
        let segment_names: Vec<String> = (self.frame.get_column_names().iter())
            .filter_map(|n| n.strip_prefix(SEGMENT_PREFIX).map(str::to_string))
            .collect();
        let segment_values = (segment_names.iter())
            .map(|s| {
                let c = self.cast(&format!("{SEGMENT_PREFIX}{s}"), &DataType::String)?;
                let values = c.str().expect("cast to text");
                Ok(values.iter().map(|v| v.map(str::to_string)).collect())
            })
            .collect::<Result<_, LoadError>>()?;
        Ok(Columns {
            resolution,
            confidence: confidence.f64().expect("cast to f64").iter().collect(),
            records: self.ints(RECORDS)?,
            invalid: self.ints(INVALID)?,
            sums: [
                limbs(SUMS[0])?,
                limbs(SUMS[1])?,
                limbs(SUMS[2])?,
                limbs(SUMS[3])?,
                limbs(SUMS[4])?,
            ],
            counts: [
                self.ints(COUNTS[0])?,
                self.ints(COUNTS[1])?,
                self.ints(COUNTS[2])?,
                self.ints(COUNTS[3])?,
            ],
            segment_names,
            segment_values,
        })
    }
}

impl Columns {
    /// Row `r`, checked.
    fn row(&self, read: &Read<'_>, r: usize, large: bool) -> Result<AggregateRow, LoadError> {
        let count = |name: &str, v: Option<i128>| -> Result<u64, LoadError> {
            let why = || format!("expected a whole number ≥ 0, found {}", shown(v));
            (v.and_then(|v| u64::try_from(v).ok())).ok_or_else(|| read.bad(Some(r), name, why()))
        };
        let Some(c) = self.confidence[r].filter(|c| c.is_finite()) else {
            let why = format!(
                "expected a finite number, found {:?} (the raw path refuses records without a \
                 finite confidence too)",
                self.confidence[r]
            );
            return Err(read.bad(Some(r), CONFIDENCE, why));
        };
        let records = count(RECORDS, self.records[r])?;
        if records == 0 {
            return Err(read.bad(Some(r), RECORDS, "expected at least 1 record".into()));
        }
        let invalid = count(INVALID, self.invalid[r])?;
        if invalid > 0 {
            let why = format!(
                "{invalid} records at confidence {c} have a missing or out-of-range field (a \
                 quality outside [0, 1], a negative cost or a cost of 1e30 or more); the raw path \
                 refuses them: fix the source table"
            );
            return Err(read.bad(Some(r), INVALID, why));
        }
        let mut sums = [None; 5];
        for (k, name) in SUMS.iter().enumerate() {
            let optional = k == 1 || k == 2;
            sums[k] = match self.sums[k][r] {
                [Some(a), Some(b), Some(c)] if a >= 0 && b >= 0 && c >= 0 => Some([a, b, c]),
                [None, None, None] if optional && !large => None,
                found => {
                    let why = format!(
                        "expected three whole-number limb sums ≥ 0{}, found {found:?}",
                        if optional {
                            ", in every row or in none"
                        } else {
                            ""
                        }
                    );
                    return Err(read.bad(Some(r), &format!("{name}_p0"), why));
                }
            };
        }
        let mut counts = [0; 4];
        for (k, name) in COUNTS.iter().enumerate() {
            let v = self.counts[k][r];
            // Large-label counts are null or 0 without large labels.
            counts[k] = if k >= 2 && !large {
                count(name, v.or(Some(0)))?
            } else {
                count(name, v)?
            };
        }
        Ok(AggregateRow {
            segments: self.segment_values.iter().map(|v| v[r].clone()).collect(),
            confidence: c,
            records,
            sums,
            counts,
        })
    }
}

/// A column of whole numbers (any integer type, or a decimal of scale 0) widened to i128; the
/// type found otherwise.
fn whole_numbers(column: &Column) -> Result<Vec<Option<i128>>, String> {
    match column.dtype() {
        DataType::Decimal(_, 0) => {
            let series = column.as_materialized_series();
            let decimal = series.decimal().map_err(|e| e.to_string())?;
            Ok(decimal.physical().iter().collect())
        }
        dtype if dtype.is_integer() => {
            let cast = column.cast(&DataType::Int64).map_err(|e| e.to_string())?;
            let values = cast.i64().map_err(|e| e.to_string())?;
            Ok(values.iter().map(|v| v.map(i128::from)).collect())
        }
        DataType::Null => Ok(vec![None; column.len()]),
        other => Err(other.to_string()),
    }
}

/// The aggregate named by `options`, when its input is one (a Parquet file carrying
/// [`VERSION_COLUMN`]); `None` for an eval set.
pub fn aggregate_input(options: &super::LoadOptions) -> Result<Option<Aggregate>, LoadError> {
    let super::Source::File(path) = &options.source else {
        return Ok(None);
    };
    let parquet = options.format.or_else(|| super::Format::from_path(path));
    if parquet != Some(super::Format::Parquet) || path.is_dir() {
        return Ok(None);
    }
    let label = options.source.label();
    let open = || {
        File::open(path).map_err(|source| LoadError::Io {
            path: label.clone(),
            source,
        })
    };
    // A file that cannot be read as Parquet is left to the eval-set loader, which says why.
    let Ok(names) = super::table::parquet_names(open()?, &label) else {
        return Ok(None);
    };
    if !is_aggregate(&names) {
        return Ok(None);
    }
    read_aggregate(open()?, &label).map(Some)
}

/// Reads an eval set in parts and hands each to `each`, so that memory holds one part at a time
/// (`calibrate aggregate` on inputs larger than memory). JSON Lines (a file, a pipe, stdin,
/// compressed or not) is cut into parts of whole lines of about `part_bytes`, each loaded as a
/// file of its own whose line numbers continue the previous part's; other formats are loaded
/// whole, as one part.
pub fn load_in_parts<E: From<LoadError>>(
    options: &super::LoadOptions,
    part_bytes: usize,
    progress: &dyn super::Progress,
    each: &mut dyn FnMut(super::Loaded) -> Result<(), E>,
) -> Result<(), E> {
    let label = options.source.label();
    let (format, input, _) = super::source::open(&options.source, options.format)?;
    let (mut reader, size) = match input {
        super::source::Input::Stream { reader, size } => (reader, size),
        super::source::Input::Array { mut reader, .. } => {
            return each(super::jsonl::load(
                &mut reader,
                None,
                options,
                &label,
                progress,
            )?);
        }
        super::source::Input::Seekable { file, .. } => {
            return each(super::table::load_parquet(file, options, &label, progress)?);
        }
    };
    if format != super::Format::Jsonl {
        progress.start(size);
        let loaded = super::table::load_csv(&mut reader, size, options, &label, progress)?;
        return each(loaded);
    }
    progress.start(size);
    stream_parts(&mut reader, options, part_bytes, progress, each)
}

/// [`load_in_parts`] on a JSON Lines stream.
fn stream_parts<E: From<LoadError>>(
    reader: &mut (dyn std::io::Read + Send),
    options: &super::LoadOptions,
    part_bytes: usize,
    progress: &dyn super::Progress,
    each: &mut dyn FnMut(super::Loaded) -> Result<(), E>,
) -> Result<(), E> {
    let label = options.source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let mut first_line = 1u64;
    let mut any = false;
    // A reader thread cuts the next part while this one is parsed and aggregated.
    std::thread::scope(|scope| -> Result<(), E> {
        let (send, receive) = std::sync::mpsc::sync_channel::<std::io::Result<Part>>(1);
        scope.spawn(move || {
            let mut parts = Parts {
                reader,
                carry: Vec::new(),
                part_bytes,
                ended: false,
            };
            while let Some(part) = parts.next().transpose() {
                let failed = part.is_err();
                // A closed channel means the consumer stopped on an error: stop reading.
                if send.send(part).is_err() || failed {
                    break;
                }
            }
        });
        for part in receive {
            let part = part.map_err(io)?;
            progress.advance(part.read);
            let lines = memchr::memchr_iter(b'\n', &part.bytes).count() as u64;
            if part.bytes.iter().any(|b| !b.is_ascii_whitespace()) {
                let part_options = super::LoadOptions {
                    first_line,
                    hash: false,
                    ..options.clone()
                };
                let quiet = super::NoProgress;
                let bytes = &mut &part.bytes[..];
                each(super::jsonl::load(
                    bytes,
                    None,
                    &part_options,
                    &label,
                    &quiet,
                )?)?;
                any = true;
            }
            first_line += lines;
        }
        Ok(())
    })?;
    if !any {
        return Err(LoadError::Empty { path: label }.into());
    }
    Ok(())
}

/// A stream cut into parts of whole lines.
struct Parts<'a> {
    reader: &'a mut (dyn std::io::Read + Send),
    /// The partial line that ends the bytes read so far.
    carry: Vec<u8>,
    part_bytes: usize,
    ended: bool,
}

/// One part, and how many bytes were read for it.
struct Part {
    bytes: Vec<u8>,
    read: u64,
}

impl Parts<'_> {
    /// The next part: the carried partial line, then whole lines up to about `part_bytes` (more
    /// when one line is longer); `None` at the end.
    fn next(&mut self) -> std::io::Result<Option<Part>> {
        let mut read = 0u64;
        loop {
            if self.ended {
                return Ok(None);
            }
            let mut part = std::mem::take(&mut self.carry);
            let start = part.len();
            part.resize(
                if start < self.part_bytes {
                    self.part_bytes
                } else {
                    2 * start
                },
                0,
            );
            let mut filled = start;
            while filled < part.len() {
                match self.reader.read(&mut part[filled..])? {
                    0 => {
                        self.ended = true;
                        break;
                    }
                    n => filled += n,
                }
            }
            part.truncate(filled);
            read += (filled - start) as u64;
            if self.ended {
                return Ok(Some(Part { bytes: part, read }));
            }
            match memchr::memrchr(b'\n', &part) {
                Some(end) => {
                    self.carry = part.split_off(end + 1);
                    return Ok(Some(Part { bytes: part, read }));
                }
                // One line longer than a part: read on to its end.
                None => self.carry = part,
            }
        }
    }
}
