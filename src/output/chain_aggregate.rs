//! The chain aggregate as Parquet bytes (chain schema version 1; column names from
//! `input::aggregate::chains`).
//!
//! Owns the column types a chain aggregate is written with: the limb sums as DECIMAL(38,0),
//! counts as 64-bit integers, model names as text. It must not compute: the cells arrive summed.

use anyhow::Result;
use polars::prelude::*;

use crate::engine::chains::{ChainCell, ChainTable};
use crate::engine::exact::Exact;
use crate::input::aggregate::chains::{
    CHAIN_VERSION, CHAIN_VERSION_COLUMN, ORACLE_SUMS, confidence_column, model_column, model_sums,
};
use crate::input::aggregate::{INVALID, RECORDS, RESOLUTION, limb_columns};

/// The table as a Parquet file: one row per cell, in key order.
pub fn chain_aggregate_parquet(table: &ChainTable) -> Result<Vec<u8>> {
    let cells: Vec<(Vec<f64>, &ChainCell)> = table.cells().collect();
    let n = cells.len();
    let mut columns: Vec<Column> = vec![
        Column::new(CHAIN_VERSION_COLUMN.into(), vec![CHAIN_VERSION as i32; n]),
        Column::new(RESOLUTION.into(), vec![table.resolution as i32; n]),
    ];
    let decimal = |name: String, values: Vec<Option<i128>>| -> Result<Column> {
        let chunked = Int128Chunked::from_iter_options(name.into(), values.into_iter());
        Ok(chunked.into_decimal(38, 0)?.into_series().into())
    };
    let limbs = |columns: &mut Vec<Column>, sum: &str, of: &dyn Fn(&ChainCell) -> Option<Exact>| {
        for (k, name) in limb_columns(sum).into_iter().enumerate() {
            let values = (cells.iter())
                .map(|(_, c)| of(c).map(|e| [e.p0, e.p1, e.p2][k]))
                .collect();
            columns.push(decimal(name, values)?);
        }
        anyhow::Ok(())
    };
    for (i, name) in table.models.iter().enumerate() {
        columns.push(Column::new(model_column(i).into(), vec![name.as_str(); n]));
        let keys: Vec<f64> = cells.iter().map(|(k, _)| k[i]).collect();
        columns.push(Column::new(confidence_column(i).into(), keys));
        let [quality, cost, latency] = model_sums(i);
        limbs(&mut columns, &quality, &|c| Some(c.quality[i]))?;
        limbs(&mut columns, &cost, &|c| Some(c.cost[i]))?;
        let timed = table.latency[i];
        limbs(&mut columns, &latency, &|c| timed.then(|| c.latency[i]))?;
    }
    let records: Vec<i64> = cells.iter().map(|(_, c)| c.records as i64).collect();
    columns.push(Column::new(RECORDS.into(), records));
    columns.push(Column::new(INVALID.into(), vec![0i64; n]));
    limbs(&mut columns, ORACLE_SUMS[0], &|c| Some(c.oracle_quality))?;
    limbs(&mut columns, ORACLE_SUMS[1], &|c| Some(c.oracle_cost))?;
    let mut frame = DataFrame::new(n, columns)?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame)?;
    Ok(bytes)
}
