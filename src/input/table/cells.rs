//! Turns polars' typed columns into what validation reads: whole clean columns on the fast
//! path, [`Cell`]s per row for the fixed fields, [`Raw`] values per row for the extras.
//!
//! Owns the mapping from polars types to values. It must not validate (beyond the fast path's
//! check that a whole column is valid) nor decide which columns are read.

use std::borrow::Cow;
use std::collections::HashMap;

use polars::prelude::*;
use serde_json::Value as Json;

use crate::input::columns::READ_FIELDS;
use crate::input::error::LoadError;
use crate::input::extra::{ExtraColumns, ExtraKind, ExtraRequest, Raw};
use crate::input::field::Field;
use crate::input::value::{Cell, valid_number};
use crate::input::{EvalSet, Format, Labels};

/// One fixed field's cells, row by row.
pub type CellIter<'a> = Box<dyn Iterator<Item = Cell<'a>> + 'a>;

/// The fast path: when every wanted column is typed, has no nulls and holds only valid values,
/// build the eval set column by column. `None` sends the caller to the per-row path, which
/// names the first bad row.
pub fn clean(frame: &DataFrame, wanted: &[Option<String>]) -> Option<EvalSet> {
    let mut numbers: Vec<Option<Vec<f64>>> = Vec::with_capacity(READ_FIELDS.len());
    let mut task_type = None;
    for (field, column) in READ_FIELDS.iter().zip(wanted) {
        let Some(name) = column else {
            numbers.push(None);
            continue;
        };
        let series = frame.column(name).ok()?.as_materialized_series();
        if series.null_count() > 0 {
            return None;
        }
        if *field == Field::TaskType {
            task_type = Some(tasks(series)?);
            numbers.push(None);
            continue;
        }
        numbers.push(Some(clean_numbers(*field, series)?));
    }
    let mut numbers = numbers.into_iter();
    let mut next = || numbers.next().flatten();
    Some(EvalSet {
        confidence: next()?,
        small_quality: next()?,
        large_quality: next(),
        small_cost: next(),
        large_cost: next(),
        input_tokens: next(),
        small_output_tokens: next(),
        large_output_tokens: next(),
        small_latency_ms: next(),
        large_latency_ms: next(),
        // Split labels are text, which sends a wanted split to the per-row path; here the
        // slot is empty.
        split: next().and(None),
        task_type,
    })
}

/// A numeric column whose every value is valid for `field` (qualities may be booleans).
fn clean_numbers(field: Field, series: &Series) -> Option<Vec<f64>> {
    let dtype = series.dtype();
    let quality = matches!(field, Field::SmallQuality | Field::LargeQuality);
    let values: Vec<f64> = if dtype.is_bool() && quality {
        let ca = series.bool().ok()?;
        ca.iter().flatten().map(f64::from).collect()
    } else if dtype.is_primitive_numeric() {
        let cast = series.cast(&DataType::Float64).ok()?;
        // `-0.0` is stored as 0 so sums and output never show "-0".
        cast.f64()
            .ok()?
            .into_no_null_iter()
            .map(|x| x + 0.0)
            .collect()
    } else {
        return None;
    };
    values
        .iter()
        .all(|&x| valid_number(field, x))
        .then_some(values)
}

/// Task types of a text or integer column as codes into sorted names.
fn tasks(series: &Series) -> Option<Labels> {
    let text = if series.dtype() == &DataType::String {
        series.clone()
    } else if series.dtype().is_integer() {
        series.cast(&DataType::String).ok()?
    } else {
        return None;
    };
    let ca = text.str().ok()?;
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
    for s in ca.iter().flatten() {
        let code = *index.entry(s).or_insert_with(|| {
            names.push(s.to_string());
            names.len() as u32 - 1
        });
        codes.push(code);
    }
    Some(Labels::sorted(codes, names))
}

/// Turns a polars column into cells, or `None` for a type no field accepts.
pub fn cells(series: &Series) -> Option<CellIter<'_>> {
    let dtype = series.dtype();
    if dtype.is_bool() {
        let ca = series.bool().ok()?;
        return Some(Box::new(
            ca.iter().map(|v| v.map_or(Cell::Null, Cell::Bool)),
        ));
    }
    if dtype == &DataType::String {
        let ca = series.str().ok()?;
        return Some(Box::new(
            ca.iter()
                .map(|v| v.map_or(Cell::Null, |s| Cell::Text(s.into()))),
        ));
    }
    if dtype.is_primitive_numeric() {
        let cast = series.cast(&DataType::Float64).ok()?;
        let values: Vec<Option<f64>> = cast.f64().ok()?.iter().collect();
        return Some(Box::new(
            values
                .into_iter()
                .map(|v| v.map_or(Cell::Null, Cell::Number)),
        ));
    }
    None
}

/// One requested column's values, row by row (`None`: the table has no such column).
type RawIter<'a> = Box<dyn Iterator<Item = Option<Raw<'a>>> + 'a>;

/// The requested extra columns of a table, walked row by row beside the fixed fields.
pub struct TableExtras<'a> {
    requests: Vec<ExtraRequest>,
    iters: Vec<RawIter<'a>>,
    row: Vec<Option<Raw<'a>>>,
    /// The first requested column of a type its kind cannot read, reported after the fixed
    /// fields' errors.
    bad_type: Option<(String, String, ExtraKind)>,
}

impl<'a> TableExtras<'a> {
    /// Walkers over `frame`'s columns for `requests`.
    pub fn new(frame: &'a DataFrame, requests: &[ExtraRequest], format: Format) -> Self {
        let mut bad_type = None;
        let mut iters: Vec<RawIter<'a>> = Vec::with_capacity(requests.len());
        for r in requests {
            let Ok(column) = frame.column(&r.column) else {
                iters.push(Box::new(std::iter::repeat(None)));
                continue;
            };
            let series = column.as_materialized_series();
            match raws(series, r.kind, format) {
                Some(iter) => iters.push(iter),
                None => {
                    let dtype = series.dtype().to_string();
                    bad_type.get_or_insert((r.column.clone(), dtype, r.kind));
                    iters.push(Box::new(std::iter::repeat(None)));
                }
            }
        }
        TableExtras {
            requests: requests.to_vec(),
            row: vec![None; requests.len()],
            iters,
            bad_type,
        }
    }

    /// Empty columns for the requests; request `k` reads value `k` of each row.
    pub fn columns(&self) -> ExtraColumns {
        let slots: Vec<usize> = (0..self.requests.len()).collect();
        ExtraColumns::new(&self.requests, &slots)
    }

    /// The next row's values.
    pub fn next_row(&mut self) -> &[Option<Raw<'a>>] {
        for (value, iter) in self.row.iter_mut().zip(&mut self.iters) {
            *value = iter.next().flatten();
        }
        &self.row
    }

    /// The error for a column of a type its kind cannot read, if any.
    pub fn take_error(&mut self, label: &str) -> Option<LoadError> {
        let (column, dtype, kind) = self.bad_type.take()?;
        Some(LoadError::Reader {
            path: label.into(),
            message: format!(
                "column \"{column}\" has type {dtype}; expected {}",
                kind.expected()
            ),
        })
    }
}

/// A column's values as `kind` reads them, or `None` for a type it cannot read. Text cells of
/// array kinds hold JSON array text; in CSV an empty cell is empty text for a text column and
/// null otherwise.
fn raws(series: &Series, kind: ExtraKind, format: Format) -> Option<RawIter<'_>> {
    let csv = format == Format::Csv;
    if series.dtype() == &DataType::String {
        let ca = series.str().ok()?;
        return Some(Box::new(
            ca.iter().map(move |v| Some(text_raw(v, kind, csv))),
        ));
    }
    let values = json_values(series)?;
    let raw = move |v: Json| match v {
        Json::Null => null_raw(kind, csv),
        v => Raw::Json(v),
    };
    Some(Box::new(values.into_iter().map(move |v| Some(raw(v)))))
}

/// A text cell: JSON array text parsed for the array kinds; an empty CSV cell is null.
fn text_raw(cell: Option<&str>, kind: ExtraKind, csv: bool) -> Raw<'_> {
    match cell {
        None => null_raw(kind, csv),
        Some("") if csv && kind != ExtraKind::Text => Raw::Json(Json::Null),
        Some(s) if matches!(kind, ExtraKind::Logprobs | ExtraKind::Samples) => {
            serde_json::from_str(s).map_or(Raw::Text(Cow::Borrowed(s)), Raw::Json)
        }
        Some(s) => Raw::Text(Cow::Borrowed(s)),
    }
}

/// A null cell: in CSV, where an empty cell reads as null, empty text for a text column.
fn null_raw(kind: ExtraKind, csv: bool) -> Raw<'static> {
    match kind {
        ExtraKind::Text if csv => Raw::Text(Cow::Borrowed("")),
        _ => Raw::Json(Json::Null),
    }
}

/// A typed column as JSON values: scalars, and lists of scalars.
fn json_values(series: &Series) -> Option<Vec<Json>> {
    let dtype = series.dtype();
    if let DataType::List(_) = dtype {
        let lists = series.list().ok()?;
        return lists
            .series_iter()
            .map(|item| match item {
                None => Some(Json::Null),
                Some(inner) => json_values(&inner).map(Json::Array),
            })
            .collect();
    }
    if dtype.is_bool() {
        let ca = series.bool().ok()?;
        return Some(
            ca.iter()
                .map(|v| v.map_or(Json::Null, Json::Bool))
                .collect(),
        );
    }
    if dtype == &DataType::String {
        let ca = series.str().ok()?;
        return Some(
            ca.iter()
                .map(|v| v.map_or(Json::Null, Json::from))
                .collect(),
        );
    }
    if dtype.is_integer() {
        let cast = series.cast(&DataType::Int64).ok()?;
        let ca = cast.i64().ok()?;
        return Some(
            ca.iter()
                .map(|v| v.map_or(Json::Null, Json::from))
                .collect(),
        );
    }
    if dtype.is_primitive_numeric() {
        let cast = series.cast(&DataType::Float64).ok()?;
        let number = |v: Option<f64>| {
            v.and_then(serde_json::Number::from_f64)
                .map_or(Json::Null, Json::Number)
        };
        return Some(cast.f64().ok()?.iter().map(number).collect());
    }
    None
}
