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
    let run = calibrate()
        .arg("monitor")
        .arg(input)
        .arg("--against")
        .arg(&policy().0)
        .arg("--quiet")
        .args(flags)
        .arg("--out")
        .arg(s.join(out))
        .output()
        .unwrap();
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
