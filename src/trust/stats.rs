//! Tail probabilities for certifying thresholds. Pure.
//!
//! Owns the binomial CDF (through the regularized incomplete beta function), the
//! Hoeffding–Bentkus p-value of Learn-then-Test, the normal quantile and the Wilson interval.
//! Every function is checked against scipy or statsmodels in the tests below; nothing here knows
//! about thresholds.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function I_x(a, b), by Lentz's continued fraction.
pub fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * continued_fraction(a, b, x) / a
    } else {
        1.0 - front * continued_fraction(b, a, 1.0 - x) / b
    }
}

fn continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// P(X ≤ k) for X ~ Binomial(n, p).
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n || p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    // P(X ≤ k) = I_{1−p}(n − k, k + 1).
    beta_inc((n - k) as f64, k as f64 + 1.0, 1.0 - p)
}

/// The exact p-value for H0: "the risk exceeds `alpha`" after `losses` failures in `n` 0/1
/// trials: P(Binomial(n, alpha) ≤ losses).
pub fn binomial_p_value(losses: u64, n: u64, alpha: f64) -> f64 {
    binomial_cdf(losses, n, alpha)
}

/// The Hoeffding–Bentkus p-value (Learn-then-Test, Angelopoulos et al. 2021) for H0: "the mean
/// of a loss in [0, 1] exceeds `alpha`", given its sample mean `risk` over `n` records:
/// min(exp(−n·h1(min(risk, alpha), alpha)), e·P(Binomial(n, alpha) ≤ ⌈n·risk⌉)), with
/// h1(a, b) = a ln(a/b) + (1 − a) ln((1 − a)/(1 − b)).
pub fn hoeffding_bentkus_p_value(risk: f64, n: u64, alpha: f64) -> f64 {
    let a = risk.min(alpha);
    let h1 = |a: f64, b: f64| {
        let left = if a > 0.0 { a * (a / b).ln() } else { 0.0 };
        let right = if a < 1.0 {
            (1.0 - a) * ((1.0 - a) / (1.0 - b)).ln()
        } else {
            0.0
        };
        left + right
    };
    let hoeffding = (-(n as f64) * h1(a, alpha)).exp();
    let losses = (n as f64 * risk).ceil().max(0.0) as u64;
    let bentkus = std::f64::consts::E * binomial_cdf(losses, n, alpha);
    hoeffding.min(bentkus).min(1.0)
}

/// The regularized upper incomplete gamma function Q(a, x) (series or Lentz continued fraction).
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * front
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -f64::from(i) * (f64::from(i) - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        front * h
    }
}

/// The standard normal CDF Φ(x), through erfc(y) = Q(1/2, y²).
pub fn normal_cdf(x: f64) -> f64 {
    let y = -x / std::f64::consts::SQRT_2;
    let q = gamma_q(0.5, y * y);
    if y >= 0.0 { 0.5 * q } else { 1.0 - 0.5 * q }
}

/// The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation, then
/// two Halley steps on Φ.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let mut x = if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    for _ in 0..2 {
        let e = normal_cdf(x) - p;
        let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
        x -= u / (1.0 + x * u / 2.0);
    }
    x
}

/// The Wilson score interval for `successes` out of `n` trials at confidence `level`.
pub fn wilson(successes: f64, n: f64, level: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let p = successes / n;
    let z2 = z * z;
    let center = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At 0 or n successes the bound is exactly 0 or 1; rounding would leave a speck.
    let lo = if successes <= 0.0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let hi = if successes >= n {
        1.0
    } else {
        (center + half).min(1.0)
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
    }

    #[test]
    fn binomial_cdf_matches_scipy() {
        // Reference: scipy 1.17.1, `scipy.stats.binom.cdf(k, n, p)`.
        let cases = [
            (15, 0, 0.1, 0.205891132094649),
            (100, 8, 0.1, 0.3208738883628403),
            (1000, 80, 0.1, 0.017611574675836128),
            (1000, 120, 0.1, 0.98274276947338),
            (50, 0, 0.05, 0.0769449752767133),
            (2000, 150, 0.08, 0.21811194161789543),
            (5, 2, 0.3, 0.83692),
            (100000, 9800, 0.1, 0.017525324737622874),
            (200, 3, 0.05, 0.009048376396101461),
            (400, 52, 0.1, 0.9782571270250717),
            (3000, 250, 0.1, 0.0010229496741968919),
            (10, 9, 0.5, 0.9990234375),
            (1, 0, 0.3, 0.7),
            (60, 1, 0.02, 0.6619039296620646),
        ];
        for (n, k, p, expected) in cases {
            let got = binomial_cdf(k, n, p);
            assert!(
                close(got, expected),
                "cdf({k}; {n}, {p}) = {got}, scipy {expected}"
            );
        }
        // 15 right answers out of 15 cannot show 90 % quality at δ = 0.1: 0.9^15 = 0.2059.
        assert!(close(binomial_p_value(0, 15, 0.1), 0.9f64.powi(15)));
        assert_eq!(binomial_cdf(15, 15, 0.9), 1.0);
    }

    #[test]
    fn incomplete_beta_matches_scipy() {
        // Reference: `scipy.special.betainc(a, b, x)`.
        assert!(close(beta_inc(2.5, 3.5, 0.4), 0.4869041915261176));
        assert!(close(beta_inc(100.0, 20.0, 0.8), 0.16220200172056026));
        assert!(close(beta_inc(0.5, 0.5, 0.1), 0.20483276469913345));
    }

    #[test]
    fn hoeffding_bentkus_matches_the_formula_in_python() {
        // Reference: the LTT formula evaluated in Python with scipy.stats.binom.cdf:
        // min(exp(-n*h1(min(r,a),a)), e*binom.cdf(ceil(n*r), n, a)).
        let cases = [
            (0.05, 1000, 0.1, 1.6296555233663317e-08),
            (0.08, 200, 0.1, 0.563982593527825),
            (0.0, 30, 0.1, 0.04239115827521614),
            (0.12, 500, 0.1, 1.0),
            (0.093, 5000, 0.1, 0.13810014414152383),
        ];
        for (r, n, a, expected) in cases {
            let got = hoeffding_bentkus_p_value(r, n, a);
            assert!(
                close(got, expected),
                "HB({r}, {n}, {a}) = {got}, reference {expected}"
            );
        }
    }

    #[test]
    fn normal_quantile_matches_scipy() {
        // Reference: `scipy.stats.norm.ppf(p)`.
        for (p, expected) in [
            (0.975, 1.959963984540054),
            (0.95, 1.6448536269514722),
            (0.995, 2.5758293035489004),
            (0.999999, 4.753424308817087),
            (1e-10, -6.361340902404056),
        ] {
            let got = normal_quantile(p);
            assert!(close(got, expected), "ppf({p}) = {got}, scipy {expected}");
        }
        assert!(normal_quantile(0.5).abs() < 1e-12);
    }

    #[test]
    fn wilson_matches_statsmodels() {
        // Reference: statsmodels `proportion_confint(k, n, alpha=1-level, method='wilson')`.
        let cases = [
            (45.0, 50.0, 0.95, 0.7863976856252035, 0.9565242350681096),
            (0.0, 20.0, 0.95, 0.0, 0.16112515805281938),
            (20.0, 20.0, 0.9, 0.8808421626390355, 1.0),
            (780.0, 1000.0, 0.99, 0.7444728784925067, 0.8118360691615855),
            (3.0, 7.0, 0.95, 0.15821985525146975, 0.7495416354723428),
            (
                9500.0,
                10000.0,
                0.95,
                0.9455528841569758,
                0.9541015173094152,
            ),
        ];
        for (k, n, level, lo, hi) in cases {
            let (l, h) = wilson(k, n, level);
            assert!(
                (l - lo).abs() < 1e-9 && (h - hi).abs() < 1e-9,
                "wilson({k}, {n}) = ({l}, {h})"
            );
        }
    }

    #[test]
    fn ln_gamma_of_integers_is_log_factorial() {
        assert!(close(ln_gamma(10.0), (362880.0f64).ln()));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln()));
    }
}
