//! Cascade latency at many thresholds at once. Pure.
//!
//! Owns the latency rule: an accepted request takes the small model's time; an escalated one
//! takes the small model's time and then the large model's (sequentially); a small model slower
//! than the timeout is cut off at the timeout and escalated. Percentiles are nearest-rank: the
//! k-th smallest with k = ⌈p·n⌉.
//!
//! Moving the threshold down moves records from the escalated path to the accepted path one at
//! a time, so every requested split is answered from one set over the ranks of all 2n possible
//! per-request latencies: one sort (a count when they take few distinct values, and a count
//! run in parallel when they are whole milliseconds), O(1) per move and a few hundred steps per
//! percentile, instead of building and selecting n latencies per threshold.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use rayon::prelude::*;
use serde::Serialize;

use crate::engine::exact::Exact;
use crate::engine::sums::{ascending_key, from_ascending_key};

/// Latency columns of the eval set, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct LatencyInput<'a> {
    /// The small model's latency per record.
    pub small: &'a [f64],
    /// The large model's latency per record.
    pub large: &'a [f64],
    /// `--small-timeout-ms`: the small model is abandoned after this long.
    pub timeout: Option<f64>,
}

/// Latency of the cascade over all requests, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
}

/// Which records time out: the small model's latency exceeds the timeout.
pub fn timed_out(input: &LatencyInput<'_>) -> Option<Vec<bool>> {
    let t = input.timeout?;
    Some(input.small.iter().map(|&s| s > t).collect())
}

impl LatencyInput<'_> {
    /// Time on the accepted path for record `i`.
    fn accepted(&self, i: usize) -> f64 {
        match self.timeout {
            Some(t) => self.small[i].min(t),
            None => self.small[i],
        }
    }

    /// Time on the escalated path for record `i`.
    fn escalated(&self, i: usize) -> f64 {
        self.accepted(i) + self.large[i]
    }
}

/// Latency when the first `accepted[r]` records of `order` are accepted and the rest escalate,
/// for each requested r (in the order requested).
pub fn at_accepted(input: &LatencyInput<'_>, order: &[u32], accepted: &[usize]) -> Vec<Latency> {
    let n = order.len();
    if n == 0 || accepted.is_empty() {
        return Vec::new();
    }
    // Both paths' latencies in `order` (read at random once), so every later pass is sequential.
    let (on_accepted, on_escalated): (Vec<f64>, Vec<f64>) = order
        .par_iter()
        .map(|&i| (input.accepted(i as usize), input.escalated(i as usize)))
        .unzip();
    let mut requests: Vec<(usize, usize)> = accepted.iter().copied().enumerate().collect();
    requests.sort_by_key(|&(_, a)| a);
    let cuts: Vec<usize> = requests.iter().map(|&(_, a)| a).collect();
    // The mean's sums and the ranks of whole milliseconds (the common case) side by side.
    let key = path_key(&on_accepted, &on_escalated);
    let ((accepted_sum, escalated_sum), whole) = rayon::join(
        || path_sums(&on_accepted, &on_escalated, &cuts),
        || whole_ranks(2 * n, key),
    );
    let (rank, values) = match whole {
        Some(w) => {
            // Memory: the values are built once the per-path latencies are gone.
            drop((on_accepted, on_escalated));
            (w.ranks, whole_values(&w.counts, &w.above))
        }
        None => ranked_paths(on_accepted, on_escalated),
    };
    // Start with every record escalated, then move records to the accepted path in order.
    let mut present = RankSet::new(2 * n);
    for k in 0..n {
        present.insert(rank[2 * k + 1] as usize);
    }
    let zero = Latency {
        mean: 0.0,
        p50: 0.0,
        p95: 0.0,
        p99: 0.0,
    };
    let mut out = vec![zero; accepted.len()];
    let mut moved = 0;
    let kth = |p: f64| ((p * n as f64).ceil() as usize).clamp(1, n);
    for (slot, &(at, a)) in requests.iter().enumerate() {
        while moved < a {
            present.remove(rank[2 * moved + 1] as usize);
            present.insert(rank[2 * moved] as usize);
            moved += 1;
        }
        out[at] = Latency {
            mean: (accepted_sum[slot] + escalated_sum[slot]) / n as f64,
            p50: values[present.kth(kth(0.50))],
            p95: values[present.kth_from_top(n + 1 - kth(0.95))],
            p99: values[present.kth_from_top(n + 1 - kth(0.99))],
        };
    }
    out
}

/// Ranks of all 2n path latencies (id 2k is position k of the order accepted, 2k + 1
/// escalated) and the latencies in rank order. Ties rank by id, so the ranks are those of a
/// sort by (latency, id).
fn ranked_paths(on_accepted: Vec<f64>, on_escalated: Vec<f64>) -> (Vec<u32>, Vec<f64>) {
    let key = path_key(&on_accepted, &on_escalated);
    if let Some(slotted) = slotted(2 * on_accepted.len(), key) {
        drop((on_accepted, on_escalated));
        return counted(slotted);
    }
    let keyed: Vec<(u64, u32)> = (0..2 * on_accepted.len())
        .into_par_iter()
        .map(|id| (key(id), id as u32))
        .collect();
    // Memory: at ten million records the keys alone take 320 MB.
    drop((on_accepted, on_escalated));
    sorted(keyed)
}

/// The [`ascending_key`] of path latency `id` (id 2k is position k of the order accepted,
/// 2k + 1 escalated).
fn path_key<'a>(
    on_accepted: &'a [f64],
    on_escalated: &'a [f64],
) -> impl Fn(usize) -> u64 + Copy + Sync + 'a {
    move |id: usize| {
        let k = id / 2;
        ascending_key(if id.is_multiple_of(2) {
            on_accepted[k]
        } else {
            on_escalated[k]
        })
    }
}

/// Ids per piece of [`whole_ranks`] at least (one table of counts per piece).
const PIECE: usize = 1 << 16;

/// What [`whole_ranks`] gives: the ranks, the count of each whole value below [`TABLED`], and
/// the keys of the latencies above, ascending.
struct Whole {
    ranks: Vec<u32>,
    counts: Vec<u32>,
    above: Vec<u64>,
}

/// The ranks [`ranked_paths`] gives, by a counting sort run in parallel, when the `len`
/// latencies (keyed by `key`) are whole numbers of milliseconds below [`TABLED`] (not -0.0), as
/// eval sets mostly record them, but for a few (at most one in [`RARE`]) above that; `None` for
/// any other latencies.
///
/// The ids are cut into pieces. Each piece counts its values; a value's first rank in a piece
/// is then the number of smaller latencies plus the equal ones in earlier pieces, and each
/// piece gives out its ranks in id order: the ranks of a sort by (latency, id). The few
/// latencies above every counted one rank after them all, by a sort of their (key, id) pairs.
fn whole_ranks(len: usize, key: impl Fn(usize) -> u64 + Sync) -> Option<Whole> {
    // Some(Some(w)): the whole number w below TABLED; Some(None): above every such number.
    let class = |k: u64| {
        let v = from_ascending_key(k);
        let w = v as usize; // saturates; NaN gives 0, whose bits differ
        if w < TABLED && (w as f64).to_bits() == v.to_bits() {
            Some(Some(w))
        } else {
            (v > TOP).then_some(None)
        }
    };
    let piece = len.div_ceil(4 * rayon::current_num_threads()).max(PIECE);
    let ids = |p: usize| p * piece..len.min((p + 1) * piece);
    // Per piece: the count of each value (then the next rank it gives that value), and the
    // (key, id) pairs above TABLED.
    let (mut next, above): (Vec<Vec<u32>>, Vec<Pairs>) = (0..len.div_ceil(piece))
        .into_par_iter()
        .map(|p| {
            let (mut counts, mut above) = (vec![0u32; TABLED], Vec::new());
            for id in ids(p) {
                let k = key(id);
                match class(k)? {
                    Some(w) => counts[w] += 1,
                    None => above.push((k, id as u32)),
                }
            }
            Some((counts, above))
        })
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .unzip();
    let mut above: Pairs = above.concat();
    if above.len() > len / RARE {
        return None;
    }
    let mut counts = vec![0u32; TABLED];
    let mut rank = 0;
    for (w, count) in counts.iter_mut().enumerate() {
        let first = rank;
        for piece in &mut next {
            let n = piece[w];
            piece[w] = rank;
            rank += n;
        }
        *count = rank - first;
    }
    let mut ranks = vec![0u32; len];
    (ranks.par_chunks_mut(piece).zip(&mut next).enumerate()).for_each(|(p, (ranks, next))| {
        for (r, id) in ranks.iter_mut().zip(ids(p)) {
            // Whole below TABLED or above it: told apart when counting.
            let v = from_ascending_key(key(id));
            if v <= TOP {
                *r = next[v as usize];
                next[v as usize] += 1;
            }
        }
    });
    above.sort_unstable();
    for (&(_, id), r) in above.iter().zip(rank..) {
        ranks[id as usize] = r;
    }
    let above = above.into_iter().map(|(k, _)| k).collect();
    Some(Whole {
        ranks,
        counts,
        above,
    })
}

/// At most one latency in this many may lie above [`TABLED`] for [`whole_ranks`].
const RARE: usize = 64;

/// The largest whole value [`whole_ranks`] counts; any latency above it ranks after them all.
const TOP: f64 = (TABLED - 1) as f64;

/// (latency key, id) pairs.
type Pairs = Vec<(u64, u32)>;

/// The latencies in rank order from [`whole_ranks`]' counts of whole values and the keys above.
fn whole_values(counts: &[u32], above: &[u64]) -> Vec<f64> {
    let counted: usize = counts.iter().map(|&c| c as usize).sum();
    let mut values = Vec::with_capacity(counted + above.len());
    for (w, &count) in counts.iter().enumerate() {
        values.extend(std::iter::repeat_n(w as f64, count as usize));
    }
    values.extend(above.iter().map(|&k| from_ascending_key(k)));
    values
}

/// [`ranked_paths`] by sorting the (key, id) pairs.
fn sorted(mut keyed: Vec<(u64, u32)>) -> (Vec<u32>, Vec<f64>) {
    keyed.par_sort_unstable();
    let mut rank = vec![0u32; keyed.len()];
    for (r, &(_, id)) in keyed.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    // The key maps back to the latency's bits; collected in the keys' own allocation.
    let values = keyed
        .into_iter()
        .map(|(key, _)| from_ascending_key(key))
        .collect();
    (rank, values)
}

/// At most this many distinct latencies are ranked by counting (their table stays in cache).
const COUNTED: usize = 1 << 16;

/// Each latency's slot (its distinct value's index in order of first appearance) and the
/// distinct values' keys with their slots, ascending.
struct Slotted {
    slots: Vec<u32>,
    distinct: Vec<(u64, u32)>,
}

/// Whole latencies below this many milliseconds find their slot in a table instead of the hash
/// map (a quarter of a megabyte of slots, which stays in cache).
const TABLED: usize = 1 << 16;

/// The `len` latencies (keyed by `key`) by distinct value, when they take at most [`COUNTED`]
/// values, as whole milliseconds do; `None` beyond.
fn slotted(len: usize, key: impl Fn(usize) -> u64) -> Option<Slotted> {
    // A whole number below TABLED (the bits of that integer as a double: not -0.0) takes the
    // table, any other key the map; each key takes one route, so it gets one slot either way.
    let mut table = vec![u32::MAX; TABLED];
    let mut slot_of: HashMap<u64, u32, FixedState> = HashMap::default();
    let mut keys: Vec<u64> = Vec::new();
    let mut slots = Vec::with_capacity(len);
    for id in 0..len {
        let k = key(id);
        let v = from_ascending_key(k);
        let whole = v as usize; // saturates; NaN gives 0, whose bits differ
        let next = keys.len() as u32;
        let slot = if whole < TABLED && (whole as f64).to_bits() == v.to_bits() {
            let slot = &mut table[whole];
            if *slot == u32::MAX {
                *slot = next;
            }
            *slot
        } else {
            *slot_of.entry(k).or_insert(next)
        };
        if slot == next {
            keys.push(k);
            if keys.len() > COUNTED {
                return None;
            }
        }
        slots.push(slot);
    }
    let mut distinct: Vec<(u64, u32)> = (keys.into_iter().enumerate())
        .map(|(slot, k)| (k, slot as u32))
        .collect();
    distinct.sort_unstable();
    Some(Slotted { slots, distinct })
}

/// [`ranked_paths`] by counting: each distinct value's first rank is the number of smaller
/// latencies, and equal latencies take the ranks after it in id order. Linear, where a sort of
/// millions of pairs is not; the ranks overwrite the slots.
fn counted(
    Slotted {
        mut slots,
        distinct,
    }: Slotted,
) -> (Vec<u32>, Vec<f64>) {
    // Per slot: how many latencies hold its value, then the next rank to give out.
    let mut counts = vec![0u32; distinct.len()];
    for &s in &slots {
        counts[s as usize] += 1;
    }
    let mut next_rank = vec![0u32; distinct.len()];
    let mut values = Vec::with_capacity(slots.len());
    for &(key, slot) in &distinct {
        next_rank[slot as usize] = values.len() as u32;
        let value = from_ascending_key(key);
        values.extend(std::iter::repeat_n(value, counts[slot as usize] as usize));
    }
    for s in &mut slots {
        let slot = *s as usize;
        *s = next_rank[slot];
        next_rank[slot] += 1;
    }
    (slots, values)
}

/// For each cut (ascending): Σ accepted-path time over the first `cut` positions and Σ
/// escalated-path time over the rest, each sum exact and rounded once.
/// The two sums are taken side by side.
fn path_sums(on_accepted: &[f64], on_escalated: &[f64], cuts: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let accepted = || {
        let mut accepted_sum = vec![0.0; cuts.len()];
        let mut acc = Exact::default();
        let mut k = 0;
        for (slot, &a) in cuts.iter().enumerate() {
            while k < a {
                acc.add(on_accepted[k]);
                k += 1;
            }
            accepted_sum[slot] = acc.value();
        }
        accepted_sum
    };
    let escalated = || {
        let mut escalated_sum = vec![0.0; cuts.len()];
        let mut esc = Exact::default();
        let mut k = on_escalated.len();
        for (slot, &a) in cuts.iter().enumerate().rev() {
            while k > a {
                k -= 1;
                esc.add(on_escalated[k]);
            }
            escalated_sum[slot] = esc.value();
        }
        escalated_sum
    };
    rayon::join(accepted, escalated)
}

/// A set of ranks as a bitset with counts per block of 64 words and per super-block of 64
/// blocks: O(1) insert and remove, and the k-th element found by skipping whole super-blocks
/// and blocks (about 200 steps for 20 million ranks), so even `--exact` over millions of
/// thresholds stays fast.
struct RankSet {
    words: Vec<u64>,
    blocks: Vec<u32>,
    supers: Vec<u32>,
}

const FAN: usize = 64;

impl RankSet {
    fn new(len: usize) -> RankSet {
        let words = len.div_ceil(64);
        let blocks = words.div_ceil(FAN);
        RankSet {
            words: vec![0; words],
            blocks: vec![0; blocks],
            supers: vec![0; blocks.div_ceil(FAN)],
        }
    }

    fn insert(&mut self, rank: usize) {
        let w = rank / 64;
        self.words[w] |= 1 << (rank % 64);
        self.blocks[w / FAN] += 1;
        self.supers[w / FAN / FAN] += 1;
    }

    fn remove(&mut self, rank: usize) {
        let w = rank / 64;
        self.words[w] &= !(1 << (rank % 64));
        self.blocks[w / FAN] -= 1;
        self.supers[w / FAN / FAN] -= 1;
    }

    /// The k-th smallest rank in the set (1-based k).
    fn kth(&self, mut k: usize) -> usize {
        let find = |counts: &mut dyn Iterator<Item = (usize, usize)>, k: &mut usize| {
            for (i, c) in counts {
                if c >= *k {
                    return i;
                }
                *k -= c;
            }
            unreachable!("k is at most the set's size")
        };
        let s = find(
            &mut self.supers.iter().map(|&c| c as usize).enumerate(),
            &mut k,
        );
        let b = find(
            &mut (s * FAN..((s + 1) * FAN).min(self.blocks.len()))
                .map(|b| (b, self.blocks[b] as usize)),
            &mut k,
        );
        let w = find(
            &mut (b * FAN..((b + 1) * FAN).min(self.words.len()))
                .map(|w| (w, self.words[w].count_ones() as usize)),
            &mut k,
        );
        w * 64 + select(self.words[w], k)
    }

    /// The k-th largest rank in the set (1-based k).
    fn kth_from_top(&self, k: usize) -> usize {
        let size: usize = self.supers.iter().map(|&c| c as usize).sum();
        self.kth(size + 1 - k)
    }
}

/// Position of the k-th set bit (1-based k) of a word with at least k bits set.
fn select(mut word: u64, k: usize) -> usize {
    for _ in 1..k {
        word &= word - 1;
    }
    word.trailing_zeros() as usize
}

#[cfg(test)]
mod tests;
