//! The chain search against brute force: every chain, every threshold combination (distinct
//! observed confidences plus "answer nothing" per stage), each prompt evaluated by the one rule
//! in `model.rs`, on small random inputs with many ties; integer-valued costs and qualities in
//! halves keep every sum exact, so the comparison is exact.

use std::cmp::Ordering;

use proptest::prelude::*;

use super::*;

mod cells;
mod long;
mod reference;

/// Candidate thresholds of a stage for the brute force: its distinct confidences and +∞.
fn candidates(conf: &[f64]) -> Vec<f64> {
    let mut d = conf.to_vec();
    d.sort_by(f64::total_cmp);
    d.dedup();
    d.push(f64::INFINITY);
    d
}

/// Every threshold vector of a chain.
fn combos(models: &[ModelData], chain: &Chain) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new()];
    for &m in &chain.stages[..chain.len() - 1] {
        let c = candidates(&models[m].confidence);
        out = out
            .into_iter()
            .flat_map(|prefix| {
                c.iter().map(move |&t| {
                    let mut v = prefix.clone();
                    v.push(t);
                    v
                })
            })
            .collect();
    }
    out
}

/// The brute-force pick: (mean cost, mean quality) and its chain, ties to fewer stages, then
/// the earlier chain.
fn brute(models: &[ModelData], chains: &[Chain], goal: &ChainGoal) -> Option<(f64, f64)> {
    let mut best: Option<((f64, f64), usize)> = None;
    for (ci, chain) in chains.iter().enumerate() {
        for taus in combos(models, chain) {
            let e = evaluate(models, chain, &taus);
            let here = (e.cost, e.quality);
            if !feasible(goal, here.0, here.1) {
                continue;
            }
            let wins = match best {
                None => true,
                Some((b, bc)) => match better(goal, here, b) {
                    Ordering::Greater => true,
                    Ordering::Equal => chain.len() < chains[bc].len(),
                    Ordering::Less => false,
                },
            };
            if wins {
                best = Some((here, ci));
            }
        }
    }
    best.map(|(p, _)| p)
}

fn model_strategy(n: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>)> {
    (
        prop::collection::vec(0u8..4, n),
        prop::collection::vec(0u8..3, n),
        prop::collection::vec(0u8..4, n),
    )
        .prop_map(|(c, q, k)| {
            (
                c.into_iter().map(|x| f64::from(x) / 4.0).collect(),
                q.into_iter().map(|x| f64::from(x) / 2.0).collect(),
                k.into_iter().map(f64::from).collect(),
            )
        })
}

fn models_strategy() -> impl Strategy<Value = Vec<ModelData>> {
    (2usize..8, 2usize..6).prop_flat_map(|(n, m)| {
        prop::collection::vec(model_strategy(n), m).prop_map(|cols| {
            cols.into_iter()
                .enumerate()
                .map(|(j, (confidence, quality, cost))| ModelData {
                    name: format!("m{j}"),
                    confidence,
                    quality,
                    cost,
                    latency_ms: None,
                    weight: None,
                })
                .collect()
        })
    })
}

fn goals(models: &[ModelData], knob: f64) -> Vec<ChainGoal> {
    let best_single = models
        .iter()
        .map(ModelData::mean_quality)
        .fold(0.0, f64::max);
    let top_cost = models.iter().map(ModelData::mean_cost).fold(0.0, f64::max);
    vec![
        ChainGoal::MinQuality { target: knob },
        ChainGoal::MaxLoss {
            max_loss: knob / 4.0,
            best_single,
        },
        ChainGoal::Budget {
            max_cost: knob * 4.0,
        },
        ChainGoal::QualityTimesSavings {
            reference_cost: top_cost,
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Issue 16 acceptance: the pick equals brute force for each objective.
    #[test]
    fn pick_equals_brute_force(models in models_strategy(), knob in 0u8..5) {
        let knob = f64::from(knob) / 4.0;
        let n = models[0].confidence.len();
        let order: Vec<usize> = (0..models.len()).collect();
        let chains = all_chains(&order);
        // Grids larger than any stage's distinct values: the gridded search is exact here.
        let searched: Vec<Searched> = chains
            .iter()
            .map(|c| Searched {
                chain: c.clone(),
                frontier: frontier_of(&models, c, &[None; 8]),
                grid: None,
            })
            .collect();
        for goal in goals(&models, knob) {
            let choice = choose(&searched, &goal, n);
            let fast = choice.pick.map(|p| (p.point.cost / n as f64, p.point.quality / n as f64));
            prop_assert_eq!(fast, brute(&models, &chains, &goal), "{:?}", goal);
            if let Some(p) = choice.pick {
                // The pick's thresholds reproduce its numbers under the one evaluation rule.
                let chain = &searched[p.chain].chain;
                let e = evaluate(&models, chain, &p.point.taus[..chain.len() - 1]);
                prop_assert_eq!((e.cost, e.quality), fast.unwrap());
            }
        }
    }

    /// A grid at least as large as the distinct confidences gives the exact frontier.
    #[test]
    fn large_grid_equals_exact(models in models_strategy()) {
        let order: Vec<usize> = (0..models.len()).collect();
        for chain in all_chains(&order) {
            let exact = frontier_of(&models, &chain, &[None; 8]);
            let gridded = frontier_of(&models, &chain, &[Some(16); 8]);
            let key = |f: &Frontier| f.iter().map(|p| (p.cost, p.quality)).collect::<Vec<_>>();
            prop_assert_eq!(key(&exact), key(&gridded));
        }
    }
}

#[test]
fn coarse_grid_gap_is_measured_and_never_beats_exact() {
    // Five models, 300 prompts with distinct confidences: the five-stage chain is gridded.
    let n = 300;
    let models: Vec<ModelData> = (0..5)
        .map(|j| ModelData {
            name: format!("m{j}"),
            confidence: (0..n)
                .map(|i| ((i * (7 + 2 * j) + j) % n) as f64 / n as f64)
                .collect(),
            quality: (0..n)
                .map(|i| f64::from(((i * (j + 3)) % 5 < 2 + j) as u8))
                .collect(),
            cost: vec![(1 << j) as f64; n],
            latency_ms: None,
            weight: None,
        })
        .collect();
    let chain = Chain {
        stages: vec![0, 1, 2, 3, 4],
    };
    let goal = ChainGoal::MinQuality { target: 0.7 };
    // Distinct confidences of stages 1-4: 300, 100 (9i mod 300), 300, 300. 300 × 100
    // combinations of the first two stages × (300 prompts + 300² (τ₃, τ₄) points) = 2.7·10⁹
    // > 4·10⁸ steps: gridded at the largest G with min(G, 300)·min(G, 100)·(300 + 300·G) ≤
    // 4·10⁸: 114 (11,400 × 34,500 = 3.933·10⁸; 11,500 × 34,800 = 4.002·10⁸).
    assert_eq!(plan(&models, &chain), Some(114));
    let gap = gap_on_subsample(&models, &chain, &goal).unwrap();
    assert_eq!(gap.grid, 114);
    assert!(gap.prompts >= 60 && gap.prompts <= 70, "{}", gap.prompts);
    if let (Some(e), Some(g)) = (gap.exact, gap.gridded) {
        assert!(
            e.0 <= g.0,
            "the exact search is never dearer: {e:?} vs {g:?}"
        );
    }
}

#[test]
fn short_chains_and_small_products_are_exact() {
    let models: Vec<ModelData> = (0..5)
        .map(|j| ModelData {
            name: format!("m{j}"),
            confidence: (0..1000).map(|i| (i % 101) as f64 / 100.0).collect(),
            quality: vec![1.0; 1000],
            cost: vec![1.0; 1000],
            latency_ms: None,
            weight: None,
        })
        .collect();
    let chain = |k: usize| Chain {
        stages: (0..k).collect(),
    };
    assert_eq!(plan(&models, &chain(3)), None);
    // Four stages: 101 × (1000 + 101²) ≈ 1.1·10⁶ steps ≤ 4·10⁸: exact.
    assert_eq!(plan(&models, &chain(4)), None);
    // Five: 101² × (1000 + 101²) ≈ 1.1·10⁸ ≤ 4·10⁸: exact (a grid of 46 before the pair sweep).
    assert_eq!(plan(&models, &chain(5)), None);
}
