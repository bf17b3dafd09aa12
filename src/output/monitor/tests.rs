//! The monitor's renderers on a small run worked through the real core: a policy with two
//! segments, two days of requests (the second with a router mismatch, a signal shift and
//! escalation past the ceiling), every output snapshotted.

use std::collections::BTreeMap;

use super::*;
use crate::input::{Against, Distribution, LogRecord, Reference, ReferenceCost, ReferenceSegment};
use crate::monitor::route::Router;
use crate::monitor::tally::Tally;
use crate::monitor::{MonitorSettings, monitor};

#[test]
fn window_labels_are_utc_dates() {
    // 1769817600 = 2026-01-31T00:00:00Z (`date -u -d @1769817600`).
    assert_eq!(window_label(Some(1_769_817_600), 86_400), "2026-01-31");
    assert_eq!(
        window_label(Some(1_769_817_600 + 3600 * 13), 3600),
        "2026-01-31T13:00Z"
    );
    assert_eq!(window_label(Some(0), 86_400), "1970-01-01");
    assert_eq!(window_label(None, 86_400), "all");
    assert_eq!(duration(86_400), "1d");
    assert_eq!(duration(5400), "90m");
}

fn report() -> MonitorReport {
    let d = Distribution {
        records: 100,
        threshold: Some(0.5),
        escalated: 30,
        sd: 0.25,
        edges: vec![0.0, 0.5, 0.75, 1.0],
        deciles: vec![0.0, 0.5, 0.75, 1.0],
        counts: vec![30, 35, 35],
        small_quality: vec![Some(0.6), Some(0.9), Some(1.0)],
        large_quality: Some(vec![Some(0.9), Some(1.0), Some(1.0)]),
    };
    let seg = |v: &str| ReferenceSegment {
        matches: BTreeMap::from([("task".to_string(), v.to_string())]),
        distribution: d.clone(),
    };
    let reference = Reference {
        scale: "thresholded signal".into(),
        target: Some(0.9),
        cost: ReferenceCost {
            small: 1.0,
            large: 10.0,
            baseline: Some(4.0),
        },
        overridden: 0,
        overall: d.clone(),
        segment_by: vec!["task".into()],
        segments: vec![seg("a"), seg("b")],
    };
    let mut against: Against = serde_json::from_value(serde_json::json!({
        "signal": {"name": "confidence"},
        "objective": {"kind": "min_quality", "value": 0.9},
        "default_threshold": 0.5,
    }))
    .unwrap();
    against.reference = Some(reference.clone());
    let router = Router::new(against).unwrap();
    let settings = MonitorSettings {
        window: 86_400,
        tolerance: 0.02,
        max_escalation: 0.4,
        fdr: 0.05,
        psi_warn: 0.1,
        psi_alert: 0.25,
        level: 0.95,
    };
    let mut tally = Tally::new(86_400);
    for i in 0..480u64 {
        let day = i / 240;
        let k = i % 240;
        // Day 1: signals spread over the bins as in the reference; day 2: half below 0.5.
        let signal = match (day, k % 20) {
            (0, 0..=5) | (1, 0..=9) => 0.25,
            (_, 6..=12) | (1, 10..=14) => 0.6,
            _ => 0.9,
        };
        let escalated = signal < 0.5 || (day == 1 && k == 12);
        let small = !escalated;
        let r = LogRecord {
            line: i + 1,
            timestamp: 1_767_225_600.0 + (day * 86_400 + k * 300) as f64,
            signal,
            escalated,
            labels: vec![Some(if k % 2 == 0 { "a" } else { "b" }.to_string())].into(),
            cost: None,
            small_cost: Some(1.0),
            large_cost: escalated.then_some(10.0),
            latency_ms: Some(if escalated { 3000.0 } else { 800.0 }),
            regenerated: Some(if day == 1 && small {
                k % 4 == 1
            } else {
                k % 20 == 3
            }),
            thumbs_down: Some(false),
            small_quality: (small && k % 3 == 0).then_some(1.0),
            large_quality: None,
            weight: None,
        };
        tally.add(&r, &router.route(&r), &reference);
    }
    MonitorReport {
        logs: "logs.jsonl".into(),
        against: "policy.json".into(),
        signal: "confidence".into(),
        records: 480,
        settings,
        monitor: monitor(&tally, &reference, false, &settings),
        reference,
    }
}

#[test]
fn monitor_outputs() {
    let r = report();
    insta::assert_snapshot!("monitor_text", monitor_text(&r));
    let files = monitor_files(&r).unwrap();
    let file = |name: &str| {
        let (_, bytes) = files.iter().find(|(n, _)| *n == name).unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    insta::assert_snapshot!("monitor_md", file("monitor.md"));
    insta::assert_snapshot!("monitor_csv", file("monitor.csv"));
    insta::assert_snapshot!("monitor_json", file("monitor.json"));
    assert!(file("escalation.svg").starts_with("<svg"));
}
