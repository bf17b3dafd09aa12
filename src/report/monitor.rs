//! `calibrate monitor`'s run: read the policy and its reference, stream the logs through the
//! policy's router into the tally, run the checks, and hand back the one value the renderers
//! format.
//!
//! Owns the order of these steps. It must not print or format.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::input::LogRecord;
use crate::input::aggregate::logs::{LogAggregate, log_aggregate_input};
use crate::input::{
    Format, LogColumns, LogOptions, Progress, Reference, Source, read_against, read_logs,
};
use crate::monitor::route::Router;
use crate::monitor::tally::{Request, Sums, Tally};
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
    let aggregate = log_aggregate_input(&input.source, input.format, &router.columns)?;
    let records = match aggregate {
        Some(aggregate) => tally_aggregate(input, &aggregate, &router, &mut tally)?,
        None => {
            // Records with a value in each label column.
            let mut present = vec![0u64; router.columns.len()];
            let facts = read_logs(&options, progress, |record| {
                for (n, value) in present.iter_mut().zip(record.labels.iter()) {
                    *n += u64::from(value.is_some());
                }
                let routed = router.route(&record);
                tally.add(&record, &routed, &router.reference);
            })?;
            let absent = present.iter().position(|&n| n == 0);
            if let Some(k) = absent.filter(|_| facts.records > 0) {
                bail!(
                    "{}: no record has a value for the column {:?}, which the policy's {} names: every \
                     request would be routed as if it lacked it (map the column at calibration \
                     under the name the logs use)",
                    input.source.label(),
                    router.columns[k],
                    router.roles[k]
                );
            }
            facts.records
        }
    };
    if records == 0 {
        bail!("{}: no log records", input.source.label());
    }
    let monitor = monitor(&tally, &router.reference, router.hidden_escalations, s);
    Ok(MonitorReport {
        logs: input.source.as_given(),
        against: against_label,
        signal,
        records,
        settings: *s,
        reference: router.reference,
        monitor,
    })
}

/// Routes each row of a log aggregate as its requests were routed, into the tally; the
/// requests it holds.
fn tally_aggregate(
    input: &MonitorInput,
    aggregate: &LogAggregate,
    router: &Router,
    tally: &mut Tally,
) -> Result<u64> {
    let label = input.source.label();
    if let Some((name, _)) = input.fields.first() {
        bail!(
            "--field {name}=...: {label} is a log aggregate, whose columns were mapped when it \
             was built (`calibrate sql --logs --field`)"
        );
    }
    if input.label_weight.is_some() || input.small_model != "small" {
        bail!(
            "--label-weight-field and --small-model: {label} is a log aggregate, whose weights \
             and routes were read when it was built (`calibrate sql --logs`)"
        );
    }
    if tally.window % aggregate.window != 0 {
        bail!(
            "--window {}s: {label} holds windows of {}s; ask for a multiple of it, or build \
             the aggregate with shorter windows (`calibrate sql --logs --window`)",
            tally.window,
            aggregate.window
        );
    }
    let mut requests = 0;
    aggregate.rows(&mut |row| {
        let labels = row.labels.clone();
        let record = LogRecord::routed(
            0,
            row.window_start as f64,
            row.signal,
            row.escalated,
            labels,
        );
        let route = router.route(&record);
        let request = Request {
            second: row.window_start,
            hour: row.hour as usize,
            escalated: row.escalated,
            route: &route,
            line: None,
        };
        tally.add_sums(&request, &Sums::of_row(row), &router.reference);
        requests += row.requests;
    })?;
    Ok(requests)
}
