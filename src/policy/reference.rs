//! Builds the calibration reference the policy hands to production monitoring: the thresholded
//! signal's distribution per segment (percentile bins and deciles) with per-bin quality.
//!
//! Owns the binning rule (see [`Distribution`]). Pure: takes the sweep's columns, returns the
//! value; it must not read, print or decide anything about logs.

use rayon::prelude::*;

mod cells;

pub use cells::{CellPoint, CellSegments, cells_reference};

use crate::engine::exact::Exact;
use crate::engine::sums::{ascending_key, from_ascending_key};
use crate::engine::sweep::{Sweep, SweepInput};
use crate::input::{Distribution, Reference, ReferenceCost, ReferenceSegment};

/// What a reference describes, in words (the same from records and from cells).
const SCALE: &str = "the thresholded signal (the raw signal mapped through signal.recalibration \
                     when there is one), over eval records no override escalated";

/// Percentile step of the bin edges (5 %: 20 bins before ties merge and the threshold splits).
const EDGE_STEP: usize = 5;

/// The segments to describe: the columns, per segment its (column, value) pairs, each
/// record's segment and each segment's threshold (`None`: always large).
#[derive(Clone, Copy)]
pub struct Segments<'a> {
    /// The columns.
    pub columns: &'a [String],
    /// Per segment, its values by column.
    pub labels: &'a [Vec<(String, String)>],
    /// Per record, its segment.
    pub codes: &'a [u32],
    /// Per segment, its threshold.
    pub thresholds: &'a [Option<f64>],
}

/// The reference of `input` routed at `threshold` (per segment with `segments`); `sweep`, when
/// given, must be the sweep of `input`: its order then spares a sort.
pub fn reference(
    input: SweepInput<'_>,
    threshold: Option<f64>,
    target: Option<f64>,
    segments: Option<Segments<'_>>,
    sweep: Option<&Sweep>,
) -> Reference {
    let n = input.confidence.len();
    let routed = |i: &usize| !input.safeguarded.is_some_and(|s| s[*i]);
    // Exact sums (`engine::exact`), so an aggregate's cells give the same means; exact in any
    // grouping, so summed in parallel parts.
    let mean = |f: &(dyn Fn(usize) -> f64 + Sync)| {
        let sum = ((0..n).into_par_iter().with_min_len(PART))
            .fold(Exact::default, |mut s, i| {
                s.add(f(i));
                s
            })
            .reduce(Exact::default, |mut a, b| {
                a.plus(&b);
                a
            });
        sum.value() / n.max(1) as f64
    };
    let ((small, large), (overall, segs)) = rayon::join(
        || {
            rayon::join(
                || mean(&|i| input.costs.small.get(i)),
                || mean(&|i| input.costs.large.get(i)),
            )
        },
        || distributions(&input, &routed, (threshold, sweep), segments.as_ref()),
    );
    let n_routed = overall.records;
    Reference {
        scale: SCALE.into(),
        target,
        cost: ReferenceCost {
            small,
            large,
            baseline: input.costs.baseline,
        },
        overridden: n as u64 - n_routed,
        overall,
        segment_by: segments.as_ref().map_or(Vec::new(), |s| s.columns.to_vec()),
        segments: segs,
    }
}

/// Records per parallel part of a pass over every record.
const PART: usize = 1 << 16;

/// The distribution of the routed records and of each segment's: the signal sorted once (a
/// segment's sorted signal is its entries in that order), then one parallel pass that puts
/// each record in its bin of the whole and of its segment and sums its labels there.
fn distributions(
    input: &SweepInput<'_>,
    routed: &(dyn Fn(&usize) -> bool + Sync),
    (threshold, sweep): (Option<f64>, Option<&Sweep>),
    segments: Option<&Segments<'_>>,
) -> (Distribution, Vec<ReferenceSegment>) {
    let (signal, per_segment) = match sweep {
        // A group holding -0.0 shows 0, where the sort keeps the sign.
        Some(s)
            if !input
                .confidence
                .par_iter()
                .any(|c| c.to_bits() == (-0.0f64).to_bits()) =>
        {
            debug_assert_eq!(s.records(), input.confidence.len());
            signals_in_order(s, segments)
        }
        _ => sorted_signals(input, routed, segments),
    };
    distributions_of(input, routed, threshold, segments, (signal, per_segment))
}

/// The sorted signals of the whole and of each segment, from the sweep of the same input (with
/// no -0.0 confidence, so a tie group's shown value is each of its confidences, bit for bit):
/// the whole's are the groups' values in ascending order, a segment's its records' in that
/// order. (Within a group the values are equal, so the order there does not matter.)
fn signals_in_order(sweep: &Sweep, segments: Option<&Segments<'_>>) -> Signals {
    rayon::join(
        || {
            let mut signal =
                Vec::with_capacity(sweep.ascending_groups().map(|(_, at)| at.len()).sum());
            for (v, at) in sweep.ascending_groups() {
                signal.extend(std::iter::repeat_n(v, at.len()));
            }
            signal
        },
        || {
            segments.map(|s| {
                let order = sweep.order();
                let mut signals: Vec<Vec<f64>> = vec![Vec::new(); s.labels.len()];
                for (v, at) in sweep.ascending_groups() {
                    for &i in &order[at] {
                        signals[s.codes[i as usize] as usize].push(v);
                    }
                }
                signals
            })
        },
    )
}

/// The signal of the whole, ascending, and each segment's (when there are segments).
type Signals = (Vec<f64>, Option<Vec<Vec<f64>>>);

/// [`signals_in_order`] by sorting the routed records' (signal, segment) pairs.
fn sorted_signals(
    input: &SweepInput<'_>,
    routed: &(dyn Fn(&usize) -> bool + Sync),
    segments: Option<&Segments<'_>>,
) -> Signals {
    let n = input.confidence.len();
    let code = |i: usize| segments.map_or(0, |s| s.codes[i]);
    // (signal key, segment code) as one 128-bit integer, so a comparison is one integer
    // comparison.
    let key = |i: usize| u128::from(ascending_key(input.confidence[i])) << 32 | u128::from(code(i));
    let signal_of = |k: u128| from_ascending_key((k >> 32) as u64);
    let mut ascending: Vec<u128> = match input.safeguarded {
        None => (0..n).into_par_iter().map(key).collect(),
        Some(_) => (0..n).into_par_iter().filter(routed).map(key).collect(),
    };
    ascending.par_sort_unstable();
    let (signal, per_segment) = rayon::join(
        || {
            ascending
                .par_iter()
                .map(|&k| signal_of(k))
                .collect::<Vec<f64>>()
        },
        || {
            segments.map(|s| {
                let mut signals: Vec<Vec<f64>> = vec![Vec::new(); s.labels.len()];
                for &k in &ascending {
                    signals[k as u32 as usize].push(signal_of(k));
                }
                signals
            })
        },
    );
    (signal, per_segment)
}

/// [`distributions`] from the sorted signals.
fn distributions_of(
    input: &SweepInput<'_>,
    routed: &(dyn Fn(&usize) -> bool + Sync),
    threshold: Option<f64>,
    segments: Option<&Segments<'_>>,
    (signal, per_segment): Signals,
) -> (Distribution, Vec<ReferenceSegment>) {
    // Entry 0 is the whole; entry 1 + k segment k.
    let mut signals = vec![signal];
    signals.extend(per_segment.into_iter().flatten());
    let mut ds: Vec<Distribution> = (signals.iter().enumerate())
        .map(|(k, sig)| {
            let t = match (k, segments) {
                (0, _) | (_, None) => threshold,
                (k, Some(s)) => s.thresholds[k - 1],
            };
            binned(sig.len(), |p| sig[p], t)
        })
        .collect();
    // Distribution k's bins are slots offsets[k]..offsets[k + 1] of the tally.
    let mut offsets = vec![0];
    for d in &ds {
        offsets.push(offsets[offsets.len() - 1] + d.counts.len());
    }
    let tally = tally(input, routed, (&ds, &offsets), &|i| {
        segments.map(|s| 1 + s.codes[i] as usize)
    });
    let large = input.large_quality.is_some();
    for (k, (d, signal)) in ds.iter_mut().zip(&signals).enumerate() {
        finish(d, signal, &tally, offsets[k]..offsets[k + 1], large);
    }
    let overall = ds.remove(0);
    let segs = match segments {
        Some(s) => (s.labels.iter().zip(ds))
            .map(|(labels, distribution)| ReferenceSegment {
                matches: labels.iter().cloned().collect(),
                distribution,
            })
            .collect(),
        None => Vec::new(),
    };
    (overall, segs)
}

/// Per bin of every distribution (laid end to end in the order of `ds`): records, and exact
/// sums of small and large quality.
#[derive(Clone)]
struct Tally {
    counts: Vec<u64>,
    small: Vec<Exact>,
    large: Vec<Exact>,
}

/// One pass over the routed records, in parallel parts: each record counts in its bin of
/// `ds[0]` (the whole) and, when `segment` names one, of `ds[segment]` (distribution k's bins
/// being slots `offsets[k]..offsets[k + 1]`).
fn tally(
    input: &SweepInput<'_>,
    routed: &(dyn Fn(&usize) -> bool + Sync),
    (ds, offsets): (&[Distribution], &[usize]),
    segment: &(dyn Fn(usize) -> Option<usize> + Sync),
) -> Tally {
    let bins = offsets[ds.len()];
    let empty = Tally {
        counts: vec![0; bins],
        small: vec![Exact::default(); bins],
        large: vec![Exact::default(); bins],
    };
    // Counting the edges at or below x (branch-free) is `Distribution::bin`'s binary search
    // without its mispredicted branches.
    let bin = |k: usize, x: f64| {
        let edges = &ds[k].edges;
        let above: usize = edges.iter().map(|e| usize::from(*e <= x)).sum();
        offsets[k] + above.saturating_sub(1).min(edges.len() - 2)
    };
    let n = input.confidence.len();
    let part = |p: usize| {
        let mut t = empty.clone();
        let mut add = |b: usize, i: usize| {
            t.counts[b] += 1;
            t.small[b].add(input.small_quality[i]);
            if let Some(l) = input.large_quality {
                t.large[b].add(l[i]);
            }
        };
        for i in (p * PART..n.min((p + 1) * PART)).filter(|i| routed(i)) {
            let x = input.confidence[i];
            add(bin(0, x), i);
            if let Some(k) = segment(i) {
                add(bin(k, x), i);
            }
        }
        t
    };
    let merge = |mut a: Tally, b: Tally| {
        for j in 0..bins {
            a.counts[j] += b.counts[j];
            a.small[j].plus(&b.small[j]);
            a.large[j].plus(&b.large[j]);
        }
        a
    };
    (0..n.div_ceil(PART))
        .into_par_iter()
        .map(part)
        .reduce(|| empty.clone(), merge)
}

/// Fills `d`, binned from its sorted `signal`, with its bins' counts and means from `tally`
/// (`slots`: its bins there), the records it escalates and the signal's spread.
fn finish(
    d: &mut Distribution,
    signal: &[f64],
    tally: &Tally,
    slots: std::ops::Range<usize>,
    large: bool,
) {
    let n = signal.len();
    d.counts = tally.counts[slots.clone()].to_vec();
    d.small_quality = bin_means(&tally.small[slots.clone()], &d.counts);
    d.large_quality = large.then(|| bin_means(&tally.large[slots], &d.counts));
    d.escalated = match d.threshold {
        Some(t) => signal.partition_point(|x| *x < t) as u64,
        None => n as u64,
    };
    let m = signal.iter().sum::<f64>() / n.max(1) as f64;
    d.sd = (signal.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
}

/// The empty distribution of `n` sorted values, `at(i)` being the i-th, routed at `threshold`:
/// its bin edges (every 5th percentile, and the threshold when it splits the range; the lower
/// p-th percentile is `at(p · (n − 1) / 100)`), deciles, and zero counts.
pub(super) fn binned(n: usize, at: impl Fn(usize) -> f64, threshold: Option<f64>) -> Distribution {
    let (edges, deciles) = if n == 0 {
        (vec![0.0, 1.0], vec![0.0, 1.0])
    } else {
        let percentile = |p: usize| at(p * (n - 1) / 100);
        let mut edges: Vec<f64> = (0..=100).step_by(EDGE_STEP).map(percentile).collect();
        let mut deciles: Vec<f64> = (0..=100).step_by(10).map(percentile).collect();
        if let Some(t) = threshold.filter(|t| *t > at(0) && *t <= at(n - 1)) {
            edges.push(t);
        }
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        deciles.dedup();
        if edges.len() == 1 {
            edges.push(edges[0]);
            deciles.push(deciles[0]);
        }
        (edges, deciles)
    };
    Distribution {
        records: n as u64,
        threshold,
        escalated: 0,
        sd: 0.0,
        counts: vec![0; edges.len() - 1],
        small_quality: Vec::new(),
        large_quality: None,
        edges,
        deciles,
    }
}

/// Each bin's mean: its exact sum over its count (`None` for an empty bin).
pub(super) fn bin_means(sums: &[Exact], counts: &[u64]) -> Vec<Option<f64>> {
    (sums.iter().zip(counts))
        .map(|(s, c)| (*c > 0).then(|| s.value() / *c as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::economics::{CostColumn, CostModel};

    fn input<'a>(c: &'a [f64], q: &'a [f64]) -> SweepInput<'a> {
        SweepInput {
            confidence: c,
            small_quality: q,
            large_quality: None,
            costs: CostModel {
                small: CostColumn::PerRequest(1.0),
                large: CostColumn::PerRequest(10.0),
                baseline: None,
            },
            safeguarded: None,
        }
    }

    /// The distribution of the records `rows` by definition: their signal sorted, every record
    /// put in its bin by [`Distribution::bin`], each bin's sums taken record by record.
    fn naive(input: &SweepInput<'_>, rows: &[usize], threshold: Option<f64>) -> Distribution {
        let mut signal: Vec<f64> = rows.iter().map(|&i| input.confidence[i]).collect();
        signal.sort_by(f64::total_cmp);
        let n = signal.len();
        let mut d = binned(n, |p| signal[p], threshold);
        let bins = d.counts.len();
        let (mut small, mut large) = (vec![Exact::default(); bins], vec![Exact::default(); bins]);
        for &i in rows {
            let b = d.bin(input.confidence[i]);
            d.counts[b] += 1;
            small[b].add(input.small_quality[i]);
            if let Some(l) = input.large_quality {
                large[b].add(l[i]);
            }
        }
        d.small_quality = bin_means(&small, &d.counts);
        d.large_quality = input.large_quality.map(|_| bin_means(&large, &d.counts));
        d.escalated = threshold.map_or(n, |t| signal.iter().filter(|x| **x < t).count()) as u64;
        let m = signal.iter().sum::<f64>() / n.max(1) as f64;
        d.sd = (signal.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
        d
    }

    #[test]
    fn one_pass_bins_every_segment_as_each_record_would() {
        // Seeded inputs with many ties (confidences on a coarse grid, -0.0 beside 0.0 in odd
        // rounds), graded labels, overrides, segments (some left empty) and thresholds inside,
        // at and outside the range, against `naive` per segment and for the whole; the same
        // reference given the sweep's order (which spares the sort but for -0.0) and not.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let columns = vec!["task".to_string()];
        for round in 0..200 {
            // Above PART records now and then, so the pass runs in several parts.
            let n = 1 + (next() % if round % 10 == 0 { 200_000 } else { 400 }) as usize;
            let levels = 1 + next() % 25;
            let c: Vec<f64> = (0..n)
                .map(|_| match next() % levels {
                    0 if round % 2 == 1 => -0.0,
                    k => k as f64 / levels as f64 - 0.3,
                })
                .collect();
            let q: Vec<f64> = (0..n).map(|_| (next() % 5) as f64 / 4.0).collect();
            let l: Vec<f64> = (0..n).map(|_| (next() % 3) as f64 / 2.0).collect();
            let forced: Vec<bool> = (0..n).map(|_| next() % 7 == 0).collect();
            let segs = 1 + (next() % 4) as usize;
            let codes: Vec<u32> = (0..n).map(|_| (next() % segs as u64) as u32).collect();
            let labels: Vec<Vec<(String, String)>> = (0..segs + 1)
                .map(|k| vec![("task".to_string(), format!("t{k}"))])
                .collect();
            let pick = |r: u64| match r % 4 {
                0 => None,
                1 => Some(c[r as usize % n]),
                2 => Some(c[r as usize % n] + 0.01),
                _ => Some(-5.0),
            };
            let thresholds: Vec<Option<f64>> = (0..segs + 1).map(|_| pick(next())).collect();
            let threshold = pick(next());
            let mut inp = input(&c, &q);
            inp.large_quality = Some(&l);
            inp.safeguarded = Some(&forced);
            let segments = Segments {
                columns: &columns,
                labels: &labels,
                codes: &codes,
                thresholds: &thresholds,
            };
            let r = reference(inp, threshold, None, Some(segments), None);
            let sweep = Sweep::new(inp);
            let by_order = reference(inp, threshold, None, Some(segments), Some(&sweep));
            assert_eq!(by_order, r, "round {round}");
            let whole = |s| reference(inp, threshold, None, None, s).overall;
            assert_eq!(whole(Some(&sweep)), r.overall, "round {round}");
            let routed: Vec<usize> = (0..n).filter(|&i| !forced[i]).collect();
            assert_eq!(r.overall, naive(&inp, &routed, threshold), "round {round}");
            assert_eq!(r.overridden as usize, n - routed.len());
            assert_eq!(r.segments.len(), segs + 1);
            for (k, seg) in r.segments.iter().enumerate() {
                let rows: Vec<usize> = (routed.iter().copied())
                    .filter(|&i| codes[i] as usize == k)
                    .collect();
                let want = naive(&inp, &rows, thresholds[k]);
                assert_eq!(seg.distribution, want, "round {round} segment {k}");
            }
        }
    }

    #[test]
    fn bins_are_percentiles_plus_the_threshold_with_per_bin_quality() {
        // Five records 0.1..0.5: the lower p-th percentile is sorted[p * 4 / 100], so the
        // 5 % edges are 0.1 (p < 25), 0.2 (25..49), 0.3 (50..74), 0.4 (75..99), 0.5 (100);
        // the threshold 0.35 is added. Worked by hand.
        let c = [0.3, 0.1, 0.5, 0.2, 0.4];
        let q = [1.0, 0.0, 1.0, 0.0, 1.0];
        let d = reference(input(&c, &q), Some(0.35), None, None, None).overall;
        assert_eq!(d.edges, [0.1, 0.2, 0.3, 0.35, 0.4, 0.5]);
        assert_eq!(d.deciles, [0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(d.counts, [1, 1, 1, 0, 2]);
        assert_eq!(
            d.small_quality,
            [Some(0.0), Some(0.0), Some(1.0), None, Some(1.0)]
        );
        assert_eq!(d.escalated, 3);
        // Population sd of 0.1..0.5: sqrt(0.02).
        assert!((d.sd - 0.02f64.sqrt()).abs() < 1e-12);
        assert!(!d.accepted(2) && d.accepted(3) && d.accepted(4));
        assert_eq!(d.bin(0.0), 0);
        assert_eq!(d.bin(0.5), 4);
        assert_eq!(d.bin(9.0), 4);
        assert_eq!(d.decile_of_bins(), [0, 1, 2, 2, 3]);
    }
}
