//! Output hardening (issue 13, the output half): stderr that cannot be written, `--out` paths
//! refused before the work, nothing left behind by a failed run, and bounds on what is
//! repeated, drawn or resampled. The report directory's swap itself is unit-tested beside the
//! writer (src/output/writer/tests.rs).

use std::fs;
use std::process::Stdio;

use crate::harness::{Scratch, calibrate, fixture, run, stderr, stdout};

/// `calibrate sweep tiny.jsonl --out DIR -q` with stderr sent to `err`.
fn sweep_with_stderr(scratch: &Scratch, err: Stdio) -> std::process::Output {
    let mut cmd = std::process::Command::new(calibrate().get_program());
    cmd.arg("sweep")
        .arg(fixture("tiny.jsonl"))
        .arg("--out")
        .arg(scratch.join("r"))
        .stdout(Stdio::piped())
        .stderr(err);
    cmd.output().unwrap()
}

#[test]
fn a_closed_stderr_does_not_panic() {
    // `calibrate sweep ... 2>&1 | head -1` closed stderr after one line: exit 101.
    let scratch = Scratch::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = sweep_with_stderr(&scratch, writer.into());
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("recommended threshold 0.6"));
    assert!(scratch.join("r/summary.json").is_file());
    // An error with a closed stderr: exit 2, not a panic.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(calibrate().get_program())
        .args(["sweep", "no-such-file.jsonl"])
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stderr_does_not_panic() {
    // `2>/dev/full`: every write fails with ENOSPC.
    let scratch = Scratch::new();
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = sweep_with_stderr(&scratch, full.into());
    assert_eq!(out.status.code(), Some(0));
    assert!(scratch.join("r/summary.json").is_file());
}

#[cfg(unix)]
#[test]
fn out_dot_and_a_dangling_symlink_fail_before_the_input_is_read() {
    // The input does not exist: the --out error coming first shows the check runs first.
    let scratch = Scratch::new();
    let out = run("sweep", scratch.join("missing.jsonl"), &["--out", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: .: cannot be the report directory"),
        "{}",
        stderr(&out)
    );
    let link = scratch.join("link");
    std::os::unix::fs::symlink(scratch.join("nowhere"), &link).unwrap();
    let out = scratch.run_out("signals", scratch.join("missing.jsonl"), "link", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("link: is a symbolic link to") && err.contains("does not exist"));
    assert!(!err.contains("missing.jsonl"), "{err}");
}

#[test]
fn a_failed_run_leaves_no_directory_behind() {
    // The analysis fails after --out's parents were created: they are removed again, and no
    // staging directory is left.
    let scratch = Scratch::new();
    let out = scratch.run_out(
        "sweep",
        fixture("tiny.jsonl"),
        "a/b/r",
        &["--segment-by", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn a_long_segment_label_is_written_once_whole_and_shortened_in_segments_csv() {
    // A 1 MB label was repeated on every grid row of segments.csv (50 MB made 5.3 GB).
    let scratch = Scratch::new();
    let long = "L".repeat(1_000_000);
    let mut lines = String::new();
    for (i, seg) in ["a", long.as_str()].iter().enumerate() {
        for k in 0..5 {
            let c = 0.1 + 0.2 * k as f64;
            lines += &format!(
                "{{\"confidence\":{c},\"small_quality\":{},\"large_quality\":1,\"s\":\"{seg}\"}}\n",
                (k + i) % 2
            );
        }
    }
    let input = scratch.write("long.jsonl", lines);
    let flags = ["--segment-by", "s", "--min-segment-records", "1", "-q"];
    let out = scratch.run_out("sweep", &input, "r", &flags);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let csv = scratch.text("r/segments.csv");
    assert!(csv.len() < 100_000, "segments.csv is {} bytes", csv.len());
    let shortened = format!("s={}…[1000002 bytes, sha256 ", "L".repeat(198));
    assert!(csv.contains(&shortened));
    let summary = scratch.text("r/summary.json");
    assert!(summary.contains(&long));
}

#[test]
fn costs_that_overflow_are_an_error_not_null_costs() {
    // 1.7e308 + 1.7e308 overflows f64: this printed "found": true with null costs. Since issue
    // 18 (exact sums in fixed units) a cost per request must be below 1e30.
    let flags = [
        "--small-cost",
        "1.7e308",
        "--large-cost",
        "1.7e308",
        "--max-escalation",
        "0.5",
        "--print",
        "json",
    ];
    let out = run("recommend", fixture("tiny.jsonl"), &flags);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("a small model cost of 1.7e308 per request is too large"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bootstrap_resamples_above_the_bound_are_refused_before_the_work() {
    // A million resamples of 200 records took 13.6 GB.
    let scratch = Scratch::new();
    let out = scratch.run_out("sweep", "missing.jsonl", "r", &["--bootstrap", "1000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --bootstrap: expected at most 100000 resamples, found 1000000\n"
    );
}

#[test]
fn print_env_refuses_columns_that_become_one_variable() {
    // `user-tier` and `user_tier` both became CALIBRATE_..._USER_TIER: one condition was lost.
    // segments.jsonl with its two label columns renamed to those names.
    let scratch = Scratch::new();
    let data = fs::read_to_string(fixture("segments.jsonl")).unwrap();
    let data = data
        .replace("\"seg\"", "\"user-tier\"")
        .replace("\"tier\"", "\"user_tier\"");
    let input = scratch.write("tiers.jsonl", data);
    let mut flags = vec![
        "--small-cost",
        "1",
        "--large-cost",
        "10",
        "-q",
        "--min-quality",
        "1",
        "--segment-by",
        "user-tier",
        "--segment-by",
        "user_tier",
        "--min-segment-records",
        "1",
        // Every segment at its own threshold, so the policy has two conditions to print.
        "--segment-departures",
        "free",
        "--print",
        "env",
    ];
    let out = run("recommend", &input, &flags);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains(r#"segments[0].match."user-tier" and segments[0].match.user_tier both become the shell variable CALIBRATE_SEGMENTS_0_MATCH_USER_TIER"#),
        "{err}"
    );
    // The same policy prints as YAML, both conditions kept.
    *flags.last_mut().unwrap() = "yaml";
    let out = run("recommend", &input, &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"user-tier\": \"a\"\n      \"user_tier\": \"enterprise\""));
}

#[test]
fn a_report_never_replaces_the_directory_holding_its_input() {
    // `monitor --against polrep/summary.json --out polrep` swapped the monitor's files in for the
    // sweep report, deleting the policy it had just read. Every report command refuses an
    // --out that holds one of its inputs, and leaves it as it was.
    let s = Scratch::new();
    let eval = crate::harness::example("example.jsonl");
    let out = s.run_out(
        "sweep",
        &eval,
        "polrep",
        &["--min-quality", "0.95", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = s.read("polrep/summary.json");
    let logs = crate::harness::example("example-logs.jsonl.gz");
    let monitor = calibrate()
        .arg("monitor")
        .arg(&logs)
        .arg("--against")
        .arg(s.join("polrep/summary.json"))
        .arg("--out")
        .arg(s.join("polrep"))
        .output()
        .unwrap();
    assert_eq!(monitor.status.code(), Some(2), "{}", stderr(&monitor));
    assert!(
        stderr(&monitor).contains("this input is inside --out"),
        "{}",
        stderr(&monitor)
    );
    assert!(s.read("polrep/summary.json") == before);
    let copy = s.write("polrep/eval.jsonl", std::fs::read(&eval).unwrap());
    let again = s.run_out("sweep", &copy, "polrep", &["--quiet"]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(copy.exists() && s.read("polrep/summary.json") == before);
}
