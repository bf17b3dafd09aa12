//! Issue 18 for chains: the chain aggregate (`calibrate aggregate` of a multi-model eval set,
//! or `calibrate sql --models` on an engine) gives `sweep` and `recommend` the records' own
//! chain report. The expected outputs are the records' runs themselves, made by the same
//! binary on the eval set; the floored resolution's by a run on records whose confidences the
//! test floors itself.

use std::fmt::Write;

use crate::harness::{Scratch, calibrate, run, stderr, stdout};

/// A seeded multi-model eval set (long form, JSON Lines): `prompts` prompts × `models`, with
/// confidences in steps of `1 / steps` (ties), 0/1 or fractional qualities, a cost per record
/// (or tokens), and latencies.
fn eval_set(prompts: usize, models: &[&str], steps: u32, seed: u64, tokens: bool) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::new();
    for p in 0..prompts {
        for (j, m) in models.iter().enumerate() {
            let confidence = (next() * f64::from(steps)).floor() / f64::from(steps);
            let skill = 0.4 + 0.12 * j as f64;
            let quality = if p % 7 == 3 {
                (next() * 4.0).floor() / 4.0
            } else {
                f64::from(u8::from(next() < skill * (0.5 + confidence)))
            };
            let latency = 50.0 * (j + 1) as f64 + (next() * 1000.0).floor() / 10.0;
            let price = if tokens {
                let (input, output) = (100 + p % 50, 20 + (p * 7 + j) % 90);
                format!(r#""input_tokens": {input}, "output_tokens": {output}"#)
            } else {
                let cost = 0.0001 * f64::from(1u32 << (2 * j)) * (1.0 + (p % 5) as f64 / 10.0);
                format!(r#""cost": {cost}"#)
            };
            writeln!(
                out,
                r#"{{"id": "p{p}", "model": "{m}", "confidence": {confidence}, "quality": {quality}, {price}, "latency_ms": {latency}}}"#
            )
            .unwrap();
        }
    }
    out
}

const MODELS: [&str; 4] = ["tiny", "small", "mid", "large"];

/// Prices of [`MODELS`] per million tokens, as a sheet.
const SHEET: &str = "[models.tiny]\ninput = 0.05\noutput = 0.1\n[models.small]\ninput = 0.2\n\
                     output = 0.4\n[models.mid]\ninput = 1\noutput = 3\n[models.large]\ninput = \
                     5\noutput = 15\n";

/// `calibrate aggregate INPUTS FLAGS --out DIR/name`, which must succeed.
fn aggregate(s: &Scratch, inputs: &[&std::path::Path], flags: &[&str], name: &str) {
    let out = calibrate()
        .arg("aggregate")
        .args(inputs)
        .args(flags)
        .args(["--quiet", "--out"])
        .arg(s.join(name))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// summary.json without what names the input (its path, form, sha256, where costs came from,
/// and the aggregate's note).
fn numbers(s: &Scratch, dir: &str) -> serde_json::Value {
    let mut v = s.json(&format!("{dir}/summary.json"));
    let o = v.as_object_mut().unwrap();
    o.remove("input");
    o.remove("note");
    o["policy"].as_object_mut().unwrap().remove("input_sha256");
    for m in o["models"].as_array_mut().unwrap() {
        m.as_object_mut().unwrap().remove("cost_source");
    }
    v
}

/// The records' report and the aggregate's agree: chains.csv and both plots byte for byte,
/// summary.json but for the input's facts, and `recommend`'s policy text.
fn assert_same_reports(s: &Scratch, records: &std::path::Path, agg: &str, flags: &[&str]) {
    let flags: Vec<&str> = [flags, &["--bootstrap", "0", "--quiet"]].concat();
    let raw = s.run_out("sweep", records, "raw", &flags);
    let from_agg = s.run_out("sweep", s.join(agg), "agg", &flags);
    assert_eq!(
        raw.status.code(),
        from_agg.status.code(),
        "{}",
        stderr(&from_agg)
    );
    assert_eq!(stdout(&raw), stdout(&from_agg));
    for file in ["chains.csv", "chain_frontier.svg", "chain_funnel.svg"] {
        assert!(
            s.read(&format!("raw/{file}")) == s.read(&format!("agg/{file}")),
            "{file} differs"
        );
    }
    assert_eq!(numbers(s, "raw"), numbers(s, "agg"));
    let recommend = |input: &std::path::Path| run("recommend", input, &flags[..flags.len() - 3]);
    let (a, b) = (recommend(records), recommend(&s.join(agg)));
    assert_eq!(a.status.code(), b.status.code());
    assert_eq!(stdout(&a), stdout(&b));
    std::fs::remove_dir_all(s.join("raw")).unwrap();
    std::fs::remove_dir_all(s.join("agg")).unwrap();
}

#[test]
fn the_chain_aggregate_gives_the_records_report_byte_for_byte() {
    // Costs per record, confidences in hundredths (many ties), four models; then tokens priced
    // by a sheet with confidences in 1/1000 (few ties).
    let s = Scratch::new();
    let costed = s.write("costed.jsonl", eval_set(600, &MODELS, 100, 3, false));
    aggregate(&s, &[&costed], &[], "costed.parquet");
    for objective in [
        &["--max-quality-loss", "0.02"][..],
        &["--budget", "0.002"],
        &[],
    ] {
        assert_same_reports(&s, &costed, "costed.parquet", objective);
    }
    let sheet = s.write("prices.toml", SHEET);
    let sheet = sheet.to_str().unwrap();
    let tokens = s.write("tokens.jsonl", eval_set(400, &MODELS, 1000, 9, true));
    aggregate(&s, &[&tokens], &["--prices", sheet], "tokens.parquet");
    let flags = ["--min-quality", "0.6", "--prices", sheet];
    // The sheet priced the aggregate when it was built: a run on the aggregate needs no sheet.
    let raw = s.run_out(
        "sweep",
        &tokens,
        "raw",
        &[&flags[..], &["--bootstrap", "0"]].concat(),
    );
    let agg = s.run_out(
        "sweep",
        s.join("tokens.parquet"),
        "agg",
        &["--min-quality", "0.6", "--bootstrap", "0"],
    );
    assert_eq!(raw.status.code(), Some(0), "{}", stderr(&raw));
    assert_eq!(stdout(&raw), stdout(&agg));
    assert!(s.read("raw/chains.csv") == s.read("agg/chains.csv"));
    // The oracle carried by the aggregate is the records' own.
    assert_eq!(
        s.json("raw/summary.json")["oracle"],
        s.json("agg/summary.json")["oracle"]
    );
    assert!(s.json("agg/summary.json")["oracle"]["quality"].is_number());
    // The aggregate's report says what it leaves out.
    let note = s.json("agg/summary.json")["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("no bootstrap intervals"), "{note}");
    assert!(s.text("agg/report.md").contains(&note));
}

#[test]
fn shards_merge_to_the_whole_and_a_model_subset_regroups() {
    let s = Scratch::new();
    let text = eval_set(500, &MODELS, 20, 5, false);
    let lines: Vec<&str> = text.lines().collect();
    // Split by prompt (each prompt's four records stay together): first 300 prompts, the rest.
    let cut = 300 * MODELS.len();
    let whole = s.write("whole.jsonl", &text);
    let a = s.write("a.jsonl", lines[..cut].join("\n") + "\n");
    let b = s.write("b.jsonl", lines[cut..].join("\n") + "\n");
    aggregate(&s, &[&whole], &[], "whole.parquet");
    aggregate(&s, &[&a], &[], "a.parquet");
    aggregate(&s, &[&b], &[], "b.parquet");
    aggregate(
        &s,
        &[&s.join("a.parquet"), &s.join("b.parquet")],
        &[],
        "merged.parquet",
    );
    assert!(s.read("merged.parquet") == s.read("whole.parquet"));
    // A subset of the models, in a stage order of the user's: the same chains, thresholds and
    // numbers; the oracle is left out (the aggregate's oracle is over all four models).
    let flags = ["--models", "small,large,mid", "--max-quality-loss", "0.03"];
    let raw = s.run_out(
        "sweep",
        &whole,
        "raw",
        &[&flags[..], &["--bootstrap", "0"]].concat(),
    );
    let agg = s.run_out("sweep", s.join("whole.parquet"), "agg", &flags);
    assert_eq!(raw.status.code(), agg.status.code(), "{}", stderr(&agg));
    assert!(s.read("raw/chains.csv") == s.read("agg/chains.csv"));
    assert!(s.json("raw/summary.json")["oracle"].is_object());
    assert!(s.json("agg/summary.json")["oracle"].is_null());
    assert!(s.text("agg/report.md").contains("The oracle is left out"));
    // Aggregating that subset directly keeps the subset's oracle.
    aggregate(
        &s,
        &[&whole],
        &["--models", "small,mid,large"],
        "subset.parquet",
    );
    let direct = s.run_out("sweep", s.join("subset.parquet"), "direct", &flags);
    assert_eq!(
        direct.status.code(),
        raw.status.code(),
        "{}",
        stderr(&direct)
    );
    assert!(s.read("direct/chains.csv") == s.read("raw/chains.csv"));
    assert_eq!(
        s.json("direct/summary.json")["oracle"],
        s.json("raw/summary.json")["oracle"]
    );
}

#[test]
fn a_resolution_gives_the_report_of_the_floored_records() {
    // Floored to multiples of 2^-3 by the aggregate, and by this test on the records (x·8
    // floored, over 8: exact in binary): the two reports agree, and every threshold is on the
    // grid.
    let s = Scratch::new();
    let text = eval_set(400, &MODELS, 1000, 11, false);
    let records = s.write("records.jsonl", &text);
    let floored: String = text
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let c = v["confidence"].as_f64().unwrap();
            v["confidence"] = serde_json::json!((c * 8.0).floor() / 8.0);
            v.to_string() + "\n"
        })
        .collect();
    let floored = s.write("floored.jsonl", floored);
    aggregate(&s, &[&records], &["--resolution", "3"], "agg.parquet");
    assert_same_reports(&s, &floored, "agg.parquet", &["--max-quality-loss", "0.02"]);
    let out = run(
        "recommend",
        s.join("agg.parquet"),
        &["--max-quality-loss", "0.02"],
    );
    for line in stdout(&out).lines() {
        if let Some((_, t)) = line.split_once('\t') {
            let t: f64 = t.parse().unwrap();
            assert_eq!((t * 8.0).fract(), 0.0, "{t} is not a multiple of 1/8");
        }
    }
}

#[test]
fn what_a_chain_aggregate_cannot_do_is_refused_in_one_line() {
    let s = Scratch::new();
    let multi = s.write("multi.jsonl", eval_set(60, &MODELS, 10, 2, false));
    let other = s.write("other.jsonl", eval_set(60, &["tiny", "huge"], 10, 2, false));
    aggregate(&s, &[&multi], &[], "agg.parquet");
    aggregate(&s, &[&other], &[], "other.parquet");
    let two_model = s.write(
        "two.jsonl",
        r#"{"confidence": 0.5, "small_quality": 1, "large_quality": 1}"#.to_string() + "\n",
    );
    let agg = s.join("agg.parquet");
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                "recommend".into(),
                agg.clone().into(),
                "--holdout".into(),
                "0.3".into(),
            ],
            "agg.parquet: --holdout: a chain aggregate holds cells, not prompts",
        ),
        (
            vec![
                "recommend".into(),
                agg.clone().into(),
                "--join".into(),
                multi.clone().into(),
            ],
            "--join: a chain aggregate already holds every model",
        ),
        (
            vec![
                "recommend".into(),
                agg.clone().into(),
                "--models".into(),
                "tiny,huge".into(),
            ],
            "--models: no model \"huge\" in the input; it has large, mid, small, tiny",
        ),
        (
            vec![
                "aggregate".into(),
                agg.clone().into(),
                s.join("other.parquet").into(),
                "--out".into(),
                s.join("x.parquet").into(),
            ],
            "other.parquet: cannot merge: its models (huge, tiny) differ from the first \
             input's (large, mid, small, tiny)",
        ),
        (
            vec![
                "aggregate".into(),
                agg.clone().into(),
                two_model.into(),
                "--out".into(),
                s.join("x.parquet").into(),
            ],
            "two.jsonl: a multi-model input (or chain aggregate) and a two-model one cannot be \
             merged",
        ),
        (
            vec![
                "aggregate".into(),
                agg.clone().into(),
                "--resolution".into(),
                "4".into(),
                "--out".into(),
                s.join("x.parquet").into(),
            ],
            "agg.parquet: --resolution for eval sets only: this input is a chain aggregate",
        ),
    ];
    for (args, says) in cases {
        let out = calibrate().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).trim_end().lines().count(),
            1,
            "{}",
            stderr(&out)
        );
    }
    assert!(!s.join("x.parquet").exists());
    // Each kind of table is named for what it is when given to the wrong command: a chain
    // aggregate to monitor, a log aggregate (recognised by its marker column) to the rest.
    let policy = s.write(
        "policy.json",
        stdout(&run(
            "recommend",
            crate::harness::example("example.jsonl"),
            &["--print", "json"],
        )),
    );
    let out = calibrate()
        .arg("monitor")
        .arg(&agg)
        .arg("--against")
        .arg(&policy)
        .arg("--out")
        .arg(s.join("m"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("an eval set's aggregate"),
        "{}",
        stderr(&out)
    );
    let logs = {
        use polars::prelude::*;
        let mut frame = df!("calibrate_log_aggregate" => [1i32], "records" => [1i64]).unwrap();
        let path = s.join("logs-agg.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        path
    };
    for command in ["recommend", "aggregate", "signals"] {
        let mut cmd = calibrate();
        cmd.arg(command).arg(&logs);
        if command != "recommend" {
            cmd.arg("--out").arg(s.join(&format!("{command}-out")));
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("a production-log aggregate (from `calibrate sql --logs`)"),
            "{command}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_damaged_chain_aggregate_is_named_by_row_and_column() {
    use polars::prelude::*;
    let s = Scratch::new();
    let multi = s.write("multi.jsonl", eval_set(40, &MODELS, 10, 4, false));
    aggregate(&s, &[&multi], &[], "agg.parquet");
    let read = || {
        ParquetReader::new(std::fs::File::open(s.join("agg.parquet")).unwrap())
            .finish()
            .unwrap()
    };
    let height = read().height();
    let quality_limb = |scale: i128| -> Column {
        // quality_0_p1 in units of 2^-20: records · 2^20 · scale.
        let records: Vec<i64> = read()
            .column("records")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let values: Vec<i128> = records
            .iter()
            .map(|&n| i128::from(n) * (1 << 20) * scale)
            .collect();
        Int128Chunked::from_vec("quality_0_p1".into(), values)
            .into_decimal(38, 0)
            .unwrap()
            .into_series()
            .into()
    };
    let edits: [(&str, Column, &str); 5] = [
        (
            "quality_0_p1",
            quality_limb(2),
            "row 1: column \"quality_0_p0\": a quality sum above its",
        ),
        (
            "oracle_quality_p1",
            Int128Chunked::from_vec("oracle_quality_p1".into(), vec![0i128; height])
                .into_decimal(38, 0)
                .unwrap()
                .into_series()
                .into(),
            "column \"oracle_quality_p0\": the oracle's quality sum must lie between",
        ),
        (
            "invalid_records",
            Column::new("invalid_records".into(), {
                let mut v = vec![0i64; height];
                v[2] = 1;
                v
            }),
            "row 3: column \"invalid_records\": 1 prompts lack a model's row",
        ),
        (
            "model_1",
            Column::new("model_1".into(), vec!["aaa"; height]),
            "column \"model_1\": expected a non-empty model name after \"large\" in byte order, found \"aaa\"",
        ),
        (
            "confidence_0",
            Column::new("confidence_0".into(), vec![f64::NAN; height]),
            "row 1: column \"confidence_0\": expected a finite number, found NaN",
        ),
    ];
    for (name, column, says) in edits {
        let mut frame = read();
        frame.replace(name, column).unwrap();
        let path = s.join(&format!("bad-{name}.parquet"));
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        let out = run("recommend", &path, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    // No rows at all.
    let mut empty = read().head(Some(0));
    let path = s.join("empty.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut empty)
        .unwrap();
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a chain aggregate with no rows"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn flags_a_chain_input_cannot_apply_are_refused() {
    let s = Scratch::new();
    let multi = s.write("multi.jsonl", eval_set(40, &MODELS, 10, 6, false));
    aggregate(&s, &[&multi], &[], "agg.parquet");
    let sheet = s.write("prices.toml", SHEET);
    let agg = s.join("agg.parquet");
    let cases: [(&std::path::Path, Vec<&str>, &str); 4] = [
        (
            &agg,
            vec!["--prices", sheet.to_str().unwrap()],
            "agg.parquet: --prices: a chain aggregate was read and priced when it was built",
        ),
        (
            &agg,
            vec!["--field", "quality=q"],
            "--field: a chain aggregate was read and priced",
        ),
        (
            &multi,
            vec!["--small-timeout-ms", "500"],
            "--small-timeout-ms escalates the small model's slow answers",
        ),
        (
            &multi,
            vec!["--baseline-cost", "0.01"],
            "--baseline/--baseline-cost compare a pair",
        ),
    ];
    for (input, flags, says) in cases {
        let out = run("recommend", input, &flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{flags:?}: {}", stderr(&out));
    }
    // A confidence whose product by 2^k overflows has no key at that resolution.
    let huge = eval_set(3, &MODELS, 10, 6, false).replacen(
        r#""confidence": "#,
        r#""confidence": 1e300, "was": "#,
        1,
    );
    let huge = s.write("huge.jsonl", huge);
    let out = calibrate()
        .args(["aggregate", "--resolution", "40", "--out"])
        .arg(s.join("x.parquet"))
        .arg(&huge)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "confidence 1e300 times 2^40 overflows, so it has no key; the finest \
             resolution that keys every confidence is 27"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!s.join("x.parquet").exists());
}

/// [`eval_set`]'s records as a Parquet long table, the id in column `prompt`.
fn long_table(s: &Scratch, text: &str, name: &str) -> std::path::PathBuf {
    use polars::prelude::*;
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text_of = |k: &str| -> Vec<String> {
        rows.iter()
            .map(|r| r[k].as_str().unwrap().to_string())
            .collect()
    };
    let f = |k: &str| -> Vec<Option<f64>> { rows.iter().map(|r| r[k].as_f64()).collect() };
    let int = |k: &str| -> Vec<Option<i64>> { rows.iter().map(|r| r[k].as_i64()).collect() };
    let mut frame = df!(
        "prompt" => text_of("id"),
        "model" => text_of("model"),
        "confidence" => f("confidence"),
        "quality" => f("quality"),
        "cost" => f("cost"),
        "input_tokens" => int("input_tokens"),
        "output_tokens" => int("output_tokens"),
        "latency_ms" => f("latency_ms"),
    )
    .unwrap();
    let path = s.join(name);
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    path
}

/// The chain jobs of the engine test (`aggregate.rs`, one Spark session for all): long tables
/// of [`eval_set`] with latencies, queried at exact keys with costs and at 2^-6 with token
/// prices, on DuckDB and Spark; the local aggregates of the same records are the references.
pub fn engine_jobs(s: &Scratch) -> Vec<serde_json::Value> {
    let sheet = s.write("chain-prices.toml", SHEET);
    let sheet = sheet.to_str().unwrap().to_string();
    let cases = [
        (
            "chain-costed",
            eval_set(500, &MODELS, 100, 13, false),
            vec![],
        ),
        (
            "chain-tokens",
            eval_set(300, &MODELS, 1000, 15, true),
            vec![
                "--resolution".to_string(),
                "6".into(),
                "--prices".into(),
                sheet,
            ],
        ),
    ];
    let mut jobs = Vec::new();
    for (name, text, flags) in cases {
        let jsonl = s.write(&format!("{name}.jsonl"), &text);
        let table = long_table(s, &text, &format!("{name}.parquet"));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        aggregate(s, &[&jsonl], &flags, &format!("{name}-local.parquet"));
        for engine in ["duckdb", "spark"] {
            let out = calibrate()
                .args([
                    "sql",
                    "--dialect",
                    engine,
                    "--table",
                    "evals",
                    "--field",
                    "id=prompt",
                ])
                .args(["--models", "large,mid,small,tiny", "--latency"])
                .args(&flags)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let query = s.write(&format!("{name}-{engine}.sql"), stdout(&out));
            jobs.push(serde_json::json!({
                "engine": engine,
                "input": table,
                "query": query,
                "out": s.join(&format!("{name}-{engine}.parquet")),
            }));
        }
    }
    jobs
}

/// After the engines ran [`engine_jobs`]: each engine's table, re-aggregated (key order, our
/// column types), is the local aggregate byte for byte.
pub fn check_engine_results(s: &Scratch) {
    for name in ["chain-costed", "chain-tokens"] {
        for engine in ["duckdb", "spark"] {
            let again = format!("{name}-{engine}-again.parquet");
            aggregate(
                s,
                &[&s.join(&format!("{name}-{engine}.parquet"))],
                &[],
                &again,
            );
            assert!(
                s.read(&again) == s.read(&format!("{name}-local.parquet")),
                "{name} on {engine}: the engine's chain aggregate differs from the local one"
            );
        }
    }
}
