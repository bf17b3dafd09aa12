//! What a run thresholds: the signal (the confidence field, a derived signal or another
//! column), its cross-fitted recalibration, and the column each raw field is read from.
//!
//! Plain settings, built by `config` from the flags. It must not parse flags or read input.

use crate::input::ExtraKind;
use crate::signals::derive::{RawField, Signal};
use crate::signals::recalibrate::Method;

/// Where the thresholded signal comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalSource {
    /// The confidence field.
    Confidence,
    /// A signal derived from raw model output.
    Derived(Signal),
    /// Another numeric column of the input.
    Column(String),
}

/// Cross-fitted recalibration of the signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recalibration {
    /// Isotonic or Platt.
    pub method: Method,
    /// Folds of the cross-fitting (at least 2).
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
}

/// Which signal a run thresholds, and the raw fields' columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalSettings {
    /// The signal.
    pub source: SignalSource,
    /// `--recalibrate`, if asked for.
    pub recalibrate: Option<Recalibration>,
    /// The column each raw field is read from (`--field logprobs=COLUMN`).
    pub raw_columns: [String; 4],
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings {
            source: SignalSource::Confidence,
            recalibrate: None,
            raw_columns: RawField::ALL.map(|f| f.name().to_string()),
        }
    }
}

impl SignalSettings {
    /// The column `field` is read from.
    pub fn raw_column(&self, field: RawField) -> &str {
        &self.raw_columns[raw_index(field)]
    }
}

fn raw_index(field: RawField) -> usize {
    RawField::ALL
        .iter()
        .position(|f| *f == field)
        .expect("ALL lists every raw field")
}

/// The loader kind of a raw field.
pub fn raw_kind(field: RawField) -> ExtraKind {
    match field {
        RawField::Logprobs => ExtraKind::Logprobs,
        RawField::SelfReported => ExtraKind::Number,
        RawField::Samples => ExtraKind::Samples,
        RawField::Response => ExtraKind::Text,
    }
}

/// Maps `--field RAW=COLUMN` for a raw field name; `false` if `name` is not one.
pub fn set_raw_column(signal: &mut SignalSettings, name: &str, column: &str) -> bool {
    match RawField::ALL.into_iter().find(|f| f.name() == name) {
        Some(f) => {
            signal.raw_columns[raw_index(f)] = column.to_string();
            true
        }
        None => false,
    }
}
