//! Parquet logs: the log columns present in the file, read whole (Parquet is not a stream),
//! then walked row by row as JSON values through the same record rules as JSON Lines.
//!
//! Owns turning a polars cell into a JSON value. Memory here grows with the file's records
//! (the projected columns only); JSON Lines and CSV stream.

use std::fs::File;

use polars::prelude::{AnyValue, DataFrame};
use serde_json::Value as Json;

use super::{Cell, LogError, LogOptions, LogRecord, record};
use crate::input::Progress;
use crate::input::table::parquet_columns;

/// Reads every record of a Parquet file; rows are numbered from 1 (reported as lines).
pub(super) fn parquet_records(
    file: File,
    options: &LogOptions,
    path: &str,
    progress: &dyn Progress,
    each: &mut dyn FnMut(LogRecord),
) -> Result<u64, LogError> {
    let wanted = super::wanted(options);
    let frame: DataFrame = parquet_columns(file, |n| wanted.iter().any(|w| w == n), path)?;
    let columns = frame.columns();
    // The frame's column of each wanted column, if the file has it.
    let at: Vec<Option<usize>> = (wanted.iter())
        .map(|w| columns.iter().position(|c| c.name().as_str() == w))
        .collect();
    let mut row: Vec<Json> = Vec::with_capacity(columns.len());
    let mut sets = super::cells::LabelSets::default();
    for i in 0..frame.height() {
        row.clear();
        for column in columns {
            row.push(column.get(i).map_or(Json::Null, |v| json(&v)));
        }
        let cells = &row;
        let get = |k: usize| at[k].map_or(Cell::Missing, |c| Cell::Json(&cells[c]));
        each(record(
            &get,
            &mut sets,
            &wanted,
            options,
            path,
            i as u64 + 1,
        )?);
        if i % 65_536 == 0 {
            progress.advance(0);
        }
    }
    Ok(frame.height() as u64)
}

/// A cell as JSON: null, booleans, numbers and text; anything else as its text.
fn json(v: &AnyValue<'_>) -> Json {
    match v {
        AnyValue::Null => Json::Null,
        AnyValue::Boolean(b) => Json::Bool(*b),
        AnyValue::String(s) => Json::String(s.to_string()),
        AnyValue::StringOwned(s) => Json::String(s.to_string()),
        // NaN and infinities as text, so that the field's check refuses them (not a null).
        AnyValue::Float64(x) => float(*x),
        AnyValue::Float32(x) => float(f64::from(*x)),
        AnyValue::Int64(x) => Json::from(*x),
        AnyValue::Int32(x) => Json::from(*x),
        AnyValue::Int16(x) => Json::from(*x),
        AnyValue::Int8(x) => Json::from(*x),
        AnyValue::UInt64(x) => Json::from(*x),
        AnyValue::UInt32(x) => Json::from(*x),
        AnyValue::UInt16(x) => Json::from(*x),
        AnyValue::UInt8(x) => Json::from(*x),
        other => Json::String(other.to_string()),
    }
}

/// A double as a JSON number, or as its text when it is not finite.
fn float(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or_else(|| Json::String(x.to_string()), Json::Number)
}
