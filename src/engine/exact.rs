//! Exact sums of non-negative doubles in fixed units, the same on every machine and engine.
//!
//! Owns the one definition of a summed quantity (quality, cost, quality lost): each value v is
//! cut into three whole-number limbs in units of 2^-80,
//!
//! ```text
//! p0 = floor(v · 2^-40)                       (units of 2^40)
//! p1 = floor(v · 2^20) − p0 · 2^60            (units of 2^-20, in [0, 2^60))
//! p2 = floor(v · 2^80) − floor(v · 2^20) · 2^60   (units of 2^-80, in [0, 2^60))
//! ```
//!
//! so v = p0·2^40 + p1·2^-20 + p2·2^-80 up to the part of v below 2^-80 (8.3e-25), which is
//! dropped. Every step is exact in IEEE double arithmetic (a product by a power of two, a floor,
//! and a difference whose exact value is a run of at most 53 bits of the same double), so a SQL
//! engine computes the same limbs, and whole-number sums of limbs are exact in any order or
//! grouping (as DECIMAL(38,0) on an engine, as i128 here). The total is then rounded once to the
//! nearest double. A sweep over records and a sweep over an aggregate of them therefore agree to
//! the last bit. Values must lie in [0, 2^103) (about 1e31). Pure; no I/O.

/// 2^60, the span of the lower two limbs.
const LIMB: i128 = 1 << 60;

/// The largest value (exclusive) a limb split accepts: p0 must fit a signed 64-bit integer.
pub const MAX_VALUE: f64 = 10141204801825835211973625643008.0; // 2^103

/// A running exact sum, as three limb sums.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exact {
    /// Σ p0 (units of 2^40).
    pub p0: i128,
    /// Σ p1 (units of 2^-20).
    pub p1: i128,
    /// Σ p2 (units of 2^-80).
    pub p2: i128,
}

/// The three limbs of one value, computed in double arithmetic exactly as the SQL does.
///
/// Panics in debug builds if `v` is negative, not finite or at least [`MAX_VALUE`] (the loaders
/// refuse such values first).
pub fn limbs(v: f64) -> [i64; 3] {
    debug_assert!((0.0..MAX_VALUE).contains(&v), "limbs of {v}");
    if let Some(units) = units_below_2_47(v) {
        return split(units);
    }
    float_limbs(v)
}

/// The limbs as the SQL computes them: products by powers of two, floors and differences.
fn float_limbs(v: f64) -> [i64; 3] {
    let a = (v * 2f64.powi(-40)).floor();
    let b = (v * 2f64.powi(20)).floor();
    let c = (v * 2f64.powi(80)).floor();
    let p1 = b - a * 2f64.powi(60);
    let p2 = c - b * 2f64.powi(60);
    [a as i64, p1 as i64, p2 as i64]
}

/// floor(v · 2^80) from the bits of `v`, for 0 ≤ v < 2^47 (below 2^127, so it fits a `u128`);
/// `None` for larger values. The same integer the floors of [`float_limbs`] telescope to, found
/// with shifts instead of three calls to `floor` (which is a library call on baseline x86-64).
#[inline]
fn units_below_2_47(v: f64) -> Option<u128> {
    let bits = v.to_bits();
    let biased = (bits >> 52) as i64; // the sign bit is 0 for v ≥ 0
    if biased >= 1023 + 47 {
        return None;
    }
    let fraction = bits & ((1 << 52) - 1);
    // v = m · 2^e exactly, subnormals included.
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    let shift = e + 80; // v · 2^80 = m · 2^shift, shift ≤ 74
    Some(if shift >= 0 {
        u128::from(m) << shift
    } else if shift > -64 {
        u128::from(m >> -shift)
    } else {
        0
    })
}

/// The limbs of floor(v · 2^80) given as one integer below 2^127.
#[inline]
fn split(units: u128) -> [i64; 3] {
    let mask = (1u128 << 60) - 1;
    [
        (units >> 120) as i64,
        ((units >> 60) & mask) as i64,
        (units & mask) as i64,
    ]
}

impl Exact {
    /// Adds one value.
    #[inline]
    pub fn add(&mut self, v: f64) {
        let [p0, p1, p2] = limbs(v);
        self.p0 += i128::from(p0);
        self.p1 += i128::from(p1);
        self.p2 += i128::from(p2);
    }

    /// Adds one value `times` times (a flat cost over a group of records).
    #[cfg(test)]
    pub fn add_times(&mut self, v: f64, times: u64) {
        let [p0, p1, p2] = limbs(v);
        let t = i128::from(times);
        self.p0 += i128::from(p0) * t;
        self.p1 += i128::from(p1) * t;
        self.p2 += i128::from(p2) * t;
    }

    /// Adds another exact sum.
    #[inline]
    pub fn plus(&mut self, other: &Exact) {
        self.p0 += other.p0;
        self.p1 += other.p1;
        self.p2 += other.p2;
    }

    /// The sum rounded once to the nearest double (ties to even).
    pub fn value(&self) -> f64 {
        // Carry the lower limbs up so that the total is p0·2^120 + low with low < 2^120, in
        // units of 2^-80. The sums are non-negative.
        let (mut p0, mut p1, mut p2) = (self.p0, self.p1, self.p2);
        p1 += p2 >> 60;
        p2 &= LIMB - 1;
        p0 += p1 >> 60;
        p1 &= LIMB - 1;
        debug_assert!(p0 >= 0, "a negative exact sum");
        let (high, low) = (p0 as u128, ((p1 as u128) << 60) | p2 as u128);
        let bits = 128 - high.leading_zeros(); // bits of high
        if bits <= 7 {
            // The whole total fits 127 bits: one correctly rounded conversion.
            return ((high << 120) | low) as f64 * pow2(-80);
        }
        // Keep the top 127 bits and fold the rest into a sticky bit: the nearest double is the
        // same (the sticky bit sits far below the 53 bits that are kept).
        let shift = bits + 120 - 127; // in 1..=120 since bits ≤ 127
        let top = (high << (120 - shift)) | (low >> shift);
        let sticky = u128::from(low & ((1u128 << shift) - 1) != 0);
        (top | sticky) as f64 * pow2(shift as i32 - 80)
    }
}

/// 2^k as a double, exactly (|k| well inside the normal range).
fn pow2(k: i32) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limbs_rebuild_the_value() {
        // Each limb by hand: 0.75 = 0.75·2^20 units of 2^-20 = 786432, nothing else.
        assert_eq!(limbs(0.75), [0, 786432, 0]);
        // 2^40 + 2^-12 (53 bits apart): p0 = 1, p1 = 2^8, p2 = 0; 2^-70 is 2^10 units of 2^-80.
        assert_eq!(limbs(2f64.powi(40) + 2f64.powi(-12)), [1, 256, 0]);
        assert_eq!(limbs(2f64.powi(-70)), [0, 0, 1024]);
        // 2^-81 is below the unit and dropped.
        assert_eq!(limbs(2f64.powi(-81)), [0, 0, 0]);
        // 0.1 is 0x3FB999999999999A: mantissa 0x1999999999999A · 2^-56, so in units of 2^-20
        // it is floor(0x1999999999999A / 2^36) = 104857 and the rest, ·2^24, is the third limb.
        let m: i64 = 0x1999999999999A;
        assert_eq!(limbs(0.1), [0, m >> 36, (m & ((1 << 36) - 1)) << 24]);
    }

    #[test]
    fn sums_round_once_to_the_nearest_double() {
        // 0.1 + 0.2 as exact binary values sums to 0.30000000000000001665, nearest double
        // 0.30000000000000004 (the naive sum agrees here); ten 0.1 are exactly 1.0000000000000000555
        // → 1.0, where the naive left-to-right sum gives 0.9999999999999999.
        let mut s = Exact::default();
        s.add(0.1);
        s.add(0.2);
        assert_eq!(s.value(), 0.30000000000000004);
        let mut ten = Exact::default();
        (0..10).for_each(|_| ten.add(0.1));
        assert_eq!(ten.value(), 1.0);
        let naive: f64 = std::iter::repeat_n(0.1, 10).sum();
        assert_eq!(naive, 0.9999999999999999);
        assert_eq!(Exact::default().value(), 0.0);
    }

    #[test]
    fn large_totals_round_with_the_sticky_bit() {
        // 2^100 + 1 + 2^-80: the nearest double is 2^100 (the rest is far below half an ulp).
        let mut s = Exact::default();
        s.add(2f64.powi(100));
        s.add(1.0);
        s.add(2f64.powi(-80));
        assert_eq!(s.value(), 2f64.powi(100));
        // 2^60 + 2^8 (exactly half an ulp of 2^60: ulp 2^8 at 2^60) ties to even → 2^60; one
        // more 2^-80 breaks the tie upwards, which only the sticky bit can see.
        let mut tie = Exact::default();
        tie.add(2f64.powi(60));
        tie.add(2f64.powi(7));
        assert_eq!(tie.value(), 2f64.powi(60));
        tie.add(2f64.powi(-80));
        assert_eq!(tie.value(), 2f64.powi(60) + 2f64.powi(8));
    }

    #[test]
    fn order_and_grouping_do_not_matter() {
        // A seeded shuffle of mixed magnitudes, summed whole, in reverse and in two halves.
        let values: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f64 * 1.37e-7 + (i % 3) as f64 * 0.1)
            .collect();
        let whole = values.iter().fold(Exact::default(), |mut s, &v| {
            s.add(v);
            s
        });
        let mut reverse = Exact::default();
        values.iter().rev().for_each(|&v| reverse.add(v));
        let (a, b) = values.split_at(377);
        let mut halves = Exact::default();
        a.iter().for_each(|&v| halves.add(v));
        let mut other = Exact::default();
        b.iter().for_each(|&v| other.add(v));
        halves.plus(&other);
        assert_eq!(whole, reverse);
        assert_eq!(whole, halves);
        assert_eq!(whole.value(), halves.value());
    }

    #[test]
    fn add_times_is_repeated_addition() {
        let mut once = Exact::default();
        once.add_times(0.3, 7);
        let mut each = Exact::default();
        (0..7).for_each(|_| each.add(0.3));
        assert_eq!(once, each);
    }

    #[test]
    fn shifts_give_the_limbs_of_the_floors_at_the_edges() {
        // The integer path against the floors, by hand-picked values at its edges: zero, the
        // smallest subnormal, values around 2^-80 and 2^40, and just below and at 2^47.
        let edges = [
            0.0,
            f64::from_bits(1),
            2f64.powi(-80),
            2f64.powi(-80) * 1.5,
            2f64.powi(-81) * 3.0,
            0.1,
            1.0 - f64::EPSILON / 2.0,
            2f64.powi(40),
            2f64.powi(40) - 2f64.powi(-12),
            2f64.powi(47) - 2f64.powi(-5),
            2f64.powi(47),
            1e30,
        ];
        for v in edges {
            assert_eq!(limbs(v), float_limbs(v), "limbs of {v:e}");
        }
        assert_eq!(units_below_2_47(2f64.powi(47)), None);
    }

    proptest::proptest! {
        /// The shift path equals the SQL's floors, over all bit patterns below 2^47 (uniform
        /// exponents, so tiny, subnormal and large values all occur) and over plain decimals.
        #[test]
        fn shifts_equal_the_floors(
            bits in 0u64..0x42E0_0000_0000_0000,
            decimal in 0.0f64..1e6,
        ) {
            let v = f64::from_bits(bits);
            proptest::prop_assert_eq!(limbs(v), float_limbs(v));
            proptest::prop_assert_eq!(limbs(decimal), float_limbs(decimal));
        }
    }

    proptest::proptest! {
        /// Below 2^47 (60 values under 2e12) the whole sum fits one i128 in units of 2^-80, and `as f64` rounds it
        /// correctly: the obvious twin.
        #[test]
        fn value_equals_the_one_integer_sum(
            values in proptest::collection::vec(0.0f64..2e12, 1..60),
            tiny in proptest::collection::vec(0.0f64..1e-20, 0..5),
        ) {
            let mut exact = Exact::default();
            let mut units: i128 = 0;
            for &v in values.iter().chain(&tiny) {
                exact.add(v);
                units += (v * 2f64.powi(80)).floor() as i128;
            }
            proptest::prop_assert_eq!(exact.value(), units as f64 * 2f64.powi(-80));
        }
    }
}
