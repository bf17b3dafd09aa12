//! The flag groups the commands share, one help heading each: Input, Objective, Costs, Trust,
//! Segments, Signals. Declarations and help text only.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::FormatArg;

/// Per-token price flags, shared by the eval-set commands and `economics`.
#[derive(Debug, ClapArgs)]
pub struct PriceArgs {
    /// Per-token price of a model: `small=0.25` (per million tokens, in and out),
    /// `large=15:75` (IN:OUT) or `small=NAME` from --prices or the built-in examples. On an eval
    /// set it applies to the records' input_tokens and output tokens. Repeatable.
    #[arg(long = "price", value_name = "MODEL=PRICE")]
    pub price: Vec<String>,
    /// A price sheet (TOML: `[models.NAME]` with `input` and `output` per million tokens).
    #[arg(long = "prices", value_name = "FILE")]
    pub prices_file: Option<PathBuf>,
}

/// The flags `sweep` and `recommend` share, in the order of their help headings.
#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    /// How to read the eval set.
    #[command(flatten)]
    pub input: InputArgs,
    /// What the recommendation optimises.
    #[command(flatten)]
    pub objective: ObjectiveArgs,
    /// How requests are priced.
    #[command(flatten)]
    pub costs: CostArgs,
    /// Certification.
    #[command(flatten)]
    pub certify: CertifyArgs,
    /// Held-out validation.
    #[command(flatten)]
    pub holdout: HoldoutArgs,
    /// The seed.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Segments and safeguards.
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Which confidence signal to threshold.
    #[command(flatten)]
    pub signal: SignalArgs,
    /// Multi-model inputs.
    #[command(flatten)]
    pub chains: ChainArgs,
}

/// Flags for a multi-model eval set (one record per prompt and model, or a `models` object per
/// prompt), which `sweep` and `recommend` recognise by its `model` (or `models`) field.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Chains")]
pub struct ChainArgs {
    /// Multi-model input: consider chains of these models only, in this stage order
    /// (comma-separated names). Default: every model, cheapest first by mean cost per request.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// Multi-model input, one file per model: join this file's records to the eval set's by id
    /// (repeat for each model). A record without a model field is the model its file is named
    /// after (llama-8b.jsonl holds llama-8b's answers).
    #[arg(long = "join", value_name = "FILE")]
    pub join: Vec<std::path::PathBuf>,
}

/// `--seed`, shared by every command that draws random numbers.
#[derive(Debug, ClapArgs)]
pub struct SeedArgs {
    /// Seed of every random draw (bootstrap, --holdout, recalibration folds): the same seed
    /// gives the same numbers.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 42,
        help_heading = "Trust"
    )]
    pub seed: u64,
}

/// Flags that say how to read the eval set and price it.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// The eval set: .jsonl/.ndjson, .csv or .parquet; `-` reads stdin (format sniffed). An
    /// aggregate (Parquet from `calibrate aggregate` or `calibrate sql`) is recognised by sweep
    /// and recommend.
    #[arg(value_name = "EVAL")]
    pub eval: PathBuf,
    /// Input format [default: from the extension; sniffed on stdin].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Read a logical field from another column, e.g. `--field small_quality=small_correct`.
    /// Fields: confidence, small_quality (required); large_quality, small_cost, large_cost,
    /// input_tokens, small_output_tokens, large_output_tokens, small_latency_ms,
    /// large_latency_ms, task_type, id, split (optional); raw model outputs for --signal and
    /// --escalate-refusals: logprobs, self_reported, samples, response. Repeatable.
    #[arg(long = "field", value_name = "FIELD=COLUMN")]
    pub fields: Vec<String>,
    /// Drop invalid records instead of stopping; the summary says how many and why.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Keep only records whose FIELD equals VALUE (`FIELD!=VALUE`: does not equal), compared as
    /// text (numbers and booleans as their JSON text: `true`, `3`), e.g. `--where
    /// small_model=llama-8b`. Repeatable: a record must match every condition. The summary
    /// says how many records each run kept.
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    pub filters: Vec<String>,
}

/// Flags that choose and recalibrate the confidence signal.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Signals")]
pub struct SignalArgs {
    /// Threshold this signal instead of the confidence field: a derived signal (logprob_mean,
    /// logprob_geomean, logprob_min, logprob_p10, self_reported, consistency, majority_share,
    /// heuristic; computed from the logprobs, self_reported, samples or response fields) or any
    /// numeric column of the input.
    /// (`calibrate signals` takes it repeatedly.)
    #[arg(long, value_name = "NAME")]
    pub signal: Vec<String>,
    /// Replace the signal by a cross-fitted estimate of the probability that the small answer
    /// is right: isotonic (monotone steps) or platt (a logistic curve).
    #[arg(long, value_enum, value_name = "METHOD")]
    pub recalibrate: Option<RecalibrateArg>,
    /// Folds of the cross-fitting behind --recalibrate.
    #[arg(long, value_name = "K", default_value_t = 5, requires = "recalibrate")]
    pub folds: usize,
}

/// Recalibration methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecalibrateArg {
    /// Isotonic regression (pool adjacent violators).
    Isotonic,
    /// Platt scaling (a logistic curve in the signal).
    Platt,
}

/// Flags that shape the deployed policy: segments and safeguards.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Segments")]
pub struct PolicyArgs {
    /// Give each value of this column (e.g. task_type) its own threshold, chosen jointly under
    /// the objective; repeatable for combinations. Joint thresholds need --min-quality,
    /// --max-quality-loss or --budget.
    #[arg(long = "segment-by", value_name = "FIELD")]
    pub segment_by: Vec<String>,
    /// Segments with fewer records keep the global threshold (or always escalate when even
    /// their most confident records miss the target).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        allow_negative_numbers = true
    )]
    pub min_segment_records: usize,
    /// Records whose FIELD equals VALUE always go to the large model (e.g. task_type=legal,
    /// user_tier=enterprise, is_regeneration=true); repeatable.
    #[arg(long = "always-large", value_name = "FIELD=VALUE")]
    pub always_large: Vec<String>,
    /// Escalate answers whose response text is a refusal ("I cannot", "I don't know"),
    /// whatever the confidence (needs a response field).
    #[arg(long)]
    pub escalate_refusals: bool,
    /// No segment ships answers of quality below Q (0 to 1): the joint optimum under that
    /// floor; a segment that cannot reach it escalates more, up to everything.
    #[arg(long, value_name = "Q", allow_negative_numbers = true)]
    pub segment_floor: Option<f64>,
    /// Which thresholds a segment may take: `tested` (default) only those its own records
    /// support, by a one-sided test at level 0.05 of its records against the other
    /// segments' records in the same confidence band; `free` any (the in-sample joint
    /// optimum, which overfits).
    #[arg(long, value_name = "RULE", default_value = "tested")]
    pub segment_departures: DeparturesArg,
    /// Folds of the cross-fitted estimate shown with --segment-by: the whole selection
    /// (single threshold and per-segment policy) is chosen on K-1 folds and measured on the
    /// held-out fold (seeded by --seed); 0 turns it off.
    #[arg(long = "cross-fit", value_name = "K", default_value_t = 5)]
    pub cross_fit: usize,
}

/// `--segment-departures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeparturesArg {
    /// Only departures the segment's records support.
    Tested,
    /// Any departure (in-sample joint optimum).
    Free,
}

/// Flags that price the requests of an eval set.
///
/// Precedence per model: the record's own cost field, then its tokens × `--price`, then the
/// flat `--small-cost` / `--large-cost`.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Costs")]
pub struct CostArgs {
    /// Small-model cost per request, used when records carry no small_cost and no --price small
    /// [default: 1, said on stderr and in the report when used].
    #[arg(long, value_name = "COST", allow_negative_numbers = true)]
    pub small_cost: Option<f64>,
    /// Large-model cost per request, used when records carry no large_cost and no --price large
    /// [default: 60, said on stderr and in the report when used].
    #[arg(long, value_name = "COST", allow_negative_numbers = true)]
    pub large_cost: Option<f64>,
    /// Per-token prices.
    #[command(flatten)]
    pub prices: PriceArgs,
    /// Estimate the large model's output tokens, when records lack them, as the small model's
    /// output tokens times R.
    #[arg(
        long,
        value_name = "R",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub large_output_ratio: f64,
    /// Compare against sending every request to this model: a per-token price or model name
    /// (priced on input_tokens and small_output_tokens).
    #[arg(long, value_name = "PRICE", conflicts_with = "baseline_cost")]
    pub baseline: Option<String>,
    /// Compare against a model that costs this much per request.
    #[arg(long, value_name = "COST", allow_negative_numbers = true)]
    pub baseline_cost: Option<f64>,
    /// Treat small answers slower than T milliseconds as escalated (needs small_latency_ms).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub small_timeout_ms: Option<f64>,
}

/// The objective flags; at most one may be given.
#[derive(Debug, ClapArgs)]
#[group(multiple = false)]
#[command(next_help_heading = "Objective")]
pub struct ObjectiveArgs {
    /// Lowest escalation rate whose non-escalated quality is at least Q (0 to 1).
    #[arg(long, value_name = "Q", allow_negative_numbers = true)]
    pub min_quality: Option<f64>,
    /// Best non-escalated quality with escalation rate at most R (0 to 1).
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub max_escalation: Option<f64>,
    /// Best cascade quality with cost per request at most B (needs large-model quality).
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    pub budget: Option<f64>,
    /// Lowest escalation whose cascade quality is at most L below always-large (0 to 1; needs
    /// large-model quality).
    #[arg(long, value_name = "L", allow_negative_numbers = true)]
    pub max_quality_loss: Option<f64>,
    /// Lowest escalation whose cascade quality (small and large answers together) is at least
    /// Q (0 to 1; needs large-model quality).
    #[arg(long, value_name = "Q", allow_negative_numbers = true)]
    pub min_cascade_quality: Option<f64>,
}

/// Certification and held-out validation flags.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Trust")]
pub struct CertifyArgs {
    /// Certify the objective (--min-quality or --max-quality-loss): the threshold meets it with
    /// probability at least 1 - delta, assuming the records are exchangeable with production
    /// traffic. Exit status 1 when nothing can be certified.
    #[arg(long)]
    pub certify: bool,
    /// The error probability allowed by --certify.
    #[arg(
        long,
        value_name = "DELTA",
        default_value_t = 0.05,
        requires = "certify",
        allow_negative_numbers = true
    )]
    pub delta: f64,
    /// Let the policy split one tie: when the objective needs part of the records sharing one
    /// confidence value, keep the small answer on a fraction p of them, chosen by a seeded hash
    /// of the request id (see the README, "Splitting a tie"); metrics are in expectation. Needs
    /// --min-quality, --min-cascade-quality or --max-quality-loss; not with --certify,
    /// --segment-by or --recalibrate.
    #[arg(long, help_heading = "Objective")]
    pub split_ties: bool,
    /// The seed of --split-ties' hash, written into the policy for the router.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 0,
        requires = "split_ties",
        help_heading = "Objective"
    )]
    pub tie_seed: u64,
}

/// Held-out validation flags, shared by `sweep` and `recommend`.
#[derive(Debug, ClapArgs)]
#[command(next_help_heading = "Trust")]
pub struct HoldoutArgs {
    /// Hold out this fraction of the records (seeded, stratified by task type): choose the
    /// threshold on the rest, then report how it does on the held-out part.
    #[arg(
        long,
        value_name = "FRACTION",
        conflicts_with = "split_field",
        allow_negative_numbers = true
    )]
    pub holdout: Option<f64>,
    /// Split by this column instead: rows marked train, training, calibration, calib, dev, val, valid or
    /// validation
    /// choose the threshold, rows marked test, holdout or eval check it (any case);
    /// `COLUMN=CALIBRATION:TEST` names another pair, e.g. `--split-field fold=a:b`.
    #[arg(long, value_name = "FIELD[=CAL:TEST]")]
    pub split_field: Option<String>,
}

/// `calibrate sql --logs`: the log aggregate's query and its flags.
#[derive(Debug, ClapArgs)]
pub struct LogSqlArgs {
    /// Reduce production logs for `calibrate monitor` instead of an eval set: one row per
    /// window, hour, label values, signal and route (needs --against).
    #[arg(long, requires = "against")]
    pub logs: bool,
    /// With --logs: the policy or summary.json to monitor (its signal, and the segment,
    /// override and `where` columns it reads).
    #[arg(long, value_name = "POLICY")]
    pub against: Option<PathBuf>,
    /// With --logs: the windows' length (30m, 1h, 1d); monitor's --window must be a multiple
    /// [default: 1h].
    #[arg(long, value_name = "LENGTH")]
    pub window: Option<String>,
    /// With --logs: where escalated is null (or absent, --without escalated) the route comes
    /// from the model column (NAME: the small model's value), as the logs reader does.
    #[arg(long, value_name = "NAME")]
    pub small_model: Option<String>,
    /// With --logs: the column holding each label's inverse-probability weight.
    #[arg(long, value_name = "COLUMN")]
    pub label_weight_field: Option<String>,
    /// With --logs: optional log fields the table has no column for (escalated, cost, small_cost,
    /// large_cost, latency_ms, regenerated, thumbs_down, small_quality, large_quality);
    /// repeatable or comma-separated.
    #[arg(long, value_name = "FIELD", value_delimiter = ',')]
    pub without: Vec<String>,
    /// With --logs: the timestamp column's type [default: epoch].
    #[arg(long, value_enum, value_name = "TYPE")]
    pub timestamp_type: Option<TimestampType>,
}

/// How a log table types its timestamp column (`calibrate sql --logs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimestampType {
    /// Epoch numbers: seconds, or milliseconds above 1e11.
    Epoch,
    /// The engine's TIMESTAMP type.
    Timestamp,
}
