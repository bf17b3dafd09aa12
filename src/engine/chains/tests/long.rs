//! The four- and five-stage search (`pair.rs`) against naive enumeration: every threshold
//! combination of the chain (each stage's distinct confidences, or its grid, plus "answer
//! nothing"), each evaluated prompt by prompt by the one rule in `model.rs`, reduced to its
//! Pareto frontier. Small random inputs with many ties and zero costs; integer costs and
//! qualities in halves keep every sum exact, so frontiers must be equal point for point.

use proptest::prelude::*;

use super::super::*;

/// Each stage's candidate thresholds: its grid (`Some(g)`: `quantile_grid`, as the search uses)
/// or every distinct confidence, plus "answer nothing".
fn candidates(conf: &[f64], grid: Option<usize>) -> Vec<f64> {
    let mut d = match grid {
        Some(g) => quantile_grid(conf, g),
        None => {
            let mut d = conf.to_vec();
            d.sort_by(f64::total_cmp);
            d.dedup();
            d
        }
    };
    d.push(f64::INFINITY);
    d
}

/// The naive frontier: every combination evaluated, sorted by mean cost (then quality, highest
/// first), each point kept iff its quality beats every cheaper-or-equal one.
fn naive(models: &[ModelData], chain: &Chain, grid: &[Option<usize>]) -> Vec<(f64, f64)> {
    let k = chain.len();
    let mut combos: Vec<Vec<f64>> = vec![Vec::new()];
    for (s, &m) in chain.stages[..k - 1].iter().enumerate() {
        let g = if s + 2 < k { grid[s] } else { None };
        let c = candidates(&models[m].confidence, g);
        combos = combos
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
    let mut points: Vec<(f64, f64)> = combos
        .iter()
        .map(|taus| {
            let e = evaluate(models, chain, taus);
            (e.cost, e.quality)
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in points {
        if out.last().is_none_or(|l| p.1 > l.1) {
            out.push(p);
        }
    }
    out
}

fn column(n: usize, values: u8) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..values, n)
}

/// Four or five models over 2..12 prompts: confidences in quarters (many ties), qualities in
/// halves, integer costs 0..3 (zero costs make equal-cost points).
fn long_models() -> impl Strategy<Value = Vec<ModelData>> {
    (2usize..12, 4usize..6).prop_flat_map(|(n, m)| {
        prop::collection::vec((column(n, 5), column(n, 3), column(n, 4)), m).prop_map(|cols| {
            cols.into_iter()
                .enumerate()
                .map(|(j, (c, q, k))| ModelData {
                    name: format!("m{j}"),
                    confidence: c.into_iter().map(|x| f64::from(x) / 4.0).collect(),
                    quality: q.into_iter().map(|x| f64::from(x) / 2.0).collect(),
                    cost: k.into_iter().map(f64::from).collect(),
                    latency_ms: None,
                    weight: None,
                })
                .collect()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Issue 16 (speed): the pair sweep's frontier of every four- and five-stage chain equals
    /// the naive one point for point, exact and on a coarse grid, and every frontier point's
    /// thresholds reproduce it under `evaluate`.
    #[test]
    fn long_chain_frontier_equals_naive_enumeration(models in long_models(), g in 2usize..4) {
        let n = models[0].confidence.len() as f64;
        let order: Vec<usize> = (0..models.len()).collect();
        for chain in all_chains(&order).into_iter().filter(|c| c.len() >= 4) {
            for grid in [[None; 8], [Some(g); 8]] {
                let fast = frontier_of(&models, &chain, &grid);
                let means: Vec<(f64, f64)> =
                    fast.iter().map(|p| (p.cost / n, p.quality / n)).collect();
                prop_assert_eq!(&means, &naive(&models, &chain, &grid), "{:?} {:?}", chain, grid);
                for p in &fast {
                    let e = evaluate(&models, &chain, &p.taus[..chain.len() - 1]);
                    prop_assert_eq!((e.cost, e.quality), (p.cost / n, p.quality / n));
                }
            }
        }
    }
}
