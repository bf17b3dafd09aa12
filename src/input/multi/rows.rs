//! Records of a multi-model input, one per prompt and model, each value validated as it is
//! read: JSON Lines in the long or nested form, CSV in the long form.
//!
//! Owns turning a record into a [`Parsed`] row or a [`RecordProblem`]. Must not join records.

use std::borrow::Cow;

use super::super::error::{LoadError, Location, RecordProblem};
use super::super::field::Field;
use super::super::lines::RecordLines;
use super::super::value::{Cell, Value, validate, validate_split};
use super::{MultiForm, Names};

/// One model's answer to one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Which input file (0: the one named first, then the `--join` files in order).
    pub file: usize,
    /// Where the record is in it.
    pub location: Location,
    /// The prompt id.
    pub id: String,
    /// The model.
    pub model: String,
    /// Confidence.
    pub confidence: f64,
    /// Quality in [0, 1].
    pub quality: f64,
    /// Cost, if given.
    pub cost: Option<f64>,
    /// Prompt tokens, if given.
    pub input_tokens: Option<f64>,
    /// Generated tokens, if given.
    pub output_tokens: Option<f64>,
    /// Latency (ms), if given.
    pub latency_ms: Option<f64>,
    /// Task type, if given.
    pub task_type: Option<String>,
    /// True for the held-out part, when splitting.
    pub test: Option<bool>,
}

/// A record's rows (one per model) or what is wrong with it.
pub type Read = Result<Vec<Parsed>, RecordProblem>;

/// Looks a column up in a record.
trait Lookup {
    fn cell(&self, column: &str) -> Cell<'_>;
}

impl Lookup for serde_json::Map<String, serde_json::Value> {
    fn cell(&self, column: &str) -> Cell<'_> {
        match self.get(column) {
            None => Cell::Missing,
            Some(v) => json_cell(v),
        }
    }
}

fn json_cell(v: &serde_json::Value) -> Cell<'_> {
    use serde_json::Value as J;
    match v {
        J::Null => Cell::Null,
        J::Bool(b) => Cell::Bool(*b),
        J::Number(n) => n
            .as_f64()
            .map_or(Cell::Unsupported("a number out of range"), Cell::Number),
        J::String(s) => Cell::Text(Cow::Borrowed(s)),
        J::Array(_) => Cell::Unsupported("an array"),
        J::Object(_) => Cell::Unsupported("an object"),
    }
}

struct CsvRow<'a> {
    header: &'a [String],
    row: &'a csv::StringRecord,
}

impl Lookup for CsvRow<'_> {
    fn cell(&self, column: &str) -> Cell<'_> {
        match self.header.iter().position(|h| h == column) {
            None => Cell::Missing,
            Some(i) => match self.row.get(i) {
                None | Some("") => Cell::Null,
                Some(s) => Cell::Text(Cow::Borrowed(s)),
            },
        }
    }
}

/// The problem with `cell` read as `field` from `column` (named as in the file).
fn problem(location: Location, column: &str, p: super::super::value::Problem) -> RecordProblem {
    RecordProblem {
        location,
        column: Some(column.to_string()),
        expected: p.expected.into_owned(),
        found: p.found,
    }
}

fn number(
    r: &dyn Lookup,
    location: Location,
    field: Field,
    column: &str,
    shown: &str,
) -> Result<f64, RecordProblem> {
    match validate(field, r.cell(column)) {
        Ok(Value::Number(x)) => Ok(x),
        Ok(Value::Label(_)) => unreachable!("numeric fields validate to numbers"),
        Err(p) => Err(problem(location, shown, p)),
    }
}

fn optional(
    r: &dyn Lookup,
    location: Location,
    field: Field,
    column: &str,
    shown: &str,
) -> Result<Option<f64>, RecordProblem> {
    match r.cell(column) {
        Cell::Missing | Cell::Null => Ok(None),
        _ => number(r, location, field, column, shown).map(Some),
    }
}

/// The cost per request a chain's record may not reach: `engine::economics::MAX_COST`, the bound
/// two-model eval sets are held to.
const MAX_COST: f64 = 1e30;

/// A cost below [`MAX_COST`] per request, as for two-model eval sets (a chain adds up to eight
/// stages' costs, and sums over prompts must stay finite).
fn below_max(
    cost: Option<f64>,
    location: Location,
    column: &str,
) -> Result<Option<f64>, RecordProblem> {
    match cost {
        Some(c) if c >= MAX_COST => Err(RecordProblem {
            location,
            column: Some(column.to_string()),
            expected: "a cost below 1e30 per request".into(),
            found: format!("{c:e}"),
        }),
        _ => Ok(cost),
    }
}

fn label(
    r: &dyn Lookup,
    location: Location,
    field: Field,
    column: &str,
) -> Result<String, RecordProblem> {
    match validate(field, r.cell(column)) {
        Ok(Value::Label(s)) => Ok(s.into_owned()),
        Ok(Value::Number(x)) => Ok(format!("{x}")),
        Err(p) => Err(problem(location, column, p)),
    }
}

/// The fields of the prompt (id, task type, split) read from the top-level record.
struct Prompt {
    id: String,
    task_type: Option<String>,
    test: Option<bool>,
}

fn prompt(r: &dyn Lookup, location: Location, names: &Names) -> Result<Prompt, RecordProblem> {
    let id = label(r, location, Field::Id, &names.id)?;
    let task_type = match r.cell(&names.task_type) {
        Cell::Missing | Cell::Null => None,
        _ => Some(label(r, location, Field::TaskType, &names.task_type)?),
    };
    let test = match &names.split {
        None => None,
        Some((column, labels)) => match validate_split(r.cell(column), labels) {
            Ok(Value::Number(x)) => Some(x == 1.0),
            Ok(Value::Label(_)) => None,
            Err(p) => return Err(problem(location, column, p)),
        },
    };
    Ok(Prompt {
        id,
        task_type,
        test,
    })
}

/// One model's fields from `r`; `prefix` names them in messages (`models.a.` in the nested
/// form).
fn answer(
    r: &dyn Lookup,
    location: Location,
    names: &Names,
    prefix: &str,
    p: &Prompt,
    model: String,
) -> Result<Parsed, RecordProblem> {
    let shown = |c: &str| format!("{prefix}{c}");
    Ok(Parsed {
        file: 0,
        location,
        confidence: number(
            r,
            location,
            Field::Confidence,
            &names.confidence,
            &shown(&names.confidence),
        )?,
        quality: number(
            r,
            location,
            Field::SmallQuality,
            &names.quality,
            &shown(&names.quality),
        )?,
        cost: below_max(
            optional(
                r,
                location,
                Field::SmallCost,
                &names.cost,
                &shown(&names.cost),
            )?,
            location,
            &names.cost,
        )?,
        input_tokens: optional(
            r,
            location,
            Field::InputTokens,
            &names.input_tokens,
            &shown(&names.input_tokens),
        )?,
        output_tokens: optional(
            r,
            location,
            Field::SmallOutputTokens,
            &names.output_tokens,
            &shown(&names.output_tokens),
        )?,
        latency_ms: optional(
            r,
            location,
            Field::SmallLatencyMs,
            &names.latency_ms,
            &shown(&names.latency_ms),
        )?,
        id: p.id.clone(),
        model,
        task_type: p.task_type.clone(),
        test: p.test,
    })
}

fn long(r: &dyn Lookup, location: Location, names: &Names, default: Option<&str>) -> Read {
    let p = prompt(r, location, names)?;
    let model = match (r.cell(&names.model), default) {
        (Cell::Missing, Some(d)) => d.to_string(),
        _ => label(r, location, Field::Id, &names.model).map_err(|mut e| {
            e.expected = "a model name".into();
            e
        })?,
    };
    Ok(vec![answer(r, location, names, "", &p, model)?])
}

fn nested(
    r: &serde_json::Map<String, serde_json::Value>,
    location: Location,
    names: &Names,
) -> Read {
    let p = prompt(r, location, names)?;
    let Some(serde_json::Value::Object(models)) = r.get(&names.models) else {
        return Err(RecordProblem {
            location,
            column: Some(names.models.clone()),
            expected: "an object of models, {\"model\": {\"confidence\": …, \"quality\": …}}"
                .into(),
            found: r.get(&names.models).map_or("no such field".into(), |v| {
                super::super::value::describe(&json_cell(v))
            }),
        });
    };
    let mut out = Vec::with_capacity(models.len());
    for (name, fields) in models {
        let serde_json::Value::Object(fields) = fields else {
            return Err(RecordProblem {
                location,
                column: Some(format!("{}.{name}", names.models)),
                expected: "an object of the model's fields".into(),
                found: super::super::value::describe(&json_cell(fields)),
            });
        };
        let prefix = format!("{}.{name}.", names.models);
        out.push(answer(fields, location, names, &prefix, &p, name.clone())?);
    }
    Ok(out)
}

/// The records of JSON Lines bytes.
pub fn json_records(
    bytes: &[u8],
    names: &Names,
    form: MultiForm,
    label: &str,
    default_model: Option<&str>,
) -> Result<Vec<Read>, LoadError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let location = Location::Line(i as u64 + 1);
        let text = std::str::from_utf8(line).map_err(|_| LoadError::Reader {
            path: label.into(),
            message: format!("{}: not UTF-8", i + 1),
        })?;
        if text.trim().is_empty() {
            continue;
        }
        out.push(match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => match form {
                MultiForm::Long => long(&map, location, names, default_model),
                MultiForm::Nested => nested(&map, location, names),
            },
            Ok(other) => Err(RecordProblem {
                location,
                column: None,
                expected: "a JSON object".into(),
                found: super::super::value::describe(&json_cell(&other)),
            }),
            Err(e) => Err(RecordProblem {
                location,
                column: None,
                expected: "a JSON object".into(),
                found: format!("invalid JSON ({e})"),
            }),
        });
    }
    Ok(out)
}

/// The records of CSV bytes (the long form).
pub fn csv_records(
    bytes: &[u8],
    names: &Names,
    label: &str,
    default_model: Option<&str>,
) -> Result<Vec<Read>, LoadError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let reader_error = |e: csv::Error| LoadError::Reader {
        path: label.into(),
        message: e.to_string(),
    };
    // Flexible: a row of the wrong width is a bad record of its own (named, and dropped by
    // --skip-invalid), as in a two-model CSV.
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = csv
        .headers()
        .map_err(reader_error)?
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    let mut lines = RecordLines::new(1);
    for row in csv.records() {
        let row = row.map_err(reader_error)?;
        let position = row.position().map_or(0, |p| p.byte() as usize);
        let location = Location::Line(lines.line_of(bytes, position).0);
        if row.len() != header.len() {
            out.push(Err(RecordProblem {
                location,
                column: None,
                expected: format!("{} fields as in the header", header.len()),
                found: row.len().to_string(),
            }));
            continue;
        }
        let r = CsvRow {
            header: &header,
            row: &row,
        };
        out.push(long(&r, location, names, default_model));
    }
    Ok(out)
}

/// One Parquet row: its cells by column name.
struct ParquetRow<'a> {
    names: &'a [String],
    row: &'a [polars::prelude::AnyValue<'a>],
}

impl Lookup for ParquetRow<'_> {
    fn cell(&self, column: &str) -> Cell<'_> {
        use polars::prelude::AnyValue as A;
        let Some(i) = self.names.iter().position(|n| n == column) else {
            return Cell::Missing;
        };
        match &self.row[i] {
            A::Null => Cell::Null,
            A::Boolean(b) => Cell::Bool(*b),
            A::String(s) => Cell::Text(Cow::Borrowed(s)),
            A::StringOwned(s) => Cell::Text(Cow::Borrowed(s.as_str())),
            A::Float64(x) => Cell::Number(*x),
            A::Float32(x) => Cell::Number(f64::from(*x)),
            A::Int64(x) => Cell::Number(*x as f64),
            A::Int32(x) => Cell::Number(f64::from(*x)),
            A::Int16(x) => Cell::Number(f64::from(*x)),
            A::Int8(x) => Cell::Number(f64::from(*x)),
            A::UInt64(x) => Cell::Number(*x as f64),
            A::UInt32(x) => Cell::Number(f64::from(*x)),
            A::UInt16(x) => Cell::Number(f64::from(*x)),
            A::UInt8(x) => Cell::Number(f64::from(*x)),
            _ => Cell::Unsupported("a value of another type"),
        }
    }
}

/// The records of a Parquet file (the long form), rows numbered from 1.
pub fn parquet_records(
    file: std::fs::File,
    names: &Names,
    label: &str,
    default_model: Option<&str>,
) -> Result<Vec<Read>, LoadError> {
    let wanted = names.columns();
    let frame = crate::input::table::parquet_columns(file, |n| wanted.contains(&n), label)?;
    let columns = frame.columns();
    let header: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
    let mut out = Vec::with_capacity(frame.height());
    let mut row = Vec::with_capacity(columns.len());
    for i in 0..frame.height() {
        row.clear();
        for c in columns {
            row.push(
                c.get(i)
                    .map_or(polars::prelude::AnyValue::Null, |v| v.into_static()),
            );
        }
        let r = ParquetRow {
            names: &header,
            row: &row,
        };
        out.push(long(&r, Location::Row(i as u64 + 1), names, default_model));
    }
    Ok(out)
}
