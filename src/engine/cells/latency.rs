//! The latency sketch of a cell table: per cell, the counts and exact sums of its records'
//! latencies by bucket, on each path (accepted: the small model's time; escalated: the small
//! model's and then the large model's). Pure.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::{CellTable, SegmentKey, key};
use crate::engine::exact::Exact;
use crate::engine::latency::Latency;
use crate::engine::latency_sketch::{bucket, percentile};
use crate::engine::sums::ascending_key;

/// The records' latencies in milliseconds (both models, every record).
#[derive(Debug, Clone, Copy)]
pub struct LatencyInput<'a> {
    /// The small model's.
    pub small: &'a [f64],
    /// The large model's.
    pub large: &'a [f64],
}

/// One confidence's latency buckets, pooled over segments: per path, (bucket, count) ascending,
/// and the exact sum of milliseconds.
#[derive(Debug, Clone, Default)]
pub struct PathHistograms {
    /// Per path (0 accepted, 1 escalated): buckets with their counts, ascending.
    pub buckets: [Vec<(u64, u64)>; 2],
    /// Per path: Σ milliseconds.
    pub sums: [Exact; 2],
}

/// One confidence's buckets while pooling: its confidence, count per (path, bucket), Σ per path.
type Pooled = (f64, BTreeMap<(usize, u64), u64>, [Exact; 2]);

/// Bits of a latency slot: the path above the bucket (buckets are at most `MAX_BUCKET`, below
/// 2^16).
const CELL_SHIFT: u32 = 17;

/// The slot of a (path, bucket), in the order the sketch keeps them.
fn slot(path: usize, bucket: u64) -> u32 {
    debug_assert!(path < 2 && bucket < 1 << 16);
    (path as u32) << 16 | bucket as u32
}

/// One cell's latency sketch: its confidence and, per (path, bucket) in ascending order, the
/// count of latencies and their exact sum in milliseconds. Kept per cell so that adding a
/// record's latency finds its bucket by a short search in memory the cell owns.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CellLatency {
    confidence: f64,
    /// `path << 16 | bucket`, ascending (buckets are at most `MAX_BUCKET`, below 2^16).
    slots: Vec<u32>,
    /// Per slot, the count and the sum side by side: one cache line to update.
    values: Vec<(u64, Exact)>,
}

impl CellLatency {
    fn new(confidence: f64) -> CellLatency {
        CellLatency {
            confidence,
            slots: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Buckets in the sketch.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The (count, sum) of a (path, bucket), made empty when new.
    fn at(&mut self, path: usize, bucket: u64) -> (&mut u64, &mut Exact) {
        let slot = slot(path, bucket);
        let i = match self.slots.binary_search(&slot) {
            Ok(i) => i,
            Err(i) => {
                self.slots.insert(i, slot);
                self.values.insert(i, (0, Exact::default()));
                i
            }
        };
        let (count, sum) = &mut self.values[i];
        (count, sum)
    }

    /// Adds latencies keyed by their slot (the key's low [`CELL_SHIFT`] bits), in ascending
    /// order: one walk along the slots.
    fn add_sorted(&mut self, keyed: &[(u64, f64)]) {
        let mut i = 0;
        for run in keyed.chunk_by(|a, b| a.0 == b.0) {
            let slot = (run[0].0 & ((1 << CELL_SHIFT) - 1)) as u32;
            while i < self.slots.len() && self.slots[i] < slot {
                i += 1;
            }
            if self.slots.get(i) != Some(&slot) {
                self.slots.insert(i, slot);
                self.values.insert(i, (0, Exact::default()));
            }
            let (count, sum) = &mut self.values[i];
            *count += run.len() as u64;
            run.iter().for_each(|&(_, ms)| sum.add(ms));
        }
    }

    /// Every (path, bucket, count, sum), ascending.
    fn buckets(&self) -> impl Iterator<Item = (usize, u64, u64, &Exact)> {
        (self.slots.iter().zip(&self.values))
            .map(|(&s, (n, sum))| ((s >> 16) as usize, u64::from(s & 0xffff), *n, sum))
    }
}

impl CellTable {
    /// The id of a segment's values in [`CellTable::latencies`].
    fn segment_id(&mut self, segments: SegmentKey) -> u32 {
        let next = self.segment_keys.len() as u32;
        *self.segment_ids.entry(segments.clone()).or_insert_with(|| {
            self.segment_keys.push(segments);
            next
        })
    }

    /// The latency sketch of a cell.
    fn cell_latency(&mut self, segment: u32, confidence: f64) -> &mut CellLatency {
        (self.latencies)
            .entry((segment, ascending_key(confidence)))
            .or_insert_with(|| CellLatency::new(confidence))
    }

    /// Adds `count` latencies summing to `sum` to a bucket of one cell's path.
    pub fn add_latency(
        &mut self,
        segments: SegmentKey,
        confidence: f64,
        (path, bucket): (usize, u64),
        (count, sum): (u64, Exact),
    ) {
        let id = self.segment_id(segments);
        let (n, total) = self.cell_latency(id, confidence).at(path, bucket);
        *n += count;
        total.plus(&sum);
    }

    /// Adds every latency bucket of `other`.
    pub(super) fn merge_latencies(&mut self, other: &CellTable) {
        let ids: Vec<u32> = (other.segment_keys.iter())
            .map(|k| self.segment_id(k.clone()))
            .collect();
        for (&(segment, _), theirs) in &other.latencies {
            let ours = self.cell_latency(ids[segment as usize], theirs.confidence);
            for (path, b, count, sum) in theirs.buckets() {
                let (n, total) = ours.at(path, b);
                *n += count;
                total.plus(sum);
            }
        }
    }

    /// Sketches the latencies of the records (safeguarded ones excepted), record i in segment
    /// `names[codes[i]]` (`[]` without `groups`).
    pub fn add_record_latencies(
        &mut self,
        confidence: &[f64],
        latency: LatencyInput<'_>,
        safeguarded: Option<&[bool]>,
        groups: Option<(&[u32], &[SegmentKey])>,
    ) {
        let ids: Vec<u32> = match groups {
            Some((_, names)) => names.iter().map(|n| self.segment_id(n.clone())).collect(),
            None => vec![self.segment_id(Vec::new())],
        };
        let resolution = self.resolution;
        // Each (record, path) keyed by its cell (numbered within these records), path and
        // bucket, then sorted: each cell's buckets are then met in the order they are kept, so
        // the sketch is walked in sequence instead of at random (it outgrows the cache).
        let mut local: HashMap<(u32, u64), u64, FixedState> = HashMap::default();
        let mut cells: Vec<(u32, f64)> = Vec::new();
        let mut keyed: Vec<(u64, f64)> = Vec::with_capacity(2 * confidence.len());
        for i in 0..confidence.len() {
            if safeguarded.is_some_and(|s| s[i]) {
                continue;
            }
            let segment = ids[groups.map_or(0, |(codes, _)| codes[i]) as usize];
            let c = key(confidence[i], resolution);
            let id = *local.entry((segment, ascending_key(c))).or_insert_with(|| {
                cells.push((segment, c));
                cells.len() as u64 - 1
            });
            let paths = [latency.small[i], latency.small[i] + latency.large[i]];
            for (path, ms) in paths.into_iter().enumerate() {
                keyed.push((id << CELL_SHIFT | slot(path, bucket(ms)) as u64, ms));
            }
        }
        // The sums are exact, so their order does not matter.
        keyed.par_sort_unstable_by_key(|&(k, _)| k);
        for of_cell in keyed.chunk_by(|a, b| a.0 >> CELL_SHIFT == b.0 >> CELL_SHIFT) {
            let (segment, c) = cells[(of_cell[0].0 >> CELL_SHIFT) as usize];
            self.cell_latency(segment, c).add_sorted(of_cell);
        }
    }

    /// Every latency bucket in key order: segment values, descending confidence, path, bucket;
    /// with its confidence, count and sum.
    pub fn latency_rows(&self) -> Vec<(&SegmentKey, f64, usize, u64, u64, &Exact)> {
        let mut cells: Vec<_> = self.latencies.iter().collect();
        let keys = &self.segment_keys;
        cells.sort_unstable_by(|(x, _), (y, _)| {
            (keys[x.0 as usize].cmp(&keys[y.0 as usize])).then(y.1.cmp(&x.1))
        });
        (cells.into_iter())
            .flat_map(|(&(s, _), cell)| {
                (cell.buckets()).map(move |(path, b, n, sum)| {
                    (&keys[s as usize], cell.confidence, path, b, n, sum)
                })
            })
            .collect()
    }

    /// The latency buckets pooled over the segments `held` does not pick, one entry per
    /// confidence, descending (the confidences of [`CellTable::pooled_except`]); and those of the
    /// segments it picks, merged.
    pub fn pooled_latency(
        &self,
        held: &dyn Fn(&SegmentKey) -> bool,
    ) -> (Vec<(f64, PathHistograms)>, PathHistograms) {
        let mut by_key: BTreeMap<Reverse<u64>, Pooled> = BTreeMap::new();
        let mut kept: BTreeMap<(usize, u64), u64> = BTreeMap::new();
        let mut kept_sums: [Exact; 2] = Default::default();
        for (&(segment, k), cell) in &self.latencies {
            if held(&self.segment_keys[segment as usize]) {
                for (path, b, n, sum) in cell.buckets() {
                    *kept.entry((path, b)).or_insert(0) += n;
                    kept_sums[path].plus(sum);
                }
                continue;
            }
            let entry = by_key
                .entry(Reverse(k))
                .or_insert_with(|| (cell.confidence, BTreeMap::new(), Default::default()));
            for (path, b, n, sum) in cell.buckets() {
                *entry.1.entry((path, b)).or_insert(0) += n;
                entry.2[path].plus(sum);
            }
        }
        let histograms = |counts: BTreeMap<(usize, u64), u64>, sums: [Exact; 2]| {
            let mut h = PathHistograms {
                sums,
                ..Default::default()
            };
            for ((path, b), n) in counts {
                h.buckets[path].push((b, n));
            }
            h
        };
        let pooled = (by_key.into_values())
            .map(|(c, counts, sums)| (c, histograms(counts, sums)))
            .collect();
        (pooled, histograms(kept, kept_sums))
    }
}

/// Cascade latency at each routing threshold (accept iff confidence ≥ it) from the pooled
/// sketch: the mean exactly as the records give it (Σ accepted-path + Σ escalated-path
/// milliseconds, over the records), the percentiles as bucket middles
/// ([`crate::engine::latency_sketch::percentile`]).
/// `held`: the latencies of records an override sends to the large model (escalated always).
pub fn latency_at(
    pooled: &[(f64, PathHistograms)],
    held: &PathHistograms,
    thresholds: &[f64],
) -> Vec<Latency> {
    let size = (pooled.iter().map(|(_, h)| h).chain([held]))
        .flat_map(|h| h.buckets.iter().flatten())
        .map(|&(b, _)| b as usize + 1)
        .max()
        .unwrap_or(0);
    // Start with every record escalated; lowering the threshold moves whole confidences (they
    // are in descending order) to the accepted path.
    let (mut accepted, mut escalated) = (vec![0u64; size], vec![0u64; size]);
    let (mut accepted_sum, mut escalated_sum) = (Exact::default(), Exact::default());
    for h in pooled.iter().map(|(_, h)| h).chain([held]) {
        h.buckets[1]
            .iter()
            .for_each(|&(b, n)| escalated[b as usize] += n);
        escalated_sum.plus(&h.sums[1]);
    }
    let n: u64 = escalated.iter().sum();
    let mut order: Vec<usize> = (0..thresholds.len()).collect();
    order.sort_by(|&a, &b| thresholds[b].total_cmp(&thresholds[a]));
    let mut out = vec![None; thresholds.len()];
    let mut moved = 0;
    for k in order {
        while moved < pooled.len() && pooled[moved].0 >= thresholds[k] {
            let h = &pooled[moved].1;
            h.buckets[0]
                .iter()
                .for_each(|&(b, c)| accepted[b as usize] += c);
            h.buckets[1]
                .iter()
                .for_each(|&(b, c)| escalated[b as usize] -= c);
            accepted_sum.plus(&h.sums[0]);
            escalated_sum = minus(&escalated_sum, &h.sums[1]);
            moved += 1;
        }
        let histogram: Vec<(u64, u64)> = (0..size)
            .map(|b| (b as u64, accepted[b] + escalated[b]))
            .filter(|&(_, c)| c > 0)
            .collect();
        let p = |q: f64| percentile(&histogram, q).unwrap_or(0.0);
        out[k] = Some(Latency {
            mean: (accepted_sum.value() + escalated_sum.value()) / n as f64,
            p50: p(0.50),
            p95: p(0.95),
            p99: p(0.99),
        });
    }
    out.into_iter()
        .map(|l| l.expect("every threshold"))
        .collect()
}

/// a − b for exact sums with b ≤ a limb by limb after carrying (b is a part of a).
fn minus(a: &Exact, b: &Exact) -> Exact {
    Exact {
        p0: a.p0 - b.p0,
        p1: a.p1 - b.p1,
        p2: a.p2 - b.p2,
    }
}
