//! The statistics the monitor's checks use, on binned counts: PSI, a tie-aware binned
//! Kolmogorov–Smirnov test, the Wasserstein-1 distance, two-sample and two-proportion tests,
//! and Benjamini–Hochberg.
//!
//! Owns these formulas and nothing else. Pure: counts in, numbers out.

use crate::trust::stats::normal_cdf;

/// The share an empty PSI bin counts as, so ln(p / q) stays finite.
pub const PSI_EPSILON: f64 = 1e-4;

/// Population stability index of `actual` against `expected` counts over the same bins:
/// Σ (a − e) · ln(a / e) over the bins' shares, a share of 0 counted as [`PSI_EPSILON`].
pub fn psi(actual: &[u64], expected: &[u64]) -> f64 {
    let (na, ne) = (total(actual), total(expected));
    if na == 0.0 || ne == 0.0 {
        return 0.0;
    }
    (actual.iter().zip(expected))
        .map(|(a, e)| {
            let a = (*a as f64 / na).max(PSI_EPSILON);
            let e = (*e as f64 / ne).max(PSI_EPSILON);
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// The Kolmogorov–Smirnov statistic of two samples binned on the same edges: the largest
/// difference of their empirical CDFs at the bin boundaries. Both CDFs are exact there (a
/// value equal to an edge falls on the same side for both), so ties cost nothing; between
/// boundaries nothing is known, so this is at most the unbinned statistic.
pub fn ks_binned(a: &[u64], b: &[u64]) -> f64 {
    let (na, nb) = (total(a), total(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let (mut ca, mut cb, mut d) = (0.0, 0.0, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        ca += *x as f64;
        cb += *y as f64;
        d = d.max((ca / na - cb / nb).abs());
    }
    d
}

/// The asymptotic two-sample KS p-value of statistic `d` for samples of `n` and `m`: the
/// Kolmogorov distribution Q(λ) = 2 Σ (−1)^(k−1) exp(−2 k² λ²) at λ = (√e + 0.12 + 0.11 / √e)
/// · d, e = n m / (n + m) (Stephens' correction, as in Numerical Recipes' `probks`).
pub fn ks_p_value(d: f64, n: f64, m: f64) -> f64 {
    if n <= 0.0 || m <= 0.0 {
        return 1.0;
    }
    let e = (n * m / (n + m)).sqrt();
    kolmogorov_q((e + 0.12 + 0.11 / e) * d)
}

/// Q(λ) = P(K > λ) of the Kolmogorov distribution.
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let k = k as f64;
        let term = (-2.0 * k * k * lambda * lambda).exp();
        sum += if k as u64 % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The Wasserstein-1 distance of two samples binned on `edges`, each spread uniformly within
/// its bins (CDFs linear between edges): ∫ |F_a − F_b| dx, exact for that reading.
pub fn wasserstein_binned(a: &[u64], b: &[u64], edges: &[f64]) -> f64 {
    let (na, nb) = (total(a), total(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let (mut ca, mut cb, mut w) = (0.0, 0.0, 0.0);
    for i in 0..a.len() {
        let d0 = ca / na - cb / nb;
        ca += a[i] as f64;
        cb += b[i] as f64;
        let d1 = ca / na - cb / nb;
        let h = edges[i + 1] - edges[i];
        w += h * if d0 * d1 >= 0.0 {
            (d0.abs() + d1.abs()) / 2.0
        } else {
            (d0 * d0 + d1 * d1) / (2.0 * (d0.abs() + d1.abs()))
        };
    }
    w
}

/// A difference of two proportions tested against an equivalence margin: `p1` of `n1`
/// against `p0` of `n0` (each with its own binomial variance).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Difference {
    /// p1 − p0.
    pub difference: f64,
    /// Its standard error √(p1(1−p1)/n1 + var0).
    pub se: f64,
    /// P-value of "|difference| is within the margin": Φ(−(|d| − margin) / se).
    pub p_beyond_margin: f64,
}

/// `p1` (of `n1` observations) against a prediction `p0` with variance `var0`, and margin.
pub fn beyond_margin(p1: f64, n1: f64, p0: f64, var0: f64, margin: f64) -> Difference {
    let difference = p1 - p0;
    let se = (p1 * (1.0 - p1) / n1 + var0).sqrt();
    let p_beyond_margin = if se > 0.0 {
        normal_cdf(-(difference.abs() - margin) / se)
    } else if difference.abs() > margin {
        0.0
    } else {
        1.0
    };
    Difference {
        difference,
        se,
        p_beyond_margin,
    }
}

/// One-sided p-value that the rate `x1 / n1` exceeds `x2 / n2` (pooled two-proportion z-test).
pub fn two_proportion_greater(x1: f64, n1: f64, x2: f64, n2: f64) -> f64 {
    if n1 <= 0.0 || n2 <= 0.0 {
        return 1.0;
    }
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    normal_cdf(-((x1 / n1 - x2 / n2) / se))
}

/// Which of `p_values` Benjamini–Hochberg rejects at false-discovery rate `q`: sort
/// ascending, find the largest k with p_(k) ≤ k q / m, reject the k smallest.
pub fn benjamini_hochberg(p_values: &[f64], q: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p_values[*a].total_cmp(&p_values[*b]).then(a.cmp(b)));
    let k = (1..=m)
        .rev()
        .find(|&k| p_values[order[k - 1]] <= k as f64 * q / m as f64)
        .unwrap_or(0);
    let mut reject = vec![false; m];
    for &i in &order[..k] {
        reject[i] = true;
    }
    reject
}

fn total(counts: &[u64]) -> f64 {
    counts.iter().sum::<u64>() as f64
}

/// Standard errors on each side of the expected escalation band at the intervals' `level`.
pub fn band_z(level: f64) -> f64 {
    crate::trust::stats::normal_quantile(1.0 - (1.0 - level) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_worked_by_hand_with_the_empty_bin_epsilon() {
        // Shares (0.5, 0.5) against (0.25, 0.75): 0.25 ln 2 + (−0.25) ln(2/3)
        // = 0.173287 + 0.101366 = 0.274653.
        let v = psi(&[2, 2], &[1, 3]);
        assert!((v - (0.25 * 2f64.ln() - 0.25 * (2.0f64 / 3.0).ln())).abs() < 1e-12);
        assert!((v - 0.274_653).abs() < 1e-6);
        // An empty actual bin counts as a share of 1e-4 (the others are not rescaled):
        // (1e-4 − 0.5) ln(1e-4 / 0.5) + (1 − 0.5) ln(1 / 0.5) = 4.604318 (by hand, Python).
        let empty = psi(&[0, 4], &[2, 2]);
        assert!((empty - 4.604_318_466_67).abs() < 1e-9, "{empty}");
        assert_eq!(psi(&[3, 1], &[3, 1]), 0.0);
    }

    #[test]
    fn ks_is_the_largest_cdf_gap_at_the_boundaries() {
        // CDFs (0.5, 0.75, 1) and (0.25, 0.5, 1): gaps 0.25, 0.25, 0.
        assert_eq!(ks_binned(&[2, 1, 1], &[1, 1, 2]), 0.25);
        // Ties: every value of both samples on one edge: same bin, no gap.
        assert_eq!(ks_binned(&[5, 0], &[9, 0]), 0.0);
    }

    #[test]
    fn kolmogorov_tail_matches_the_tabulated_critical_values() {
        // The 5 % and 1 % critical values of the Kolmogorov distribution are 1.3581 and
        // 1.6276 (Smirnov's table; scipy.stats.kstwobign.isf(0.05) = 1.358099).
        assert!((kolmogorov_q(1.358_099) - 0.05).abs() < 1e-5);
        assert!((kolmogorov_q(1.627_624) - 0.01).abs() < 1e-5);
        assert_eq!(kolmogorov_q(0.1), 1.0);
        // λ for d = 0.1 and n = m = 200: e = √100 = 10, λ = (10 + 0.12 + 0.011) · 0.1.
        let p = ks_p_value(0.1, 200.0, 200.0);
        assert!((p - kolmogorov_q(1.0131)).abs() < 1e-12);
    }

    #[test]
    fn wasserstein_worked_by_hand() {
        // All of a in [0, 1), all of b in [1, 2]: uniform on each, W1 = 1.
        assert!((wasserstein_binned(&[4, 0], &[0, 4], &[0.0, 1.0, 2.0]) - 1.0).abs() < 1e-12);
        // Same bins, same counts: 0.
        assert_eq!(wasserstein_binned(&[1, 3], &[2, 6], &[0.0, 1.0, 2.0]), 0.0);
        // One bin [0, 2], a: 1 of 1, b: 1 of 1: identical uniforms: 0. Two bins, a = (1, 1),
        // b = (0, 2): F_a − F_b rises linearly 0 → 0.5 on [0, 1] then falls to 0 on [1, 2]:
        // area 0.25 + 0.25 = 0.5 (the means are 1 and 1.5).
        assert!((wasserstein_binned(&[1, 1], &[0, 2], &[0.0, 1.0, 2.0]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn margin_test_and_two_proportions_worked_by_hand() {
        // p1 = 0.3 of 100, p0 = 0.2 with variance 0: se = √(0.21 / 100) = 0.0458258;
        // margin 0.05: z = (0.1 − 0.05) / 0.0458258 = 1.091089, p = Φ(−1.091089) = 0.137617.
        let d = beyond_margin(0.3, 100.0, 0.2, 0.0, 0.05);
        assert!((d.se - 0.045_825_76).abs() < 1e-8);
        assert!((d.p_beyond_margin - 0.137_617).abs() < 1e-5);
        // 20/100 against 5/100: pooled 0.125, se = √(0.125 · 0.875 · 0.02) = 0.0467707,
        // z = 3.207135, p = Φ(−3.207135) = 0.000670 (scipy.stats.norm.sf(3.207135)).
        let p = two_proportion_greater(20.0, 100.0, 5.0, 100.0);
        assert!((p - 0.000_670).abs() < 2e-6, "{p}");
    }

    #[test]
    fn benjamini_hochberg_worked_by_hand() {
        // m = 5, q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05. Sorted p: 0.001, 0.012,
        // 0.025, 0.041, 0.9: the largest k with p_(k) ≤ k q / m is 3 (0.025 ≤ 0.03; 0.041 >
        // 0.04), so the three smallest are rejected, 0.012 included though above 0.01.
        let p = [0.9, 0.012, 0.001, 0.041, 0.025];
        assert_eq!(
            benjamini_hochberg(&p, 0.05),
            [false, true, true, false, true]
        );
        assert_eq!(benjamini_hochberg(&[0.5, 0.2], 0.05), [false, false]);
        assert!(benjamini_hochberg(&[], 0.05).is_empty());
    }
}
