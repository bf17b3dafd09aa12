//! The aggregate as Parquet bytes (schema version 1; column names from `input::aggregate`).
//!
//! Owns the column types an aggregate is written with: the limb sums as DECIMAL(38,0), counts as
//! 64-bit integers, segment values as text. It must not compute: the cells arrive summed.

use anyhow::Result;
use polars::prelude::*;

use crate::engine::cells::CellTable;
use crate::engine::exact::Exact;
use crate::input::aggregate::{
    CONFIDENCE, COUNTS, INVALID, LATENCY_BUCKET, LATENCY_PATH, LATENCY_SUM, PATHS, RECORDS,
    RESOLUTION, SEGMENT_PREFIX, SUMS, VERSION, VERSION_COLUMN, limb_columns,
};

/// The table as a Parquet file: its rows of sums in key order (segment values, then descending
/// confidence), then its latency rows in key order.
pub fn aggregate_parquet(table: &CellTable) -> Result<Vec<u8>> {
    let cells: Vec<_> = table.cells().collect();
    let latency = table.latency_rows();
    let (n, m) = (cells.len(), latency.len());
    let mut columns: Vec<Column> = vec![
        Column::new(VERSION_COLUMN.into(), vec![VERSION as i32; n + m]),
        Column::new(RESOLUTION.into(), vec![table.resolution as i32; n + m]),
    ];
    for (k, name) in table.segments.iter().enumerate() {
        let values = (cells.iter().map(|(s, _, _)| s[k].as_deref()))
            .chain(latency.iter().map(|l| l.0[k].as_deref()));
        let values: Vec<Option<&str>> = values.collect();
        columns.push(Column::new(
            format!("{SEGMENT_PREFIX}{name}").into(),
            values,
        ));
    }
    let confidence: Vec<f64> = (cells.iter().map(|(_, c, _)| *c))
        .chain(latency.iter().map(|l| l.1))
        .collect();
    columns.push(Column::new(CONFIDENCE.into(), confidence));
    let records: Vec<i64> = (cells.iter().map(|(_, _, c)| c.records as i64))
        .chain(latency.iter().map(|l| l.4 as i64))
        .collect();
    columns.push(Column::new(RECORDS.into(), records));
    columns.push(Column::new(INVALID.into(), vec![0i64; n + m]));
    // Limb columns in two runs, built apart: rows of sums then latency rows, one of them null
    // (a column of a few thousand values then hundreds of thousands of nulls, or the reverse).
    let decimal = |name: String, sums: Int128Chunked, latency: Int128Chunked| -> Result<Column> {
        let mut chunked = sums.with_name(name.into());
        chunked.append(&latency)?;
        Ok(chunked.into_decimal(38, 0)?.into_series().into())
    };
    for (k, sum) in SUMS.iter().enumerate() {
        for (limb, name) in limb_columns(sum).into_iter().enumerate() {
            let values = cells
                .iter()
                .map(|(_, _, c)| c.sums()[k].map(|e| limb_of(&e, limb)));
            let sums = Int128Chunked::from_iter_options("".into(), values);
            columns.push(decimal(name, sums, Int128Chunked::full_null("".into(), m))?);
        }
    }
    for (k, name) in COUNTS.iter().enumerate() {
        let values: Vec<Option<i64>> = (cells.iter())
            .map(|(_, _, c)| {
                let counts = [
                    c.small_right,
                    c.small_fractional,
                    c.large_right,
                    c.large_fractional,
                ];
                Some(counts[k] as i64)
            })
            .chain(std::iter::repeat_n(None, m))
            .collect();
        columns.push(Column::new((*name).into(), values));
    }
    let paths: Vec<Option<&str>> = (std::iter::repeat_n(None, n))
        .chain(latency.iter().map(|l| Some(PATHS[l.2])))
        .collect();
    columns.push(Column::new(LATENCY_PATH.into(), paths));
    let buckets: Vec<Option<i64>> = (std::iter::repeat_n(None, n))
        .chain(latency.iter().map(|l| Some(l.3 as i64)))
        .collect();
    columns.push(Column::new(LATENCY_BUCKET.into(), buckets));
    for (limb, name) in limb_columns(LATENCY_SUM).into_iter().enumerate() {
        let values = latency.iter().map(|l| limb_of(l.5, limb)).collect();
        let latency = Int128Chunked::from_vec("".into(), values);
        columns.push(decimal(
            name,
            Int128Chunked::full_null("".into(), n),
            latency,
        )?);
    }
    let mut frame = DataFrame::new(n + m, columns)?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame)?;
    Ok(bytes)
}

/// Limb `k` of an exact sum.
fn limb_of(e: &Exact, k: usize) -> i128 {
    [e.p0, e.p1, e.p2][k]
}
