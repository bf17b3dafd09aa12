//! `calibrate monitor` (issue 17): logs generated from the example policy's own reference, each
//! injected fault raising its alert with its window and segment, clean logs staying quiet over
//! many seeds, the report files, exit codes and input errors.

use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;

use crate::harness::{Scratch, calibrate, example, stderr, stdout};
use crate::logs_gen::{Faults, generate};

/// The policy `recommend --min-quality 0.95 --print json` writes for data/example.jsonl
/// (segments by task_type in its reference), computed once for the whole test binary.
pub fn policy() -> &'static (PathBuf, serde_json::Value) {
    static POLICY: OnceLock<(PathBuf, serde_json::Value)> = OnceLock::new();
    POLICY.get_or_init(|| {
        let out = calibrate()
            .args([
                "recommend",
                "--min-quality",
                "0.95",
                "--print",
                "json",
                "--quiet",
            ])
            .arg(example("example.jsonl"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let dir = std::env::temp_dir().join(format!("calibrate-monitor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy.json");
        std::fs::write(&path, &out.stdout).unwrap();
        (path, serde_json::from_slice(&out.stdout).unwrap())
    })
}

/// Ten days of 2,000 requests a day, as JSON Lines.
fn logs(seed: u64, faults: &Faults) -> String {
    generate(&policy().1, seed, 10, 2000, faults)
}

/// Runs `monitor` on `text` with `flags`; the report goes to DIR/out.
fn monitor(s: &Scratch, text: &str, flags: &[&str]) -> Output {
    let logs = s.write("logs.jsonl", text);
    calibrate()
        .arg("monitor")
        .arg(logs)
        .arg("--against")
        .arg(&policy().0)
        .arg("--quiet")
        .args(flags)
        .arg("--out")
        .arg(s.join("out"))
        .output()
        .unwrap()
}

/// Runs `monitor` on the file `logs` against the example policy; the report goes to DIR/out.
fn monitor_file(s: &Scratch, logs: &std::path::Path) -> Output {
    monitor_against(s, logs, &policy().0)
}

/// Runs `monitor` on the file `logs` against the policy `against`; the report goes to DIR/out.
fn monitor_against(s: &Scratch, logs: &std::path::Path, against: &std::path::Path) -> Output {
    calibrate()
        .arg("monitor")
        .arg(logs)
        .arg("--against")
        .arg(against)
        .args(["--quiet", "--out"])
        .arg(s.join("out"))
        .output()
        .unwrap()
}

/// The alert lines of stdout.
fn alerts(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| l.starts_with("alert "))
        .map(String::from)
        .collect()
}

fn day(d: u32) -> String {
    format!("2026-01-{:02}", d + 1)
}

#[test]
fn clean_logs_stay_quiet_over_twenty_seeds() {
    // Issue 17: Benjamini-Hochberg at q = 0.05 over every test of a run keeps the chance that a
    // clean run raises any alert at or below 5 % when every null hypothesis holds (and the
    // margin tests are conservative). 20 seeds: expect at most one; allow two (P(X >= 3) is
    // 7.5 % at exactly 5 %). The deterministic checks (conformance, ceiling) must never fire.
    let mut alarmed = 0;
    for seed in 0..20 {
        let s = Scratch::new();
        let out = monitor(&s, &logs(seed, &Faults::default()), &[]);
        let lines = alerts(&out);
        assert!(
            lines
                .iter()
                .all(|l| !l.contains("conformance") && !l.contains("ceiling")),
            "seed {seed}: {lines:?}"
        );
        if out.status.code() == Some(1) {
            alarmed += 1;
        } else {
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
    }
    assert!(alarmed <= 2, "{alarmed} of 20 clean runs alerted");
}

#[test]
fn a_confidence_shift_in_one_segment_alerts_drift_there_from_its_day() {
    let s = Scratch::new();
    let faults = Faults {
        shift: Some(("chat".into(), 5)),
        ..Faults::default()
    };
    let out = monitor(&s, &logs(3, &faults), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = alerts(&out);
    for d in 5..10 {
        let want = format!("alert {} task_type=chat signal drift", day(d));
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "{want}\n{lines:#?}"
        );
    }
    // No drift before the shift, and none in the segments left alone.
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("drift") && l.contains(&day(4)))
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("drift") && l.contains("task_type=code"))
    );
}

#[test]
fn a_router_escalating_at_the_threshold_breaks_conformance() {
    let s = Scratch::new();
    let faults = Faults {
        strict_router: Some(("code".into(), 3)),
        ..Faults::default()
    };
    let out = monitor(&s, &logs(4, &faults), &[]);
    assert_eq!(out.status.code(), Some(1));
    let lines = alerts(&out);
    let conformance: Vec<&String> = lines.iter().filter(|l| l.contains("conformance")).collect();
    assert!(conformance[0].starts_with(&format!("alert {} task_type=code conformance", day(3))));
    assert!(conformance.iter().all(|l| l.contains("task_type=code")));
    assert!(
        stdout(&out).contains("next: fix the router:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_worse_small_model_with_unchanged_confidence_fails_the_labelled_checks() {
    let s = Scratch::new();
    let faults = Faults {
        worse_small: Some(("summarization".into(), 5)),
        ..Faults::default()
    };
    let out = monitor(&s, &logs(5, &faults), &[]);
    assert_eq!(out.status.code(), Some(1));
    let lines = alerts(&out);
    // About 40 labelled small answers of the segment a day: the drop of 25 points shows in
    // most windows from day 5 on (power, not certainty, per window), never before.
    let flagged: Vec<u32> = (0..10)
        .filter(|d| {
            let calib = format!("alert {} task_type=summarization labelled", day(*d));
            lines
                .iter()
                .any(|l| l.starts_with(&calib) && l.contains("predicted"))
        })
        .collect();
    assert!(
        flagged.len() >= 2 && flagged.iter().all(|d| *d >= 5),
        "{flagged:?} {lines:#?}"
    );
    // The signal did not move: no drift anywhere.
    assert!(!lines.iter().any(|l| l.contains("drift")), "{lines:#?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("labelled") && l.contains(&day(3)))
    );
}

#[test]
fn escalation_creeping_past_forty_percent_hits_the_ceiling() {
    let s = Scratch::new();
    let faults = Faults {
        creep: true,
        ..Faults::default()
    };
    let out = monitor(&s, &logs(6, &faults), &[]);
    assert_eq!(out.status.code(), Some(1));
    let lines = alerts(&out);
    let ceiling: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("above the ceiling"))
        .collect();
    // Day d escalates about 26 % + 0.06 d x 74 %: past 40 % from day 4 (0-based) on.
    assert!(
        ceiling
            .iter()
            .any(|l| l.starts_with(&format!("alert {} all", day(9))))
    );
    assert!(!ceiling.iter().any(|l| l.contains(&day(1))), "{ceiling:#?}");
    // --max-escalation moves the ceiling.
    let s = Scratch::new();
    let out = monitor(&s, &logs(6, &faults), &["--max-escalation", "0.9"]);
    assert!(!stdout(&out).contains("above the ceiling"));
}

#[test]
fn small_answers_regenerated_four_times_as_often_alert_feedback() {
    let s = Scratch::new();
    let faults = Faults {
        regenerate_small: Some(5),
        ..Faults::default()
    };
    let out = monitor(&s, &logs(7, &faults), &[]);
    assert_eq!(out.status.code(), Some(1));
    let lines = alerts(&out);
    let want = format!(
        "alert {} all complaints correlate with the small model",
        day(5)
    );
    assert!(lines.iter().any(|l| l.starts_with(&want)), "{lines:#?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("complaints") && l.contains(&day(2)))
    );
}

#[test]
fn the_report_is_written_whole_and_reruns_byte_for_byte() {
    let s = Scratch::new();
    let text = logs(8, &Faults::default());
    let first = monitor(&s, &text, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("HEALTHY: 0 alerts, 0 warnings"));
    let names = [
        "monitor.md",
        "monitor.json",
        "monitor.csv",
        "escalation.svg",
        "escalation.png",
        "drift.svg",
        "drift.png",
    ];
    let bytes: Vec<Vec<u8>> = names.iter().map(|n| s.read(&format!("out/{n}"))).collect();
    let again = monitor(&s, &text, &[]);
    assert_eq!(again.status.code(), Some(0));
    for (n, b) in names.iter().zip(&bytes) {
        assert_eq!(&s.read(&format!("out/{n}")), b, "{n} differs on a rerun");
    }
    let json = s.json("out/monitor.json");
    assert_eq!(json["status"], "healthy");
    assert_eq!(json["records"], 20_000);
    // Ten windows x (all + six task types), then the whole run's seven rows.
    let csv = s.text("out/monitor.csv");
    assert_eq!(csv.lines().count(), 1 + 10 * 7 + 7);
    assert!(csv.lines().nth(1).unwrap().starts_with("2026-01-01,all,"));
    let md = s.text("out/monitor.md");
    for section in [
        "## Alerts",
        "## Funnel",
        "## Escalation over time",
        "## Signal drift",
        "## Quality",
        "## Cost",
        "## Feedback",
    ] {
        assert!(md.contains(section), "{section}");
    }
    assert!(md.find("## Alerts") < md.find("## Funnel"));
}

#[test]
fn warnings_fail_the_run_only_with_fail_on_warn() {
    // Requests of a task type the calibration never saw warn (routed by the default).
    let s = Scratch::new();
    let mut text = logs(9, &Faults::default());
    text.push_str("{\"timestamp\":1767225601,\"task_type\":\"poetry\",\"confidence\":0.9,\"escalated\":false}\n");
    let out = monitor(&s, &text, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("WARN:"), "{}", stdout(&out));
    let out = monitor(&s, &text, &["--fail-on", "warn"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn csv_logs_naming_the_model_read_like_json_lines() {
    // The same requests as CSV with `model` instead of `escalated` and a renamed signal.
    let text = logs(10, &Faults::default());
    let mut csv = String::from("ts,task_type,conf,model\n");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let ts = match &v["timestamp"] {
            serde_json::Value::String(s) => s.clone(),
            n => (n.as_i64().unwrap() * 1000).to_string(), // epoch milliseconds
        };
        let model = if v["escalated"] == true {
            "big-model"
        } else {
            "mini"
        };
        csv.push_str(&format!(
            "{ts},{},{},{model}\n",
            v["task_type"].as_str().unwrap(),
            v["confidence"]
        ));
    }
    let s = Scratch::new();
    let path = s.write("logs.csv", csv);
    let out = calibrate()
        .arg("monitor")
        .arg(&path)
        .arg("--against")
        .arg(&policy().0)
        .args([
            "--field",
            "timestamp=ts",
            "--field",
            "signal=conf",
            "--small-model",
            "mini",
        ])
        .args(["--quiet", "--out"])
        .arg(s.join("out"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let csv_json = s.json("out/monitor.json");
    assert_eq!(csv_json["records"], 20_000);
    // Every window, scope, escalation and drift figure equals the JSON Lines run's (epoch
    // milliseconds and RFC 3339 text land in the same windows; `model` gives `escalated`).
    let t = Scratch::new();
    let jsonl = monitor(&t, &text, &[]);
    assert_eq!(jsonl.status.code(), Some(0));
    let jsonl_json = t.json("out/monitor.json");
    assert_eq!(csv_json["windows"], jsonl_json["windows"]);
    let rows = |j: &serde_json::Value| -> Vec<String> {
        (j["rows"].as_array().unwrap().iter())
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r["window"], r["scope"], r["requests"], r["routed_escalation"], r["drift"]
                )
            })
            .collect()
    };
    assert_eq!(rows(&csv_json), rows(&jsonl_json));
    assert_eq!(csv_json["windows"][0], "2026-01-01");
}

#[test]
fn bad_log_records_name_file_line_and_field_and_exit_2() {
    let s = Scratch::new();
    let cases = [
        (
            "{\"timestamp\":1767225600,\"confidence\":\"high\",\"escalated\":true}",
            "logs.jsonl:2: field \"confidence\": expected a finite number, found \"high\"",
        ),
        (
            "{\"timestamp\":\"yesterday\",\"confidence\":0.5,\"escalated\":true}",
            "logs.jsonl:2: field \"timestamp\": expected RFC 3339 text",
        ),
        (
            "{\"timestamp\":1767225600,\"confidence\":0.5}",
            "logs.jsonl:2: field \"escalated\": expected a boolean, or a model field",
        ),
        (
            "{\"timestamp\":1767225600,\"confidence\":0.5,\"escalated\":\"maybe\"}",
            "logs.jsonl:2: field \"escalated\": expected a boolean",
        ),
        (
            "{\"timestamp\":1767225600,\"confidence\":0.5,\"escalated\":true,\"small_quality\":2}",
            "logs.jsonl:2: field \"small_quality\": expected a number in [0, 1]",
        ),
        ("not json", "logs.jsonl:2: expected a JSON object"),
    ];
    let good = "{\"timestamp\":1767225600,\"confidence\":0.5,\"escalated\":true}\n";
    for (bad, message) in cases {
        let out = monitor(&s, &format!("{good}{bad}\n"), &[]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(message), "{err}\nwanted {message}");
        assert!(!s.join("out").exists(), "nothing is written on an error");
    }
    // No records at all is an error too, not a healthy run.
    let out = monitor(&s, "\n", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("logs.jsonl: no log records"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_policy_without_a_reference_is_an_error() {
    let s = Scratch::new();
    let old = s.write("old.json", "{\"policy\":{\"signal\":{\"name\":\"confidence\"},\"objective\":{\"kind\":\"min_quality\",\"value\":0.9}}}");
    let logs = s.write("logs.jsonl", "");
    let out = monitor_against(&s, &logs, &old);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no \"reference\" block"),
        "{}",
        stderr(&out)
    );
}

/// The example policy with one of its reference's segments edited as a hand or a truncated copy
/// might: each is refused in one line naming the part, exit 2, and no report is written (before,
/// some stopped the run with a panic and others binned traffic against bins out of order).
#[test]
fn a_policy_whose_reference_is_malformed_is_refused_naming_the_part() {
    let s = Scratch::new();
    let text = logs(3, &Faults::default());
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 3] = [
        ("counts has 2 entries", |d| {
            d["counts"].as_array_mut().unwrap().truncate(2)
        }),
        ("expected ascending values", |d| {
            d["edges"].as_array_mut().unwrap().reverse()
        }),
        ("deciles has 0 entries", |d| {
            d["deciles"] = serde_json::json!([])
        }),
    ];
    for (want, edit) in edits {
        let mut policy = policy().1.clone();
        edit(&mut policy["policy"]["reference"]["segments"][1]);
        let against = s.write("edited.json", policy.to_string());
        let logs = s.write("logs.jsonl", &text);
        let out = monitor_against(&s, &logs, &against);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("edited.json") && err.contains(want), "{err}");
        assert!(err.contains("reference.segments[1] (task_type="), "{err}");
        assert!(!s.join("out").exists());
    }
}

/// Logs that lack a column the policy routes by (here its segments' `task_type`) are refused
/// naming it: before, every request fell in an "unseen segment" with a warning, and a missing
/// `where` or `always_large` column passed as healthy.
#[test]
fn logs_without_a_column_the_policy_routes_by_are_refused_naming_it() {
    let s = Scratch::new();
    let stripped: String = (logs(3, &Faults::default()).lines())
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            record.as_object_mut().unwrap().remove("task_type");
            format!("{record}\n")
        })
        .collect();
    let out = monitor(&s, &stripped, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "logs.jsonl: no record has a value for the column \"task_type\", which the \
             policy's segment_by names"
        ),
        "{err}"
    );
    assert!(!s.join("out").exists());
}

/// An eval set's aggregate handed to `monitor` as logs is named for what it is (before: "field
/// \"timestamp\" ... found nothing" on its first row).
#[test]
fn an_eval_sets_aggregate_given_as_logs_is_named_for_what_it_is() {
    let s = Scratch::new();
    let agg = s.join("agg.parquet");
    let built = calibrate()
        .arg("aggregate")
        .arg(example("example.jsonl"))
        .args(["--quiet", "--out"])
        .arg(&agg)
        .output()
        .unwrap();
    assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
    let out = monitor_file(&s, &agg);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("agg.parquet: an eval set's aggregate"),
        "{err}"
    );
}

#[test]
fn parquet_logs_read_like_json_lines() {
    use polars::prelude::*;
    // Two days of generated requests, every timestamp as epoch seconds, in both formats.
    let text = generate(&policy().1, 11, 2, 1000, &Faults::default());
    let (mut ts, mut task, mut conf, mut esc) = (vec![], vec![], vec![], vec![]);
    let mut jsonl = String::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = match &v["timestamp"] {
            serde_json::Value::String(_) => ts.last().map_or(0, |x| x + 43),
            n => n.as_i64().unwrap(),
        };
        ts.push(t);
        task.push(v["task_type"].as_str().unwrap().to_string());
        conf.push(v["confidence"].as_f64().unwrap());
        esc.push(v["escalated"].as_bool().unwrap());
        jsonl.push_str(&format!(
            "{{\"timestamp\":{t},\"task_type\":\"{}\",\"confidence\":{},\"escalated\":{}}}\n",
            task.last().unwrap(),
            v["confidence"],
            esc.last().unwrap()
        ));
    }
    let mut frame =
        df!("timestamp" => ts, "task_type" => task, "confidence" => conf, "escalated" => esc)
            .unwrap();
    let s = Scratch::new();
    let path = s.join("logs.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    let out = monitor_file(&s, &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = Scratch::new();
    assert_eq!(monitor(&t, &jsonl, &[]).status.code(), Some(0));
    let (a, b) = (s.json("out/monitor.json"), t.json("out/monitor.json"));
    assert_eq!(a["records"], 2000);
    assert_eq!(a["rows"], b["rows"]);
}

#[test]
fn bad_csv_log_rows_name_their_line() {
    let s = Scratch::new();
    let cases = [
        (
            "1767225601,high,false",
            "logs.csv:3: field \"confidence\": expected a finite number, found \"high\"",
        ),
        ("1767225601,0.4", "logs.csv:3: expected a CSV row"),
    ];
    for (row, message) in cases {
        let path = s.write(
            "logs.csv",
            format!("timestamp,confidence,escalated\n1767225600,0.5,true\n{row}\n"),
        );
        let out = calibrate()
            .arg("monitor")
            .arg(&path)
            .arg("--against")
            .arg(&policy().0)
            .args(["--quiet", "--out"])
            .arg(s.join("out"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}

#[test]
fn logs_parsed_in_parallel_blocks_keep_line_numbers_and_results() {
    // The JSON Lines log reader parses 256 KiB blocks in parallel (20,000 records here, about
    // 15 blocks): CRLF line ends, blank lines and a missing final newline change nothing, and
    // a bad record deep in the file is named by its own line.
    let s = Scratch::new();
    let text = logs(8, &Faults::default());
    let plain = monitor(&s, &text, &[]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let want = s.read("out/monitor.json");
    let mut odd = String::new();
    for (k, line) in text.lines().enumerate() {
        odd.push_str(line);
        odd.push_str("\r\n");
        if k % 997 == 0 {
            odd.push_str("\n   \n");
        }
    }
    let odd = odd.trim_end().to_string();
    let out = monitor(&s, &odd, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(s.read("out/monitor.json"), want);
    let mut lines: Vec<&str> = text.lines().collect();
    lines[15_000] = "{\"timestamp\":0,\"confidence\":\"high\",\"escalated\":false}";
    let out = monitor(&s, &lines.join("\n"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("logs.jsonl:15001: field \"confidence\""),
        "{err}"
    );
}

#[test]
fn logs_with_prompts_escapes_and_nesting_read_as_plain_ones() {
    // Production logs carry prompts (escapes, non-ASCII text) and nested metadata beside the
    // fields monitor reads; keys come in any order and the file may start with a byte-order
    // mark. The hand-written scan skips all of that (serde_json reads what it does not take),
    // so the report equals the plain logs' byte for byte; a byte that is not UTF-8 in a prompt
    // is still named by its line.
    let s = Scratch::new();
    let text = logs(9, &Faults::default());
    let plain = monitor(&s, &text, &[]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let want = s.read("out/monitor.json");
    let mut busy = String::from("\u{feff}");
    for (k, line) in text.lines().enumerate() {
        let mut record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        record.insert(
            "prompt".into(),
            "Line one\nline \"two\" \u{e9}\t\\ \u{1F600}".into(),
        );
        record.insert(
            "meta".into(),
            serde_json::json!({"k": [1, 2, {"z": null}], "e": [], "n": -0.0, "s": "a\u{0}b"}),
        );
        let mut fields: Vec<(String, serde_json::Value)> = record.into_iter().collect();
        if k % 3 == 0 {
            fields.reverse();
        }
        let object: serde_json::Map<_, _> = fields.into_iter().collect();
        busy.push_str(&serde_json::to_string(&object).unwrap());
        busy.push('\n');
    }
    let out = monitor(&s, &busy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(s.read("out/monitor.json"), want);
    let mut bytes = busy.into_bytes();
    let at = (bytes.iter().enumerate().filter(|(_, b)| **b == b'\n'))
        .nth(12_343)
        .map(|(i, _)| i)
        .unwrap();
    // Inside line 12,345's prompt ("Line one..." starts somewhere after its opening brace).
    let prompt = at
        + 1
        + (bytes[at + 1..]
            .windows(4)
            .position(|w| w == b"Line")
            .unwrap());
    bytes[prompt] = 0xff;
    let logs = s.write("logs.jsonl", &bytes);
    let out = calibrate()
        .arg("monitor")
        .arg(logs)
        .arg("--against")
        .arg(&policy().0)
        .args(["--quiet", "--out"])
        .arg(s.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("logs.jsonl:12345: expected a JSON object: not UTF-8"),
        "{err}"
    );
}

#[test]
fn csv_logs_name_a_bad_record_by_its_line_after_crlf_and_blank_lines() {
    // Line numbers worked by hand: the header is line 1; a quoted line end puts a record on
    // lines 2 and 3; line 4 is blank; the bad signal is on line 5 (CRLF or LF endings alike).
    for end in ["\r\n", "\n"] {
        let text = [
            "ts,task_type,confidence,escalated",
            "1767225602,\"a",
            "b\",0.5,true",
            "",
        ]
        .join(end)
            + end
            + "1767225603,chat,bad,true"
            + end;
        let s = Scratch::new();
        let path = s.write("logs.csv", text);
        let out = calibrate()
            .arg("monitor")
            .arg(&path)
            .arg("--against")
            .arg(&policy().0)
            .args(["--field", "timestamp=ts", "--quiet", "--out"])
            .arg(s.join("out"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("logs.csv:5: field \"confidence\""),
            "{end:?}: {}",
            stderr(&out)
        );
    }
}
