//! The chain's semantics: models' columns, the chains to consider, and what one chain at given
//! thresholds does on the records (cost, quality, latency, the per-stage funnel).
//!
//! Owns the one evaluation rule every other part checks against. It must not search or choose.

/// The most models a run considers (chains: 2^8 − 1 = 255).
pub const MAX_MODELS: usize = 8;

/// Thresholds of a chain's stages before the last; unused entries are NaN.
pub type Taus = [f64; MAX_MODELS - 1];

/// One model's columns over the same prompts, in the same order as every other model's.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelData {
    /// The model's name as in the input.
    pub name: String,
    /// Its confidence per prompt.
    pub confidence: Vec<f64>,
    /// Its answer's quality per prompt, in [0, 1].
    pub quality: Vec<f64>,
    /// Its cost per prompt (currency units).
    pub cost: Vec<f64>,
    /// Its latency per prompt (milliseconds), when known.
    pub latency_ms: Option<Vec<f64>>,
    /// Prompts each row stands for (`None`: one each). A row of an aggregate's cells stands for
    /// its count, and its quality, cost and latency are then the cell's sums.
    pub weight: Option<Vec<u64>>,
}

impl ModelData {
    /// Mean cost per request (currency units).
    pub fn mean_cost(&self) -> f64 {
        self.mean(&self.cost)
    }

    /// Mean quality.
    pub fn mean_quality(&self) -> f64 {
        self.mean(&self.quality)
    }

    /// Mean latency (milliseconds), when known.
    pub fn mean_latency(&self) -> Option<f64> {
        self.latency_ms.as_deref().map(|l| self.mean(l))
    }

    /// The prompts row `i` stands for.
    pub fn weight_at(&self, i: usize) -> u64 {
        self.weight.as_ref().map_or(1, |w| w[i])
    }

    /// The prompts all rows stand for.
    pub fn prompts(&self) -> usize {
        match &self.weight {
            None => self.confidence.len(),
            Some(w) => w.iter().sum::<u64>() as usize,
        }
    }

    /// Σ v over the rows divided by the prompts they stand for (0 without prompts).
    fn mean(&self, v: &[f64]) -> f64 {
        match self.prompts() {
            0 => 0.0,
            n => v.iter().sum::<f64>() / n as f64,
        }
    }

    /// The prompts where `keep` is true, in order.
    pub fn select(&self, keep: &[bool]) -> ModelData {
        let pick = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| *x)
                .collect()
        };
        ModelData {
            name: self.name.clone(),
            confidence: pick(&self.confidence),
            quality: pick(&self.quality),
            cost: pick(&self.cost),
            latency_ms: self.latency_ms.as_deref().map(pick),
            weight: self.weight.as_ref().map(|w| {
                w.iter()
                    .zip(keep)
                    .filter(|(_, k)| **k)
                    .map(|(x, _)| *x)
                    .collect()
            }),
        }
    }

    /// The prompts at `rows` (with repeats), in that order.
    pub fn rows(&self, rows: &[usize]) -> ModelData {
        let pick = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&r| v[r]).collect() };
        ModelData {
            name: self.name.clone(),
            confidence: pick(&self.confidence),
            quality: pick(&self.quality),
            cost: pick(&self.cost),
            latency_ms: self.latency_ms.as_deref().map(pick),
            weight: (self.weight.as_ref()).map(|w| rows.iter().map(|&r| w[r]).collect()),
        }
    }
}

/// An ordered subsequence of the models: indices into the model list, first stage first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chain {
    /// Model indices, in stage order.
    pub stages: Vec<usize>,
}

impl Chain {
    /// `a → b → c` with the models' names.
    pub fn label(&self, models: &[ModelData]) -> String {
        self.stages
            .iter()
            .map(|&m| models[m].name.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Number of stages.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Never true: a chain has at least one stage.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }
}

/// Every non-empty subsequence of `order` (the models in stage order), singles first, then
/// pairs, and so on; within a length, in lexicographic order of positions in `order`.
pub fn all_chains(order: &[usize]) -> Vec<Chain> {
    let m = order.len();
    let mut chains: Vec<Chain> = (1u32..(1 << m))
        .map(|mask| Chain {
            stages: (0..m)
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| order[b])
                .collect(),
        })
        .collect();
    let position = |model: usize| order.iter().position(|&o| o == model).unwrap_or(0);
    chains.sort_by(|a, b| {
        a.len().cmp(&b.len()).then_with(|| {
            let pa: Vec<usize> = a.stages.iter().map(|&s| position(s)).collect();
            let pb: Vec<usize> = b.stages.iter().map(|&s| position(s)).collect();
            pa.cmp(&pb)
        })
    });
    chains
}

/// One operating point of a chain: totals over the prompts (divide by n for means).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Σ cost over the prompts.
    pub cost: f64,
    /// Σ quality over the prompts.
    pub quality: f64,
    /// The thresholds (`f64::INFINITY`: the stage answers nothing).
    pub taus: Taus,
}

/// A chain's Pareto frontier: cost ascending, quality strictly increasing.
pub type Frontier = Vec<Point>;

/// One chain and its frontier.
#[derive(Debug, Clone)]
pub struct Searched {
    /// The chain.
    pub chain: Chain,
    /// Its frontier.
    pub frontier: Frontier,
    /// The grid of outer thresholds per stage, when the search was gridded (`None`: exact).
    pub grid: Option<usize>,
}

/// What one stage did at a chain's thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFunnel {
    /// The model's index.
    pub model: usize,
    /// Prompts that reached this stage.
    pub reached: usize,
    /// Prompts this stage answered.
    pub answered: usize,
    /// Mean quality of its answers (`None`: it answered none).
    pub quality: Option<f64>,
    /// Its spend on prompts it passed on, per request (currency units): the structural cost of
    /// answering cheap-first.
    pub passed_on_cost: f64,
}

/// A chain at its thresholds, evaluated prompt by prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Prompts.
    pub n: usize,
    /// Mean cost per request (currency units).
    pub cost: f64,
    /// Mean quality.
    pub quality: f64,
    /// Mean latency (milliseconds), when every stage's latency is known.
    pub latency_ms: Option<f64>,
    /// Per stage, first first.
    pub stages: Vec<StageFunnel>,
}

/// Runs `chain` at `taus` on every prompt: the one definition of a chain's behaviour.
pub fn evaluate(models: &[ModelData], chain: &Chain, taus: &[f64]) -> Evaluation {
    let n = models[chain.stages[0]].confidence.len();
    evaluate_rows(models, chain, taus, 0..n)
}

/// Runs `chain` at `taus` on the prompts at `rows` (repeats count again: a resample); a row
/// that stands for several prompts counts for each.
pub fn evaluate_rows(
    models: &[ModelData],
    chain: &Chain,
    taus: &[f64],
    rows: impl ExactSizeIterator<Item = usize>,
) -> Evaluation {
    debug_assert!(!chain.is_empty());
    let mut n = 0usize;
    let k = chain.len();
    let mut stages: Vec<StageFunnel> = chain
        .stages
        .iter()
        .map(|&model| StageFunnel {
            model,
            reached: 0,
            answered: 0,
            quality: None,
            passed_on_cost: 0.0,
        })
        .collect();
    let mut stage_quality = vec![0.0; k];
    let (mut cost, mut quality, mut latency) = (0.0, 0.0, 0.0);
    let has_latency = chain.stages.iter().all(|&m| models[m].latency_ms.is_some());
    let weights = models[chain.stages[0]].weight.as_deref();
    for i in rows {
        let w = weights.map_or(1, |w| w[i] as usize);
        n += w;
        for (s, &m) in chain.stages.iter().enumerate() {
            let data = &models[m];
            stages[s].reached += w;
            cost += data.cost[i];
            if let Some(l) = &data.latency_ms {
                latency += l[i];
            }
            if s + 1 == k || data.confidence[i] >= taus[s] {
                stages[s].answered += w;
                stage_quality[s] += data.quality[i];
                quality += data.quality[i];
                break;
            }
            stages[s].passed_on_cost += data.cost[i];
        }
    }
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    for (f, q) in stages.iter_mut().zip(stage_quality) {
        f.quality = (f.answered > 0).then(|| q / f.answered as f64);
        f.passed_on_cost = per(f.passed_on_cost);
    }
    Evaluation {
        n,
        cost: per(cost),
        quality: per(quality),
        latency_ms: has_latency.then(|| per(latency)),
        stages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, conf: &[f64], q: &[f64], c: f64) -> ModelData {
        ModelData {
            name: name.into(),
            confidence: conf.to_vec(),
            quality: q.to_vec(),
            cost: vec![c; conf.len()],
            latency_ms: Some(vec![10.0 * c; conf.len()]),
            weight: None,
        }
    }

    #[test]
    fn chains_of_three_models_are_seven_in_order() {
        let chains = all_chains(&[2, 0, 1]);
        let stages: Vec<Vec<usize>> = chains.into_iter().map(|c| c.stages).collect();
        assert_eq!(
            stages,
            vec![
                vec![2],
                vec![0],
                vec![1],
                vec![2, 0],
                vec![2, 1],
                vec![0, 1],
                vec![2, 0, 1]
            ]
        );
        assert_eq!(all_chains(&[0, 1, 2, 3, 4]).len(), 31); // 26 of two or more + 5 singles
    }

    #[test]
    fn three_stage_chain_by_hand() {
        // Prompt 0: a confident (0.9) -> a answers, q 1. Prompt 1: a 0.2, b 0.8 -> b answers,
        // q 0. Prompt 2: a 0.2, b 0.1 -> c answers, q 1.
        let m = vec![
            model("a", &[0.9, 0.2, 0.2], &[1.0, 0.0, 0.0], 1.0),
            model("b", &[0.5, 0.8, 0.1], &[0.0, 0.0, 1.0], 2.0),
            model("c", &[0.0, 0.0, 0.0], &[1.0, 1.0, 1.0], 4.0),
        ];
        let chain = Chain {
            stages: vec![0, 1, 2],
        };
        let e = evaluate(&m, &chain, &[0.5, 0.5]);
        // Costs: 1 + (1 + 2) + (1 + 2 + 4) = 11 over 3 prompts.
        assert_eq!(e.cost, 11.0 / 3.0);
        assert_eq!(e.quality, 2.0 / 3.0);
        assert_eq!(e.latency_ms, Some(110.0 / 3.0));
        let reached: Vec<usize> = e.stages.iter().map(|s| s.reached).collect();
        assert_eq!(reached, vec![3, 2, 1]);
        // a passed two prompts on (cost 1 each), b one (cost 2).
        assert_eq!(e.stages[0].passed_on_cost, 2.0 / 3.0);
        assert_eq!(e.stages[1].passed_on_cost, 2.0 / 3.0);
        assert_eq!(e.stages[2].passed_on_cost, 0.0);
        assert_eq!(e.stages[1].quality, Some(0.0));
        assert_eq!(chain.label(&m), "a → b → c");
    }
}
