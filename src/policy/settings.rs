//! What the deployed policy is asked to do: segment columns, `--always-large` rules that force escalation,
//! refusals.
//!
//! Plain settings, built by `config` from the flags. It must not parse flags or read input.

use crate::policy::segments::Departures;

/// Segments and safeguards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySettings {
    /// Columns whose value combinations are the segments (empty: one global threshold).
    pub segment_by: Vec<String>,
    /// Segments with fewer records keep the global threshold (or escalate everything).
    pub min_segment_records: usize,
    /// Records matching any of these always escalate.
    pub always_large: Vec<AlwaysLarge>,
    /// Refusals (from the response text) always escalate.
    pub escalate_refusals: bool,
    /// `--segment-floor`: no segment ships answers below this quality (in [0, 1]).
    pub segment_floor: Option<f64>,
    /// `--segment-departures`: which per-segment thresholds the joint search may choose.
    pub departures: Departures,
    /// `--cross-fit`: folds of the cross-fitted estimate of the whole selection (0: none).
    pub cross_fit_folds: usize,
    /// `--seed`: the fold assignment's seed.
    pub cross_fit_seed: u64,
    /// Leave the monitoring reference out of the policy: `recommend` printing text shows only
    /// thresholds, so the reference (a sort of every confidence per segment) is not built.
    pub skip_reference: bool,
}

impl Default for Departures {
    fn default() -> Departures {
        Departures::DEFAULT
    }
}

/// One `--always-large FIELD=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlwaysLarge {
    /// The column.
    pub column: String,
    /// The value that sends a record to the large model, compared as text (numbers and
    /// booleans as their JSON text: `true`, `3`).
    pub value: String,
}

impl AlwaysLarge {
    /// `FIELD=VALUE` as the user typed it.
    pub fn label(&self) -> String {
        format!("{}={}", self.column, self.value)
    }
}
