//! Command-line flags as the user types them: clap derive structs and help text.
//!
//! Owns spelling, defaults and help. It imports nothing from the crate and validates nothing
//! beyond what clap checks; `config/` turns these into a typed configuration. The commands are
//! here; the flag groups several commands share (one help heading each) are in `groups.rs`.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

mod groups;
mod monitor;

pub use groups::TimestampType;
pub use groups::{
    CertifyArgs, CostArgs, DeparturesArg, HoldoutArgs, InputArgs, LogSqlArgs, ObjectiveArgs,
    PolicyArgs, PriceArgs, RecalibrateArg, RunArgs, SeedArgs, SignalArgs,
};
pub use monitor::{FailOn, MonitorArgs};

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
    /// Sweep every threshold and write a report directory (Markdown, plots, CSV, JSON).
    #[command(after_help = "Examples:\n  \
        calibrate sweep data/example.jsonl\n  \
        calibrate sweep eval.csv --out reports/eval --min-quality 0.95\n  \
        calibrate sweep eval.jsonl --field small_quality=small_correct --exact\n  \
        cat eval.jsonl | calibrate sweep - --out reports/stdin\n  \
        calibrate sweep agg.parquet --out reports/agg   (an aggregate; see calibrate aggregate)\n\n\
        Writes, atomically (all files or none):\n  \
        DIR/report.md     the dashboard a reviewer reads in a pull request\n  \
        DIR/*.svg, *.png  tradeoff, cost, frontier, confidence, reliability, funnel\n  \
        DIR/sweep.csv     one row per threshold\n  \
        DIR/summary.json  input, settings, baselines and the recommendation\n\
        and prints a short summary of the recommendation to stdout.\n\n\
        DIR/segments.csv  with --segment-by: every segment at every threshold\n\
        Objective: --min-quality, --max-escalation, --budget, --max-quality-loss or\n\
        --min-cascade-quality; with none, the post's quality x (1 - cost / always-large cost).\n\n\
        Policy: --segment-by FIELD chooses per-segment thresholds jointly; --always-large\n\
        FIELD=VALUE and --escalate-refusals force escalation; --signal NAME and\n\
        --recalibrate isotonic|platt choose what is thresholded.")]
    Sweep(SweepArgs),
    /// Print the recommended threshold alone, for deployment config.
    #[command(after_help = "Examples:\n  \
        calibrate recommend eval.jsonl\n  \
        calibrate recommend eval.jsonl --min-quality 0.95\n  \
        calibrate recommend eval.jsonl --max-escalation 0.2 --print json\n  \
        calibrate recommend eval.jsonl --min-quality 0.95 --certify --delta 0.05\n  \
        calibrate recommend eval.jsonl --min-quality 0.95 --segment-by task_type \\\n      \
            --always-large user_tier=enterprise --print yaml\n  \
        calibrate recommend eval.jsonl --signal logprob_min --recalibrate isotonic --print json\n  \
        calibrate recommend agg.parquet --min-quality 0.95   (an aggregate; see calibrate aggregate)\n  \
        T=$(calibrate recommend eval.jsonl --budget 5) || echo \"no threshold fits\"\n\n\
        Objective: --min-quality, --max-escalation, --budget, --max-quality-loss or\n\
        --min-cascade-quality; with none, the post's quality x (1 - cost / always-large cost).\n\n\
        With segments or overrides the text form prints one rule per line;\n\
        --print json|yaml|toml|env prints the whole policy (signal, recalibration map,\n\
        thresholds, overrides, what it measured, input sha256, tool version).\n\n\
        The printed threshold is the smallest accepted confidence: routing with\n\
        `confidence >= threshold` reproduces the chosen split exactly; `always_large` when\n\
        only escalating everything meets the objective. When no threshold (and, with\n\
        --segment-by, no per-segment policy) meets the objective the exit status is 1: the\n\
        text form prints nothing to stdout and the reason to stderr; --print json prints\n\
        {\"found\": false, \"reason\": ...}. \"found\" is about one global threshold: with\n\
        --segment-by, a \"policy\" can be present (exit 0) when \"found\" is false.")]
    Recommend(RecommendArgs),
    /// Compare confidence signals: which one to threshold, and what each one buys.
    #[command(after_help = "Examples:\n  \
        calibrate signals data/example-signals.jsonl\n  \
        calibrate signals eval.jsonl --min-quality 0.95 --recalibrate isotonic\n  \
        calibrate signals eval.jsonl --signal logprob_min --signal verifier_score\n\n\
        Without --signal, compares the confidence field (when present) and every signal\n\
        derivable from the raw fields the records carry: logprobs (logprob_mean,\n\
        logprob_geomean, logprob_min, logprob_p10), self_reported, samples (consistency,\n\
        majority_share) and response (heuristic). --signal also takes any numeric column.\n\n\
        Writes DIR/signals.md, signals.csv, signals.json, risk_coverage.{svg,png} and\n\
        signal_reliability.{svg,png}; prints the ranking to stdout.")]
    Signals(SignalsArgs),
    /// Check production logs against a calibration: routing, escalation, drift, quality, cost
    /// and feedback per time window and segment.
    Monitor(Box<MonitorArgs>),
    /// Reduce eval sets (or aggregates of shards) to one row per confidence and segment, with
    /// counts and exact sums: the table every number of a sweep comes from.
    #[command(after_help = "Examples:\n  \
        calibrate aggregate eval.jsonl --out agg.parquet\n  \
        calibrate aggregate part-*.jsonl --segment-by task_type --out agg.parquet\n  \
        calibrate aggregate a.parquet b.parquet --out all.parquet   (merge aggregates)\n  \
        calibrate recommend agg.parquet --min-quality 0.9           (use it as input)\n\n\
        Costs are priced here (record cost fields, --price or --small-cost/--large-cost), so the\n\
        aggregate carries cost sums. Sums are exact: each value in units of 2^-80 as whole-number\n\
        limbs (DECIMAL(38,0)), so shards merge in any order and `calibrate sql` on an engine\n\
        gives the same table. --resolution K keys confidences by floor(c * 2^K) / 2^K.")]
    Aggregate(AggregateArgs),
    /// Print the SQL query that builds the aggregate on an engine (DuckDB, Spark, BigQuery,
    /// Trino, Postgres, Snowflake).
    #[command(after_help = "Examples:\n  \
        calibrate sql --dialect duckdb --table \"read_parquet('eval.parquet')\"\n  \
        calibrate sql --dialect spark --table evals --segment-by task_type \\\n      \
            --field small_quality=correct --price small=0.15:0.6 --price large=2.5:10\n  \
        calibrate sql --dialect bigquery --table proj.ds.evals --resolution 10\n\n\
        Save the query's result as Parquet (DuckDB: COPY (...) TO 'agg.parquet'; Spark:\n\
        spark.sql(q).write.parquet(dir), then calibrate aggregate dir/*.parquet --out\n\
        agg.parquet to merge its parts) and pass it to sweep, recommend or aggregate.\n\
        Costs: --price MODEL=IN/OUT prices token columns, --small-cost/--large-cost are flat,\n\
        otherwise the small_cost and large_cost columns are summed.\n\n\
        Production logs, for `calibrate monitor` (the columns come from the policy):\n  \
        calibrate sql --logs --against summary.json --dialect duckdb \\\n      \
            --table \"read_parquet('logs/*.parquet')\" --window 1h\n  \
        calibrate monitor logagg.parquet --against summary.json --window 1d")]
    Sql(SqlArgs),
    /// What-if cost table for given escalation rates, without an eval set.
    #[command(after_help = "Examples:\n  \
        calibrate economics --price small=0.25 --price large=15 --baseline 3\n  \
        calibrate economics --price small=claude-3-haiku --price large=claude-3-opus \\\n      \
            --tokens-per-request 800 --output-tokens-per-request 300 --csv costs.csv\n\n\
        The small model is paid on every request; the large model only on escalated ones.\n\
        The table also shows the post's formula, which forgets the small model on escalated\n\
        requests, for comparison.")]
    Economics(EconomicsArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  \
        calibrate completions bash > ~/.local/share/bash-completion/completions/calibrate\n  \
        calibrate completions zsh > ~/.zfunc/_calibrate\n  \
        calibrate completions fish > ~/.config/fish/completions/calibrate.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print a manual page (roff), e.g. `calibrate man | man -l -`; `calibrate man sweep` for
    /// a command's page with all its flags.
    Man {
        /// The command whose page to print [default: the overview].
        #[arg(value_enum)]
        command: Option<ManPage>,
    },
}

/// The commands with a manual page of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManPage {
    /// `calibrate sweep`.
    Sweep,
    /// `calibrate recommend`.
    Recommend,
    /// `calibrate signals`.
    Signals,
    /// `calibrate economics`.
    Economics,
    /// `calibrate monitor`.
    Monitor,
}

/// Shells `calibrate completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// PowerShell.
    Powershell,
    /// Elvish.
    Elvish,
}

/// Flags of `calibrate aggregate`.
#[derive(Debug, ClapArgs)]
pub struct AggregateArgs {
    /// Eval sets (.jsonl, .csv, .parquet; `-` for stdin) or aggregates to merge.
    #[arg(value_name = "EVAL", required = true)]
    pub inputs: Vec<PathBuf>,
    /// The aggregate to write (Parquet), atomically.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Key confidences by floor(confidence * 2^K) / 2^K instead of their exact value (0-60):
    /// fewer rows, thresholds on multiples of 2^-K [default: exact].
    #[arg(long, value_name = "K")]
    pub resolution: Option<u8>,
    /// One row per value of these fields too (repeatable; values as text).
    #[arg(long = "segment-by", value_name = "FIELD")]
    pub segment_by: Vec<String>,
    /// Read a logical field from another column (as for sweep), e.g. `--field
    /// small_quality=correct`. Repeatable.
    #[arg(long = "field", value_name = "FIELD=COLUMN")]
    pub fields: Vec<String>,
    /// Input format [default: from the extension; sniffed on stdin].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Drop invalid records instead of stopping; stderr says how many were dropped.
    #[arg(long)]
    pub skip_invalid: bool,
    /// How requests are priced (as for sweep).
    #[command(flatten)]
    pub costs: CostArgs,
    /// A multi-model eval set's models to aggregate (as for sweep).
    #[command(flatten)]
    pub chains: groups::ChainArgs,
    /// Hide progress.
    #[arg(long, short)]
    pub quiet: bool,
    /// Bytes of JSON Lines read and aggregated at a time (memory holds one part).
    #[arg(long, hide = true, default_value_t = 16 << 20)]
    pub part_bytes: usize,
}

/// Flags of `calibrate sql`.
#[derive(Debug, ClapArgs)]
pub struct SqlArgs {
    /// The engine's SQL dialect.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// The table (or table expression) holding one record per prompt.
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// Read a logical field from another column, e.g. `--field small_quality=correct`.
    /// Repeatable.
    #[arg(long = "field", value_name = "FIELD=COLUMN")]
    pub fields: Vec<String>,
    /// One row per value of these columns too (repeatable).
    #[arg(long = "segment-by", value_name = "FIELD")]
    pub segment_by: Vec<String>,
    /// Key confidences by floor(confidence * 2^K) / 2^K (0-60) [default: exact].
    #[arg(long, value_name = "K")]
    pub resolution: Option<u8>,
    /// Whether the table has large-model quality labels.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub large_quality: bool,
    /// Small-model cost per request, flat.
    #[arg(long, value_name = "COST")]
    pub small_cost: Option<f64>,
    /// Large-model cost per request, flat.
    #[arg(long, value_name = "COST")]
    pub large_cost: Option<f64>,
    /// Per-token prices, as for sweep: tokens × price per million for that model.
    #[command(flatten)]
    pub prices: PriceArgs,
    /// Large output tokens = small output tokens x R when --price large is given and the table
    /// has no large_output_tokens (say so with --no-large-output-tokens).
    #[arg(long, value_name = "R", default_value_t = 1.0)]
    pub large_output_ratio: f64,
    /// The table has no large_output_tokens column: estimate it from small_output_tokens.
    #[arg(long)]
    pub no_large_output_tokens: bool,
    /// The table has no input_tokens column: price output tokens only.
    #[arg(long)]
    pub no_input_tokens: bool,
    /// Also sketch the cascade's latency from the small_latency_ms and large_latency_ms
    /// columns (one row per confidence, path and logarithmic bucket). With --models: carry
    /// each model's latency_ms.
    #[arg(long)]
    pub latency: bool,
    /// The chain aggregate of these models instead, from a long table (one row per prompt and
    /// model: id, model, confidence, quality, cost or tokens); comma-separated names.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// The logs' query (`--logs`) and its flags.
    #[command(flatten)]
    pub logs: LogSqlArgs,
}

/// SQL dialects `calibrate sql` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    /// DuckDB.
    Duckdb,
    /// Apache Spark SQL (Databricks).
    Spark,
    /// Google BigQuery.
    Bigquery,
    /// Trino (Presto, Athena).
    Trino,
    /// PostgreSQL.
    Postgres,
    /// Snowflake.
    Snowflake,
}

/// Flags of `calibrate economics`.
#[derive(Debug, ClapArgs)]
pub struct EconomicsArgs {
    /// Per-token prices (both small and large are needed here).
    #[command(flatten)]
    pub prices: PriceArgs,
    /// The comparison model's price (the post's "all requests to a medium model").
    #[arg(long, value_name = "PRICE")]
    pub baseline: Option<String>,
    /// Escalation rates to tabulate, comma-separated fractions.
    #[arg(
        long,
        value_name = "RATES",
        value_delimiter = ',',
        default_value = "0.1,0.2,0.3,0.4"
    )]
    pub escalation: Vec<f64>,
    /// Requests in the period.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1_000_000.0,
        allow_negative_numbers = true
    )]
    pub requests: f64,
    /// Input tokens per request.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000.0,
        allow_negative_numbers = true
    )]
    pub tokens_per_request: f64,
    /// Output tokens per request.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub output_tokens_per_request: f64,
    /// Also write the table to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// Flags of `calibrate sweep`.
#[derive(Debug, ClapArgs)]
pub struct SweepArgs {
    /// Input, objective, costs, trust, segments and signal.
    #[command(flatten)]
    pub run: RunArgs,
    /// Report directory [default: reports/<input file stem>].
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Step of the threshold grid in sweep.csv [default: 0.01 when every confidence lies in
    /// [0, 1]; otherwise 101 evenly spaced quantiles of the confidences].
    #[arg(
        long,
        value_name = "STEP",
        conflicts_with = "exact",
        help_heading = "Output",
        allow_negative_numbers = true
    )]
    pub grid: Option<f64>,
    /// Write every candidate threshold (each distinct confidence) to sweep.csv instead of a grid.
    #[arg(long, help_heading = "Output")]
    pub exact: bool,
    /// Confidence level of the intervals in sweep.csv and the report.
    #[arg(
        long,
        value_name = "LEVEL",
        default_value_t = 0.95,
        help_heading = "Trust",
        allow_negative_numbers = true
    )]
    pub level: f64,
    /// Bootstrap resamples for the intervals of cost and of qualities in [0, 1], and for the
    /// spread of the recommended threshold; 0 turns the bootstrap off [default: 200, fewer above
    /// 50,000 records, at least 10].
    #[arg(long, value_name = "N", help_heading = "Trust")]
    pub bootstrap: Option<usize>,
    /// Hide the progress bar.
    #[arg(long, short, help_heading = "Output")]
    pub quiet: bool,
}

/// Flags of `calibrate signals`.
#[derive(Debug, ClapArgs)]
pub struct SignalsArgs {
    /// How to read the eval set.
    #[command(flatten)]
    pub input: InputArgs,
    /// Rank signals by the cost of reaching this non-escalated quality [default: halfway from
    /// always-small quality to 1].
    #[arg(
        long,
        value_name = "Q",
        help_heading = "Objective",
        allow_negative_numbers = true
    )]
    pub min_quality: Option<f64>,
    /// How requests are priced.
    #[command(flatten)]
    pub costs: CostArgs,
    /// The seed.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Which confidence signal to threshold.
    #[command(flatten)]
    pub signal: SignalArgs,
    /// Report directory [default: reports/<input file stem>-signals].
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long, short, help_heading = "Output")]
    pub quiet: bool,
}

/// Flags of `calibrate recommend`.
#[derive(Debug, ClapArgs)]
pub struct RecommendArgs {
    /// Input, objective, costs, trust, segments and signal.
    #[command(flatten)]
    pub run: RunArgs,
    /// With --print json: intervals at this confidence level for the recommended threshold
    /// (Wilson for rates and 0/1 qualities) [default: none; 0.95 when --bootstrap is given].
    #[arg(
        long,
        value_name = "LEVEL",
        help_heading = "Trust",
        allow_negative_numbers = true
    )]
    pub level: Option<f64>,
    /// With --print json: bootstrap resamples for the cost and [0, 1]-quality intervals and the
    /// spread of the recommended threshold across resamples [default: none].
    #[arg(long, value_name = "N", help_heading = "Trust")]
    pub bootstrap: Option<usize>,
    /// Output: the bare threshold (text), or the whole policy as json, yaml, toml or env.
    #[arg(
        long,
        value_enum,
        default_value_t = PrintFormat::Text,
        value_name = "FORMAT",
        help_heading = "Output"
    )]
    pub print: PrintFormat,
    /// Hide the progress bar.
    #[arg(long, short, help_heading = "Output")]
    pub quiet: bool,
}

/// Output of `recommend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintFormat {
    /// The threshold alone, one line (a table when segments or overrides are in play).
    Text,
    /// The whole policy as one JSON object, with what calibration measured.
    Json,
    /// The policy as YAML.
    Yaml,
    /// The policy as TOML.
    Toml,
    /// The policy as shell variables (KEY=VALUE lines).
    Env,
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Args;

    /// clap's own check of the definition: conflicting names, bad defaults, broken `requires`.
    #[test]
    fn the_cli_definition_is_valid() {
        Args::command().debug_assert();
    }
}
