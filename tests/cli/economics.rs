//! Issue 4: prices, tokens, baselines, latency, timeouts and `calibrate economics`.

use crate::harness::{Scratch, assert_reported, calibrate, example, fixture, run, stderr, stdout};

#[test]
fn economics_reproduces_the_posts_table_corrected() {
    // The post: 1M requests of 1,000 tokens, small 0.25, large 15, baseline 3 per million.
    let dir = Scratch::new();
    let csv = dir.join("costs.csv");
    let out = calibrate()
        .args([
            "economics",
            "--price",
            "small=0.25",
            "--price",
            "large=15",
            "--baseline",
            "3",
        ])
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // 10 %: 250 + 1500 = 1750, 41.7 % below 3000; the post's formula: 225 + 1500 = 1725.
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("10.0%"))
        .unwrap();
    assert!(
        row.contains("250.00") && row.contains("1500.00") && row.contains("1750.00"),
        "{row}"
    );
    assert!(
        row.contains("41.7%") && row.contains("1725.00 (42.5%)"),
        "{row}"
    );
    // 20 %: 3250, 8.3 % dearer than the baseline (the post claims 7 % savings).
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("20.0%"))
        .unwrap();
    assert!(row.contains("3250.00") && row.contains("-8.3%"), "{row}");
    // Break-even: (3 − 0.25)/15 = 18.33 %, (15 − 0.25)/15 = 98.33 %.
    assert!(
        text.contains("against the baseline 18.33%, against always-large 98.33%"),
        "{text}"
    );
    let table = dir.text("costs.csv");
    let first = table.lines().nth(1).unwrap();
    let fields: Vec<f64> = first.split(',').map(|f| f.parse().unwrap()).collect();
    assert!((fields[3] - 1750.0).abs() < 1e-9);
    assert!((fields[4] - (1.0 - 1750.0 / 3000.0)).abs() < 1e-12);
    assert!((fields[6] - 1725.0).abs() < 1e-9);
}

#[test]
fn economics_needs_both_prices() {
    let out = calibrate()
        .args(["economics", "--price", "small=0.25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the large model's price is required"));
}

/// summary.json of a sweep of tokens.jsonl, with sweep.csv's text under "csv".
fn summary(args: &[&str]) -> serde_json::Value {
    let dir = Scratch::new();
    assert_reported(&dir.run_out("sweep", fixture("tokens.jsonl"), "r", args));
    let mut v = dir.json("r/summary.json");
    v["csv"] = serde_json::Value::String(dir.text("r/sweep.csv"));
    v
}

fn row<'a>(csv: &'a str, threshold: &str) -> Vec<&'a str> {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{threshold},")))
        .unwrap();
    assert_eq!(header.len(), line.split(',').count());
    line.split(',').collect()
}

fn column(csv: &str, name: &str) -> usize {
    csv.lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == name)
        .unwrap()
}

#[test]
fn token_prices_baseline_and_estimated_large_output() {
    let v = summary(&[
        "--price",
        "small=0.25:1.25",
        "--price",
        "large=15:75",
        "--baseline",
        "3:15",
        "--grid",
        "0.1",
        "--min-quality",
        "1",
    ]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(
        v["baselines"]["always_small"]["cost_per_request"]
            .as_f64()
            .unwrap(),
        0.00075
    ));
    assert!(close(
        v["baselines"]["always_large"]["cost_per_request"]
            .as_f64()
            .unwrap(),
        0.045
    ));
    assert_eq!(v["settings"]["large_cost"]["source"], "tokens");
    assert_eq!(
        v["settings"]["large_cost"]["output_tokens"],
        "estimated as small_output_tokens x 1"
    );
    assert!(close(
        v["settings"]["baseline"]["cost_per_request"]
            .as_f64()
            .unwrap(),
        0.009
    ));
    let csv = v["csv"].as_str().unwrap();
    let r = row(csv, "0.6");
    let cost: f64 = r[column(csv, "cost_per_request")].parse().unwrap();
    assert!(close(cost, 0.028875), "{cost}");
    let vs_large: f64 = r[column(csv, "savings_vs_large")].parse().unwrap();
    assert!(close(vs_large, 1.0 - 0.028875 / 0.045));
    let vs_base: f64 = r[column(csv, "savings_vs_baseline")].parse().unwrap();
    assert!(close(vs_base, 1.0 - 0.028875 / 0.009));
}

#[test]
fn latency_and_timeout() {
    let v = summary(&["--grid", "0.1"]);
    let csv = v["csv"].as_str().unwrap();
    let r = row(csv, "0.4");
    assert_eq!(r[column(csv, "latency_mean_ms")], "1925");
    assert_eq!(r[column(csv, "latency_p50_ms")], "400");
    assert_eq!(r[column(csv, "latency_p95_ms")], "4500");

    let v = summary(&["--grid", "0.1", "--small-timeout-ms", "1000"]);
    assert_eq!(v["settings"]["timed_out"], 1);
    let csv = v["csv"].as_str().unwrap();
    let r = row(csv, "0.4");
    assert_eq!(r[column(csv, "escalated")], "2");
    assert_eq!(r[column(csv, "latency_mean_ms")], "2300");
    assert_eq!(r[column(csv, "latency_p50_ms")], "400");
}

#[test]
fn a_price_without_tokens_is_an_error() {
    let out = run("recommend", fixture("tiny.jsonl"), &["--price", "large=15"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--price large=... needs a large_output_tokens field"),
        "{}",
        stderr(&out)
    );
    let out = run(
        "recommend",
        fixture("tiny.jsonl"),
        &["--small-timeout-ms", "5"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--small-timeout-ms needs small_latency_ms"));
}

#[test]
fn price_sheet_file_and_builtin_names() {
    let dir = Scratch::new();
    let sheet = dir.write(
        "prices.toml",
        "[models.mini]\ninput = 0.25\noutput = 0.25\n",
    );
    let out = calibrate()
        .args([
            "economics",
            "--price",
            "small=mini",
            "--price",
            "large=claude-3-opus",
            "--prices",
        ])
        .arg(&sheet)
        .args(["--escalation", "0.1", "--tokens-per-request", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Small 1e6 × 1000 × 0.25 / 1e6 = 250; large (opus, 15 in) on 10 %: 1500.
    assert!(
        text.contains(&format!("small mini ({})", sheet.display())),
        "{text}"
    );
    assert!(
        text.contains("claude-3-opus (built-in example prices (list prices as of 2024-08-01))"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("10.0%"))
        .unwrap();
    assert!(row.contains("1750.00"), "{row}");
}

#[test]
fn sweep_costs_agree_with_an_independent_computation_on_the_example_data() {
    // Recompute cost per request, wasted spend and savings at every grid threshold straight
    // from data/example.jsonl with serde_json, and compare with sweep.csv.
    let path = example("example.jsonl");
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dir = Scratch::new();
    assert_reported(&dir.run_out("sweep", &path, "r", &["--grid", "0.05", "-q"]));
    let csv = dir.text("r/sweep.csv");
    let n = records.len() as f64;
    let large_total: f64 = records
        .iter()
        .map(|r| r["large_cost"].as_f64().unwrap())
        .sum();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let t: f64 = cells[0].parse().unwrap();
        let (mut cost, mut wasted) = (0.0, 0.0);
        for r in &records {
            let small = r["small_cost"].as_f64().unwrap();
            cost += small;
            if r["confidence"].as_f64().unwrap() < t {
                cost += r["large_cost"].as_f64().unwrap();
                wasted += small;
            }
        }
        let got = |col: usize| cells[col].parse::<f64>().unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
        assert!(
            close(got(6), cost / n),
            "cost at {t}: {} vs {}",
            got(6),
            cost / n
        );
        assert!(close(got(7), wasted / n) || wasted == 0.0, "wasted at {t}");
        assert!(
            (got(8) - (1.0 - cost / large_total)).abs() < 1e-12,
            "savings at {t}"
        );
        checked += 1;
    }
    assert_eq!(checked, 21);
}
