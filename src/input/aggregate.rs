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

/// On a latency row, which path the latencies are of: `accepted` (the small model's time) or
/// `escalated` (the small model's and then the large model's); null on a row of sums.
pub const LATENCY_PATH: &str = "latency_path";
/// On a latency row, the bucket (`engine::latency_sketch`); null on a row of sums.
pub const LATENCY_BUCKET: &str = "latency_bucket";
/// On a latency row, the latencies' sum in milliseconds, as limbs `latency_ms_p0`.. .
pub const LATENCY_SUM: &str = "latency_ms";
/// The two latency paths, as [`LATENCY_PATH`] names them.
pub const PATHS: [&str; 2] = ["accepted", "escalated"];

/// The limb column names of a summed quantity.
pub fn limb_columns(sum: &str) -> [String; 3] {
    [0, 1, 2].map(|k| format!("{sum}_p{k}"))
}

/// Whether a table with these column names is an aggregate.
pub fn is_aggregate(names: &[String]) -> bool {
    names.iter().any(|n| n == VERSION_COLUMN)
}

/// Whether a table with these column names is an eval set's aggregate (two-model or chain).
pub fn is_eval_aggregate(names: &[String]) -> bool {
    is_aggregate(names) || chains::is_chain_aggregate(names)
}

/// The error for an eval set's aggregate handed to `monitor` as logs.
pub fn not_logs(path: String) -> LoadError {
    let message = "an eval set's aggregate (from `calibrate aggregate` or `calibrate sql`), not \
                   logs: monitor reads production logs or their aggregate from `calibrate sql \
                   --logs`";
    LoadError::Reader {
        path,
        message: message.into(),
    }
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
    /// On a latency row: the path (index into [`PATHS`]), the bucket and the latencies' limb
    /// sum; `records` latencies fell in the bucket (and `sums`, `counts` are unused).
    pub latency: Option<(usize, u64, [i128; 3])>,
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
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Reads an aggregate from a Parquet file (any engine's writer), refusing a row whose value the
/// raw path would refuse.
pub fn read_aggregate(mut file: File, label: &str) -> Result<Aggregate, LoadError> {
    let sha256 = super::source::sha256_of(&mut file, label)?;
    let frame = super::table::parquet_frame(file, label)?;
    let read = Read {
        frame: &frame,
        label,
        first: 0,
    };
    let columns = read.columns()?;
    // From the first row of sums (an engine may write latency rows first).
    let first_sums = (0..frame.height()).find(|&r| columns.latency_path[r].is_none());
    let large = first_sums.is_some_and(|r| columns.sums[1][r][0].is_some());
    let rows = (0..frame.height())
        .map(|r| columns.row(&read, r, large))
        .collect::<Result<Vec<_>, _>>()?;
    let total: u128 = (rows.iter().filter(|r| r.latency.is_none()))
        .map(|r| u128::from(r.records))
        .sum();
    if total > u128::from(MAX_RECORDS) {
        return Err(read.bad(
            None,
            RECORDS,
            format!("{total} records in all; at most 2^53"),
        ));
    }
    if rows.is_empty() {
        return Err(LoadError::Reader {
            path: label.into(),
            message: "an aggregate with no rows (it holds no records)".into(),
        });
    }
    let resolution = columns.resolution.first().copied().flatten().unwrap_or(-1) as i64;
    Ok(Aggregate {
        segments: columns.segment_names,
        resolution,
        large,
        rows,
        sha256,
    })
}

/// The frame being read, and how to word its errors.
struct Read<'a> {
    frame: &'a DataFrame,
    label: &'a str,
    /// The file's row number of the frame's first row (a slice of a file).
    first: usize,
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
    latency_path: Vec<Option<String>>,
    latency_bucket: Vec<Option<i128>>,
    latency_sum: Vec<[Option<i128>; 3]>,
}

/// The most records one row may hold (2^53): with it, every sum of limbs over any number of
/// rows a file can hold stays far inside i128.
const MAX_RECORDS: u64 = 1 << 53;

/// The largest latency bucket (`engine::latency_sketch::bucket` of the largest latency).
pub const MAX_BUCKET: u64 = 1599;

/// Whether three limb sums can be those of `records` values in [0, 2^103): p0 < records · 2^63,
/// p1 and p2 < records · 2^60.
fn limbs_fit([p0, p1, p2]: [i128; 3], records: u64) -> bool {
    let n = i128::from(records);
    (0..n << 63).contains(&p0) && (0..n << 60).contains(&p1) && (0..n << 60).contains(&p2)
}

/// A row's value as the error shows it.
fn shown(v: Option<i128>) -> String {
    v.map_or("null".into(), |v| v.to_string())
}

impl Read<'_> {
    fn bad(&self, row: Option<usize>, column: &str, message: String) -> LoadError {
        let at = row.map_or(String::new(), |r| format!("row {}: ", self.first + r + 1));
        LoadError::Reader {
            path: self.label.into(),
            message: format!("{at}column \"{column}\": {message}"),
        }
    }

    /// Row `r`'s value `v` of column `name` as a count.
    fn count(&self, r: usize, name: &str, v: Option<i128>) -> Result<u64, LoadError> {
        let why = || format!("expected a whole number ≥ 0, found {}", shown(v));
        (v.and_then(|v| u64::try_from(v).ok())).ok_or_else(|| self.bad(Some(r), name, why()))
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

    /// Checks `column` holds `version` in every row (`schema`: its name in words).
    fn version(&self, column: &str, version: i64, schema: &str) -> Result<(), LoadError> {
        for (r, v) in self.ints(column)?.iter().enumerate() {
            if *v != Some(version.into()) {
                let why = format!(
                    "expected {version}, found {} (this calibrate reads {schema} version \
                     {version})",
                    shown(*v)
                );
                return Err(self.bad(Some(r), column, why));
            }
        }
        Ok(())
    }

    /// The resolution column, checked to hold one value in -1..=60 in every row.
    fn resolutions(&self) -> Result<Vec<Option<i128>>, LoadError> {
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
        Ok(resolution)
    }

    /// Every column, with the version and resolution checked in every row.
    fn columns(&self) -> Result<Columns, LoadError> {
        self.version(VERSION_COLUMN, VERSION, "schema")?;
        let resolution = self.resolutions()?;
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
        let path = self.cast(LATENCY_PATH, &DataType::String)?;
        Ok(Columns {
            latency_path: (path.str().expect("cast to text").iter())
                .map(|v| v.map(str::to_string))
                .collect(),
            latency_bucket: self.ints(LATENCY_BUCKET)?,
            latency_sum: limbs(LATENCY_SUM)?,
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
        let count = |name: &str, v: Option<i128>| read.count(r, name, v);
        let Some(c) = self.confidence[r].filter(|c| c.is_finite()) else {
            let found = self.confidence[r].map_or("null".into(), |c| c.to_string());
            let why = format!(
                "expected a finite number, found {found} (the raw path refuses records without \
                 a finite confidence too)"
            );
            return Err(read.bad(Some(r), CONFIDENCE, why));
        };
        let records = count(RECORDS, self.records[r])?;
        if records == 0 || records > MAX_RECORDS {
            let why = format!("expected 1 to 2^53 records, found {records}");
            return Err(read.bad(Some(r), RECORDS, why));
        }
        let segments = self.segment_values.iter().map(|v| v[r].clone()).collect();
        if let Some(path) = &self.latency_path[r] {
            let latency = self.latency_row(read, r, (path, records))?;
            return Ok(AggregateRow {
                segments,
                confidence: c,
                records,
                sums: [None; 5],
                counts: [0; 4],
                latency: Some(latency),
            });
        }
        let stray =
            self.latency_bucket[r].is_some() || self.latency_sum[r].iter().any(Option::is_some);
        if stray {
            let why = "expected null on a row of sums (latency_path is null)".to_string();
            return Err(read.bad(Some(r), LATENCY_BUCKET, why));
        }
        let invalid = count(INVALID, self.invalid[r])?;
        if invalid > 0 {
            let why = format!(
                "{invalid} records at confidence {c} have a missing or out-of-range field (a \
                 quality outside [0, 1], a negative cost or a cost of 1e30 or more, priced tokens \
                 that are not whole and non-negative); the raw path refuses them: fix the source \
                 table"
            );
            return Err(read.bad(Some(r), INVALID, why));
        }
        let sums = self.sums_of(read, r, records, large)?;
        let counts = self.counts_of(read, r, records, large)?;
        Ok(AggregateRow {
            segments,
            confidence: c,
            records,
            sums,
            counts,
            latency: None,
        })
    }

    /// The limb sums of row `r` of `records` records, checked.
    fn sums_of(
        &self,
        read: &Read<'_>,
        r: usize,
        records: u64,
        large: bool,
    ) -> Result<[Option<[i128; 3]>; 5], LoadError> {
        let mut sums = [None; 5];
        for (k, name) in SUMS.iter().enumerate() {
            let optional = k == 1 || k == 2;
            sums[k] = match self.sums[k][r] {
                [Some(a), Some(b), Some(c)] if limbs_fit([a, b, c], records) => Some([a, b, c]),
                [None, None, None] if optional && !large => None,
                found => {
                    let found = found.map(shown).join(", ");
                    let why = format!(
                        "expected three whole-number limb sums of {records} values in [0, 2^103) \
                         (each limb ≥ 0, p0 < records·2^63, p1 and p2 < records·2^60){}, found \
                         {found}",
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
        Ok(sums)
    }

    /// The label counts of row `r` of `records` records, checked.
    fn counts_of(
        &self,
        read: &Read<'_>,
        r: usize,
        records: u64,
        large: bool,
    ) -> Result<[u64; 4], LoadError> {
        let count = |name: &str, v: Option<i128>| read.count(r, name, v);
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
        let labelled = |right: u64, fractional: u64| {
            right.checked_add(fractional).is_some_and(|n| n <= records)
        };
        for (k, name) in [(0, COUNTS[0]), (2, COUNTS[2])] {
            if !labelled(counts[k], counts[k + 1]) {
                let why = format!(
                    "{} right and {} fractional labels in a row of {records} records",
                    counts[k],
                    counts[k + 1]
                );
                return Err(read.bad(Some(r), name, why));
            }
        }
        Ok(counts)
    }

    /// The path, bucket and limb sum of latency row `r`.
    fn latency_row(
        &self,
        read: &Read<'_>,
        r: usize,
        (path, records): (&str, u64),
    ) -> Result<(usize, u64, [i128; 3]), LoadError> {
        let Some(p) = PATHS.iter().position(|&x| x == path) else {
            let why = format!("expected accepted, escalated or null, found {path:?}");
            return Err(read.bad(Some(r), LATENCY_PATH, why));
        };
        let bucket = self.latency_bucket[r].and_then(|b| u64::try_from(b).ok());
        let Some(bucket) = bucket.filter(|&b| b <= MAX_BUCKET) else {
            let why = format!(
                "expected a bucket in 0..={MAX_BUCKET}, found {}",
                shown(self.latency_bucket[r])
            );
            return Err(read.bad(Some(r), LATENCY_BUCKET, why));
        };
        match self.latency_sum[r] {
            [Some(a), Some(b), Some(c)] if limbs_fit([a, b, c], records) => {
                Ok((p, bucket, [a, b, c]))
            }
            found => {
                let found = found.map(shown).join(", ");
                let why = format!("expected three whole-number limb sums ≥ 0, found {found}");
                Err(read.bad(Some(r), "latency_ms_p0", why))
            }
        }
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

pub mod chains;
pub mod logs;
mod open;
mod parts;

pub use open::{aggregate_input, chain_aggregate_input};
pub use parts::load_in_parts;
