//! Segments, overrides and the deployable policy (issue 7), on `tests/data/segments.jsonl`
//! (every number worked by hand in tests/data/README.md).

use crate::harness::{Scratch, example, fixture, run, stderr, stdout};

/// The prices tests/data/README.md works segments.jsonl with (small 1, large 10), quietly.
const PRICES: &[&str] = &["--small-cost", "1", "--large-cost", "10", "-q"];

/// Quality 1 overall, each `seg` segment free to take its own threshold (the in-sample joint
/// optimum these hand-worked tests check: `--segment-departures free`).
const JOINT: &[&str] = &[
    "--min-quality",
    "1",
    "--segment-by",
    "seg",
    "--segment-departures",
    "free",
    "--min-segment-records",
    "1",
];

#[test]
fn per_segment_policy_meets_a_target_no_single_threshold_meets() {
    // Without segments no threshold reaches quality 1 (exit 1).
    let data = fixture("segments.jsonl");
    let out = run(
        "recommend",
        &data,
        &[PRICES, &["--min-quality", "1"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run("recommend", &data, &[PRICES, JOINT].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "seg=a\t0.7\nseg=b\talways_large\ndefault\talways_large\n"
    );
    let json = run(
        "recommend",
        &data,
        &[PRICES, JOINT, &["--print", "json"]].concat(),
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    // `found` is about one global threshold; the policy meets the objective without one.
    assert_eq!(v["found"], false);
    let p = &v["policy"];
    assert_eq!(p["segments"][0]["threshold"], 0.7);
    assert_eq!(p["segments"][1]["action"], "always_large");
    assert!(p.get("default_threshold").is_none());
    let m = &p["measured"];
    assert_eq!(m["cost_per_request"], 7.25);
    assert_eq!(m["non_escalated_quality"], 1.0);
    assert_eq!(m["cascade_quality"], 0.875);
    assert_eq!(m["savings_vs_large"], 0.275);
    assert_eq!(p["input_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(p["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn policy_prints_as_yaml_toml_and_env() {
    let data = fixture("segments.jsonl");
    let mut args = [PRICES, JOINT].concat();
    args.extend(["--print", "toml"]);
    let out = run("recommend", &data, &args);
    let t: toml::Table = toml::from_str(&stdout(&out)).unwrap();
    assert_eq!(t["segments"][0]["match"]["seg"].as_str(), Some("a"));
    assert_eq!(t["segments"][0]["threshold"].as_float(), Some(0.7));
    assert_eq!(t["measured"]["cost_per_request"].as_float(), Some(7.25));
    args.pop();
    args.push("yaml");
    let yaml = stdout(&run("recommend", &data, &args));
    assert!(
        yaml.contains(
            "\"segments\":\n  - \"action\": \"threshold\"\n    \"match\":\n      \"seg\": \"a\"\n"
        ),
        "{yaml}"
    );
    args.pop();
    args.push("env");
    let env = stdout(&run("recommend", &data, &args));
    assert!(
        env.contains("CALIBRATE_SEGMENTS_0_THRESHOLD=0.7\n"),
        "{env}"
    );
    assert!(
        env.contains("CALIBRATE_SEGMENTS_1_ACTION='always_large'\n"),
        "{env}"
    );
}

#[test]
fn single_threshold_stays_a_bare_number() {
    let out = run(
        "recommend",
        fixture("segments.jsonl"),
        &[PRICES, &["--min-quality", "0.6"]].concat(),
    );
    assert_eq!(stdout(&out), "0.4\n");
}

#[test]
fn override_changes_cost_and_quality_as_computed_by_hand() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("segments.jsonl"),
        "r",
        &[
            PRICES,
            &["--min-quality", "0.6", "--always-large", "tier=enterprise"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    let m = &v["recommendation"]["metrics"];
    assert_eq!(m["threshold"], 0.6);
    assert_eq!(m["cost_per_request"], 4.75);
    assert_eq!(m["non_escalated_quality"], 0.6);
    assert_eq!(m["cascade_quality"], 0.625);
    let e = &v["safeguards"][0];
    assert_eq!(e["safeguard"], "tier=enterprise");
    assert_eq!(e["matched"], 2);
    assert_eq!(e["only_this_safeguard"], 2);
    assert_eq!(e["moved_to_large"], 1);
    assert_eq!(e["with"]["cost_per_request"], 4.75);
    assert_eq!(e["without"]["cost_per_request"], 3.5);
    assert_eq!(e["without"]["non_escalated_quality"], 4.0 / 6.0);
    assert_eq!(e["without"]["cascade_quality"], 0.625);
    let md = dir.text("r/report.md");
    assert!(md.contains("## Safeguards"), "{md}");
    assert!(
        md.contains("| tier=enterprise | 2 | 2 | 1 | 4.750 | 3.500 |"),
        "{md}"
    );
}

#[test]
fn sweep_writes_segment_tables_and_the_policy() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("segments.jsonl"),
        "r",
        &[PRICES, JOINT].concat(),
    );
    // No single threshold meets the objective, but the per-segment policy does: exit 0.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("per-segment policy meets the objective"),
        "{}",
        stdout(&out)
    );
    let csv = dir.text("r/segments.csv");
    assert!(csv.starts_with("segment,row,records,threshold,"), "{csv}");
    assert!(csv.contains("\nseg=a,policy,4,0.7,3,1,"), "{csv}");
    let v = dir.json("r/summary.json");
    assert_eq!(v["policy"]["measured"]["cost_per_request"], 7.25);
    assert_eq!(v["segments"]["segments"][1]["always_large"], true);
    let md = dir.text("r/report.md");
    assert!(md.contains("## Segments by seg"), "{md}");
    assert!(md.contains("## Deployable policy"), "{md}");
}

#[test]
fn segment_and_override_errors_name_the_column() {
    let data = fixture("segments.jsonl");
    let out = run(
        "recommend",
        &data,
        &[PRICES, &["--segment-by", "nope", "--min-quality", "0.6"]].concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no column \"nope\" for field --segment-by nope"),
        "{err}"
    );
    let out = run(
        "recommend",
        &data,
        &[PRICES, &["--always-large", "tier"]].concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected FIELD=VALUE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn overrides_that_send_everything_large_are_an_error() {
    let out = run(
        "recommend",
        fixture("segments.jsonl"),
        &[
            PRICES,
            &[
                "--always-large",
                "tier=free",
                "--always-large",
                "tier=enterprise",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("every record escalates"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn example_data_joint_thresholds_beat_the_best_single_threshold() {
    // Issue 7 acceptance, on the committed example data.
    let out = run(
        "recommend",
        example("example.jsonl"),
        &[
            "--min-quality",
            "0.95",
            "--segment-by",
            "task_type",
            "--print",
            "json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let joint = v["policy"]["measured"]["cost_per_request"]
        .as_f64()
        .unwrap();
    let single = v["metrics"]["cost_per_request"].as_f64().unwrap();
    assert!(joint <= single, "joint {joint} single {single}");
    assert!(
        v["policy"]["measured"]["non_escalated_quality"]
            .as_f64()
            .unwrap()
            >= 0.95
    );
}

#[test]
fn held_out_records_check_the_whole_policy() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("segments-split.jsonl"),
        "r",
        &[
            PRICES,
            &[
                "--min-quality",
                "0.75",
                "--segment-by",
                "seg",
                "--segment-departures",
                "free",
            ],
            &["--min-segment-records", "1", "--split-field", "part"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    assert_eq!(v["recommendation"]["metrics"]["threshold"], 0.7);
    assert_eq!(v["recommendation"]["metrics"]["cost_per_request"], 4.75);
    let p = &v["policy"];
    assert_eq!(p["segments"][0]["threshold"], 0.7);
    assert_eq!(p["segments"][1]["threshold"], 0.5);
    assert_eq!(p["measured"]["cost_per_request"], 3.5);
    assert_eq!(p["measured"]["cascade_quality"], 0.75);
    let h = &v["holdout"];
    assert_eq!(h["held_out"]["non_escalated_quality"], 1.0);
    assert_eq!(h["policy"]["held_out"]["non_escalated_quality"], 1.0);
    assert_eq!(h["policy"]["held_out"]["cost_per_request"], 3.5);
    assert_eq!(h["policy"]["held_out"]["cascade_quality"], 1.0);
    assert_eq!(h["policy"]["met_objective"], true);
    let md = dir.text("r/report.md");
    // The routed alternative for b: cost 6 against 3.5.
    assert!(
        md.contains("No threshold meets the target on seg=b alone"),
        "{md}"
    );
    assert!(
        md.contains("would cost 6.000 per request against 3.500"),
        "{md}"
    );
}

#[test]
fn csv_labels_line_up_with_kept_records_after_blank_lines_and_drops() {
    // Both passes must number CSV records alike, blank lines included: otherwise, under
    // --skip-invalid, labels would silently shift by one record.
    let dir = Scratch::new();
    let path = dir.write(
        "i.csv",
        "seg,confidence,small_quality\na,0.9,1\n\nb,0.8,1\nc,0.7,0\nd,oops,1\n",
    );
    let out = run(
        "recommend",
        &path,
        &[
            "--skip-invalid",
            "--segment-by",
            "seg",
            "--segment-departures",
            "free",
            "--min-segment-records",
            "1",
            "--min-quality",
            "0.5",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // a (0.9, right), b (0.8, right), c (0.7, wrong); d was dropped. Each segment keeps its one
    // record at quality ≥ 0.5 pooled: a, b accepted; c accepted too (pooled 2/3).
    assert_eq!(
        stdout(&out),
        "seg=a\t0.9\nseg=b\t0.8\nseg=c\t0.7\ndefault\t0.7\n"
    );
}

#[test]
fn joint_thresholds_under_a_cascade_quality_target() {
    // tests/data/README.md: every single threshold accepts the wrong r5 (large right), so only
    // "escalate everything" keeps cascade quality at 7/8; per segment, a at 0.7 and b all
    // large keep it at 0.875 for (8 + 5 × 10)/8 = 7.25 per request.
    let out = run(
        "recommend",
        fixture("segments.jsonl"),
        &[
            PRICES,
            &[
                "--min-cascade-quality",
                "0.875",
                "--segment-by",
                "seg",
                "--segment-departures",
                "free",
                "--min-segment-records",
                "1",
                "--print",
                "json",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metrics"]["accepts_none"], true);
    // Escalating everything is always-large: 10 per request, the small model not run.
    assert_eq!(v["metrics"]["cost_per_request"], 10.0);
    let p = &v["policy"];
    assert_eq!(p["objective"]["kind"], "min_cascade_quality");
    assert_eq!(p["segments"][0]["threshold"], 0.7);
    assert_eq!(p["segments"][1]["action"], "always_large");
    assert_eq!(p["measured"]["cascade_quality"], 0.875);
    assert_eq!(p["measured"]["cost_per_request"], 7.25);
}

#[test]
fn a_segment_a_safeguard_sends_to_the_large_model_still_pays_the_small_model() {
    // Worked by hand (small cost 1, large 10, per record): t=a accepts its 0.9 record and
    // escalates the other, 1 + 1 + 10 = 12 over 2 records, 6 each; t=b goes wholly to the large
    // model by --always-large, and the small model is still paid on it (README, Safeguards):
    // 11 each, 1 of it wasted. The policy: (12 + 22) / 4 = 8.5, the segments' weighted mean.
    let s = Scratch::new();
    let row = |c: f64, q: u8, t: &str| {
        format!(
            "{{\"confidence\":{c},\"small_quality\":{q},\"large_quality\":1,\"small_cost\":1,\
             \"large_cost\":10,\"t\":\"{t}\"}}\n"
        )
    };
    let text = row(0.9, 1, "a") + &row(0.2, 0, "a") + &row(0.9, 1, "b") + &row(0.5, 1, "b");
    let eval = s.write("s.jsonl", text);
    let flags = [
        "--min-quality",
        "0.9",
        "--segment-by",
        "t",
        "--always-large",
        "t=b",
        "-q",
    ];
    let out = s.run_out("sweep", &eval, "out", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = s.text("out/segments.csv");
    let policy_cost = |segment: &str| -> (f64, f64) {
        let line = (csv.lines())
            .find(|l| l.starts_with(&format!("{segment},policy,")))
            .unwrap();
        let cells: Vec<&str> = line.split(',').collect();
        (cells[9].parse().unwrap(), cells[10].parse().unwrap())
    };
    assert_eq!(policy_cost("t=a"), (6.0, 0.5));
    assert_eq!(policy_cost("t=b"), (11.0, 1.0));
    let summary = s.json("out/summary.json");
    assert_eq!(summary["policy"]["measured"]["cost_per_request"], 8.5);
}
