//! `calibrate sql`: the query that builds the aggregate (schema version 1) on an engine.
//!
//! Owns the SQL text per dialect. Every per-row value is computed in IEEE double arithmetic with
//! the same operations, in the same order, as the local path (`engine::economics::token_cost`,
//! `engine::exact::limbs`, `engine::cells::key`), and every sum is over whole numbers
//! (DECIMAL(38,0)), so the engine's table equals `calibrate aggregate`'s. It must not compute.

use crate::input::aggregate::{COUNTS, SUMS, VERSION, limb_columns};

/// The engines `calibrate sql` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB.
    Duckdb,
    /// Apache Spark SQL.
    Spark,
    /// Google BigQuery.
    Bigquery,
    /// Trino.
    Trino,
    /// PostgreSQL.
    Postgres,
    /// Snowflake.
    Snowflake,
}

/// Where one model's cost per record comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlCost {
    /// The table's cost column.
    Column,
    /// A flat cost per request.
    Flat(f64),
    /// Tokens × price per million (input, output).
    Tokens {
        /// Price per million input tokens.
        input: f64,
        /// Price per million output tokens.
        output: f64,
    },
}

/// What the query reads and how it prices.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlSpec {
    /// The dialect.
    pub dialect: Dialect,
    /// The table or table expression.
    pub table: String,
    /// Column names.
    pub confidence: String,
    /// The small model's quality column.
    pub small_quality: String,
    /// The large model's quality column, when the table has one.
    pub large_quality: Option<String>,
    /// The small_cost column (with [`SqlCost::Column`]).
    pub small_cost_column: String,
    /// The large_cost column (with [`SqlCost::Column`]).
    pub large_cost_column: String,
    /// The input_tokens column, when the table has one.
    pub input_tokens: Option<String>,
    /// The small_output_tokens column.
    pub small_output_tokens: String,
    /// The large_output_tokens column, when the table has one.
    pub large_output_tokens: Option<String>,
    /// Large output tokens = small output tokens × this, without large_output_tokens.
    pub large_output_ratio: f64,
    /// The small model's cost.
    pub small_cost: SqlCost,
    /// The large model's cost.
    pub large_cost: SqlCost,
    /// Segment columns.
    pub segment_by: Vec<String>,
    /// -1 exact, else k.
    pub resolution: i64,
}

impl Dialect {
    fn double(self) -> &'static str {
        match self {
            Dialect::Bigquery => "FLOAT64",
            Dialect::Postgres => "DOUBLE PRECISION",
            _ => "DOUBLE",
        }
    }

    fn bigint(self) -> &'static str {
        match self {
            Dialect::Bigquery => "INT64",
            _ => "BIGINT",
        }
    }

    fn decimal(self) -> &'static str {
        match self {
            Dialect::Bigquery => "BIGNUMERIC",
            Dialect::Postgres => "NUMERIC(38, 0)",
            Dialect::Snowflake => "NUMBER(38, 0)",
            _ => "DECIMAL(38, 0)",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Dialect::Spark | Dialect::Bigquery => "STRING",
            Dialect::Postgres => "TEXT",
            _ => "VARCHAR",
        }
    }

    /// A column name, quoted only when it is not a plain identifier (so that Snowflake's and
    /// Postgres' case folding still finds unquoted names).
    fn ident(self, name: &str) -> String {
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            return name.to_string();
        }
        match self {
            Dialect::Spark | Dialect::Bigquery => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// floor(x) for a double, as a double (Spark's FLOOR returns a 64-bit integer, which
    /// overflows past 2^63; x - pmod(x, 1) is exact).
    fn floor(self, x: &str) -> String {
        match self {
            Dialect::Spark => format!("({x} - pmod({x}, {}))", self.int(1)),
            _ => format!("FLOOR({x})"),
        }
    }

    /// A whole number as a double, exactly.
    fn int(self, n: u64) -> String {
        format!("CAST({n} AS {})", self.double())
    }

    /// A double constant, parsed from its shortest round-trip text (correctly rounded by every
    /// engine's text-to-double conversion).
    fn num(self, x: f64) -> String {
        format!("CAST('{x:e}' AS {})", self.double())
    }
}

const P20: u64 = 1 << 20;
const P40: u64 = 1 << 40;
const P60: u64 = 1 << 60;

/// The query.
pub fn aggregate_sql(spec: &SqlSpec) -> String {
    let d = spec.dialect;
    let dbl = d.double();
    let col = |name: &str| format!("CAST({} AS {dbl})", d.ident(name));
    let lq = spec.large_quality.as_deref();
    let cost = |how: SqlCost, column: &str, output: String| -> String {
        match how {
            SqlCost::Column => col(column),
            SqlCost::Flat(c) => d.num(c),
            SqlCost::Tokens { input, output: out } => {
                let tokens_in = spec.input_tokens.as_deref().map_or(d.int(0), col);
                format!(
                    "({tokens_in} * {} + {output} * {}) / {}",
                    d.num(input),
                    d.num(out),
                    d.int(1_000_000)
                )
            }
        }
    };
    let small_out = col(&spec.small_output_tokens);
    let large_out = match &spec.large_output_tokens {
        Some(c) => col(c),
        None => format!("{small_out} * {}", d.num(spec.large_output_ratio)),
    };
    let sc = cost(spec.small_cost, &spec.small_cost_column, small_out.clone());
    let lc = cost(spec.large_cost, &spec.large_cost_column, large_out);
    let conf = col(&spec.confidence);
    let qs = col(&spec.small_quality);
    let finite =
        |x: &str| format!("{x} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308");
    let mut valid = vec![finite(&conf), format!("{qs} BETWEEN 0 AND 1")];
    if let Some(l) = lq {
        valid.push(format!("{} BETWEEN 0 AND 1", col(l)));
    }
    for c in [&sc, &lc] {
        valid.push(format!("{c} >= 0 AND {c} < {}", d.num(1e30)));
    }
    let valid = valid.join("\n        AND ");
    let or_zero = |x: &str| format!("CASE WHEN ok = 1 THEN {x} ELSE {} END", d.int(0));
    let key = if spec.resolution < 0 {
        format!("{conf} + {}", d.int(0))
    } else {
        let scale = d.int(1 << spec.resolution);
        format!(
            "{} / {scale} + {}",
            d.floor(&format!("{conf} * {scale}")),
            d.int(0)
        )
    };
    let segments: Vec<String> = spec
        .segment_by
        .iter()
        .map(|s| format!("segment_{s}"))
        .collect();
    let mut inner = Vec::new();
    for (s, alias) in spec.segment_by.iter().zip(&segments) {
        inner.push(format!(
            "CAST({} AS {}) AS {}",
            d.ident(s),
            d.text(),
            d.ident(alias)
        ));
    }
    inner.push(format!("{key} AS confidence"));
    inner.push(format!(
        "CASE WHEN {valid}\n        THEN 1 ELSE 0 END AS ok"
    ));
    inner.push(format!("{qs} AS qs"));
    inner.push(match lq {
        Some(l) => format!("{} AS ql", col(l)),
        None => format!("CAST(NULL AS {dbl}) AS ql"),
    });
    inner.push(format!("{sc} AS sc"));
    inner.push(format!("{lc} AS lc"));
    let values = [
        ("small_quality", or_zero("qs")),
        ("large_quality", or_zero("ql")),
        (
            "quality_lost",
            or_zero(&format!("GREATEST(ql - qs, {})", d.int(0))),
        ),
        ("small_cost", or_zero("sc")),
        ("large_cost", or_zero("lc")),
    ];
    let mut middle = vec!["confidence".to_string(), "ok".into()];
    middle.extend(segments.iter().map(|s| d.ident(s)));
    for (name, value) in &values {
        middle.push(format!("{value} AS v_{name}"));
    }
    middle.push("qs".into());
    middle.push("ql".into());
    let mut outer = vec![
        format!("{VERSION} AS calibrate_aggregate"),
        format!("{} AS resolution", spec.resolution),
    ];
    outer.extend(segments.iter().map(|s| d.ident(s)));
    outer.push("confidence".into());
    outer.push(format!("CAST(COUNT(*) AS {}) AS records", d.bigint()));
    outer.push(format!(
        "CAST(SUM(1 - ok) AS {}) AS invalid_records",
        d.bigint()
    ));
    let dec = d.decimal();
    for name in SUMS {
        let v = format!("v_{name}");
        let [c0, c1, c2] = limb_columns(name);
        let hi = d.floor(&format!("{v} / {}", d.int(P40)));
        let mid = d.floor(&format!("{v} * {}", d.int(P20)));
        let lo = d.floor(&format!("{v} * {} * {}", d.int(P20), d.int(P60)));
        let limb = |expr: String| format!("CAST({expr} AS {})", d.bigint());
        let p0 = limb(hi.clone());
        let p1 = limb(format!("{mid} - {hi} * {}", d.int(P60)));
        let p2 = limb(format!("{lo} - {mid} * {}", d.int(P60)));
        let large_only = name == "large_quality" || name == "quality_lost";
        for (p, c) in [(p0, c0), (p1, c1), (p2, c2)] {
            let sum = format!("CAST(SUM(CAST({p} AS {dec})) AS {dec})");
            outer.push(if large_only && lq.is_none() {
                format!("CAST(NULL AS {dec}) AS {c}")
            } else {
                format!("{sum} AS {c}")
            });
        }
    }
    let counts = [
        ("qs", "= 1"),
        ("qs", "> 0 AND qs < 1"),
        ("ql", "= 1"),
        ("ql", "> 0 AND ql < 1"),
    ];
    for (name, (v, test)) in COUNTS.iter().zip(counts) {
        outer.push(format!(
            "CAST(SUM(CASE WHEN ok = 1 AND {v} {test} THEN 1 ELSE 0 END) AS {}) AS {name}",
            d.bigint()
        ));
    }
    let mut group: Vec<String> = segments.iter().map(|s| d.ident(s)).collect();
    group.push("confidence".into());
    format!(
        "-- calibrate aggregate, schema version {VERSION}: one row per {} confidence{}.\n\
         -- Save the result as Parquet and pass it to calibrate sweep, recommend or aggregate.\n\
         WITH r AS (\n  SELECT\n    {}\n  FROM {}\n),\nv AS (\n  SELECT\n    {}\n  FROM r\n)\n\
         SELECT\n  {}\nFROM v\nGROUP BY {}\n",
        if segments.is_empty() {
            ""
        } else {
            "segment and"
        },
        match spec.resolution {
            k if k < 0 => String::new(),
            k => format!(" (floored to multiples of 2^-{k})"),
        },
        inner.join(",\n    "),
        spec.table,
        middle.join(",\n    "),
        outer.join(",\n  "),
        group.join(", ")
    )
}
