//! Uncertainty of every sweep row and of the recommended threshold itself. Pure; the caller
//! passes the seed.
//!
//! Owns the intervals: Wilson for rates and 0/1 qualities, a seeded Poisson bootstrap over
//! records (parallel, one random stream per resample, so results do not depend on the thread
//! count) for qualities in [0, 1] and for cost, and the bootstrap distribution of the
//! recommended threshold. It must not print or format.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::engine::sweep::{Metrics, Sweep, SweepInput};
use crate::engine::ties::{Expected, TieSplit, expected};
use crate::trust::stats::wilson;

/// How to compute intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Bootstrap resamples (0: none).
    pub resamples: usize,
    /// The bootstrap's seed.
    pub seed: u64,
}

/// What the user asked for: the level, the resamples (`None`: the default for the data's
/// size) and the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Bootstrap resamples; `None` picks [`default_resamples`] for the records.
    pub resamples: Option<usize>,
    /// The bootstrap's seed.
    pub seed: u64,
}

impl Request {
    /// The settings for `records` records.
    pub fn settings(&self, records: usize) -> Settings {
        Settings {
            level: self.level,
            resamples: self.resamples.unwrap_or_else(|| default_resamples(records)),
            seed: self.seed,
        }
    }
}

/// Above this many table rows, only the recommended row gets bootstrap intervals.
pub const MAX_BOOTSTRAP_ROWS: usize = 5_000;

/// The most resamples `--bootstrap` takes: percentile intervals gain nothing visible beyond
/// tens of thousands, and every resample is a pass over the records.
pub const MAX_RESAMPLES: usize = 100_000;

/// The bootstrap keeps one row of metrics per table row and resample (about 150 bytes); above
/// this many, only the recommended row gets bootstrap intervals, which bounds that memory near
/// 300 MB (issue 13: a million resamples of a 101-row grid took 13.6 GB).
pub const MAX_BOOTSTRAP_CELLS: usize = 2_000_000;

/// How many table rows get bootstrap intervals: all of them when the table is a readable grid
/// and the kept metrics fit [`MAX_BOOTSTRAP_CELLS`], else none (only the recommended row).
pub fn booted_rows(rows: usize, resamples: usize) -> usize {
    if rows <= MAX_BOOTSTRAP_ROWS && rows.saturating_mul(resamples) <= MAX_BOOTSTRAP_CELLS {
        rows
    } else {
        0
    }
}

/// The default number of resamples for `records`: 200, fewer for large sets so that the
/// bootstrap stays near ten million record visits (at least 10).
pub fn default_resamples(records: usize) -> usize {
    (10_000_000 / records.max(1)).clamp(10, 200)
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

/// The intervals of one row; `None` where the metric is undefined or needs a bootstrap that
/// was not run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RowIntervals {
    /// Escalation rate (Wilson).
    pub escalation_rate: Interval,
    /// Non-escalated quality (Wilson for 0/1 labels, else bootstrap).
    pub non_escalated_quality: Option<Interval>,
    /// Cascade quality (Wilson for 0/1 labels, else bootstrap).
    pub cascade_quality: Option<Interval>,
    /// Cost per request (bootstrap).
    pub cost_per_request: Option<Interval>,
}

/// How the recommended threshold moves across bootstrap resamples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdSpread {
    /// Resamples drawn (empty resamples are left out).
    pub resamples: usize,
    /// Resamples in which no threshold met the objective.
    pub none: usize,
    /// The threshold chosen most often and in how many resamples.
    pub mode: Option<(f64, usize)>,
    /// The five thresholds chosen most often, with their counts (most often first; ties by
    /// threshold).
    pub top: Vec<(f64, usize)>,
    /// The central interval (at the level) of the chosen thresholds: the range of thresholds
    /// that are near-optimal given the noise in the data.
    pub range: Option<Interval>,
}

/// Everything the report says about uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    /// The settings used.
    pub settings: Settings,
    /// Whether the labels are 0/1 (Wilson intervals for qualities).
    pub binary: bool,
    /// One per report row.
    pub rows: Vec<RowIntervals>,
    /// At the recommended threshold.
    pub recommended: Option<RowIntervals>,
    /// The recommended threshold across resamples (without a bootstrap: `None`).
    pub spread: Option<ThresholdSpread>,
}

/// Computes intervals for `rows` (and the recommendation) of `sweep`.
pub fn uncertainty(
    input: SweepInput<'_>,
    sweep: &Sweep,
    rows: &[Metrics],
    recommended: Option<&Metrics>,
    choose: &(dyn Fn(&Sweep) -> Option<f64> + Sync),
    settings: Settings,
    binary: bool,
) -> Uncertainty {
    let weights = poisson_weights(sweep.records());
    let resampling = Resampling::records(input, sweep, &weights);
    uncertainty_of(resampling, rows, recommended, choose, settings, binary)
}

/// How one resample's weights are drawn: one per position in the template sweep's order.
pub type Weights<'a> = dyn Fn(&mut ChaCha8Rng) -> Vec<u32> + Sync + 'a;

/// What a bootstrap resamples: the template sweep's units (records, or an aggregate's cells as
/// weighted pseudo-records) and how their weights are drawn.
#[derive(Clone, Copy)]
pub struct Resampling<'a> {
    /// The units' columns (the template was built from them).
    pub input: SweepInput<'a>,
    /// The sweep of the units, whose candidates are the real sweep's.
    pub template: &'a Sweep,
    /// Records in all (Wilson intervals count records, not units).
    pub records: usize,
    /// The weights of one resample.
    pub weights: &'a Weights<'a>,
}

impl<'a> Resampling<'a> {
    /// The records themselves, each weighted by `weights` (see [`poisson_weights`]).
    pub fn records(input: SweepInput<'a>, sweep: &'a Sweep, weights: &'a Weights<'a>) -> Self {
        Resampling {
            input,
            template: sweep,
            records: sweep.records(),
            weights,
        }
    }
}

/// A Poisson(1) weight for each of `records` records: the record-level bootstrap.
fn poisson_weights(records: usize) -> impl Fn(&mut ChaCha8Rng) -> Vec<u32> + Sync {
    move |rng| poisson_draws(rng, records)
}

/// `count` draws of [`poisson1`], the same values: the generator's bytes are taken a block at a
/// time (from a generator that has only given 64-bit outputs, as a fresh one has, those outputs
/// are its bytes, little-endian, in turn), so the per-draw call and buffer check fall out of the
/// loop.
fn poisson_draws(rng: &mut ChaCha8Rng, count: usize) -> Vec<u32> {
    const DRAWS: usize = 256;
    let mut out = Vec::with_capacity(count);
    let mut bytes = [0u8; 8 * DRAWS];
    while out.len() < count {
        let bytes = &mut bytes[..8 * (count - out.len()).min(DRAWS)];
        rng.fill_bytes(bytes);
        out.extend(bytes.chunks_exact(8).map(|word| {
            let word: [u8; 8] = word.try_into().expect("eight bytes");
            poisson_of(u64::from_le_bytes(word) >> 11)
        }));
    }
    out
}

/// [`uncertainty`] over any resampling.
pub fn uncertainty_of(
    resampling: Resampling<'_>,
    rows: &[Metrics],
    recommended: Option<&Metrics>,
    choose: &(dyn Fn(&Sweep) -> Option<f64> + Sync),
    settings: Settings,
    binary: bool,
) -> Uncertainty {
    // Bootstrap intervals for every row when the table is a readable grid; for a long
    // `--exact` table or a huge `--bootstrap` only the recommended row gets them (Wilson
    // intervals cover every row).
    let booted_rows = booted_rows(rows.len(), settings.resamples);
    let mut wanted: Vec<Metrics> = rows[..booted_rows].to_vec();
    wanted.extend(recommended.copied());
    let draws = resample(resampling, &wanted, choose, settings);
    // Every row, then the recommendation; bootstrap slots exist for the first `booted_rows`
    // rows and for the recommendation (the last slot).
    let mut all: Vec<Metrics> = rows.to_vec();
    all.extend(recommended.copied());
    let slot = |r: usize| -> Option<usize> {
        if r < booted_rows {
            Some(r)
        } else if r == rows.len() {
            Some(wanted.len() - 1)
        } else {
            None
        }
    };
    let boot = |r: usize, f: &dyn Fn(&Metrics) -> Option<f64>| -> Option<Interval> {
        let s = slot(r)?;
        let mut v: Vec<f64> = draws.iter().filter_map(|(at, _)| f(&at[s])).collect();
        percentile(&mut v, settings.level)
    };
    let n = resampling.records;
    let mut intervals: Vec<RowIntervals> = (all.iter().enumerate())
        .map(|(r, m)| row_intervals(m, n, binary, settings.level, &|f| boot(r, f)))
        .collect();
    let recommended = recommended.and_then(|_| intervals.pop());
    let spread = (settings.resamples > 0).then(|| spread(&draws, settings.level));
    Uncertainty {
        settings,
        binary,
        rows: intervals,
        recommended,
        spread,
    }
}

/// One bootstrap resample: the metrics at every wanted row, and the threshold it recommends.
type Draw = (Vec<Metrics>, Option<f64>);

/// The seeded Poisson bootstrap: the metrics at every wanted row and the threshold `choose`
/// picks, per resample.
fn resample(
    resampling: Resampling<'_>,
    wanted: &[Metrics],
    choose: &(dyn Fn(&Sweep) -> Option<f64> + Sync),
    settings: Settings,
) -> Vec<Draw> {
    let sweep = resampling.template;
    let candidates: Vec<usize> = wanted.iter().map(|m| candidate_of(sweep, m)).collect();
    bootstrap(resampling, settings, &|r: &Sweep| {
        let at: Vec<Metrics> = candidates.iter().map(|&j| r.at_candidate(j)).collect();
        (at, choose(r))
    })
}

/// `f` of every resampled sweep: resample `b` draws its weights from stream `b` of the seed,
/// so results do not depend on the thread count. Empty resamples are skipped.
fn bootstrap<T: Send>(
    resampling: Resampling<'_>,
    settings: Settings,
    f: &(dyn Fn(&Sweep) -> T + Sync),
) -> Vec<T> {
    if settings.resamples == 0 {
        return Vec::new();
    }
    let sweep = resampling.template;
    let sorted = sweep.sorted_columns(resampling.input);
    (0..settings.resamples)
        .into_par_iter()
        .filter_map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
            rng.set_stream(b as u64);
            // Weights are drawn per position in the sweep's order; records are exchangeable,
            // so this is the same bootstrap and reads memory in order.
            let weights = (resampling.weights)(&mut rng);
            if weights.iter().all(|&w| w == 0) {
                return None; // an empty resample (only likely with a handful of records)
            }
            Some(f(&sweep.resampled(&sorted, &weights)))
        })
        .collect()
}

/// Bootstrap intervals of a tie split's metrics in expectation, the split held fixed (its
/// candidate and keep fraction): the same seeded resamples as [`uncertainty`], each giving the
/// expected metrics of that split. `None` without resamples.
pub fn split_intervals(
    input: SweepInput<'_>,
    sweep: &Sweep,
    split: &TieSplit,
    settings: Settings,
) -> Option<RowIntervals> {
    let j = split.candidate;
    let weights = poisson_weights(sweep.records());
    let resampling = Resampling::records(input, sweep, &weights);
    let draws = bootstrap(resampling, settings, &|r: &Sweep| {
        expected(&r.totals(j), &r.totals(j + 1), split.fraction)
    });
    let boot = |f: &dyn Fn(&Expected) -> Option<f64>| {
        let mut v: Vec<f64> = draws.iter().filter_map(f).collect();
        percentile(&mut v, settings.level)
    };
    Some(RowIntervals {
        escalation_rate: boot(&|e| Some(e.escalation_rate))?,
        non_escalated_quality: boot(&|e| e.non_escalated_quality),
        cascade_quality: boot(&|e| e.cascade_quality),
        cost_per_request: boot(&|e| Some(e.cost_per_request)),
    })
}

/// The percentile interval at `level` of `values` (sorted in place); `None` when empty.
pub fn percentile(values: &mut [f64], level: f64) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    // The k-th smallest and k-th largest, k = ⌈n (1 − level) / 2⌉ (a hair of slack so that
    // 200 × 0.025 counts as 5, not 6).
    let k = ((n as f64 * (1.0 - level) / 2.0 - 1e-9).ceil() as usize).clamp(1, n);
    Some(Interval {
        lo: values[k - 1],
        hi: values[n - k],
    })
}

/// A metric of a row (`None` where undefined).
type Field<'a> = &'a dyn Fn(&Metrics) -> Option<f64>;

/// The bootstrap's percentile interval of a metric of one row.
type Bootstrap<'a> = dyn Fn(Field<'_>) -> Option<Interval> + 'a;

/// Wilson intervals for rates and 0/1 qualities, `boot` (the bootstrap's percentiles) for the
/// rest; `n` records in all.
fn row_intervals(
    m: &Metrics,
    n: usize,
    binary: bool,
    level: f64,
    boot: &Bootstrap<'_>,
) -> RowIntervals {
    let wilson_of = |successes: f64, n: usize| {
        let (lo, hi) = wilson(successes.round(), n as f64, level);
        Interval { lo, hi }
    };
    RowIntervals {
        escalation_rate: wilson_of(m.escalated as f64, n),
        non_escalated_quality: match (m.non_escalated_quality, binary) {
            (None, _) => None,
            (Some(q), true) => Some(wilson_of(q * m.accepted as f64, m.accepted)),
            (Some(_), false) => boot(&|x| x.non_escalated_quality),
        },
        cascade_quality: match (m.cascade_quality, binary) {
            (None, _) => None,
            (Some(q), true) => Some(wilson_of(q * n as f64, n)),
            (Some(_), false) => boot(&|x| x.cascade_quality),
        },
        cost_per_request: boot(&|x| Some(x.cost_per_request)),
    }
}

/// How the recommended threshold varies across resamples: its range, and the five most
/// frequent thresholds with their counts.
fn spread(draws: &[Draw], level: f64) -> ThresholdSpread {
    let mut chosen: Vec<f64> = draws.iter().filter_map(|(_, t)| *t).collect();
    let none = draws.len() - chosen.len();
    let range = percentile(&mut chosen, level);
    // `chosen` is sorted now: runs of equal values count how often each threshold won.
    let mut runs: Vec<(f64, usize)> = Vec::new();
    let mut k = 0;
    while k < chosen.len() {
        let run = chosen[k..].iter().take_while(|&&t| t == chosen[k]).count();
        runs.push((chosen[k], run));
        k += run;
    }
    runs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.total_cmp(&b.0)));
    let mode = runs.first().copied();
    runs.truncate(5);
    ThresholdSpread {
        resamples: draws.len(),
        none,
        mode,
        top: runs,
        range,
    }
}

/// The candidate whose split a metrics row shows.
fn candidate_of(sweep: &Sweep, m: &Metrics) -> usize {
    sweep.candidate_at(m.routing_threshold())
}

/// P(X ≤ k) for X ~ Poisson(1), k = 0..=11 (Σ e⁻¹/j!, computed in Python); beyond 11 the tail
/// is below 1e-9.
const CDF: [f64; 12] = [
    0.36787944117144233,
    0.7357588823428847,
    0.9196986029286058,
    0.9810118431238463,
    0.9963401531726563,
    0.9994058151824183,
    0.999916758850712,
    0.9999897508033253,
    0.999998874797402,
    0.9999998885745216,
    0.9999999899522336,
    0.9999999991683892,
];

/// A draw is `m / 2^53` for a 53-bit integer `m`, and `m / 2^53 > c` exactly when `m` exceeds
/// `⌊c · 2^53⌋` (the product is exact: a power-of-two scaling).
const CDF_53: [u64; 12] = {
    let mut t = [0u64; 12];
    let mut k = 0;
    while k < 12 {
        t[k] = (CDF[k] * (1u64 << 53) as f64) as u64;
        k += 1;
    }
    t
};

/// Bits of `m` that pick its slice of the unit interval in [`SLICES`].
const SLICE_BITS: u32 = 8;

/// The draw of every `m` in each of 2^[`SLICE_BITS`] equal slices of the 53-bit range, where no
/// CDF entry falls inside the slice; `u8::MAX` where one does (about 4 % of draws compare).
const SLICES: [u8; 1 << SLICE_BITS] = {
    let shift = 53 - SLICE_BITS;
    let mut table = [0u8; 1 << SLICE_BITS];
    let mut b = 0;
    while b < table.len() {
        let (low, high) = ((b as u64) << shift, (((b as u64) + 1) << shift) - 1);
        let (mut at_low, mut at_high, mut k) = (0u8, 0u8, 0);
        while k < 12 {
            at_low += (low > CDF_53[k]) as u8;
            at_high += (high > CDF_53[k]) as u8;
            k += 1;
        }
        table[b] = if at_low == at_high { at_low } else { u8::MAX };
        b += 1;
    }
    table
};

/// A Poisson(1) draw by inversion: the first k with u ≤ CDF[k] for a uniform u = m / 2^53, which
/// is the count of CDF entries below u. Most draws read it from [`SLICES`]; the rest count,
/// without branches (the outcome is random, so branches would mispredict). The bootstrap draws
/// these a block at a time ([`poisson_draws`]); this one at a time is the tests' reference.
#[cfg(test)]
fn poisson1(rng: &mut ChaCha8Rng) -> u32 {
    poisson_of(rng.next_u64() >> 11)
}

/// [`poisson1`] of the 53-bit integer `m`.
fn poisson_of(m: u64) -> u32 {
    match SLICES[(m >> (53 - SLICE_BITS)) as usize] {
        u8::MAX => CDF_53.iter().map(|&c| u32::from(m > c)).sum(),
        k => u32::from(k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::objective::Objective;
    use crate::engine::recommend::recommend;
    use crate::engine::sweep::flat_input;

    fn input<'a>(conf: &'a [f64], q: &'a [f64]) -> SweepInput<'a> {
        flat_input(conf, q, None)
    }

    #[test]
    fn bootstrap_memory_is_bounded_by_rows_times_resamples() {
        // Issue 13, item 11: every row is booted while rows × resamples fits the budget.
        assert_eq!(booted_rows(101, 200), 101);
        assert_eq!(booted_rows(101, 19_801), 101); // 1,999,901 cells
        assert_eq!(booted_rows(101, 19_802), 0); // 2,000,002 cells
        assert_eq!(booted_rows(5_001, 10), 0);
        assert_eq!(booted_rows(usize::MAX, usize::MAX), 0);
        // About 150 bytes per kept row of metrics, as the budget's comment says.
        assert!(
            std::mem::size_of::<Metrics>() <= 160,
            "{}",
            std::mem::size_of::<Metrics>()
        );
    }

    #[test]
    fn binary_rows_use_wilson_and_the_bootstrap_is_seeded() {
        let conf: Vec<f64> = (0..400).map(|i| f64::from(i % 100) / 100.0).collect();
        let q: Vec<f64> = (0..400)
            .map(|i| f64::from(u8::from(i % 100 >= 20)))
            .collect();
        let s = Sweep::new(input(&conf, &q));
        let row = s.at_threshold(0.5);
        let choose = |r: &Sweep| {
            recommend(r, Objective::MinQuality { target: 1.0 })
                .ok()
                .map(|m| m.threshold)
        };
        let settings = Settings {
            level: 0.95,
            resamples: 50,
            seed: 7,
        };
        let u = uncertainty(
            input(&conf, &q),
            &s,
            &[row],
            Some(&row),
            &choose,
            settings,
            true,
        );
        // Escalation: 200 of 400 (Wilson, checked against statsmodels in stats.rs).
        let (lo, hi) = wilson(200.0, 400.0, 0.95);
        assert_eq!(u.rows[0].escalation_rate, Interval { lo, hi });
        // All accepted answers are right: Wilson upper end 1.
        assert_eq!(u.rows[0].non_escalated_quality.unwrap().hi, 1.0);
        let cost = u.rows[0].cost_per_request.unwrap();
        assert!(cost.lo <= row.cost_per_request && row.cost_per_request <= cost.hi);
        let spread = u.spread.clone().unwrap();
        assert_eq!(spread.resamples, 50);
        // Confidence 0.2 separates right from wrong exactly, so nearly every resample picks it
        // (unless all four records at 0.2 draw weight 0, chance e^-4 per resample).
        let (mode, count) = spread.mode.unwrap();
        assert_eq!(mode, 0.2);
        assert!(count >= 45, "{count}");
        // Same seed, same answer; another seed, another bootstrap.
        let again = uncertainty(
            input(&conf, &q),
            &s,
            &[row],
            Some(&row),
            &choose,
            settings,
            true,
        );
        assert_eq!(again, u);
    }

    #[test]
    fn split_intervals_resample_the_expected_metrics_record_by_record() {
        // A naive check of the bootstrap of a tie split: for each resample, the same Poisson
        // weights (stream b of the seed, by position in the sweep's order) applied record by
        // record: accepted = Σ w [c > 0.5] + p Σ w [c = 0.5], and so on.
        let conf = [0.9, 0.5, 0.5, 0.5, 0.5, 0.2, 0.9, 0.5];
        let q = [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let large = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let input = flat_input(&conf, &q, Some(&large));
        let sweep = Sweep::new(input);
        // Candidate 1 accepts the two 0.9s; the tie at 0.5 (five records) is candidate 2.
        assert_eq!((sweep.threshold_of(1), sweep.threshold_of(2)), (0.9, 0.5));
        let p = 0.3;
        let settings = Settings {
            level: 0.9,
            resamples: 40,
            seed: 11,
        };
        let split = |r: &Sweep| expected(&r.totals(1), &r.totals(2), p);
        let weights = poisson_weights(sweep.records());
        let draws = bootstrap(
            Resampling::records(input, &sweep, &weights),
            settings,
            &split,
        );
        let mut naive = Vec::new();
        for b in 0..settings.resamples {
            let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
            rng.set_stream(b as u64);
            let w: Vec<f64> = (0..conf.len())
                .map(|_| f64::from(poisson1(&mut rng)))
                .collect();
            if w.iter().all(|&x| x == 0.0) {
                continue;
            }
            let (mut n, mut acc, mut sq, mut lq, mut lcost) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (k, &i) in sweep.order().iter().enumerate() {
                let i = i as usize;
                let keep = if conf[i] > 0.5 {
                    1.0
                } else if conf[i] == 0.5 {
                    p
                } else {
                    0.0
                };
                n += w[k];
                acc += w[k] * keep;
                sq += w[k] * keep * q[i];
                lq += w[k] * (1.0 - keep) * large[i];
                lcost += w[k] * (1.0 - keep) * 10.0;
            }
            naive.push((1.0 - acc / n, sq / acc, (sq + lq) / n, (n + lcost) / n));
        }
        assert_eq!(draws.len(), naive.len());
        for (e, (esc, neq, cq, cost)) in draws.iter().zip(&naive) {
            assert!((e.escalation_rate - esc).abs() < 1e-12);
            assert!((e.non_escalated_quality.unwrap() - neq).abs() < 1e-12);
            assert!((e.cascade_quality.unwrap() - cq).abs() < 1e-12);
            assert!((e.cost_per_request - cost).abs() < 1e-12);
        }
        // The intervals are those draws' percentiles, and seeded.
        let tie = TieSplit {
            candidate: 1,
            value: 0.5,
            records: 5,
            fraction: p,
            expected: split(&sweep),
            metric: 0.0,
        };
        let got = split_intervals(input, &sweep, &tie, settings).unwrap();
        let mut costs: Vec<f64> = naive.iter().map(|d| d.3).collect();
        assert_eq!(got.cost_per_request, percentile(&mut costs, 0.9));
        assert_eq!(split_intervals(input, &sweep, &tie, settings), Some(got));
        let none = Settings {
            resamples: 0,
            ..settings
        };
        assert_eq!(split_intervals(input, &sweep, &tie, none), None);
    }

    #[test]
    fn poisson_draws_are_the_comparison_against_the_cdf() {
        // The reference: the uniform as a double, compared with each CDF entry.
        let reference = |x: u64| -> u32 {
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            CDF.iter().map(|&c| u32::from(u > c)).sum()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut twin = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..1_000_000 {
            assert_eq!(poisson1(&mut rng), reference(twin.next_u64()));
        }
        // Both sides of every CDF entry and of every slice's ends, where a table can go wrong.
        let mut edges: Vec<u64> = CDF_53.to_vec();
        edges.extend((0..=1u64 << SLICE_BITS).map(|b| (b << (53 - SLICE_BITS)).min((1 << 53) - 1)));
        for m in edges
            .into_iter()
            .flat_map(|e| [e.saturating_sub(1), e, e + 1])
        {
            let m = m.min((1 << 53) - 1);
            assert_eq!(poisson_of(m), reference(m << 11), "m = {m}");
        }
    }

    #[test]
    fn block_draws_are_the_draws_one_at_a_time() {
        // The bootstrap's weights against `poisson1` called in turn on a twin generator, on
        // several streams and lengths around the block of draws and the generator's buffer
        // (64 words, 32 draws).
        for (stream, count) in [(0, 0), (1, 1), (2, 31), (3, 32), (4, 33), (5, 255)] {
            for count in [count, count + 256, count + 4096] {
                let mut rng = ChaCha8Rng::seed_from_u64(13);
                rng.set_stream(stream);
                let mut twin = rng.clone();
                let want: Vec<u32> = (0..count).map(|_| poisson1(&mut twin)).collect();
                assert_eq!(poisson_draws(&mut rng, count), want, "{stream} {count}");
                // Both leave the generator at the same place.
                assert_eq!(rng.next_u64(), twin.next_u64());
            }
        }
    }

    #[test]
    fn poisson_draws_have_mean_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 200_000;
        let sum: u64 = (0..n).map(|_| u64::from(poisson1(&mut rng))).sum();
        let mean = sum as f64 / n as f64;
        // Standard error of the mean is 1/sqrt(n) = 0.0022.
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn default_resamples_shrink_for_large_sets() {
        assert_eq!(default_resamples(5_000), 200);
        assert_eq!(default_resamples(100_000), 100);
        assert_eq!(default_resamples(10_000_000), 10);
    }
}
