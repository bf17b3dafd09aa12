//! Tests of latency at every cut against sorting each cut's latencies, by hand and seeded.

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
fn parallel_counting_ranks_whole_milliseconds_as_the_sort_does() {
    // Seeded whole milliseconds, from one value to the whole table, over enough ids for several
    // pieces, with none, a few or the most allowed above the table (whole or not, tied or
    // not); the sort of (key, id) pairs is the reference (ranks, and values bit for bit).
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let cases = [
        (1, 1, 0),
        (999, 3, 0),
        (70_000, 1, 0),
        (300_001, 5000, 0),
        (400_000, TABLED, 0),
        (5000, 10, 1),
        (300_000, 4000, 60),
        (300_000, TABLED, 56),
    ];
    for (len, spread, above_per_4096) in cases {
        let values: Vec<f64> = (0..len)
            .map(|_| match rng.next_u64() % 4096 {
                a if a < above_per_4096 && a % 3 == 0 => TABLED as f64 + (a % 7) as f64,
                a if a < above_per_4096 && a % 3 == 1 => TABLED as f64 - 0.5,
                a if a < above_per_4096 => 1e6 + rng.next_u64() as f64 / 1e12,
                _ => (rng.next_u64() % spread as u64) as f64,
            })
            .collect();
        let key = |id: usize| ascending_key(values[id]);
        let want = sorted((0..len).map(|id| (key(id), id as u32)).collect());
        let got = whole_ranks(len, key).expect("whole milliseconds, few above TABLED");
        assert_eq!(got.ranks, want.0, "{len} {spread}");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let values = whole_values(&got.counts, &got.above);
        assert_eq!(bits(&values), bits(&want.1), "{len} {spread}");
    }
    // Anything else is left to the other paths: -0.0, a fraction below the table, or more than
    // one in RARE above it.
    for (odd, every) in [(-0.0, 200_000), (0.5, 200_000), (1e6, RARE - 1)] {
        let values: Vec<f64> = (0..200_000)
            .map(|i| {
                if i % every == 150_000 % every {
                    odd
                } else {
                    7.0
                }
            })
            .collect();
        let key = |id: usize| ascending_key(values[id]);
        assert!(whole_ranks(values.len(), key).is_none(), "{odd}");
    }
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
