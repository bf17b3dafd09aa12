//! Issue 5 (part): held-out validation and the intervals in sweep.csv.

use crate::harness::{Scratch, assert_reported, calibrate, example, fixture, stderr};

#[test]
fn split_field_checks_the_threshold_on_the_test_rows() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("split.jsonl"),
        "r",
        &["--split-field", "part", "--min-quality", "0.9"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    let h = &v["holdout"];
    // Worked in tests/data/README.md.
    assert_eq!(h["calibration_records"], 4);
    assert_eq!(h["test_records"], 3);
    assert_eq!(h["promised"]["threshold"], 0.8);
    assert_eq!(h["promised"]["non_escalated_quality"], 1.0);
    assert_eq!(h["held_out"]["non_escalated_quality"], 0.5);
    assert_eq!(h["held_out"]["escalation_rate"], 1.0 / 3.0);
    assert_eq!(h["met_objective"], false);
    let md = dir.text("r/report.md");
    assert!(md.contains("**The held-out records do not meet the objective.**"));
}

#[test]
fn a_bad_split_value_names_its_line() {
    let dir = Scratch::new();
    let path = dir.write(
        "s.jsonl",
        "{\"confidence\":0.9,\"small_quality\":1,\"part\":\"calibration\"}\n\
         {\"confidence\":0.8,\"small_quality\":1,\"part\":\"train\"}\n",
    );
    let out = dir.run_out("sweep", &path, "r", &["--split-field", "part"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains(":2: field \"part\": expected \"calibration\" or \"test\", found \"train\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn holdout_fraction_is_seeded() {
    let run = |seed: &str| {
        let dir = Scratch::new();
        let out = dir.run_out(
            "sweep",
            example("example.jsonl"),
            "r",
            &["--holdout", "0.3", "--seed", seed, "--bootstrap", "0", "-q"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v = dir.json("r/summary.json");
        assert_eq!(v["holdout"]["test_records"], 1500);
        v["holdout"]["held_out"].clone()
    };
    assert_eq!(run("1"), run("1"));
    assert_ne!(run("1"), run("2"));
}

#[test]
fn intervals_bracket_every_row() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        example("example.jsonl"),
        "r",
        &["--grid", "0.1", "--bootstrap", "50", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = dir.text("r/sweep.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let get = |name: &str| cells[col(name)].parse::<f64>().ok();
        for metric in [
            "escalation_rate",
            "non_escalated_quality",
            "cascade_quality",
            "cost_per_request",
        ] {
            let (Some(v), Some(lo), Some(hi)) = (
                get(metric),
                get(&format!("{metric}_lo")),
                get(&format!("{metric}_hi")),
            ) else {
                continue;
            };
            assert!(
                lo <= v && v <= hi,
                "{metric} {v} not in [{lo}, {hi}] at {}",
                cells[0]
            );
        }
    }
}

#[test]
fn bootstrap_does_not_depend_on_the_thread_count() {
    let run = |threads: &str| {
        let dir = Scratch::new();
        let out = calibrate()
            .env("RAYON_NUM_THREADS", threads)
            .arg("sweep")
            .arg(example("example.jsonl"))
            .args(["--bootstrap", "40", "-q", "--out"])
            .arg(dir.join("r"))
            .output()
            .unwrap();
        assert_reported(&out);
        (dir.read("r/sweep.csv"), dir.read("r/summary.json"))
    };
    assert!(
        run("1") == run("3"),
        "outputs differ between 1 and 3 threads"
    );
}
