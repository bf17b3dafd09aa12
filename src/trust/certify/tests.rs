use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::*;
use crate::engine::objective::Objective;
use crate::engine::recommend::recommend;
use crate::engine::sweep::flat_input;

fn sweep(confidence: &[f64], quality: &[f64], large: Option<&[f64]>) -> Sweep {
    Sweep::new(flat_input(confidence, quality, large))
}

#[test]
fn fifteen_right_answers_do_not_prove_ninety_percent() {
    // One candidate, so one test at δ = 0.1: p = 0.9^15 = 0.206 > 0.1, not certified;
    // with 30 right answers p = 0.9^30 = 0.042 and it certifies.
    let s = sweep(&[0.9; 15], &[1.0; 15], None);
    let err = certify(&s, Target::MinQuality(0.9), 0.1, true).unwrap_err();
    assert_eq!(err.best.as_ref().map(|b| b.1.accepted), Some(15));
    // 0.9^k ≤ 0.1 needs k ≥ 22 records at this (perfect) observed quality.
    assert_eq!(err.needed_records, Some(22));
    let s = sweep(&[0.9; 30], &[1.0; 30], None);
    let c = certify(&s, Target::MinQuality(0.9), 0.1, true).unwrap();
    assert_eq!(c.tests, 1);
    assert!((c.p_value - 0.9f64.powi(30)).abs() < 1e-12);
    assert!(
        c.guarantee()
            .starts_with("With probability at least 0.9 over the draw")
    );
}

#[test]
fn an_unreachable_target_says_more_data_will_not_help() {
    // Observed quality by threshold: 0.9 → 0, 0.8 → 1/2, 0.7 → 2/3, 0.6 → 1/2: never 0.99.
    let s = sweep(&[0.9, 0.8, 0.7, 0.6], &[0.0, 1.0, 1.0, 0.0], None);
    let err = certify(&s, Target::MinQuality(0.99), 0.05, true).unwrap_err();
    assert_eq!(err.needed_records, None);
    assert!(
        err.to_string().contains("more records would not help"),
        "{err}"
    );
}

/// A population where confidence is uniform on {0, 0.001, …, 1} and the small model is right
/// with probability 0.5 + 0.5·confidence, so the true non-escalated quality at threshold t on
/// the grid is 0.75 + 0.25·t: a target of 0.9 holds exactly for t ≥ 0.6.
fn draw(rng: &mut ChaCha8Rng, n: usize) -> (Vec<f64>, Vec<f64>) {
    let uniform = |rng: &mut ChaCha8Rng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut conf = Vec::with_capacity(n);
    let mut quality = Vec::with_capacity(n);
    for _ in 0..n {
        let c = (rng.next_u64() % 1001) as f64 / 1000.0;
        quality.push(if uniform(rng) < 0.5 + 0.5 * c {
            1.0
        } else {
            0.0
        });
        conf.push(c);
    }
    (conf, quality)
}

#[test]
fn certified_thresholds_keep_the_error_rate_below_delta() {
    let (trials, n, delta, target) = (200, 2000, 0.1, 0.9);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let (mut certified, mut certified_wrong, mut naive_wrong) = (0, 0, 0);
    for _ in 0..trials {
        let (conf, quality) = draw(&mut rng, n);
        let s = sweep(&conf, &quality, None);
        if let Ok(c) = certify(&s, Target::MinQuality(target), delta, true) {
            certified += 1;
            if 0.75 + 0.25 * c.metrics.threshold < target {
                certified_wrong += 1;
            }
        }
        // The uncertified pick: the lowest escalation whose observed quality reaches the target.
        if let Ok(m) = recommend(&s, Objective::MinQuality { target })
            && 0.75 + 0.25 * m.threshold < target
        {
            naive_wrong += 1;
        }
    }
    let rate = f64::from(certified_wrong) / f64::from(trials);
    // δ plus three binomial standard deviations of simulation error.
    let slack = 3.0 * (delta * (1.0 - delta) / f64::from(trials)).sqrt();
    assert!(
        rate <= delta + slack,
        "certified thresholds wrong in {rate} of trials"
    );
    // The target is comfortably reachable (40 % of traffic qualifies), so certification usually
    // succeeds, while the uncertified pick misses the target about half the time.
    assert!(
        certified >= trials * 9 / 10,
        "certified in {certified} of {trials} trials"
    );
    assert!(
        naive_wrong >= trials / 4,
        "uncertified pick wrong in {naive_wrong} of {trials}"
    );
}

#[test]
fn quality_loss_against_always_large() {
    // 100 records: the small model matches the large one on the 60 most confident, is wrong
    // where the large model is right on the rest. Accepting the top 60 loses nothing.
    let conf: Vec<f64> = (0..100).map(|i| f64::from(100 - i) / 100.0).collect();
    let small: Vec<f64> = (0..100).map(|i| if i < 60 { 1.0 } else { 0.0 }).collect();
    let large = vec![1.0; 100];
    let s = sweep(&conf, &small, Some(&large));
    let c = certify(&s, Target::MaxQualityLoss(0.2), 0.05, true).unwrap();
    assert_eq!(c.method, Method::Binomial);
    // Accepting the 60 right ones loses nothing; each further record loses 1/100. The binomial
    // test at δ/7 stops well short of 20 losses, but past the 60 safe records.
    let drop = 1.0 - c.metrics.cascade_quality.unwrap();
    assert!(
        c.metrics.accepted > 60 && drop < 0.2,
        "accepted {}, drop {drop}",
        c.metrics.accepted
    );
}
