//! The recommendation as JSON: found or not, the objective, the metrics or the reason, the
//! certificate and the policy; in `summary.json` and alone for `recommend --print json`.
//! Copies only; it must not compute.

use anyhow::Result;
use serde::Serialize;

use super::trust::{CrossFitJson, HoldoutJson, UncertaintyJson};
use crate::engine::objective::Objective;
use crate::engine::recommend::Infeasible;
use crate::engine::sweep::Metrics;
use crate::output::ties::{SplitJson, split_json};
use crate::policy::document::Policy;
use crate::report::{Decision, Report};
use crate::trust::certify::Certification;

/// The recommendation as one compact JSON line (for `recommend --print json`).
pub fn recommendation_json(d: &Decision, objective: Objective) -> Result<String> {
    let mut r = Recommendation::of(&d.recommendation, objective);
    r.certificate = d.certification.as_ref().map(certificate_json);
    r.policy = d.policy.as_ref();
    r.holdout = super::trust::holdout(d.holdout.as_ref());
    r.uncertainty = d.uncertainty.as_ref().map(super::trust::uncertainty);
    r.cross_fit = super::trust::cross_fit(d.cross_fit.as_ref());
    r.split_ties = d.split_ties.as_ref().map(split_json);
    Ok(serde_json::to_string(&r)?)
}

/// `"recommendation"`, and the whole of `recommend --print json`.
#[derive(Serialize)]
pub(super) struct Recommendation<'a> {
    found: bool,
    objective: ObjectiveJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<CertificateJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    holdout: Option<HoldoutJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uncertainty: Option<UncertaintyJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cross_fit: Option<CrossFitJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split_ties: Option<SplitJson<'a>>,
}

/// The objective: its kind, its value and its description.
#[derive(Serialize)]
pub(super) struct ObjectiveJson {
    kind: &'static str,
    value: Option<f64>,
    description: String,
}

#[derive(Serialize)]
struct CertificateJson {
    certified: bool,
    delta: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guarantee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    needed_records: Option<u64>,
}

/// The recommendation with its certificate, as `summary.json` holds it.
pub(super) fn recommendation(report: &Report) -> Recommendation<'_> {
    Recommendation {
        certificate: report.certification.as_ref().map(certificate_json),
        split_ties: report.split_ties.as_ref().map(split_json),
        ..Recommendation::of(&report.recommendation, report.settings.objective)
    }
}

impl<'a> Recommendation<'a> {
    fn of(recommendation: &'a Result<Metrics, Infeasible>, objective: Objective) -> Self {
        let objective = objective_json(objective);
        match recommendation {
            Ok(m) => Recommendation {
                found: true,
                objective,
                metrics: Some(m),
                reason: None,
                certificate: None,
                policy: None,
                holdout: None,
                uncertainty: None,
                cross_fit: None,
                split_ties: None,
            },
            Err(why) => Recommendation {
                found: false,
                objective,
                metrics: None,
                reason: Some(why.to_string()),
                certificate: None,
                policy: None,
                holdout: None,
                uncertainty: None,
                cross_fit: None,
                split_ties: None,
            },
        }
    }
}

/// The objective: its kind, its value and its description.
pub(super) fn objective_json(o: Objective) -> ObjectiveJson {
    ObjectiveJson {
        kind: o.kind(),
        value: o.value(),
        description: o.describe(),
    }
}

fn certificate_json(c: &Certification) -> CertificateJson {
    match c {
        Ok(c) => CertificateJson {
            certified: true,
            delta: c.delta,
            method: Some(c.method.name()),
            tests: Some(c.tests),
            p_value: Some(c.p_value),
            guarantee: Some(c.guarantee()),
            reason: None,
            needed_records: None,
        },
        Err(why) => CertificateJson {
            certified: false,
            delta: why.delta,
            method: None,
            tests: None,
            p_value: None,
            guarantee: None,
            reason: Some(why.to_string()),
            needed_records: why.needed_records,
        },
    }
}
