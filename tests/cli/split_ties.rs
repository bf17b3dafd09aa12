//! `--split-ties` (issue 12, point 3): the policy keeps a hash-chosen share of one tie, its
//! figures in expectation, deployable by a router that implements the hash from the README;
//! and the combinations it refuses.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::{Scratch, run, stderr, stdout};

/// Ten records by hand: six tied at confidence 1 (the small model right on four), four at 0.5
/// (small wrong); the large model right on all ten.
fn tied_ten() -> String {
    let mut s = String::new();
    for (i, (c, q)) in [(1.0, 1), (1.0, 1), (1.0, 1), (1.0, 1), (1.0, 0), (1.0, 0)]
        .into_iter()
        .chain([(0.5, 0); 4])
        .enumerate()
    {
        s.push_str(&format!(
            "{{\"id\":\"r{i}\",\"confidence\":{c},\"small_quality\":{q},\"large_quality\":1}}\n"
        ));
    }
    s
}

const COSTS: [&str; 4] = ["--small-cost", "1", "--large-cost", "10"];

fn recommend_json(input: &std::path::Path, flags: &[&str]) -> Value {
    let mut all = flags.to_vec();
    all.extend(COSTS);
    all.extend(["--print", "json", "--quiet"]);
    let out = run("recommend", input, &all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn split_ties_keeps_a_share_of_the_tie_with_figures_worked_by_hand() {
    let dir = Scratch::new();
    let input = dir.write("ten.jsonl", tied_ten());
    let loss = ["--max-quality-loss", "0.05"];
    // Without the flag: the whole tie misses the target, so every request escalates.
    let mut flags = loss.to_vec();
    flags.extend(COSTS);
    let plain = run("recommend", &input, &flags);
    assert_eq!(stdout(&plain), "always_large\n");
    // By hand: keeping a share p of the tie ships 2p wrong answers of 10, a loss of 0.2 p, so
    // p = 0.25 at a loss of 0.05; the large model runs on 4 + 6 × 0.75 = 8.5 records and the
    // small model on all ten: (10 + 85) / 10 = 9.5 per request against 10 for always-large;
    // kept answers: 1.5, right on 1 (4 of 6 tied), non-escalated quality 2/3.
    let mut with = loss.to_vec();
    with.push("--split-ties");
    let v = recommend_json(&input, &with);
    let policy = &v["policy"];
    let tie = &policy["tie_split"];
    assert_eq!(tie["signal"], 1.0);
    assert_eq!(tie["keep_fraction"], 0.25);
    assert_eq!(tie["seed"], 0);
    assert_eq!(tie["records"], 6);
    assert!(policy.get("default_threshold").is_none(), "{policy}");
    assert!(policy["rule"].as_str().unwrap().contains("hash_unit"));
    let m = &policy["measured"];
    let near = |x: &Value, want: f64| (x.as_f64().unwrap() - want).abs() < 1e-12;
    assert!(near(&m["cost_per_request"], 9.5), "{m}");
    assert!(near(&m["escalation_rate"], 0.85), "{m}");
    assert!(near(&m["cascade_quality"], 0.95), "{m}");
    assert!(near(&m["non_escalated_quality"], 2.0 / 3.0), "{m}");
    assert_eq!(v["split_ties"]["applied"], true);
    // The text form: the split on its own line, then the default.
    let mut text = with.clone();
    text.extend(COSTS);
    text.extend(["--tie-seed", "9"]);
    let out = run("recommend", &input, &text);
    assert_eq!(
        stdout(&out),
        "tie_split\t1\tkeep\t0.25\tseed\t9\ndefault\talways_large\n"
    );
    assert!(
        stderr(&out).contains("keep the small answer on 25.0%"),
        "{}",
        stderr(&out)
    );
}

/// SHA-256 of `"{seed}:{id}"`, first eight bytes big-endian, over 2^64: the README's hash,
/// written here from its description, not from calibrate's code.
fn hash_unit(seed: u64, id: &str) -> f64 {
    let d = Sha256::digest(format!("{seed}:{id}").as_bytes());
    u64::from_be_bytes(d[..8].try_into().unwrap()) as f64 / 18446744073709551616.0
}

#[test]
fn a_router_that_implements_the_hash_delivers_the_expected_figures() {
    // 4,000 records, half tied at confidence 0.9; a router applies the exported policy with
    // the hash written from the README, to the same records by id. Its realised figures agree
    // with the policy's expectations up to the split's own noise (a binomial draw over the
    // tie: four standard deviations), and the loss target holds up to that noise.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut rows = Vec::new();
    let mut s = String::new();
    for i in 0..4000 {
        let c = if unit() < 0.5 {
            0.9
        } else {
            (unit() * 1e6).round() / 1e6
        };
        let small = u8::from(unit() < 0.2 + 0.7 * c);
        let large = u8::from(unit() < 0.95);
        s.push_str(&format!(
            "{{\"id\":\"q{i}\",\"confidence\":{c},\"small_quality\":{small},\"large_quality\":{large}}}\n"
        ));
        rows.push((format!("q{i}"), c, f64::from(small), f64::from(large)));
    }
    let dir = Scratch::new();
    let input = dir.write("tied.jsonl", s);
    let v = recommend_json(
        &input,
        &[
            "--max-quality-loss",
            "0.02",
            "--split-ties",
            "--tie-seed",
            "5",
        ],
    );
    let policy = &v["policy"];
    let tie = &policy["tie_split"];
    assert_eq!(tie["signal"], 0.9, "{policy}");
    let (p, seed) = (tie["keep_fraction"].as_f64().unwrap(), 5);
    assert!(p > 0.0 && p < 1.0);
    let t = policy["default_threshold"]
        .as_f64()
        .unwrap_or(f64::INFINITY);
    let (mut kept_tied, mut tied, mut quality, mut cost) = (0.0, 0.0, 0.0, 0.0);
    for (id, c, small, large) in &rows {
        let keep = *c >= t || (*c == 0.9 && hash_unit(seed, id) < p);
        if *c == 0.9 {
            tied += 1.0;
            kept_tied += f64::from(u8::from(keep));
        }
        quality += if keep { *small } else { *large };
        cost += if keep { 1.0 } else { 11.0 };
    }
    let n = rows.len() as f64;
    let sd = (tied * p * (1.0 - p)).sqrt();
    assert!(
        (kept_tied - tied * p).abs() < 4.0 * sd,
        "{kept_tied} vs {}",
        tied * p
    );
    let m = &policy["measured"];
    let expected_cost = m["cost_per_request"].as_f64().unwrap();
    // Each kept tied record saves 10: the cost moves by 10 per kept record.
    assert!(
        (cost / n - expected_cost).abs() < 10.0 * 4.0 * sd / n,
        "{}",
        cost / n
    );
    let expected_quality = m["cascade_quality"].as_f64().unwrap();
    assert!((quality / n - expected_quality).abs() < 4.0 * sd / n + 1e-12);
}

#[test]
fn split_ties_is_refused_where_it_cannot_hold() {
    let dir = Scratch::new();
    let input = dir.write(
        "t.jsonl",
        tied_ten().replace("\"id\"", "\"task_type\":\"a\",\"id\""),
    );
    let cases: [(&[&str], &str); 5] = [
        (&["--split-ties"], "--split-ties needs --min-quality"),
        (&["--split-ties", "--budget", "5"], "--split-ties needs"),
        (
            &["--split-ties", "--max-quality-loss", "0.05", "--certify"],
            "a certificate covers a deterministic threshold",
        ),
        (
            &[
                "--split-ties",
                "--min-quality",
                "0.5",
                "--segment-by",
                "task_type",
            ],
            "--split-ties with --segment-by",
        ),
        (
            &["--split-ties", "--min-quality", "0.5", "--holdout", "0.3"],
            "--split-ties with --holdout",
        ),
    ];
    for (flags, want) in cases {
        let out = run("recommend", &input, flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(want), "{flags:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // --tie-seed without --split-ties is a usage error.
    let out = run(
        "recommend",
        &input,
        &["--tie-seed", "3", "--min-quality", "0.5"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_split_leaves_a_plain_threshold_and_says_why() {
    // Distinct confidences: no tie to split past the pick.
    let dir = Scratch::new();
    let input = dir.write(
        "d.jsonl",
        "{\"confidence\":0.9,\"small_quality\":1}\n{\"confidence\":0.8,\"small_quality\":1}\n\
         {\"confidence\":0.7,\"small_quality\":0}\n{\"confidence\":0.6,\"small_quality\":1}\n",
    );
    let out = run(
        "recommend",
        &input,
        &["--min-quality", "0.9", "--split-ties"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0.8\n");
    assert!(
        stderr(&out).contains("no split, the policy is a plain threshold: the next confidence, 0.7, is held by one record"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sweep_reports_the_split_with_bootstrap_intervals_byte_for_byte() {
    let dir = Scratch::new();
    let input = dir.write("ten.jsonl", tied_ten().repeat(20));
    let mut flags = vec!["--max-quality-loss", "0.05", "--split-ties", "--quiet"];
    flags.extend(COSTS);
    let a = dir.run_out("sweep", &input, "a", &flags);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    let b = dir.run_out("sweep", &input, "b", &flags);
    assert_eq!(b.status.code(), Some(0));
    assert_eq!(dir.read("a/summary.json"), dir.read("b/summary.json"));
    assert_eq!(dir.read("a/report.md"), dir.read("b/report.md"));
    let v = dir.json("a/summary.json");
    let s = &v["recommendation"]["split_ties"];
    assert_eq!(s["keep_fraction"], 0.25, "{s}");
    for (k, want) in [("cost_per_request", 9.5), ("cascade_quality", 0.95)] {
        let e = s["expected"][k].as_f64().unwrap();
        assert!((e - want).abs() < 1e-12, "{k} {e}");
        let (lo, hi) = (
            s["intervals"][k]["lo"].as_f64().unwrap(),
            s["intervals"][k]["hi"].as_f64().unwrap(),
        );
        assert!(lo <= e && e <= hi && lo < hi, "{k}: {lo} {e} {hi}");
    }
    assert_eq!(v["policy"]["tie_split"]["keep_fraction"], 0.25);
    let md = dir.text("a/report.md");
    assert!(
        md.contains("**Split tie (`--split-ties`).** At confidence 1 exactly (120 records)"),
        "{md}"
    );
    assert!(
        stdout(&a).contains("--split-ties: at confidence 1 (120 records)"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn monitor_refuses_a_policy_that_splits_a_tie() {
    // Monitoring compares traffic with deterministic thresholds; a split policy is refused in
    // one line rather than checked wrongly.
    let dir = Scratch::new();
    let input = dir.write("ten.jsonl", tied_ten());
    let mut flags = vec![
        "--max-quality-loss",
        "0.05",
        "--split-ties",
        "--print",
        "json",
    ];
    flags.extend(COSTS);
    let out = run("recommend", &input, &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let policy = dir.write("policy.json", &out.stdout);
    let logs = dir.write(
        "logs.jsonl",
        "{\"timestamp\":0,\"confidence\":1,\"escalated\":false}\n",
    );
    let out = crate::harness::calibrate()
        .arg("monitor")
        .arg(&logs)
        .arg("--against")
        .arg(&policy)
        .arg("--out")
        .arg(dir.join("m"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("it splits a tie (--split-ties)"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!dir.join("m").exists());
}
