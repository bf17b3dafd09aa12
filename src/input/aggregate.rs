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
    let bad = |row: Option<usize>, column: &str, message: String| {
        let at = row.map_or(String::new(), |r| format!("row {}: ", r + 1));
        LoadError::Reader {
            path: label.into(),
            message: format!("{at}column \"{column}\": {message}"),
        }
    };
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let column = |name: &str| -> Result<&Column, LoadError> {
        frame.column(name).map_err(|_| {
            bad(
                None,
                name,
                "missing: an aggregate of schema version 1 has it".into(),
            )
        })
    };
    let ints = |name: &str| -> Result<Vec<Option<i128>>, LoadError> {
        whole_numbers(column(name)?).map_err(|found| {
            bad(
                None,
                name,
                format!(
                    "expected whole numbers (an integer or DECIMAL(38,0) column), found {found}"
                ),
            )
        })
    };
    let n = frame.height();
    let version = ints(VERSION_COLUMN)?;
    let resolution = ints(RESOLUTION)?;
    for (r, v) in version.iter().enumerate() {
        if *v != Some(VERSION.into()) {
            let found = v.map_or("null".into(), |v| v.to_string());
            return Err(bad(
                Some(r),
                VERSION_COLUMN,
                format!(
                    "expected {VERSION}, found {found} (this calibrate reads schema version {VERSION})"
                ),
            ));
        }
    }
    let first_resolution = resolution.first().copied().flatten().unwrap_or(-1);
    for (r, v) in resolution.iter().enumerate() {
        if *v != Some(first_resolution) || !(-1..=60).contains(&first_resolution) {
            let found = v.map_or("null".into(), |v| v.to_string());
            return Err(bad(
                Some(r),
                RESOLUTION,
                format!(
                    "expected one resolution in -1..=60 in every row, found {found} after {first_resolution}"
                ),
            ));
        }
    }
    let confidence = column(CONFIDENCE)?
        .cast(&DataType::Float64)
        .map_err(|e| bad(None, CONFIDENCE, e.to_string()))?;
    let confidence: Vec<Option<f64>> = confidence.f64().expect("cast").iter().collect();
    let records = ints(RECORDS)?;
    let invalid = ints(INVALID)?;
    let sums: Vec<Vec<[Option<i128>; 3]>> = SUMS
        .iter()
        .map(|s| {
            let limbs = limb_columns(s).map(|c| ints(&c));
            let [a, b, c] = limbs;
            let (a, b, c) = (a?, b?, c?);
            Ok((0..n).map(|r| [a[r], b[r], c[r]]).collect())
        })
        .collect::<Result<_, LoadError>>()?;
    let counts: Vec<Vec<Option<i128>>> =
        COUNTS.iter().map(|c| ints(c)).collect::<Result<_, _>>()?;
    let segment_names: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix(SEGMENT_PREFIX).map(str::to_string))
        .collect();
    let segment_values: Vec<Vec<Option<String>>> = segment_names
        .iter()
        .map(|s| {
            let name = format!("{SEGMENT_PREFIX}{s}");
            let c = column(&name)?
                .cast(&DataType::String)
                .map_err(|e| bad(None, &name, e.to_string()))?;
            Ok(c.str()
                .expect("cast")
                .iter()
                .map(|v| v.map(str::to_string))
                .collect())
        })
        .collect::<Result<_, LoadError>>()?;
    let large = sums[1].first().is_some_and(|l| l[0].is_some());
    let mut rows = Vec::with_capacity(n);
    for r in 0..n {
        let count = |name: &str, v: Option<i128>| -> Result<u64, LoadError> {
            v.and_then(|v| u64::try_from(v).ok()).ok_or_else(|| {
                bad(
                    Some(r),
                    name,
                    format!(
                        "expected a whole number ≥ 0, found {}",
                        v.map_or("null".into(), |v| v.to_string())
                    ),
                )
            })
        };
        let c = confidence[r].filter(|c| c.is_finite()).ok_or_else(|| {
            bad(Some(r), CONFIDENCE, format!("expected a finite number, found {:?} (records without a confidence are refused by the raw path too)", confidence[r]))
        })?;
        let records = count(RECORDS, records[r])?;
        if records == 0 {
            return Err(bad(
                Some(r),
                RECORDS,
                "expected at least 1 record in a row".into(),
            ));
        }
        let invalid = count(INVALID, invalid[r])?;
        if invalid > 0 {
            return Err(bad(
                Some(r),
                INVALID,
                format!(
                    "{invalid} records at confidence {c} have a missing or out-of-range field (quality outside [0, 1], a negative cost or a cost ≥ 1e30); the raw path refuses them: fix the source table"
                ),
            ));
        }
        let mut row_sums = [None; 5];
        for (k, name) in SUMS.iter().enumerate() {
            let limbs = sums[k][r];
            let optional = k == 1 || k == 2;
            match limbs {
                [Some(a), Some(b), Some(c)] if a >= 0 && b >= 0 && c >= 0 => {
                    row_sums[k] = Some([a, b, c])
                }
                [None, None, None] if optional && !large => {}
                _ => {
                    return Err(bad(
                        Some(r),
                        &format!("{name}_p0"),
                        format!(
                            "expected three whole-number limb sums ≥ 0{}, found {limbs:?}",
                            if optional {
                                " in every row or null in every row"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        }
        let mut row_counts = [0; 4];
        for (k, name) in COUNTS.iter().enumerate() {
            row_counts[k] = if k >= 2 && !large {
                counts[k][r].map_or(Ok(0), |v| count(name, Some(v)))?
            } else {
                count(name, counts[k][r])?
            };
        }
        let segments = segment_values.iter().map(|v| v[r].clone()).collect();
        rows.push(AggregateRow {
            segments,
            confidence: c,
            records,
            sums: row_sums,
            counts: row_counts,
        });
    }
    if rows.is_empty() {
        return Err(LoadError::Empty { path: label.into() });
    }
    Ok(Aggregate {
        segments: segment_names,
        resolution: first_resolution as i64,
        large,
        rows,
    })
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
