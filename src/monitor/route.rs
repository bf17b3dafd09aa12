//! The policy as a router applies it, recomputed for each logged request: its segment, its
//! mapped signal, whether an override applies and which model the policy sends it to.
//!
//! Owns matching a request to the policy's rules and the reference's segments. Pure; it must
//! not aggregate (see `tally`).

use std::collections::BTreeMap;

use crate::input::{Against, AgainstCondition, AgainstOverride, LogRecord, Reference};
use crate::signals::recalibrate::{IsotonicMap, Map, PlattMap};

/// The policy, ready to route logged requests.
#[derive(Debug, Clone)]
pub struct Router {
    map: Option<Map>,
    /// Every label column a record needs, in the order the reader returns them.
    pub columns: Vec<String>,
    /// The part of the policy that names each of [`columns`](Self::columns): `where`,
    /// `always_large` or `segment_by`.
    pub roles: Vec<&'static str>,
    overrides: Vec<Condition>,
    /// The policy's `where`: (condition, whether it must equal).
    scope: Vec<(Condition, bool)>,
    rules: Vec<Rule>,
    default: Option<f64>,
    segment_columns: Vec<usize>,
    segments: BTreeMap<Vec<String>, usize>,
    /// `segments` keyed by the one value, when segments are keyed by one column (looked up
    /// without building a key per request).
    single: BTreeMap<String, usize>,
    /// The calibration reference.
    pub reference: Reference,
    /// Whether the router may escalate for reasons the logs do not show (refusals, timeouts).
    pub hidden_escalations: bool,
}

/// A label condition: the column's index among [`Router::columns`] and its value.
type Condition = (usize, String);

/// A per-segment rule: its conditions and threshold (`None`: always large).
type Rule = (Vec<Condition>, Option<f64>);

/// One request as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Routed {
    /// Its reference segment (`None`: no segments, or a segment the eval set lacked).
    pub segment: Option<usize>,
    /// Whether the reference has segments but not this request's.
    pub unseen: bool,
    /// The thresholded signal (the raw signal through the recalibration map).
    pub mapped: f64,
    /// An always-large field matched.
    pub overridden: bool,
    /// The policy keeps the small answer.
    pub keep_small: bool,
    /// The request is of the traffic the policy is for (its `where`, if any).
    pub in_scope: bool,
}

/// The part of the policy that names each label column.
fn roles(
    (scope, always_large): (&[AgainstCondition], &[AgainstOverride]),
    columns: &[String],
) -> Vec<&'static str> {
    (columns.iter())
        .map(|c| {
            if scope.iter().any(|w| &w.field == c) {
                "where"
            } else if always_large.iter().any(|o| &o.field == c) {
                "always_large"
            } else {
                "segment_by"
            }
        })
        .collect()
}

impl Router {
    /// The router of a policy; `Err` for a recalibration map it cannot rebuild.
    pub fn new(against: Against) -> Result<Router, String> {
        let reference = against
            .reference
            .expect("read_against requires a reference");
        let map = match &against.signal.recalibration {
            None => None,
            Some(m) => Some(match (m.method.as_str(), &m.points, m.a, m.b) {
                ("isotonic", Some(p), _, _) => Map::Isotonic(
                    IsotonicMap::from_points(p.iter().map(|[x, y]| (*x, *y)).collect())
                        .ok_or("the isotonic map's points are not increasing")?,
                ),
                ("platt", _, Some(a), Some(b)) => Map::Platt(PlattMap { a, b }),
                (method, ..) => return Err(format!("an unusable {method} recalibration map")),
            }),
        };
        let mut columns: Vec<String> = Vec::new();
        let mut index = |c: &str| match columns.iter().position(|x| x == c) {
            Some(k) => k,
            None => {
                columns.push(c.to_string());
                columns.len() - 1
            }
        };
        let scope = (against.scope.iter())
            .map(|c| ((index(&c.field), c.value.clone()), c.op != "!="))
            .collect();
        let overrides = (against.always_large.iter())
            .map(|o| (index(&o.field), o.value.clone()))
            .collect();
        let rules = (against.segments.iter())
            .map(|s| {
                let m = s
                    .matches
                    .iter()
                    .map(|(c, v)| (index(c), v.clone()))
                    .collect();
                let t = if s.action == "always_large" {
                    None
                } else {
                    s.threshold
                };
                (m, t)
            })
            .collect();
        // Keyed in column-name order, the order of each segment's `match`.
        let mut sorted = reference.segment_by.clone();
        sorted.sort();
        let segment_columns = sorted.iter().map(|c| index(c)).collect();
        let segments: BTreeMap<Vec<String>, usize> = (reference.segments.iter().enumerate())
            .map(|(k, s)| (s.matches.values().cloned().collect(), k))
            .collect();
        let single = (segments.iter())
            .filter(|(values, _)| values.len() == 1)
            .map(|(values, &k)| (values[0].clone(), k))
            .collect();
        let roles = roles((&against.scope, &against.always_large), &columns);
        Ok(Router {
            map,
            columns,
            roles,
            overrides,
            scope,
            rules,
            default: against.default_threshold,
            segment_columns,
            segments,
            single,
            reference,
            hidden_escalations: against.escalate_refusals || against.small_timeout_ms.is_some(),
        })
    }

    /// How the policy routes `r` (its labels in [`Router::columns`] order).
    pub fn route(&self, r: &LogRecord) -> Routed {
        let is = |(k, v): &Condition| r.labels[*k].as_deref() == Some(v.as_str());
        let mapped = self.map.as_ref().map_or(r.signal, |m| m.apply(r.signal));
        let overridden = self.overrides.iter().any(is);
        let threshold = match self.rules.iter().find(|(m, _)| m.iter().all(is)) {
            Some((_, t)) => *t,
            None => self.default,
        };
        let (segment, unseen) = if self.segment_columns.is_empty() {
            (None, false)
        } else if let [k] = self.segment_columns[..] {
            let found = (r.labels[k].as_deref()).and_then(|v| self.single.get(v).copied());
            (found, found.is_none())
        } else {
            let key: Option<Vec<String>> = (self.segment_columns.iter())
                .map(|k| r.labels[*k].clone())
                .collect();
            let found = key.and_then(|k| self.segments.get(&k).copied());
            (found, found.is_none())
        };
        Routed {
            segment,
            unseen,
            mapped,
            overridden,
            keep_small: !overridden && threshold.is_some_and(|t| mapped >= t),
            in_scope: self.scope.iter().all(|(c, equal)| is(c) == *equal),
        }
    }
}
