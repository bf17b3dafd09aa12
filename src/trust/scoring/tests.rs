use super::*;
use proptest::prelude::*;

fn close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "got {got}, want {want}");
}

fn close_all(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        close(*g, *w, tol);
    }
}

// Sorted by score descending: 0.9 (q 1) | 0.8, 0.8 (q 0, 1) | 0.5 (q 0) | 0.2 (q 1).
const HAND_S: [f64; 5] = [0.5, 0.8, 0.9, 0.2, 0.8];
const HAND_Q: [f64; 5] = [0.0, 1.0, 1.0, 1.0, 0.0];

#[test]
fn auroc_by_hand() {
    // Pairs (right, wrong): 0.9>0.8, 0.9>0.5, 0.8=0.8 (½), 0.8>0.5, 0.2<0.8, 0.2<0.5 → 3.5/6.
    close(auroc(&HAND_S, &HAND_Q).unwrap(), 7.0 / 12.0, 1e-15);
}

#[test]
fn auroc_degenerate() {
    assert_eq!(auroc(&[0.1, 0.2], &[1.0, 1.0]), None);
    assert_eq!(auroc(&[0.1, 0.2], &[0.0, 0.0]), None);
    assert_eq!(auroc(&[], &[]), None);
    // One record with q = ½ is its own tie pair.
    assert_eq!(auroc(&[0.3], &[0.5]), Some(0.5));
}

// python3 -c "from sklearn.metrics import roc_auc_score; print(repr(roc_auc_score(
//   [1,1,0,1,1,0,1,0,0,0,1,1,1,1,0,1,0,1,0,0],
//   [0.0,0.4,-0.4,2.0,-0.7,-1.5,0.1,2.0,-0.7,-0.9,0.7,2.0,0.2,-1.4,-0.0,-0.4,-2.0,-0.7,-2.9,-1.9])))"
// → 0.7878787878787878. Ties at 2.0, -0.7, -0.4, and 0.0 with -0.0.
#[test]
fn auroc_matches_sklearn_binary() {
    let s = [
        0.0, 0.4, -0.4, 2.0, -0.7, -1.5, 0.1, 2.0, -0.7, -0.9, 0.7, 2.0, 0.2, -1.4, -0.0, -0.4,
        -2.0, -0.7, -2.9, -1.9,
    ];
    let y = [
        1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0,
        0.0, 0.0,
    ];
    close(auroc(&s, &y).unwrap(), 0.7878787878787878, 1e-12);
}

// import numpy as np; from sklearn.metrics import roc_auc_score
// s = np.array([-1.0,2.0,0.0,2.0,1.0,1.0,-2.0,0.0,0.0,2.0,-1.0,1.0])
// q = np.array([0.0,0.5,0.25,0.25,0.75,0.5,1.0,0.5,0.5,0.75,0.75,0.25])
// roc_auc_score(np.r_[np.ones(12), np.zeros(12)], np.r_[s, s], sample_weight=np.r_[q, 1-q])
// → 0.4618055555555556
#[test]
fn auroc_matches_sklearn_fractional() {
    let s = [
        -1.0, 2.0, 0.0, 2.0, 1.0, 1.0, -2.0, 0.0, 0.0, 2.0, -1.0, 1.0,
    ];
    let q = [
        0.0, 0.5, 0.25, 0.25, 0.75, 0.5, 1.0, 0.5, 0.5, 0.75, 0.75, 0.25,
    ];
    close(auroc(&s, &q).unwrap(), 0.4618055555555556, 1e-12);
}

#[test]
fn risk_coverage_by_hand() {
    let curve = risk_coverage(&HAND_S, &HAND_Q);
    let t: Vec<f64> = curve.points.iter().map(|p| p.threshold).collect();
    let a: Vec<usize> = curve.points.iter().map(|p| p.accepted).collect();
    let c: Vec<f64> = curve.points.iter().map(|p| p.coverage).collect();
    let r: Vec<f64> = curve.points.iter().map(|p| p.risk).collect();
    assert_eq!(t, [0.9, 0.8, 0.5, 0.2]);
    assert_eq!(a, [1, 3, 4, 5]);
    close_all(&c, &[0.2, 0.6, 0.8, 1.0], 1e-15);
    // Right answers accepted: 1 of 1, 2 of 3, 2 of 4, 3 of 5.
    close_all(&r, &[0.0, 1.0 / 3.0, 0.5, 0.4], 1e-15);
    assert!(risk_coverage(&[], &[]).points.is_empty());
}

#[test]
fn aurc_by_hand() {
    // Positions k = 1..5 get risks 0, ⅓, ⅓ (the tie group's end, not 0 or 1 for k = 2),
    // ½, ⅖: AURC = (0 + ⅓ + ⅓ + ½ + ⅖) / 5 = (47/30) / 5 = 47/150.
    close(aurc(&HAND_S, &HAND_Q).unwrap(), 47.0 / 150.0, 1e-15);
    // Oracle order by quality 1, 1, 1, 0, 0: risks 0, 0, 0, ¼, ⅖ → 0.65 / 5 = 0.13.
    close(optimal_aurc(&HAND_Q).unwrap(), 0.13, 1e-15);
    // 47/150 − 13/100 = 55/300 = 11/60.
    close(e_aurc(&HAND_S, &HAND_Q).unwrap(), 11.0 / 60.0, 1e-15);
    // A perfect ranking has no excess; a single record's AURC is its own risk.
    close(
        e_aurc(&[3.0, 2.0, 1.0], &[1.0, 0.5, 0.0]).unwrap(),
        0.0,
        1e-15,
    );
    assert_eq!(aurc(&[7.0], &[0.25]), Some(0.75));
    assert_eq!(aurc(&[], &[]), None);
    assert_eq!(optimal_aurc(&[]), None);
    assert_eq!(e_aurc(&[], &[]), None);
}

// Scores on and off bin edges; quality right/wrong.
const CAL_S: [f64; 6] = [0.1, 0.15, 0.45, 0.5, 0.9, 0.95];
const CAL_Q: [f64; 6] = [0.0, 1.0, 0.0, 1.0, 1.0, 1.0];

#[test]
fn ece_mce_equal_width_by_hand() {
    let bins = reliability(&CAL_S, &CAL_Q, Binning::EqualWidth(2));
    // Bin [0, ½]: 0.1, 0.15, 0.45, 0.5 (on the edge: the lower bin, as sklearn) → mean score
    // 1.2/4 = 0.3, mean quality 2/4, gap 0.2.
    // Bin (½, 1]: 0.9, 0.95 → mean score 0.925, mean quality 1, gap 0.075.
    assert_eq!(bins.len(), 2);
    assert_eq!((bins[0].lo, bins[0].hi, bins[0].count), (0.0, 0.5, 4));
    assert_eq!((bins[1].lo, bins[1].hi, bins[1].count), (0.5, 1.0, 2));
    close(bins[0].mean_score, 0.3, 1e-15);
    close(bins[1].mean_quality, 1.0, 1e-15);
    // ECE = 4/6 · 0.2 + 2/6 · 0.075 = 0.95/6; MCE = 0.2.
    close(ece(&bins, 6), 0.95 / 6.0, 1e-15);
    close(mce(&bins), 0.2, 1e-15);
    assert_eq!((ece(&[], 0), mce(&[])), (0.0, 0.0));
}

#[test]
fn ece_mce_equal_mass_by_hand() {
    // n = 6, b = 4: cuts at ⌊i·5/4⌋ + 1 = 2, 3, 4 → sizes 2, 1, 1, 2.
    let bins = reliability(&CAL_S, &CAL_Q, Binning::EqualMass(4));
    let counts: Vec<usize> = bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, [2, 1, 1, 2]);
    assert_eq!((bins[0].lo, bins[0].hi), (0.1, 0.15));
    // Gaps: |0.5 − 0.125| = 0.375, |0 − 0.45|, |1 − 0.5|, |1 − 0.925| = 0.075.
    // ECE = (2·0.375 + 0.45 + 0.5 + 2·0.075) / 6 = 1.85/6; MCE = 0.5.
    close(ece(&bins, 6), 1.85 / 6.0, 1e-15);
    close(mce(&bins), 0.5, 1e-15);
}

#[test]
fn equal_mass_keeps_ties_together() {
    // Ties share one bin: splitting a tie by quality would let the labels choose the bins (20
    // records at 0.7, half right, would give ECE 0.5 instead of |0.5 − 0.7| = 0.2).
    for q in [
        [1.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 1.0],
        [1.0, 1.0, 0.0, 0.0],
    ] {
        let bins = reliability(&[0.5; 4], &q, Binning::EqualMass(2));
        assert_eq!(bins.len(), 1);
        assert_eq!((bins[0].count, bins[0].mean_quality), (4, 0.5));
    }
    let s = [0.7; 20];
    let q: Vec<f64> = (0..20).map(|i| f64::from(i % 2)).collect();
    let bins = reliability(&s, &q, Binning::EqualMass(10));
    close(ece(&bins, 20), 0.2, 1e-12);
    // A tie across a cut moves to the lower bin: 0.1 | 0.2 0.2 0.2 | 0.9 with 2 bins of 5
    // records → cut after position 2 would split the 0.2s; they all join bin 0.
    let bins = reliability(&[0.1, 0.2, 0.2, 0.2, 0.9], &[1.0; 5], Binning::EqualMass(2));
    assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), [4, 1]);
}

#[test]
fn reliability_degenerate() {
    assert!(reliability(&[], &[], Binning::EqualWidth(5)).is_empty());
    assert!(reliability(&[0.2], &[1.0], Binning::EqualMass(0)).is_empty());
    // More bins than records: empty bins are omitted.
    let bins = reliability(&[0.2, 0.7], &[1.0, 0.0], Binning::EqualMass(5));
    assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), [1, 1]);
    // Out-of-range scores are clamped into the end bins.
    let bins = reliability(&[-0.5, 1.5], &[1.0, 0.0], Binning::EqualWidth(4));
    assert_eq!((bins[0].lo, bins[1].hi), (0.0, 1.0));
}

#[test]
fn equal_width_edges_follow_sklearn() {
    // sklearn: searchsorted(linspace(0, 1, 11)[1:-1], s). linspace(0, 1, 11)[3] is
    // 0.30000000000000004, so 0.3 lands in bin 2; 0.2 equals edge 2 exactly and also lands in
    // the lower bin, 1; 0.25 in bin 2; 1.0 in bin 9; 0.0 in bin 0.
    // np.searchsorted(np.linspace(0, 1, 11)[1:-1], [0.3, 0.2, 0.25, 1.0, 0.0]) → [2, 1, 2, 9, 0]
    let scores = [0.3, 0.2, 0.25, 1.0, 0.0];
    let bins = reliability(&scores, &[1.0; 5], Binning::EqualWidth(10));
    let by_bin: Vec<(f64, usize)> = bins.iter().map(|b| (b.lo, b.count)).collect();
    assert_eq!(by_bin, [(0.0, 1), (0.1, 1), (0.2, 2), (9.0 * 0.1, 1)]);
}

// Calibration data (24 records, ties at 0.57, ends 0.0 and 1.0, none on a 1/5 or 1/7 edge).
const REL_S: [f64; 24] = [
    0.44, 0.24, 0.402, 0.0, 1.0, 0.215, 0.672, 0.3, 0.874, 0.662, 0.132, 0.845, 0.945, 0.904, 0.57,
    0.145, 0.192, 0.928, 0.552, 0.181, 0.884, 0.642, 0.57, 0.376,
];
const REL_Y: [f64; 24] = [
    1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0,
    0.0, 1.0, 1.0, 0.0, 0.0,
];

// from sklearn.metrics import brier_score_loss; S, Y = REL_S, REL_Y (the arrays above)
// brier_score_loss(Y, S)
// → 0.1873232083333333
#[test]
fn brier_matches_sklearn() {
    close(brier(&REL_S, &REL_Y).unwrap(), 0.1873232083333333, 1e-15);
    assert_eq!(brier(&[], &[]), None);
}

fn curve(bins: &[Bin]) -> (Vec<f64>, Vec<f64>) {
    bins.iter().map(|b| (b.mean_quality, b.mean_score)).unzip()
}

// from sklearn.calibration import calibration_curve; S, Y = REL_S, REL_Y, for b in (5, 7):
// [list(map(float, v)) for v in calibration_curve(Y, S, n_bins=b, strategy='uniform')]
// → (mean quality per non-empty bin, mean score per non-empty bin).
#[test]
fn equal_width_matches_sklearn_uniform() {
    let (q, s) = curve(&reliability(&REL_S, &REL_Y, Binning::EqualWidth(5)));
    close_all(&q, &[0.2, 0.25, 0.6, 1.0, 0.8571428571428571], 1e-12);
    let want = [
        0.13,
        0.28274999999999995,
        0.5067999999999999,
        0.6586666666666666,
        0.9114285714285716,
    ];
    close_all(&s, &want, 1e-12);
    let (q, s) = curve(&reliability(&REL_S, &REL_Y, Binning::EqualWidth(7)));
    let want = [
        0.5,
        0.2,
        0.3333333333333333,
        0.5,
        1.0,
        1.0,
        0.8333333333333334,
    ];
    close_all(&q, &want, 1e-12);
    let want = [
        0.066,
        0.19460000000000002,
        0.3593333333333333,
        0.533,
        0.6586666666666666,
        0.845,
        0.9225,
    ];
    close_all(&s, &want, 1e-12);
}

// Tie-free data (REL_S minus its last two records, 0.0 → 0.097, 1.0 → 0.968), n = 22. sklearn
// keeps ties together and, when i·(n−1)/b is an integer, numpy's rounding of the percentile
// decides which side the record at that position falls; with n − 1 = 21 and b ∈ {4, 5, 8}
// neither happens, so the bins must agree exactly.
// S, Y = REL_S[:22], REL_Y[:22]; S[3], S[4] = 0.097, 0.968; for b in (4, 5, 8):
// [list(map(float, v)) for v in calibration_curve(Y, S, n_bins=b, strategy='quantile')]
#[test]
fn equal_mass_matches_sklearn_quantile() {
    let mut s = REL_S[..22].to_vec();
    (s[3], s[4]) = (0.097, 0.968);
    let y = &REL_Y[..22];
    let cases: [(usize, &[f64], &[f64]); 3] = [
        (
            4,
            &[0.16666666666666666, 0.6, 1.0, 0.8333333333333334],
            &[0.16033333333333333, 0.3868, 0.6782, 0.9171666666666667],
        ),
        (
            5,
            &[0.2, 0.5, 0.75, 1.0, 0.8],
            &[0.14940000000000003, 0.28925, 0.551, 0.76325, 0.9258],
        ),
        (
            8,
            &[
                0.3333333333333333,
                0.0,
                0.5,
                0.6666666666666666,
                1.0,
                1.0,
                1.0,
                0.6666666666666666,
            ],
            &[
                0.12466666666666666,
                0.19600000000000004,
                0.27,
                0.46466666666666673,
                0.6246666666666667,
                0.7585,
                0.8873333333333333,
                0.947,
            ],
        ),
    ];
    for (b, want_q, want_s) in cases {
        let (q, got_s) = curve(&reliability(&s, y, Binning::EqualMass(b)));
        close_all(&q, want_q, 1e-12);
        close_all(&got_s, want_s, 1e-12);
    }
}

fn pair_count_auroc(score: &[f64], quality: &[f64]) -> Option<f64> {
    let (mut num, mut pos, mut neg) = (0.0, 0.0, 0.0);
    for (&si, &qi) in score.iter().zip(quality) {
        pos += qi;
        neg += 1.0 - qi;
        for (&sj, &qj) in score.iter().zip(quality) {
            let w = qi * (1.0 - qj);
            num += match si.partial_cmp(&sj) {
                Some(Ordering::Greater) => w,
                Some(Ordering::Equal) => 0.5 * w,
                _ => 0.0,
            };
        }
    }
    (pos > 0.0 && neg > 0.0).then(|| num / (pos * neg))
}

/// The documented AURC definition, O(n²): position k (1-based, by descending score) takes the
/// risk of accepting every record scoring ≥ the k-th score.
fn naive_aurc(score: &[f64], quality: &[f64]) -> f64 {
    let mut sorted = score.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted
        .iter()
        .map(|&tau| {
            let accepted: Vec<usize> = (0..score.len()).filter(|&i| score[i] >= tau).collect();
            let right: f64 = accepted.iter().map(|&i| quality[i]).sum();
            1.0 - right / accepted.len() as f64
        })
        .sum();
    total / score.len() as f64
}

fn records() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    // Coarse scores force ties; qualities include fractions.
    prop::collection::vec((-4i32..=4, 0u8..=4), 1..40).prop_map(|v| {
        v.into_iter()
            .map(|(s, q)| (f64::from(s) * 0.5, f64::from(q) * 0.25))
            .unzip()
    })
}

proptest! {
    #[test]
    fn auroc_matches_pair_count((s, q) in records()) {
        match (auroc(&s, &q), pair_count_auroc(&s, &q)) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn aurc_matches_naive((s, q) in records()) {
        let fast = aurc(&s, &q).unwrap();
        prop_assert!((fast - naive_aurc(&s, &q)).abs() < 1e-12);
        prop_assert!(e_aurc(&s, &q).unwrap() > -1e-12);
    }

    #[test]
    fn bins_partition_the_records((s, q) in records(), b in 1usize..12) {
        let s: Vec<f64> = s.iter().map(|v| (v + 2.0) / 4.0).collect();
        let n = s.len();
        let mass = reliability(&s, &q, Binning::EqualMass(b));
        let sizes: Vec<usize> = mass.iter().map(|b| b.count).collect();
        prop_assert_eq!(sizes.iter().sum::<usize>(), n);
        let full = if b <= n { b } else { n };
        prop_assert!(sizes.len() <= full);
        // Without ties, sizes differ by at most one.
        let mut distinct = s.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if distinct.len() == n {
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            prop_assert!(max - min <= 1);
        }
        let width = reliability(&s, &q, Binning::EqualWidth(b));
        prop_assert_eq!(width.iter().map(|b| b.count).sum::<usize>(), n);
        prop_assert!(ece(&width, n) <= mce(&width) + 1e-15);
    }
}
