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
    // One of two held-out answers right: Wilson cannot tell 0.5 from the target (issue 12).
    assert_eq!(h["verdict"]["verdict"], "inconclusive");
    assert!(
        md.contains("Objective on the held-out records: **inconclusive**"),
        "{md}"
    );
}

#[test]
fn a_bad_split_value_names_its_line() {
    let dir = Scratch::new();
    let path = dir.write(
        "s.jsonl",
        "{\"confidence\":0.9,\"small_quality\":1,\"part\":\"calibration\"}\n\
         {\"confidence\":0.8,\"small_quality\":1,\"part\":\"fold3\"}\n",
    );
    let out = dir.run_out("sweep", &path, "r", &["--split-field", "part"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            ":2: field \"part\": expected a split label: train, training, calibration, calib, \
             dev, val, valid, validation (calibration part) or test, holdout, eval (held-out \
             part), found \"fold3\""
        ),
        "{}",
        stderr(&out)
    );
    // One bad record of two: dropping it helps, so the advice stands.
    assert!(
        stderr(&out).contains("pass --skip-invalid"),
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

/// Issue 14: the usual split names (any case) and `--split-field COLUMN=CALIBRATION:TEST` for any
/// other pair give the same split as `calibration` / `test`; a set where every label is unknown
/// is not told to try --skip-invalid, which would leave nothing.
#[test]
fn split_labels_as_teams_have_them() {
    let dir = Scratch::new();
    let original = std::fs::read_to_string(fixture("split.jsonl")).unwrap();
    let flags = |extra: &[&'static str]| {
        let mut f = vec!["--min-quality", "0.9", "--bootstrap", "0", "-q"];
        f.extend_from_slice(extra);
        f
    };
    let reference = dir.run_out(
        "sweep",
        fixture("split.jsonl"),
        "ref",
        &flags(&["--split-field", "part"]),
    );
    assert_eq!(reference.status.code(), Some(0), "{}", stderr(&reference));
    let holdout = |name: &str| dir.json(&format!("{name}/summary.json"))["holdout"].clone();
    let relabel = |cal: &str, test: &str| {
        original
            .replace("\"calibration\"", &format!("\"{cal}\""))
            .replace("\"test\"", &format!("\"{test}\""))
    };
    for (i, (cal, test)) in [
        ("train", "test"),
        ("Dev", "HOLDOUT"),
        ("validation", "eval"),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.write(&format!("s{i}.jsonl"), relabel(cal, test));
        let name = format!("usual{i}");
        let out = dir.run_out("sweep", &path, &name, &flags(&["--split-field", "part"]));
        assert_eq!(out.status.code(), Some(0), "{cal}/{test}: {}", stderr(&out));
        assert_eq!(
            holdout(&name)["held_out"],
            holdout("ref")["held_out"],
            "{cal}/{test}"
        );
    }
    let path = dir.write("pair.jsonl", relabel("a", "b"));
    let out = dir.run_out(
        "sweep",
        &path,
        "pair",
        &flags(&["--split-field", "part=a:b"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(holdout("pair")["held_out"], holdout("ref")["held_out"]);
    assert!(
        holdout("pair")["split"]
            .as_str()
            .unwrap()
            .contains("(a / b)")
    );

    // Unknown labels everywhere: no --skip-invalid advice.
    let out = dir.run_out("sweep", &path, "bad", &flags(&["--split-field", "part"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("every record, so dropping them would leave nothing"),
        "{err}"
    );
    assert!(!err.contains("pass --skip-invalid"), "{err}");
    let out = dir.run_out("sweep", &path, "bad2", &flags(&["--split-field", "part=a"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected COLUMN=CALIBRATION:TEST"));
}
