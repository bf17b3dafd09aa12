//! The report: one [`Report`] value holding every number, and the renderers that turn it into
//! bytes (one file per format).
//!
//! Renderers only format; they never compute a number (everything comes from `analysis.rs`).
//! `writer.rs` owns the output directory and writes it atomically.

mod csv;
mod deploy_md;
mod format;
mod json;
mod markdown;
mod plots;
mod policy;
mod signals;
mod text;
mod what_if;
mod writer;

use anyhow::Result;

use crate::analysis::Deployment;
use crate::certify::Certification;
use crate::dashboard::Dashboard;
use crate::economics::CostSource;
use crate::holdout::Validation;
use crate::intervals::Uncertainty;
use crate::latency::Latency;
use crate::policy::SignalPolicy;
use crate::recommend::{Infeasible, Objective};
use crate::signals::Calibration;
use crate::sweep::{Baselines, Metrics};

pub use json::recommendation_json;
pub use policy::policy_text;
pub use signals::{SignalsReport, signals_files, signals_text};
pub use text::summary_text;
pub use what_if::{what_if_csv, what_if_text};
pub use writer::{OutputDir, write_file_atomically};

/// Every number a report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// The input and what was read from it.
    pub input: InputInfo,
    /// The settings the numbers depend on.
    pub settings: Settings,
    /// Records used (read minus dropped).
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
    /// Intervals for every row and the spread of the recommended threshold.
    pub uncertainty: Uncertainty,
    /// With `--holdout` or `--split-field`: the chosen threshold on the held-out records.
    pub holdout: Option<Validation>,
    /// Plot data, tables and warnings.
    pub dashboard: Dashboard,
    /// The thresholded signal.
    pub signal: SignalPolicy,
    /// With `--recalibrate`: calibration before and after, and the raw signal's pick.
    pub recalibration: Option<RecalibrationReport>,
    /// Segments, safeguards and the deployable policy.
    pub deployment: Deployment,
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
    pub baseline: Option<BaselineSetting>,
    /// `--small-timeout-ms`.
    pub small_timeout_ms: Option<f64>,
    /// Records whose small model timed out (forced to escalate).
    pub timed_out: usize,
    /// The objective.
    pub objective: Objective,
    /// How the table's rows were chosen.
    pub grid: GridSetting,
    /// Whether large-model quality labels were present.
    pub has_large_quality: bool,
}

/// The comparison model (`--baseline`, `--baseline-cost`).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineSetting {
    /// How it was priced, in words.
    pub description: String,
    /// Its mean cost per request.
    pub cost_per_request: f64,
}

/// How the rows of sweep.csv were chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridSetting {
    /// Multiples of a step in [0, 1].
    Step(f64),
    /// This many evenly spaced quantiles of the confidences.
    Quantiles(usize),
    /// Every candidate threshold.
    Exact,
}

/// Turns a report into the bytes of one file.
pub trait Exporter {
    /// The file name inside the report directory.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    fn render(&self, report: &Report) -> Result<Vec<u8>>;
}

/// Every file of the report directory for this report (plots that do not apply are left out).
pub fn exporters(report: &Report) -> Vec<Box<dyn Exporter + Send + Sync>> {
    let mut out: Vec<Box<dyn Exporter + Send + Sync>> = vec![
        Box::new(csv::SweepCsv),
        Box::new(json::SummaryJson),
        Box::new(markdown::Markdown),
    ];
    if report.deployment.plan.is_some() {
        out.push(Box::new(csv::SegmentsCsv));
    }
    for plot in plots::Plot::ALL.into_iter().filter(|p| p.applies(report)) {
        out.push(Box::new(plots::Svg(plot)));
        out.push(Box::new(plots::Png(plot)));
    }
    out
}

/// Renders every file, in parallel: (file name, bytes), in a fixed order.
pub fn render_all(report: &Report) -> Result<Vec<(&'static str, Vec<u8>)>> {
    use rayon::prelude::*;
    exporters(report)
        .par_iter()
        .map(|e| Ok((e.file_name(), e.render(report)?)))
        .collect()
}
