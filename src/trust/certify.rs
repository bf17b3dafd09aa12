//! Certified thresholds: a threshold whose quality meets the target with probability at least
//! 1 − δ, finite-sample and distribution-free, assuming the records are exchangeable with
//! production traffic. Pure.
//!
//! Owns the search and its error control: a binary search over the candidate thresholds (as in
//! SGR, Geifman & El-Yaniv 2017) that starts at the middle coverage, where the accepted count can
//! carry a test, and spends δ on at most ⌈log2(m + 1)⌉ tests (a union bound, so the family-wise
//! error stays at δ). Each test is the exact binomial tail for 0/1 labels, or the
//! Hoeffding–Bentkus p-value (Learn-then-Test) for labels in [0, 1]. Candidates are assumed to
//! get riskier as they accept more, as a search over thresholds must. It must not print or read.

use std::fmt;

use crate::engine::sweep::{Metrics, Sweep};
use crate::trust::stats::{binomial_p_value, hoeffding_bentkus_p_value};

/// A certificate, or why none could be issued.
pub type Certification = Result<Certificate, NotCertified>;

/// What to certify.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Non-escalated quality at least this (in [0, 1]).
    MinQuality(f64),
    /// Cascade quality at most this far below always-large (in [0, 1]), certified through the
    /// quality given up on accepted records, which bounds the drop from above.
    MaxQualityLoss(f64),
}

/// The test used at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Exact binomial tail (0/1 labels).
    Binomial,
    /// Hoeffding–Bentkus (labels in [0, 1], or the quality drop).
    HoeffdingBentkus,
}

impl Method {
    /// The name used in JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Binomial => "exact binomial tail",
            Method::HoeffdingBentkus => "Hoeffding-Bentkus (Learn-then-Test)",
        }
    }
}

/// A certified threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// What was certified.
    pub target: Target,
    /// The error probability allowed in all.
    pub delta: f64,
    /// The certified candidate (the lowest-escalation one that passed).
    pub metrics: Metrics,
    /// Its p-value.
    pub p_value: f64,
    /// How many tests δ is split over.
    pub tests: u32,
    /// The test used.
    pub method: Method,
}

impl Certificate {
    /// The guarantee in one sentence, with its assumption.
    pub fn guarantee(&self) -> String {
        let what = match self.target {
            Target::MinQuality(q) => format!("the non-escalated quality is at least {q}"),
            Target::MaxQualityLoss(l) => {
                format!("the cascade quality is at most {l} below always-large")
            }
        };
        format!(
            "With probability at least {} over the draw of the labelled records, {what} at \
             threshold {} ({} tests at {:.3e} each, {}), provided production requests are \
             exchangeable with these records.",
            1.0 - self.delta,
            self.metrics.threshold,
            self.tests,
            self.delta / f64::from(self.tests),
            self.method.name()
        )
    }
}

/// Why no threshold could be certified, and what would help.
#[derive(Debug, Clone, PartialEq)]
pub struct NotCertified {
    /// What was asked.
    pub target: Target,
    /// The error probability allowed.
    pub delta: f64,
    /// The best certifiable level at the same δ: a quality lower bound (`MinQuality`) or a
    /// quality-loss upper bound (`MaxQualityLoss`), with the candidate it holds at.
    pub best: Option<(f64, Metrics)>,
    /// Labelled records needed to certify the target at the observed rates, when more data can
    /// help at all.
    pub needed_records: Option<u64>,
}

impl fmt::Display for NotCertified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target {
            Target::MinQuality(q) => {
                write!(
                    f,
                    "cannot certify non-escalated quality >= {q} at delta = {}",
                    self.delta
                )?;
                if let Some((bound, m)) = &self.best {
                    write!(
                        f,
                        "; the best certifiable is {bound:.4} (threshold {}, {:.1}% escalated)",
                        m.threshold,
                        100.0 * m.escalation_rate
                    )?;
                }
            }
            Target::MaxQualityLoss(l) => {
                write!(
                    f,
                    "cannot certify a quality loss <= {l} at delta = {}",
                    self.delta
                )?;
                if let Some((bound, m)) = &self.best {
                    write!(
                        f,
                        "; the smallest certifiable loss is {bound:.4} (threshold {}, {:.1}% \
                         escalated)",
                        m.threshold,
                        100.0 * m.escalation_rate
                    )?;
                }
            }
        }
        match self.needed_records {
            Some(n) => write!(
                f,
                "; about {n} labelled records would be needed at the observed rates"
            ),
            None => write!(
                f,
                "; more records would not help: the observed quality does not reach the target"
            ),
        }
    }
}

/// Certifies `target` on `sweep`. `binary` says every small-model label is 0 or 1.
pub fn certify(
    sweep: &Sweep,
    target: Target,
    delta: f64,
    binary: bool,
) -> Result<Certificate, NotCertified> {
    // Escalating everything (candidate 0) accepts nothing: it has no non-escalated quality,
    // and it loses no quality against always-large, so it needs no test.
    let candidates: Vec<usize> = (1..sweep.candidates()).collect();
    // With 0/1 labels both losses are 0/1 (wrong answer; large right and small wrong).
    let method = if binary {
        Method::Binomial
    } else {
        Method::HoeffdingBentkus
    };
    let tests = (candidates.len() as f64 + 1.0).log2().ceil().max(1.0) as u32;
    let level = delta / f64::from(tests);
    let test = |m: &Metrics| p_value(sweep, m, target, method);

    // Binary search for the most-accepting candidate whose test rejects (p ≤ level).
    let (mut lo, mut hi) = (0usize, candidates.len());
    let mut best: Option<(Metrics, f64)> = None;
    let mut path: Vec<usize> = Vec::new();
    for _ in 0..tests {
        if lo >= hi {
            break;
        }
        let mid = lo + (hi - lo) / 2;
        path.push(candidates[mid]);
        let m = sweep.at_candidate(candidates[mid]);
        let p = test(&m);
        if p <= level {
            best = Some((m, p));
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if best.is_none() && matches!(target, Target::MaxQualityLoss(_)) {
        best = Some((sweep.at_candidate(0), 0.0));
    }
    match best {
        Some((metrics, p_value)) => Ok(Certificate {
            target,
            delta,
            metrics,
            p_value,
            tests,
            method,
        }),
        None => Err(not_certified(sweep, &path, target, delta, level, method)),
    }
}

/// A member of a family of policies certified by [`certify_family`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyCertificate {
    /// The certified member (the most accepting whose test passed).
    pub index: usize,
    /// Its p-value.
    pub p_value: f64,
    /// How many tests δ is split over.
    pub tests: u32,
    /// The test used.
    pub method: Method,
}

/// Certifies non-escalated quality ≥ `q` over a family of policies ordered from safest
/// (index 0) to riskiest, from each member's metrics on records the family was not built on:
/// the same binary search, union bound and tests as [`certify`]. `None` when no member passes.
pub fn certify_family(
    family: &[Metrics],
    q: f64,
    delta: f64,
    binary: bool,
) -> Option<FamilyCertificate> {
    let method = if binary {
        Method::Binomial
    } else {
        Method::HoeffdingBentkus
    };
    let tests = (family.len() as f64 + 1.0).log2().ceil().max(1.0) as u32;
    let level = delta / f64::from(tests);
    let (mut lo, mut hi) = (0usize, family.len());
    let mut best = None;
    for _ in 0..tests {
        if lo >= hi {
            break;
        }
        let mid = lo + (hi - lo) / 2;
        let m = &family[mid];
        let risk = 1.0 - m.non_escalated_quality.unwrap_or(0.0);
        let p = test_p_value(risk, m.accepted as u64, 1.0 - q, method);
        if p <= level {
            best = Some(FamilyCertificate {
                index: mid,
                p_value: p,
                tests,
                method,
            });
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    best
}

/// The p-value of H0 "the target fails at this candidate".
fn p_value(sweep: &Sweep, m: &Metrics, target: Target, method: Method) -> f64 {
    let (risk, n, alpha) = risk(sweep, m, target);
    test_p_value(risk, n, alpha, method)
}

/// The p-value of H0 "the mean loss exceeds `alpha`" for an observed mean loss `risk` over `n`
/// records.
fn test_p_value(risk: f64, n: u64, alpha: f64, method: Method) -> f64 {
    match method {
        Method::Binomial => binomial_p_value((risk * n as f64).round() as u64, n, alpha),
        Method::HoeffdingBentkus => hoeffding_bentkus_p_value(risk, n, alpha),
    }
}

/// (observed risk in [0, 1], records it is a mean over, target risk).
fn risk(sweep: &Sweep, m: &Metrics, target: Target) -> (f64, u64, f64) {
    match target {
        Target::MinQuality(q) => (
            1.0 - m.non_escalated_quality.unwrap_or(0.0),
            m.accepted as u64,
            1.0 - q,
        ),
        Target::MaxQualityLoss(l) => {
            // Per record, the quality lost by accepting it, max(large − small, 0), is a loss in
            // [0, 1] whose mean bounds the drop against always-large from above.
            let j = sweep.candidate_at(m.threshold);
            let lost = sweep.quality_lost(j).unwrap_or(1.0);
            (lost, sweep.records() as u64, l)
        }
    }
}

fn not_certified(
    sweep: &Sweep,
    path: &[usize],
    target: Target,
    delta: f64,
    level: f64,
    method: Method,
) -> NotCertified {
    // Bounds only at the candidates the search tested, at its per-test level: the union bound
    // covers exactly these. Also the fewest records that would let one of them pass at its
    // observed rates.
    let mut best: Option<(f64, Metrics)> = None;
    let mut needed_records: Option<u64> = None;
    for &j in path {
        let m = sweep.at_candidate(j);
        let (risk, n, alpha) = risk(sweep, &m, target);
        if n == 0 {
            continue;
        }
        let bound = risk_upper_bound(risk, n, level, method);
        if best.as_ref().is_none_or(|(b, _)| bound < *b) {
            best = Some((bound, m));
        }
        if let Some(k) = needed(risk, n, alpha, level, method) {
            let share = n as f64 / sweep.records() as f64;
            let total = (k as f64 / share).ceil() as u64;
            needed_records = Some(needed_records.map_or(total, |t| t.min(total)));
        }
    }
    let best = best.map(|(bound, m)| match target {
        Target::MinQuality(_) => (1.0 - bound, m),
        Target::MaxQualityLoss(_) => (bound, m),
    });
    NotCertified {
        target,
        delta,
        best,
        needed_records,
    }
}

/// The smallest sample at which a test with this observed risk would pass at `level`; `None`
/// when the observed risk does not beat the target (no sample size helps).
fn needed(risk: f64, n: u64, alpha: f64, level: f64, method: Method) -> Option<u64> {
    if risk >= alpha || n == 0 {
        return None;
    }
    let passes = |k: u64| test_p_value(risk, k, alpha, method) <= level;
    let mut hi = n.max(1);
    while !passes(hi) {
        hi = hi.checked_mul(2).filter(|h| *h <= 1 << 40)?;
    }
    let mut lo = 1;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if passes(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(hi)
}

/// The smallest target risk the test would accept at `level`, by bisection (p-values fall as the
/// target risk rises).
fn risk_upper_bound(risk: f64, n: u64, level: f64, method: Method) -> f64 {
    let rejects = |alpha: f64| test_p_value(risk, n, alpha, method) <= level;
    let (mut lo, mut hi) = (risk, 1.0);
    if !rejects(hi) {
        return 1.0;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if rejects(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests;
