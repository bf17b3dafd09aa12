//! `calibrate monitor`'s flags and help text.
//!
//! Owns their spelling, defaults and help; imports nothing from the crate.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::FormatArg;

/// Flags of `calibrate monitor`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
        calibrate monitor logs.jsonl --against reports/example/summary.json\n  \
        calibrate monitor logs.csv --against policy.json --window 1h --out reports/today\n  \
        calibrate recommend eval.jsonl --print json > policy.json\n  \
        calibrate monitor logs.jsonl --against policy.json --field signal=conf \\\n      \
            --field timestamp=ts --label-weight-field ipw --fail-on warn\n\n\
        Logs: one JSON object (or CSV row) per request: timestamp (RFC 3339 text, or epoch\n\
        seconds; numbers above 1e11 are milliseconds), the raw signal (the policy's signal\n\
        name), escalated (boolean) or model (--small-model names the small one), the\n\
        segment and always-large columns, and optionally cost or small_cost/large_cost,\n\
        latency_ms, regenerated, thumbs_down, small_quality and large_quality labels.\n\
        A log aggregate (calibrate sql --logs --against POLICY, run on the engine that holds\n\
        the logs) gives the same report; --window must be a multiple of its windows.\n\n\
        Writes DIR/monitor.md, monitor.json, monitor.csv, escalation.{svg,png} and\n\
        drift.{svg,png} atomically; prints the status and the alerts. False alarms: every\n\
        test of every window x segment goes through one Benjamini-Hochberg procedure at\n\
        --fdr.\n\n\
        Exit status: 0 healthy, 1 an alert (or a warning with --fail-on warn), 2 error.")]
pub struct MonitorArgs {
    /// The logs (JSON Lines or CSV, optionally .gz or .zst, or Parquet; `-` for stdin), or a
    /// log aggregate built by `calibrate sql --logs` (a Parquet file or a directory of parts).
    #[arg(value_name = "LOGS")]
    pub logs: PathBuf,
    /// The calibration: a summary.json written by `sweep`, or `recommend --print json`.
    #[arg(long, value_name = "FILE")]
    pub against: PathBuf,
    /// Input format [default: from the extension].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Read a log field from another column (FIELD=COLUMN; fields: timestamp, signal,
    /// escalated, model, cost, small_cost, large_cost, latency_ms, regenerated, thumbs_down,
    /// small_quality, large_quality).
    #[arg(long, value_name = "FIELD=COLUMN")]
    pub field: Vec<String>,
    /// The `model` value of the small model (when logs name the model instead of `escalated`).
    #[arg(long, value_name = "NAME", default_value = "small")]
    pub small_model: String,
    /// Column with each label's inverse-probability weight (1 / its chance of being labelled),
    /// when labelling rates differ by path or segment.
    #[arg(long, value_name = "COLUMN")]
    pub label_weight_field: Option<String>,
    /// Window length: a whole number and s, m, h or d.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1d",
        help_heading = "Checks"
    )]
    pub window: String,
    /// Equivalence margin for rates and qualities: moves smaller than this never alert.
    #[arg(
        long,
        value_name = "X",
        default_value_t = 0.02,
        help_heading = "Checks",
        allow_negative_numbers = true
    )]
    pub tolerance: f64,
    /// A window escalating more than this share alerts (savings eroding).
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.4,
        help_heading = "Checks",
        allow_negative_numbers = true
    )]
    pub max_escalation: f64,
    /// False-discovery rate across all tests of the run (Benjamini-Hochberg).
    #[arg(
        long,
        value_name = "Q",
        default_value_t = 0.05,
        help_heading = "Checks",
        allow_negative_numbers = true
    )]
    pub fdr: f64,
    /// PSI at which a significant drift warns.
    #[arg(
        long,
        value_name = "PSI",
        default_value_t = 0.1,
        help_heading = "Checks",
        allow_negative_numbers = true
    )]
    pub psi_warn: f64,
    /// PSI at which a significant drift alerts.
    #[arg(
        long,
        value_name = "PSI",
        default_value_t = 0.25,
        help_heading = "Checks",
        allow_negative_numbers = true
    )]
    pub psi_alert: f64,
    /// Confidence level of the intervals.
    #[arg(
        long,
        value_name = "LEVEL",
        default_value_t = 0.95,
        help_heading = "Checks",
        allow_negative_numbers = true
    )]
    pub level: f64,
    /// What makes the exit status 1.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Alert, help_heading = "Checks")]
    pub fail_on: FailOn,
    /// Report directory [default: reports/<logs file stem>-monitor].
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long, short, help_heading = "Output")]
    pub quiet: bool,
}

/// What makes `monitor` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Alerts only.
    Alert,
    /// Warnings too.
    Warn,
}
