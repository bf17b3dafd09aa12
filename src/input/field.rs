//! The logical fields of an eval set and the column each one is read from.
//!
//! Owns the names users type (`--field small_quality=small_correct`) and their defaults. It must
//! not read files or validate values; that is `value.rs` and the format readers.

use std::fmt;

/// A logical field `calibrate` knows how to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The small model's confidence; any finite number.
    Confidence,
    /// Quality of the small model's answer, in [0, 1] or boolean.
    SmallQuality,
    /// Quality of the large model's answer, in [0, 1] or boolean.
    LargeQuality,
    /// Cost of the small model on this record, in the user's currency unit.
    SmallCost,
    /// Cost of the large model on this record, in the user's currency unit.
    LargeCost,
    /// Prompt tokens, billed as input to whichever models run.
    InputTokens,
    /// Tokens the small model generated.
    SmallOutputTokens,
    /// Tokens the large model generated.
    LargeOutputTokens,
    /// The small model's latency on this record, in milliseconds.
    SmallLatencyMs,
    /// The large model's latency on this record, in milliseconds.
    LargeLatencyMs,
    /// Which part of a split the record belongs to (`--split-field`; see [`SplitNames`]).
    Split,
    /// A label grouping records by kind of task.
    TaskType,
    /// A record identifier, used only to make error messages easier to follow.
    Id,
}

impl Field {
    /// Every field, in the order they are listed in help and summaries.
    pub const ALL: [Field; 13] = [
        Field::Confidence,
        Field::SmallQuality,
        Field::LargeQuality,
        Field::SmallCost,
        Field::LargeCost,
        Field::InputTokens,
        Field::SmallOutputTokens,
        Field::LargeOutputTokens,
        Field::SmallLatencyMs,
        Field::LargeLatencyMs,
        Field::Split,
        Field::TaskType,
        Field::Id,
    ];

    /// The logical name, which is also the default column name.
    pub fn name(self) -> &'static str {
        match self {
            Field::Confidence => "confidence",
            Field::SmallQuality => "small_quality",
            Field::LargeQuality => "large_quality",
            Field::SmallCost => "small_cost",
            Field::LargeCost => "large_cost",
            Field::InputTokens => "input_tokens",
            Field::SmallOutputTokens => "small_output_tokens",
            Field::LargeOutputTokens => "large_output_tokens",
            Field::SmallLatencyMs => "small_latency_ms",
            Field::LargeLatencyMs => "large_latency_ms",
            Field::Split => "split",
            Field::TaskType => "task_type",
            Field::Id => "id",
        }
    }

    /// Whether every eval set must carry this field.
    pub fn required(self) -> bool {
        matches!(self, Field::Confidence | Field::SmallQuality)
    }

    /// Parses a logical field name as typed on the command line.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Position in [`Field::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The column name each logical field is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    columns: [String; 13],
    confidence_optional: bool,
    split: SplitNames,
}

/// The labels of the split column: which mark the calibration part and which the held-out
/// part. Labels compare after trimming, ignoring ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitNames {
    /// The usual names: train, training, calibration, calib, dev, val, valid, validation /
    /// test, holdout, eval.
    Usual,
    /// `--split-field COLUMN=CALIBRATION:TEST`: exactly these two.
    Pair {
        /// The calibration part's label.
        calibration: String,
        /// The held-out part's label.
        test: String,
    },
}

/// The usual labels of the calibration part.
pub const CALIBRATION_NAMES: [&str; 8] = [
    "train",
    "training",
    "calibration",
    "calib",
    "dev",
    "val",
    "valid",
    "validation",
];
/// The usual labels of the held-out part.
pub const TEST_NAMES: [&str; 3] = ["test", "holdout", "eval"];

impl SplitNames {
    /// Whether `label` marks the held-out part (`Some(true)`), the calibration part
    /// (`Some(false)`), or neither.
    pub fn is_test(&self, label: &str) -> Option<bool> {
        let label = label.trim();
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(label));
        match self {
            SplitNames::Usual if is(&TEST_NAMES) => Some(true),
            SplitNames::Usual if is(&CALIBRATION_NAMES) => Some(false),
            SplitNames::Pair { test, .. } if is(&[test]) => Some(true),
            SplitNames::Pair { calibration, .. } if is(&[calibration]) => Some(false),
            _ => None,
        }
    }

    /// The labels, in words: `train, … / test, holdout, eval` or the pair given.
    pub fn describe(&self) -> String {
        match self {
            SplitNames::Usual => {
                format!(
                    "{} / {}",
                    CALIBRATION_NAMES.join(", "),
                    TEST_NAMES.join(", ")
                )
            }
            SplitNames::Pair { calibration, test } => format!("{calibration} / {test}"),
        }
    }

    /// What the split column accepts, in words.
    pub fn expected(&self) -> String {
        match self {
            SplitNames::Usual => format!(
                "a split label: {} (calibration part) or {} (held-out part)",
                CALIBRATION_NAMES.join(", "),
                TEST_NAMES.join(", ")
            ),
            SplitNames::Pair { calibration, test } => {
                format!("{calibration:?} (calibration part) or {test:?} (held-out part)")
            }
        }
    }
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            columns: Field::ALL.map(|f| f.name().to_string()),
            confidence_optional: false,
            split: SplitNames::Usual,
        }
    }
}

impl FieldMap {
    /// The split column's labels.
    pub fn split_names(&self) -> &SplitNames {
        &self.split
    }

    /// Sets the split column's labels.
    pub fn set_split_names(&mut self, names: SplitNames) {
        self.split = names;
    }

    /// Lets records omit the confidence field (another signal replaces it).
    pub fn make_confidence_optional(&mut self) {
        self.confidence_optional = true;
    }

    /// Whether every record must carry `field`.
    pub fn required(&self, field: Field) -> bool {
        field.required() && !(field == Field::Confidence && self.confidence_optional)
    }

    /// Reads `field` from `column` instead of its default.
    pub fn set(&mut self, field: Field, column: String) {
        self.columns[field.index()] = column;
    }

    /// The column `field` is read from.
    pub fn column(&self, field: Field) -> &str {
        &self.columns[field.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let mut map = FieldMap::default();
        assert_eq!(map.column(Field::SmallQuality), "small_quality");
        map.set(Field::SmallQuality, "small_correct".into());
        assert_eq!(map.column(Field::SmallQuality), "small_correct");
        assert_eq!(Field::parse("large_cost"), Some(Field::LargeCost));
        assert_eq!(Field::parse("nope"), None);
    }
}
