//! The aggregate as Parquet bytes (schema version 1; column names from `input::aggregate`).
//!
//! Owns the column types an aggregate is written with: the limb sums as DECIMAL(38,0), counts as
//! 64-bit integers, segment values as text. It must not compute: the cells arrive summed.

use anyhow::Result;
use polars::prelude::*;

use crate::engine::cells::CellTable;
use crate::input::aggregate::{
    CONFIDENCE, COUNTS, INVALID, RECORDS, RESOLUTION, SEGMENT_PREFIX, SUMS, VERSION,
    VERSION_COLUMN, limb_columns,
};

/// The table as a Parquet file, rows in key order (segment values, then descending confidence).
pub fn aggregate_parquet(table: &CellTable) -> Result<Vec<u8>> {
    let cells: Vec<_> = table.cells().collect();
    let n = cells.len();
    let mut columns: Vec<Column> = vec![
        Column::new(VERSION_COLUMN.into(), vec![VERSION as i32; n]),
        Column::new(RESOLUTION.into(), vec![table.resolution as i32; n]),
    ];
    for (k, name) in table.segments.iter().enumerate() {
        let values: Vec<Option<&str>> = cells.iter().map(|(s, _, _)| s[k].as_deref()).collect();
        columns.push(Column::new(
            format!("{SEGMENT_PREFIX}{name}").into(),
            values,
        ));
    }
    let confidence: Vec<f64> = cells.iter().map(|(_, c, _)| *c).collect();
    columns.push(Column::new(CONFIDENCE.into(), confidence));
    let records: Vec<i64> = cells.iter().map(|(_, _, c)| c.records as i64).collect();
    columns.push(Column::new(RECORDS.into(), records));
    columns.push(Column::new(INVALID.into(), vec![0i64; n]));
    for (k, sum) in SUMS.iter().enumerate() {
        for (limb, name) in limb_columns(sum).into_iter().enumerate() {
            let values = cells
                .iter()
                .map(|(_, _, c)| c.sums()[k].map(|e| [e.p0, e.p1, e.p2][limb]));
            let decimal = Int128Chunked::from_iter_options(name.into(), values)
                .into_decimal(38, 0)?
                .into_series();
            columns.push(decimal.into());
        }
    }
    for (k, name) in COUNTS.iter().enumerate() {
        let values: Vec<i64> = cells
            .iter()
            .map(|(_, _, c)| {
                [
                    c.small_right,
                    c.small_fractional,
                    c.large_right,
                    c.large_fractional,
                ][k] as i64
            })
            .collect();
        columns.push(Column::new((*name).into(), values));
    }
    let mut frame = DataFrame::new(n, columns)?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame)?;
    Ok(bytes)
}
