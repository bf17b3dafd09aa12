//! `calibrate sql --logs` (issue 18 for `monitor`): production logs reduced on DuckDB and Spark
//! to the log aggregate give `monitor` the figures of the logs themselves, byte for byte; a log
//! aggregate's bad rows and the flags it cannot honour are refused.

use std::fs;

use polars::prelude::*;

use crate::harness::{Scratch, calibrate, stderr, stdout};
use crate::logs_gen::{Faults, generate};
use crate::monitor::policy;

/// Three days of generated logs with a router bug, a worse small model and complaints, as
/// Parquet: timestamps as epoch seconds and (every third request) milliseconds with a
/// fraction, label weights, no `cost` column. Returns the file.
fn logs_parquet(s: &Scratch) -> std::path::PathBuf {
    let faults = Faults {
        strict_router: Some(("code".into(), 1)),
        worse_small: Some(("chat".into(), 2)),
        regenerate_small: Some(1),
        ..Faults::default()
    };
    let text = generate(&policy().1, 23, 3, 1500, &faults);
    let rows: Vec<serde_json::Value> = (text.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let f64s = |k: &str| -> Vec<Option<f64>> { rows.iter().map(|r| r[k].as_f64()).collect() };
    let bools = |k: &str| -> Vec<Option<bool>> { rows.iter().map(|r| r[k].as_bool()).collect() };
    let mut last = 0.0;
    let timestamps: Vec<f64> = (rows.iter().enumerate())
        .map(|(i, r)| {
            // RFC 3339 text in the generated logs: 43 s after the request before.
            let t = r["timestamp"].as_f64().unwrap_or(last + 43.0);
            last = t;
            match i % 3 {
                0 => t * 1000.0 + 250.0,
                _ => t,
            }
        })
        .collect();
    let weights: Vec<f64> = (0..rows.len())
        .map(|i| 1.0 + (i % 7) as f64 * 0.37)
        .collect();
    let task: Vec<&str> = (rows.iter())
        .map(|r| r["task_type"].as_str().unwrap())
        .collect();
    let mut frame = df!(
        "timestamp" => timestamps,
        "task_type" => task,
        "confidence" => f64s("confidence"),
        "escalated" => bools("escalated"),
        "small_cost" => f64s("small_cost"),
        "large_cost" => f64s("large_cost"),
        "regenerated" => bools("regenerated"),
        "thumbs_down" => bools("thumbs_down"),
        "latency_ms" => f64s("latency_ms"),
        "small_quality" => f64s("small_quality"),
        "large_quality" => f64s("large_quality"),
        "w" => weights,
    )
    .unwrap();
    let path = s.join("logs.parquet");
    ParquetWriter::new(fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    path
}

/// The engine jobs (for `scripts/engines.py`) that reduce the generated logs to log
/// aggregates on DuckDB and Spark, in windows of an hour.
pub fn engine_jobs(s: &Scratch) -> Vec<serde_json::Value> {
    let logs = logs_parquet(s);
    let mut jobs = Vec::new();
    for engine in ["duckdb", "spark"] {
        let out = calibrate()
            .args(["sql", "--logs", "--against"])
            .arg(&policy().0)
            .args(["--dialect", engine, "--table", "evals", "--window", "1h"])
            .args(["--label-weight-field", "w", "--without", "cost"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let query = s.write(&format!("logs-{engine}.sql"), stdout(&out));
        jobs.push(serde_json::json!({
            "engine": engine,
            "input": logs,
            "query": query,
            "out": s.join(&format!("logs-{engine}.parquet")),
        }));
    }
    jobs
}

/// Runs `monitor` on `input` into DIR/`out`; its stdout with the input's name taken out.
fn monitor(s: &Scratch, input: &std::path::Path, out: &str, flags: &[&str]) -> String {
    let run = run_monitor(s, input, out, flags);
    // Exit 1: the injected faults alert.
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    stdout(&run).replace(&input.display().to_string(), "INPUT")
}

/// After the jobs ran: `monitor` on each engine's table equals `monitor` on the logs, file
/// for file, in daily windows (the aggregate's hours merged) and hourly ones, except the
/// line of the first routing mismatch, which only logs have.
pub fn check_engine_results(s: &Scratch) {
    let logs = s.join("logs.parquet");
    for window in ["1d", "1h"] {
        let flags = ["--window", window];
        let weighted = [flags.as_slice(), &["--label-weight-field", "w"]].concat();
        let expected = monitor(s, &logs, &format!("logs-{window}"), &weighted);
        // The faults show: a routing mismatch, and over whole days labelled quality and
        // feedback too.
        let checks = match window {
            "1d" => [
                "conformance:",
                "fix the router: INPUT:",
                "quality",
                "regenerat",
            ]
            .as_slice(),
            _ => ["conformance:", "fix the router: INPUT:"].as_slice(),
        };
        for check in checks {
            assert!(expected.contains(check), "{check}: {expected}");
        }
        for engine in ["duckdb", "spark"] {
            let table = s.join(&format!("logs-{engine}.parquet"));
            let name = format!("{engine}-{window}");
            let got = monitor(s, &table, &name, &flags);
            assert!(
                got.contains("fix the router: requests in INPUT are routed"),
                "{got}"
            );
            let context = format!("{engine}, windows of {window}");
            assert_eq!(without_lines(&got), without_lines(&expected), "{context}");
            let (mut a, mut b) = (
                s.json(&format!("logs-{window}/monitor.json")),
                s.json(&format!("{name}/monitor.json")),
            );
            for json in [&mut a, &mut b] {
                for row in json["rows"].as_array_mut().unwrap() {
                    row["first_mismatch_line"] = serde_json::Value::Null;
                }
                for s in json["suggestions"].as_array_mut().unwrap() {
                    if s["kind"] == "fix_router" {
                        s["line"] = serde_json::Value::Null;
                    }
                }
            }
            let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap();
            s.write(&format!("logs-{window}/monitor.json"), pretty(&a));
            s.write(&format!("{name}/monitor.json"), pretty(&b));
            for file in [
                "monitor.csv",
                "monitor.md",
                "monitor.json",
                "drift.svg",
                "escalation.svg",
            ] {
                let (a, b) = (
                    s.text(&format!("logs-{window}/{file}")),
                    s.text(&format!("{name}/{file}")),
                );
                let a = a.replace(&logs.display().to_string(), "INPUT");
                let b = b.replace(&table.display().to_string(), "INPUT");
                let (a, b) = (without_lines(&a), without_lines(&b));
                // The first line that differs (two whole reports would drown the message).
                let differs = (a.lines().zip(b.lines())).find(|(x, y)| x != y);
                assert!(
                    differs.is_none() && a.lines().count() == b.lines().count(),
                    "{file}: {context}: {differs:?}"
                );
            }
        }
    }
}

/// `text` without what names a log line: the router fix's line, and the conformance
/// alert's "(first at line N)" or "(an aggregate names no lines)".
fn without_lines(text: &str) -> String {
    (text.lines())
        .filter(|l| !l.contains("fix the router"))
        .map(
            |l| match (l.find(" escalates ("), l.find("): a router bug")) {
                (Some(a), Some(b)) => format!("{}{}", &l[..a], &l[b..]),
                _ => l.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// A log aggregate written by hand: `rows` of (window start, hour, task type, signal,
/// escalated, requests, invalid); no labels, costs or feedback. `label`: whether it carries
/// the policy's `task_type` column.
fn hand_made(
    s: &Scratch,
    rows: &[(i64, i64, &str, f64, i64, i64, i64)],
    label: bool,
) -> std::path::PathBuf {
    hand_made_at(s, "hand.parquet", rows, label)
}

/// [`hand_made`] at DIR/`name`.
fn hand_made_at(
    s: &Scratch,
    name: &str,
    rows: &[(i64, i64, &str, f64, i64, i64, i64)],
    label: bool,
) -> std::path::PathBuf {
    let n = rows.len();
    let int = |name: &str, v: Vec<i64>| Column::new(name.into(), v);
    let mut columns = vec![
        int("calibrate_log_aggregate", vec![1; n]),
        int("window_seconds", vec![3600; n]),
        int("window_start", rows.iter().map(|r| r.0).collect()),
        int("hour", rows.iter().map(|r| r.1).collect()),
        Column::new(
            "signal".into(),
            rows.iter().map(|r| r.3).collect::<Vec<f64>>(),
        ),
        int("escalated", rows.iter().map(|r| r.4).collect()),
        int("requests", rows.iter().map(|r| r.5).collect()),
        int("invalid_records", rows.iter().map(|r| r.6).collect()),
    ];
    if label {
        let task: Vec<&str> = rows.iter().map(|r| r.2).collect();
        columns.push(Column::new("label_task_type".into(), task));
    }
    for count in [
        "small_labels",
        "large_labels",
        "cost_n",
        "small_cost_n",
        "large_cost_n",
        "latency_n",
        "regenerated_n",
        "regenerated",
        "thumbs_down_n",
        "thumbs_down",
    ] {
        columns.push(int(count, vec![0; n]));
    }
    for sum in [
        "w",
        "w2",
        "wq",
        "w2qq",
        "large_quality",
        "cost",
        "small_cost",
        "large_cost",
        "latency_ms",
    ] {
        for k in 0..3 {
            columns.push(int(&format!("{sum}_p{k}"), vec![0; n]));
        }
    }
    let mut frame = DataFrame::new(n, columns).unwrap();
    let path = s.join(name);
    ParquetWriter::new(fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    path
}

/// Runs `monitor` on `input` with `flags`, the report to DIR/`out`.
fn run_monitor(
    s: &Scratch,
    input: &std::path::Path,
    out: &str,
    flags: &[&str],
) -> std::process::Output {
    calibrate()
        .arg("monitor")
        .arg(input)
        .arg("--against")
        .arg(&policy().0)
        .arg("--quiet")
        .args(flags)
        .arg("--out")
        .arg(s.join(out))
        .output()
        .unwrap()
}

#[test]
fn a_hand_made_log_aggregate_is_counted_as_its_requests() {
    let s = Scratch::new();
    // 2026-01-01 00:00 and 01:00 UTC: 150 chat requests kept small at signal 0.99, 50
    // escalated at 0.01, and 100 kept small in the next hour.
    let day = 1_767_225_600;
    let rows = [
        (day, 0, "chat", 0.99, 0, 150, 0),
        (day, 0, "chat", 0.01, 1, 50, 0),
        (day + 3600, 1, "chat", 0.99, 0, 100, 0),
    ];
    let path = hand_made(&s, &rows, true);
    let out = run_monitor(&s, &path, "out", &[]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let json = s.json("out/monitor.json");
    assert_eq!(json["records"], 300);
    // By hand: one daily window, 300 requests of which 50 escalated; by hour 200/50 and 100/0.
    let all = &json["rows"][0];
    assert_eq!(
        (all["requests"].as_u64(), all["escalation_rate"].as_f64()),
        (Some(300), Some(50.0 / 300.0))
    );
    assert_eq!(json["by_hour"][0], serde_json::json!([200, 50]));
    assert_eq!(json["by_hour"][1], serde_json::json!([100, 0]));
    // The same rows as an engine's directory of parts (and its _SUCCESS marker): the same
    // report.
    fs::create_dir(s.join("parts")).unwrap();
    hand_made_at(&s, "parts/part-00000.parquet", &rows[..1], true);
    hand_made_at(&s, "parts/part-00001.parquet", &rows[1..], true);
    s.write("parts/_SUCCESS", "");
    let out = run_monitor(&s, &s.join("parts"), "from-parts", &[]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let mut parts = s.json("from-parts/monitor.json");
    let mut whole = json.clone();
    for j in [&mut parts, &mut whole] {
        j["logs"] = serde_json::Value::Null;
        j["status_line"] = serde_json::Value::Null;
    }
    assert_eq!(parts, whole);
}

#[test]
fn a_log_aggregate_refuses_what_it_cannot_honour_in_one_line() {
    let s = Scratch::new();
    let day = 1_767_225_600;
    let good = [(day, 0, "chat", 0.99, 0, 150, 0)];
    let path = hand_made(&s, &good, true);
    // A directory without parts says what monitor reads (not an eval set's advice).
    s.write("empty/_SUCCESS", "");
    let out = run_monitor(&s, &s.join("empty"), "out", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("empty: a directory without Parquet parts: give a logs file"),
        "{}",
        stderr(&out)
    );
    for (flags, expected) in [
        (&["--window", "30m"][..], "holds windows of 3600s"),
        (&["--field", "signal=score"][..], "is a log aggregate"),
        (&["--label-weight-field", "w"][..], "is a log aggregate"),
    ] {
        let out = run_monitor(&s, &path, "out", flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(
            stderr(&out).contains(expected),
            "{flags:?}: {}",
            stderr(&out)
        );
        assert!(!s.join("out").exists(), "{flags:?} wrote a report");
    }
    let bad = [
        (day, 0, "chat", 0.99, 0, 150, 0),
        (day, 0, "chat", 0.5, 0, 10, 3),
    ];
    let out = run_monitor(&s, &hand_made(&s, &bad, true), "out", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("hand.parquet: row 2: column \"invalid_records\": 3 requests"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // More than 2^53 requests in all (each row within its own cap) is refused, not wrapped.
    let big = 1i64 << 52;
    let huge = [(day, 0, "chat", 0.99, 0, big, 0); 3];
    let out = run_monitor(&s, &hand_made(&s, &huge, true), "out", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("row 3: column \"requests\": more than 2^53"),
        "{}",
        stderr(&out)
    );
    let out = run_monitor(&s, &hand_made(&s, &good, false), "out", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("column \"label_task_type\": missing"),
        "{}",
        stderr(&out)
    );
}
