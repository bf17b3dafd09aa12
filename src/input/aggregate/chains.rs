//! The chain aggregate (issue 18 for chains): its schema, and reading one from Parquet.
//!
//! One row per cell: the prompts whose models' confidence keys are all equal. For model i
//! (models in name order) the row holds its name `model_i`, its key `confidence_i` and the limb
//! sums `quality_i_p0..`, `cost_i_p0..` and `latency_ms_i_p0..` (null without latencies); then
//! `records`, `invalid_records` and the oracle's sums `oracle_quality_p0..` and
//! `oracle_cost_p0..` over all the models. Owns these names, shared by `calibrate aggregate`,
//! `calibrate sql` and the readers, and the checks of every row. It must not compute:
//! `engine::chains::cells` turns the limbs into sums.

use std::fs::File;

use polars::prelude::*;

use super::{MAX_RECORDS, Read, limb_columns, limbs_fit, shown};
use crate::input::LoadError;

/// The schema version, the value of [`CHAIN_VERSION_COLUMN`] in every row.
pub const CHAIN_VERSION: i64 = 1;
/// The column that marks a table as a chain aggregate and holds its schema version.
pub const CHAIN_VERSION_COLUMN: &str = "calibrate_chain_aggregate";
/// The oracle's summed quantities.
pub const ORACLE_SUMS: [&str; 2] = ["oracle_quality", "oracle_cost"];

/// Model i's name column.
pub fn model_column(i: usize) -> String {
    format!("model_{i}")
}

/// Model i's confidence key column.
pub fn confidence_column(i: usize) -> String {
    format!("confidence_{i}")
}

/// Model i's summed quantities: quality, cost, latency (ms).
pub fn model_sums(i: usize) -> [String; 3] {
    [
        format!("quality_{i}"),
        format!("cost_{i}"),
        format!("latency_ms_{i}"),
    ]
}

/// Whether a table with these column names is a chain aggregate.
pub fn is_chain_aggregate(names: &[String]) -> bool {
    names.iter().any(|n| n == CHAIN_VERSION_COLUMN)
}

/// One row of a chain aggregate, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainAggregateRow {
    /// The confidence key per model.
    pub confidence: Vec<f64>,
    /// Prompts in the cell.
    pub records: u64,
    /// Per model: quality, cost and latency limb sums (latency `None` without latencies).
    pub sums: Vec<[Option<[i128; 3]>; 3]>,
    /// The oracle's quality and cost limb sums.
    pub oracle: [[i128; 3]; 2],
}

/// A chain aggregate table.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainAggregate {
    /// Model names, in column order.
    pub models: Vec<String>,
    /// Per model, whether it carries latencies.
    pub latency: Vec<bool>,
    /// -1 for exact confidences, else the resolution k.
    pub resolution: i64,
    /// The rows, in file order.
    pub rows: Vec<ChainAggregateRow>,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Reads a chain aggregate from a Parquet file, refusing a row whose value the raw path would
/// refuse.
pub fn read_chain_aggregate(
    path: &std::path::Path,
    label: &str,
) -> Result<ChainAggregate, LoadError> {
    let io = |source| LoadError::Io {
        path: label.into(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let sha256 = crate::input::source::sha256_of(&mut file, label)?;
    let bytes = file.metadata().map_err(io)?.len();
    let frame = crate::input::table::parquet_frame(file, label)?;
    let read = Read {
        frame: &frame,
        label,
        first: 0,
    };
    if frame.height() == 0 {
        return Err(LoadError::Reader {
            path: label.into(),
            message: "a chain aggregate with no rows (it holds no prompts)".into(),
        });
    }
    let models = model_names(&read)?;
    let resolution = resolution(&read)?;
    let ints = |name: &str| read.ints(name);
    let limbs = |sum: &str| -> Result<Vec<[Option<i128>; 3]>, LoadError> {
        let [a, b, c] = limb_columns(sum).map(|c| ints(&c));
        let (a, b, c) = (a?, b?, c?);
        Ok((0..a.len()).map(|r| [a[r], b[r], c[r]]).collect())
    };
    let mut confidence = Vec::new();
    let mut sums = Vec::new();
    for i in 0..models.len() {
        let c = read.cast(&confidence_column(i), &DataType::Float64)?;
        confidence.push(c.f64().expect("cast to f64").iter().collect::<Vec<_>>());
        let [q, k, l] = model_sums(i).map(|s| limbs(&s));
        sums.push([q?, k?, l?]);
    }
    let latency: Vec<bool> = (sums.iter())
        .map(|s| s[2].first().is_some_and(|l| l[0].is_some()))
        .collect();
    let columns = ChainColumns {
        records: ints(super::RECORDS)?,
        invalid: ints(super::INVALID)?,
        oracle: [limbs(ORACLE_SUMS[0])?, limbs(ORACLE_SUMS[1])?],
        confidence,
        sums,
        latency: latency.clone(),
        resolution,
    };
    let rows = (0..frame.height())
        .map(|r| columns.row(&read, r))
        .collect::<Result<Vec<_>, _>>()?;
    let total: u128 = rows.iter().map(|r| u128::from(r.records)).sum();
    if total > u128::from(MAX_RECORDS) {
        let why = format!("{total} records in all; at most 2^53");
        return Err(read.bad(None, super::RECORDS, why));
    }
    Ok(ChainAggregate {
        models,
        latency,
        resolution,
        rows,
        sha256,
        bytes,
    })
}

/// A chain aggregate's columns, each whole.
struct ChainColumns {
    records: Vec<Option<i128>>,
    invalid: Vec<Option<i128>>,
    oracle: [Vec<[Option<i128>; 3]>; 2],
    confidence: Vec<Vec<Option<f64>>>,
    sums: Vec<[Vec<[Option<i128>; 3]>; 3]>,
    latency: Vec<bool>,
    resolution: i64,
}

impl ChainColumns {
    /// Row `r`, checked.
    fn row(&self, read: &Read<'_>, r: usize) -> Result<ChainAggregateRow, LoadError> {
        let n = read.count(r, super::RECORDS, self.records[r])?;
        if n == 0 || n > MAX_RECORDS {
            let why = format!("expected 1 to 2^53 records, found {n}");
            return Err(read.bad(Some(r), super::RECORDS, why));
        }
        let bad = read.count(r, super::INVALID, self.invalid[r])?;
        if bad > 0 {
            let why = format!(
                "{bad} prompts lack a model's row, have two, or have a missing or out-of-range \
                 field (a confidence that is not finite, a quality outside [0, 1], a negative \
                 cost or latency, or one of 1e30 or more); the raw path refuses them: fix the \
                 source table"
            );
            return Err(read.bad(Some(r), super::INVALID, why));
        }
        let keys = (self.confidence.iter().enumerate())
            .map(|(i, column)| key_at(read, r, i, column[r], self.resolution))
            .collect::<Result<Vec<f64>, _>>()?;
        let mut sums = Vec::with_capacity(keys.len());
        for (i, [q, k, l]) in self.sums.iter().enumerate() {
            let [qn, kn, ln] = model_sums(i);
            let q = fitting(read, r, &qn, q[r], n)?;
            let k = fitting(read, r, &kn, k[r], n)?;
            let l = match self.latency[i] {
                true => Some(fitting(read, r, &ln, l[r], n)?),
                false if l[r].iter().all(Option::is_none) => None,
                false => {
                    let why = "expected null: the first row has no latencies for this model";
                    return Err(read.bad(Some(r), &format!("{ln}_p0"), why.into()));
                }
            };
            // A quality lies in [0, 1], so its sum over n prompts in [0, n].
            if normal(q) > whole(n) {
                let why = format!("a quality sum above its {n} prompts (qualities lie in [0, 1])");
                return Err(read.bad(Some(r), &format!("{qn}_p0"), why));
            }
            sums.push([Some(q), Some(k), l]);
        }
        let oracle = [
            fitting(read, r, ORACLE_SUMS[0], self.oracle[0][r], n)?,
            fitting(read, r, ORACLE_SUMS[1], self.oracle[1][r], n)?,
        ];
        // The oracle's quality is each prompt's best: at least every model's, at most 1.
        let best = normal(oracle[0]);
        let most = (sums.iter())
            .filter_map(|s| s[0].map(normal))
            .max()
            .unwrap_or_default();
        if best > whole(n) || best < most {
            let why = format!(
                "the oracle's quality sum must lie between the best model's and the {n} prompts \
                 (each prompt's oracle quality is its best model's, at most 1)"
            );
            return Err(read.bad(Some(r), &format!("{}_p0", ORACLE_SUMS[0]), why));
        }
        Ok(ChainAggregateRow {
            confidence: keys,
            records: n,
            sums,
            oracle,
        })
    }
}

/// The models' names: `model_0`, `model_1`, .. (at least two), each the same text in every row,
/// distinct and in byte order.
fn model_names(read: &Read<'_>) -> Result<Vec<String>, LoadError> {
    let names = read.frame.get_column_names();
    let count = (0..)
        .take_while(|&i| names.iter().any(|n| **n == *model_column(i)))
        .count();
    if count < 2 {
        let why = "expected a model name column for each of at least two models (model_0, \
                   model_1, ..)";
        return Err(read.bad(None, &model_column(count), why.into()));
    }
    let mut models: Vec<String> = Vec::with_capacity(count);
    for i in 0..count {
        let name = model_column(i);
        let column = read.cast(&name, &DataType::String)?;
        let values = column.str().expect("cast to text");
        let first = values.get(0).unwrap_or_default().to_string();
        if let Some(r) = (0..values.len()).find(|&r| values.get(r) != Some(first.as_str())) {
            let found = values.get(r).map_or("null".into(), |v| format!("{v:?}"));
            let why = format!("expected {first:?} in every row, found {found}");
            return Err(read.bad(Some(r), &name, why));
        }
        if first.is_empty() || models.last().is_some_and(|m| *m >= first) {
            let why = format!(
                "expected a non-empty model name after {:?} in byte order, found {first:?}",
                models.last().map_or("", String::as_str)
            );
            return Err(read.bad(None, &name, why));
        }
        models.push(first);
    }
    Ok(models)
}

/// The version, checked in every row, and the resolution, the same in every row.
fn resolution(read: &Read<'_>) -> Result<i64, LoadError> {
    read.version(CHAIN_VERSION_COLUMN, CHAIN_VERSION, "chain schema")?;
    let resolution = read.resolutions()?;
    Ok(resolution.first().copied().flatten().unwrap_or(-1) as i64)
}

/// Row `r`'s key of model `i`: finite, and a multiple of 2^-k at resolution k.
fn key_at(
    read: &Read<'_>,
    r: usize,
    i: usize,
    c: Option<f64>,
    resolution: i64,
) -> Result<f64, LoadError> {
    // floor(c · 2^k) / 2^k, as `engine::cells::key` computes it.
    let scale = 2f64.powi(resolution.max(0) as i32);
    let on_grid = |c: f64| resolution < 0 || (c * scale).floor() / scale == c;
    match c {
        Some(c) if c.is_finite() && on_grid(c) => Ok(c + 0.0),
        other => {
            let found = other.map_or("null".into(), |c| c.to_string());
            let why = match resolution {
                k if k < 0 => format!("expected a finite number, found {found}"),
                k => {
                    format!("expected a finite multiple of 2^-{k} (resolution {k}), found {found}")
                }
            };
            Err(read.bad(Some(r), &confidence_column(i), why))
        }
    }
}

/// Limb sums with the lower two carried up (each in [0, 2^60)), so that comparing the triples
/// compares the sums exactly.
fn normal([p0, p1, p2]: [i128; 3]) -> (i128, i128, i128) {
    let limb = 1i128 << 60;
    let (p1, p2) = (p1 + p2.div_euclid(limb), p2.rem_euclid(limb));
    (p0 + p1.div_euclid(limb), p1.rem_euclid(limb), p2)
}

/// The whole number `n` as normal limbs: n = p0 · 2^40 + p1 · 2^-20.
fn whole(n: u64) -> (i128, i128, i128) {
    let n = i128::from(n);
    (n >> 40, (n & ((1 << 40) - 1)) << 20, 0)
}

/// Row `r`'s three limb sums of `sum` over `records` values in range.
fn fitting(
    read: &Read<'_>,
    r: usize,
    sum: &str,
    limbs: [Option<i128>; 3],
    records: u64,
) -> Result<[i128; 3], LoadError> {
    match limbs {
        [Some(a), Some(b), Some(c)] if limbs_fit([a, b, c], records) => Ok([a, b, c]),
        found => {
            let found = found.map(shown).join(", ");
            let why = format!(
                "expected three whole-number limb sums ≥ 0 of {records} values, found {found}"
            );
            Err(read.bad(Some(r), &format!("{sum}_p0"), why))
        }
    }
}
