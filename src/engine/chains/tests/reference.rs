//! RouteLLM's and RouterBench's numbers from their own code, reimplemented with numpy and pandas
//! in tests/data/chains_reference.py (which wrote tests/data/chains_reference.json), against
//! the forms in `metrics.rs`, to 1e-9.

use serde_json::Value;

use super::super::*;

const REFERENCE: &str = include_str!("../../../../tests/data/chains_reference.json");

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn model(conf: &[f64], quality: Vec<f64>) -> ModelData {
    ModelData {
        name: "m".into(),
        confidence: conf.to_vec(),
        cost: vec![1.0; quality.len()],
        quality,
        latency_ms: None,
        weight: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

#[test]
fn routellm_form_matches_their_code() {
    let data: Value = serde_json::from_str(REFERENCE).unwrap();
    let pairs = data["pairs"].as_array().unwrap();
    let (mut defined, mut raised) = (0, 0);
    for (case, p) in pairs.iter().enumerate() {
        let conf = floats(&p["confidence"]);
        let weak = model(&conf, floats(&p["weak_quality"]));
        let strong = model(&conf, floats(&p["strong_quality"]));
        let ours = routellm_form(&weak, &strong);
        match &p["routellm"] {
            Value::Null => {
                assert_eq!(ours, None, "case {case}: pd.qcut raises on repeated edges");
                raised += 1;
            }
            want => {
                let ours = ours.unwrap_or_else(|| panic!("case {case}: defined there"));
                for (got, key) in [
                    (ours.apgr, "apgr"),
                    (ours.cpt50, "cpt50"),
                    (ours.cpt80, "cpt80"),
                ] {
                    let w = want[key].as_f64().unwrap();
                    assert!(close(got, w), "case {case} {key}: {got} vs {w}");
                }
                defined += 1;
            }
        }
    }
    assert!(defined >= 3 && raised >= 3);
}

#[test]
fn routerbench_aiq_matches_their_code() {
    let data: Value = serde_json::from_str(REFERENCE).unwrap();
    for (case, s) in data["aiq"].as_array().unwrap().iter().enumerate() {
        let routers: Vec<Vec<(f64, f64)>> = s["routers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                    .collect()
            })
            .collect();
        let ours = aiq_routerbench(&routers);
        let want = &s["aiq"];
        assert!(
            close(ours.max_cost, want["max_cost"].as_f64().unwrap()),
            "case {case}"
        );
        for (r, (got, w)) in ours
            .values
            .iter()
            .zip(want["values"].as_array().unwrap())
            .enumerate()
        {
            match (got, w.as_f64()) {
                (None, None) => {}
                (Some(g), Some(w)) => assert!(close(*g, w), "case {case} router {r}: {g} vs {w}"),
                other => panic!("case {case} router {r}: {other:?}"),
            }
        }
    }
}

#[test]
fn exact_forms_by_hand() {
    // Weak conf 0.9, 0.5, 0.1 with qualities 1, 0, 0; strong 1, 1, 1. Escalating the least
    // confident first: 0 % → 1/3, 33.3 % → 2/3, 66.7 % → 1, 100 % → 1 (× 100).
    let conf = [0.9, 0.5, 0.1];
    let weak = model(&conf, vec![1.0, 0.0, 0.0]);
    let strong = model(&conf, vec![1.0, 1.0, 1.0]);
    let m = routellm_exact(&weak, &strong);
    // AUC = (1/3)(1/3 + 2/3)/2 + (1/3)(2/3 + 1)/2 + (1/3)(1) = 1/6 + 5/18 + 1/3 (× 100);
    // weak area 100/3, strong 100: APGR = (7/9 − 1/3) / (2/3) = 2/3.
    assert!(close(m.apgr, 2.0 / 3.0), "{}", m.apgr);
    // 50 % of the gap: quality 2/3, reached at 33.3 %; 80 %: 13/15, on the way to 66.7 %.
    assert!(close(m.cpt50, 100.0 / 3.0), "{}", m.cpt50);
    assert!(
        close(m.cpt80, 100.0 / 3.0 + (100.0 / 3.0) * 0.6),
        "{}",
        m.cpt80
    );
    // Exact AIQ: a router with points (1, 0.5), (3, 1.0) over [0, 4]: (0.5·2 + 1·1) / 4.
    let a = aiq_exact(&[vec![(1.0, 0.5), (3.0, 1.0)], vec![(4.0, 0.2)]]);
    assert_eq!(a.values, vec![Some(0.5), Some(0.0)]);
    // The oracle: per prompt the cheapest model that is right.
    let cheap = ModelData {
        cost: vec![1.0; 3],
        ..weak.clone()
    };
    let dear = ModelData {
        cost: vec![5.0; 3],
        ..strong.clone()
    };
    let o = oracle(&[cheap, dear], &[0, 1]);
    assert_eq!((o.cost, o.quality), (11.0 / 3.0, 1.0));
    // Random routing between (1, 0.4) and (5, 0.8): at cost 3, 0.6.
    assert!(close(
        random_baseline(&[(1.0, 0.4), (5.0, 0.8)], 3.0).unwrap(),
        0.6
    ));
    assert_eq!(random_baseline(&[(1.0, 0.4), (5.0, 0.8)], 0.5), None);
}
