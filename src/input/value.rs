//! Validation of one cell against the field it is read as.
//!
//! Owns what a valid value is for each field and the words used when it is not. It must not know
//! which file format the cell came from; every reader turns its cells into [`Cell`] first.

use std::borrow::Cow;

use super::field::{Field, SplitNames};

/// One raw value as a reader found it, before validation.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell<'a> {
    /// The record has no such field (JSON key absent).
    #[default]
    Missing,
    /// The field is present but null (JSON `null`, empty CSV cell, Parquet null).
    Null,
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Text(Cow<'a, str>),
    /// A value of a kind no field accepts (a JSON object or array), named in words.
    Unsupported(&'static str),
}

/// A validated value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A finite number (confidence, quality in [0, 1], or a non-negative cost).
    Number(f64),
    /// A label (task type).
    Label(Cow<'a, str>),
}

/// Why a cell is not a valid value of its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What the field accepts, in words.
    pub expected: Cow<'static, str>,
    /// What was found, quoted as the user wrote it where possible.
    pub found: String,
}

/// What `field` accepts, in the words error messages use.
pub fn expected(field: Field) -> &'static str {
    match field {
        Field::Confidence => "a finite number",
        Field::SmallQuality | Field::LargeQuality => {
            "a quality in [0, 1] or a boolean (true/false, 0/1)"
        }
        Field::SmallCost | Field::LargeCost => "a finite non-negative cost",
        Field::InputTokens | Field::SmallOutputTokens | Field::LargeOutputTokens => {
            "a non-negative whole number of tokens"
        }
        Field::SmallLatencyMs | Field::LargeLatencyMs => {
            "a non-negative latency in milliseconds, below 1e30"
        }
        Field::TaskType => "a text label or an integer",
        Field::Split => "a split label (see --split-field)",
        Field::Id => "any value",
    }
}

/// Checks one cell of the split column against the run's labels; stored as a number: 1 for the
/// held-out part, 0 for the calibration part.
pub fn validate_split<'a>(cell: Cell<'a>, names: &SplitNames) -> Result<Value<'a>, Problem> {
    let fail = |found: String| Problem {
        expected: Cow::Owned(names.expected()),
        found,
    };
    match cell {
        Cell::Missing => Err(fail("no such field".into())),
        Cell::Null => Err(fail("null".into())),
        // Folds are often numbers (`0`/`1`) or booleans: they compare as their text.
        Cell::Text(s) => split_part(names, &s).ok_or_else(|| fail(quote(&s))),
        Cell::Number(x) if x.fract() == 0.0 && x.is_finite() => {
            split_part(names, &format!("{x}")).ok_or_else(|| fail(format_number(x)))
        }
        Cell::Bool(b) => split_part(names, &b.to_string()).ok_or_else(|| fail(b.to_string())),
        other => Err(fail(describe(&other))),
    }
}

/// 1 for the held-out part, 0 for the calibration part, `None` for a label of neither.
fn split_part<'a>(names: &SplitNames, label: &str) -> Option<Value<'a>> {
    names
        .is_test(label)
        .map(|test| Value::Number(if test { 1.0 } else { 0.0 }))
}

/// Checks one cell; text that spells a number or boolean is accepted as such (CSV cells are text).
pub fn validate<'a>(field: Field, cell: Cell<'a>) -> Result<Value<'a>, Problem> {
    let fail = |found: String| Problem {
        expected: Cow::Borrowed(expected(field)),
        found,
    };
    match (field, cell) {
        (_, Cell::Missing) => Err(fail("no such field".into())),
        (_, Cell::Null) => Err(fail("null".into())),
        // Split labels need the run's names: see `validate_split`.
        (Field::Split, other) => Err(fail(describe(&other))),
        (Field::TaskType | Field::Id, Cell::Text(s)) => Ok(Value::Label(s)),
        (Field::TaskType | Field::Id, Cell::Number(x)) if x.fract() == 0.0 && x.is_finite() => {
            Ok(Value::Label(Cow::Owned(format!("{x}"))))
        }
        (Field::TaskType | Field::Id, other) => Err(fail(describe(&other))),
        (_, Cell::Number(x)) => check_number(field, x).map_err(|_| fail(format_number(x))),
        (Field::SmallQuality | Field::LargeQuality, Cell::Bool(b)) => {
            Ok(Value::Number(if b { 1.0 } else { 0.0 }))
        }
        (Field::SmallQuality | Field::LargeQuality, Cell::Text(s)) => {
            match parse_text_number(&s).or_else(|| parse_text_bool(&s)) {
                Some(x) => check_number(field, x).map_err(|_| fail(quote(&s))),
                None => Err(fail(quote(&s))),
            }
        }
        (_, Cell::Text(s)) => match parse_text_number(&s) {
            Some(x) => check_number(field, x).map_err(|_| fail(quote(&s))),
            None => Err(fail(quote(&s))),
        },
        (_, other @ (Cell::Bool(_) | Cell::Unsupported(_))) => Err(fail(describe(&other))),
    }
}

fn check_number(field: Field, x: f64) -> Result<Value<'static>, ()> {
    // `-0.0` passes the range checks; store it as 0 so sums and output never show "-0".
    if valid_number(field, x) {
        Ok(Value::Number(x + 0.0))
    } else {
        Err(())
    }
}

/// Whether the number `x` is a valid value of `field` (readers' fast paths check a whole
/// column with this before falling back to per-cell validation for the error message).
pub fn valid_number(field: Field, x: f64) -> bool {
    match field {
        Field::Confidence => x.is_finite(),
        Field::SmallQuality | Field::LargeQuality => (0.0..=1.0).contains(&x),
        Field::SmallCost | Field::LargeCost => x.is_finite() && x >= 0.0,
        // Latencies are summed exactly in fixed units (`engine::exact`), which hold up to 1e31.
        Field::SmallLatencyMs | Field::LargeLatencyMs => (0.0..1e30).contains(&x),
        Field::InputTokens | Field::SmallOutputTokens | Field::LargeOutputTokens => {
            x.is_finite() && x >= 0.0 && x.fract() == 0.0
        }
        Field::TaskType | Field::Id | Field::Split => false,
    }
}

fn parse_text_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn parse_text_bool(s: &str) -> Option<f64> {
    match s.trim() {
        "true" | "True" | "TRUE" => Some(1.0),
        "false" | "False" | "FALSE" => Some(0.0),
        _ => None,
    }
}

fn format_number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{x}")
    }
}

fn quote(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}…")
    } else {
        format!("{s:?}")
    }
}

pub fn describe(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Missing => "no such field".into(),
        Cell::Null => "null".into(),
        Cell::Number(x) => format_number(*x),
        Cell::Bool(b) => format!("boolean {b}"),
        Cell::Text(s) => quote(s),
        Cell::Unsupported(what) => (*what).into(),
    }
}

/// Whether two byte strings are equal: for the few bytes of a key or a label, a couple of
/// word compares, cheaper than a call to `memcmp` or a byte loop.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Up to 24 bytes: two or three overlapping words, no loop.
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        17..=24 => {
            word(a, 0) == word(b, 0) && word(a, 8) == word(b, 8) && word(a, n - 8) == word(b, n - 8)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Word-wise comparison against slice equality, on strings that differ in one byte at
        /// any place (lengths 0 to 40, so every word boundary and the overlap are crossed).
        #[test]
        fn same_bytes_is_equality(
            a in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            at in 0usize..40,
            flip in 1u8..=255,
            shorter in proptest::bool::ANY,
        ) {
            let mut b = a.clone();
            if let Some(x) = b.get_mut(at) {
                *x ^= flip;
            }
            if shorter {
                b.pop();
            }
            proptest::prop_assert_eq!(same_bytes(&a, &b), a == b);
            proptest::prop_assert!(same_bytes(&a, &a));
        }
    }

    fn num(field: Field, cell: Cell<'_>) -> Result<f64, Problem> {
        match validate(field, cell)? {
            Value::Number(x) => Ok(x),
            Value::Label(_) => panic!("expected a number"),
        }
    }

    #[test]
    fn confidence_accepts_any_finite_number() {
        assert_eq!(num(Field::Confidence, Cell::Number(-3.5)), Ok(-3.5));
        assert_eq!(num(Field::Confidence, Cell::Text("0.25".into())), Ok(0.25));
        let err = num(Field::Confidence, Cell::Text("high".into())).unwrap_err();
        assert_eq!(err.found, "\"high\"");
        assert_eq!(err.expected, "a finite number");
        assert_eq!(
            num(Field::Confidence, Cell::Number(f64::NAN))
                .unwrap_err()
                .found,
            "NaN"
        );
        assert_eq!(
            num(Field::Confidence, Cell::Text("inf".into()))
                .unwrap_err()
                .found,
            "\"inf\""
        );
        assert_eq!(
            num(Field::Confidence, Cell::Null).unwrap_err().found,
            "null"
        );
    }

    #[test]
    fn quality_accepts_unit_interval_and_booleans() {
        assert_eq!(num(Field::SmallQuality, Cell::Bool(true)), Ok(1.0));
        assert_eq!(
            num(Field::SmallQuality, Cell::Text("false".into())),
            Ok(0.0)
        );
        assert_eq!(num(Field::LargeQuality, Cell::Number(0.5)), Ok(0.5));
        assert_eq!(num(Field::LargeQuality, Cell::Number(-0.0)), Ok(0.0));
        assert!(num(Field::SmallQuality, Cell::Number(1.5)).is_err());
        assert!(num(Field::SmallQuality, Cell::Text("yes".into())).is_err());
    }

    #[test]
    fn costs_must_be_non_negative() {
        assert_eq!(num(Field::SmallCost, Cell::Number(0.0)), Ok(0.0));
        assert_eq!(
            num(Field::LargeCost, Cell::Number(-1.0)).unwrap_err().found,
            "-1"
        );
        assert!(num(Field::LargeCost, Cell::Bool(true)).is_err());
    }

    #[test]
    fn tokens_are_whole_and_latency_non_negative() {
        assert_eq!(num(Field::InputTokens, Cell::Number(1200.0)), Ok(1200.0));
        assert!(num(Field::SmallOutputTokens, Cell::Number(2.5)).is_err());
        assert!(num(Field::LargeOutputTokens, Cell::Number(-1.0)).is_err());
        assert_eq!(num(Field::SmallLatencyMs, Cell::Number(12.5)), Ok(12.5));
        assert!(num(Field::LargeLatencyMs, Cell::Number(-0.5)).is_err());
    }

    #[test]
    fn task_type_takes_text_or_integers() {
        assert_eq!(
            validate(Field::TaskType, Cell::Number(3.0)),
            Ok(Value::Label("3".into()))
        );
        assert!(validate(Field::TaskType, Cell::Number(0.5)).is_err());
        assert!(validate(Field::TaskType, Cell::Bool(true)).is_err());
    }
}
