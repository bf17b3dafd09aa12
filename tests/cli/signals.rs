//! Confidence signals (issue 6) on `tests/data/signals.jsonl` (values worked by hand in
//! tests/data/README.md).

use crate::harness::{Scratch, example, fixture, run, stderr, stdout};

#[test]
fn compares_every_derivable_signal() {
    let dir = Scratch::new();
    let out = dir.run_out(
        "signals",
        fixture("signals.jsonl"),
        "s",
        &["-q", "--min-quality", "1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = dir.text("s/signals.csv");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for r in rows.records() {
        let r = r.unwrap();
        seen.insert(r[col("signal")].to_string(), r);
    }
    let names: Vec<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "confidence",
            "consistency",
            "heuristic",
            "logprob_geomean",
            "logprob_mean",
            "logprob_min",
            "logprob_p10",
            "majority_share",
            "self_reported",
        ]
    );
    // A column that is no known field is listed, not ranked: a router may not know it (issue
    // 12); `--signal verifier` ranks it.
    assert!(
        stdout(&out).contains("not ranked: verifier"),
        "{}",
        stdout(&out)
    );
    assert_eq!(&seen["logprob_mean"][col("auroc")], "1");
    assert_eq!(
        &seen["logprob_mean"][col("escalation_rate_at_target")],
        "0.5"
    );
    assert_eq!(&seen["confidence"][col("auroc")], "0.75");
    assert_eq!(
        &seen["confidence"][col("escalation_rate_at_target")],
        "0.75"
    );
    assert_eq!(&seen["self_reported"][col("auroc")], "0.75");
    assert_eq!(&seen["heuristic"][col("auroc")], "1");
    // Five signals tie (AUROC 1, escalation 0.5); ties go by name, so stdout names heuristic.
    let text = stdout(&out);
    assert_eq!(text.lines().last().unwrap(), "deploy: heuristic", "{text}");
    for f in [
        "signals.md",
        "signals.json",
        "risk_coverage.svg",
        "risk_coverage.png",
        "signal_reliability.svg",
        "signal_reliability.png",
    ] {
        assert!(dir.join("s").join(f).exists(), "{f}");
    }
    let svg = dir.text("s/risk_coverage.svg");
    roxmltree::Document::parse(&svg).unwrap();
}

#[test]
fn named_signals_only_and_reruns_are_identical() {
    let args = [
        "-q",
        "--signal",
        "logprob_min",
        "--signal",
        "confidence",
        "--recalibrate",
        "platt",
        "--folds",
        "2",
    ];
    let (da, db) = (Scratch::new(), Scratch::new());
    let a = da.run_out("signals", fixture("signals.jsonl"), "s", &args);
    let b = db.run_out("signals", fixture("signals.jsonl"), "s", &args);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    for f in [
        "signals.csv",
        "signals.json",
        "signals.md",
        "risk_coverage.png",
    ] {
        assert_eq!(
            da.read(&format!("s/{f}")),
            db.read(&format!("s/{f}")),
            "{f}"
        );
    }
    let v = da.json("s/signals.json");
    assert_eq!(v["signals"].as_array().unwrap().len(), 2);
    assert_eq!(v["recalibrate"], "platt");
}

#[test]
fn sweep_thresholds_a_derived_signal() {
    let out = run(
        "recommend",
        fixture("signals.jsonl"),
        &[
            "--signal",
            "logprob_mean",
            "--min-quality",
            "1",
            "--print",
            "json",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metrics"]["threshold"], 0.925);
    assert_eq!(v["metrics"]["escalation_rate"], 0.5);
    assert_eq!(v["policy"]["signal"]["name"], "logprob_mean");
    assert!(
        v["policy"]["signal"]["formula"]
            .as_str()
            .unwrap()
            .contains("(mean logprob + 2) / 2")
    );
    // A sweep on a signal alone: the records need no confidence field.
    let dir = Scratch::new();
    let out = dir.run_out(
        "sweep",
        fixture("signals.jsonl"),
        "r",
        &["--signal", "consistency", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn recalibration_exports_its_map() {
    let out = run(
        "recommend",
        fixture("signals.jsonl"),
        &[
            "--signal",
            "self_reported",
            "--recalibrate",
            "isotonic",
            "--folds",
            "2",
            "--print",
            "json",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["policy"]["signal"]["recalibration"];
    assert_eq!(r["method"], "isotonic");
    // Isotonic regression of (0.2→0, 0.4→1, 0.8→0, 0.9→1) pools 0.4 and 0.8 to 1/2: points
    // (0.2, 0), (0.4, 0.5), (0.8, 0.5), (0.9, 1).
    assert_eq!(
        r["points"],
        serde_json::json!([[0.2, 0.0], [0.4, 0.5], [0.8, 0.5], [0.9, 1.0]])
    );
}

#[test]
fn refusals_escalate() {
    let out = run(
        "recommend",
        fixture("signals.jsonl"),
        &[
            "--escalate-refusals",
            "--max-escalation",
            "0.25",
            "--print",
            "json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // r4 (a refusal) is forced, so at most one more record may escalate… none: escalation
    // 0.25 is r4 alone, and quality over r1–r3 is 2/3.
    assert_eq!(v["metrics"]["escalated"], 1);
    assert_eq!(v["metrics"]["non_escalated_quality"], 2.0 / 3.0);
    assert_eq!(v["policy"]["escalate_refusals"], true);
}

#[test]
fn missing_or_bad_raw_fields_are_one_line_errors() {
    let out = run(
        "recommend",
        fixture("tiny.jsonl"),
        &["--signal", "logprob_min"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no column \"logprobs\""), "{err}");
    let dir = Scratch::new();
    let bad = dir.write(
        "bad.jsonl",
        "{\"confidence\":0.5,\"small_quality\":1,\"logprobs\":[-0.1]}\n\
         {\"confidence\":0.5,\"small_quality\":0,\"logprobs\":[0.3]}\n",
    );
    let out = run("recommend", &bad, &["--signal", "logprob_min"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "bad.jsonl:2: field \"logprobs\": expected a non-empty array of log-probabilities"
        ),
        "{err}"
    );
}

/// Linear interpolation between (x, y) points, clipped at the ends (the exported isotonic map).
fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    if x <= points[0].0 {
        return points[0].1;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    points[points.len() - 1].1
}

#[test]
fn recalibrated_policy_reproduces_what_the_sweep_measured() {
    // A threshold chosen on out-of-fold values is one the exported map does not reproduce.
    // A router applying the exported map (or, free of interpolation rounding, the raw
    // threshold) must accept exactly the records the policy reports.
    let data = example("example-signals.jsonl");
    let out = run(
        "recommend",
        &data,
        &[
            "--signal",
            "logprob_geomean",
            "--recalibrate",
            "isotonic",
            "--min-quality",
            "0.9",
            "--print",
            "json",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v["policy"];
    let points: Vec<(f64, f64)> = p["signal"]["recalibration"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pt| (pt[0].as_f64().unwrap(), pt[1].as_f64().unwrap()))
        .collect();
    let threshold = p["default_threshold"].as_f64().unwrap();
    let raw_threshold = p["default_raw_threshold"].as_f64().unwrap();
    let (mut accepted, mut right, mut n, mut mapped_accepted) = (0usize, 0.0, 0usize, 0usize);
    for line in std::fs::read_to_string(&data).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let lp: Vec<f64> = r["logprobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        // logprob_geomean = exp(mean logprob) (README formula).
        let signal = (lp.iter().sum::<f64>() / lp.len() as f64).exp();
        n += 1;
        // A plain sum here, a compensated one in calibrate: the signal can differ in the last
        // bit, which matters only for a record exactly on the threshold.
        if signal >= raw_threshold - 1e-12 {
            accepted += 1;
            right += r["small_quality"].as_f64().unwrap();
        }
        // The map applied with another rounding order: equal up to records within an ulp.
        if interpolate(&points, signal) >= threshold - 1e-12 {
            mapped_accepted += 1;
        }
    }
    assert_eq!(mapped_accepted, accepted);
    let m = &p["measured"];
    let escalation = (n - accepted) as f64 / n as f64;
    assert!((m["escalation_rate"].as_f64().unwrap() - escalation).abs() < 1e-12);
    let quality = right / accepted as f64;
    assert!((m["non_escalated_quality"].as_f64().unwrap() - quality).abs() < 1e-12);
    assert!(quality >= 0.9);
}

#[test]
fn recalibrated_text_output_names_both_thresholds() {
    // A bare number printed for a recalibrated policy would read as a threshold on the raw
    // confidence, so the text names the mapped and the raw threshold.
    let out = run(
        "recommend",
        fixture("signals.jsonl"),
        &[
            "--recalibrate",
            "isotonic",
            "--folds",
            "2",
            "--min-quality",
            "1",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Isotonic fit of confidence 0.2→0, 0.3→1, 0.8→0, 0.9→1: pooled (0.3, 0.8) to 1/2, so
    // only 0.9 maps to 1: the map reaches 1 at its breakpoint 0.9, the raw threshold.
    assert_eq!(text, "default\t1\traw\t0.9\n");
}
