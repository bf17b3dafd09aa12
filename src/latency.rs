//! Cascade latency at a threshold. Pure.
//!
//! Owns the latency rule: an accepted request takes the small model's time; an escalated one
//! takes the small model's time and then the large model's (sequentially); a small model slower
//! than the timeout is cut off at the timeout and escalated. Percentiles are nearest-rank.

use rayon::prelude::*;
use serde::Serialize;

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

/// The cascade's latency when records with confidence ≥ `threshold` (and not `forced`) are
/// accepted.
pub fn at_threshold(
    input: &LatencyInput<'_>,
    confidence: &[f64],
    forced: Option<&[bool]>,
    threshold: f64,
) -> Latency {
    let mut per_request: Vec<f64> = (0..confidence.len())
        .into_par_iter()
        .map(|i| {
            let small = match input.timeout {
                Some(t) => input.small[i].min(t),
                None => input.small[i],
            };
            let escalated = confidence[i] < threshold || forced.is_some_and(|f| f[i]);
            if escalated {
                small + input.large[i]
            } else {
                small
            }
        })
        .collect();
    let n = per_request.len();
    let mean = per_request.iter().sum::<f64>() / n as f64;
    // Nearest rank: the k-th smallest with k = ceil(p n). Select from the top down so each
    // selection works on a shrinking prefix.
    let mut rank = |p: f64, len: usize| -> f64 {
        let k = ((p * n as f64).ceil() as usize).clamp(1, n);
        let (_, v, _) = per_request[..len].select_nth_unstable_by(k - 1, f64::total_cmp);
        *v
    };
    let p99 = rank(0.99, n);
    let k99 = ((0.99 * n as f64).ceil() as usize).clamp(1, n);
    let p95 = rank(0.95, k99);
    let k95 = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    let p50 = rank(0.50, k95);
    Latency {
        mean,
        p50,
        p95,
        p99,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Small 100, 200, 300, 400 ms; large 1000 each. Threshold 0.5 accepts the first two.
        let small = [100.0, 200.0, 300.0, 400.0];
        let large = [1000.0; 4];
        let conf = [0.9, 0.8, 0.2, 0.1];
        let input = LatencyInput {
            small: &small,
            large: &large,
            timeout: None,
        };
        // Latencies: 100, 200, 1300, 1400. Mean 750. Nearest rank: p50 = 2nd = 200,
        // p95 = p99 = 4th = 1400.
        let l = at_threshold(&input, &conf, None, 0.5);
        assert_eq!(
            l,
            Latency {
                mean: 750.0,
                p50: 200.0,
                p95: 1400.0,
                p99: 1400.0
            }
        );
        // Timeout 250: records 3 and 4 time out, are forced to escalate and take 250 + 1000.
        let input = LatencyInput {
            timeout: Some(250.0),
            ..input
        };
        let forced = timed_out(&input).unwrap();
        assert_eq!(forced, vec![false, false, true, true]);
        let l = at_threshold(&input, &[0.9, 0.8, 0.95, 0.99], Some(&forced), 0.5);
        assert_eq!(l.mean, (100.0 + 200.0 + 1250.0 + 1250.0) / 4.0);
        assert_eq!(l.p50, 200.0);
    }

    #[test]
    fn percentiles_match_a_full_sort() {
        // 1..=200 shuffled deterministically; nearest rank on sorted values: p50 = 100,
        // p95 = 190, p99 = 198.
        let small: Vec<f64> = (0..200).map(|i| f64::from((i * 37) % 200 + 1)).collect();
        let large = vec![0.0; 200];
        let conf = vec![1.0; 200];
        let input = LatencyInput {
            small: &small,
            large: &large,
            timeout: None,
        };
        let l = at_threshold(&input, &conf, None, 0.5);
        assert_eq!((l.p50, l.p95, l.p99), (100.0, 190.0, 198.0));
        assert_eq!(l.mean, 100.5);
    }
}
