//! `calibrate sql`: the query that builds the aggregate (schema version 1) on an engine.
//!
//! Owns the SQL text per dialect. Every per-row value is computed in IEEE double arithmetic with
//! the same operations, in the same order, as the local path (`engine::economics::token_cost`,
//! `engine::exact::limbs`, `engine::cells::key`), and every sum is over whole numbers
//! (DECIMAL(38,0)), so the engine's table equals `calibrate aggregate`'s. It must not compute.

use crate::input::aggregate::{
    COUNTS, LATENCY_BUCKET, LATENCY_PATH, LATENCY_SUM, SUMS, VERSION, limb_columns,
};

pub mod chains;
mod latency;
pub mod logs;

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
    /// The small and large models' latency columns (ms), to sketch; `None`: no sketch.
    pub latency: Option<(String, String)>,
}

/// Words that some supported engine reserves (SQL:2016's core keywords and the engines' own,
/// such as Snowflake's QUALIFY and Spark's PARTITION): a column so named is quoted.
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "all", "and", "any", "array", "as", "asc", "between", "both", "by", "case", "cast", "check",
    "collate", "column", "constraint", "create", "cross", "current", "current_date",
    "current_time", "current_timestamp", "current_user", "date", "default", "delete", "desc",
    "distinct", "do", "else", "end", "escape", "except", "exists", "extract", "false", "fetch",
    "for", "foreign", "from", "full", "grant", "group", "having", "in", "inner", "insert",
    "intersect", "interval", "into", "is", "join", "key", "lateral", "leading", "left", "like",
    "limit", "minus", "natural", "not", "null", "offset", "on", "only", "or", "order", "outer",
    "over", "partition", "position", "primary", "qualify", "range", "references", "right", "rows",
    "sample", "select", "set", "some", "table", "tablesample", "then", "time", "timestamp", "to",
    "trailing", "true", "union", "unique", "update", "user", "using", "values", "when", "where",
    "window", "with",
];

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

    /// A column name, quoted only when it is not a plain identifier or is a reserved word (so
    /// that Snowflake's and Postgres' case folding still finds other unquoted names).
    fn ident(self, name: &str) -> String {
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let reserved = RESERVED.iter().any(|w| w.eq_ignore_ascii_case(name));
        if plain && !reserved {
            return name.to_string();
        }
        match self {
            Dialect::Spark | Dialect::Bigquery => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// floor(x) for a double, as a double. Spark's FLOOR returns a 64-bit integer, which
    /// overflows past 2^63, so it floors below 2^52 only, where every result fits, and keeps x
    /// above, where every double is already whole (x - pmod(x, 1) was exact but for negatives
    /// of magnitude below 2^-53, whose pmod rounds to 0 and which it left unfloored).
    fn floor(self, x: &str) -> String {
        match self {
            Dialect::Spark => format!(
                "CASE WHEN ABS({x}) < {} THEN CAST(FLOOR({x}) AS DOUBLE) ELSE {x} END",
                self.int(1 << 52)
            ),
            _ => format!("FLOOR({x})"),
        }
    }

    /// The three limb sums (`engine::exact::limbs`) of the non-negative doubles in column `v`,
    /// as DECIMAL(38,0) columns named `columns`.
    fn limb_sums(self, v: &str, columns: [String; 3]) -> Vec<String> {
        let dec = self.decimal();
        let hi = self.floor(&format!("{v} / {}", self.int(P40)));
        let mid = self.floor(&format!("{v} * {}", self.int(P20)));
        let lo = self.floor(&format!("{v} * {} * {}", self.int(P20), self.int(P60)));
        let limb = |expr: String| format!("CAST({expr} AS {})", self.bigint());
        let limbs = [
            limb(hi.clone()),
            limb(format!("{mid} - {hi} * {}", self.int(P60))),
            limb(format!("{lo} - {mid} * {}", self.int(P60))),
        ];
        (limbs.into_iter().zip(columns))
            .map(|(p, c)| format!("CAST(SUM(CAST({p} AS {dec})) AS {dec}) AS {c}"))
            .collect()
    }

    /// A text literal (Spark, BigQuery and Snowflake read backslashes in literals as escapes).
    fn lit(self, s: &str) -> String {
        match self {
            Dialect::Spark | Dialect::Bigquery | Dialect::Snowflake => {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
            _ => format!("'{}'", s.replace('\'', "''")),
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
    let q = Query {
        spec,
        d: spec.dialect,
    };
    let segments: Vec<String> = (spec.segment_by.iter())
        .map(|s| q.d.ident(&format!("segment_{s}")))
        .collect();
    let mut middle = vec!["confidence".to_string(), "ok".into()];
    middle.extend(segments.iter().cloned());
    middle.extend(q.values());
    middle.extend(["qs".into(), "ql".into()]);
    let mut outer = q.key_columns(&segments);
    outer.push(format!(
        "CAST(SUM(1 - ok) AS {}) AS invalid_records",
        q.d.bigint()
    ));
    for name in SUMS {
        outer.extend(q.limb_sums(name));
    }
    outer.extend(q.counts());
    outer.extend(q.no_latency());
    let mut group = segments.clone();
    group.push("confidence".into());
    let mut sql = format!(
        "-- calibrate aggregate, schema version {VERSION}: one row per {}confidence{}{}.\n\
         -- Save the result as Parquet and pass it to calibrate sweep, recommend or aggregate.\n\
         WITH r AS (\n  SELECT\n    {}\n  FROM {}\n),\nv AS (\n  SELECT\n    {}\n  FROM r\n)\n\
         SELECT\n  {}\nFROM v\nGROUP BY {}\n",
        if segments.is_empty() {
            ""
        } else {
            "segment and "
        },
        match spec.resolution {
            k if k < 0 => String::new(),
            k => format!(" (floored to multiples of 2^-{k})"),
        },
        if spec.latency.is_some() {
            ", then one per latency bucket and path"
        } else {
            ""
        },
        q.row_values().join(",\n    "),
        spec.table,
        middle.join(",\n    "),
        outer.join(",\n  "),
        group.join(", ")
    );
    if spec.latency.is_some() {
        sql += &latency::rows(&q, &segments);
    }
    sql
}

/// The query's parts for one spec.
struct Query<'a> {
    spec: &'a SqlSpec,
    d: Dialect,
}

impl Query<'_> {
    /// The columns every row starts with: version, resolution, segments, confidence, records.
    fn key_columns(&self, segments: &[String]) -> Vec<String> {
        let mut out = vec![
            format!("{VERSION} AS calibrate_aggregate"),
            format!("{} AS resolution", self.spec.resolution),
        ];
        out.extend(segments.iter().cloned());
        out.push("confidence".into());
        out.push(format!("CAST(COUNT(*) AS {}) AS records", self.d.bigint()));
        out
    }

    /// The latency columns of a row of sums: null.
    fn no_latency(&self) -> Vec<String> {
        let d = self.d;
        let mut out = vec![
            format!("CAST(NULL AS {}) AS {LATENCY_PATH}", d.text()),
            format!("CAST(NULL AS {}) AS {LATENCY_BUCKET}", d.bigint()),
        ];
        let dec = d.decimal();
        out.extend(limb_columns(LATENCY_SUM).map(|c| format!("CAST(NULL AS {dec}) AS {c}")));
        out
    }

    /// A column as a double.
    fn col(&self, name: &str) -> String {
        format!("CAST({} AS {})", self.d.ident(name), self.d.double())
    }

    /// One model's cost per record (`engine::economics::token_cost`: (in · p_in + out · p_out)
    /// / 1e6, in that order).
    fn cost(&self, how: SqlCost, column: &str, output: &str) -> String {
        let d = self.d;
        match how {
            SqlCost::Column => self.col(column),
            SqlCost::Flat(c) => d.num(c),
            SqlCost::Tokens { input, output: out } => {
                let tokens_in =
                    (self.spec.input_tokens.as_deref()).map_or(d.int(0), |c| self.col(c));
                let (p_in, p_out, million) = (d.num(input), d.num(out), d.int(1_000_000));
                format!("({tokens_in} * {p_in} + {output} * {p_out}) / {million}")
            }
        }
    }

    /// The first SELECT: segment values, the key, the validity flag and the per-record values.
    fn row_values(&self) -> Vec<String> {
        let (spec, d) = (self.spec, self.d);
        let small_out = self.col(&spec.small_output_tokens);
        let large_out = match &spec.large_output_tokens {
            Some(c) => self.col(c),
            None => format!("{small_out} * {}", d.num(spec.large_output_ratio)),
        };
        let sc = self.cost(spec.small_cost, &spec.small_cost_column, &small_out);
        let lc = self.cost(spec.large_cost, &spec.large_cost_column, &large_out);
        let conf = self.col(&spec.confidence);
        let qs = self.col(&spec.small_quality);
        let ql = spec.large_quality.as_deref().map(|l| self.col(l));
        let largest = "-1.7976931348623157e308 AND 1.7976931348623157e308";
        let mut valid = vec![
            format!("{conf} BETWEEN {largest}"),
            format!("{qs} BETWEEN 0 AND 1"),
        ];
        valid.extend(ql.iter().map(|l| format!("{l} BETWEEN 0 AND 1")));
        for c in [&sc, &lc] {
            valid.push(format!("{c} >= 0 AND {c} < {}", d.num(1e30)));
        }
        // Tokens a price reads must be whole and non-negative, as the records' reader demands.
        let tokens = |c: &SqlCost| matches!(c, SqlCost::Tokens { .. });
        if tokens(&spec.small_cost) || tokens(&spec.large_cost) {
            let mut read: Vec<String> = spec.input_tokens.iter().map(|c| self.col(c)).collect();
            read.push(small_out.clone());
            read.extend(spec.large_output_tokens.iter().map(|c| self.col(c)));
            for t in read {
                let max = "1.7976931348623157e308";
                valid.push(format!("{t} BETWEEN 0 AND {max} AND {t} = {}", d.floor(&t)));
            }
        }
        if let Some((small, large)) = &spec.latency {
            for c in [small, large] {
                let c = self.col(c);
                valid.push(format!("{c} >= 0 AND {c} < {}", d.num(1e30)));
            }
        }
        // A record without a segment value is refused by the raw path too.
        valid.extend(
            spec.segment_by
                .iter()
                .map(|s| format!("{} IS NOT NULL", d.ident(s))),
        );
        // + 0 folds -0.0 into 0.0; a resolution floors to multiples of 2^-k (`engine::cells::key`).
        let key = match spec.resolution {
            k if k < 0 => format!("{conf} + {}", d.int(0)),
            k => {
                let scale = d.int(1 << k);
                let floored = d.floor(&format!("{conf} * {scale}"));
                format!("{floored} / {scale} + {}", d.int(0))
            }
        };
        let mut out: Vec<String> = (spec.segment_by.iter())
            .map(|s| {
                let alias = d.ident(&format!("segment_{s}"));
                format!("CAST({} AS {}) AS {alias}", d.ident(s), d.text())
            })
            .collect();
        out.push(format!("{key} AS confidence"));
        let valid = valid.join("\n        AND ");
        out.push(format!(
            "CASE WHEN {valid}\n        THEN 1 ELSE 0 END AS ok"
        ));
        out.push(format!("{qs} AS qs"));
        out.push(match ql {
            Some(l) => format!("{l} AS ql"),
            None => format!("CAST(NULL AS {}) AS ql", d.double()),
        });
        out.push(format!("{sc} AS sc"));
        out.push(format!("{lc} AS lc"));
        if let Some((small, large)) = &spec.latency {
            let (small, large) = (self.col(small), self.col(large));
            out.push(format!("{small} AS ms_accepted"));
            out.push(format!("{small} + {large} AS ms_escalated"));
        }
        out
    }

    /// The second SELECT: the summed values, 0 for a record that is not valid.
    fn values(&self) -> Vec<String> {
        let zero = self.d.int(0);
        let or_zero = |x: &str| format!("CASE WHEN ok = 1 THEN {x} ELSE {zero} END");
        let lost = format!("GREATEST(ql - qs, {zero})");
        let values = ["qs", "ql", lost.as_str(), "sc", "lc"];
        (SUMS.iter().zip(values))
            .map(|(name, v)| format!("{} AS v_{name}", or_zero(v)))
            .collect()
    }

    /// The three limb sums of one value (`engine::exact::limbs`), as DECIMAL(38,0).
    fn limb_sums(&self, name: &str) -> Vec<String> {
        let absent = (name == "large_quality" || name == "quality_lost")
            && self.spec.large_quality.is_none();
        self.sum_limbs(&format!("v_{name}"), limb_columns(name), absent)
    }

    /// The three limb sums of the values in column `v`, as `columns`; nulls when `absent`.
    fn sum_limbs(&self, v: &str, columns: [String; 3], absent: bool) -> Vec<String> {
        let dec = self.d.decimal();
        match absent {
            true => (columns.iter())
                .map(|c| format!("CAST(NULL AS {dec}) AS {c}"))
                .collect(),
            false => self.d.limb_sums(v, columns),
        }
    }

    /// The counts of right answers and of fractional labels.
    fn counts(&self) -> Vec<String> {
        let tests = ["qs = 1", "qs > 0 AND qs < 1", "ql = 1", "ql > 0 AND ql < 1"];
        (COUNTS.iter().zip(tests))
            .map(|(name, test)| {
                let bigint = self.d.bigint();
                format!(
                    "CAST(SUM(CASE WHEN ok = 1 AND {test} THEN 1 ELSE 0 END) AS {bigint}) AS {name}"
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn reserved_words_and_other_names_are_quoted() {
        // Worked by hand: plain names stay bare; reserved words, in any case, and names with
        // other characters are quoted in each dialect's way.
        assert_eq!(Dialect::Postgres.ident("task_type"), "task_type");
        assert_eq!(Dialect::Postgres.ident("Order"), "\"Order\"");
        assert_eq!(Dialect::Duckdb.ident("group"), "\"group\"");
        assert_eq!(Dialect::Spark.ident("select"), "`select`");
        assert_eq!(Dialect::Bigquery.ident("re`g ion"), "`re``g ion`");
        assert_eq!(Dialect::Snowflake.ident("re\"g"), "\"re\"\"g\"");
        // Text literals: quotes doubled where the standard rules, backslashes escaped where
        // the engine reads them as escapes.
        assert_eq!(Dialect::Duckdb.lit("o'k\\x"), "'o''k\\x'");
        assert_eq!(Dialect::Spark.lit("o'k\\x"), "'o\\'k\\\\x'");
    }
}
