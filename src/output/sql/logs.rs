//! `calibrate sql --logs`: the query that reduces production logs to the log aggregate that
//! `calibrate monitor` reads (`input::aggregate::logs`, schema version 1).
//!
//! Owns the SQL text per dialect. Each per-request value is computed with the operations of
//! the log reader and the monitor's tally (`input::logs`, `monitor::tally::Sums::of`), in the
//! same order, and every sum is over whole numbers, so the monitor's figures from the engine's
//! table equal those from the logs. It must not compute.

use super::Dialect;
use crate::input::aggregate::limb_columns;
use crate::input::aggregate::logs::{
    ESCALATED, HOUR, LABEL_PREFIX, LOG_COUNTS, LOG_SUMS, LOG_VERSION, LOG_VERSION_COLUMN, REQUESTS,
    SIGNAL, WINDOW_SECONDS, WINDOW_START,
};
use crate::input::{EPOCH_MS_ABOVE, LogColumns};

/// How the timestamp column is typed on the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeType {
    /// Epoch numbers: seconds, or milliseconds above 1e11 (as the log reader takes them).
    Epoch,
    /// The engine's TIMESTAMP type.
    Timestamp,
}

/// What the log query reads.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSqlSpec {
    /// The dialect.
    pub dialect: Dialect,
    /// The table or table expression.
    pub table: String,
    /// The log fields' columns (the signal's from the policy, `--field` applied).
    pub columns: LogColumns,
    /// Label columns the policy reads (segments, overrides, `where`), as text.
    pub labels: Vec<String>,
    /// Optional log fields (`cost`, `latency_ms`, ...) the table has no column for.
    pub absent: Vec<String>,
    /// The `model` value of the small model: the route comes from `model` where `escalated`
    /// is null or absent.
    pub small_model: Option<String>,
    /// The windows' length, seconds.
    pub window: i64,
    /// The timestamp column's type.
    pub time: TimeType,
}

impl Dialect {
    /// Seconds since the epoch, as a double, of a TIMESTAMP expression.
    fn epoch_seconds(self, ts: &str) -> String {
        match self {
            Dialect::Duckdb => format!("epoch_us({ts}) / CAST(1000000 AS DOUBLE)"),
            // A column without a zone reads as TIMESTAMP_NTZ, which unix_micros refuses: the
            // cast reads it in the session's zone (a no-op on a TIMESTAMP).
            Dialect::Spark => {
                format!("unix_micros(CAST({ts} AS TIMESTAMP)) / CAST(1000000 AS DOUBLE)")
            }
            Dialect::Bigquery => format!("UNIX_MICROS({ts}) / CAST(1000000 AS FLOAT64)"),
            Dialect::Trino => format!("to_unixtime({ts})"),
            Dialect::Postgres => format!("CAST(EXTRACT(EPOCH FROM {ts}) AS DOUBLE PRECISION)"),
            Dialect::Snowflake => {
                format!("DATE_PART(EPOCH_MICROSECOND, {ts}) / CAST(1000000 AS DOUBLE)")
            }
        }
    }
}

/// The query.
pub fn log_aggregate_sql(spec: &LogSqlSpec) -> String {
    let d = spec.dialect;
    let labels: Vec<String> = (spec.labels.iter())
        .map(|l| d.ident(&format!("{LABEL_PREFIX}{l}")))
        .collect();
    let typed = typed(spec);
    let keyed = keyed(spec, &labels);
    let bigint = d.bigint();
    let mut out = vec![
        format!("{LOG_VERSION} AS {LOG_VERSION_COLUMN}"),
        format!("CAST({} AS {bigint}) AS {WINDOW_SECONDS}", spec.window),
        WINDOW_START.into(),
        HOUR.into(),
    ];
    out.extend(labels.iter().cloned());
    out.push(SIGNAL.into());
    out.push(ESCALATED.into());
    out.push(format!("CAST(COUNT(*) AS {bigint}) AS {REQUESTS}"));
    out.push(format!("CAST(SUM(1 - ok) AS {bigint}) AS invalid_records"));
    for (k, name) in LOG_COUNTS.iter().enumerate() {
        out.push(format!("CAST(SUM(n{k}) AS {bigint}) AS {name}"));
    }
    for (k, (name, _)) in LOG_SUMS.iter().enumerate() {
        out.extend(d.limb_sums(&format!("v{k}"), limb_columns(name)));
    }
    let mut group = vec![WINDOW_START.to_string(), HOUR.into()];
    group.extend(labels.iter().cloned());
    group.extend([SIGNAL.to_string(), ESCALATED.into()]);
    format!(
        "-- calibrate log aggregate, schema version {LOG_VERSION}: one row per window of {} s, \
         hour of day, label values, signal and route.\n\
         -- Save the result as Parquet and pass it to calibrate monitor --against the policy.\n\
         WITH r AS (\n  SELECT\n    {}\n  FROM {}\n),\n\
         o AS (\n  SELECT *, CASE WHEN {}\n    THEN 1 ELSE 0 END AS ok\n  FROM r\n),\n\
         k AS (\n  SELECT\n    {}\n  FROM o\n)\n\
         SELECT\n  {}\nFROM k\nGROUP BY {}\n",
        spec.window,
        typed.join(",\n    "),
        spec.table,
        validity(d).join("\n    AND "),
        keyed.join(",\n    "),
        out.join(",\n  "),
        group.join(", ")
    )
}

/// The first SELECT: the log reader's fields, typed (absent ones null).
fn typed(spec: &LogSqlSpec) -> Vec<String> {
    let d = spec.dialect;
    let c = &spec.columns;
    let col = |name: &str| format!("CAST({} AS {})", d.ident(name), d.double());
    // The log reader's fields, typed.
    let time = match spec.time {
        TimeType::Epoch => {
            let t = col(&c.timestamp);
            let ms = d.num(EPOCH_MS_ABOVE);
            format!(
                "CASE WHEN ABS({t}) > {ms} THEN {t} / {} ELSE {t} END",
                d.int(1000)
            )
        }
        TimeType::Timestamp => d.epoch_seconds(&d.ident(&c.timestamp)),
    };
    // The log reader's route: `escalated` when it holds a value, else the model that answered
    // (with --small-model).
    let escalated = (!spec.absent.iter().any(|a| a == "escalated")).then(|| col(&c.escalated));
    let model = spec.small_model.as_ref().map(|small| {
        format!(
            "CASE WHEN {m} IS NULL THEN NULL WHEN {m} = '{}' THEN {} ELSE {} END",
            small.replace('\'', "''"),
            d.int(0),
            d.int(1),
            m = format!("CAST({} AS {})", d.ident(&c.model), d.text()),
        )
    });
    let route = match (escalated, model) {
        (Some(e), Some(m)) => format!("COALESCE({e}, {m})"),
        (Some(e), None) => e,
        (None, Some(m)) => m,
        (None, None) => format!("CAST(NULL AS {})", d.double()),
    };
    let weight = match &c.label_weight {
        Some(w) => col(w),
        None => format!("CAST(NULL AS {})", d.double()),
    };
    let mut typed = vec![
        format!("{time} AS t"),
        format!("{} AS signal", col(&c.signal)),
        format!("{route} AS e"),
    ];
    typed.extend((spec.labels.iter()).map(|l| {
        let alias = d.ident(&format!("{LABEL_PREFIX}{l}"));
        format!("CAST({} AS {}) AS {alias}", d.ident(l), d.text())
    }));
    for (field, name, alias) in [
        ("cost", &c.cost, "c"),
        ("small_cost", &c.small_cost, "sc"),
        ("large_cost", &c.large_cost, "lc"),
        ("latency_ms", &c.latency_ms, "ms"),
        ("regenerated", &c.regenerated, "rg"),
        ("thumbs_down", &c.thumbs_down, "td"),
        ("small_quality", &c.small_quality, "qs"),
        ("large_quality", &c.large_quality, "ql"),
    ] {
        let value = match spec.absent.iter().any(|a| a == field) {
            true => format!("CAST(NULL AS {})", d.double()),
            false => col(name),
        };
        typed.push(format!("{value} AS {alias}"));
    }
    typed.push(format!("{weight} AS w0"));
    typed
}

/// Which records the log reader takes (a null is an absent field).
fn validity(d: Dialect) -> Vec<String> {
    let zero = d.int(0);
    let big = d.num(1e30);
    let mut valid = vec![
        "t IS NOT NULL".to_string(),
        format!("ABS(t) < {}", d.num(1e15)),
        "signal BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308".to_string(),
        "e IN (0, 1)".into(),
    ];
    for v in ["c", "sc", "lc", "ms"] {
        valid.push(format!("({v} IS NULL OR ({v} >= {zero} AND {v} < {big}))"));
    }
    for v in ["rg", "td"] {
        valid.push(format!("({v} IS NULL OR {v} IN (0, 1))"));
    }
    for v in ["qs", "ql"] {
        valid.push(format!("({v} IS NULL OR {v} BETWEEN 0 AND 1)"));
    }
    valid.push(format!(
        "(w0 IS NULL OR (w0 > {zero} AND w0 < {}))",
        d.num(1e15)
    ));
    valid
}

/// The third SELECT: the keys, and per request each summed value and each counted test, 0
/// for a request the log reader would refuse (`ok`, from the second).
fn keyed(spec: &LogSqlSpec, labels: &[String]) -> Vec<String> {
    let d = spec.dialect;
    let (zero, one) = (d.int(0), d.int(1));
    let second = d.floor("t");
    let w = spec.window;
    let mut keyed = vec![
        format!(
            "CAST({} * {} AS {}) AS {WINDOW_START}",
            d.floor(&format!("{second} / {}", d.int(w as u64))),
            d.int(w as u64),
            d.bigint()
        ),
        format!(
            "CAST({} AS {}) AS {HOUR}",
            d.floor(&format!(
                "({second} - {} * {}) / {}",
                d.floor(&format!("{second} / {}", d.int(86_400))),
                d.int(86_400),
                d.int(3600)
            )),
            d.bigint()
        ),
    ];
    keyed.extend(labels.iter().cloned());
    keyed.push(format!("signal + {zero} AS {SIGNAL}"));
    keyed.push(format!("CAST(e AS {}) AS {ESCALATED}", d.bigint()));
    keyed.push("ok".into());
    let when =
        |test: &str, v: &str| format!("CASE WHEN ok = 1 AND {test} THEN {v} ELSE {zero} END");
    let w = format!("COALESCE(w0, {one})");
    let cost = "COALESCE(c, CASE WHEN e = 1 THEN sc + lc ELSE sc END)".to_string();
    let present = |v: &str| format!("{v} IS NOT NULL");
    // Σ values, in LOG_SUMS order, over the requests of LOG_COUNTS[..6].
    let sums = [
        when(&present("qs"), &w),
        when(&present("qs"), &format!("{w} * {w}")),
        when(&present("qs"), &format!("{w} * qs")),
        when(&present("qs"), &format!("{w} * {w} * qs * ({one} - qs)")),
        when(&present("ql"), "ql"),
        when(&present(&cost), &cost),
        when(&present("sc"), "sc"),
        when(&present("lc"), "lc"),
        when(&present("ms"), "ms"),
    ];
    let counts = [
        present("qs"),
        present("ql"),
        present(&cost),
        present("sc"),
        present("lc"),
        present("ms"),
        present("rg"),
        "rg = 1".into(),
        present("td"),
        "td = 1".into(),
    ];
    for (k, v) in sums.iter().enumerate() {
        keyed.push(format!("{v} AS v{k}"));
    }
    for (k, test) in counts.iter().enumerate() {
        keyed.push(format!(
            "CASE WHEN ok = 1 AND {test} THEN 1 ELSE 0 END AS n{k}"
        ));
    }
    keyed
}
