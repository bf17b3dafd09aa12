//! `calibrate sql --models`: the query that builds the chain aggregate (chain schema version 1)
//! from a long table, one row per prompt and model.
//!
//! Owns that query's text per dialect. Per prompt, the models' rows are pivoted into one row (a
//! prompt without exactly one valid row per model is counted in `invalid_records`, which the
//! readers refuse); each value is computed in IEEE double arithmetic as the local path computes
//! it (`report::chains` pricing, `engine::cells::key`, the oracle of `engine::chains`), and every
//! sum is over whole-number limbs, so the engine's table equals `calibrate aggregate`'s. It must
//! not compute.

use super::Dialect;
use crate::input::aggregate::chains::{
    CHAIN_VERSION, CHAIN_VERSION_COLUMN, ORACLE_SUMS, confidence_column, model_column, model_sums,
};
use crate::input::aggregate::limb_columns;

/// How the query prices one model's rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChainSqlCost {
    /// The table's cost column.
    Column,
    /// Tokens × price per million (input, output), from a price sheet.
    Tokens {
        /// Price per million input tokens.
        input: f64,
        /// Price per million output tokens.
        output: f64,
    },
}

/// What the chain query reads and how it prices.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSqlSpec {
    /// The dialect.
    pub dialect: Dialect,
    /// The table or table expression (one row per prompt and model).
    pub table: String,
    /// The models, in byte order, each with how it is priced.
    pub models: Vec<(String, ChainSqlCost)>,
    /// The prompt id column.
    pub id: String,
    /// The model name column.
    pub model: String,
    /// The confidence column.
    pub confidence: String,
    /// The quality column.
    pub quality: String,
    /// The cost column (models priced from it).
    pub cost: String,
    /// The input tokens column, when the table has one (tokens priced).
    pub input_tokens: Option<String>,
    /// The output tokens column (tokens priced).
    pub output_tokens: String,
    /// The latency column (ms), when the aggregate carries latencies.
    pub latency: Option<String>,
    /// -1 exact, else k.
    pub resolution: i64,
}

/// The query.
pub fn chain_aggregate_sql(spec: &ChainSqlSpec) -> String {
    let d = spec.dialect;
    let m = spec.models.len();
    let names: Vec<String> = spec.models.iter().map(|(n, _)| d.lit(n)).collect();
    let model = format!("CAST({} AS {})", d.ident(&spec.model), d.text());
    let of =
        |k: usize| -> Vec<String> { (0..m).map(|i| format!("v_{}", model_sums(i)[k])).collect() };
    let group: Vec<String> = (0..m).map(confidence_column).collect();
    let listed: Vec<&str> = spec.models.iter().map(|(n, _)| n.as_str()).collect();
    format!(
        "-- calibrate chain aggregate, schema version {CHAIN_VERSION}: one row per cell of the \
         confidences of {}{}.\n\
         -- Save the result as Parquet and pass it to calibrate sweep, recommend or aggregate.\n\
         WITH r AS (\n  SELECT\n    {}\n  FROM {}\n  WHERE {model} IN ({})\n),\n\
         p AS (\n  SELECT\n    {}\n  FROM r\n  GROUP BY id\n),\n\
         v AS (\n  SELECT\n    {}\n  FROM p\n),\n\
         o AS (\n  SELECT v.*, GREATEST({}) AS v_{}\n  FROM v\n),\n\
         w AS (\n  SELECT o.*, LEAST({}) AS v_{}\n  FROM o\n)\n\
         SELECT\n  {}\nFROM w\nGROUP BY {}\n",
        listed.join(", "),
        match spec.resolution {
            k if k < 0 => String::new(),
            k => format!(" (floored to multiples of 2^-{k})"),
        },
        rows(spec, &names, &model).join(",\n    "),
        spec.table,
        names.join(", "),
        pivot(spec, &names).join(",\n    "),
        values(spec).join(",\n    "),
        of(0).join(", "),
        ORACLE_SUMS[0],
        oracle_costs(m, &of(1)).join(",\n    "),
        ORACLE_SUMS[1],
        cells(spec, &names).join(",\n  "),
        group.join(", ")
    )
}

/// `r`: one row per prompt and model, its values and whether they are valid.
fn rows(spec: &ChainSqlSpec, names: &[String], model: &str) -> Vec<String> {
    let d = spec.dialect;
    let cost = cost_by_model(spec, names);
    let mut r = vec![
        format!("{} AS id", d.ident(&spec.id)),
        format!("{model} AS model"),
        format!("{} AS c", col(d, &spec.confidence)),
        format!("{} AS q", col(d, &spec.quality)),
        format!("{cost} AS k"),
    ];
    if let Some(l) = &spec.latency {
        r.push(format!("{} AS l", col(d, l)));
    }
    r.push(format!(
        "CASE WHEN {}\n        THEN 1 ELSE 0 END AS ok",
        validity(spec, &cost).join("\n        AND ")
    ));
    r
}

/// `p`: one row per prompt, each model's values side by side; valid when every model has
/// exactly one valid row.
fn pivot(spec: &ChainSqlSpec, names: &[String]) -> Vec<String> {
    let once: Vec<String> = (names.iter())
        .map(|n| format!("SUM(CASE WHEN model = {n} THEN 1 ELSE 0 END) = 1"))
        .collect();
    let mut p = vec![format!(
        "CASE WHEN {}\n      AND MIN(ok) = 1 THEN 1 ELSE 0 END AS ok",
        once.join("\n      AND ")
    )];
    let mut fields = vec!["c", "q", "k"];
    if spec.latency.is_some() {
        fields.push("l");
    }
    for (i, n) in names.iter().enumerate() {
        for f in &fields {
            p.push(format!("MAX(CASE WHEN model = {n} THEN {f} END) AS {f}{i}"));
        }
    }
    p
}

/// `v`: the keys, and the summed values (0 for an invalid prompt).
fn values(spec: &ChainSqlSpec) -> Vec<String> {
    let zero = spec.dialect.int(0);
    let mut v = vec!["ok".to_string()];
    for i in 0..spec.models.len() {
        let key = key(spec, &format!("c{i}"));
        v.push(format!("{key} AS {}", confidence_column(i)));
        let [quality, cost, latency] = model_sums(i);
        let mut summed = vec![("q", quality), ("k", cost)];
        if spec.latency.is_some() {
            summed.push(("l", latency));
        }
        for (f, name) in summed {
            v.push(format!(
                "CASE WHEN ok = 1 THEN {f}{i} ELSE {zero} END AS v_{name}"
            ));
        }
    }
    v
}

/// The oracle's cost per prompt: the least cost among the models reaching the best quality (any
/// other model's cost is replaced by the largest, which never wins).
fn oracle_costs(m: usize, costs: &[String]) -> Vec<String> {
    let dearest = format!("GREATEST({})", costs.join(", "));
    (0..m)
        .map(|i| {
            let [quality, cost, _] = model_sums(i);
            format!(
                "CASE WHEN v_{quality} = v_{} THEN v_{cost} ELSE {dearest} END",
                ORACLE_SUMS[0]
            )
        })
        .collect()
}

/// The outer SELECT: one row per cell, with the columns of the chain schema.
fn cells(spec: &ChainSqlSpec, names: &[String]) -> Vec<String> {
    let d = spec.dialect;
    let dec = d.decimal();
    let mut outer = vec![
        format!("{CHAIN_VERSION} AS {CHAIN_VERSION_COLUMN}"),
        format!("{} AS resolution", spec.resolution),
    ];
    for (i, n) in names.iter().enumerate() {
        outer.push(format!("{n} AS {}", model_column(i)));
        outer.push(confidence_column(i));
        let [quality, cost, latency] = model_sums(i);
        outer.extend(d.limb_sums(&format!("v_{quality}"), limb_columns(&quality)));
        outer.extend(d.limb_sums(&format!("v_{cost}"), limb_columns(&cost)));
        match spec.latency {
            Some(_) => outer.extend(d.limb_sums(&format!("v_{latency}"), limb_columns(&latency))),
            None => {
                outer.extend(limb_columns(&latency).map(|c| format!("CAST(NULL AS {dec}) AS {c}")))
            }
        }
    }
    outer.push(format!("CAST(COUNT(*) AS {}) AS records", d.bigint()));
    outer.push(format!(
        "CAST(SUM(1 - ok) AS {}) AS invalid_records",
        d.bigint()
    ));
    for sum in ORACLE_SUMS {
        outer.extend(d.limb_sums(&format!("v_{sum}"), limb_columns(sum)));
    }
    outer
}

/// A column as a double.
fn col(d: Dialect, name: &str) -> String {
    format!("CAST({} AS {})", d.ident(name), d.double())
}

/// The cost of a row: the cost column, or its tokens at its model's price
/// (`report::chains`: (in · p_in + out · p_out) / 1e6, in that order).
fn cost_by_model(spec: &ChainSqlSpec, names: &[String]) -> String {
    let d = spec.dialect;
    if spec.models.iter().all(|(_, c)| *c == ChainSqlCost::Column) {
        return col(d, &spec.cost);
    }
    let tokens_in = (spec.input_tokens.as_deref()).map_or(d.int(0), |c| col(d, c));
    let out = col(d, &spec.output_tokens);
    let cases: Vec<String> = (spec.models.iter().zip(names))
        .map(|((_, how), n)| {
            let cost = match *how {
                ChainSqlCost::Column => col(d, &spec.cost),
                ChainSqlCost::Tokens { input, output } => format!(
                    "({tokens_in} * {} + {out} * {}) / {}",
                    d.num(input),
                    d.num(output),
                    d.int(1_000_000)
                ),
            };
            format!("WHEN {n} THEN {cost}")
        })
        .collect();
    format!(
        "CASE CAST({} AS {}) {} END",
        d.ident(&spec.model),
        d.text(),
        cases.join(" ")
    )
}

/// The conditions of a valid row, as the multi-model reader checks them.
fn validity(spec: &ChainSqlSpec, cost: &str) -> Vec<String> {
    let d = spec.dialect;
    let largest = "-1.7976931348623157e308 AND 1.7976931348623157e308";
    let mut valid = vec![
        format!("{} IS NOT NULL", d.ident(&spec.id)),
        format!("{} BETWEEN {largest}", col(d, &spec.confidence)),
        format!("{} BETWEEN 0 AND 1", col(d, &spec.quality)),
    ];
    let priced = |c: String| format!("{c} >= 0 AND {c} < {}", d.num(1e30));
    let tokens = spec.models.iter().any(|(_, c)| *c != ChainSqlCost::Column);
    if tokens {
        let max = "1.7976931348623157e308";
        let mut read: Vec<String> = spec.input_tokens.iter().map(|c| col(d, c)).collect();
        read.push(col(d, &spec.output_tokens));
        for t in read {
            valid.push(format!("{t} BETWEEN 0 AND {max} AND {t} = {}", d.floor(&t)));
        }
    }
    valid.push(priced(format!("({cost})")));
    if let Some(l) = &spec.latency {
        valid.push(priced(col(d, l)));
    }
    valid
}

/// The confidence key of a double column (`engine::cells::key`): + 0 folds -0.0 into 0.0; a
/// resolution floors to multiples of 2^-k.
fn key(spec: &ChainSqlSpec, c: &str) -> String {
    let d = spec.dialect;
    match spec.resolution {
        k if k < 0 => format!("{c} + {}", d.int(0)),
        k => {
            let scale = d.int(1 << k);
            let floored = d.floor(&format!("{c} * {scale}"));
            format!("{floored} / {scale} + {}", d.int(0))
        }
    }
}
