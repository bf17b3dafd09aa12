//! The chain aggregate in memory: prompts grouped by every model's confidence key, with exact
//! sums per model, merged by addition.
//!
//! Owns the one reduction both paths take before a chain search: a multi-model eval set's
//! prompts and an aggregate's rows become the same cells, in the same order, with the same sums
//! rounded once, so a chain report from records and one from their aggregate agree to the last
//! bit. Models are kept in name order and cells in ascending order of their keys (model by
//! model), whatever order the input had. Pure; no I/O.

use std::collections::BTreeMap;

use super::metrics::{OracleSummary, oracle_answer};
use super::model::ModelData;
use crate::engine::cells::key;
use crate::engine::exact::Exact;
use crate::engine::sums::{ascending_key, from_ascending_key};
use crate::input::aggregate::chains::ChainAggregate;

/// One cell: the prompts whose models' confidence keys are all equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainCell {
    /// Prompts in the cell.
    pub records: u64,
    /// Σ quality, per model (table order).
    pub quality: Vec<Exact>,
    /// Σ cost, per model.
    pub cost: Vec<Exact>,
    /// Σ latency (ms), per model; zero for a model without latencies.
    pub latency: Vec<Exact>,
    /// Σ of the oracle's quality over the table's models.
    pub oracle_quality: Exact,
    /// Σ of the oracle's cost.
    pub oracle_cost: Exact,
}

impl ChainCell {
    fn plus(&mut self, other: &ChainCell) {
        self.records += other.records;
        let pairs = (self.quality.iter_mut().zip(&other.quality))
            .chain(self.cost.iter_mut().zip(&other.cost))
            .chain(self.latency.iter_mut().zip(&other.latency));
        for (a, b) in pairs {
            a.plus(b);
        }
        self.oracle_quality.plus(&other.oracle_quality);
        self.oracle_cost.plus(&other.oracle_cost);
    }
}

/// Prompts grouped by their models' confidence keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainTable {
    /// Model names, in byte order.
    pub models: Vec<String>,
    /// -1: exact confidences; k: floored to multiples of 2^-k.
    pub resolution: i64,
    /// Per model, whether it carries latencies.
    pub latency: Vec<bool>,
    /// Whether the oracle sums are over exactly these models (false once restricted).
    pub oracle: bool,
    cells: BTreeMap<Vec<u64>, ChainCell>,
}

/// Why two chain aggregates cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainMergeError {
    /// Different models.
    #[error("its models ({found}) differ from the first input's ({expected})")]
    Models {
        /// The first input's.
        expected: String,
        /// This input's.
        found: String,
    },
    /// Different resolutions.
    #[error("its resolution ({found}) differs from the first input's ({expected}); -1 is exact")]
    Resolution {
        /// The first input's.
        expected: i64,
        /// This input's.
        found: i64,
    },
    /// A model carries latencies in one and not in the other.
    #[error("model {model:?} has latencies in one input and not in the other")]
    Latency {
        /// The model.
        model: String,
    },
}

impl ChainTable {
    /// An empty table over `models` (any order; kept in name order with their latency flags).
    pub fn new(models: &[(String, bool)], resolution: i64) -> ChainTable {
        let mut sorted = models.to_vec();
        sorted.sort();
        ChainTable {
            models: sorted.iter().map(|(m, _)| m.clone()).collect(),
            latency: sorted.iter().map(|(_, l)| *l).collect(),
            resolution,
            oracle: true,
            cells: BTreeMap::new(),
        }
    }

    /// The table of these prompts (one row each, every model over the same prompts).
    pub fn of_prompts(models: &[ModelData], resolution: i64) -> ChainTable {
        let named: Vec<(String, bool)> = (models.iter())
            .map(|m| (m.name.clone(), m.latency_ms.is_some()))
            .collect();
        let mut table = ChainTable::new(&named, resolution);
        // Table position → index in `models`.
        let at: Vec<usize> = (table.models.iter())
            .map(|name| models.iter().position(|m| &m.name == name).unwrap_or(0))
            .collect();
        let all: Vec<usize> = (0..models.len()).collect();
        let n = models.first().map_or(0, |m| m.confidence.len());
        for i in 0..n {
            let keys = at
                .iter()
                .map(|&m| ascending_key(key(models[m].confidence[i], resolution)))
                .collect();
            let (oq, oc) = oracle_answer(models, &all, i);
            let exact = |v: f64| {
                let mut e = Exact::default();
                e.add(v);
                e
            };
            let cell = ChainCell {
                records: 1,
                quality: at.iter().map(|&m| exact(models[m].quality[i])).collect(),
                cost: at.iter().map(|&m| exact(models[m].cost[i])).collect(),
                latency: (at.iter())
                    .map(|&m| {
                        models[m]
                            .latency_ms
                            .as_ref()
                            .map_or_else(Exact::default, |l| exact(l[i]))
                    })
                    .collect(),
                oracle_quality: exact(oq),
                oracle_cost: exact(oc),
            };
            table.add(keys, &cell);
        }
        table
    }

    /// Adds a cell at these keys ([`ascending_key`] of each model's confidence key, table order).
    pub fn add(&mut self, keys: Vec<u64>, cell: &ChainCell) {
        match self.cells.get_mut(&keys) {
            Some(c) => c.plus(cell),
            None => {
                self.cells.insert(keys, cell.clone());
            }
        }
    }

    /// Adds `other`'s cells, when the two describe the same models at the same resolution.
    pub fn merge(&mut self, other: ChainTable) -> Result<(), ChainMergeError> {
        if other.models != self.models {
            return Err(ChainMergeError::Models {
                expected: self.models.join(", "),
                found: other.models.join(", "),
            });
        }
        if other.resolution != self.resolution {
            return Err(ChainMergeError::Resolution {
                expected: self.resolution,
                found: other.resolution,
            });
        }
        if let Some(m) = (0..self.models.len()).find(|&m| self.latency[m] != other.latency[m]) {
            return Err(ChainMergeError::Latency {
                model: self.models[m].clone(),
            });
        }
        self.oracle &= other.oracle;
        for (keys, cell) in other.cells {
            self.add(keys, &cell);
        }
        Ok(())
    }

    /// The table over `names` only (a subset of its models): cells that differ in the other
    /// models' keys only are merged. Its oracle sums are then not the subset's oracle.
    pub fn restrict(&self, names: &[String]) -> ChainTable {
        let keep: Vec<usize> = (0..self.models.len())
            .filter(|&m| names.contains(&self.models[m]))
            .collect();
        if keep.len() == self.models.len() {
            return self.clone();
        }
        let named: Vec<(String, bool)> = (keep.iter())
            .map(|&m| (self.models[m].clone(), self.latency[m]))
            .collect();
        let mut table = ChainTable::new(&named, self.resolution);
        table.oracle = false;
        let pick = |v: &[Exact]| keep.iter().map(|&m| v[m]).collect::<Vec<Exact>>();
        for (keys, c) in &self.cells {
            let cell = ChainCell {
                records: c.records,
                quality: pick(&c.quality),
                cost: pick(&c.cost),
                latency: pick(&c.latency),
                oracle_quality: c.oracle_quality,
                oracle_cost: c.oracle_cost,
            };
            table.add(keep.iter().map(|&m| keys[m]).collect(), &cell);
        }
        table
    }

    /// The cells with their confidence keys (table order), in ascending key order.
    pub fn cells(&self) -> impl Iterator<Item = (Vec<f64>, &ChainCell)> {
        (self.cells.iter()).map(|(k, c)| (k.iter().map(|&x| from_ascending_key(x)).collect(), c))
    }

    /// Number of cells (the rows an aggregate of it has).
    pub fn rows(&self) -> usize {
        self.cells.len()
    }

    /// Prompts over all cells.
    pub fn records(&self) -> u64 {
        self.cells.values().map(|c| c.records).sum()
    }

    /// The oracle over the table's models, when its sums are theirs.
    pub fn oracle_summary(&self) -> Option<OracleSummary> {
        self.oracle.then(|| {
            let (mut q, mut c) = (Exact::default(), Exact::default());
            for cell in self.cells.values() {
                q.plus(&cell.oracle_quality);
                c.plus(&cell.oracle_cost);
            }
            OracleSummary::of(&c, &q, self.records())
        })
    }

    /// Each model's rows, one per cell: the key, the sums rounded once, the count as weight.
    pub fn model_data(&self) -> Vec<ModelData> {
        let weight: Vec<u64> = self.cells.values().map(|c| c.records).collect();
        (0..self.models.len())
            .map(|m| ModelData {
                name: self.models[m].clone(),
                confidence: (self.cells.keys())
                    .map(|k| from_ascending_key(k[m]))
                    .collect(),
                quality: self.cells.values().map(|c| c.quality[m].value()).collect(),
                cost: self.cells.values().map(|c| c.cost[m].value()).collect(),
                latency_ms: self.latency[m]
                    .then(|| self.cells.values().map(|c| c.latency[m].value()).collect()),
                weight: Some(weight.clone()),
            })
            .collect()
    }
}

/// The table of a chain aggregate's rows (rows with equal keys merge).
pub fn table_of(aggregate: &ChainAggregate) -> ChainTable {
    let named: Vec<(String, bool)> = (aggregate.models.iter().cloned())
        .zip(aggregate.latency.iter().copied())
        .collect();
    let mut table = ChainTable::new(&named, aggregate.resolution);
    let exact = |[p0, p1, p2]: [i128; 3]| Exact { p0, p1, p2 };
    // The reader checked that the columns are in name order, the table's order.
    for row in &aggregate.rows {
        let sum = |k: usize| -> Vec<Exact> {
            (row.sums.iter())
                .map(|s| s[k].map_or_else(Exact::default, exact))
                .collect()
        };
        let cell = ChainCell {
            records: row.records,
            quality: sum(0),
            cost: sum(1),
            latency: sum(2),
            oracle_quality: exact(row.oracle[0]),
            oracle_cost: exact(row.oracle[1]),
        };
        table.add(
            row.confidence.iter().map(|&c| ascending_key(c)).collect(),
            &cell,
        );
    }
    table
}
