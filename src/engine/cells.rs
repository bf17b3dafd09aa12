//! The aggregate in memory: cells keyed by segment values and confidence, merged by addition.
//!
//! Owns the confidence key (exact, or floored to a power of two), the merge of cells from
//! records and from aggregate rows, and the checks that two aggregates can merge. The cell
//! itself and the sweep of cells belong to `engine::sweep`. Pure; no I/O.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;

use crate::engine::exact::Exact;
use crate::engine::sums::ascending_key;
use crate::engine::sweep::SweepInput;
use crate::engine::sweep::{Cell, cells_of};

mod latency;

use crate::input::aggregate::{Aggregate, AggregateRow};
use latency::CellLatency;
pub use latency::{LatencyInput, latency_at};

/// The confidence key at `resolution` bits (-1: the confidence itself): floor(c · 2^k) / 2^k,
/// exact in double arithmetic, with -0.0 folded into 0.0 (the SQL computes the same).
pub fn key(confidence: f64, resolution: i64) -> f64 {
    if resolution < 0 {
        return confidence + 0.0;
    }
    let scale = 2f64.powi(resolution as i32);
    (confidence * scale).floor() / scale + 0.0
}

/// Segment values of one cell, in the table's segment order (`None`: absent).
pub type SegmentKey = Vec<Option<String>>;

/// An aggregate in memory: cells keyed by segment values and confidence, merged by addition.
#[derive(Debug, Clone, PartialEq)]
pub struct CellTable {
    /// Segment field names.
    pub segments: Vec<String>,
    /// -1 for exact confidences, else the resolution k.
    pub resolution: i64,
    /// Whether the large model's quality is known.
    pub large: bool,
    /// Whether the records' latencies are sketched (`latency.rs`).
    pub latency: bool,
    /// Cells by (segment values, descending confidence key), each with its confidence.
    cells: BTreeMap<(SegmentKey, Reverse<u64>), (f64, Cell)>,
    /// Latency sketches by (segment id, ascending confidence key), one per cell with latencies.
    latencies: HashMap<(u32, u64), CellLatency, FixedState>,
    /// Segment values by id, for `latencies`.
    segment_keys: Vec<SegmentKey>,
    /// Ids by segment values.
    segment_ids: HashMap<SegmentKey, u32>,
}

/// Why two aggregates cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// Different segment columns.
    #[error("its segment columns ({found}) differ from the first input's ({expected})")]
    Segments {
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
    /// One carries latencies and the other does not.
    #[error("it {found} latencies and the first input {expected}")]
    Latency {
        /// The first input's, in words.
        expected: &'static str,
        /// This input's, in words.
        found: &'static str,
    },
    /// One carries large-model labels and the other does not.
    #[error("it {found} large-model labels and the first input {expected}")]
    Large {
        /// The first input's, in words.
        expected: &'static str,
        /// This input's, in words.
        found: &'static str,
    },
}

impl MergeError {
    /// The reason in the words of one input read in parts, whose later records differ from the
    /// records before them.
    pub fn within_one_input(&self) -> String {
        let (what, found) = match self {
            MergeError::Latency { found, .. } => ("latencies", found),
            MergeError::Large { found, .. } => ("large-model quality labels", found),
            other => return other.to_string(),
        };
        let (these, before) = if *found == "has" {
            ("have", "do not")
        } else {
            ("have no", "do")
        };
        format!(
            "these records {these} {what} and the records before {before}: an optional field \
             must be in every record or in none. Read whole (--part-bytes above the file's \
             size), the records without it are named, and --skip-invalid drops them"
        )
    }
}

impl CellTable {
    /// An empty table.
    pub fn new(segments: Vec<String>, resolution: i64, large: bool, latency: bool) -> CellTable {
        CellTable {
            segments,
            resolution,
            large,
            latency,
            cells: BTreeMap::new(),
            latencies: HashMap::default(),
            segment_keys: Vec::new(),
            segment_ids: HashMap::new(),
        }
    }

    /// Whether another input with these properties can be merged into this table.
    pub fn check(
        &self,
        segments: &[String],
        resolution: i64,
        large: bool,
        latency: bool,
    ) -> Result<(), MergeError> {
        if segments != self.segments {
            return Err(MergeError::Segments {
                expected: self.segments.join(", "),
                found: segments.join(", "),
            });
        }
        if resolution != self.resolution {
            return Err(MergeError::Resolution {
                expected: self.resolution,
                found: resolution,
            });
        }
        let words = |b: bool| if b { "has" } else { "has no" };
        if large != self.large {
            return Err(MergeError::Large {
                expected: words(self.large),
                found: words(large),
            });
        }
        if latency != self.latency {
            return Err(MergeError::Latency {
                expected: words(self.latency),
                found: words(latency),
            });
        }
        Ok(())
    }

    /// Adds every cell and latency bucket of `other`, refusing a table of another shape.
    pub fn merge(&mut self, other: CellTable) -> Result<(), MergeError> {
        self.check(
            &other.segments,
            other.resolution,
            other.large,
            other.latency,
        )?;
        self.merge_latencies(&other);
        for ((segments, _), (c, cell)) in other.cells {
            self.add(segments, c, &cell);
        }
        Ok(())
    }

    /// Adds one cell under its key.
    pub fn add(&mut self, segments: SegmentKey, confidence: f64, cell: &Cell) {
        let key = (segments, Reverse(ascending_key(confidence)));
        self.cells
            .entry(key)
            .or_insert_with(|| (confidence, Cell::empty(self.large)))
            .1
            .merge(cell);
    }

    /// Adds the records of `input` (safeguarded ones excepted), record i in segment
    /// `names[codes[i]]` (every record in the one segment `[]` without `groups`).
    pub fn add_records(&mut self, input: &SweepInput<'_>, groups: Option<(&[u32], &[SegmentKey])>) {
        let resolution = self.resolution;
        let keyed: Vec<f64> = input
            .confidence
            .iter()
            .map(|&c| key(c, resolution))
            .collect();
        let quantised = SweepInput {
            confidence: &keyed,
            ..*input
        };
        let cells = match groups {
            Some((codes, _)) => cells_of(&quantised, &|i| codes[i]),
            None => cells_of(&quantised, &|_| 0),
        };
        for ((code, c), cell) in cells {
            let segment = groups.map_or_else(Vec::new, |(_, names)| names[code as usize].clone());
            self.add(segment, c, &cell);
        }
    }

    /// The cells in key order: segment values, then descending confidence.
    pub fn cells(&self) -> impl Iterator<Item = (&SegmentKey, f64, &Cell)> {
        self.cells.iter().map(|((s, _), (c, cell))| (s, *c, cell))
    }

    /// The cells of segments `held` does not pick, merged per confidence, descending; and those
    /// it picks (an override sends them to the large model), merged into one cell.
    pub fn pooled_except(
        &self,
        held: &dyn Fn(&SegmentKey) -> bool,
    ) -> (Vec<(f64, Cell)>, Option<Cell>) {
        let mut by_key: BTreeMap<Reverse<u64>, (f64, Cell)> = BTreeMap::new();
        let mut out: Option<Cell> = None;
        for ((segment, k), (c, cell)) in &self.cells {
            if held(segment) {
                out.get_or_insert_with(|| Cell::empty(self.large))
                    .merge(cell);
                continue;
            }
            by_key
                .entry(*k)
                .or_insert_with(|| (*c, Cell::empty(self.large)))
                .1
                .merge(cell);
        }
        (by_key.into_values().collect(), out)
    }

    /// Latency buckets in the table.
    pub fn latencies(&self) -> usize {
        self.latencies.values().map(CellLatency::len).sum()
    }

    /// Records in the table.
    pub fn records(&self) -> u64 {
        self.cells.values().map(|(_, c)| c.records).sum()
    }
}

impl Cell {
    /// The cell of one aggregate row.
    pub fn from_row(row: &AggregateRow) -> Cell {
        let exact = |k: usize| row.sums[k].map(|[p0, p1, p2]| Exact { p0, p1, p2 });
        Cell {
            records: row.records,
            small_quality: exact(0).unwrap_or_default(),
            large_quality: exact(1),
            quality_lost: exact(2),
            small_cost: exact(3).unwrap_or_default(),
            large_cost: exact(4).unwrap_or_default(),
            small_right: row.counts[0],
            small_fractional: row.counts[1],
            large_right: row.counts[2],
            large_fractional: row.counts[3],
        }
    }

    /// The limb sums in the order of the aggregate's columns.
    pub fn sums(&self) -> [Option<Exact>; 5] {
        [
            Some(self.small_quality),
            self.large_quality,
            self.quality_lost,
            Some(self.small_cost),
            Some(self.large_cost),
        ]
    }
}

/// An aggregate read from a file, as a table.
pub fn table_of(aggregate: &Aggregate) -> CellTable {
    let latency = aggregate.rows.iter().any(|r| r.latency.is_some());
    let mut table = CellTable::new(
        aggregate.segments.clone(),
        aggregate.resolution,
        aggregate.large,
        latency,
    );
    for row in &aggregate.rows {
        let c = row.confidence + 0.0;
        match row.latency {
            Some((path, bucket, [p0, p1, p2])) => {
                let sum = Exact { p0, p1, p2 };
                table.add_latency(row.segments.clone(), c, (path, bucket), (row.records, sum));
            }
            None => table.add(row.segments.clone(), c, &Cell::from_row(row)),
        }
    }
    table
}
