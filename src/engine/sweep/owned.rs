//! Sweep columns held rather than borrowed: records gathered from elsewhere (one segment's
//! share of the records, an aggregate's cells as weighted pseudo-records) for a sweep to read.
//! Pure; no I/O.

use super::SweepInput;
use crate::engine::economics::{CostColumn, CostModel};

/// The columns of a [`SweepInput`], owned, with a cost per record.
#[derive(Debug, Clone, Default)]
pub struct OwnedInput {
    /// Confidence per record.
    pub confidence: Vec<f64>,
    /// Small-model quality per record.
    pub small_quality: Vec<f64>,
    /// Large-model quality per record, when known.
    pub large_quality: Option<Vec<f64>>,
    /// Small-model cost per record.
    pub small_cost: Vec<f64>,
    /// Large-model cost per record.
    pub large_cost: Vec<f64>,
    /// Whether each record escalates whatever its confidence.
    pub safeguarded: Vec<bool>,
}

impl OwnedInput {
    /// No records, with a large-quality column when `large`.
    pub fn empty(large: bool) -> OwnedInput {
        OwnedInput {
            large_quality: large.then(Vec::new),
            ..OwnedInput::default()
        }
    }

    /// The columns as a sweep reads them, compared against `baseline` (cost per request).
    pub fn input(&self, baseline: Option<f64>) -> SweepInput<'_> {
        SweepInput {
            confidence: &self.confidence,
            small_quality: &self.small_quality,
            large_quality: self.large_quality.as_deref(),
            costs: CostModel {
                small: CostColumn::PerRecord(&self.small_cost),
                large: CostColumn::PerRecord(&self.large_cost),
                baseline,
            },
            safeguarded: Some(&self.safeguarded),
        }
    }
}
