//! `calibrate aggregate` and `calibrate sql` flags turned into settings.
//!
//! Owns the checks these two commands make on their flags. The inputs of `aggregate` are read
//! with the same field mapping and pricing as `sweep` (the same conversion builds them).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::cli::{self, AggregateArgs, SqlArgs};
use crate::input::Field;
use crate::input::LogColumns;
use crate::input::prices::Price;
use crate::output::sql::chains::{ChainSqlCost, ChainSqlSpec};
use crate::output::sql::logs::{LogSqlSpec, TimeType};
use crate::output::sql::{Dialect, SqlCost, SqlSpec};
use crate::report::RunSettings;

use super::run::source_of;

/// `calibrate aggregate`.
#[derive(Debug, Clone)]
pub struct AggregateConfig {
    /// How to read and price each input (eval sets; aggregates are recognised on reading).
    pub inputs: Vec<RunSettings>,
    /// The file to write.
    pub out: PathBuf,
    /// -1 exact, else the resolution k.
    pub resolution: i64,
    /// Bytes of JSON Lines read at a time.
    pub part_bytes: usize,
    /// The flags given that shape the cells of eval-set inputs only (an aggregate input's cells
    /// were keyed and segmented when it was built).
    pub eval_flags: Vec<&'static str>,
}

/// Every flag of `sweep` at its default, for the eval set `path`.
#[derive(Parser)]
struct Defaults {
    #[command(flatten)]
    run: cli::RunArgs,
}

/// The settings of `calibrate aggregate`.
pub fn aggregate(a: AggregateArgs) -> Result<AggregateConfig> {
    let resolution = resolution(a.resolution)?;
    let given = [
        (a.resolution.is_some(), "--resolution"),
        (!a.segment_by.is_empty(), "--segment-by"),
        (!a.fields.is_empty(), "--field"),
        (a.chains.models.is_some(), "--models"),
        (!a.chains.join.is_empty(), "--join"),
    ];
    let eval_flags = (given.iter())
        .filter_map(|&(on, flag)| on.then_some(flag))
        .collect();
    let mut defaults = Defaults::try_parse_from(["calibrate", "-"])?;
    defaults.run.input.fields = a.fields;
    defaults.run.input.format = a.format;
    defaults.run.input.skip_invalid = a.skip_invalid;
    defaults.run.costs = a.costs;
    defaults.run.policy.segment_by = a.segment_by;
    if !a.chains.join.is_empty() && a.inputs.len() > 1 {
        bail!(
            "--join: joins one multi-model eval set's files by id; with --join give one input \
             (merge the aggregates afterwards)"
        );
    }
    defaults.run.chains = a.chains;
    let run = super::shared_run(defaults.run, a.quiet)?;
    let inputs = a
        .inputs
        .into_iter()
        .map(|path| {
            let mut r = run.clone();
            r.load.source = source_of(path);
            r
        })
        .collect();
    if a.part_bytes == 0 {
        bail!("--part-bytes: expected at least 1");
    }
    if a.out.as_os_str() == "-" {
        bail!("--out -: the aggregate is a Parquet file, written whole; name the file");
    }
    Ok(AggregateConfig {
        inputs,
        out: a.out,
        resolution,
        part_bytes: a.part_bytes,
        eval_flags,
    })
}

fn resolution(k: Option<u8>) -> Result<i64> {
    match k {
        Some(k) if k > 60 => bail!("--resolution {k}: expected 0 to 60 bits"),
        Some(k) => Ok(i64::from(k)),
        None => Ok(-1),
    }
}

/// The settings of `calibrate sql`.
pub fn sql(a: SqlArgs) -> Result<SqlSpec> {
    let logs_only = [
        (a.logs.against.is_some(), "--against"),
        (a.logs.window.is_some(), "--window"),
        (a.logs.small_model.is_some(), "--small-model"),
        (a.logs.label_weight_field.is_some(), "--label-weight-field"),
        (a.logs.timestamp_type.is_some(), "--timestamp-type"),
        (!a.logs.without.is_empty(), "--without"),
    ];
    if let Some((_, flag)) = logs_only.iter().find(|(given, _)| *given) {
        bail!("{flag}: a flag of the logs' query; add --logs");
    }
    let resolution = resolution(a.resolution)?;
    let mut columns: Vec<(Field, String)> = Vec::new();
    for spec in &a.fields {
        let Some((field, column)) = spec.split_once('=') else {
            bail!("--field {spec}: expected FIELD=COLUMN, e.g. small_quality=correct");
        };
        let Some(f) = Field::ALL.iter().find(|f| f.name() == field) else {
            bail!("--field {spec}: unknown field \"{field}\"");
        };
        if column.is_empty() {
            bail!("--field {spec}: the column name is empty");
        }
        columns.push((*f, column.to_string()));
    }
    let column = |f: Field| {
        columns
            .iter()
            .rev()
            .find(|(g, _)| *g == f)
            .map_or_else(|| f.name().to_string(), |(_, c)| c.clone())
    };
    let sheets = super::costs::sheets(a.prices.prices_file.as_deref())?;
    let (small, large) = super::costs::prices(&a.prices.price, &sheets)?;
    let prices = [small.map(|p| p.price), large.map(|p| p.price)];
    let cost = |flat: Option<f64>, price: Option<Price>, model: &str| -> Result<SqlCost> {
        Ok(match (flat, price) {
            (Some(_), Some(_)) => bail!("--{model}-cost and --price {model}=...: give one"),
            (Some(c), None) if c.is_finite() && (0.0..1e30).contains(&c) => SqlCost::Flat(c),
            (Some(c), None) => bail!("--{model}-cost {c}: expected a cost ≥ 0 and below 1e30"),
            (None, Some(p)) => SqlCost::Tokens {
                input: p.input,
                output: p.output,
            },
            (None, None) => SqlCost::Column,
        })
    };
    if !(a.large_output_ratio.is_finite() && a.large_output_ratio >= 0.0) {
        bail!(
            "--large-output-ratio {}: expected a number ≥ 0",
            a.large_output_ratio
        );
    }
    Ok(SqlSpec {
        dialect: dialect(a.dialect),
        table: a.table,
        confidence: column(Field::Confidence),
        small_quality: column(Field::SmallQuality),
        large_quality: a.large_quality.then(|| column(Field::LargeQuality)),
        small_cost_column: column(Field::SmallCost),
        large_cost_column: column(Field::LargeCost),
        input_tokens: (!a.no_input_tokens).then(|| column(Field::InputTokens)),
        small_output_tokens: column(Field::SmallOutputTokens),
        large_output_tokens: (!a.no_large_output_tokens).then(|| column(Field::LargeOutputTokens)),
        large_output_ratio: a.large_output_ratio,
        small_cost: cost(a.small_cost, prices[0], "small")?,
        large_cost: cost(a.large_cost, prices[1], "large")?,
        segment_by: a.segment_by,
        resolution,
        latency: a
            .latency
            .then(|| (column(Field::SmallLatencyMs), column(Field::LargeLatencyMs))),
    })
}

/// The settings of `calibrate sql --logs`: the policy read for its signal and label columns.
pub fn log_sql(a: SqlArgs) -> Result<LogSqlSpec> {
    let eval_only = [
        (!a.segment_by.is_empty(), "--segment-by"),
        (a.resolution.is_some(), "--resolution"),
        (
            a.small_cost.is_some() || a.large_cost.is_some(),
            "--small-cost/--large-cost",
        ),
        (
            !a.prices.price.is_empty() || a.prices.prices_file.is_some(),
            "--price/--prices",
        ),
        (a.latency, "--latency"),
        (a.models.is_some(), "--models"),
        (!a.large_quality, "--large-quality false"),
        (
            a.no_input_tokens || a.no_large_output_tokens,
            "--no-*-tokens",
        ),
        (a.large_output_ratio != 1.0, "--large-output-ratio"),
    ];
    if let Some((_, flag)) = eval_only.iter().find(|(given, _)| *given) {
        bail!(
            "{flag}: a flag of the eval-set query; --logs reads the segments from the policy \
             and costs from the logs' cost columns"
        );
    }
    let path = a.logs.against.context("--logs needs --against POLICY")?;
    let against = crate::input::read_against(&path)?;
    let router = crate::monitor::route::Router::new(against.clone())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}: the policy's signal", path.display()))?;
    let mut columns = LogColumns::new(&against.signal.name);
    super::monitor::log_fields(&a.fields, &mut columns)?;
    columns.label_weight = a.logs.label_weight_field;
    for field in &a.logs.without {
        if !OPTIONAL_LOG_FIELDS.contains(&field.as_str()) {
            bail!(
                "--without {field}: expected an optional log field ({})",
                OPTIONAL_LOG_FIELDS.join(", ")
            );
        }
    }
    if a.logs.without.iter().any(|f| f == "escalated") && a.logs.small_model.is_none() {
        bail!("--without escalated: the route must come from somewhere; add --small-model NAME");
    }
    let window = super::monitor::window(a.logs.window.as_deref().unwrap_or("1h"))?;
    if window > i64::from(i32::MAX) {
        bail!("--window {window}s: expected at most {} seconds", i32::MAX);
    }
    Ok(LogSqlSpec {
        dialect: dialect(a.dialect),
        table: a.table,
        columns,
        labels: router.columns.clone(),
        absent: a.logs.without,
        small_model: a.logs.small_model,
        window,
        time: match a.logs.timestamp_type {
            Some(cli::TimestampType::Timestamp) => TimeType::Timestamp,
            _ => TimeType::Epoch,
        },
    })
}

/// The log fields a table may lack.
const OPTIONAL_LOG_FIELDS: [&str; 9] = [
    "escalated",
    "cost",
    "small_cost",
    "large_cost",
    "latency_ms",
    "regenerated",
    "thumbs_down",
    "small_quality",
    "large_quality",
];

/// The settings of `calibrate sql --models`: the chain aggregate's query.
pub fn chain_sql(a: SqlArgs) -> Result<ChainSqlSpec> {
    let two_model = [
        (!a.segment_by.is_empty(), "--segment-by"),
        (
            a.small_cost.is_some() || a.large_cost.is_some(),
            "--small-cost/--large-cost",
        ),
        (!a.prices.price.is_empty(), "--price"),
        (!a.large_quality, "--large-quality false"),
        (a.no_large_output_tokens, "--no-large-output-tokens"),
        (a.large_output_ratio != 1.0, "--large-output-ratio"),
    ];
    if let Some((_, flag)) = two_model.iter().find(|(given, _)| *given) {
        bail!(
            "{flag}: a flag of the two-model query; with --models each model is priced by the \
             cost column, or by its tokens and a --prices sheet"
        );
    }
    let mut wanted = a.models.unwrap_or_default();
    if wanted.len() < 2 || wanted.iter().any(String::is_empty) {
        bail!("--models: expected two or more model names, e.g. --models small,medium,large");
    }
    if wanted.len() > crate::engine::chains::MAX_MODELS {
        bail!(
            "--models: at most {} models",
            crate::engine::chains::MAX_MODELS
        );
    }
    wanted.sort();
    if let Some(w) = wanted.windows(2).find(|w| w[0] == w[1]) {
        bail!("--models: {:?} is named twice", w[0]);
    }
    let column = long_columns(&a.fields)?;
    let models = chain_prices(wanted, a.prices.prices_file.as_deref())?;
    Ok(ChainSqlSpec {
        dialect: dialect(a.dialect),
        table: a.table,
        models,
        id: column("id"),
        model: column("model"),
        confidence: column("confidence"),
        quality: column("quality"),
        cost: column("cost"),
        input_tokens: (!a.no_input_tokens).then(|| column("input_tokens")),
        output_tokens: column("output_tokens"),
        latency: a.latency.then(|| column("latency_ms")),
        resolution: resolution(a.resolution)?,
    })
}

/// The long table's column for each logical field, from `--field NAME=COLUMN` (the last wins).
fn long_columns(fields: &[String]) -> Result<impl Fn(&str) -> String> {
    const NAMES: [&str; 8] = [
        "id",
        "model",
        "confidence",
        "quality",
        "cost",
        "input_tokens",
        "output_tokens",
        "latency_ms",
    ];
    let mut columns: Vec<(&str, String)> = Vec::new();
    for spec in fields {
        let Some((field, column)) = spec.split_once('=') else {
            bail!("--field {spec}: expected FIELD=COLUMN, e.g. quality=correct");
        };
        let Some(name) = NAMES.iter().find(|n| **n == field) else {
            bail!(
                "--field {spec}: unknown field \"{field}\" of a long table (one of {})",
                NAMES.join(", ")
            );
        };
        if column.is_empty() {
            bail!("--field {spec}: the column name is empty");
        }
        columns.push((name, column.to_string()));
    }
    Ok(move |f: &str| {
        (columns.iter().rev().find(|(g, _)| *g == f))
            .map_or_else(|| f.to_string(), |(_, c)| c.clone())
    })
}

/// How each model is priced: by the cost column, or with `--prices` by its tokens at its price
/// in the sheet (else the built-in one).
fn chain_prices(
    models: Vec<String>,
    sheet: Option<&std::path::Path>,
) -> Result<Vec<(String, ChainSqlCost)>> {
    let sheets = super::costs::sheets(sheet)?;
    (models.into_iter())
        .map(|name| {
            if sheet.is_none() {
                return Ok((name, ChainSqlCost::Column));
            }
            let Some(price) = sheets.iter().find_map(|s| s.get(&name)) else {
                bail!(
                    "--prices: no price for model {name:?} in the sheet or the built-in one; add \
                     it to the sheet"
                );
            };
            let cost = ChainSqlCost::Tokens {
                input: price.input,
                output: price.output,
            };
            Ok((name, cost))
        })
        .collect()
}

fn dialect(d: cli::Dialect) -> Dialect {
    match d {
        cli::Dialect::Duckdb => Dialect::Duckdb,
        cli::Dialect::Spark => Dialect::Spark,
        cli::Dialect::Bigquery => Dialect::Bigquery,
        cli::Dialect::Trino => Dialect::Trino,
        cli::Dialect::Postgres => Dialect::Postgres,
        cli::Dialect::Snowflake => Dialect::Snowflake,
    }
}
