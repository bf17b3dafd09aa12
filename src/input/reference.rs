//! The calibration reference a policy carries to production, and reading a policy back
//! (`calibrate monitor --against`).
//!
//! Owns the reference's shape (written into `summary.json` and `recommend --print json` by
//! `policy`, read back here) and the parts of a policy document the monitor needs. It must not
//! compute the reference (that is `policy::reference`) nor check logs against it.

mod check;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What the eval set looked like under the policy: enough for monitoring without the eval set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// What the distributions are over, in words.
    pub scale: String,
    /// The quality target the policy was chosen for (a `min_quality` or `min_cascade_quality`
    /// objective), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// Mean cost per request of each model on the eval set (currency units).
    pub cost: ReferenceCost,
    /// Eval records an override (always-large field, refusal, timeout) sent to the large model.
    pub overridden: u64,
    /// Every routed record (no override).
    pub overall: Distribution,
    /// The columns whose values select a segment (empty: no segments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segment_by: Vec<String>,
    /// One distribution per segment, sorted by values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<ReferenceSegment>,
}

/// Mean cost per request of each model on the eval set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReferenceCost {
    /// The small model, currency units per request.
    pub small: f64,
    /// The large model, currency units per request.
    pub large: f64,
    /// The comparison model (`--baseline`), currency units per request, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
}

/// One segment of the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceSegment {
    /// The values that select it, by column.
    #[serde(rename = "match")]
    pub matches: BTreeMap<String, String>,
    /// Its routed records.
    #[serde(flatten)]
    pub distribution: Distribution,
}

/// The thresholded signal's distribution over routed eval records, binned, with the quality
/// of each model per bin.
///
/// Bin `i` holds signals in `[edges[i], edges[i + 1])`, the last bin also its upper edge. The
/// edges are the 0th, 5th, ..., 100th percentiles (lower percentiles of the sorted signals,
/// ties merged) plus the threshold, so every bin is either accepted or escalated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Routed records (no override).
    pub records: u64,
    /// The threshold applied (signal ≥ threshold keeps the small answer); `None`: all escalate.
    pub threshold: Option<f64>,
    /// Routed records whose signal is below the threshold.
    pub escalated: u64,
    /// Standard deviation of the signal (population), the scale of the Wasserstein distance.
    pub sd: f64,
    /// The bin edges, ascending (at least two).
    pub edges: Vec<f64>,
    /// The deciles among the edges (0th, 10th, ..., 100th percentile, ties merged): PSI bins.
    pub deciles: Vec<f64>,
    /// Records per bin.
    pub counts: Vec<u64>,
    /// Mean small-model quality per bin (`None` for an empty bin).
    pub small_quality: Vec<Option<f64>>,
    /// Mean large-model quality per bin, when the eval set has large labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_quality: Option<Vec<Option<f64>>>,
}

impl Distribution {
    /// The bin of `x`: values outside the edges go to the end bins.
    pub fn bin(&self, x: f64) -> usize {
        let bins = self.counts.len();
        let above = self.edges.partition_point(|e| *e <= x);
        above.saturating_sub(1).min(bins - 1)
    }

    /// Whether `x` lies outside the reference's range.
    pub fn outside(&self, x: f64) -> bool {
        x < self.edges[0] || x > self.edges[self.edges.len() - 1]
    }

    /// Whether bin `i` is accepted (its signals keep the small answer).
    pub fn accepted(&self, i: usize) -> bool {
        self.threshold.is_some_and(|t| self.edges[i] >= t)
    }

    /// The PSI bin (decile) of each bin.
    pub fn decile_of_bins(&self) -> Vec<usize> {
        let last = self.deciles.len().saturating_sub(2);
        (0..self.counts.len())
            .map(|i| {
                let lo = self.edges[i];
                (self.deciles.partition_point(|d| *d <= lo).saturating_sub(1)).min(last)
            })
            .collect()
    }
}

/// The parts of a policy document the monitor routes by (`recommend --print json`, or the
/// `policy` of `summary.json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Against {
    /// The thresholded signal.
    pub signal: AgainstSignal,
    /// The objective (`kind`, `value`).
    pub objective: AgainstObjective,
    /// The threshold of requests of no listed segment; absent: they escalate.
    #[serde(default)]
    pub default_threshold: Option<f64>,
    /// The columns whose values select a per-segment rule.
    #[serde(default)]
    pub segment_by: Vec<String>,
    /// Per-segment rules.
    #[serde(default)]
    pub segments: Vec<AgainstSegment>,
    /// Fields that force the large model.
    #[serde(default)]
    pub always_large: Vec<AgainstOverride>,
    /// Refusals escalate.
    #[serde(default)]
    pub escalate_refusals: bool,
    /// Small answers slower than this escalate.
    #[serde(default)]
    pub small_timeout_ms: Option<f64>,
    /// The calibration reference.
    pub reference: Option<Reference>,
    /// With `--where` at calibration: the traffic the policy is for.
    #[serde(rename = "where", default)]
    pub scope: Vec<AgainstCondition>,
    /// With `--split-ties`: the split tie (refused: see [`read_against`]).
    #[serde(default)]
    pub tie_split: Option<serde_json::Value>,
}

/// One `--where` condition of a policy: `field` `op` (`=` or `!=`) `value`, as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgainstCondition {
    /// The column.
    pub field: String,
    /// `=` or `!=`.
    pub op: String,
    /// The value.
    pub value: String,
}

/// The signal of a policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgainstSignal {
    /// Its name (the log field read by default).
    pub name: String,
    /// The recalibration map, if any.
    #[serde(default)]
    pub recalibration: Option<AgainstMap>,
}

/// A recalibration map.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgainstMap {
    /// `isotonic` or `platt`.
    pub method: String,
    /// Isotonic points (signal, probability).
    #[serde(default)]
    pub points: Option<Vec<[f64; 2]>>,
    /// Platt slope.
    #[serde(default)]
    pub a: Option<f64>,
    /// Platt intercept.
    #[serde(default)]
    pub b: Option<f64>,
}

/// The objective of a policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgainstObjective {
    /// Machine name.
    pub kind: String,
    /// Its parameter.
    #[serde(default)]
    pub value: Option<f64>,
}

/// One per-segment rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgainstSegment {
    /// The values that select it.
    #[serde(rename = "match")]
    pub matches: BTreeMap<String, String>,
    /// `threshold` or `always_large`.
    pub action: String,
    /// The threshold.
    #[serde(default)]
    pub threshold: Option<f64>,
}

/// One always-large field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgainstOverride {
    /// The column.
    pub field: String,
    /// The value, as text.
    pub value: String,
}

/// `an array`, `a number`, ... for saying what a JSON value is.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why `--against` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AgainstError {
    /// Unreadable file.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The cause (worded in the message, not chained: said once).
        error: std::io::Error,
    },
    /// Not a policy document.
    #[error(
        "{path}: expected a policy (`recommend --print json`) or a summary.json with one: {why}"
    )]
    Shape {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

/// Reads a policy document, or the `policy` of a `summary.json`; it must carry a reference.
pub fn read_against(path: &Path) -> Result<Against, AgainstError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| AgainstError::Io {
        path: label.clone(),
        error,
    })?;
    let shape = |why: String| AgainstError::Shape {
        path: label.clone(),
        why,
    };
    // A byte-order mark some editors write is not part of the document.
    let text = super::jsonl::without_bom(&bytes);
    let mut value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| shape(format!("not JSON: {e}")))?;
    if value.get("found") == Some(&serde_json::Value::Bool(false)) {
        return Err(shape(
            "it says \"found\": false (no threshold met the objective), so it has no policy".into(),
        ));
    }
    if let Some(policy) = value.get_mut("policy") {
        value = policy.take();
    }
    if value.is_null() {
        return Err(shape(
            "its policy is null (no threshold met the objective)".into(),
        ));
    }
    if !value.is_object() {
        return Err(shape(format!(
            "its policy is {}; expected an object",
            json_kind(&value)
        )));
    }
    if value.get("stages").is_some() {
        return Err(shape(
            "it is a chain of models (stages), and monitor checks a two-model policy (one \
             threshold per segment) against its reference; a chain has no reference to check \
             yet"
            .into(),
        ));
    }
    // Type errors name the field's path (`segments[0].threshold: invalid type ...`).
    let against: Against = serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let why = e.into_inner();
        shape(if at == "." {
            why.to_string()
        } else {
            format!("{at}: {why}")
        })
    })?;
    check::policy(&against).map_err(shape)?;
    if against.tie_split.is_some() {
        return Err(shape(
            "it splits a tie (--split-ties), and monitor compares traffic with deterministic \
             thresholds: it cannot recompute the hash-chosen share or predict its escalation; \
             calibrate without --split-ties to monitor"
                .into(),
        ));
    }
    match &against.reference {
        None => Err(shape(
            "it has no \"reference\" block (calibrated by an older calibrate: re-run the sweep)"
                .into(),
        )),
        Some(reference) => check::check(reference).map(|()| against).map_err(shape),
    }
}
