//! Flags to a typed, validated configuration, in one place.
//!
//! Owns every check on what the user asked for (ranges, field names, output paths) and the
//! defaults that depend on the input. It must not read the eval set or compute anything. The
//! settings types it fills live in the layers that consume them (`report::RunSettings`,
//! `engine::economics::CostSettings`, ...); this module is the only one that knows about flags.

mod aggregate;
mod costs;
mod monitor;
mod policy;
mod run;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::{self, CommandArgs, PrintFormat};
use crate::engine::economics::WhatIf;
use crate::input::prices::PriceNames;
use crate::input::{Field, SplitNames};
use crate::output::PolicyFormat;
use crate::report::{Grid, RunSettings, SweepSettings};
use crate::signals::settings::SignalSource;
use crate::trust::holdout::Holdout;
use crate::trust::intervals;

pub use aggregate::AggregateConfig;
pub use monitor::MonitorConfig;
use policy::Extras;
use run::{Shared, default_out, distinct_columns, filter_extras, run_settings};

/// The finest `--grid` step: a million rows; `--exact` lists every candidate instead.
pub const MIN_STEP: f64 = 1e-6;

/// What the program will do.
#[derive(Debug, Clone)]
pub enum Config {
    /// Sweep and write a report directory.
    Sweep(SweepConfig),
    /// Print the recommended threshold.
    Recommend(RecommendConfig),
    /// Tabulate costs for given escalation rates.
    Economics(EconomicsConfig),
    /// Compare confidence signals.
    Signals(SignalsConfig),
    /// Check production logs against a calibration.
    Monitor(MonitorConfig),
    /// Reduce eval sets to an aggregate.
    Aggregate(AggregateConfig),
    /// Print the SQL that builds an aggregate on an engine.
    Sql(crate::output::sql::SqlSpec),
    /// Print the SQL that builds a log aggregate on an engine.
    LogSql(crate::output::sql::logs::LogSqlSpec),
    /// `calibrate sql --models`.
    ChainSql(crate::output::sql::chains::ChainSqlSpec),
    /// Print a completion script for this shell.
    Completions(cli::Shell),
    /// Print a manual page: the overview, or a command's.
    Man(Option<cli::ManPage>),
}

/// `calibrate sweep`.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// Input and objective.
    pub run: RunSettings,
    /// Rows, intervals and hold-out.
    pub sweep: SweepSettings,
    /// The report directory.
    pub out: PathBuf,
}

/// `calibrate recommend`.
#[derive(Debug, Clone)]
pub struct RecommendConfig {
    /// Input and objective.
    pub run: RunSettings,
    /// Output format.
    pub print: PolicyFormat,
    /// `--level` / `--bootstrap`: intervals for the recommended threshold (`None`: none).
    pub intervals: Option<intervals::Settings>,
}

/// `calibrate economics`.
#[derive(Debug, Clone)]
pub struct EconomicsConfig {
    /// The scenario.
    pub what_if: WhatIf,
    /// Names of the prices as the user gave them.
    pub names: PriceNames,
    /// Escalation rates to tabulate (fractions).
    pub rates: Vec<f64>,
    /// Where to write the CSV copy, if anywhere.
    pub csv: Option<PathBuf>,
}

/// `calibrate signals`.
#[derive(Debug, Clone)]
pub struct SignalsConfig {
    /// Input, costs and recalibration.
    pub run: RunSettings,
    /// The signals named with `--signal` (empty: the confidence field and every derivable one).
    pub candidates: Vec<SignalSource>,
    /// `--min-quality`, if given.
    pub target: Option<f64>,
    /// The report directory.
    pub out: PathBuf,
}

impl Config {
    /// Validates the flags.
    pub fn from_args(args: cli::Args) -> Result<Config> {
        Ok(match args.command {
            CommandArgs::Sweep(a) => Config::Sweep(sweep(a)?),
            CommandArgs::Recommend(a) => Config::Recommend(recommend(a)?),
            CommandArgs::Economics(a) => Config::Economics(costs::economics(a)?),
            CommandArgs::Signals(a) => Config::Signals(signals(a)?),
            CommandArgs::Monitor(a) => Config::Monitor(monitor::monitor(*a)?),
            CommandArgs::Aggregate(a) => Config::Aggregate(aggregate::aggregate(a)?),
            CommandArgs::Sql(a) if a.logs.logs => Config::LogSql(aggregate::log_sql(a)?),
            CommandArgs::Sql(a) if a.models.is_some() => Config::ChainSql(aggregate::chain_sql(a)?),
            CommandArgs::Sql(a) => Config::Sql(aggregate::sql(a)?),
            CommandArgs::Completions { shell } => Config::Completions(shell),
            CommandArgs::Man { command } => Config::Man(command),
        })
    }
}

/// The settings `sweep` and `recommend` share, the hold-out included.
fn shared_run(a: cli::RunArgs, quiet: bool) -> Result<RunSettings> {
    let seed = a.seed.seed;
    let shared = Shared {
        input: a.input,
        costs: a.costs,
        signal: a.signal,
        seed,
        quiet,
    };
    let mut run = run_settings(shared, a.objective, a.certify, Some(&a.policy))?;
    run.chains.models = a.chains.models;
    run.chains.join = a.chains.join;
    with_holdout(run, &a.holdout, seed)
}

fn recommend(a: cli::RecommendArgs) -> Result<RecommendConfig> {
    let seed = a.run.seed.seed;
    let mut run = shared_run(a.run, a.quiet)?;
    if a.print == PrintFormat::Text {
        // Thresholds alone: neither the input's hash nor the monitoring reference is shown.
        run.load.hash = false;
        run.policy.skip_reference = true;
    }
    let intervals = match (a.level, a.bootstrap) {
        (None, None) => None,
        (level, resamples) => Some(intervals::Settings {
            level: check_level(level.unwrap_or(0.95))?,
            resamples: check_resamples(resamples)?.unwrap_or(0),
            seed,
        }),
    };
    if intervals.is_some() && a.print != PrintFormat::Json {
        bail!("--level and --bootstrap add intervals to --print json only; add --print json");
    }
    Ok(RecommendConfig {
        intervals,
        run,
        print: match a.print {
            PrintFormat::Text => PolicyFormat::Text,
            PrintFormat::Json => PolicyFormat::Json,
            PrintFormat::Yaml => PolicyFormat::Yaml,
            PrintFormat::Toml => PolicyFormat::Toml,
            PrintFormat::Env => PolicyFormat::Env,
        },
    })
}

fn sweep(a: cli::SweepArgs) -> Result<SweepConfig> {
    let seed = a.run.seed.seed;
    let run = shared_run(a.run, a.quiet)?;
    let grid = match (a.exact, a.grid) {
        (true, _) => Grid::Exact,
        (false, Some(step)) => {
            if !(MIN_STEP..=1.0).contains(&step) {
                bail!("--grid: expected a step in [{MIN_STEP}, 1], found {step}");
            }
            Grid::Step(step)
        }
        (false, None) => Grid::Auto,
    };
    check_level(a.level)?;
    let out = a.out.unwrap_or_else(|| default_out(&run.load.source));
    Ok(SweepConfig {
        run,
        sweep: SweepSettings {
            grid,
            intervals: intervals::Request {
                level: a.level,
                resamples: check_resamples(a.bootstrap)?,
                seed,
            },
        },
        out,
    })
}

/// `--bootstrap`: at most [`intervals::MAX_RESAMPLES`].
fn check_resamples(n: Option<usize>) -> Result<Option<usize>> {
    let max = intervals::MAX_RESAMPLES;
    match n {
        Some(n) if n > max => bail!("--bootstrap: expected at most {max} resamples, found {n}"),
        _ => Ok(n),
    }
}

/// `--level`: a probability strictly between 0 and 1.
fn check_level(level: f64) -> Result<f64> {
    if !(level > 0.0 && level < 1.0) {
        bail!("--level: expected a probability in (0, 1), found {level}");
    }
    Ok(level)
}

/// `--holdout FRACTION` (seeded with `--seed`) or `--split-field FIELD[=CALIBRATION:TEST]`,
/// which also makes the loader read that column.
fn with_holdout(mut run: RunSettings, a: &cli::HoldoutArgs, seed: u64) -> Result<RunSettings> {
    run.holdout = match (a.holdout, &a.split_field) {
        (Some(f), _) => {
            if !(f > 0.0 && f < 1.0) {
                bail!("--holdout: expected a fraction in (0, 1), found {f}");
            }
            Some(Holdout::Fraction { fraction: f, seed })
        }
        (None, Some(spec)) => {
            let (column, names) = split_field(spec)?;
            let labels = names.describe();
            run.load.fields.set(Field::Split, column.clone());
            run.load.fields.set_split_names(names);
            run.load.read_split = true;
            distinct_columns(&run.load.fields).with_context(|| {
                format!("--split-field {spec}: the column is read as another field")
            })?;
            Some(Holdout::Field { column, labels })
        }
        (None, None) => None,
    };
    if run.holdout.is_some() && run.split_ties.is_some() {
        bail!(
            "--split-ties with --holdout or --split-field: the held-out check judges the \
             records a threshold accepts, and a split accepts a random share of a tie; drop \
             --split-ties to check the threshold, or the hold-out to see the split's expected \
             figures with their bootstrap intervals"
        );
    }
    Ok(run)
}

/// `COLUMN` (the usual labels) or `COLUMN=CALIBRATION:TEST`.
fn split_field(spec: &str) -> Result<(String, SplitNames)> {
    let Some((column, pair)) = spec.split_once('=') else {
        if spec.is_empty() {
            bail!("--split-field: the column name is empty");
        }
        return Ok((spec.to_string(), SplitNames::Usual));
    };
    let (calibration, test) = pair.split_once(':').with_context(|| {
        format!("--split-field {spec:?}: expected COLUMN=CALIBRATION:TEST, e.g. split=train:test")
    })?;
    let (calibration, test) = (calibration.trim(), test.trim());
    if column.is_empty() || calibration.is_empty() || test.is_empty() {
        bail!("--split-field {spec:?}: expected COLUMN=CALIBRATION:TEST, e.g. split=train:test");
    }
    if calibration.eq_ignore_ascii_case(test) {
        bail!("--split-field {spec:?}: the two labels must differ");
    }
    let names = SplitNames::Pair {
        calibration: calibration.to_string(),
        test: test.to_string(),
    };
    Ok((column.to_string(), names))
}

fn signals(a: cli::SignalsArgs) -> Result<SignalsConfig> {
    let candidates = (a.signal.signal.iter())
        .map(|s| policy::parse_source(s))
        .collect::<Result<Vec<_>>>()?;
    let target = match a.min_quality {
        Some(q) if !(0.0..=1.0).contains(&q) => {
            bail!("--min-quality: expected a number in [0, 1], found {q}")
        }
        q => q,
    };
    let no_objective = cli::ObjectiveArgs {
        min_quality: None,
        max_escalation: None,
        budget: None,
        max_quality_loss: None,
        min_cascade_quality: None,
    };
    let no_certificate = cli::CertifyArgs {
        certify: false,
        delta: 0.05,
        split_ties: false,
        tie_seed: 0,
    };
    let shared = Shared {
        input: a.input,
        costs: a.costs,
        signal: a.signal,
        seed: a.seed.seed,
        quiet: a.quiet,
    };
    let mut run = run_settings(shared, no_objective, no_certificate, None)?;
    run.load.fields.make_confidence_optional();
    let mut extras = Extras::default();
    policy::compare_extras(&mut extras, &candidates, &run.signal);
    filter_extras(&mut extras, &run.filters);
    run.load.extras = extras.into_requests();
    if candidates.is_empty() {
        // Every other numeric column is a candidate signal too (not the `--where` columns).
        let fields = &run.load.fields;
        let mut except: Vec<String> = (Field::ALL.iter())
            .map(|f| fields.column(*f).to_string())
            .collect();
        except.extend(run.signal.raw_columns.iter().cloned());
        except.extend(run.filters.iter().map(|f| f.column.clone()));
        run.load.discover_except = Some(except);
    }
    let out = a.out.unwrap_or_else(|| {
        let mut dir = default_out(&run.load.source).into_os_string();
        dir.push("-signals");
        PathBuf::from(dir)
    });
    Ok(SignalsConfig {
        run,
        candidates,
        target,
        out,
    })
}

#[cfg(test)]
mod tests;
