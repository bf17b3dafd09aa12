//! Issue 18: the aggregate. A sweep of an aggregate equals the sweep of its records to the last
//! digit; aggregates of shards merge to the aggregate of the whole, byte for byte; the SQL of
//! `calibrate sql`, run on DuckDB and Apache Spark, builds the same table.

use std::fs;

use polars::prelude::*;

use super::harness::{Scratch, calibrate, example, stderr, stdout};

/// A seeded eval set with ties, negative confidences, fractional and 0/1 labels, token counts and
/// three task types, as JSON Lines. The generator is a plain linear congruential one (Knuth's
/// MMIX constants), independent of the code under test.
fn eval_set(n: usize, seed: u64, binary: bool) -> Vec<serde_json::Value> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|i| {
            let u = next();
            // Three decimals, with a block of negative confidences and heavy ties at 0.9.
            let confidence = if u < 0.2 {
                0.9
            } else {
                ((next() * 1.2 - 0.1) * 1000.0).round() / 1000.0
            };
            let p = confidence.clamp(0.0, 1.0);
            let label = |x: f64| {
                if binary {
                    f64::from(u8::from(x < p))
                } else {
                    // Sevenths: fractional labels that are not exact in binary.
                    (x * 7.0).floor() / 7.0
                }
            };
            let small = label(next());
            let large = if binary {
                f64::from(u8::from(next() < 0.93))
            } else {
                next()
            };
            let task = ["qa", "code", "math"][(next() * 3.0) as usize];
            serde_json::json!({
                "id": format!("r{i}"),
                "confidence": confidence,
                "small_quality": small.min(1.0),
                "large_quality": large,
                "input_tokens": (next() * 3000.0).floor(),
                "small_output_tokens": (next() * 500.0).floor(),
                "large_output_tokens": (next() * 800.0).floor(),
                "task_type": task,
            })
        })
        .collect()
}

fn jsonl(records: &[serde_json::Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

const PRICES: [&str; 4] = ["--price", "small=0.15:0.6", "--price", "large=2.5:10"];

/// The first 11 columns of a sweep.csv (the metrics; the records' report adds intervals).
fn metrics_columns(csv: &str) -> String {
    csv.lines()
        .map(|l| l.split(',').take(11).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ok(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
}

#[test]
fn sweep_and_recommend_of_the_aggregate_equal_those_of_the_records() {
    for binary in [false, true] {
        let s = Scratch::new();
        let eval = s.write(
            "eval.jsonl",
            jsonl(&eval_set(3000, 7 + u64::from(binary), binary)),
        );
        let agg = s.join("agg.parquet");
        let mut cmd = calibrate();
        cmd.arg("aggregate")
            .arg(&eval)
            .args(PRICES)
            .arg("--out")
            .arg(&agg);
        ok(&cmd.output().unwrap());
        let mut flags = vec!["--exact", "--quiet", "--bootstrap", "0"];
        flags.extend(PRICES);
        ok(&s.run_out("sweep", &eval, "raw", &flags));
        ok(&s.run_out("sweep", &agg, "agg", &["--exact", "--quiet"]));
        let raw = s.text("raw/sweep.csv");
        assert_eq!(
            metrics_columns(&raw),
            metrics_columns(&s.text("agg/sweep.csv"))
        );
        assert!(raw.lines().count() > 500, "ties leave many candidates");
        let objectives: Vec<Vec<&str>> = vec![
            vec![],
            vec!["--min-quality", "0.55"],
            vec!["--max-escalation", "0.3"],
            vec!["--budget", "0.002"],
            vec!["--max-quality-loss", "0.05"],
            vec!["--min-cascade-quality", "0.6"],
            vec!["--min-quality", "0.99"],
        ];
        for objective in objectives {
            let mut raw_flags = objective.clone();
            raw_flags.extend(PRICES);
            let from_records = super::harness::run("recommend", &eval, &raw_flags);
            let from_cells = super::harness::run("recommend", &agg, &objective);
            assert_eq!(
                from_records.status.code(),
                from_cells.status.code(),
                "{objective:?}"
            );
            assert_eq!(stdout(&from_records), stdout(&from_cells), "{objective:?}");
        }
        if binary {
            let certify = ["--min-quality", "0.8", "--certify", "--delta", "0.1"];
            let mut raw_flags = certify.to_vec();
            raw_flags.extend(PRICES);
            let a = super::harness::run("recommend", &eval, &raw_flags);
            let b = super::harness::run("recommend", &agg, &certify);
            assert_eq!(a.status.code(), b.status.code());
            assert_eq!(stdout(&a), stdout(&b));
        }
    }
}

#[test]
fn aggregates_of_shards_merge_to_the_aggregate_of_the_whole() {
    // With latencies: the shards' latency sketches merge too.
    let s = Scratch::new();
    let records = with_latencies(eval_set(2000, 11, false));
    let whole = s.write("whole.jsonl", jsonl(&records));
    let parts = [
        s.write("a.jsonl", jsonl(&records[..700])),
        s.write("b.jsonl", jsonl(&records[700..1500])),
        s.write("c.jsonl", jsonl(&records[1500..])),
    ];
    let aggregate = |inputs: &[&std::path::Path], out: &str| {
        let mut cmd = calibrate();
        cmd.arg("aggregate")
            .args(inputs)
            .args(["--segment-by", "task_type", "--quiet"]);
        cmd.args(PRICES).arg("--out").arg(s.join(out));
        ok(&cmd.output().unwrap());
    };
    aggregate(&[&whole], "whole.parquet");
    aggregate(&[&parts[2], &parts[0]], "ca.parquet");
    aggregate(&[&parts[1]], "b.parquet");
    // Merging aggregates needs no prices: their costs are already summed.
    let mut merge = calibrate();
    merge
        .arg("aggregate")
        .arg(s.join("b.parquet"))
        .arg(s.join("ca.parquet"));
    ok(&merge
        .arg("--out")
        .arg(s.join("merged.parquet"))
        .output()
        .unwrap());
    assert_eq!(s.read("whole.parquet"), s.read("merged.parquet"));
    let frame = ParquetReader::new(fs::File::open(s.join("whole.parquet")).unwrap())
        .finish()
        .unwrap();
    // Rows of sums count each record once; latency rows count it once per path.
    let records = |latency_rows: bool| -> i64 {
        let bucket = frame.column("latency_bucket").unwrap();
        let mask = if latency_rows {
            bucket.is_not_null()
        } else {
            bucket.is_null()
        };
        let rows = frame.filter(&mask).unwrap();
        let records = rows.column("records").unwrap().i64().unwrap().clone();
        records.sum().unwrap_or(0)
    };
    assert_eq!((records(false), records(true)), (2000, 4000));
    assert!(frame.column("segment_task_type").is_ok());
    let buckets = frame.column("latency_bucket").unwrap();
    assert!(buckets.len() - buckets.null_count() > 2000, "latency rows");
}

#[test]
fn a_bad_aggregate_is_named_by_row_and_column() {
    let s = Scratch::new();
    let eval = s.write("eval.jsonl", jsonl(&eval_set(300, 3, false)));
    let agg = s.join("agg.parquet");
    ok(&calibrate()
        .arg("aggregate")
        .arg(&eval)
        .arg("--out")
        .arg(&agg)
        .output()
        .unwrap());
    let mut frame = ParquetReader::new(fs::File::open(&agg).unwrap())
        .finish()
        .unwrap();
    let mut invalid = vec![0i64; frame.height()];
    invalid[4] = 2;
    frame
        .replace(
            "invalid_records",
            Column::new("invalid_records".into(), invalid),
        )
        .unwrap();
    let bad = s.join("bad.parquet");
    ParquetWriter::new(fs::File::create(&bad).unwrap())
        .finish(&mut frame)
        .unwrap();
    let out = super::harness::run("recommend", &bad, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.parquet: row 5: column \"invalid_records\": 2 records"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Counts that cannot be those of the row's records, and a latency bucket past the largest,
    // are refused before they are summed (a crafted file must not overflow a sum).
    let crafted = |column: &str, row: usize, value: i64| {
        let mut frame = ParquetReader::new(fs::File::open(&agg).unwrap())
            .finish()
            .unwrap();
        let c = frame
            .column(column)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let mut values: Vec<Option<i64>> = c.i64().unwrap().iter().collect();
        values[row] = Some(value);
        frame
            .replace(column, Column::new(column.into(), values))
            .unwrap();
        let path = s.join(&format!("crafted-{column}.parquet"));
        ParquetWriter::new(fs::File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        let out = super::harness::run("recommend", &path, &[]);
        assert_eq!(out.status.code(), Some(2), "{column}");
        stderr(&out)
    };
    let err = crafted("small_right", 0, 1 << 40);
    assert!(err.contains("row 1: column \"small_right\""), "{err}");
    let rows = frame_height(&agg);
    let err = crafted("latency_bucket", rows - 1, 1 << 40);
    assert!(
        err.contains("column \"latency_bucket\": expected null on a row of sums"),
        "{err}"
    );
    // Settings that need records are refused, not ignored.
    for flags in [
        vec!["--small-cost", "2"],
        vec!["--holdout", "0.2"],
        vec!["--where", "task_type=qa"],
        vec![
            "--certify",
            "--min-quality",
            "0.8",
            "--segment-by",
            "task_type",
        ],
    ] {
        let out = super::harness::run("recommend", &agg, &flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(
            stderr(&out).contains("an aggregate input cannot take"),
            "{}",
            stderr(&out)
        );
    }
    // `signals` compares each record's signals, which an aggregate does not hold.
    let sig = s.join("sig");
    let out = super::harness::run("signals", &agg, &["--out", sig.to_str().unwrap()]);
    refused(
        &out,
        "an aggregate holds counts per confidence, not each record's signals",
    );
    assert!(!sig.exists());
    // Aggregates of different shapes do not merge.
    let seg = s.join("seg.parquet");
    let mut cmd = calibrate();
    cmd.arg("aggregate")
        .arg(&eval)
        .args(["--segment-by", "task_type", "--out"])
        .arg(&seg);
    ok(&cmd.output().unwrap());
    let out = calibrate()
        .arg("aggregate")
        .arg(&agg)
        .arg(&seg)
        .arg("--out")
        .arg(s.join("m.parquet"))
        .output()
        .unwrap();
    refused(&out, "cannot merge: its segment columns");
    assert!(!s.join("m.parquet").exists());
}

#[test]
fn a_resolution_floors_confidences_to_multiples_of_its_power_of_two() {
    // --resolution 6 keys by floor(c · 64) / 64: the records' sweep on those floored
    // confidences (computed here independently) is the aggregate's sweep.
    let s = Scratch::new();
    let records = eval_set(1500, 5, false);
    let floored: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let c = r["confidence"].as_f64().unwrap();
            r["confidence"] = serde_json::json!((c * 64.0).floor() / 64.0);
            r
        })
        .collect();
    let eval = s.write("eval.jsonl", jsonl(&records));
    let eval_floored = s.write("floored.jsonl", jsonl(&floored));
    let agg = s.join("agg.parquet");
    let mut cmd = calibrate();
    cmd.arg("aggregate")
        .arg(&eval)
        .args(["--resolution", "6", "--out"])
        .arg(&agg);
    ok(&cmd.output().unwrap());
    ok(&s.run_out(
        "sweep",
        &eval_floored,
        "raw",
        &["--exact", "--quiet", "--bootstrap", "0"],
    ));
    ok(&s.run_out("sweep", &agg, "agg", &["--exact", "--quiet"]));
    let agg_csv = s.text("agg/sweep.csv");
    assert_eq!(
        metrics_columns(&s.text("raw/sweep.csv")),
        metrics_columns(&agg_csv)
    );
    // At most 64 · 1.2 + 2 keys (confidences span [-0.1, 1.1]) plus "escalate everything".
    assert!(
        agg_csv.lines().count() <= 1 + 80,
        "{}",
        agg_csv.lines().count()
    );
}

/// The Python with DuckDB and PySpark (scripts/test.sh sets it; `.ci/run` calls that script).
fn engines_python() -> Option<String> {
    match std::env::var("CALIBRATE_ENGINES_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CALIBRATE_REQUIRE_ENGINES").is_err(),
                "CALIBRATE_REQUIRE_ENGINES is set but CALIBRATE_ENGINES_PYTHON is not"
            );
            eprintln!(
                "engine tests skipped: set CALIBRATE_ENGINES_PYTHON (scripts/test.sh does) to run \
                 the SQL on DuckDB and Spark"
            );
            None
        }
    }
}

#[test]
fn the_sql_on_duckdb_and_spark_builds_the_local_aggregate_and_the_logs_monitor_byte_for_byte() {
    let Some(python) = engines_python() else {
        return;
    };
    let s = Scratch::new();
    let mut records = eval_set(4000, 21, false);
    // A negative confidence so small that x - pmod(x, 1) left it unfloored on Spark.
    let mut tiny = records[0].clone();
    tiny["confidence"] = serde_json::json!(-1e-20);
    tiny["id"] = serde_json::json!("tiny");
    records.push(tiny);
    let col_f64 =
        |k: &str| -> Vec<f64> { records.iter().map(|r| r[k].as_f64().unwrap()).collect() };
    let col_i64 = |k: &str| -> Vec<i64> {
        records
            .iter()
            .map(|r| r[k].as_f64().unwrap() as i64)
            .collect()
    };
    let task: Vec<&str> = records
        .iter()
        .map(|r| r["task_type"].as_str().unwrap())
        .collect();
    // Latencies from 0.5 ms to hours, fractional, so every kind of bucket is used.
    let timed = with_latencies(records.clone());
    let (small_latency, large_latency) = (
        timed
            .iter()
            .map(|r| r["small_latency_ms"].as_f64().unwrap())
            .collect::<Vec<_>>(),
        timed
            .iter()
            .map(|r| r["large_latency_ms"].as_f64().unwrap())
            .collect::<Vec<_>>(),
    );
    let mut frame = df!(
        "id" => records.iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(),
        "conf" => col_f64("confidence"),
        "small_quality" => col_f64("small_quality"),
        "large_quality" => col_f64("large_quality"),
        "input_tokens" => col_i64("input_tokens"),
        "small_output_tokens" => col_i64("small_output_tokens"),
        "task_type" => task,
        "small_latency_ms" => small_latency,
        "large_latency_ms" => large_latency,
    )
    .unwrap();
    let eval = s.join("eval.parquet");
    ParquetWriter::new(fs::File::create(&eval).unwrap())
        .finish(&mut frame)
        .unwrap();
    // Two shapes: exact keys with segments and token prices (the large model's output tokens
    // estimated from the small model's); keys floored to 2^-9 with flat costs.
    let tokens = [
        "--segment-by",
        "task_type",
        "--price",
        "small=0.15:0.6",
        "--price",
        "large=2.5:10",
        "--large-output-ratio",
        "1.5",
    ];
    let flat = [
        "--resolution",
        "9",
        "--small-cost",
        "0.0004",
        "--large-cost",
        "0.02",
    ];
    let cases: [(&str, Vec<&str>, Vec<&str>); 2] = [
        (
            "tokens",
            tokens.to_vec(),
            [
                tokens.as_slice(),
                &["--no-large-output-tokens", "--latency"],
            ]
            .concat(),
        ),
        (
            "floored",
            flat.to_vec(),
            [flat.as_slice(), &["--latency"]].concat(),
        ),
    ];
    let mut jobs = Vec::new();
    for (name, local, sql) in &cases {
        // The local aggregate of the same file: the reference.
        let mut cmd = calibrate();
        cmd.arg("aggregate")
            .arg(&eval)
            .args(["--field", "confidence=conf", "--quiet"])
            .args(local);
        ok(&cmd
            .arg("--out")
            .arg(s.join(&format!("{name}-local.parquet")))
            .output()
            .unwrap());
        for engine in ["duckdb", "spark"] {
            let mut cmd = calibrate();
            cmd.args([
                "sql",
                "--dialect",
                engine,
                "--table",
                "evals",
                "--field",
                "confidence=conf",
            ]);
            let out = cmd.args(sql).output().unwrap();
            ok(&out);
            let query = s.write(&format!("{name}-{engine}.sql"), stdout(&out));
            jobs.push(serde_json::json!({
                "engine": engine,
                "input": eval,
                "query": query,
                "out": s.join(&format!("{name}-{engine}.parquet")),
            }));
        }
    }
    // The log aggregate's jobs share the one Spark session.
    jobs.extend(crate::log_aggregate::engine_jobs(&s));
    jobs.extend(crate::chain_aggregate::engine_jobs(&s));
    let jobs_file = s.write("jobs.json", serde_json::to_string(&jobs).unwrap());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/engines.py");
    let run = std::process::Command::new(&python)
        .arg(script)
        .arg(&jobs_file)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for (name, _, _) in &cases {
        for engine in ["duckdb", "spark"] {
            // Re-aggregating puts the engine's rows in key order and writes our column types.
            let again = s.join(&format!("{name}-{engine}-again.parquet"));
            let mut cmd = calibrate();
            cmd.arg("aggregate")
                .arg(s.join(&format!("{name}-{engine}.parquet")))
                .arg("--quiet");
            ok(&cmd.arg("--out").arg(&again).output().unwrap());
            // (Compared as bytes; printing two Parquet files would drown the message.)
            let same = fs::read(&again).unwrap() == s.read(&format!("{name}-local.parquet"));
            assert!(
                same,
                "{name} on {engine}: the engine's table differs from the local one"
            );
        }
    }
    crate::log_aggregate::check_engine_results(&s);
    crate::chain_aggregate::check_engine_results(&s);
}

/// `aggregate --segment-by task_type` of `input` in parts of `part` bytes, to DIR/`out`.
fn in_parts(s: &Scratch, input: &std::path::Path, out: &str, part: &str) -> std::process::Output {
    let mut cmd = calibrate();
    cmd.arg("aggregate")
        .arg(input)
        .args(["--quiet", "--segment-by", "task_type"]);
    cmd.args(["--part-bytes", part, "--out"])
        .arg(s.join(out))
        .output()
        .unwrap()
}

#[test]
fn json_lines_read_in_parts_give_the_aggregate_read_whole() {
    // `aggregate` reads JSON Lines in parts (memory holds one); parts of 3000 bytes cut the
    // records at every place, and a bad record is still named by its line in the whole file.
    // Each part's latencies join the sketch the parts before built.
    let s = Scratch::new();
    let records = with_latencies(eval_set(1200, 17, false));
    let eval = s.write("eval.jsonl", jsonl(&records));
    let aggregate = |input: &std::path::Path, out: &str, part: &str| in_parts(&s, input, out, part);
    ok(&aggregate(&eval, "whole.parquet", "100000000"));
    ok(&aggregate(&eval, "parts.parquet", "3000"));
    assert_eq!(s.read("whole.parquet"), s.read("parts.parquet"));
    let mut lines: Vec<String> = jsonl(&records).lines().map(str::to_string).collect();
    lines[1000] = lines[1000].replace("\"small_quality\":", "\"small_quality\":\"yes\",\"x\":");
    let bad = s.write("bad.jsonl", lines.join("\n") + "\n");
    let out = aggregate(&bad, "bad.parquet", "3000");
    refused(&out, "bad.jsonl:1001: field \"small_quality\"");
    assert!(!s.join("bad.parquet").exists());
}

#[test]
fn csv_read_in_parts_gives_the_aggregate_read_whole() {
    // `aggregate` reads CSV in parts of whole records: a note column with commas, escaped
    // quotes and line ends inside quotes, CRLF and LF line ends, blank lines and a byte-order
    // mark are cut nowhere a record does not end, and a bad record is named by its line in the
    // whole file, as the whole-file read names it.
    let s = Scratch::new();
    let mut records = eval_set(1500, 19, false);
    let keys: Vec<String> = records[0].as_object().unwrap().keys().cloned().collect();
    let csv_text = |records: &[serde_json::Value]| {
        let mut lines = vec![format!("\u{feff}{},note", keys.join(","))];
        for (i, r) in records.iter().enumerate() {
            let cells: Vec<String> = (keys.iter())
                .map(|k| match &r[k] {
                    serde_json::Value::String(t) => format!("\"{t}\""),
                    v => v.to_string(),
                })
                .collect();
            let note = match i % 4 {
                0 => "\"a, \"\"quoted\"\"\nline\r\nend\"".to_string(),
                1 => "plain".to_string(),
                2 => String::new(),
                _ => "\"\n\n\"".to_string(),
            };
            let end = if i % 3 == 0 { "\r" } else { "" };
            lines.push(format!("{},{note}{end}", cells.join(",")));
            if i % 97 == 0 {
                lines.push(String::new());
            }
        }
        lines.join("\n") + "\n"
    };
    let text = csv_text(&records);
    let eval = s.write("eval.csv", &text);
    let aggregate = |input: &std::path::Path, out: &str, part: &str| in_parts(&s, input, out, part);
    ok(&aggregate(&eval, "whole.parquet", "100000000"));
    for part in ["2000", "3001", "7919"] {
        ok(&aggregate(&eval, "parts.parquet", part));
        assert_eq!(
            s.read("whole.parquet"),
            s.read("parts.parquet"),
            "parts of {part}"
        );
    }
    // The same records as JSON Lines give the same aggregate (the note is not read).
    let json = s.write("eval.jsonl", jsonl(&records));
    ok(&aggregate(&json, "json.parquet", "100000000"));
    assert_eq!(s.read("whole.parquet"), s.read("json.parquet"));
    // A bad quality on the record after a multi-line note: the line is the file's (by hand:
    // the header, the records before with their notes' line ends, the blank lines).
    // A second bad record in a later part: both are named and counted, in parts as whole.
    records[1101]["small_quality"] = serde_json::json!("high");
    records[1400]["small_quality"] = serde_json::json!("low");
    let bad = s.write("bad.csv", csv_text(&records));
    let whole = aggregate(&bad, "bad-whole.parquet", "100000000");
    let parts = aggregate(&bad, "bad-parts.parquet", "2000");
    assert_eq!(whole.status.code(), Some(2), "{}", stderr(&whole));
    assert_eq!(stderr(&parts), stderr(&whole));
    assert!(
        stderr(&whole).contains("2 bad records in all"),
        "{}",
        stderr(&whole)
    );
    // Dropped with --skip-invalid: the same table and the same count either way.
    let skip = |out: &str, part: &str| {
        let mut cmd = calibrate();
        cmd.arg("aggregate")
            .arg(&bad)
            .args(["--quiet", "--skip-invalid"]);
        cmd.args(["--segment-by", "task_type", "--part-bytes", part, "--out"]);
        cmd.arg(s.join(out)).output().unwrap()
    };
    let (a, b) = (
        skip("skip-whole.parquet", "100000000"),
        skip("skip-parts.parquet", "2000"),
    );
    ok(&a);
    // (The "wrote" lines name different files.)
    let dropped = |out: &std::process::Output| stderr(out).lines().next().map(String::from);
    assert_eq!(dropped(&a), dropped(&b));
    assert!(
        stderr(&a).contains("dropped 2 of 1500 records"),
        "{}",
        stderr(&a)
    );
    assert_eq!(s.read("skip-whole.parquet"), s.read("skip-parts.parquet"));
    let newlines_in_notes = |i: usize| [2, 0, 0, 2][i % 4];
    let line = 2 + (0..1101).map(|i| 1 + newlines_in_notes(i)).sum::<usize>() + 1101 / 97 + 1;
    assert!(
        stderr(&whole).contains(&format!("bad.csv:{line}:")),
        "{line}: {}",
        stderr(&whole)
    );
}

#[test]
fn per_segment_thresholds_from_the_aggregate_equal_those_from_the_records() {
    // --segment-by on an aggregate that carries the column: each segment's sweep comes from its
    // cells, and the joint plan gives the records' per-segment rules and pooled metrics.
    let s = Scratch::new();
    let records = eval_set(6000, 29, false);
    let eval = s.write("eval.jsonl", jsonl(&records));
    let agg = s.join("agg.parquet");
    let mut cmd = calibrate();
    cmd.arg("aggregate")
        .arg(&eval)
        .args(["--segment-by", "task_type", "--quiet"]);
    ok(&cmd.args(PRICES).arg("--out").arg(&agg).output().unwrap());
    let seg = ["--segment-by", "task_type", "--min-segment-records", "50"];
    same_segment_policies(&eval, &agg, &seg);
    // A segment column the aggregate lacks is refused.
    let out = super::harness::run("recommend", &agg, &["--segment-by", "tier"]);
    refused(&out, "the aggregate has no segment column \"tier\"");
}

#[test]
fn intervals_from_the_aggregate() {
    // Wilson intervals come from counts: with the bootstrap off, the whole sweep.csv of the
    // aggregate equals the records'. With 0/1 labels and flat costs the cells' bootstrap is the
    // records' Poisson bootstrap in distribution (a cell of n records draws Poisson(n)), so the
    // cost intervals agree up to resampling noise (other seeds' streams).
    let s = Scratch::new();
    let eval = s.write("eval.jsonl", jsonl(&eval_set(4000, 31, true)));
    let agg = s.join("agg.parquet");
    let flat = ["--small-cost", "1", "--large-cost", "9"];
    let mut cmd = calibrate();
    cmd.arg("aggregate")
        .arg(&eval)
        .args(flat)
        .arg("--quiet")
        .arg("--out")
        .arg(&agg);
    ok(&cmd.output().unwrap());
    let raw_flags = [&flat[..], &["--quiet", "--bootstrap", "0"]].concat();
    ok(&s.run_out("sweep", &eval, "raw0", &raw_flags));
    ok(&s.run_out("sweep", &agg, "agg0", &["--quiet", "--bootstrap", "0"]));
    assert_eq!(s.text("raw0/sweep.csv"), s.text("agg0/sweep.csv"));
    let raw_flags = [&flat[..], &["--quiet", "--bootstrap", "400"]].concat();
    ok(&s.run_out("sweep", &eval, "raw", &raw_flags));
    ok(&s.run_out("sweep", &agg, "agg", &["--quiet", "--bootstrap", "400"]));
    ok(&s.run_out("sweep", &agg, "again", &["--quiet", "--bootstrap", "400"]));
    assert_eq!(s.read("agg/sweep.csv"), s.read("again/sweep.csv"), "seeded");
    let table = |name: &str| -> Vec<Vec<String>> {
        s.text(name)
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (raw, agg) = (table("raw/sweep.csv"), table("agg/sweep.csv"));
    assert_eq!(raw.len(), agg.len());
    let mut compared = 0;
    for (r, a) in raw.iter().zip(&agg) {
        // Columns 0-10 are the metrics, 11-16 Wilson intervals (identical), 17-18 the cost's.
        assert_eq!(r[..17], a[..17]);
        let f = |x: &str| x.parse::<f64>().unwrap();
        let (cost, rw, aw) = (f(&r[6]), f(&r[18]) - f(&r[17]), f(&a[18]) - f(&a[17]));
        if rw > 0.0 {
            assert!(f(&a[17]) <= cost && cost <= f(&a[18]), "{a:?}");
            assert!(
                (aw / rw - 1.0).abs() < 0.25,
                "widths {aw} vs {rw} at {}",
                r[0]
            );
            compared += 1;
        }
    }
    assert!(compared > 50, "{compared}");
}

/// The records with seeded latencies (ms): small from 0.5 ms to about 40 s, large up to hours.
fn with_latencies(mut records: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    for (i, r) in records.iter_mut().enumerate() {
        r["small_latency_ms"] = serde_json::json!(0.5 * 1.0021f64.powi(((i * 7919) % 4000) as i32));
        r["large_latency_ms"] = serde_json::json!(300.0 + ((i * 104729) % 50000) as f64 * 97.3);
    }
    records
}

#[test]
fn latency_from_the_sketch() {
    // The mean is exact; each percentile is the middle of its bucket, within 0.5 ms or 1/64 of
    // the records' nearest-rank value (engine::latency_sketch).
    let s = Scratch::new();
    let eval = s.write(
        "eval.jsonl",
        jsonl(&with_latencies(eval_set(3000, 41, false))),
    );
    let agg = s.join("agg.parquet");
    let mut cmd = calibrate();
    ok(&cmd
        .arg("aggregate")
        .arg(&eval)
        .arg("--quiet")
        .arg("--out")
        .arg(&agg)
        .output()
        .unwrap());
    ok(&s.run_out("sweep", &eval, "raw", &["--quiet", "--bootstrap", "0"]));
    ok(&s.run_out("sweep", &agg, "agg", &["--quiet", "--bootstrap", "0"]));
    let table = |name: &str| -> Vec<Vec<f64>> {
        let text = s.text(name);
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        assert_eq!(
            header[19..],
            [
                "latency_mean_ms",
                "latency_p50_ms",
                "latency_p95_ms",
                "latency_p99_ms"
            ]
        );
        (text.lines().skip(1))
            .map(|l| l.split(',').skip(19).map(|x| x.parse().unwrap()).collect())
            .collect()
    };
    let (raw, agg) = (table("raw/sweep.csv"), table("agg/sweep.csv"));
    assert_eq!(raw.len(), agg.len());
    for (r, a) in raw.iter().zip(&agg) {
        assert_eq!(r[0].to_bits(), a[0].to_bits(), "mean");
        for k in 1..4 {
            let bound = 0.5f64.max(r[k] / 64.0);
            assert!((r[k] - a[k]).abs() <= bound, "{r:?} vs {a:?}");
        }
    }
    assert!(
        raw.iter().any(|r| r[3] > 100_000.0),
        "hours-long latencies were sketched"
    );
}

#[test]
fn always_large_overrides_on_an_aggregate_equal_those_on_the_records() {
    // --always-large FIELD=VALUE on a segment column of the aggregate: those cells escalate
    // whatever their confidence, as the matching records do; the whole sweep.csv (bootstrap off)
    // and every recommendation equal the records'.
    let s = Scratch::new();
    let eval = s.write("eval.jsonl", jsonl(&eval_set(3000, 43, false)));
    let agg = s.join("agg.parquet");
    let mut cmd = calibrate();
    cmd.arg("aggregate")
        .arg(&eval)
        .args(["--segment-by", "task_type", "--quiet"]);
    ok(&cmd.args(PRICES).arg("--out").arg(&agg).output().unwrap());
    let always = [
        "--always-large",
        "task_type=math",
        "--quiet",
        "--bootstrap",
        "0",
        "--exact",
    ];
    let raw_flags = [&always[..], &PRICES].concat();
    ok(&s.run_out("sweep", &eval, "raw", &raw_flags));
    ok(&s.run_out("sweep", &agg, "agg", &always));
    assert_eq!(s.text("raw/sweep.csv"), s.text("agg/sweep.csv"));
    for objective in [["--min-quality", "0.6"], ["--max-quality-loss", "0.05"]] {
        let flags = [
            &objective[..],
            &["--always-large", "task_type=math", "--print", "json"],
        ]
        .concat();
        let raw = super::harness::run("recommend", &eval, &[&flags[..], &PRICES].concat());
        let cells = super::harness::run("recommend", &agg, &flags);
        let raw: serde_json::Value = serde_json::from_str(&stdout(&raw)).unwrap();
        let cells: serde_json::Value = serde_json::from_str(&stdout(&cells)).unwrap();
        // The same document: rules, overrides, thresholds and what it measured.
        assert_eq!(policy_core(&raw), policy_core(&cells), "{objective:?}");
        assert_eq!(raw["metrics"], cells["metrics"], "{objective:?}");
    }
    let out = super::harness::run("recommend", &agg, &["--always-large", "tier=gold"]);
    refused(&out, "the aggregate has no segment column \"tier\"");
}

#[test]
fn always_large_with_segments_on_an_aggregate_equals_the_records() {
    // --segment-by task_type with --always-large tier=gold on an aggregate of both columns: the
    // gold cells escalate in their segment's sweep too, as the gold records do, so the
    // per-segment rules, the global threshold and the pooled metrics equal the records'.
    let s = Scratch::new();
    let mut records = eval_set(6000, 31, false);
    for (i, r) in records.iter_mut().enumerate() {
        r["tier"] = serde_json::json!(["free", "gold", "free", "pro"][(i * 7 + i / 13) % 4]);
    }
    let eval = s.write("eval.jsonl", jsonl(&records));
    let agg = s.join("agg.parquet");
    let mut cmd = calibrate();
    cmd.arg("aggregate").arg(&eval).args([
        "--segment-by",
        "task_type",
        "--segment-by",
        "tier",
        "--quiet",
    ]);
    ok(&cmd.args(PRICES).arg("--out").arg(&agg).output().unwrap());
    let seg = ["--segment-by", "task_type", "--min-segment-records", "50"];
    same_segment_policies(
        &eval,
        &agg,
        &[&seg[..], &["--always-large", "tier=gold"]].concat(),
    );
}

/// A printed policy without what names its input (its sha256) and without the monitoring
/// reference (whose per-bin means the aggregate sums in another order): the rules, thresholds,
/// overrides and measured metrics.
fn policy_core(printed: &serde_json::Value) -> serde_json::Value {
    let mut policy = printed["policy"].clone();
    if let Some(p) = policy.as_object_mut() {
        p.remove("input_sha256");
        p.remove("reference");
    }
    policy
}

/// `recommend --print json` with `flags` under three objectives, on the records (`eval`, priced)
/// and on their aggregate (`agg`): the per-segment rules, the global threshold and the pooled
/// metrics are equal, and the joint choice is made for most objectives.
fn same_segment_policies(eval: &std::path::Path, agg: &std::path::Path, flags: &[&str]) {
    let mut joint = 0;
    for objective in [
        ["--min-quality", "0.62"],
        ["--max-quality-loss", "0.04"],
        ["--budget", "0.0045"],
    ] {
        let flags = [&objective[..], flags, &["--print", "json"]].concat();
        let raw = super::harness::run("recommend", eval, &[&flags[..], &PRICES].concat());
        let cells = super::harness::run("recommend", agg, &flags);
        assert_eq!(raw.status.code(), cells.status.code(), "{objective:?}");
        let raw: serde_json::Value = serde_json::from_str(&stdout(&raw)).unwrap();
        let cells: serde_json::Value = serde_json::from_str(&stdout(&cells)).unwrap();
        assert_eq!(policy_core(&raw), policy_core(&cells), "{objective:?}");
        if cells["policy"]["segments"].is_array() {
            joint += 1;
        }
    }
    assert!(joint >= 2, "the joint choice was made for most objectives");
}

fn frame_height(path: &std::path::Path) -> usize {
    ParquetReader::new(fs::File::open(path).unwrap())
        .finish()
        .unwrap()
        .height()
}

#[test]
fn parquet_read_in_slices_gives_the_aggregate_read_whole() {
    // Parquet is read in slices of rows (--part-bytes / 64 rows); a bad value is named by its
    // row in the whole file.
    let s = Scratch::new();
    let records = eval_set(1000, 47, false);
    let col = |k: &str| -> Vec<f64> { records.iter().map(|r| r[k].as_f64().unwrap()).collect() };
    let mut small = col("small_quality");
    let write = |name: &str, small: &[f64]| {
        let mut frame = df!(
            "confidence" => col("confidence"),
            "small_quality" => small,
            "large_quality" => col("large_quality"),
        )
        .unwrap();
        let path = s.join(name);
        ParquetWriter::new(fs::File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        path
    };
    let eval = write("eval.parquet", &small);
    let aggregate = |input: &std::path::Path, out: &str, part: &str| {
        let mut cmd = calibrate();
        cmd.arg("aggregate")
            .arg(input)
            .args(["--quiet", "--part-bytes", part, "--out"]);
        cmd.arg(s.join(out)).output().unwrap()
    };
    ok(&aggregate(&eval, "whole.parquet", "100000000"));
    // 6,400 bytes: slices of 100 rows.
    ok(&aggregate(&eval, "slices.parquet", "6400"));
    assert_eq!(s.read("whole.parquet"), s.read("slices.parquet"));
    small[777] = 1.5;
    let bad = write("bad.parquet", &small);
    let out = aggregate(&bad, "bad-out.parquet", "6400");
    refused(&out, "bad.parquet:row 778: field \"small_quality\"");
}

/// The aggregate of `eval`, built in `s` as agg.parquet.
fn built(s: &Scratch, eval: &std::path::Path) -> std::path::PathBuf {
    let agg = s.join("agg.parquet");
    ok(&calibrate()
        .arg("aggregate")
        .arg(eval)
        .args(["--quiet", "--out"])
        .arg(&agg)
        .output()
        .unwrap());
    agg
}

/// The aggregate of `eval` by task type, built in `s` as agg.parquet.
fn by_task_type(s: &Scratch, eval: &std::path::Path) -> std::path::PathBuf {
    let agg = s.join("agg.parquet");
    ok(&calibrate()
        .args(["aggregate", "--segment-by", "task_type", "--quiet", "--out"])
        .arg(&agg)
        .arg(eval)
        .output()
        .unwrap());
    agg
}

/// The run failed with exit 2 and said `needle` on stderr.
fn refused(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(needle), "{}", stderr(out));
}

#[test]
fn chains_on_a_two_model_aggregate_are_refused_in_one_line() {
    // A two-model aggregate keeps the small model's confidence per row: choosing a chain needs
    // every model's confidence, quality and cost per prompt (a chain aggregate), so --models
    // says so and stops.
    let s = Scratch::new();
    let eval = s.write("eval.jsonl", jsonl(&eval_set(300, 5, true)));
    let agg = built(&s, &eval);
    for command in ["sweep", "recommend"] {
        let mut cmd = calibrate();
        cmd.arg(command).arg(&agg).args(["--models", "small,large"]);
        if command == "sweep" {
            cmd.arg("--out").arg(s.join("out"));
        }
        let out = cmd.output().unwrap();
        refused(
            &out,
            "agg.parquet: --models: a two-model aggregate holds the small model's confidence",
        );
        assert_eq!(
            stderr(&out).trim_end().lines().count(),
            1,
            "{}",
            stderr(&out)
        );
        assert!(!s.join("out").exists());
    }
}

#[test]
fn json_lines_parts_keep_the_whole_reads_rules() {
    // A byte-order mark starts the input only: before a blank first part it is skipped, and in
    // the middle of the file it is a bad record whichever part it starts. A field that appears
    // only from a part on is named with the record it starts at.
    let s = Scratch::new();
    let records = eval_set(120, 23, false);
    let lines = jsonl(&records);
    let aggregate = |input: &std::path::Path, out: &str, part: &str| in_parts(&s, input, out, part);
    let bom = s.write("bom.jsonl", format!("\u{feff}\n\n{lines}"));
    ok(&aggregate(&bom, "bom-whole.parquet", "100000000"));
    ok(&aggregate(&bom, "bom-parts.parquet", "150"));
    assert_eq!(s.read("bom-whole.parquet"), s.read("bom-parts.parquet"));
    let (head, tail) = lines.split_at(lines.match_indices('\n').nth(59).unwrap().0 + 1);
    let mid = s.write("mid.jsonl", format!("{head}\u{feff}{tail}"));
    for part in ["100000000", "150", &head.len().to_string()] {
        refused(
            &aggregate(&mid, "mid.parquet", part),
            "mid.jsonl:61: expected one JSON object",
        );
    }
    // Records 61 on carry latencies; a part ends exactly after record 60.
    let timed = with_latencies(records[60..].to_vec());
    let late = s.write("late.jsonl", format!("{head}{}", jsonl(&timed)));
    let out = aggregate(&late, "late.parquet", &head.len().to_string());
    refused(
        &out,
        "late.jsonl: from record 61 on: these records have latencies and the records before do not",
    );
    assert_eq!(
        stderr(&out).trim_end().lines().count(),
        1,
        "{}",
        stderr(&out)
    );
    // Read whole, the records without latencies are named by line.
    refused(
        &aggregate(&late, "late.parquet", "100000000"),
        "late.jsonl:1: field \"small_latency_ms\": expected the field in every record or in none",
    );
    // The segment column (--segment-by task_type) missing from record 61 on.
    let untyped: Vec<serde_json::Value> = (records[60..].iter())
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("task_type");
            r
        })
        .collect();
    let gone = s.write("gone.jsonl", format!("{head}{}", jsonl(&untyped)));
    let out = aggregate(&gone, "gone.parquet", &head.len().to_string());
    refused(&out, "gone.jsonl: from line 61 on: no column \"task_type\"");
}

#[test]
fn merging_aggregates_refuses_the_flags_that_shape_an_eval_sets_cells() {
    // An aggregate's cells were keyed, segmented and priced when it was built: --resolution,
    // --segment-by, --field and cost flags given while merging one used to be ignored silently
    // (a "--resolution 6" merge kept exact keys).
    let s = Scratch::new();
    let eval = s.write("eval.jsonl", jsonl(&eval_set(300, 5, true)));
    let agg = built(&s, &eval);
    let cases: [(&[&str], &str); 4] = [
        (&["--resolution", "6"], "--resolution for eval sets only"),
        (
            &["--segment-by", "task_type"],
            "--segment-by for eval sets only",
        ),
        (&["--field", "confidence=c"], "--field for eval sets only"),
        (&["--small-cost", "0.001"], "cost flags for eval sets only"),
    ];
    for (flags, needle) in cases {
        let out = calibrate()
            .arg("aggregate")
            .arg(&agg)
            .args(flags)
            .arg("--out")
            .arg(s.join("merged.parquet"))
            .output()
            .unwrap();
        refused(&out, &format!("agg.parquet: {needle}"));
        assert_eq!(stderr(&out).trim_end().lines().count(), 1);
        assert!(!s.join("merged.parquet").exists());
    }
}

#[test]
fn a_damaged_aggregate_whose_columns_decode_to_different_lengths_is_refused() {
    // One byte of a page of the example's aggregate, changed as a probe found it: the "records"
    // column then decodes to fewer values than there are rows, and a reader indexed past it
    // (a panic). Now the file is refused as damaged.
    let s = Scratch::new();
    let agg = built(&s, &example("example.jsonl"));
    let mut bytes = std::fs::read(&agg).unwrap();
    assert_eq!(
        bytes[7092], 0x83,
        "the aggregate's layout moved: find the byte again"
    );
    bytes[7092] = 0x53;
    let damaged = s.write("damaged.parquet", bytes);
    for command in ["recommend", "aggregate"] {
        let mut cmd = calibrate();
        cmd.arg(command).arg(&damaged);
        if command == "aggregate" {
            cmd.arg("--out").arg(s.join("out.parquet"));
        }
        let out = cmd.output().unwrap();
        // A release build names the short column; polars' debug assertions stop it earlier.
        refused(&out, "damaged.parquet: not a readable Parquet file: ");
        assert_eq!(stderr(&out).trim_end().lines().count(), 1);
    }
}

#[test]
fn a_per_segment_plan_that_alone_meets_the_objective_prints_as_on_the_records() {
    // Segment A's confidences spread and its answers are right, B's sit at 0.99 and are wrong:
    // no single threshold reaches 0.9, A's own threshold with B always large does. From the
    // records that plan is printed and the run exits 0; from the aggregate it used to print
    // nothing and exit 1. Two segment columns and an override check the lines' spelling too.
    let s = Scratch::new();
    let records: Vec<serde_json::Value> = (0..40)
        .map(|i| {
            let a = i % 2 == 1;
            serde_json::json!({
                "id": format!("r{i}"), "seg": if a { "A" } else { "B" },
                "tier": if i % 4 < 2 { "x" } else { "y" },
                "confidence": if a { f64::from(i % 10) / 20.0 } else { 0.99 },
                "small_quality": u8::from(a), "large_quality": 1,
                "small_cost": 1, "large_cost": 10,
            })
        })
        .collect();
    let eval = s.write("eval.jsonl", jsonl(&records));
    for columns in [&["seg"][..], &["tier", "seg"][..]] {
        let by: Vec<&str> = columns.iter().flat_map(|c| ["--segment-by", c]).collect();
        let agg = s.join("agg.parquet");
        ok(&calibrate()
            .arg("aggregate")
            .arg(&eval)
            .args(&by)
            .args(["--quiet", "--out"])
            .arg(&agg)
            .output()
            .unwrap());
        let flags = ["--min-quality", "0.9", "--min-segment-records", "5"];
        let run = |input: &std::path::Path, extra: &[&str]| {
            let out = calibrate()
                .arg("recommend")
                .arg(input)
                .args(flags)
                .args(["--segment-departures", "free"])
                .args(&by)
                .args(extra)
                .output()
                .unwrap();
            (out.status.code(), stdout(&out))
        };
        // An override needs its column in the aggregate: tier is there with two columns only.
        let overrides = if columns.len() == 2 { 2 } else { 1 };
        for extra in [&[][..], &["--always-large", "tier=y"][..]]
            .into_iter()
            .take(overrides)
        {
            let (raw, from_agg) = (run(&eval, extra), run(&agg, extra));
            assert_eq!(raw.0, Some(0), "{columns:?} {extra:?}: {}", raw.1);
            assert!(raw.1.contains("default\talways_large"), "{}", raw.1);
            assert_eq!(from_agg, raw, "{columns:?} {extra:?}");
        }
    }
}

#[test]
fn a_confidence_too_large_to_key_at_the_resolution_is_refused() {
    // 1e300 × 2^60 overflows a double: its key used to be +inf (merged with any other such
    // confidence), and reading the aggregate back then failed. 1e300 × 2^27 < 1.8e308 ≤ 1e300
    // × 2^28 (worked with Python floats), so 27 is the finest resolution that keys it.
    let s = Scratch::new();
    let records = [1e300, 0.5].map(|c| {
        serde_json::json!({"confidence": c, "small_quality": 1, "small_cost": 1, "large_cost": 2})
    });
    let eval = s.write("eval.jsonl", jsonl(&records));
    let run = |k: &str| {
        calibrate()
            .arg("aggregate")
            .arg(&eval)
            .args(["--quiet", "--resolution", k, "--out"])
            .arg(s.join(&format!("r{k}.parquet")))
            .output()
            .unwrap()
    };
    let out = run("60");
    refused(
        &out,
        "eval.jsonl: --resolution 60: the confidence 1e300 times 2^60 is beyond the largest \
         double, so it has no key; ask for a resolution of at most 27",
    );
    assert!(!s.join("r60.parquet").exists());
    ok(&run("27"));
}

#[test]
fn overrides_on_an_aggregate_refuse_and_warn_as_on_the_records() {
    // Every record forced large: no threshold to choose, exit 2 on the records and on their
    // aggregate alike. An override no row matches is warned with the values the aggregate has
    // (an engine may spell a number otherwise than the flag).
    let s = Scratch::new();
    let records: Vec<serde_json::Value> = eval_set(200, 31, true)
        .into_iter()
        .filter(|r| r["task_type"] == "qa")
        .collect();
    let eval = s.write("eval.jsonl", jsonl(&records));
    let agg = by_task_type(&s, &eval);
    for input in [&eval, &agg] {
        let out = super::harness::run("recommend", input, &["--always-large", "task_type=qa"]);
        refused(
            &out,
            "every record escalates whatever its confidence (task_type=qa), so there is no \
             threshold to choose",
        );
    }
    let out = super::harness::run("recommend", &agg, &["--always-large", "task_type=QA"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "warning: --always-large task_type=QA matches no row of the aggregate (values are \
             compared as text; its task_type values: \"qa\")"
        ),
        "{}",
        stderr(&out)
    );
    let raw = super::harness::run("recommend", &eval, &["--always-large", "task_type=QA"]);
    assert_eq!(stdout(&raw), stdout(&out));
    assert!(
        stderr(&raw).contains("task_type=QA matches no record"),
        "{}",
        stderr(&raw)
    );
}

#[test]
fn an_aggregates_policy_monitors_the_logs_as_the_records_policy_does() {
    // The committed example: its records and their aggregate by task type give the same
    // policy document (rules, thresholds, what it measured; the reference exactly but for its
    // spread, within 1e-12) and `monitor` finds the same alerts with either.
    let s = Scratch::new();
    let eval = super::harness::example("example.jsonl");
    let agg = by_task_type(&s, &eval);
    let flags = ["--min-quality", "0.95", "--print", "json"];
    let raw = s.write(
        "raw.json",
        stdout(&super::harness::run("recommend", &eval, &flags)),
    );
    let cells = s.write(
        "agg.json",
        stdout(&super::harness::run("recommend", &agg, &flags)),
    );
    let (raw_v, cells_v) = (s.json("raw.json"), s.json("agg.json"));
    assert_eq!(policy_core(&raw_v), policy_core(&cells_v));
    close_json(
        &raw_v["policy"]["reference"],
        &cells_v["policy"]["reference"],
        "reference",
    );
    let logs = super::harness::example("example-logs.jsonl.gz");
    let monitor = |against: &std::path::Path, out: &str| {
        let run = calibrate()
            .arg("monitor")
            .arg(&logs)
            .arg("--against")
            .arg(against)
            .args(["--quiet", "--out"])
            .arg(s.join(out))
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{}", stderr(&run)); // the example's alert
        let md = s.text(&format!("{out}/monitor.md"));
        md.lines()
            .filter(|l| !l.starts_with("Against "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(monitor(&raw, "raw"), monitor(&cells, "agg"));
    // A segment an override empties keeps its keys (its bins' means are null).
    let held = [
        "--min-quality",
        "0.95",
        "--always-large",
        "task_type=code",
        "--print",
        "json",
    ];
    let held_doc = |input: &std::path::Path| -> serde_json::Value {
        let out = super::harness::run("recommend", input, &held);
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let (a, b) = (held_doc(&eval), held_doc(&agg));
    assert_eq!(policy_core(&a), policy_core(&b));
    close_json(
        &a["policy"]["reference"],
        &b["policy"]["reference"],
        "held reference",
    );
    // Intervals at the recommended threshold: Wilson's from counts, the records' own.
    let intervals = [
        "--min-quality",
        "0.95",
        "--print",
        "json",
        "--bootstrap",
        "20",
    ];
    let interval = |input: &std::path::Path| -> serde_json::Value {
        let out = super::harness::run("recommend", input, &intervals);
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["uncertainty"]["recommended"]["escalation_rate"].clone()
    };
    assert!(interval(&agg)["lo"].is_number());
    assert_eq!(interval(&eval), interval(&agg));
    // sweep writes the per-segment table of the records, and its summary.json carries the
    // policy recommend prints.
    let seg = [
        "--min-quality",
        "0.95",
        "--segment-by",
        "task_type",
        "--bootstrap",
        "0",
    ];
    ok(&s.run_out("sweep", &eval, "raw-sweep", &seg));
    ok(&s.run_out("sweep", &agg, "agg-sweep", &seg));
    assert!(s.read("raw-sweep/segments.csv") == s.read("agg-sweep/segments.csv"));
    assert!(s.text("agg-sweep/segments.csv").lines().count() > 100);
    let printed = super::harness::run("recommend", &agg, &seg[..4]);
    let summary = s.json("agg-sweep/summary.json");
    let text = stdout(&super::harness::run(
        "recommend",
        &agg,
        &[&seg[..4], &["--print", "json"]].concat(),
    ));
    let from_recommend: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["policy"], from_recommend["policy"]);
    assert_eq!(printed.status.code(), Some(0));
    // The other documents, too, differ only in the input's sha256.
    for format in ["yaml", "toml", "env"] {
        let flags = ["--min-quality", "0.95", "--print", format];
        let strip = |out: std::process::Output| -> String {
            (stdout(&out).lines())
                .filter(|l| !l.to_ascii_lowercase().contains("sha256"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (a, b) = (
            strip(super::harness::run("recommend", &eval, &flags)),
            strip(super::harness::run("recommend", &agg, &flags)),
        );
        assert_eq!(a, b, "{format}");
        assert!(a.contains("0.689"), "{format}: {a}");
    }
}

/// `a` and `b` equal but for a spread (`sd`), which agrees within a relative 1e-12.
fn close_json(a: &serde_json::Value, b: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                close_json(&x[k], &y[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                close_json(p, q, &format!("{path}[{i}]"));
            }
        }
        // The spread sums floats in another order; every other number is exact on both paths.
        (Value::Number(x), Value::Number(y)) if path.ends_with(".sd") => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{path}: {x} against {y}"
            );
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn building_with_the_default_costs_is_warned_once() {
    // The aggregate keeps the summed costs, not that they were the built-in defaults: the
    // build says so on stderr, once for all its parts, as sweep does on the records.
    let s = Scratch::new();
    let eval = s.write("eval.jsonl", jsonl(&eval_set(300, 41, true)));
    let build = |flags: &[&str]| {
        calibrate()
            .args(["aggregate", "--part-bytes", "4000", "--out"])
            .arg(s.join("agg.parquet"))
            .arg(&eval)
            .args(flags)
            .output()
            .unwrap()
    };
    let out = build(&[]);
    ok(&out);
    assert_eq!(
        stderr(&out).matches("warning: Default costs.").count(),
        1,
        "{}",
        stderr(&out)
    );
    let priced = build(&["--small-cost", "0.001", "--large-cost", "0.01"]);
    ok(&priced);
    assert!(
        !stderr(&priced).contains("Default costs"),
        "{}",
        stderr(&priced)
    );
    // `--out -` names no file (it wrote one called "-").
    let dash = calibrate()
        .current_dir(s.path())
        .args(["aggregate", "--out", "-"])
        .arg(&eval)
        .output()
        .unwrap();
    refused(&dash, "--out -: the aggregate is a Parquet file");
    assert!(!s.join("-").exists());
}
