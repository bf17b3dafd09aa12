//! Issue 12, point 1: per-segment policies that do not overfit silently: the departure test,
//! `--segment-floor`, the cross-fitted estimate and the warnings, on data/example.jsonl and on
//! small generated sets whose expected values are computed independently below.

use crate::harness::{Scratch, example, run, stderr};

const TARGET: &[&str] = &["--min-quality", "0.95", "--segment-by", "task_type", "-q"];

/// Issue 12: over random 30/70 splits of data/example.jsonl the free joint optimum misses its
/// target on the test part more often than the single threshold; the default (tested
/// departures) misses no more often than the single threshold.
#[test]
fn issue12_default_per_segment_policy_misses_no_more_often_than_one_threshold() {
    let data = example("example.jsonl");
    let (mut single, mut tested, mut free) = (0, 0, 0);
    for seed in 1..=8 {
        let seed = seed.to_string();
        let split = [
            "--holdout",
            "0.7",
            "--seed",
            &seed,
            "--print",
            "json",
            "--cross-fit",
            "0",
        ];
        let misses = |extra: &[&str]| {
            let out = run("recommend", &data, &[TARGET, &split, extra].concat());
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "{}",
                stderr(&out)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let h = &v["holdout"];
            let miss = |m: &serde_json::Value| u32::from(m.as_bool() == Some(false));
            (
                miss(&h["met_objective"]),
                miss(&h["policy"]["met_objective"]),
            )
        };
        let (s, t) = misses(&[]);
        let (_, f) = misses(&["--segment-departures", "free"]);
        single += s;
        tested += t;
        free += f;
    }
    assert!(tested <= single, "tested {tested} single {single}");
    assert!(free > single, "free {free} single {single}");
}

/// The free joint optimum on the whole of data/example.jsonl lets task_type=legal ship below
/// the target while escalating less than at the global threshold: stderr and report.md say so;
/// the cross-fit shows its optimism and the miss (figures in the README's "Segments").
#[test]
fn issue12_free_policy_is_flagged_and_cross_fitted() {
    let scratch = Scratch::new();
    let data = example("example.jsonl");
    let flags = [TARGET, &["--segment-departures", "free"]].concat();
    let out = scratch.run_out("sweep", &data, "r", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "warning: segment task_type=legal ships answers below the target under the \
             per-segment policy (non-escalated quality 0.8462"
        ),
        "{err}"
    );
    assert!(err.contains("escalates less than at the global threshold (71.3% against 74.9%)"));
    let md = scratch.text("r/report.md");
    assert!(md.contains("**Warning:** segment task_type=legal ships answers below the target"));
    let v = scratch.json("r/summary.json");
    let c = &v["cross_fit"];
    assert_eq!(c["folds"], 5);
    assert_eq!(c["seed"], 42);
    // In sample both meet 0.95; cross-fitted the free per-segment policy does not.
    assert_eq!(c["per_segment"]["met_objective"], false);
    let q = c["per_segment"]["cross_fitted"]["non_escalated_quality"]
        .as_f64()
        .unwrap();
    assert!(q < 0.95, "{q}");
    let optimism = c["per_segment"]["quality_optimism"].as_f64().unwrap();
    let inside = c["per_segment"]["in_sample"]["non_escalated_quality"]
        .as_f64()
        .unwrap();
    assert!((optimism - (inside - q)).abs() < 1e-12);
    // `recommend` says the same on stderr.
    let rec = run("recommend", &data, &flags);
    assert!(
        stderr(&rec).contains(
            "calibrate:   per-segment       non-escalated quality 0.9458 (in sample 0.9501), \
             escalation 24.0%, cost per request 0.01073, objective NOT met"
        ),
        "{}",
        stderr(&rec)
    );
    // The default keeps the segments the data do not support at the global threshold, and
    // the cross-fitted policy meets the target where the single threshold does.
    let out = scratch.run_out("sweep", &data, "d", TARGET);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("warning: segment"),
        "{}",
        stderr(&out)
    );
    let v = scratch.json("d/summary.json");
    let c = &v["cross_fit"];
    assert_eq!(c["single"]["met_objective"], true);
    assert_eq!(c["per_segment"]["met_objective"], true);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cross-fitted (5 folds, seed 42)"), "{text}");
}

/// `--segment-floor 0.9`: no segment of the policy ships answers below 0.9 (data/example.jsonl,
/// where the free optimum ships legal at 0.8462).
#[test]
fn issue12_segment_floor_holds_in_every_segment() {
    let scratch = Scratch::new();
    let data = example("example.jsonl");
    let flags = [
        TARGET,
        &["--segment-departures", "free", "--segment-floor", "0.9"],
    ]
    .concat();
    let out = scratch.run_out("sweep", &data, "r", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = scratch.json("r/summary.json");
    for s in v["segments"]["segments"].as_array().unwrap() {
        let q = &s["policy"]["non_escalated_quality"];
        assert!(q.is_null() || q.as_f64().unwrap() >= 0.9, "{s}");
    }
    let p = &v["segments"]["policy"];
    assert!(p["non_escalated_quality"].as_f64().unwrap() >= 0.95);
    let md = scratch.text("r/report.md");
    assert!(md.contains("No segment ships answers below quality 0.9 (`--segment-floor`)."));
    let bad = run(
        "recommend",
        &data,
        &[TARGET, &["--segment-floor", "1.5"]].concat(),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--segment-floor: expected a quality from 0 to 1, found 1.5"));
}

/// Leave-one-out cross-fitting (`--cross-fit N` on N records puts each record in its own fold,
/// whatever the seed) against a naive twin: for each record, the lowest-escalation threshold
/// meeting the target on the others, then whether that record is accepted.
#[test]
fn cross_fitted_single_threshold_matches_a_naive_leave_one_out() {
    // Deterministic pseudo-random records (an LCG), two segments.
    let mut x: u64 = 12345;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as f64 / (1u64 << 31) as f64
    };
    let n = 24;
    let records: Vec<(f64, f64, &str)> = (0..n)
        .map(|i| {
            let conf = (next() * 20.0).floor() / 20.0;
            let right = if next() < 0.3 + 0.7 * conf { 1.0 } else { 0.0 };
            (conf, right, if i % 3 == 0 { "a" } else { "b" })
        })
        .collect();
    let jsonl: String = (records.iter())
        .map(|(c, q, s)| {
            format!("{{\"confidence\":{c},\"small_quality\":{q},\"task_type\":\"{s}\"}}\n")
        })
        .collect();
    let scratch = Scratch::new();
    let data = scratch.write("loo.jsonl", jsonl);
    let target = 0.8;
    let folds = n.to_string();
    let flags = [
        "--min-quality",
        "0.8",
        "--segment-by",
        "task_type",
        "--cross-fit",
        &folds,
        "--small-cost",
        "1",
        "--large-cost",
        "10",
        "-q",
    ];
    let out = scratch.run_out("sweep", &data, "r", &flags);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&out)
    );
    let v = scratch.json("r/summary.json");
    // The naive twin.
    let (mut accepted, mut quality) = (0usize, 0.0);
    for i in 0..n {
        let others: Vec<(f64, f64)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| (records[j].0, records[j].1))
            .collect();
        let mut cuts: Vec<f64> = others.iter().map(|r| r.0).collect();
        cuts.sort_by(|a, b| a.total_cmp(b));
        cuts.dedup();
        // The most accepting cut whose accepted records reach the target.
        let chosen = cuts.iter().copied().find(|&t| {
            let acc: Vec<f64> = (others.iter().filter(|r| r.0 >= t)).map(|r| r.1).collect();
            acc.iter().sum::<f64>() >= target * acc.len() as f64
        });
        if chosen.is_some_and(|t| records[i].0 >= t) {
            accepted += 1;
            quality += records[i].1;
        }
    }
    let m = &v["cross_fit"]["single"]["cross_fitted"];
    let escalated = (n - accepted) as f64;
    assert_eq!(m["escalation_rate"].as_f64().unwrap(), escalated / n as f64);
    let cost = (n as f64 + 10.0 * escalated) / n as f64;
    assert!((m["cost_per_request"].as_f64().unwrap() - cost).abs() < 1e-12);
    match accepted {
        0 => assert!(m["non_escalated_quality"].is_null()),
        k => assert_eq!(
            m["non_escalated_quality"].as_f64().unwrap(),
            quality / k as f64
        ),
    }
}

/// P(Binomial(n, p) ≤ k), summed term by term in log space (independent of the tool's
/// incomplete-beta implementation).
fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    let ln_fact = |m: u64| (1..=m).map(|i| (i as f64).ln()).sum::<f64>();
    (0..=k)
        .map(|i| {
            let ln = ln_fact(n) - ln_fact(i) - ln_fact(n - i)
                + i as f64 * p.ln()
                + (n - i) as f64 * (1.0 - p).ln();
            ln.exp()
        })
        .sum()
}

/// Issue 12: `--segment-by … --certify` gives a certified per-segment policy whose p-value is
/// the binomial tail of its test-half losses (recomputed here), below its share of δ, and
/// whose cross-fitted quality meets the target.
#[test]
fn issue12_certified_per_segment_policy() {
    let scratch = Scratch::new();
    let data = example("example.jsonl");
    let flags = [TARGET, &["--certify"]].concat();
    let out = scratch.run_out("sweep", &data, "r", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = scratch.json("r/summary.json");
    let c = &v["certified_segments"];
    assert_eq!(c["certified"], true, "{c}");
    assert_eq!(
        c["build_records"].as_u64().unwrap() + c["test_records"].as_u64().unwrap(),
        5000
    );
    assert_eq!(c["thresholds"].as_array().unwrap().len(), 6);
    let t = &c["on_test"];
    let n = t["records"].as_f64().unwrap();
    let accepted = (n * (1.0 - t["escalation_rate"].as_f64().unwrap())).round() as u64;
    let quality = t["non_escalated_quality"].as_f64().unwrap();
    let losses = (accepted as f64 * (1.0 - quality)).round() as u64;
    let p = binomial_cdf(losses, accepted, 0.05);
    let got = c["p_value"].as_f64().unwrap();
    assert!(
        (got - p).abs() <= 1e-9 * p.max(1e-300),
        "tool {got} naive {p}"
    );
    let tests = (c["family"].as_f64().unwrap() + 1.0).log2().ceil();
    assert!(got <= 0.05 / tests, "{got}");
    let x = &v["cross_fit"]["certified_per_segment"];
    assert_eq!(x["met_objective"], true, "{x}");
    let md = scratch.text("r/report.md");
    assert!(md.contains("**Certified per-segment policy:** with probability at least 0.95"));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("certified per-segment policy: non-escalated quality >= 0.95"));
}

/// Two segments by construction: in `easy` the small model is right 99 % of the time whatever
/// its confidence; in `hard` it is right with probability equal to its confidence. Confidences
/// are uniform. One threshold must serve both (by hand: pooled quality ≥ 0.9 needs t ≥ 0.62),
/// while per segment `easy` can keep every answer (and `hard` about half).
fn two_segments(n: usize) -> String {
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut s = String::new();
    for i in 0..n {
        let (segment, c) = (if i % 2 == 0 { "easy" } else { "hard" }, unit());
        let p = if segment == "easy" { 0.99 } else { c };
        let q = u8::from(unit() < p);
        s.push_str(&format!(
            "{{\"confidence\":{c},\"small_quality\":{q},\"segment\":\"{segment}\"}}\n"
        ));
    }
    s
}

/// Issue 12: the certified per-segment policy is exported when it is cheaper than the
/// certified global threshold, with both guarantees' union bound (2δ) stated; otherwise the
/// global threshold stays, with the same bound.
#[test]
fn issue12_cheaper_certified_per_segment_policy_is_the_deployed_policy() {
    let scratch = Scratch::new();
    let input = scratch.write("two.jsonl", two_segments(6000));
    let flags = [
        "--min-quality",
        "0.9",
        "--segment-by",
        "segment",
        "--certify",
        "--delta",
        "0.05",
        "--print",
        "json",
        "--quiet",
    ];
    let out = run("recommend", &input, &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policy = &v["policy"];
    let global_cost = v["metrics"]["cost_per_request"].as_f64().unwrap();
    assert!(policy.get("default_threshold").is_none(), "{policy}");
    let segments = policy["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "{policy}");
    let easy = &segments[0];
    assert_eq!(easy["match"]["segment"], "easy");
    assert_eq!(easy["reason"], "certified per-segment policy");
    assert_eq!(easy["records"], 3000);
    // `easy` keeps far more answers than the global threshold (≥ 0.62 by hand) would.
    assert!(easy["threshold"].as_f64().unwrap() < 0.3, "{easy}");
    assert!(policy["measured"]["cost_per_request"].as_f64().unwrap() < global_cost);
    let g = policy["guarantee"].as_str().unwrap();
    assert!(g.contains("this per-segment policy is at least 0.9"), "{g}");
    // The monitoring reference describes the exported policy: each segment at its certified
    // threshold.
    let reference = policy["reference"]["segments"].as_array().unwrap();
    for (r, s) in reference.iter().zip(segments) {
        assert_eq!(r["match"], s["match"]);
        assert_eq!(r["threshold"], s["threshold"], "{r}");
    }
    assert!(
        g.contains("errs with probability at most 0.1 in all"),
        "{g}"
    );
    // The text form routes by segment; an unknown segment escalates.
    let text = run("recommend", &input, &flags[..7]);
    let lines = String::from_utf8(text.stdout).unwrap();
    assert!(lines.starts_with("segment=easy\t"), "{lines}");
    assert!(lines.ends_with("default\talways_large\n"), "{lines}");
    // On the example data the certified global threshold is the cheaper: it stays.
    let out = run(
        "recommend",
        example("example.jsonl"),
        &[TARGET, &["--certify", "--print", "json"]].concat(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["policy"]["default_threshold"].is_number(),
        "{}",
        v["policy"]
    );
    let g = v["policy"]["guarantee"].as_str().unwrap();
    assert!(
        g.contains("at threshold") && g.contains("at most 0.1 in all"),
        "{g}"
    );
}
