//! The cells both paths search: reducing prompts to cells changes no number. On small random
//! inputs with many ties (halves and whole numbers, so every sum is exact), each chain at
//! every threshold vector does on the cells what it does prompt by prompt, the searched pick is
//! the same, the oracle's exact sums equal the naive oracle, and merging halves or keeping a
//! subset of the models gives the table built directly.

use proptest::prelude::*;

use super::*;

/// The models' rows at `rows`.
fn part(models: &[ModelData], rows: &[usize]) -> Vec<ModelData> {
    models.iter().map(|m| m.rows(rows)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cells_evaluate_and_choose_as_the_prompts_do(models in models_strategy()) {
        let n = models[0].confidence.len();
        let table = ChainTable::of_prompts(&models, -1);
        let cells = table.model_data();
        prop_assert_eq!(table.records(), n as u64);
        prop_assert_eq!(cells[0].prompts(), n);
        prop_assert!(table.rows() <= n);
        let order: Vec<usize> = (0..models.len()).collect();
        let chains = all_chains(&order);
        for chain in &chains {
            for taus in combos(&models, chain) {
                let by_prompt = evaluate(&models, chain, &taus);
                let by_cell = evaluate(&cells, chain, &taus);
                prop_assert_eq!(&by_prompt, &by_cell);
            }
        }
        for goal in [
            ChainGoal::MinQuality { target: 0.5 },
            ChainGoal::Budget { max_cost: 2.0 },
        ] {
            let pick = |m: &[ModelData]| {
                choose(&search_all(m, &chains), &goal, n).pick.map(|p| {
                    (p.point.cost, p.point.quality)
                })
            };
            prop_assert_eq!(pick(&models), pick(&cells));
        }
        let naive = oracle(&models, &order);
        prop_assert_eq!(table.oracle_summary(), Some(naive));
    }

    #[test]
    fn halves_merge_and_subsets_regroup_to_the_direct_table(models in models_strategy()) {
        let n = models[0].confidence.len();
        let (first, second): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 3 == 0);
        let whole = ChainTable::of_prompts(&models, 2);
        let mut merged = ChainTable::of_prompts(&part(&models, &first), 2);
        merged.merge(ChainTable::of_prompts(&part(&models, &second), 2)).unwrap();
        prop_assert_eq!(&merged, &whole);
        let names = vec![models[0].name.clone(), models[models.len() - 1].name.clone()];
        let subset: Vec<ModelData> =
            models.iter().filter(|m| names.contains(&m.name)).cloned().collect();
        let mut direct = ChainTable::of_prompts(&subset, 2);
        let restricted = whole.restrict(&names);
        // Kept whole (two models), the oracle sums stay the subset's own.
        let all = models.len() == 2;
        prop_assert_eq!(restricted.oracle, all);
        prop_assert_eq!(restricted.oracle_summary().is_some(), all);
        // Everything but the oracle sums (over all the models, not the subset) is the same.
        direct.oracle = all;
        prop_assert_eq!(restricted.model_data(), direct.model_data());
        prop_assert_eq!(restricted.records(), direct.records());
    }
}

#[test]
fn tables_of_other_models_or_resolutions_do_not_merge() {
    let model = |name: &str, latency: bool| ModelData {
        name: name.into(),
        confidence: vec![0.5],
        quality: vec![1.0],
        cost: vec![1.0],
        latency_ms: latency.then(|| vec![3.0]),
        weight: None,
    };
    let table = |names: [&str; 2], latency: bool, k: i64| {
        ChainTable::of_prompts(&[model(names[0], latency), model(names[1], false)], k)
    };
    let mut base = table(["a", "b"], true, -1);
    let other = base.merge(table(["a", "c"], true, -1)).unwrap_err();
    assert_eq!(
        other.to_string(),
        "its models (a, c) differ from the first input's (a, b)"
    );
    let coarser = base.merge(table(["a", "b"], true, 3)).unwrap_err();
    assert!(coarser.to_string().contains("resolution (3)"), "{coarser}");
    let untimed = base.merge(table(["a", "b"], false, -1)).unwrap_err();
    assert!(untimed.to_string().contains("\"a\""), "{untimed}");
    // Models are kept in name order whatever order they came in.
    assert_eq!(table(["b", "a"], false, -1).models, vec!["a", "b"]);
}

#[test]
fn a_resolution_floors_every_models_key() {
    // 0.30 and 0.26 floor to 0.25 at 2^-2; 0.9 to 0.75: two prompts share a cell.
    let model = |name: &str, c: [f64; 3]| ModelData {
        name: name.into(),
        confidence: c.to_vec(),
        quality: vec![1.0, 0.0, 1.0],
        cost: vec![1.0, 2.0, 4.0],
        latency_ms: None,
        weight: None,
    };
    let table = ChainTable::of_prompts(
        &[model("a", [0.30, 0.26, 0.9]), model("b", [0.5, 0.5, 0.5])],
        2,
    );
    let cells = table.model_data();
    assert_eq!(cells[0].confidence, vec![0.25, 0.75]);
    assert_eq!(cells[0].weight, Some(vec![2, 1]));
    assert_eq!(cells[0].quality, vec![1.0, 1.0]);
    assert_eq!(cells[0].cost, vec![3.0, 4.0]);
    assert_eq!(cells[1].confidence, vec![0.5, 0.5]);
}
