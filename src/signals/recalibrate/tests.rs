use super::*;
use proptest::prelude::*;

fn close_all(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
    }
}

fn check_isotonic(x: &[f64], y: &[f64], knots: (&[f64], &[f64]), grid: &[f64], pred: &[f64]) {
    let map = fit_isotonic(x, y).unwrap();
    let (px, py): (Vec<f64>, Vec<f64>) = map.points().iter().copied().unzip();
    close_all(&px, knots.0, 0.0);
    close_all(&py, knots.1, 1e-12);
    let got: Vec<f64> = grid.iter().map(|&v| map.apply(v)).collect();
    close_all(&got, pred, 1e-12);
}

// 0/1 y, 25 records, ties at x = -0.1 (×5), -1.1 (×2), 0.8 (×2, y 1 and 0). With x, y, grid
// the arrays below:
//   from sklearn.isotonic import IsotonicRegression
//   ir = IsotonicRegression(out_of_bounds='clip', increasing=True).fit(x, y)
//   [list(map(float, v)) for v in (ir.X_thresholds_, ir.y_thresholds_, ir.predict(grid))]
#[test]
fn isotonic_matches_sklearn_binary() {
    let x = [
        0.5, -1.0, -0.1, 0.0, -1.1, -0.1, -0.9, 1.0, 0.2, -0.1, -0.6, -0.1, -2.0, -1.1, 0.4, -2.1,
        0.8, -1.7, 0.8, -0.8, -0.1, 0.1, -1.5, 1.2, 1.4,
    ];
    let y = [
        1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0,
        0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0,
    ];
    let grid = [
        -3.0, -2.1, -1.6, -1.1, -0.35, -0.1, 0.05, 0.3, 0.45, 0.9, 1.3, 1.4, 2.0,
    ];
    let knots_x = [-2.1, -0.6, -0.1, 0.4, 0.5, 0.8, 1.0, 1.4];
    let (a, b) = (0.4444444444444444, 0.6666666666666666);
    let knots_y = [0.0, 0.0, a, a, b, b, 1.0, 1.0];
    let pred = [
        0.0,
        0.0,
        0.0,
        0.0,
        0.2222222222222222,
        a,
        a,
        a,
        0.5555555555555556,
        0.8333333333333333,
        1.0,
        1.0,
        1.0,
    ];
    check_isotonic(&x, &y, (&knots_x, &knots_y), &grid, &pred);
}

// Fractional y, 15 records, ties at 0.1, 0.5, 0.6 (×4), 0.8; same Python as above with
// grid = [0.0, 0.1, 0.15, 0.33, 0.5, 0.55, 0.65, 0.75, 0.9, 1.0, 1.5].
#[test]
fn isotonic_matches_sklearn_fractional() {
    let x = [
        0.8, 0.1, 0.6, 0.5, 0.6, 0.7, 0.3, 1.0, 0.5, 0.6, 0.6, 0.2, 0.1, 0.4, 0.8,
    ];
    let y = [
        0.82, 0.73, 0.11, 0.91, 0.8, 0.88, 0.52, 0.92, 0.05, 0.03, 0.02, 0.25, 0.25, 0.19, 0.57,
    ];
    let grid = [0.0, 0.1, 0.15, 0.33, 0.5, 0.55, 0.65, 0.75, 0.9, 1.0, 1.5];
    let (lo, mid) = (0.35090909090909095, 0.7566666666666667);
    let knots = ([0.1, 0.6, 0.7, 0.8, 1.0], [lo, lo, mid, mid, 0.92]);
    let pred = [
        lo,
        lo,
        lo,
        lo,
        lo,
        lo,
        0.553787878787879,
        mid,
        0.8383333333333334,
        0.92,
        0.92,
    ];
    check_isotonic(&x, &y, (&knots.0, &knots.1), &grid, &pred);
}

#[test]
fn isotonic_degenerate() {
    assert_eq!(fit_isotonic(&[], &[]), None);
    // One distinct x: a constant map with a single point.
    let map = fit_isotonic(&[0.3, 0.3, 0.3], &[1.0, 0.0, 0.0]).unwrap();
    assert_eq!(map.points(), &[(0.3, 1.0 / 3.0)]);
    assert_eq!((map.apply(-5.0), map.apply(5.0)), (1.0 / 3.0, 1.0 / 3.0));
    assert!(map.apply(f64::NAN).is_nan());
    // A flat fit keeps only its two ends.
    let map = fit_isotonic(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, 1.0, 0.0]).unwrap();
    assert_eq!(map.points(), &[(1.0, 0.5), (4.0, 0.5)]);
}

// sklearn's _make_unique pools x closer than 1e-15: IsotonicRegression(out_of_bounds='clip')
//   .fit([0.0, 5e-16, 1.0, 2.0], [1.0, 0.0, 0.2, 0.9]): X_thresholds_ [0.0, 1.0, 2.0],
//   y_thresholds_ [0.39999999999999997, 0.39999999999999997, 0.9].
#[test]
fn isotonic_pools_near_equal_x_like_sklearn() {
    let map = fit_isotonic(&[0.0, 5e-16, 1.0, 2.0], &[1.0, 0.0, 0.2, 0.9]).unwrap();
    let (px, py): (Vec<f64>, Vec<f64>) = map.points().iter().copied().unzip();
    close_all(&px, &[0.0, 1.0, 2.0], 0.0);
    close_all(&py, &[0.39999999999999997, 0.39999999999999997, 0.9], 1e-15);
}

// Platt references (numpy as np; x, y = the arrays of each case):
//   from sklearn.calibration import _sigmoid_calibration
//   list(map(float, _sigmoid_calibration(np.array(x, float), np.array(y))))
// sklearn stops L-BFGS at gtol 1e-6, so its (a, b) are near the optimum but not at it (b of
// the separable case is 2.3e-6 off relatively, 2.5e-7 absolutely). We compare to sklearn with
// tolerance 1e-6 · max(|value|, 1), and to the exact optimum to 1e-9 relative, computed by
// Newton's method run to convergence in numpy:
//   y = np.array(y, float); F = np.array(x, float); m = np.abs(F).max()
//   sc = m if m >= 30 else 1.0; F = F / sc; p1 = (y > 0).sum(); p0 = len(y) - p1
//   T = np.where(y > 0, (p1 + 1) / (p1 + 2), 1 / (p0 + 2)); a, b = 0.0, np.log((p0 + 1) / (p1 + 1))
//   for _ in range(100):
//       p = 1 / (1 + np.exp(a * F + b)); g = T - p; w = p * (1 - p)
//       d = np.linalg.solve([[w @ (F * F), w @ F], [w @ F, w.sum()]], [-(g @ F), -g.sum()])
//       a, b = a + d[0], b + d[1]
//   print(repr(a / sc), repr(b))
const CAL_S: [f64; 24] = [
    0.44, 0.24, 0.402, 0.0, 1.0, 0.215, 0.672, 0.3, 0.874, 0.662, 0.132, 0.845, 0.945, 0.904, 0.57,
    0.145, 0.192, 0.928, 0.552, 0.181, 0.884, 0.642, 0.57, 0.376,
];
const CAL_Y: [f64; 24] = [
    1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0,
    0.0, 1.0, 1.0, 0.0, 0.0,
];

fn check_platt(x: &[f64], y: &[f64], sklearn: [f64; 2], optimum: [f64; 2]) {
    let m = fit_platt(x, y).unwrap();
    for (got, (sk, opt)) in [m.a, m.b].into_iter().zip(sklearn.into_iter().zip(optimum)) {
        assert!(
            (got - sk).abs() <= 1e-6 * sk.abs().max(1.0),
            "{got} vs sklearn {sk}"
        );
        assert!(
            (got - opt).abs() <= 1e-9 * opt.abs(),
            "{got} vs optimum {opt}"
        );
    }
}

#[test]
fn platt_matches_sklearn() {
    // Scores in [0, 1].
    let sk = [-3.267706957741766, 1.3178307970942982];
    check_platt(
        &CAL_S,
        &CAL_Y,
        sk,
        [-3.2677071055299347, 1.3178308725210355],
    );
    // x = 100·s − 40: max|x| = 60 ≥ 30, so sklearn rescales by 60.
    let x: Vec<f64> = CAL_S.iter().map(|s| s * 100.0 - 40.0).collect();
    let sk = [-0.03267707104772881, 0.010748030547917523];
    check_platt(
        &x,
        &CAL_Y,
        sk,
        [-0.032677071055299343, 0.010748030309061418],
    );
    // Perfectly separable; the prior-smoothed targets keep the optimum finite.
    let x = [-2.0, -1.5, -1.0, -0.5, -0.5, 0.5, 1.0, 1.0, 1.5, 2.5];
    let y = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let sk = [-1.3337047714045513, 0.10953184413639054];
    check_platt(&x, &y, sk, [-1.333704733306073, 0.10953209751033591]);
}

// All x = 0.7: _sigmoid_calibration(np.full(9, 0.7), [1,1,0,1,0,1,1,1,0])
// → (-0.02791704278096708, -0.5994972776225186); closed form on the line (0, b₀) + t·(0.7, 1):
// (-0.027917043174201687, -0.5994972781842823).
#[test]
fn platt_constant_signal_follows_sklearn_line() {
    let y = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let sk = [-0.02791704278096708, -0.5994972776225186];
    check_platt(
        &[0.7; 9],
        &y,
        sk,
        [-0.027917043174201687, -0.5994972781842823],
    );
    assert_eq!(fit_platt(&[], &[]), None);
}

#[test]
fn platt_apply_never_overflows() {
    let m = PlattMap { a: -1000.0, b: 0.0 };
    assert_eq!((m.apply(1e6), m.apply(-1e6), m.apply(0.0)), (1.0, 0.0, 0.5));
    let m = fit_platt(&CAL_S, &CAL_Y).unwrap();
    assert!((m.apply(0.3) - 1.0 / (1.0 + (m.a * 0.3 + m.b).exp())).abs() < 1e-15);
}

#[test]
fn fit_dispatches() {
    let iso = fit(Method::Isotonic, &CAL_S, &CAL_Y).unwrap();
    assert_eq!(iso, Map::Isotonic(fit_isotonic(&CAL_S, &CAL_Y).unwrap()));
    let platt = fit(Method::Platt, &CAL_S, &CAL_Y).unwrap();
    let direct = fit_platt(&CAL_S, &CAL_Y).unwrap();
    assert_eq!(platt.apply(0.4), direct.apply(0.4));
    assert_eq!(fit(Method::Platt, &[], &[]), None);
}

#[test]
fn folds_are_pinned() {
    // Regression guard, recorded from this implementation (no external reference): changing
    // the shuffle (ChaCha8 stream, Lemire draws) reshuffles every cross-fitted report.
    assert_eq!(folds(10, 3, 42), PINNED);
    assert_eq!(folds(0, 3, 42), Vec::<u32>::new());
}

const PINNED: [u32; 10] = [1, 2, 2, 1, 0, 0, 0, 1, 2, 0];

#[test]
fn cross_fit_rejects_bad_k() {
    let x = [0.1, 0.2, 0.3];
    let y = [0.0, 1.0, 1.0];
    assert!(cross_fit(&x, &y, 1, 0, Method::Platt).is_err());
    assert!(cross_fit(&x, &y, 4, 0, Method::Platt).is_err());
    assert!(cross_fit(&x, &y[..2], 2, 0, Method::Platt).is_err());
    assert_eq!(cross_fit(&x, &y, 3, 0, Method::Isotonic).unwrap().len(), 3);
}

fn records() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    // Coarse signals force ties.
    prop::collection::vec((0i32..12, prop::bool::ANY), 2..40).prop_map(|v| {
        v.into_iter()
            .map(|(s, right)| (f64::from(s) / 4.0 - 1.0, if right { 1.0 } else { 0.0 }))
            .unzip()
    })
}

proptest! {
    #[test]
    fn folds_deterministic_and_balanced(n in 0usize..200, k in 1u32..12, seed in any::<u64>()) {
        let f = folds(n, k, seed);
        prop_assert_eq!(&f, &folds(n, k, seed));
        let mut sizes = vec![0usize; k as usize];
        for &fold in &f {
            sizes[fold as usize] += 1;
        }
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        prop_assert!(max - min <= 1);
    }

    #[test]
    fn cross_fit_never_sees_own_label(
        (x, y) in records(),
        k in 2u32..6,
        seed in any::<u64>(),
        pick in any::<prop::sample::Index>(),
        platt in prop::bool::ANY,
    ) {
        prop_assume!(k as usize <= x.len());
        let method = if platt { Method::Platt } else { Method::Isotonic };
        let i = pick.index(x.len());
        let before = cross_fit(&x, &y, k, seed, method).unwrap();
        let mut flipped = y.clone();
        flipped[i] = 1.0 - flipped[i];
        let after = cross_fit(&x, &flipped, k, seed, method).unwrap();
        prop_assert_eq!(before[i].to_bits(), after[i].to_bits());
    }

    #[test]
    fn platt_reaches_stationary_point((x, y) in records()) {
        prop_assume!(x.iter().any(|&v| v != x[0]));
        let m = fit_platt(&x, &y).unwrap();
        let (pos, neg): (f64, f64) = (y.iter().sum(), y.iter().map(|q| 1.0 - q).sum());
        let t: Vec<f64> = y
            .iter()
            .map(|q| q * (pos + 1.0) / (pos + 2.0) + (1.0 - q) / (neg + 2.0))
            .collect();
        let (_, grad, _) = platt_loss(&x, &t, m.a, m.b);
        let tol = 1e-12 * x.len() as f64;
        prop_assert!(grad[0].abs() < tol && grad[1].abs() < tol, "{grad:?}");
    }

    #[test]
    fn isotonic_is_monotone_and_minimal((x, y) in records()) {
        let map = fit_isotonic(&x, &y).unwrap();
        let p = map.points();
        for w in p.windows(2) {
            prop_assert!(w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        }
        for w in p.windows(3) {
            prop_assert!(w[0].1 != w[1].1 || w[1].1 != w[2].1);
        }
        for &(px, py) in p {
            prop_assert!((map.apply(px) - py).abs() < 1e-12);
        }
        let grid: Vec<f64> = (0..=40).map(|i| f64::from(i) / 10.0 - 2.0).collect();
        for v in grid.windows(2) {
            prop_assert!(map.apply(v[0]) <= map.apply(v[1]) + 1e-15);
        }
    }
}

#[test]
fn isotonic_apply_is_exact_at_breakpoints_and_never_decreases() {
    // A breakpoint maps to its own y exactly: a right-anchored formula can return y + 1 ulp at
    // a block's first x, which makes a single record its own threshold inside a flat block.
    let x: Vec<f64> = (0..40).map(|i| f64::from(i) * 0.0731 % 1.0).collect();
    let y: Vec<f64> = (0..40).map(|i| f64::from((i * 7) % 3 == 0)).collect();
    let map = fit_isotonic(&x, &y).unwrap();
    for &(px, py) in map.points() {
        assert_eq!(map.apply(px), py);
    }
    let mut grid: Vec<f64> = map.points().iter().map(|p| p.0).collect();
    for &(px, _) in map.points() {
        grid.extend([px.next_down(), px.next_up()]);
    }
    grid.sort_by(f64::total_cmp);
    for w in grid.windows(2) {
        assert!(map.apply(w[0]) <= map.apply(w[1]), "{} {}", w[0], w[1]);
    }
}
