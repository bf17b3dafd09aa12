//! Exact arithmetic shared by every sweep: order-preserving float keys, compensated sums, and
//! the rank-sum area (AUROC) over tie groups.
//!
//! Owns these three definitions; every module that sorts floats, sums long columns or ranks a
//! signal calls them. Pure; no I/O.

/// Maps a finite float to an integer with the same order (negative floats flip all bits,
/// non-negative ones set the sign bit), so sorting keys sorts the floats.
pub fn ascending_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The double whose [`ascending_key`] is `key`.
pub fn from_ascending_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// Neumaier-compensated running sum, so long prefix sums stay accurate to the last digits.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    /// Adds `x`.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated total.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

impl Sum {
    /// The compensated sum of `values`, taken in order.
    pub fn of(values: impl IntoIterator<Item = f64>) -> f64 {
        let mut acc = Sum::default();
        values.into_iter().for_each(|x| acc.add(x));
        acc.value()
    }
}

/// The area under the ROC curve from tie groups of a score, least confident first: each group
/// is (positive weight, negative weight). The probability that a positive outranks a negative,
/// ties counting half. `None` when the total positive or negative weight is zero.
pub fn auroc_of_groups(groups: impl Iterator<Item = (f64, f64)> + Clone) -> Option<f64> {
    let (positives, negatives) = groups
        .clone()
        .fold((0.0, 0.0), |(p, n), (gp, gn)| (p + gp, n + gn));
    if !(positives > 0.0 && negatives > 0.0) {
        return None;
    }
    // Negatives below a tie group are those already passed.
    let mut negatives_below = 0.0;
    let mut area = 0.0;
    for (pos, neg) in groups {
        area += pos * negatives_below + 0.5 * pos * neg;
        negatives_below += neg;
    }
    Some(area / (positives * negatives))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_is_exact_where_the_naive_one_drifts() {
        // 0.1 is not representable; 1000 x -0.1 summed naively drifts to -99.9999999999986,
        // the compensated sum stays at the double nearest -100.
        let values = vec![-0.1; 1000];
        let naive: f64 = values.iter().sum();
        assert_ne!(naive, -100.0);
        assert_eq!(Sum::of(values), -100.0);
    }

    #[test]
    fn auroc_of_groups_by_hand() {
        // Scores 1, 2, 2, 3 with labels 0, 1, 0, 1: pairs (pos, neg) = (2,1) wins, (2,2) tie,
        // (3,1) wins, (3,2) wins -> (3 + 0.5) / 4.
        let groups = [(0.0, 1.0), (1.0, 1.0), (1.0, 0.0)];
        assert_eq!(auroc_of_groups(groups.into_iter()), Some(3.5 / 4.0));
        assert_eq!(auroc_of_groups([(1.0, 0.0)].into_iter()), None);
    }

    #[test]
    fn keys_sort_like_floats() {
        let mut xs = [3.5, -0.0, -2.0, 0.0, 1e-300, -1e300];
        xs.sort_by_key(|x| ascending_key(*x));
        assert_eq!(xs, [-1e300, -2.0, -0.0, 0.0, 1e-300, 3.5]);
        // The key maps back to the same bits (-0.0 included).
        for x in xs {
            assert_eq!(from_ascending_key(ascending_key(x)).to_bits(), x.to_bits());
        }
    }
}
