//! `calibrate sweep`: the report directory, its numbers, atomic and deterministic writes.

use std::fs;
use std::path::Path;

use crate::harness::{Scratch, fixture, stderr, stdout};

#[test]
fn writes_table_and_summary() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("tiny.jsonl"),
        "report",
        &["--min-quality", "0.75"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("recommended threshold 0.6"));

    let csv = dir.text("report/sweep.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "threshold,accepted,escalated,escalation_rate,non_escalated_quality,cascade_quality,\
         cost_per_request,wasted_small_cost_per_request,savings_vs_large,objective,accepts_none,\
         escalation_rate_lo,escalation_rate_hi,non_escalated_quality_lo,non_escalated_quality_hi,\
         cascade_quality_lo,cascade_quality_hi,cost_per_request_lo,cost_per_request_hi"
    );
    // Grid 0.00 … 1.00: 101 rows, and the whole percents of escalation: 0 % at 0.5, 1–20 % at
    // 0.6, ..., 61–80 % at 0.9, all grid points, and 81–100 % just above 0.9 (escalate
    // everything): 102 rows. Threshold 0.65 splits like 0.7: 2 escalated, quality 2/3,
    // cascade 0.6, cost 25, wasted small spend 2/5, savings 1 − 25/60.
    assert_eq!(csv.lines().count(), 103);
    assert!(
        csv.contains("\n0.9000000000000001,0,5,1,,0.8,60,0,0,0,true,"),
        "{csv}"
    );
    let line = csv.lines().find(|l| l.starts_with("0.65,")).unwrap();
    let row = line.split(',').take(11).collect::<Vec<_>>().join(",");
    assert_eq!(
        row,
        format!(
            "0.65,3,2,0.4,{},0.6,25,0.4,{},{},false",
            2.0 / 3.0,
            1.0 - 25.0 / 60.0,
            0.6 * (1.0 - 25.0 / 60.0)
        )
    );

    let summary = dir.json("report/summary.json");
    // From `sha256sum tests/data/tiny.jsonl`.
    assert_eq!(
        summary["input"]["sha256"],
        "1ee6c80b3e738c412ff962ae9986d094b2a6ea6f96d541a37e8d156f0871a73f"
    );
    assert_eq!(summary["input"]["rows_read"], 5);
    assert_eq!(summary["baselines"]["always_small"]["quality"], 0.6);
    assert_eq!(
        summary["baselines"]["always_large"]["cost_per_request"],
        60.0
    );
    assert_eq!(summary["recommendation"]["metrics"]["threshold"], 0.6);
    assert_eq!(summary["tool"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn exact_lists_every_candidate() {
    let dir = Scratch::new();
    dir.run_out("sweep", fixture("tiny.jsonl"), "report", &["--exact"]);
    let csv = dir.text("report/sweep.csv");
    let thresholds: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    // Five distinct confidences, then "escalate everything" just above 0.9.
    assert_eq!(
        thresholds,
        ["0.5", "0.6", "0.7", "0.8", "0.9", "0.9000000000000001"]
    );
    assert_eq!(csv.lines().last().unwrap().split(',').nth(10), Some("true"));
}

#[test]
fn reruns_are_byte_identical_and_replace_own_report() {
    let dir = Scratch::new();
    let out_dir = dir.join("report");
    dir.run_out("sweep", fixture("tiny.jsonl"), "report", &[]);
    let first: Vec<(String, Vec<u8>)> = read_dir(&out_dir);
    let out = dir.run_out("sweep", fixture("tiny.jsonl"), "report", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read_dir(&out_dir), first);
    // Nothing left behind beside the report.
    let siblings: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}

#[test]
fn refuses_to_replace_a_foreign_directory() {
    let dir = Scratch::new();
    dir.write("report/notes.txt", "mine");
    let out = dir.run_out("sweep", fixture("tiny.jsonl"), "report", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("was not written by calibrate"));
    assert_eq!(dir.text("report/notes.txt"), "mine");
}

#[test]
fn failed_run_leaves_nothing() {
    let dir = Scratch::new();
    let out = dir.run_out("sweep", fixture("bad.jsonl"), "report", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn no_qualifying_threshold_still_writes_report_and_exits_1() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("weak.jsonl"),
        "report",
        &["--min-quality", "0.9"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no recommendation: no threshold reaches"));
    let summary = dir.json("report/summary.json");
    assert_eq!(summary["recommendation"]["found"], false);
}

fn read_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
