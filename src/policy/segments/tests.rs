//! Tests of segments: grouping by hand, and the joint thresholds against brute force over every
//! combination of per-segment thresholds, evaluated record by record.

use proptest::prelude::*;

use super::*;
use crate::engine::objective::Objective;
use crate::engine::sweep::{Sweep, flat_input};
use crate::policy::safeguards::{Routing, totals};

fn labels(names: &[&str], codes: &[u32]) -> Labels {
    Labels {
        codes: codes.to_vec(),
        names: names.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn segments_are_label_combinations_in_order() {
    let task = labels(&["chat", "legal"], &[1, 0, 1, 0]);
    let tier = labels(&["free", "pro"], &[0, 0, 1, 0]);
    let seg = Segmentation::new(&[("task", &task), ("tier", &tier)]);
    assert_eq!(seg.len(), 3);
    assert_eq!(seg.name(0), "task=chat, tier=free");
    assert_eq!(seg.name(1), "task=legal, tier=free");
    assert_eq!(seg.name(2), "task=legal, tier=pro");
    assert_eq!(seg.codes, vec![1, 0, 2, 0]);
}

/// Past `DENSE` possible numbers (two columns of 1,100 values: 1.21 M) the numbers are sorted,
/// and group as the tuples do too.
#[test]
fn many_possible_numbers_group_as_tuples_do() {
    let labels = |step: u32| Labels {
        codes: (0..500u32).map(|i| (i * step) % 1100).collect(),
        names: (0..1100).map(|v| format!("v{v:04}")).collect(),
    };
    let (a, b) = (labels(7), labels(13));
    let named = [("a", &a), ("b", &b)];
    const { assert!(1100 * 1100 > DENSE) };
    assert_eq!(by_numbers(&named, 500, 1100 * 1100), by_tuples(&named, 500));
}

proptest! {
    /// The mixed-radix grouping equals the ordered map of code tuples (the plain way), on
    /// random columns of one to three labels with up to six values each.
    #[test]
    fn numbers_group_as_tuples_do(
        columns in proptest::collection::vec(
            (1usize..7).prop_flat_map(|k| proptest::collection::vec(0..k as u32, 40)
                .prop_map(move |codes| (k, codes))),
            1..4,
        ),
    ) {
        let owned: Vec<Labels> = (columns.iter())
            .map(|(k, codes)| Labels {
                codes: codes.clone(),
                names: (0..*k).map(|v| format!("v{v}")).collect(),
            })
            .collect();
        let named: Vec<(&str, &Labels)> = owned.iter().map(|t| ("c", t)).collect();
        let radix = owned.iter().map(|t| t.names.len() as u64).product();
        prop_assert_eq!(by_numbers(&named, 40, radix), by_tuples(&named, 40));
    }
}

fn settings<'a>(target: f64, grid: &'a [f64], sweep: &'a Sweep) -> PlanSettings<'a> {
    PlanSettings {
        objective: Objective::MinQuality { target },
        min_records: 1,
        global: None,
        no_joint: None,
        grid,
        sweep,
        departures: Departures::Free,
        floor: None,
    }
}

#[test]
fn joint_beats_a_global_threshold_by_hand() {
    // Segment a: conf 0.9 (right), 0.8 (right). Segment b: conf 0.95 (wrong), 0.7 (right).
    // Costs: small 1, large 10 per request. Target non-escalated quality 1.
    // A global threshold must exclude b's 0.95 (wrong) → only "escalate everything" works for
    // b... a global τ > 0.95 accepts nothing. Per segment: a accepts both (τ_a = 0.8), b
    // escalates everything: cost (4·1 + 2·10)/4 = 6 per request, quality 2/2 = 1.
    let conf = [0.9, 0.8, 0.95, 0.7];
    let sq = [1.0, 1.0, 0.0, 1.0];
    let seg_labels = labels(&["a", "b"], &[0, 0, 1, 1]);
    let seg = Segmentation::new(&[("s", &seg_labels)]);
    let input = flat_input(&conf, &sq, None);
    let all = Sweep::new(input);
    let plan = plan(input, &seg, &["s".into()], settings(1.0, &[], &all));
    let m = plan.policy.expect("feasible");
    assert_eq!(m.cost_per_request, 6.0);
    assert_eq!(m.non_escalated_quality, Some(1.0));
    assert_eq!(plan.segments[0].chosen.threshold, 0.8);
    // b can reach quality 1 alone (accepting only 0.7 is impossible without 0.95, so no:
    // its only acceptances include the wrong 0.95 first) → it cannot meet the target.
    assert_eq!(plan.segments[1].rule, Rule::CannotMeetTarget);
    assert!(plan.segments[1].always_large);
}

#[test]
fn small_segments_keep_the_global_threshold() {
    let conf = [0.9, 0.8, 0.6, 0.7];
    let sq = [1.0, 1.0, 1.0, 1.0];
    let seg_labels = labels(&["a", "b"], &[0, 0, 0, 1]);
    let seg = Segmentation::new(&[("s", &seg_labels)]);
    let input = flat_input(&conf, &sq, None);
    let all = Sweep::new(input);
    let global = all.at_threshold(0.75);
    let plan = plan(
        input,
        &seg,
        &["s".into()],
        PlanSettings {
            min_records: 2,
            global: Some(&global),
            ..settings(0.9, &[], &all)
        },
    );
    assert_eq!(plan.segments[1].rule, Rule::TooFewGlobal);
    // b's only record (0.7) is below the global 0.75: it escalates here, but b keeps the global
    // threshold for traffic to come; it must not be exported as always-large.
    assert_eq!(plan.segments[1].chosen.accepted, 0);
    assert_eq!(plan.segments[1].threshold, Some(0.75));
    assert!(!plan.segments[1].always_large);
    assert_eq!(plan.segments[0].rule, Rule::Joint);
    assert_eq!(plan.segments[0].chosen.accepted, 3);
}

/// Proptest records `(confidence step, small label, segment)` as confidences in quarters, 0/1
/// labels and segment labels coded by sorted name.
fn random_records(records: &[(u8, u8, u32)]) -> (Vec<f64>, Vec<f64>, Labels) {
    let conf: Vec<f64> = records.iter().map(|r| f64::from(r.0) / 4.0).collect();
    let sq: Vec<f64> = records.iter().map(|r| f64::from(r.1)).collect();
    let mut names: Vec<String> = records.iter().map(|r| r.2.to_string()).collect();
    names.sort();
    names.dedup();
    let codes: Vec<u32> = records
        .iter()
        .map(|r| names.iter().position(|n| *n == r.2.to_string()).unwrap() as u32)
        .collect();
    (conf, sq, Labels { codes, names })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 7 acceptance: the joint allocation equals brute force on small random inputs.
    #[test]
    fn joint_equals_brute_force(
        records in prop::collection::vec((0u8..5, 0u8..2, 0u32..3), 1..10),
        target in prop::sample::select(vec![0.5, 0.6, 0.75, 0.9]),
    ) {
        let (conf, sq, seg_labels) = random_records(&records);
        let codes = seg_labels.codes.clone();
        let seg = Segmentation::new(&[("s", &seg_labels)]);
        let input = flat_input(&conf, &sq, None);
        let all = Sweep::new(input);
        let plan = plan(input, &seg, &["s".into()], settings(target, &[], &all));
        // Brute force gets the plan's pins (none here: every segment has at least one record,
        // and min_records is 1) and searches everything else.
        let pinned: Vec<bool> = plan
            .segments
            .iter()
            .map(|s| !matches!(s.rule, Rule::Joint | Rule::CannotMeetTarget))
            .collect();
        let expected = brute_force(&conf, &sq, &codes, target, &pinned);
        let got = plan.policy.map(|m| m.cost_per_request);
        prop_assert_eq!(got.is_some(), expected.is_some());
        if let (Some(g), Some(e)) = (got, expected) {
            prop_assert!((g - e).abs() <= 1e-9 * e.abs().max(1.0), "plan {} brute {}", g, e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 12: with --segment-floor the joint allocation equals brute force over the
    /// combinations whose every segment ships at least the floor.
    #[test]
    fn joint_under_a_floor_equals_brute_force(
        records in prop::collection::vec((0u8..5, 0u8..2, 0u32..3), 1..10),
        target in prop::sample::select(vec![0.5, 0.6, 0.75]),
        floor in prop::sample::select(vec![0.5, 0.7, 1.0]),
    ) {
        let (conf, sq, seg_labels) = random_records(&records);
        let codes = seg_labels.codes.clone();
        let seg = Segmentation::new(&[("s", &seg_labels)]);
        let input = flat_input(&conf, &sq, None);
        let all = Sweep::new(input);
        let settings = PlanSettings { floor: Some(floor), ..settings(target, &[], &all) };
        let plan = plan(input, &seg, &["s".into()], settings);
        let pinned: Vec<bool> = plan
            .segments
            .iter()
            .map(|s| !matches!(s.rule, Rule::Joint | Rule::CannotMeetTarget))
            .collect();
        let expected = brute_force_floor(&conf, &sq, &codes, target, &pinned, floor);
        let got = plan.policy.map(|m| m.cost_per_request);
        prop_assert_eq!(got.is_some(), expected.is_some());
        if let (Some(g), Some(e)) = (got, expected) {
            prop_assert!((g - e).abs() <= 1e-9 * e.abs().max(1.0), "plan {} brute {}", g, e);
        }
        for s in &plan.segments {
            let q = s.chosen.non_escalated_quality;
            prop_assert!(q.is_none_or(|q| q >= floor - 1e-9), "{:?}", s);
        }
    }
}

/// Every combination of per-segment thresholds (each segment's distinct confidences plus
/// "escalate everything"; only the latter for `pinned` segments), evaluated record by record:
/// the cheapest meeting pooled non-escalated quality ≥ target.
fn brute_force(
    conf: &[f64],
    sq: &[f64],
    codes: &[u32],
    target: f64,
    pinned: &[bool],
) -> Option<f64> {
    brute_force_floor(conf, sq, codes, target, pinned, 0.0)
}

/// [`brute_force`] where a segment may only take thresholds whose accepted records (of that
/// segment) have mean quality at least `floor`.
fn brute_force_floor(
    conf: &[f64],
    sq: &[f64],
    codes: &[u32],
    target: f64,
    pinned: &[bool],
    floor: f64,
) -> Option<f64> {
    let segments = pinned.len();
    let mut options: Vec<Vec<f64>> = vec![vec![f64::INFINITY]; segments];
    for (i, &c) in conf.iter().enumerate() {
        let s = codes[i] as usize;
        let accepted: Vec<f64> = (0..conf.len())
            .filter(|&j| codes[j] as usize == s && conf[j] >= c)
            .map(|j| sq[j])
            .collect();
        let ok = accepted.iter().sum::<f64>() >= floor * accepted.len() as f64 - 1e-9;
        if !pinned[s] && ok && !options[s].contains(&c) {
            options[s].push(c);
        }
    }
    let input = flat_input(conf, sq, None);
    let mut best: Option<f64> = None;
    let mut pick = vec![0usize; segments];
    loop {
        let thresholds: Vec<f64> = pick
            .iter()
            .enumerate()
            .map(|(s, &k)| options[s][k])
            .collect();
        let t = totals(
            input,
            Routing {
                thresholds: &thresholds,
                codes: Some(codes),
            },
            None,
        );
        let m = t.metrics(f64::NAN, false);
        let feasible = t.accepted > 0 && t.small_quality_accepted >= target * t.accepted as f64;
        if feasible && best.is_none_or(|b| m.cost_per_request < b) {
            best = Some(m.cost_per_request);
        }
        // Next combination, like an odometer.
        let mut s = 0;
        loop {
            if s == segments {
                return best;
            }
            pick[s] += 1;
            if pick[s] < options[s].len() {
                break;
            }
            pick[s] = 0;
            s += 1;
        }
    }
}

#[test]
fn unpinned_joint_matches_free_brute_force_when_every_segment_can_meet_the_target() {
    // Every segment has a right answer at its top, so none is pinned.
    let conf = [0.9, 0.5, 0.4, 0.8, 0.3, 0.2];
    let sq = [1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let codes = [0, 0, 0, 1, 1, 1];
    let seg_labels = labels(&["a", "b"], &codes);
    let seg = Segmentation::new(&[("s", &seg_labels)]);
    for target in [0.5, 0.7, 0.8, 1.0] {
        let input = flat_input(&conf, &sq, None);
        let all = Sweep::new(input);
        let plan = plan(input, &seg, &["s".into()], settings(target, &[], &all));
        assert!(plan.segments.iter().all(|s| s.rule == Rule::Joint));
        let expected = brute_force(&conf, &sq, &codes, target, &[false, false]);
        assert_eq!(
            plan.policy.map(|m| m.cost_per_request),
            expected,
            "target {target}"
        );
    }
}
