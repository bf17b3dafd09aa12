//! The one [`Report`] value: every number a report shows, built from the layers below.
//!
//! Owns the assembly of the pure core's results (sweep, recommendation, statistics, policy)
//! into one value. It must not read files, print or format; `output` turns it into bytes.

pub mod aggregate;
mod aggregate_policy;
mod build;
mod certified;
pub mod chains;
mod crossfit;
mod deploy;
mod error;
pub mod findings;
mod monitor;
mod prepare;
pub mod reading;
mod run;
mod settings;
mod ties;
pub mod warnings;

pub use certified::CertifiedSegments;
pub use deploy::Deployment;
pub use error::RunError;
pub use monitor::{MonitorInput, MonitorReport, monitor_report};
pub use run::{Decision, SignalsReport, decision, signals_report, sweep_report};
pub use settings::{Filter, Grid, RunSettings, SweepSettings};
pub use ties::{AppliedSplit, SplitTies};

use crate::engine::economics::{CostSource, PricedBaseline};
use crate::engine::latency::Latency;
use crate::engine::objective::Objective;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::{Baselines, Metrics};
use crate::signals::Calibration;
use crate::signals::spec::SignalSpec;
use crate::trust::certify::Certification;
use crate::trust::crossfit::CrossFit;
use crate::trust::holdout::Validation;
use crate::trust::intervals::Uncertainty;
use findings::Findings;

/// Every number a report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// The input and what was read from it.
    pub input: InputInfo,
    /// The settings the numbers depend on.
    pub settings: Settings,
    /// Records the sweep used: read, minus dropped, minus those `--where` leaves out and the
    /// held-out part.
    pub records: usize,
    /// Distinct confidence values (candidate thresholds are these plus "escalate everything").
    pub distinct_confidences: usize,
    /// Always-small and always-large.
    pub baselines: Baselines,
    /// Rows of sweep.csv, by ascending threshold.
    pub rows: Vec<Metrics>,
    /// Cascade latency at each row, when the records carry latencies.
    pub latency: Option<Vec<Latency>>,
    /// Cascade latency at the recommended threshold.
    pub recommended_latency: Option<Latency>,
    /// The recommended threshold, or why none qualifies.
    pub recommendation: Result<Metrics, Infeasible>,
    /// With `--certify`: the certificate, or why none could be issued.
    pub certification: Option<Certification>,
    /// With `--split-ties`: the split the policy carries, or why none.
    pub split_ties: Option<SplitTies>,
    /// Intervals for every row and the spread of the recommended threshold.
    pub uncertainty: Uncertainty,
    /// With `--holdout` or `--split-field`: the chosen threshold on the held-out records.
    pub holdout: Option<Validation>,
    /// With `--segment-by` (unless `--cross-fit 0`): the single threshold and the per-segment
    /// policy cross-fitted beside their in-sample figures.
    pub cross_fit: Option<CrossFit>,
    /// With `--segment-by` and `--certify`: the certified per-segment policy, or why none.
    pub certified_segments: Option<Result<CertifiedSegments, String>>,
    /// Plot data, tables and warnings.
    pub findings: Findings,
    /// The thresholded signal.
    pub signal: SignalSpec,
    /// With `--recalibrate`: calibration before and after, and the raw signal's pick.
    pub recalibration: Option<RecalibrationReport>,
    /// Segments, safeguards and the deployable policy.
    pub deployment: Deployment,
    /// Safeguards that match no record (often a typo: values compare as text).
    pub unmatched_safeguards: Vec<String>,
}

impl Report {
    /// Whether the run found a policy that meets the objective (per-segment thresholds can
    /// meet an objective no single threshold meets).
    pub fn meets_objective(&self) -> bool {
        self.recommendation.is_ok() || self.deployment.policy.is_some()
    }
}

/// What `--recalibrate` changed.
#[derive(Debug, Clone)]
pub struct RecalibrationReport {
    /// `isotonic` or `platt`.
    pub method: &'static str,
    /// Cross-fitting folds.
    pub folds: usize,
    /// Calibration of the raw signal (when in [0, 1]).
    pub before: Option<Calibration>,
    /// Calibration of the cross-fitted signal.
    pub after: Option<Calibration>,
    /// The objective's pick on the raw signal, for comparison.
    pub raw_pick: Result<Metrics, String>,
    /// Reliability bins of the cross-fitted values (what `after` measures; the reliability
    /// plot draws these), when they lie in [0, 1].
    pub reliability: Option<Vec<crate::trust::scoring::Bin>>,
}

/// Facts about the input.
#[derive(Debug, Clone)]
pub struct InputInfo {
    /// As given on the command line (`-` for stdin).
    pub path: String,
    /// jsonl, csv or parquet.
    pub format: &'static str,
    /// SHA-256 of the input bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Records read.
    pub rows_read: u64,
    /// Records dropped by `--skip-invalid`.
    pub rows_dropped: u64,
    /// Dropped records by reason.
    pub drop_reasons: Vec<(String, u64)>,
    /// With `--where`: the records kept.
    pub filtered: Option<Filtered>,
}

/// What `--where` kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtered {
    /// The conditions as typed (`task_type=chat`).
    pub conditions: Vec<String>,
    /// Records that match every condition.
    pub kept: usize,
    /// Records left out.
    pub removed: usize,
    /// Records before the conditions (kept + removed).
    pub total: usize,
}

/// The settings behind the numbers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// (logical field, column) for every field.
    pub fields: Vec<(String, String)>,
    /// Where the small model's cost came from.
    pub small_cost: CostSource,
    /// Where the large model's cost came from.
    pub large_cost: CostSource,
    /// The comparison model, if any.
    pub baseline: Option<PricedBaseline>,
    /// `--small-timeout-ms`.
    pub small_timeout_ms: Option<f64>,
    /// Records whose small model timed out (safeguarded: escalated).
    pub timed_out: usize,
    /// The objective.
    pub objective: Objective,
    /// How the table's rows were chosen.
    pub grid: GridSetting,
    /// Whether large-model quality labels were present.
    pub has_large_quality: bool,
}

/// How the rows of sweep.csv were chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridSetting {
    /// Multiples of a step in [0, 1].
    Step(f64),
    /// Multiples of a step in [0, 1] and, for every whole percent of escalation, the
    /// threshold that reaches it (the default when confidences lie in [0, 1]).
    StepAndPercents(f64),
    /// Evenly spaced quantiles and the whole percents of escalation (the default otherwise).
    QuantilesAndPercents(usize),
    /// Every candidate threshold.
    Exact,
}
