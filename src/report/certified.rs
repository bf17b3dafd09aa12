//! The certified per-segment policy (`--segment-by … --certify`, issue 12): the records are
//! split in two (seeded, stratified by segment); the Lagrangian family of per-segment policies
//! is built on one half, and the fixed-sequence binomial search of `--certify` tests its
//! members on the other half, so the family does not depend on the labels it is tested on.
//!
//! Owns the split and the routing of each member over records by segment label. The family
//! is `policy::segments::family`'s, the test `trust::certify`'s. It must not read files, print
//! or format.

use super::deploy::segmentation;
use super::prepare::{Prepared, prepare};
use super::{RunError, RunSettings};
use crate::engine::objective::Objective;
use crate::engine::sweep::{Metrics, Totals};
use crate::input::{Loaded, Reference};
use crate::policy::document::{Measured, Policy, SegmentPolicy};
use crate::policy::safeguards::{self, Routing};
use crate::policy::segments::Plan;
use crate::policy::segments::family::family;
use crate::trust::certify::{FamilyCertificate, certify_family};
use crate::trust::crossfit::folds;

/// Per-segment thresholds by segment labels (`f64::INFINITY`: always large).
pub type Thresholds = Vec<(Vec<(String, String)>, f64)>;

/// A certified per-segment policy.
#[derive(Debug, Clone, PartialEq)]
pub struct CertifiedSegments {
    /// Its thresholds, by segment (`f64::INFINITY`: always large).
    pub thresholds: Thresholds,
    /// The quality certified.
    pub target: f64,
    /// The error probability allowed.
    pub delta: f64,
    /// Members of the family.
    pub family: usize,
    /// Records the family was built on.
    pub build_records: usize,
    /// Records its members were tested on.
    pub test_records: usize,
    /// The certified member, its p-value and test.
    pub certificate: FamilyCertificate,
    /// Its metrics on the test half.
    pub on_test: Metrics,
    /// Its metrics on every record.
    pub on_all: Metrics,
}

/// With `--segment-by` and `--certify --min-quality Q`: the certified per-segment policy, or why
/// none could be certified (`None` otherwise).
pub fn certified_segments(
    loaded: &Loaded,
    run: &RunSettings,
) -> Result<Option<Result<CertifiedSegments, String>>, RunError> {
    let (Some(delta), Some(seg)) = (run.certify, segmentation(loaded, run)) else {
        return Ok(None);
    };
    let Objective::MinQuality { target } = run.objective else {
        return Ok(Some(Err(
            "a certified per-segment policy covers --min-quality; with --max-quality-loss \
             every segment keeps the certified global threshold"
                .into(),
        )));
    };
    let half = folds(
        loaded.set.confidence.len(),
        2,
        run.policy.cross_fit_seed,
        Some(&seg.codes),
    );
    let test: Vec<bool> = half.iter().map(|&f| f == 1).collect();
    let (build, check) = (loaded.subset(&test, false), loaded.subset(&test, true));
    if build.set.confidence.is_empty() || check.set.confidence.is_empty() {
        return Ok(Some(Err("too few records to split".into())));
    }
    let members: Vec<Thresholds> = {
        let prepared = prepare(&build, run)?;
        let seg = segmentation(&build, run).expect("segments");
        let f = family(
            prepared.input(),
            &seg,
            run.objective,
            run.policy.segment_floor,
        );
        (f.into_iter())
            .map(|m| seg.labels.iter().cloned().zip(m).collect())
            .collect()
    };
    let prepared = prepare(&check, run)?;
    let on_test: Vec<Metrics> = (members.iter())
        .map(|m| metrics(&route(&check, run, &prepared, m)))
        .collect();
    let Some(certificate) = certify_family(&on_test, target, delta, prepared.binary) else {
        return Ok(Some(Err(format!(
            "no member of the {}-policy per-segment family passes the test of non-escalated \
             quality >= {target} at delta = {delta} on the {} test records",
            members.len(),
            check.set.confidence.len()
        ))));
    };
    let chosen = members[certificate.index].clone();
    let all = prepare(loaded, run)?;
    Ok(Some(Ok(CertifiedSegments {
        on_all: metrics(&route(loaded, run, &all, &chosen)),
        on_test: on_test[certificate.index],
        thresholds: chosen,
        target,
        delta,
        family: members.len(),
        build_records: build.set.confidence.len(),
        test_records: check.set.confidence.len(),
        certificate,
    })))
}

/// The sums of per-segment `thresholds` over `loaded`'s records (a segment they do not name
/// goes to the large model), with the records' safeguards.
pub fn route(
    loaded: &Loaded,
    run: &RunSettings,
    prepared: &Prepared<'_>,
    thresholds: &Thresholds,
) -> Totals {
    let seg = segmentation(loaded, run).expect("segments");
    let by_code: Vec<f64> = (seg.labels.iter())
        .map(|labels| {
            (thresholds.iter())
                .find(|(l, _)| l == labels)
                .map_or(f64::INFINITY, |(_, t)| *t)
        })
        .collect();
    let input = prepared.input();
    let routing = Routing {
        thresholds: &by_code,
        codes: Some(&seg.codes),
    };
    safeguards::totals(input, routing, input.safeguarded)
}

impl CertifiedSegments {
    /// The guarantee in one sentence, with its assumption.
    pub fn guarantee(&self) -> String {
        format!(
            "With probability at least {} over the draw of the labelled records, the \
             non-escalated quality of this per-segment policy is at least {} (member {} of a \
             {}-policy family built on {} records and tested on the other {}: p = {:.3e}, {}), \
             provided production requests are exchangeable with these records.",
            1.0 - self.delta,
            self.target,
            self.certificate.index + 1,
            self.family,
            self.build_records,
            self.test_records,
            self.certificate.p_value,
            self.certificate.method.name(),
        )
    }
}

/// With `--segment-by … --certify`: the cheaper of the two certified policies, the global
/// threshold (`policy` as built) and the per-segment one, each carrying its guarantee and the
/// union bound that choosing between them costs: either certificate fails with probability at
/// most δ, so the one exported fails with probability at most 2δ.
pub fn deployable(
    policy: Option<Policy>,
    certified: Option<&Result<CertifiedSegments, String>>,
    plan: Option<&Plan>,
    reference_of: &dyn Fn(&CertifiedSegments) -> Reference,
) -> Option<Policy> {
    let (mut policy, outcome) = match (policy, certified) {
        (Some(p), Some(o)) => (p, o),
        (policy, _) => return policy,
    };
    let per_segment = outcome.as_ref().ok();
    let delta = per_segment.map(|c| c.delta);
    let cheaper =
        per_segment.filter(|c| c.on_all.cost_per_request < policy.measured.cost_per_request);
    if let Some(c) = cheaper {
        policy = Policy {
            reference: Some(reference_of(c)),
            ..exported(policy, c, plan)
        };
    }
    if let (Some(delta), Some(g)) = (delta, policy.guarantee.as_mut()) {
        g.push_str(&format!(
            " It is the cheaper of two certified policies (the global threshold and the \
             per-segment policy), so the policy exported errs with probability at most {} \
             in all.",
            2.0 * delta
        ));
    }
    Some(policy)
}

/// The deployable policy with the certified per-segment thresholds in place of the certified
/// global threshold: a segment the eval set did not hold goes to the large model (the
/// certificate does not cover it), and `measured` is the policy on every record.
fn exported(policy: Policy, c: &CertifiedSegments, plan: Option<&Plan>) -> Policy {
    let records = |labels: &Vec<(String, String)>| {
        (plan.iter().flat_map(|p| &p.segments))
            .find(|s| &s.labels == labels)
            .map_or(0, |s| s.records)
    };
    let segments = (c.thresholds.iter())
        .map(|(labels, t)| SegmentPolicy {
            matches: labels.iter().cloned().collect(),
            action: if t.is_finite() {
                "threshold"
            } else {
                "always_large"
            },
            threshold: t.is_finite().then_some(*t),
            raw_threshold: None,
            reason: "certified per-segment policy".into(),
            records: records(labels),
        })
        .collect();
    Policy {
        default_threshold: None,
        default_raw_threshold: None,
        segment_by: plan.map(|p| p.columns.clone()).unwrap_or_default(),
        segments,
        guarantee: Some(c.guarantee()),
        measured: Measured::of(&c.on_all),
        ..policy
    }
}

fn metrics(t: &Totals) -> Metrics {
    t.metrics(f64::NAN, t.accepted == 0)
}
