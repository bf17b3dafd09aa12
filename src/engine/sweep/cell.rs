//! A cell: the records of one confidence value (and one group), reduced to a count and exact
//! sums, the unit an aggregate stores and an engine's GROUP BY produces. Pure.
//!
//! A sweep of cells ([`Sweep::from_cells`](super::Sweep::from_cells)) equals the sweep of their
//! records bit for bit, because every sum in both is exact (`engine::exact`).

use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::SweepInput;
use crate::engine::exact::Exact;
use crate::engine::sums::ascending_key;

/// The records sharing one key: their count and exact sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cell {
    /// Records.
    pub records: u64,
    /// Σ small quality.
    pub small_quality: Exact,
    /// Σ large quality, when known.
    pub large_quality: Option<Exact>,
    /// Σ max(large − small quality, 0), when large labels are known.
    pub quality_lost: Option<Exact>,
    /// Σ small cost (currency units).
    pub small_cost: Exact,
    /// Σ large cost (currency units).
    pub large_cost: Exact,
    /// Records whose small quality is exactly 1.
    pub small_right: u64,
    /// Records whose small quality lies strictly between 0 and 1.
    pub small_fractional: u64,
    /// Records whose large quality is exactly 1 (0 without large labels).
    pub large_right: u64,
    /// Records whose large quality lies strictly between 0 and 1.
    pub large_fractional: u64,
}

impl Cell {
    /// Adds another cell of the same key.
    pub fn merge(&mut self, other: &Cell) {
        self.records += other.records;
        self.small_quality.plus(&other.small_quality);
        let both = |a: &mut Option<Exact>, b: &Option<Exact>| {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.plus(b);
            }
        };
        both(&mut self.large_quality, &other.large_quality);
        both(&mut self.quality_lost, &other.quality_lost);
        self.small_cost.plus(&other.small_cost);
        self.large_cost.plus(&other.large_cost);
        self.small_right += other.small_right;
        self.small_fractional += other.small_fractional;
        self.large_right += other.large_right;
        self.large_fractional += other.large_fractional;
    }

    /// A cell of no records, with large-label sums when `large` is true.
    pub fn empty(large: bool) -> Cell {
        Cell {
            large_quality: large.then(Exact::default),
            quality_lost: large.then(Exact::default),
            ..Cell::default()
        }
    }

    fn add_record(&mut self, input: &SweepInput<'_>, i: usize) {
        let sq = input.small_quality[i];
        self.records += 1;
        self.small_quality.add(sq);
        self.small_right += u64::from(sq == 1.0);
        self.small_fractional += u64::from(sq > 0.0 && sq < 1.0);
        if let (Some(lq), Some(sum), Some(lost)) = (
            input.large_quality,
            self.large_quality.as_mut(),
            self.quality_lost.as_mut(),
        ) {
            sum.add(lq[i]);
            lost.add((lq[i] - sq).max(0.0));
            self.large_right += u64::from(lq[i] == 1.0);
            self.large_fractional += u64::from(lq[i] > 0.0 && lq[i] < 1.0);
        }
        self.small_cost.add(input.costs.small.get(i));
        self.large_cost.add(input.costs.large.get(i));
    }
}

/// The cells of the records `rows` of `input` whose group (e.g. segment code) is `group(i)`,
/// keyed by (group, confidence), sorted by group then descending confidence. Safeguarded records
/// are not cells (an aggregate holds none).
pub fn cells_of(input: &SweepInput<'_>, group: &dyn Fn(usize) -> u32) -> Vec<((u32, f64), Cell)> {
    let large = input.large_quality.is_some();
    let mut map: HashMap<(u32, u64), (f64, Cell), FixedState> = HashMap::default();
    for i in 0..input.confidence.len() {
        if input.safeguarded.is_some_and(|s| s[i]) {
            continue;
        }
        // + 0.0 turns -0.0 into 0.0: one key for values that compare equal (the SQL does the same).
        let c = input.confidence[i] + 0.0;
        let entry = map
            .entry((group(i), ascending_key(c)))
            .or_insert_with(|| (c, Cell::empty(large)));
        entry.1.add_record(input, i);
    }
    let mut cells: Vec<((u32, u64), (f64, Cell))> = map.into_iter().collect();
    cells.sort_unstable_by_key(|&((g, k), _)| (g, std::cmp::Reverse(k)));
    cells
        .into_iter()
        .map(|((g, _), (c, cell))| ((g, c), cell))
        .collect()
}
