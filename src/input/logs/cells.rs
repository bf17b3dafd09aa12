//! One log record's cells typed: numbers, booleans, text, timestamps, and the error naming
//! file, line and field when a cell holds something else.
//!
//! Owns what each log field accepts. It must not know the file format (the readers hand it a
//! lookup from column name to [`Cell`]).

use serde_json::Value as Json;

use super::time::rfc3339;
use std::borrow::Cow;

use super::{Cell, EPOCH_MS_ABOVE, Labels, LogError, at};

/// One record's cells, with where they are for errors; cell `k` is read from column
/// `names[k]`.
pub(super) struct Cells<'g, 'a> {
    pub(super) get: &'g dyn Fn(usize) -> Cell<'a>,
    pub(super) names: &'g [String],
    pub(super) path: &'g str,
    pub(super) line: u64,
}

/// What the timestamp field accepts.
pub(super) const TIME: &str = "RFC 3339 text (2026-01-31T12:00:00Z) or epoch seconds \
    (milliseconds above 1e11), within ±1e15 s";
/// What cost and latency fields accept (below 1e30, so that sums stay exact).
pub(super) const COST: &str = "a number >= 0 and below 1e30";
/// What the label weight accepts (its square stays below 1e30).
pub(super) const WEIGHT: &str = "a number > 0 and below 1e15";
/// What quality labels accept.
pub(super) const QUALITY: &str = "a number in [0, 1] or a boolean";

impl Cells<'_, '_> {
    pub(super) fn fail(&self, k: usize, expected: &'static str, found: String) -> LogError {
        LogError::Field {
            path: self.path.into(),
            line: self.line,
            column: self.names[k].clone(),
            expected,
            found,
        }
    }

    pub(super) fn present(&self, k: usize) -> Option<Cell<'_>> {
        match (self.get)(k) {
            Cell::Missing | Cell::Null | Cell::Json(Json::Null) => None,
            cell => Some(cell),
        }
    }

    pub(super) fn number(
        &self,
        k: usize,
        expected: &'static str,
        ok: fn(f64) -> bool,
    ) -> Result<Option<f64>, LogError> {
        let Some(cell) = self.present(k) else {
            return Ok(None);
        };
        match as_number(&cell).filter(|x| ok(*x)) {
            Some(x) => Ok(Some(x)),
            None => Err(self.fail(k, expected, shown(&cell))),
        }
    }

    pub(super) fn boolean(&self, k: usize) -> Result<Option<bool>, LogError> {
        let Some(cell) = self.present(k) else {
            return Ok(None);
        };
        match as_bool(&cell) {
            Some(b) => Ok(Some(b)),
            None => Err(self.fail(k, "a boolean (true/false or 1/0)", shown(&cell))),
        }
    }

    /// Seconds since the epoch: a number (milliseconds above [`EPOCH_MS_ABOVE`]), numeric
    /// text likewise, or RFC 3339 text.
    pub(super) fn timestamp(&self, k: usize) -> Result<f64, LogError> {
        let cell = (self.present(k)).ok_or_else(|| self.fail(k, TIME, "nothing".into()))?;
        as_number(&cell)
            .map(|x| {
                if x.abs() > EPOCH_MS_ABOVE {
                    x / 1000.0
                } else {
                    x
                }
            })
            .or_else(|| match cell {
                Cell::Str(s) | Cell::Text(s) => rfc3339(s),
                Cell::Json(Json::String(s)) => rfc3339(s),
                _ => None,
            })
            // Within ±1e15 s (31 million years), as `calibrate sql --logs` keeps them.
            .filter(|t| t.abs() < 1e15)
            .ok_or_else(|| self.fail(k, TIME, shown(&cell)))
    }

    /// `escalated`, else whether `model` names another model than the small one.
    pub(super) fn escalated(&self, small_model: &str) -> Result<bool, LogError> {
        if let Some(b) = self.boolean(at::ESCALATED)? {
            return Ok(b);
        }
        match self.present(at::MODEL) {
            Some(cell) => Ok(as_text(&cell).is_none_or(|m| m != small_model)),
            None => Err(self.fail(
                at::ESCALATED,
                "a boolean, or a model field naming the model that answered",
                "neither".into(),
            )),
        }
    }
}

fn as_number(cell: &Cell<'_>) -> Option<f64> {
    match cell {
        Cell::Json(Json::Number(n)) => n.as_f64(),
        Cell::Json(Json::Bool(b)) => Some(f64::from(u8::from(*b))),
        Cell::Json(Json::String(s)) => s.trim().parse().ok(),
        Cell::Text(s) => match *s {
            "true" | "True" | "TRUE" => Some(1.0),
            "false" | "False" | "FALSE" => Some(0.0),
            _ => s.trim().parse().ok(),
        },
        Cell::Bool(b) => Some(f64::from(u8::from(*b))),
        Cell::Number(x, _) => Some(*x),
        Cell::Str(s) => s.trim().parse().ok(),
        Cell::Missing | Cell::Null | Cell::Json(_) => None,
    }
}

fn as_bool(cell: &Cell<'_>) -> Option<bool> {
    let x = as_number(cell)?;
    (x == 1.0 || x == 0.0).then_some(x == 1.0)
}

pub(super) fn as_text<'c>(cell: &Cell<'c>) -> Option<Cow<'c, str>> {
    match *cell {
        Cell::Missing | Cell::Null | Cell::Json(Json::Null) => None,
        Cell::Json(Json::String(s)) => Some(Cow::Borrowed(s)),
        Cell::Json(v) => Some(Cow::Owned(v.to_string())),
        Cell::Text(s) | Cell::Str(s) => Some(Cow::Borrowed(s)),
        Cell::Bool(b) => Some(Cow::Owned(b.to_string())),
        // serde_json's own spelling of the number, as the serde path gives it.
        Cell::Number(_, text) => serde_json::from_str::<Json>(text)
            .ok()
            .map(|v| Cow::Owned(v.to_string())),
    }
}

impl Cells<'_, '_> {
    /// The label columns `first..first + count` as text, shared with an earlier record of the
    /// same values when `sets` has one (so most records allocate nothing for their labels).
    pub(super) fn labels(&self, sets: &mut LabelSets, first: usize, count: usize) -> Labels {
        let value = |k: usize| self.present(first + k).and_then(|c| as_text(&c));
        let found = (sets.0.iter().rev())
            .find(|set| (0..count).all(|k| set[k].as_deref() == value(k).as_deref()));
        if let Some(set) = found {
            return set.clone();
        }
        let new: Labels = (0..count).map(|k| value(k).map(Cow::into_owned)).collect();
        if sets.0.len() < LabelSets::KEPT {
            sets.0.push(new.clone());
        }
        new
    }
}

/// The label value sets met so far in a run of records (segments and overrides take few
/// values), up to [`LabelSets::KEPT`] of them.
#[derive(Default)]
pub(super) struct LabelSets(Vec<Labels>);

impl LabelSets {
    /// Sets kept; records with other values get labels of their own.
    const KEPT: usize = 32;
}

fn shown(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Missing => "nothing".into(),
        Cell::Json(v) => v.to_string(),
        Cell::Text(s) => format!("{s:?}"),
        Cell::Null => "null".into(),
        Cell::Bool(b) => b.to_string(),
        // As serde_json writes the value: strings quoted and escaped.
        Cell::Str(s) => Json::from(*s).to_string(),
        Cell::Number(..) => as_text(cell).map_or_else(|| "nothing".into(), Cow::into_owned),
    }
}
