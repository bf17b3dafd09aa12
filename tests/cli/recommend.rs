//! `calibrate recommend`: the bare threshold, JSON, exit codes (numbers from tests/data/README.md).

use std::fs;

use polars::prelude::*;

use crate::harness::{Scratch, calibrate, fixture, run, stderr, stdout};

#[test]
fn default_objective_prints_bare_threshold() {
    let out = run("recommend", fixture("tiny.jsonl"), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "0.6\n");
}

#[test]
fn objectives_pick_the_hand_worked_thresholds() {
    let tiny = |flags: &[&str]| run("recommend", fixture("tiny.jsonl"), flags);
    assert_eq!(stdout(&tiny(&["--min-quality", "0.75"])), "0.6\n");
    assert_eq!(stdout(&tiny(&["--min-quality", "0.95"])), "0.8\n");
    assert_eq!(stdout(&tiny(&["--max-escalation", "0.4"])), "0.6\n");
    assert_eq!(stdout(&tiny(&["--budget", "13"])), "0.6\n");
}

#[test]
fn json_output_carries_the_metrics() {
    let out = run(
        "recommend",
        fixture("tiny.jsonl"),
        &["--min-quality", "0.75", "--print", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["metrics"];
    assert_eq!(m["threshold"], 0.6);
    assert_eq!(m["escalated"], 1);
    assert_eq!(m["non_escalated_quality"], 0.75);
    assert_eq!(m["cascade_quality"], 0.8);
    assert_eq!(m["cost_per_request"], 13.0);
    assert_eq!(v["objective"]["kind"], "min_quality");
}

#[test]
fn no_qualifying_threshold_exits_1_with_reason_on_stderr() {
    let out = run(
        "recommend",
        fixture("weak.jsonl"),
        &["--min-quality", "0.9"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    // The warnings (issue 12), then the reason, once.
    let err = stderr(&out);
    assert!(
        err.ends_with(
            "\ncalibrate: no threshold reaches non-escalated quality 0.9; the best reachable is \
             0.5000 at threshold 0.9 (escalation rate 50.0%)\n"
        ),
        "{err}"
    );
    assert_eq!(err.matches("no threshold reaches").count(), 1, "{err}");
}

#[test]
fn budget_needs_large_quality() {
    let out = run("recommend", fixture("weak.jsonl"), &["--budget", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("--budget maximises cascade quality, which needs large-model quality labels")
    );
}

#[test]
fn csv_with_field_mapping_agrees_with_jsonl() {
    let out = run(
        "recommend",
        fixture("tiny.csv"),
        &[
            "--field",
            "small_quality=small_correct",
            "--min-quality",
            "0.95",
        ],
    );
    // Only warnings (issue 12: default costs, few records), no error.
    assert!(
        stderr(&out).lines().all(|l| l.starts_with("warning: ")),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "0.8\n");
}

#[test]
fn parquet_agrees_with_jsonl() {
    let dir = Scratch::new();
    let path = dir.join("tiny.parquet");
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("confidence".into(), [0.9, 0.8, 0.7, 0.6, 0.5]),
        Column::new("small_quality".into(), [true, true, false, true, false]),
        Column::new("large_quality".into(), [1i64, 1, 1, 0, 1]),
    ])
    .unwrap();
    ParquetWriter::new(fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let out = run("recommend", &path, &[]);
    // Only warnings (issue 12: default costs, few records), no error.
    assert!(
        stderr(&out).lines().all(|l| l.starts_with("warning: ")),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "0.6\n");
}

#[test]
fn reads_stdin() {
    let out = calibrate()
        .args(["recommend", "-", "--min-quality", "0.95"])
        .write_stdin(fs::read(fixture("tiny.jsonl")).unwrap())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "0.8\n");
    let out = calibrate()
        .args(["recommend", "-", "--field", "small_quality=small_correct"])
        .write_stdin(fs::read(fixture("tiny.csv")).unwrap())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "0.6\n");
}

#[test]
fn escalate_everything_prints_always_large() {
    // The text form says always_large, as the policy does: a number just above every
    // confidence would accept a future, more confident request the policy escalates.
    let dir = Scratch::new();
    let path = dir.write(
        "j.jsonl",
        "{\"confidence\":0.9,\"small_quality\":0,\"large_quality\":1}\n\
         {\"confidence\":0.8,\"small_quality\":0,\"large_quality\":1}\n",
    );
    let out = run("recommend", &path, &["--max-quality-loss", "0", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "always_large\n");
    let json = run(
        "recommend",
        &path,
        &["--max-quality-loss", "0", "-q", "--print", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["metrics"]["accepts_none"], true);
    assert!(v["policy"].get("default_threshold").is_none());
}
