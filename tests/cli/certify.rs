//! Issue 5 (part): `--certify` and `--max-quality-loss` end to end.

use crate::harness::{Scratch, example, fixture, run, stderr, stdout};

#[test]
fn certified_threshold_is_stricter_than_the_observed_pick() {
    let plain = run(
        "recommend",
        example("example.jsonl"),
        &["--min-quality", "0.95"],
    );
    let certified = run(
        "recommend",
        example("example.jsonl"),
        &["--min-quality", "0.95", "--certify", "--print", "json"],
    );
    assert_eq!(certified.status.code(), Some(0), "{}", stderr(&certified));
    let v: serde_json::Value = serde_json::from_slice(&certified.stdout).unwrap();
    let t_plain: f64 = stdout(&plain).trim().parse().unwrap();
    let t_cert = v["metrics"]["threshold"].as_f64().unwrap();
    // Certifying costs escalation: the certified threshold accepts no more than the observed one.
    assert!(
        t_cert >= t_plain,
        "certified {t_cert} vs observed {t_plain}"
    );
    assert!(v["metrics"]["non_escalated_quality"].as_f64().unwrap() >= 0.95);
    let c = &v["certificate"];
    assert_eq!(c["certified"], true);
    assert_eq!(c["method"], "exact binomial tail");
    assert!(c["p_value"].as_f64().unwrap() <= 0.05 / c["tests"].as_f64().unwrap());
    assert!(c["guarantee"].as_str().unwrap().contains("exchangeable"));
}

#[test]
fn uncertifiable_target_exits_1_with_the_best_certifiable_quality() {
    let out = run(
        "recommend",
        example("example.jsonl"),
        &["--min-quality", "0.999", "--certify"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    // After the warnings (issue 12), the reason on its own line.
    assert!(err.lines().any(|l| l.starts_with("calibrate: cannot certify non-escalated quality >= 0.999 at delta = 0.05; the best certifiable is")), "{err}");
}

#[test]
fn certify_needs_a_quality_objective_and_loss_needs_large_labels() {
    let out = run(
        "recommend",
        fixture("tiny.jsonl"),
        &["--max-escalation", "0.3", "--certify"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--certify needs --min-quality Q or --max-quality-loss L"));
    let out = run(
        "recommend",
        fixture("weak.jsonl"),
        &["--max-quality-loss", "0.1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--max-quality-loss compares with always-large"));
}

#[test]
fn max_quality_loss_by_hand() {
    // tests/data/README.md: always-large quality 0.8; cascade quality 0.8 at thresholds 0.9, 0.8
    // and 0.6 (drop 0), 0.6 at 0.7 and 0.5. The lowest escalation with drop ≤ 0.1 is 0.6.
    let out = run(
        "recommend",
        fixture("tiny.jsonl"),
        &["--max-quality-loss", "0.1"],
    );
    assert_eq!(stdout(&out), "0.6\n");
}

#[test]
fn sweep_states_the_guarantee_in_the_report() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        example("example.jsonl"),
        "r",
        &["--min-quality", "0.9", "--certify", "--delta", "0.1", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = dir.text("r/report.md");
    assert!(
        md.contains("**Certified.** With probability at least 0.9 over the draw"),
        "{md}"
    );
    let summary = dir.json("r/summary.json");
    assert_eq!(summary["recommendation"]["certificate"]["certified"], true);
}
