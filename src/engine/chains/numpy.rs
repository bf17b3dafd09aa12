//! The numerical steps of the reference implementations, done as numpy and pandas do them, so
//! the RouteLLM and RouterBench forms reproduce their numbers: `np.trapz` (with numpy's
//! pairwise summation), `np.interp` (with its guessed binary search, which matters when the
//! curve is not increasing), and `pd.qcut`'s quantile edges (linear, failing on repeats).
//!
//! Owns those three emulations only. Pure.

/// numpy's pairwise summation of `a` (`np.add.reduce` on a contiguous array: the first element,
/// plus the pairwise sum of the rest).
fn add_reduce(a: &[f64]) -> f64 {
    match a.split_first() {
        None => 0.0,
        Some((first, rest)) => first + pairwise(rest),
    }
}

fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// `np.trapz(y, x)`.
pub fn trapz(y: &[f64], x: &[f64]) -> f64 {
    let terms: Vec<f64> = (1..x.len())
        .map(|i| (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0)
        .collect();
    add_reduce(&terms)
}

/// numpy's `binary_search_with_guess` (compiled_base.c), guess 0.
fn search(key: f64, arr: &[f64]) -> isize {
    const CACHE: usize = 8;
    let len = arr.len();
    if key > arr[len - 1] {
        return len as isize;
    } else if key < arr[0] {
        return -1;
    }
    if len <= 4 {
        let mut i = 1;
        while i < len && key >= arr[i] {
            i += 1;
        }
        return i as isize - 1;
    }
    let guess = 1usize; // 0 clamped to [1, len − 3]
    let (mut imin, mut imax) = (0usize, len);
    if key < arr[guess] {
        if key < arr[guess - 1] {
            imax = guess - 1;
        } else {
            return guess as isize - 1;
        }
    } else if key < arr[guess + 1] {
        return guess as isize;
    } else if key < arr[guess + 2] {
        return guess as isize + 1;
    } else {
        imin = guess + 2;
        if guess + CACHE + 1 < len && key < arr[guess + CACHE] {
            imax = guess + CACHE;
        }
    }
    while imin < imax {
        let imid = imin + ((imax - imin) >> 1);
        if key >= arr[imid] {
            imin = imid + 1;
        } else {
            imax = imid;
        }
    }
    imin as isize - 1
}

/// `np.interp(x, xp, fp)` for one `x` (xp and fp of equal length ≥ 1).
pub fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let len = xp.len();
    if x.is_nan() {
        return x;
    }
    if len == 1 {
        return fp[0];
    }
    let j = search(x, xp);
    if j == -1 {
        return fp[0];
    }
    if j == len as isize {
        return fp[len - 1];
    }
    let j = j as usize;
    if j == len - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let mut r = slope * (x - xp[j]) + fp[j];
    if r.is_nan() {
        r = slope * (x - xp[j + 1]) + fp[j + 1];
        if r.is_nan() && fp[j] == fp[j + 1] {
            r = fp[j];
        }
    }
    r
}

/// The `q + 1` edges `pd.qcut(values, q, retbins=True)` returns, or `None` where it raises
/// ("Bin edges must be unique"). Linear quantiles as numpy computes them. `weights`: how many
/// times each value occurs (`None`: once each).
pub fn qcut_edges(values: &[f64], weights: Option<&[u64]>, q: usize) -> Option<Vec<f64>> {
    let mut sorted: Vec<(f64, u64)> = match weights {
        None => values.iter().map(|&v| (v, 1)).collect(),
        Some(w) => values.iter().copied().zip(w.iter().copied()).collect(),
    };
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The end (exclusive) of each value's run of positions in the sorted multiset.
    let ends: Vec<u64> = (sorted.iter())
        .scan(0u64, |end, &(_, w)| {
            *end += w;
            Some(*end)
        })
        .collect();
    let n = ends.last().copied().unwrap_or(0) as usize;
    if n == 0 {
        return None;
    }
    let at = |position: usize| sorted[ends.partition_point(|&e| e <= position as u64)].0;
    let edges: Vec<f64> = (0..=q)
        .map(|i| {
            // np.linspace(0, 1, q + 1); pandas passes q × 100 to np.percentile, which divides.
            let lin = if i == q {
                1.0
            } else {
                i as f64 * (1.0 / q as f64)
            };
            let quantile = (lin * 100.0) / 100.0;
            let virtual_index = (n - 1) as f64 * quantile;
            let prev = virtual_index.floor();
            let gamma = virtual_index - prev;
            let lo = (prev as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            let (a, b) = (at(lo), at(hi));
            let diff = b - a;
            if gamma >= 0.5 {
                b - diff * (1.0 - gamma)
            } else {
                a + diff * gamma
            }
        })
        .collect();
    let distinct = edges.windows(2).all(|w| w[0] != w[1]);
    distinct.then_some(edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapz_and_interp_by_hand() {
        // Trapezoids: (1 − 0)(0 + 2)/2 + (3 − 1)(2 + 2)/2 = 1 + 4.
        assert_eq!(trapz(&[0.0, 2.0, 2.0], &[0.0, 1.0, 3.0]), 5.0);
        assert_eq!(interp(2.0, &[0.0, 1.0, 3.0], &[0.0, 2.0, 4.0]), 3.0);
        assert_eq!(interp(-1.0, &[0.0, 1.0], &[5.0, 6.0]), 5.0);
        assert_eq!(interp(9.0, &[0.0, 1.0], &[5.0, 6.0]), 6.0);
    }

    #[test]
    fn qcut_edges_by_hand_and_repeats() {
        // 0..=10: the deciles are the values themselves.
        let v: Vec<f64> = (0..=10).map(f64::from).collect();
        let e = qcut_edges(&v, None, 10).unwrap();
        for (i, x) in e.iter().enumerate() {
            assert!((x - i as f64).abs() < 1e-12);
        }
        // Half the values equal: repeated edges, pandas raises.
        assert_eq!(qcut_edges(&[0.5, 0.5, 0.5, 0.5, 0.9, 1.0], None, 10), None);
        // Weights stand for repeats: the same edges as the values written out.
        // Sorted: 0.1 0.2 0.4 0.4 0.4 0.7 0.7 0.7 0.9 0.9; positions 0, 2.25, 4.5, 6.75, 9.
        let (values, weights) = ([0.9, 0.1, 0.4, 0.7, 0.2], [2, 1, 3, 3, 1]);
        let spelled: Vec<f64> = (values.iter().zip(weights))
            .flat_map(|(&v, w)| std::iter::repeat_n(v, w as usize))
            .collect();
        let weighted = qcut_edges(&values, Some(&weights), 4);
        assert_eq!(weighted, qcut_edges(&spelled, None, 4));
        let by_hand = [0.1, 0.4, 0.4 + 0.5 * 0.3, 0.7, 0.9];
        for (e, h) in weighted.unwrap().iter().zip(by_hand) {
            assert!((e - h).abs() < 1e-12, "{e} against {h}");
        }
    }
}
