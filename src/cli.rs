//! Command-line flags as the user types them: clap derive structs and help text.
//!
//! Owns spelling, defaults and help. It imports nothing from the crate and validates nothing
//! beyond what clap checks; `config.rs` turns these into a typed configuration.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

/// calibrate: choose the escalation threshold of an LLM cascade from an eval set.
///
/// A cascade answers each request with a small model and escalates to a large model when the
/// small model's confidence is below a threshold. calibrate sweeps every threshold on recorded
/// data (offline, no API keys) and says which one to deploy, what it costs and what it delivers.
#[derive(Debug, Parser)]
#[command(
    name = "calibrate",
    version,
    about,
    long_about,
    propagate_version = true
)]
#[command(after_help = "Examples:\n  \
    calibrate sweep data/example.jsonl\n  \
    calibrate recommend data/example.jsonl --min-quality 0.95\n  \
    T=$(calibrate recommend eval.jsonl --min-quality 0.95)\n\n\
    Exit status: 0 success, 1 no threshold meets the objective, 2 error.")]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: CommandArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CommandArgs {
    /// Sweep every threshold and write a report directory (CSV table, JSON summary).
    #[command(after_help = "Examples:\n  \
        calibrate sweep data/example.jsonl\n  \
        calibrate sweep eval.csv --out reports/eval --min-quality 0.95\n  \
        calibrate sweep eval.jsonl --field small_quality=small_correct --exact\n  \
        cat eval.jsonl | calibrate sweep - --out reports/stdin\n\n\
        Writes, atomically (all files or none):\n  \
        DIR/sweep.csv     one row per threshold\n  \
        DIR/summary.json  input, settings, baselines and the recommendation\n\
        and prints a short summary of the recommendation to stdout.")]
    Sweep(SweepArgs),
    /// Print the recommended threshold alone, for deployment config.
    #[command(after_help = "Examples:\n  \
        calibrate recommend eval.jsonl\n  \
        calibrate recommend eval.jsonl --min-quality 0.95\n  \
        calibrate recommend eval.jsonl --max-escalation 0.2 --print json\n  \
        T=$(calibrate recommend eval.jsonl --budget 5) || echo \"no threshold fits\"\n\n\
        The printed threshold is the smallest accepted confidence: routing with\n\
        `confidence >= threshold` reproduces the chosen split exactly. When no threshold\n\
        meets the objective, nothing is printed to stdout, the reason goes to stderr and\n\
        the exit status is 1.")]
    Recommend(RecommendArgs),
}

/// Flags of `calibrate sweep`.
#[derive(Debug, ClapArgs)]
pub struct SweepArgs {
    /// How to read the eval set.
    #[command(flatten)]
    pub input: InputArgs,
    /// What the recommendation optimises.
    #[command(flatten)]
    pub objective: ObjectiveArgs,
    /// Report directory [default: reports/<input file stem>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Step of the threshold grid in sweep.csv [default: 0.01 when every confidence lies in
    /// [0, 1]; otherwise 101 evenly spaced quantiles of the confidences].
    #[arg(long, value_name = "STEP", conflicts_with = "exact")]
    pub grid: Option<f64>,
    /// Write every candidate threshold (each distinct confidence) to sweep.csv instead of a grid.
    #[arg(long)]
    pub exact: bool,
    /// Hide the progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `calibrate recommend`.
#[derive(Debug, ClapArgs)]
pub struct RecommendArgs {
    /// How to read the eval set.
    #[command(flatten)]
    pub input: InputArgs,
    /// What the recommendation optimises.
    #[command(flatten)]
    pub objective: ObjectiveArgs,
    /// Output: the bare threshold, or one JSON object with its metrics.
    #[arg(long, value_enum, default_value_t = PrintFormat::Text, value_name = "FORMAT")]
    pub print: PrintFormat,
    /// Hide the progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Output of `recommend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintFormat {
    /// The threshold alone, one line.
    Text,
    /// One JSON object: threshold, metrics, baselines.
    Json,
}

/// Input format names for `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// JSON Lines: one object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Flags that say how to read the eval set and price it.
#[derive(Debug, ClapArgs)]
pub struct InputArgs {
    /// The eval set: .jsonl/.ndjson, .csv or .parquet; `-` reads JSON Lines or CSV from stdin.
    #[arg(value_name = "EVAL")]
    pub eval: PathBuf,
    /// Input format [default: from the extension; sniffed on stdin].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Read a logical field from another column, e.g. `--field small_quality=small_correct`.
    /// Fields: confidence, small_quality (required); large_quality, small_cost, large_cost,
    /// task_type, id (optional). Repeatable.
    #[arg(long = "field", value_name = "FIELD=COLUMN")]
    pub fields: Vec<String>,
    /// Drop invalid records instead of stopping; the summary says how many and why.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Small-model cost per request, used when records carry no small_cost.
    #[arg(long, value_name = "COST", default_value_t = 1.0)]
    pub small_cost: f64,
    /// Large-model cost per request, used when records carry no large_cost.
    #[arg(long, value_name = "COST", default_value_t = 60.0)]
    pub large_cost: f64,
}

/// The objective flags; at most one may be given.
#[derive(Debug, ClapArgs)]
#[group(multiple = false)]
pub struct ObjectiveArgs {
    /// Lowest escalation rate whose non-escalated quality is at least Q (0 to 1).
    #[arg(long, value_name = "Q")]
    pub min_quality: Option<f64>,
    /// Best non-escalated quality with escalation rate at most R (0 to 1).
    #[arg(long, value_name = "R")]
    pub max_escalation: Option<f64>,
    /// Best cascade quality with cost per request at most B (needs large-model quality).
    #[arg(long, value_name = "B")]
    pub budget: Option<f64>,
}
