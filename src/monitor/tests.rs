//! The monitor's routing, tally and per-cell figures on inputs small enough to work by hand.

use std::collections::BTreeMap;

use super::checks::row;
use super::route::Router;
use super::tally::Tally;
use super::{MonitorSettings, Status, monitor};
use crate::input::{Against, Distribution, LogRecord, Reference, ReferenceCost, ReferenceSegment};

fn settings() -> MonitorSettings {
    MonitorSettings {
        window: 86_400,
        tolerance: 0.02,
        max_escalation: 0.4,
        fdr: 0.05,
        psi_warn: 0.1,
        psi_alert: 0.25,
        level: 0.95,
    }
}

/// Signals in [0, 1], two bins split at the threshold 0.5: 40 eval records below (quality
/// 0.5), 60 above (quality 0.9).
fn distribution() -> Distribution {
    Distribution {
        records: 100,
        threshold: Some(0.5),
        escalated: 40,
        sd: 0.3,
        edges: vec![0.0, 0.5, 1.0],
        deciles: vec![0.0, 0.5, 1.0],
        counts: vec![40, 60],
        small_quality: vec![Some(0.5), Some(0.9)],
        large_quality: None,
    }
}

fn reference(segments: Vec<ReferenceSegment>) -> Reference {
    Reference {
        scale: String::new(),
        target: Some(0.95),
        cost: ReferenceCost {
            small: 1.0,
            large: 10.0,
            baseline: None,
        },
        overridden: 0,
        overall: distribution(),
        segment_by: if segments.is_empty() {
            Vec::new()
        } else {
            vec!["task_type".into()]
        },
        segments,
    }
}

fn record(line: u64, signal: f64, escalated: bool, labels: Vec<Option<&str>>) -> LogRecord {
    let labels = labels.into_iter().map(|l| l.map(String::from)).collect();
    LogRecord::routed(
        line,
        1_767_225_600.0 + line as f64,
        signal,
        escalated,
        labels,
    )
}

/// A policy: default 0.5, code 0.7, legal always large, enterprise users always large.
fn router() -> Router {
    let seg = |v: &str| ReferenceSegment {
        matches: BTreeMap::from([("task_type".to_string(), v.to_string())]),
        distribution: distribution(),
    };
    let json = serde_json::json!({
        "signal": {"name": "confidence"},
        "objective": {"kind": "min_quality", "value": 0.95},
        "default_threshold": 0.5,
        "segment_by": ["task_type"],
        "segments": [
            {"match": {"task_type": "code"}, "action": "threshold", "threshold": 0.7},
            {"match": {"task_type": "legal"}, "action": "always_large"}
        ],
        "always_large": [{"field": "tier", "value": "enterprise"}],
    });
    let mut against: Against = serde_json::from_value(json).unwrap();
    against.reference = Some(reference(vec![seg("chat"), seg("code")]));
    Router::new(against).unwrap()
}

#[test]
fn the_router_keeps_the_small_answer_at_signal_equal_to_the_threshold() {
    let r = router();
    // Columns in the order the policy names them: overrides, rules, then segments.
    assert_eq!(r.columns, ["tier", "task_type"]);
    let route = |signal, tier: Option<&str>, task: &str| {
        r.route(&record(1, signal, false, vec![tier, Some(task)]))
    };
    assert!(
        route(0.5, None, "chat").keep_small,
        ">= keeps the threshold itself"
    );
    assert!(!route(0.499_999, None, "chat").keep_small);
    assert!(!route(0.69, None, "code").keep_small);
    assert!(route(0.7, None, "code").keep_small);
    assert!(!route(0.99, None, "legal").keep_small);
    let enterprise = route(0.99, Some("enterprise"), "chat");
    assert!(enterprise.overridden && !enterprise.keep_small);
    assert_eq!(route(0.9, None, "code").segment, Some(1));
    let legal = route(0.9, None, "legal");
    assert!(legal.unseen && legal.segment.is_none());
}

#[test]
fn the_router_maps_the_raw_signal_through_the_isotonic_map() {
    let json = serde_json::json!({
        "signal": {"name": "logprob_min", "recalibration": {"method": "isotonic",
            "points": [[0.0, 0.0], [0.2, 0.6], [1.0, 1.0]]}},
        "objective": {"kind": "min_quality", "value": 0.9},
        "default_threshold": 0.6,
    });
    let mut against: Against = serde_json::from_value(json).unwrap();
    against.reference = Some(reference(Vec::new()));
    let r = Router::new(against).unwrap();
    // Raw 0.1 maps to 0.3 (halfway to 0.6): escalated; raw 0.2 maps to 0.6 exactly: kept.
    let at = |x| r.route(&record(1, x, false, Vec::new()));
    assert!((at(0.1).mapped - 0.3).abs() < 1e-12 && !at(0.1).keep_small);
    assert!(at(0.2).mapped == 0.6 && at(0.2).keep_small);
}

#[test]
fn conformance_counts_both_directions_and_cells_merge_exactly() {
    let r = router();
    let mut tally = Tally::new(86_400);
    let records = [
        record(1, 0.5, true, vec![None, Some("chat")]), // escalated, policy keeps: mismatch
        record(2, 0.4, false, vec![None, Some("chat")]), // kept, policy escalates: mismatch
        record(3, 0.9, false, vec![None, Some("chat")]), // agrees
        record(4, 0.9, true, vec![Some("enterprise"), Some("chat")]), // override, agrees
    ];
    for rec in &records {
        tally.add(rec, &r.route(rec), &r.reference);
    }
    let all = &tally.cells[&(1_767_225_600, 0)];
    assert_eq!((all.wrongly_escalated, all.wrongly_kept), (1, 1));
    assert_eq!(all.first_mismatch_line, Some(1));
    assert_eq!((all.requests, all.overridden, all.routed), (4, 1, 3));
    // Bins of routed requests: 0.4 below 0.5, 0.5 and 0.9 above.
    assert_eq!(all.bins, [1, 2]);
    // Two halves merged equal the whole.
    let (mut a, mut b) = (Tally::new(86_400), Tally::new(86_400));
    for rec in &records[..2] {
        a.add(rec, &r.route(rec), &r.reference);
    }
    for rec in &records[2..] {
        b.add(rec, &r.route(rec), &r.reference);
    }
    let mut merged = a.cells[&(1_767_225_600, 0)].clone();
    merged.merge(&b.cells[&(1_767_225_600, 0)]);
    assert_eq!(&merged, all);
}

#[test]
fn a_cell_figures_worked_by_hand() {
    // 200 routed requests: 100 in [0, 0.5) (escalated), 100 in [0.5, 1] (kept).
    let reference = reference(Vec::new());
    let r = Router::new(Against {
        reference: Some(reference.clone()),
        ..serde_json::from_value(serde_json::json!({
            "signal": {"name": "confidence"},
            "objective": {"kind": "min_quality", "value": 0.95},
            "default_threshold": 0.5,
        }))
        .unwrap()
    })
    .unwrap();
    let mut tally = Tally::new(86_400);
    for i in 0..200u64 {
        let signal = if i < 100 { 0.25 } else { 0.75 };
        let rec = record(i, signal, i < 100, Vec::new());
        tally.add(&rec, &r.route(&rec), &reference);
    }
    let cell = &tally.cells[&(1_767_225_600, 0)];
    let x = row(Some(1_767_225_600), 0, cell, &reference, &[], &settings());
    // Observed 0.5 against predicted 0.4: se = √(0.4 · 0.6 / 100 + 0.5 · 0.5 / 200)
    // = 0.0604152; p = Φ(−(0.1 − 0.02) / se) = 0.0927234 (Python, math.erfc).
    let shift = x.escalation_shift.unwrap();
    assert!((shift.se - 0.060_415_23).abs() < 1e-8);
    assert!((shift.p_beyond_margin - 0.092_723_39).abs() < 1e-6);
    // PSI over the two deciles: 0.1 ln(0.5 / 0.4) − 0.1 ln(0.5 / 0.6) = 0.0405465; KS 0.1.
    let d = x.drift.unwrap();
    assert!((d.psi - 0.040_546_51).abs() < 1e-8);
    assert!((d.ks - 0.1).abs() < 1e-12);
    // The estimate: every accepted request in the bin of quality 0.9; the calibration's
    // variance 0.9 · 0.1 / 60, no spread: se = 0.0387298. The floor is the scope's own 0.9
    // (below the 0.95 target).
    let e = x.estimate.unwrap();
    assert!((e.quality - 0.9).abs() < 1e-12);
    assert!((e.hi - e.quality - 1.959_964 * 0.038_729_83).abs() < 1e-5);
    assert_eq!(e.floor, Some(0.9));
    assert!((e.effective_records - 60.0).abs() < 1e-9);
}

#[test]
fn a_run_with_a_mismatch_alerts_and_without_one_is_healthy() {
    let r = router();
    let run = |bad: bool| {
        let mut tally = Tally::new(86_400);
        for i in 0..50u64 {
            let signal = 0.1 + 0.016 * i as f64;
            let escalated = if bad && i == 7 {
                signal >= 0.5
            } else {
                signal < 0.5
            };
            let rec = record(i, signal, escalated, vec![None, Some("chat")]);
            tally.add(&rec, &r.route(&rec), &r.reference);
        }
        monitor(&tally, &r.reference, false, &settings())
    };
    assert_eq!(run(false).status, Status::Healthy);
    let bad = run(true);
    assert_eq!(bad.status, Status::Alert);
    assert_eq!(bad.scopes, ["all", "task_type=chat", "task_type=code"]);
    // The segment's row names it (a per-segment reference: conformance is per segment).
    let f = &bad.findings[0];
    assert_eq!(bad.rows[f.row].scope, 1);
}

#[test]
fn inverse_probability_weights_undo_uneven_labelling() {
    // Accepted bins [0.5, 0.75) of quality 0.8 and [0.75, 1] of quality 1. 100 requests each;
    // the first labelled at 10 % (weight 10: 8 right, 2 wrong), the second at 50 % (weight
    // 2: all 50 right). Unweighted 58 / 60 = 0.9667 overstates; weighted (8·10 + 50·2) /
    // (10·10 + 50·2) = 180 / 200 = 0.9, the traffic's true (0.8 + 1) / 2. Kish's effective
    // count: 200² / (10·10² + 50·2²) = 33.33. Worked by hand.
    let mut reference = reference(Vec::new());
    reference.overall = Distribution {
        records: 100,
        threshold: Some(0.5),
        escalated: 40,
        sd: 0.3,
        edges: vec![0.0, 0.5, 0.75, 1.0],
        deciles: vec![0.0, 0.5, 1.0],
        counts: vec![40, 30, 30],
        small_quality: vec![Some(0.5), Some(0.8), Some(1.0)],
        large_quality: None,
    };
    let r = Router::new(Against {
        reference: Some(reference.clone()),
        ..serde_json::from_value(serde_json::json!({
            "signal": {"name": "confidence"},
            "objective": {"kind": "min_quality", "value": 0.95},
            "default_threshold": 0.5,
        }))
        .unwrap()
    })
    .unwrap();
    let mut tally = Tally::new(86_400);
    for i in 0..200u64 {
        let (signal, labelled, weight, right) = if i < 100 {
            (0.6, i < 10, 10.0, i < 8)
        } else {
            (0.9, i < 150, 2.0, true)
        };
        let mut rec = record(i, signal, false, Vec::new());
        if labelled {
            rec.small_quality = Some(if right { 1.0 } else { 0.0 });
            rec.weight = Some(weight);
        }
        tally.add(&rec, &r.route(&rec), &reference);
    }
    let cell = &tally.cells[&(1_767_225_600, 0)];
    let l = row(Some(0), 0, cell, &reference, &[], &settings())
        .labelled
        .unwrap();
    assert_eq!(l.labels, 60);
    assert!((l.quality - 0.9).abs() < 1e-12);
    assert!((l.predicted - 0.9).abs() < 1e-12);
    assert!((l.effective - 200.0 * 200.0 / 1200.0).abs() < 1e-9);
}

#[test]
fn a_mismatch_in_a_segment_the_reference_lacks_alerts_on_the_overall_row_once() {
    let r = router();
    let mut tally = Tally::new(86_400);
    let records = [
        // "poetry" is no reference segment: the default threshold 0.5 keeps 0.6.
        record(1, 0.6, true, vec![None, Some("poetry")]),
        // A chat mismatch: reported on chat's row, not again on the overall one.
        record(2, 0.6, true, vec![None, Some("chat")]),
    ];
    for rec in &records {
        tally.add(rec, &r.route(rec), &r.reference);
    }
    let m = monitor(&tally, &r.reference, false, &settings());
    let conformance: Vec<usize> = (m.findings.iter())
        .filter(|f| f.check == super::findings::Check::Conformance)
        .map(|f| m.rows[f.row].scope)
        .collect();
    assert_eq!(conformance, [0, 1]);
}

#[test]
fn requests_outside_the_policys_where_are_left_out_and_counted() {
    let json = serde_json::json!({
        "signal": {"name": "confidence"},
        "objective": {"kind": "min_quality", "value": 0.95},
        "default_threshold": 0.5,
        "where": [{"field": "tier", "op": "=", "value": "pro"},
                  {"field": "lang", "op": "!=", "value": "de"}],
    });
    let mut against: Against = serde_json::from_value(json).unwrap();
    against.reference = Some(reference(Vec::new()));
    let r = Router::new(against).unwrap();
    assert_eq!(r.columns, ["tier", "lang"]);
    let mut tally = Tally::new(86_400);
    for (tier, lang) in [("pro", "en"), ("free", "en"), ("pro", "de"), ("pro", "fr")] {
        let rec = record(1, 0.9, false, vec![Some(tier), Some(lang)]);
        tally.add(&rec, &r.route(&rec), &r.reference);
    }
    assert_eq!(tally.out_of_scope, 2);
    assert_eq!(tally.cells[&(1_767_225_600, 0)].requests, 2);
}

#[test]
fn labels_below_the_floor_suggest_the_lowest_higher_threshold_that_clears_it() {
    // Accepted bins [0.5, 0.75) (eval quality 0.8) and [0.75, 1] (1.0): the floor is the
    // scope's own eval quality 0.9 (below the 0.95 target). Labels: 28 of 40 right in the first
    // bin, 60 of 60 in the second. From 0.5: 88 / 100, Wilson lower bound 0.80 < 0.9. From
    // 0.75: 60 / 60, Wilson lower bound 60 / (60 + 1.959964²) = 0.939828 >= 0.9. Raising to
    // 0.75 escalates the 100 requests of the first bin: half the traffic. Worked by hand.
    let mut reference = reference(Vec::new());
    reference.overall = Distribution {
        records: 100,
        threshold: Some(0.5),
        escalated: 40,
        sd: 0.3,
        edges: vec![0.0, 0.5, 0.75, 1.0],
        deciles: vec![0.0, 0.5, 1.0],
        counts: vec![40, 30, 30],
        small_quality: vec![Some(0.5), Some(0.8), Some(1.0)],
        large_quality: None,
    };
    let r = Router::new(Against {
        reference: Some(reference.clone()),
        ..serde_json::from_value(serde_json::json!({
            "signal": {"name": "confidence"},
            "objective": {"kind": "min_quality", "value": 0.95},
            "default_threshold": 0.5,
        }))
        .unwrap()
    })
    .unwrap();
    let mut tally = Tally::new(86_400);
    for i in 0..200u64 {
        let mut rec = record(i, if i < 100 { 0.6 } else { 0.9 }, false, Vec::new());
        if i < 40 {
            rec.small_quality = Some(if i < 28 { 1.0 } else { 0.0 });
        } else if (100..160).contains(&i) {
            rec.small_quality = Some(1.0);
        }
        tally.add(&rec, &r.route(&rec), &reference);
    }
    let cell = &tally.cells[&(1_767_225_600, 0)];
    let raise = row(None, 0, cell, &reference, &[], &settings())
        .raise
        .unwrap();
    assert_eq!(raise.threshold, 0.75);
    assert!((raise.quality - 1.0).abs() < 1e-12);
    assert!((raise.lo - 0.939_828).abs() < 1e-6, "{}", raise.lo);
    assert!((raise.labels - 60.0).abs() < 1e-9);
    assert!((raise.escalation - 0.5).abs() < 1e-12);
}

#[test]
fn escalation_that_differs_by_hour_of_day_warns() {
    let r = router();
    let run = |skewed: bool| {
        let mut tally = Tally::new(86_400);
        for i in 0..2400u64 {
            let hour = i % 24;
            // 20 % escalated in the morning, 60 % in the afternoon when skewed; 40 % otherwise.
            let share = match (skewed, hour < 12) {
                (true, true) => 2,
                (true, false) => 6,
                (false, _) => 4,
            };
            let escalated = (i / 24) % 10 < share;
            let signal = if escalated { 0.3 } else { 0.8 };
            let mut rec = record(i, signal, escalated, vec![None, Some("chat")]);
            rec.timestamp = 1_767_225_600.0 + (hour * 3600) as f64 + (i / 24) as f64;
            tally.add(&rec, &r.route(&rec), &r.reference);
        }
        monitor(&tally, &r.reference, false, &settings())
    };
    let is_hour = |f: &super::findings::Finding| f.check == super::findings::Check::HourOfDay;
    let skewed = run(true);
    let h = skewed.hours.unwrap();
    assert_eq!((h.lowest, h.highest), ((0, 0.2), (12, 0.6)));
    assert!(skewed.findings.iter().any(is_hour));
    let flat = run(false);
    assert_eq!(flat.hours.unwrap().p, 1.0);
    assert!(!flat.findings.iter().any(is_hour));
}
