//! The latency sketch of an aggregate: latencies counted in logarithmic buckets whose number is
//! itself a GROUP BY key, so sketches merge by adding counts, on any engine.
//!
//! Owns the bucket of a latency and the percentile read back from bucket counts. Below 2^5 ms
//! a bucket is 1 ms wide; above, each doubling of the latency is cut into 2^5 equal buckets, so a
//! bucket spans at most 1/32 of its lower bound. A percentile is reported as the middle of its
//! bucket: within 0.5 ms or 1/64 (1.6 %) of the exact nearest-rank value. Pure.

/// Sub-buckets per doubling, as a power of two.
pub const SUB_BITS: u32 = 5;
/// Latencies up to 2^this ms (about 285 years) have buckets of their own; larger ones share
/// the last.
pub const MAX_OCTAVE: u32 = 53;

/// The bucket of a latency in milliseconds (finite, ≥ 0): the SQL of `calibrate sql` computes
/// the same number with comparisons against powers of two and one floor per value.
pub fn bucket(ms: f64) -> u64 {
    let sub = 1u64 << SUB_BITS;
    if ms < sub as f64 {
        return ms.floor() as u64;
    }
    // The octave: 2^e ≤ ms < 2^(e+1), from the exponent bits (exact).
    let e = ((ms.to_bits() >> 52) as i64 - 1023).min(i64::from(MAX_OCTAVE)) as u32;
    // 1 / 2^(e − SUB_BITS), built from its exponent bits: scaling by a power of two is exact.
    let inverse = f64::from_bits(u64::from(1023 - (e - SUB_BITS)) << 52);
    let within = ((ms * inverse).floor() as u64).min(2 * sub - 1);
    u64::from(e - SUB_BITS + 1) * sub + within - sub
}

/// The bucket's range [lo, hi) in milliseconds.
pub fn bounds(bucket: u64) -> (f64, f64) {
    let sub = 1u64 << SUB_BITS;
    if bucket < sub {
        return (bucket as f64, bucket as f64 + 1.0);
    }
    let e = (bucket / sub) as u32 + SUB_BITS - 1;
    let within = bucket % sub + sub;
    let width = 2f64.powi((e - SUB_BITS) as i32);
    (within as f64 * width, (within + 1) as f64 * width)
}

/// The nearest-rank percentile p (k = ⌈p·n⌉-th smallest) of a histogram given as (bucket,
/// count) in ascending bucket order, as the middle of its bucket; `None` when empty.
pub fn percentile(histogram: &[(u64, u64)], p: f64) -> Option<f64> {
    let n: u64 = histogram.iter().map(|&(_, c)| c).sum();
    if n == 0 {
        return None;
    }
    let k = ((p * n as f64).ceil() as u64).clamp(1, n);
    let mut seen = 0;
    for &(b, c) in histogram {
        seen += c;
        if seen >= k {
            let (lo, hi) = bounds(b);
            return Some((lo + hi) / 2.0);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_hand() {
        // Linear below 32 ms; 32..64 is still 1 ms wide (2^5 sub-buckets of the octave 2^5).
        assert_eq!((bucket(0.0), bucket(0.99), bucket(31.5)), (0, 0, 31));
        assert_eq!((bucket(32.0), bucket(63.9)), (32, 63));
        // 64..128: 2 ms wide, buckets 64..95; 100 ms is 64 + floor(100 / 2) - 32 = 82.
        assert_eq!((bucket(64.0), bucket(100.0), bucket(127.99)), (64, 82, 95));
        assert_eq!(bounds(82), (100.0, 102.0));
        // 1000 ms: octave 9 (512..1024), width 16: 64 + 5·32... = (9 - 4)·32 + 62 - 32 = 190.
        assert_eq!(bucket(1000.0), 190);
        assert_eq!(bounds(190), (992.0, 1008.0));
    }

    #[test]
    fn every_value_lies_in_its_bucket_and_buckets_ascend() {
        let mut last = 0;
        let mut x = 0.0f64;
        while x < 1e9 {
            let b = bucket(x);
            let (lo, hi) = bounds(b);
            assert!(lo <= x && x < hi, "{x} not in {lo}..{hi} (bucket {b})");
            assert!(b >= last);
            // Width at most 1 ms or 1/32 of the lower bound.
            assert!(hi - lo <= 1.0f64.max(lo / 32.0));
            last = b;
            x = x * 1.013 + 0.37;
        }
    }

    #[test]
    fn the_largest_bucket_is_the_one_the_aggregate_reader_allows() {
        assert_eq!(bucket(f64::MAX), crate::input::aggregate::MAX_BUCKET);
        assert_eq!(bucket(1e29), crate::input::aggregate::MAX_BUCKET);
    }

    #[test]
    fn percentiles_are_bucket_middles_of_the_nearest_rank() {
        // Ten values in buckets 10 (×4), 40 (×5) and 190 (×1): the median (k = 5) is in bucket
        // 40, the 95th (k = 10) in bucket 190, reported as 1000 (992..1008).
        let h = [(10, 4), (40, 5), (190, 1)];
        assert_eq!(percentile(&h, 0.5), Some(40.5));
        assert_eq!(percentile(&h, 0.4), Some(10.5));
        assert_eq!(percentile(&h, 0.95), Some(1000.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
