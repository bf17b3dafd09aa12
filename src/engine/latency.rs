//! Cascade latency at many thresholds at once. Pure.
//!
//! Owns the latency rule: an accepted request takes the small model's time; an escalated one
//! takes the small model's time and then the large model's (sequentially); a small model slower
//! than the timeout is cut off at the timeout and escalated. Percentiles are nearest-rank: the
//! k-th smallest with k = ⌈p·n⌉.
//!
//! Moving the threshold down moves records from the escalated path to the accepted path one at
//! a time, so every requested split is answered from one set over the ranks of all 2n possible
//! per-request latencies: one sort (a count when they take few distinct values, as whole
//! milliseconds do), O(1) per move and a few hundred steps per percentile, instead of building
//! and selecting n latencies per threshold.

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
    let (accepted_sum, escalated_sum) = path_sums(&on_accepted, &on_escalated, &cuts);
    let (rank, values) = ranked_paths(on_accepted, on_escalated);
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
    let key = |id: usize| {
        let k = id / 2;
        ascending_key(if id.is_multiple_of(2) {
            on_accepted[k]
        } else {
            on_escalated[k]
        })
    };
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
fn path_sums(on_accepted: &[f64], on_escalated: &[f64], cuts: &[usize]) -> (Vec<f64>, Vec<f64>) {
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
    (accepted_sum, escalated_sum)
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
mod tests {
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    use super::*;

    /// The obvious twin: build every request's latency, sort, take nearest ranks.
    fn naive(input: &LatencyInput<'_>, order: &[u32], accepted: usize) -> Latency {
        let n = order.len();
        let mut lat: Vec<f64> = order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                if k < accepted {
                    input.accepted(i as usize)
                } else {
                    input.escalated(i as usize)
                }
            })
            .collect();
        let mean = lat.iter().sum::<f64>() / n as f64;
        lat.sort_by(f64::total_cmp);
        let at = |p: f64| lat[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Latency {
            mean,
            p50: at(0.5),
            p95: at(0.95),
            p99: at(0.99),
        }
    }

    #[test]
    fn by_hand() {
        // Small 100, 200, 300, 400 ms; large 1000 each; the first two accepted.
        // Latencies: 100, 200, 1300, 1400. Mean 750. Nearest rank: p50 = 2nd = 200,
        // p95 = p99 = 4th = 1400.
        let small = [100.0, 200.0, 300.0, 400.0];
        let large = [1000.0; 4];
        let input = LatencyInput {
            small: &small,
            large: &large,
            timeout: None,
        };
        let l = at_accepted(&input, &[0, 1, 2, 3], &[2]);
        assert_eq!(
            l,
            vec![Latency {
                mean: 750.0,
                p50: 200.0,
                p95: 1400.0,
                p99: 1400.0
            }]
        );
        // Timeout 250: records 2 and 3 time out; escalated they take 250 + 1000.
        let input = LatencyInput {
            timeout: Some(250.0),
            ..input
        };
        assert_eq!(timed_out(&input).unwrap(), vec![false, false, true, true]);
        let l = at_accepted(&input, &[0, 1, 2, 3], &[2, 0]);
        assert_eq!(l[0].mean, (100.0 + 200.0 + 1250.0 + 1250.0) / 4.0);
        assert_eq!(l[0].p50, 200.0);
        // All escalated: 1100, 1200, 1250, 1250.
        assert_eq!(l[1].p50, 1200.0);
    }

    /// The slots by a hash map alone (the table's answer must be this one): each key's slot is
    /// its index in order of first appearance.
    fn slotted_by_map(len: usize, key: &dyn Fn(usize) -> u64) -> Option<Slotted> {
        let mut slot_of: HashMap<u64, u32> = HashMap::new();
        let mut slots = Vec::new();
        for id in 0..len {
            let next = slot_of.len() as u32;
            slots.push(*slot_of.entry(key(id)).or_insert(next));
            if slot_of.len() > COUNTED {
                return None;
            }
        }
        let mut distinct: Vec<(u64, u32)> = slot_of.into_iter().collect();
        distinct.sort_unstable();
        Some(Slotted { slots, distinct })
    }

    #[test]
    fn the_table_slots_as_the_map_does() {
        // Whole milliseconds on both sides of TABLED, -0.0 beside 0.0, fractions, NaN-free
        // huge values, and runs past COUNTED distinct keys.
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        for (n, spread) in [
            (5_000, 7u64),
            (20_000, 70_000),
            (200_000, 30_000),
            (150_000, 2_000_000),
        ] {
            let values: Vec<f64> = (0..n)
                .map(|_| match rng.next_u64() % 10 {
                    0 => -0.0,
                    1 => (rng.next_u64() % spread) as f64 + 0.5,
                    2 => (TABLED as u64 + rng.next_u64() % spread) as f64,
                    3 => 1e300,
                    _ => (rng.next_u64() % spread) as f64,
                })
                .collect();
            let key = |id: usize| ascending_key(values[id]);
            let pair = |s: Slotted| (s.slots, s.distinct);
            let want = slotted_by_map(n, &key).map(pair);
            let got = slotted(n, key).map(pair);
            assert_eq!(got.is_some(), want.is_some(), "{n} {spread}");
            assert_eq!(got, want, "{n} {spread}");
        }
    }

    #[test]
    fn counting_ranks_as_the_sort_does() {
        // Seeded latencies with many ties (whole milliseconds, -0.0 beside 0.0) and with none;
        // the sort of (key, id) pairs is the reference.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for distinct in [1u64, 2, 7, 1000, u64::MAX] {
            let values: Vec<f64> = (0..5000)
                .map(|_| match rng.next_u64() % distinct {
                    0 => -0.0,
                    v if distinct == u64::MAX => f64::from_bits(v >> 12) * 1e300,
                    v => v as f64,
                })
                .collect();
            let key = |id: usize| ascending_key(values[id]);
            let keyed = (0..values.len()).map(|id| (key(id), id as u32)).collect();
            let want = sorted(keyed);
            match slotted(values.len(), key).map(counted) {
                Some((rank, ranked)) => {
                    assert_eq!(rank, want.0, "{distinct}");
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&ranked), bits(&want.1), "{distinct}");
                }
                None => assert_eq!(distinct, u64::MAX),
            }
        }
        // Past COUNTED distinct values the counting gives way to the sort.
        assert!(slotted(COUNTED + 1, |id| id as u64).is_none());
        assert!(slotted(COUNTED, |id| id as u64).is_some());
    }

    #[test]
    fn many_distinct_latencies_take_the_sort_and_match_sorting_every_split() {
        // 40,000 records of seeded fractional latencies: 80,000 path latencies, most distinct,
        // more than COUNTED, so the ranks come from the sort.
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let n = 40_000;
        let mut ms = |scale: u64| (rng.next_u64() % (scale * 1000)) as f64 / 1000.0;
        let small: Vec<f64> = (0..n).map(|_| ms(3000)).collect();
        let large: Vec<f64> = (0..n).map(|_| ms(9000)).collect();
        let input = LatencyInput {
            small: &small,
            large: &large,
            timeout: None,
        };
        let paths = (0..n).flat_map(|i| [input.accepted(i), input.escalated(i)]);
        let distinct: std::collections::HashSet<u64> = paths.map(f64::to_bits).collect();
        assert!(distinct.len() > COUNTED, "{}", distinct.len());
        let order: Vec<u32> = (0..n as u32).map(|i| (i * 7919) % n as u32).collect();
        let splits = [0, 1, 777, n / 2, n - 1, n];
        let fast = at_accepted(&input, &order, &splits);
        for (r, &a) in splits.iter().enumerate() {
            let slow = naive(&input, &order, a);
            let pct = |l: &Latency| (l.p50, l.p95, l.p99);
            assert_eq!(pct(&fast[r]), pct(&slow), "{a}");
            assert!((fast[r].mean - slow.mean).abs() < 1e-6, "{a}");
        }
    }

    #[test]
    fn rank_set_spans_blocks_and_super_blocks() {
        // 600,000 ranks (more than one super-block of 64 × 64 words); every third present.
        let mut set = RankSet::new(600_000);
        let present: Vec<usize> = (0..600_000).filter(|r| r % 3 == 1).collect();
        for &r in &present {
            set.insert(r);
        }
        set.remove(present[5]);
        let kept: Vec<usize> = present
            .iter()
            .copied()
            .filter(|&r| r != present[5])
            .collect();
        for k in [1, 5, 6, 4096, 70_000, 150_000, kept.len()] {
            assert_eq!(set.kth(k), kept[k - 1], "kth({k})");
            assert_eq!(
                set.kth_from_top(k),
                kept[kept.len() - k],
                "kth_from_top({k})"
            );
        }
    }

    proptest! {
        #[test]
        fn matches_sorting_every_split(
            rows in prop::collection::vec((0u16..500, 0u16..3000), 1..80),
            timeout in prop::option::of(0u16..600),
        ) {
            let small: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let large: Vec<f64> = rows.iter().map(|r| f64::from(r.1) / 4.0).collect();
            let input = LatencyInput { small: &small, large: &large, timeout: timeout.map(f64::from) };
            // A fixed shuffled order.
            let n = rows.len();
            let order: Vec<u32> = (0..n as u32).map(|i| (i * 7 + 3) % n as u32).collect();
            let mut seen = order.clone();
            seen.sort();
            seen.dedup();
            prop_assume!(seen.len() == n);
            let requests: Vec<usize> = (0..=n).rev().collect();
            let fast = at_accepted(&input, &order, &requests);
            for (r, &a) in requests.iter().enumerate() {
                let slow = naive(&input, &order, a);
                prop_assert!((fast[r].mean - slow.mean).abs() < 1e-9);
                prop_assert_eq!((fast[r].p50, fast[r].p95, fast[r].p99), (slow.p50, slow.p95, slow.p99));
            }
        }
    }
}
