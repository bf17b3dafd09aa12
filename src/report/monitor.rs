//! `calibrate monitor`'s run: read the policy and its reference, stream the logs through the
//! policy's router into the tally, run the checks, and hand back the one value the renderers
//! format.
//!
//! Owns the order of these steps. It must not print or format.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::input::{
    Format, LogColumns, LogOptions, Progress, Reference, Source, read_against, read_logs,
};
use crate::monitor::route::Router;
use crate::monitor::tally::Tally;
use crate::monitor::{Monitor, MonitorSettings, Status, monitor};

/// What `monitor` reads.
#[derive(Debug, Clone)]
pub struct MonitorInput {
    /// The logs.
    pub source: Source,
    /// Their format (`None`: from the extension).
    pub format: Option<Format>,
    /// `--field FIELD=COLUMN` pairs, validated.
    pub fields: Vec<(String, String)>,
    /// The `model` value of the small model.
    pub small_model: String,
    /// The inverse-probability weight column of labels.
    pub label_weight: Option<String>,
    /// The policy or summary.json.
    pub against: PathBuf,
}

/// Everything the monitor's outputs show.
#[derive(Debug, Clone)]
pub struct MonitorReport {
    /// The logs as given.
    pub logs: String,
    /// The policy file as given.
    pub against: String,
    /// The signal (its log column).
    pub signal: String,
    /// Records read.
    pub records: u64,
    /// The settings.
    pub settings: MonitorSettings,
    /// The calibration reference.
    pub reference: Reference,
    /// The findings.
    pub monitor: Monitor,
}

impl MonitorReport {
    /// Whether the run should exit 1.
    pub fn fails(&self, fail_on_warn: bool) -> bool {
        match self.monitor.status {
            Status::Alert => true,
            Status::Warn => fail_on_warn,
            Status::Healthy => false,
        }
    }
}

/// Reads the policy, streams the logs into the tally and checks it.
pub fn monitor_report(
    input: &MonitorInput,
    s: &MonitorSettings,
    progress: &dyn Progress,
) -> Result<MonitorReport> {
    let against = read_against(&input.against)?;
    let against_label = input.against.display().to_string();
    let router = Router::new(against.clone())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{against_label}: the policy's signal"))?;
    let mut columns = LogColumns::new(&against.signal.name);
    for (name, column) in &input.fields {
        columns.set(name, column);
    }
    columns.label_weight = input.label_weight.clone();
    let signal = columns.signal.clone();
    let options = LogOptions {
        source: input.source.clone(),
        format: input.format,
        columns,
        labels: router.columns.clone(),
        small_model: input.small_model.clone(),
    };
    let mut tally = Tally::new(s.window);
    let facts = read_logs(&options, progress, |record| {
        let routed = router.route(&record);
        tally.add(&record, &routed, &router.reference);
    })?;
    if facts.records == 0 {
        bail!("{}: no log records", input.source.label());
    }
    let monitor = monitor(&tally, &router.reference, router.hidden_escalations, s);
    Ok(MonitorReport {
        logs: input.source.as_given(),
        against: against_label,
        signal,
        records: facts.records,
        settings: *s,
        reference: router.reference,
        monitor,
    })
}
