//! Issue 14 (daily use): the CLI as a new user meets it. Help grouped under headings and pinned
//! by snapshots, negative numbers reaching the range check, a did-you-mean for mistyped fields,
//! and `recommend` with the hold-out flags `sweep` has.

use crate::harness::{Scratch, calibrate, example, fixture, run, stderr, stdout};

/// `--help` of the top level and of every command, exactly as printed.
#[test]
fn help_is_grouped_under_headings() {
    for command in ["", "sweep", "recommend", "signals", "economics", "monitor"] {
        let mut cmd = calibrate();
        if !command.is_empty() {
            cmd.arg(command);
        }
        let out = cmd.arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let name = if command.is_empty() { "top" } else { command };
        insta::assert_snapshot!(format!("help_{name}"), stdout(&out));
    }
    // The grouping a user scans for (ripgrep-style headings), in every eval-set command.
    let sweep = stdout(&calibrate().args(["sweep", "--help"]).output().unwrap());
    for heading in [
        "Input:",
        "Objective:",
        "Costs:",
        "Trust:",
        "Segments:",
        "Signals:",
        "Output:",
    ] {
        assert!(sweep.contains(heading), "missing {heading}");
    }
}

/// The `--field` help names every logical and raw field the loader accepts.
#[test]
fn field_help_lists_every_field() {
    let help = stdout(&calibrate().args(["sweep", "--help"]).output().unwrap());
    let start = help.find("--field <FIELD=COLUMN>").unwrap();
    let field_help = &help[start..];
    let field_help = &field_help[..field_help.find("\n\n").unwrap()];
    for name in [
        "confidence",
        "small_quality",
        "large_quality",
        "small_cost",
        "large_cost",
        "input_tokens",
        "small_output_tokens",
        "large_output_tokens",
        "small_latency_ms",
        "large_latency_ms",
        "task_type",
        "id",
        "split",
        "logprobs",
        "self_reported",
        "samples",
        "response",
    ] {
        assert!(field_help.contains(name), "--field help lacks {name}");
    }
}

/// `--min-quality -0.1` used to read "unexpected argument '-0' found"; the range check speaks.
#[test]
fn negative_numbers_get_the_real_error() {
    let data = example("example.jsonl");
    for (flag, value) in [
        ("--min-quality", "-0.1"),
        ("--max-escalation", "-1"),
        ("--budget", "-5"),
        ("--small-cost", "-1"),
    ] {
        let out = run("recommend", &data, &[flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = stderr(&out);
        assert!(err.contains(flag) && err.contains(value), "{flag}: {err}");
        assert!(!err.contains("unexpected argument"), "{flag}: {err}");
    }
}

/// A mistyped logical field is answered with the closest name, as clap does for flags.
#[test]
fn mistyped_field_gets_a_suggestion() {
    let out = run(
        "sweep",
        example("example.jsonl"),
        &["--field", "small_qualty=correct"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean \"small_quality\"?"),
        "{}",
        stderr(&out)
    );
    // Nothing close: no guess.
    let out = run(
        "sweep",
        example("example.jsonl"),
        &["--field", "zzz=correct"],
    );
    assert!(!stderr(&out).contains("did you mean"), "{}", stderr(&out));
}

/// `recommend --holdout` prints the threshold chosen on the calibration part, which is the one
/// `sweep --holdout` reports, and says on stderr how it did on the held-out records.
#[test]
fn recommend_takes_the_holdout_flags() {
    let data = example("example.jsonl");
    let flags = ["--min-quality", "0.95", "--holdout", "0.3", "--quiet"];
    let out = run("recommend", &data, &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let threshold: f64 = stdout(&out).trim().parse().unwrap();
    assert!(
        stderr(&out).contains("held out (1500 records)"),
        "{}",
        stderr(&out)
    );

    let json = run(
        "recommend",
        &data,
        &[&flags[..], &["--print", "json"]].concat(),
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["holdout"]["test_records"], 1500);
    assert_eq!(v["holdout"]["calibration_records"], 3500);
    assert_eq!(v["metrics"]["threshold"].as_f64(), Some(threshold));
    assert_eq!(
        v["holdout"]["promised"]["threshold"].as_f64(),
        Some(threshold)
    );

    // The same split, seed and objective in `sweep` choose the same threshold.
    let dir = tempfile::tempdir().unwrap();
    let sweep = calibrate()
        .arg("sweep")
        .arg(&data)
        .args(flags)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(sweep.status.code(), Some(0), "{}", stderr(&sweep));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["recommendation"]["metrics"]["threshold"].as_f64(),
        Some(threshold)
    );

    // And without a hold-out flag the text output is unchanged: just the threshold.
    let plain = run("recommend", &data, &["--min-quality", "0.95", "--quiet"]);
    assert!(!stderr(&plain).contains("held out"));
}

/// Records with output tokens but no input_tokens are priced on their output alone, and the
/// summary says so. Expected values by hand from `tests/data/tokens.jsonl` without its
/// input_tokens: small r1..r4 = 200, 100, 400, 300 × 1.25 / 1e6, total 0.00125 (0.0003125 per
/// request); large (output estimated as the small model's) × 75 / 1e6 = 0.015, 0.0075, 0.03,
/// 0.0225, total 0.075 (0.01875 per request).
#[test]
fn output_only_pricing() {
    let dir = Scratch::new();
    let text = std::fs::read_to_string(fixture("tokens.jsonl")).unwrap();
    let stripped: String = text
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v.as_object_mut().unwrap().remove("input_tokens");
            v.to_string() + "\n"
        })
        .collect();
    let input = dir.write("output-only.jsonl", stripped);
    let flags = [
        "--price",
        "small=0.25:1.25",
        "--price",
        "large=15:75",
        "--quiet",
    ];
    let out = dir.run_out("sweep", &input, "r", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    let close = |x: &serde_json::Value, want: f64| (x.as_f64().unwrap() - want).abs() < 1e-15;
    assert!(
        close(
            &v["baselines"]["always_small"]["cost_per_request"],
            0.0003125
        ),
        "{v}"
    );
    assert!(
        close(&v["baselines"]["always_large"]["cost_per_request"], 0.01875),
        "{v}"
    );
    for model in ["small_cost", "large_cost"] {
        assert_eq!(
            v["settings"][model]["input_tokens"],
            "absent: only output tokens are priced"
        );
    }
    assert!(dir.text("r/report.md").contains("output tokens only"));
    // With input tokens the field is absent: nothing changes for existing reports.
    let full = dir.run_out("sweep", fixture("tokens.jsonl"), "full", &flags);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    assert!(dir.json("full/summary.json")["settings"]["small_cost"]["input_tokens"].is_null());
}

/// `calibrate completions SHELL` writes a script for that shell, naming the commands and flags.
#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_calibrate()"),
        ("zsh", "#compdef calibrate"),
        ("fish", "complete -c calibrate"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[calibrate]"),
    ] {
        let out = calibrate().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: no {marker}");
        assert!(script.contains("min-quality"), "{shell}: no --min-quality");
        assert!(script.contains("recommend"), "{shell}: no recommend");
    }
    let out = calibrate().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `calibrate man` writes a roff manual page with the commands in it.
#[test]
fn man_page() {
    let out = calibrate().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(page.contains(".TH calibrate 1"), "{page}");
    for command in ["sweep", "recommend", "signals", "economics"] {
        assert!(page.contains(command), "no {command}");
        // Each command's own page, with its flags (clap_mangen escapes `-` as `\-`).
        let out = calibrate().args(["man", command]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let page = stdout(&out);
        assert!(
            page.contains(&format!(".TH calibrate-{command} 1")),
            "{page}"
        );
        assert!(
            page.contains("\\-\\-quiet") || command == "economics",
            "{command}"
        );
    }
    let sweep = stdout(&calibrate().args(["man", "sweep"]).output().unwrap());
    assert!(sweep.contains("\\-\\-split\\-field"));
}

/// `scripts/check_router.py` on an eval set whose quality column has another name: a one-line
/// message naming the flag (it was a KeyError traceback), and agreement once the flag is given.
#[test]
fn check_router_names_a_missing_column() {
    let dir = Scratch::new();
    let data = example("gastro-confidence/gastro-gpt4omini-to-gpt4o.jsonl");
    let fields = [
        "--field",
        "small_quality=small_correct",
        "--field",
        "large_quality=large_correct",
        "--print",
        "json",
        "--quiet",
    ];
    let policy = run("recommend", &data, &fields);
    assert_eq!(policy.status.code(), Some(0), "{}", stderr(&policy));
    let policy_path = dir.write("policy.json", &policy.stdout);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_router.py");
    let check = |extra: &[&str]| {
        std::process::Command::new("python3")
            .arg(&script)
            .arg(&data)
            .arg(&policy_path)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(":1: no field 'small_quality'") && err.contains("--quality-field"));
    assert!(!err.contains("Traceback"), "{err}");
    let out = check(&["--quality-field", "small_correct"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("agree"));
}

/// `--where` keeps the records that match every condition, says how many, and records it in the
/// summary. By hand on `tiny.jsonl`: chat = a (0.9, right), b (0.8, right), e (0.5, wrong), so
/// `--min-quality 0.95` picks 0.8; the rest = c (0.7, wrong), d (0.6, right), where
/// `--min-quality 0.5` picks 0.6 (both accepted, quality 1/2).
#[test]
fn where_filters_rows() {
    let tiny = fixture("tiny.jsonl");
    let out = run(
        "recommend",
        &tiny,
        &["--where", "task_type=chat", "--min-quality", "0.95"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0.8\n");
    assert!(stderr(&out).contains("--where task_type=chat kept 3 of 5 records"));

    let out = run(
        "recommend",
        &tiny,
        &["--where", "task_type!=chat", "--min-quality", "0.5"],
    );
    assert_eq!(stdout(&out), "0.6\n", "{}", stderr(&out));
    assert!(stderr(&out).contains("kept 2 of 5 records"));

    // Conditions combine: chat and not a confident-looking id.
    let out = run(
        "recommend",
        &tiny,
        &[
            "--where",
            "task_type=chat",
            "--where",
            "id!=a",
            "--print",
            "json",
        ],
    );
    assert!(
        stderr(&out).contains("kept 2 of 5 records"),
        "{}",
        stderr(&out)
    );

    let out = run("recommend", &tiny, &["--where", "task_type=legal"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--where task_type=legal: no record matches"));
    let out = run("recommend", &tiny, &["--where", "task_type"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected FIELD=VALUE or FIELD!=VALUE"));

    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        &tiny,
        "r",
        &["--where", "task_type=chat", "--quiet"],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let v = dir.json("r/summary.json");
    assert_eq!(v["input"]["where"]["kept"], 3);
    assert_eq!(v["input"]["where"]["removed"], 2);
    assert_eq!(v["input"]["where"]["conditions"][0], "task_type=chat");
    assert!(
        dir.text("r/report.md")
            .contains("3 kept by `--where task_type=chat`")
    );
}

/// `calibrate signals` lists as left out every column that is not a number in every record,
/// including one that first appears after the first record (it used to look at the first
/// record's keys only).
#[test]
fn signals_lists_columns_that_appear_late() {
    let dir = Scratch::new();
    let input = dir.write(
        "late.jsonl",
        "{\"confidence\":0.9,\"small_quality\":1,\"score\":0.8}\n\
         {\"confidence\":0.7,\"small_quality\":0,\"score\":0.2,\"late\":0.5}\n\
         {\"confidence\":0.6,\"small_quality\":1,\"score\":0.6,\"note\":\"x\"}\n\
         {\"confidence\":0.4,\"small_quality\":0,\"score\":0.1}\n",
    );
    let out = dir.run_out("signals", &input, "s", &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = dir.json("s/signals.json");
    let left_out: Vec<&str> = (v["columns_not_numeric"].as_array().unwrap().iter())
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(left_out, ["late", "note"]);
    // `score` is a number everywhere: compared as a signal.
    assert!(dir.text("s/signals.md").contains("score"));
}

/// `recommend --bootstrap N --print json` carries the recommended threshold's intervals and its
/// spread across resamples: the same numbers `sweep` reports with the same seed (each resample
/// draws from its own seeded stream, whatever else is computed).
#[test]
fn recommend_takes_the_interval_flags() {
    let data = example("example.jsonl");
    let flags = ["--min-quality", "0.95", "--bootstrap", "40", "--quiet"];
    let out = run(
        "recommend",
        &data,
        &[&flags[..], &["--print", "json"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let u = &v["uncertainty"];
    assert_eq!(u["bootstrap_resamples"], 40);
    assert_eq!(u["level"], 0.95);

    let dir = Scratch::new();
    let sweep = dir.run_out("sweep", &data, "r", &flags);
    assert_eq!(sweep.status.code(), Some(0), "{}", stderr(&sweep));
    let summary = dir.json("r/summary.json");
    assert_eq!(u["recommended"], summary["uncertainty"]["recommended"]);
    assert_eq!(
        u["recommended_threshold_spread"],
        summary["uncertainty"]["recommended_threshold_spread"]
    );
    // Without the flags, no intervals are computed or printed.
    let plain = run(
        "recommend",
        &data,
        &["--min-quality", "0.95", "--print", "json", "--quiet"],
    );
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v.get("uncertainty").is_none());
    let bad = run("recommend", &data, &["--level", "1.5"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Review of issue 14's features: `--where` reaches `calibrate signals` (and its columns are
/// not tried as signals), numeric split labels work, a split column read as another field is a
/// clear error, and the deployed policy carries its `--where` scope so a router check agrees.
#[test]
fn where_and_split_edges() {
    let dir = Scratch::new();
    let input = dir.write(
        "e.jsonl",
        "{\"confidence\":0.9,\"small_quality\":1,\"tier\":1,\"fold\":0,\"score\":0.8}\n\
         {\"confidence\":0.8,\"small_quality\":1,\"tier\":2,\"fold\":0,\"score\":0.7}\n\
         {\"confidence\":0.7,\"small_quality\":0,\"tier\":1,\"fold\":1,\"score\":0.2}\n\
         {\"confidence\":0.6,\"small_quality\":1,\"tier\":1,\"fold\":0,\"score\":0.9}\n\
         {\"confidence\":0.5,\"small_quality\":0,\"tier\":1,\"fold\":1,\"score\":0.1}\n\
         {\"confidence\":0.4,\"small_quality\":1,\"tier\":1,\"fold\":0,\"score\":0.6}\n",
    );
    // signals with --where: kept 5 of 6; `tier` is a condition, not a candidate signal.
    let out = dir.run_out("signals", &input, "s", &["--where", "tier=1", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kept 5 of 6 records"),
        "{}",
        stderr(&out)
    );
    let md = dir.text("s/signals.md");
    assert!(md.contains("score") && !md.contains("`tier`"), "{md}");

    // Numeric fold labels: `fold=0:1` holds out the two fold-1 records.
    let out = dir.run_out(
        "sweep",
        &input,
        "f",
        &["--split-field", "fold=0:1", "--quiet"],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    assert_eq!(dir.json("f/summary.json")["holdout"]["test_records"], 2);

    let out = dir.run_out("sweep", &input, "c", &["--split-field", "confidence"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("read as another field"),
        "{}",
        stderr(&out)
    );
    let out = dir.run_out("sweep", &input, "c", &["--field", "split=fold"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--split-field fold"),
        "{}",
        stderr(&out)
    );

    // The policy says which traffic it is for.
    let out = run(
        "recommend",
        &input,
        &[
            "--where",
            "tier!=2",
            "--min-quality",
            "0.6",
            "--print",
            "json",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["policy"]["where"],
        serde_json::json!([{"field": "tier", "op": "!=", "value": "2"}])
    );
    let policy = dir.write("policy.json", &out.stdout);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_router.py");
    let check = std::process::Command::new("python3")
        .arg(&script)
        .arg(&input)
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );

    // Intervals print with --print json only.
    let out = run("recommend", &input, &["--bootstrap", "10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--print json"));
}
