//! The latency sketch of a cell table: per cell, the counts and exact sums of its records'
//! latencies by bucket, on each path (accepted: the small model's time; escalated: the small
//! model's and then the large model's). Pure.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::{CellTable, LatencyKey, SegmentKey, key};
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

impl CellTable {
    /// The id of a segment's values in [`CellTable::latencies`].
    fn segment_id(&mut self, segments: SegmentKey) -> u32 {
        let next = self.segment_keys.len() as u32;
        *self.segment_ids.entry(segments.clone()).or_insert_with(|| {
            self.segment_keys.push(segments);
            next
        })
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
        self.add_latency_of(id, confidence, (path, bucket), (count, &sum));
    }

    fn add_latency_of(
        &mut self,
        segment: u32,
        confidence: f64,
        (path, bucket): (usize, u64),
        (count, sum): (u64, &Exact),
    ) {
        let key = (segment, ascending_key(confidence), path, bucket);
        let entry = (self.latencies)
            .entry(key)
            .or_insert_with(|| (confidence, 0, Exact::default()));
        entry.1 += count;
        entry.2.plus(sum);
    }

    /// Adds every latency bucket of `other`.
    pub(super) fn merge_latencies(&mut self, other: &CellTable) {
        let ids: Vec<u32> = (other.segment_keys.iter())
            .map(|k| self.segment_id(k.clone()))
            .collect();
        for (&(segment, _, path, b), (c, n, sum)) in &other.latencies {
            self.add_latency_of(ids[segment as usize], *c, (path, b), (*n, sum));
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
        // Every (record, path) keyed, sorted, and runs of one key summed: no hashing per record
        // (both passes in parallel; the sums are exact, so their order does not matter).
        let resolution = self.resolution;
        let mut keyed: Vec<(LatencyKey, f64, f64)> = (0..confidence.len())
            .into_par_iter()
            .filter(|&i| !safeguarded.is_some_and(|s| s[i]))
            .flat_map_iter(|i| {
                let c = key(confidence[i], resolution);
                let group = groups.map_or(0, |(codes, _)| codes[i]);
                let paths = [latency.small[i], latency.small[i] + latency.large[i]];
                (paths.into_iter().enumerate())
                    .map(move |(path, ms)| ((group, ascending_key(c), path, bucket(ms)), c, ms))
            })
            .collect();
        keyed.par_sort_unstable_by_key(|&(k, _, _)| k);
        let ids: Vec<u32> = match groups {
            Some((_, names)) => names.iter().map(|n| self.segment_id(n.clone())).collect(),
            None => vec![self.segment_id(Vec::new())],
        };
        for run in keyed.chunk_by(|a, b| a.0 == b.0) {
            let ((group, _, path, b), c, _) = run[0];
            let mut sum = Exact::default();
            run.iter().for_each(|&(_, _, ms)| sum.add(ms));
            self.add_latency_of(ids[group as usize], c, (path, b), (run.len() as u64, &sum));
        }
    }

    /// Every latency bucket in key order: segment values, descending confidence, path, bucket;
    /// with its confidence, count and sum.
    pub fn latency_rows(&self) -> Vec<(&SegmentKey, f64, usize, u64, u64, &Exact)> {
        let mut rows: Vec<_> = (self.latencies.iter())
            .map(|(&(s, k, path, b), (c, n, sum))| ((s, k, path, b), (*c, *n, sum)))
            .collect();
        let keys = &self.segment_keys;
        rows.sort_unstable_by(|a, b| {
            let (x, y) = (a.0, b.0);
            (keys[x.0 as usize].cmp(&keys[y.0 as usize]))
                .then(y.1.cmp(&x.1))
                .then(x.2.cmp(&y.2))
                .then(x.3.cmp(&y.3))
        });
        (rows.into_iter())
            .map(|((s, _, path, b), (c, n, sum))| (&keys[s as usize], c, path, b, n, sum))
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
        for (&(segment, k, path, b), (c, n, sum)) in &self.latencies {
            let (k, path, b) = (Reverse(k), &path, &b);
            if held(&self.segment_keys[segment as usize]) {
                *kept.entry((*path, *b)).or_insert(0) += n;
                kept_sums[*path].plus(sum);
                continue;
            }
            let entry = by_key
                .entry(k)
                .or_insert_with(|| (*c, BTreeMap::new(), Default::default()));
            *entry.1.entry((*path, *b)).or_insert(0) += n;
            entry.2[*path].plus(sum);
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
