//! Test inputs for the sweep and the modules built on it.

use super::SweepInput;
use crate::engine::economics::CostModel;

/// A test input with flat costs (small 1, large 10 per request), no baseline, nothing safeguarded.
pub fn flat_input<'a>(
    confidence: &'a [f64],
    small_quality: &'a [f64],
    large_quality: Option<&'a [f64]>,
) -> SweepInput<'a> {
    use crate::engine::economics::CostColumn;
    SweepInput {
        confidence,
        small_quality,
        large_quality,
        costs: CostModel {
            small: CostColumn::PerRequest(1.0),
            large: CostColumn::PerRequest(10.0),
            baseline: None,
        },
        safeguarded: None,
    }
}
