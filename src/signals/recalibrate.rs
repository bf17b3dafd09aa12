//! Recalibration of a confidence signal into a probability of small-model correctness:
//! isotonic regression and Platt scaling (both matching scikit-learn 1.9.1), seeded k-fold
//! assignment, and cross-fitting so that no record is scored by a map fitted on itself.
//!
//! Owns fitting and applying the maps and the fold assignment. It must not measure signal
//! quality (see `trust::scoring`), pick thresholds, read or write files, or print anything; exporting a
//! map is the caller's job (through `IsotonicMap::points` and the `PlattMap` fields).
//!
//! Inputs: `x` is the raw signal (any finite real), `y` the quality in [0, 1], one per record.
//! The fit functions panic if `x` and `y` differ in length (a caller bug) and return `None` on
//! empty input. Non-finite inputs never panic but give unspecified results.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// sklearn's `_make_unique` pools x values closer than this (absolute) to a run's first x.
const SAME_X: f64 = 1e-15;

/// A fitted increasing isotonic map: piecewise linear through `points`, constant outside.
#[derive(Debug, Clone, PartialEq)]
pub struct IsotonicMap {
    points: Vec<(f64, f64)>,
}

impl IsotonicMap {
    /// Breakpoints (signal, probability), x strictly increasing, y non-decreasing, never empty.
    /// Minimal in sklearn's sense: of each run of equal fitted values only the first and last x
    /// are kept (sloped collinear points are kept). Enough to reproduce `apply` exactly.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The map through exported `points` (a policy's), `None` unless x strictly increases and
    /// y never decreases.
    pub fn from_points(points: Vec<(f64, f64)>) -> Option<IsotonicMap> {
        let ok = (points.windows(2)).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        (ok && !points.is_empty()).then_some(IsotonicMap { points })
    }

    /// Calibrated value at signal `x`: linear interpolation between breakpoints, clipped to the
    /// first/last breakpoint outside their range (sklearn `out_of_bounds='clip'`), computed as
    /// y0 + (y1 − y0) · ((x − x0) / (x1 − x0)) on the interval whose left end is the last
    /// breakpoint ≤ x, then clamped to [y0, y1]: exact at breakpoints and non-decreasing in
    /// floating point. NaN for NaN.
    pub fn apply(&self, x: f64) -> f64 {
        let p = &self.points;
        let (first, last) = (p[0], p[p.len() - 1]);
        if x.is_nan() {
            return f64::NAN;
        }
        if p.len() == 1 {
            return first.1;
        }
        let x = if x < first.0 {
            first.0
        } else if x > last.0 {
            last.0
        } else {
            x
        };
        // The interval starting at the last breakpoint ≤ x, so a breakpoint maps to its own y
        // exactly; clamping to [y0, y1] keeps the map monotone in floating point too (an
        // unclamped formula can exceed y1 by an ulp just left of x1).
        let hi = p.partition_point(|&(px, _)| px <= x).clamp(1, p.len() - 1);
        let ((x0, y0), (x1, y1)) = (p[hi - 1], p[hi]);
        (y0 + (y1 - y0) * ((x - x0) / (x1 - x0))).clamp(y0, y1)
    }
}

/// Increasing isotonic regression of `y` on `x` (sklearn `IsotonicRegression(increasing=True,
/// out_of_bounds='clip')`): records sorted by (x, y); equal x pooled first (mean y, weight =
/// count; like sklearn, x within 1e-15 of the run's first x counts as equal); then weighted
/// pool-adjacent-violators. `None` for empty input.
pub fn fit_isotonic(x: &[f64], y: &[f64]) -> Option<IsotonicMap> {
    check_lengths(x, y);
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]).then(y[i].total_cmp(&y[j])));
    // Unique x with (sum of y, count).
    let mut unique: Vec<(f64, f64, f64)> = Vec::new();
    for &i in &order {
        match unique.last_mut() {
            Some((ux, sum, weight)) if x[i] - *ux < SAME_X => {
                *sum += y[i];
                *weight += 1.0;
            }
            _ => unique.push((x[i], y[i], 1.0)),
        }
    }
    // Pool adjacent violators over blocks (sum of weight·y, weight, unique points).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for &(_, sum, weight) in &unique {
        blocks.push((sum, weight, 1));
        while blocks.len() >= 2 {
            let (s1, w1, c1) = blocks[blocks.len() - 1];
            let (s0, w0, c0) = blocks[blocks.len() - 2];
            if s0 / w0 < s1 / w1 {
                break;
            }
            blocks.pop();
            *blocks.last_mut()? = (s0 + s1, w0 + w1, c0 + c1);
        }
    }
    let fitted: Vec<f64> = blocks
        .iter()
        .flat_map(|&(s, w, c)| std::iter::repeat_n(s / w, c))
        .collect();
    // sklearn's trim: drop interior points equal to both neighbours.
    let m = fitted.len();
    let points = (0..m)
        .filter(|&k| {
            k == 0 || k == m - 1 || fitted[k] != fitted[k - 1] || fitted[k] != fitted[k + 1]
        })
        .map(|k| (unique[k].0, fitted[k]))
        .collect::<Vec<_>>();
    (!points.is_empty()).then_some(IsotonicMap { points })
}

/// A fitted Platt map p(x) = 1 / (1 + exp(a·x + b)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlattMap {
    /// Slope, per unit of signal (negative when a higher signal means more likely right).
    pub a: f64,
    /// Intercept (dimensionless log-odds of being wrong at x = 0).
    pub b: f64,
}

impl PlattMap {
    /// Calibrated probability at signal `x`, in [0, 1]: exactly 1 / (1 + exp(a·x + b)) in
    /// IEEE arithmetic, the formula the policy documents, so a router computing it the same
    /// way gets the same bits (exp overflowing to infinity gives 0, not NaN).
    pub fn apply(&self, x: f64) -> f64 {
        1.0 / (1.0 + (self.a * x + self.b).exp())
    }

    /// Whether the map increases with the signal (a ≤ 0): a higher signal, a likelier right
    /// answer. A positive `a` means the signal ranks wrong answers higher.
    pub fn increasing(&self) -> bool {
        self.a <= 0.0
    }
}

/// Platt scaling as sklearn 1.9.1's `_sigmoid_calibration(x, y)`: minimise the log loss of
/// 1 / (1 + exp(a·x + b)) against targets T+ = (N+ + 1)/(N+ + 2) for right and
/// T− = 1/(N− + 2) for wrong records, from (a, b) = (0, ln((N− + 1)/(N+ + 1))), with x divided
/// by max|x| when that is ≥ 30 (a is scaled back). For fractional y: N+ = Σ y, N− = Σ (1 − y)
/// and the target is y·T+ + (1 − y)·T− (sklearn instead counts every y > 0 as right). Solved
/// by Newton's method with backtracking to full convergence (sklearn's L-BFGS reaches the same
/// optimum to ~1e-6). If all x are equal, a·x + b is fixed at the optimum along sklearn's
/// search line (a, b) = (0, b₀) + t·(x, 1). `None` for empty input.
pub fn fit_platt(x: &[f64], y: &[f64]) -> Option<PlattMap> {
    check_lengths(x, y);
    if x.is_empty() {
        return None;
    }
    let positives: f64 = y.iter().sum();
    let negatives: f64 = y.iter().map(|q| 1.0 - q).sum();
    let (t_pos, t_neg) = (
        (positives + 1.0) / (positives + 2.0),
        1.0 / (negatives + 2.0),
    );
    let targets: Vec<f64> = y.iter().map(|q| q * t_pos + (1.0 - q) * t_neg).collect();
    let max_abs = x.iter().fold(0.0, |m: f64, v| m.max(v.abs()));
    let scale = if max_abs >= 30.0 { max_abs } else { 1.0 };
    let f: Vec<f64> = x.iter().map(|v| v / scale).collect();
    let b0 = ((negatives + 1.0) / (positives + 1.0)).ln();
    if f.iter().all(|&v| v == f[0]) {
        let mean_target = targets.iter().sum::<f64>() / targets.len() as f64;
        let z = ((1.0 - mean_target) / mean_target).ln();
        let t = (z - b0) / (1.0 + f[0] * f[0]);
        return Some(PlattMap {
            a: f[0] * t / scale,
            b: b0 + t,
        });
    }
    let (a, b) = newton(&f, &targets, (0.0, b0));
    Some(PlattMap { a: a / scale, b })
}

/// Newton's method with Armijo backtracking on the Platt log loss, from `start`.
fn newton(f: &[f64], t: &[f64], start: (f64, f64)) -> (f64, f64) {
    let (mut a, mut b) = start;
    let (mut loss, mut grad, mut hess) = platt_loss(f, t, a, b);
    for _ in 0..200 {
        let [haa, hab, hbb] = hess;
        let det = haa * hbb - hab * hab;
        let (da, db) = if det > 0.0 && det.is_finite() {
            (
                -(hbb * grad[0] - hab * grad[1]) / det,
                -(haa * grad[1] - hab * grad[0]) / det,
            )
        } else {
            (-grad[0], -grad[1])
        };
        let slope = grad[0] * da + grad[1] * db;
        if slope.is_nan() || slope >= 0.0 {
            break; // zero gradient: converged
        }
        let gnorm = grad[0].abs().max(grad[1].abs());
        let mut step = 1.0;
        loop {
            let (na, nb) = (a + step * da, b + step * db);
            let (nl, ng, nh) = platt_loss(f, t, na, nb);
            let armijo = nl <= loss + 1e-4 * step * slope;
            // Near the optimum the loss change drowns in rounding; accept a full Newton
            // step that does not raise the loss beyond rounding and shrinks the gradient.
            let rounding = nl <= loss + 1e-12 * loss.abs() && ng[0].abs().max(ng[1].abs()) < gnorm;
            if armijo || (step == 1.0 && rounding) {
                (a, b, loss, grad, hess) = (na, nb, nl, ng, nh);
                break;
            }
            step *= 0.5;
            if step < 1e-12 {
                return (a, b);
            }
        }
        if (step * da).abs() <= 1e-15 * (1.0 + a.abs())
            && (step * db).abs() <= 1e-15 * (1.0 + b.abs())
        {
            break;
        }
    }
    (a, b)
}

/// Loss Σ [ln(1 + e^(−z)) + t·z] with z = a·f + b, its gradient in (a, b) and Hessian
/// [∂aa, ∂ab, ∂bb].
fn platt_loss(f: &[f64], t: &[f64], a: f64, b: f64) -> (f64, [f64; 2], [f64; 3]) {
    let (mut loss, mut grad, mut hess) = (0.0, [0.0; 2], [0.0; 3]);
    for (&fi, &ti) in f.iter().zip(t) {
        let z = a * fi + b;
        loss += (-z).max(0.0) + (-z.abs()).exp().ln_1p() + ti * z;
        let p = prob_right(z);
        let (g, w) = (ti - p, p * (1.0 - p));
        grad[0] += g * fi;
        grad[1] += g;
        hess[0] += w * fi * fi;
        hess[1] += w * fi;
        hess[2] += w;
    }
    (loss, grad, hess)
}

/// 1 / (1 + e^z) without overflow.
fn prob_right(z: f64) -> f64 {
    if z >= 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// Which recalibration to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Isotonic regression (`fit_isotonic`).
    Isotonic,
    /// Platt scaling (`fit_platt`).
    Platt,
}

/// A fitted recalibration map, signal → probability of the small model being right.
#[derive(Debug, Clone, PartialEq)]
pub enum Map {
    /// Isotonic map.
    Isotonic(IsotonicMap),
    /// Platt map.
    Platt(PlattMap),
}

impl Map {
    /// Whether higher signals map to higher probabilities (always for isotonic).
    pub fn increasing(&self) -> bool {
        match self {
            Map::Isotonic(_) => true,
            Map::Platt(m) => m.increasing(),
        }
    }

    /// Calibrated probability at signal `x`.
    pub fn apply(&self, x: f64) -> f64 {
        match self {
            Map::Isotonic(m) => m.apply(x),
            Map::Platt(m) => m.apply(x),
        }
    }
}

/// Fit `method` on all records (the map exported for deployment). `None` for empty input.
pub fn fit(method: Method, x: &[f64], y: &[f64]) -> Option<Map> {
    match method {
        Method::Isotonic => fit_isotonic(x, y).map(Map::Isotonic),
        Method::Platt => fit_platt(x, y).map(Map::Platt),
    }
}

/// Fold of each of `n` records, in 0..k: shuffle 0..n with a Fisher–Yates shuffle driven by
/// `ChaCha8Rng::seed_from_u64(seed)` (for i = n−1 down to 1, swap i with j uniform in 0..=i,
/// drawn by Lemire's unbiased multiply-and-reject on `next_u64`); the record at shuffled
/// position p gets fold p mod k. Fold sizes therefore differ by at most one; the same
/// (n, k, seed) always gives the same folds. Panics if k = 0.
pub fn folds(n: usize, k: u32, seed: u64) -> Vec<u32> {
    assert!(k > 0, "folds needs k ≥ 1");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = below(&mut rng, i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    let mut fold = vec![0; n];
    for (position, &record) in perm.iter().enumerate() {
        fold[record] = (position % k as usize) as u32;
    }
    fold
}

/// Uniform integer in 0..bound (bound ≥ 1), Lemire's method.
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(bound);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// Why cross-fitting cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CrossFitError {
    /// The signal and quality columns differ in length (a caller bug).
    #[error("cross_fit: {signals} signals but {qualities} qualities")]
    Lengths {
        /// Signals given.
        signals: usize,
        /// Qualities given.
        qualities: usize,
    },
    /// Fewer than 2 folds, or more folds than records.
    #[error("cross_fit: need 2 ≤ k ≤ n, got k = {k} with n = {n}")]
    Folds {
        /// Folds asked for.
        k: u32,
        /// Records.
        n: usize,
    },
    /// A fold's complement is empty.
    #[error("cross_fit: fold {0} has no training records")]
    EmptyTraining(u32),
}

/// Out-of-fold calibrated values: for each fold of `folds(n, k, seed)`, fit `method` on the
/// other folds and apply it to that fold, so no record is scored by a map fitted on itself.
/// Err if the lengths differ, k < 2, or k > n (a fold would be empty).
pub fn cross_fit(
    x: &[f64],
    y: &[f64],
    k: u32,
    seed: u64,
    method: Method,
) -> Result<Vec<f64>, CrossFitError> {
    let n = x.len();
    if y.len() != n {
        return Err(CrossFitError::Lengths {
            signals: n,
            qualities: y.len(),
        });
    }
    if k < 2 || k as usize > n {
        return Err(CrossFitError::Folds { k, n });
    }
    let fold = folds(n, k, seed);
    let mut out = vec![f64::NAN; n];
    for f in 0..k {
        let (train_x, train_y): (Vec<f64>, Vec<f64>) = (0..n)
            .filter(|&i| fold[i] != f)
            .map(|i| (x[i], y[i]))
            .unzip();
        let map = fit(method, &train_x, &train_y).ok_or(CrossFitError::EmptyTraining(f))?;
        for i in (0..n).filter(|&i| fold[i] == f) {
            out[i] = map.apply(x[i]);
        }
    }
    Ok(out)
}

fn check_lengths(x: &[f64], y: &[f64]) {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
}

#[cfg(test)]
mod tests;
