//! Checking a reference read back from a policy document before `monitor` relies on it: every
//! distribution's bins agree in number, its edges and deciles ascend, its counts add up and its
//! numbers are in range. A hand-edited or truncated policy is refused in one line instead of
//! stopping the monitor midway or binning traffic against edges out of order.
//!
//! Owns those checks and their wording; it must not read files nor compute references.

use super::{Against, Distribution, Reference};

/// The objectives a policy can name, and whether their value is a rate or quality in [0, 1]
/// (`budget` is a cost of at least 0; `quality_times_savings` has none).
const OBJECTIVES: [(&str, Option<bool>); 6] = [
    ("min_quality", Some(true)),
    ("max_escalation", Some(true)),
    ("max_quality_loss", Some(true)),
    ("min_cascade_quality", Some(true)),
    ("budget", Some(false)),
    ("quality_times_savings", None),
];

/// The parts of a policy outside its reference that routing reads: `Err` says what is wrong,
/// naming the field, e.g. `where[0].op is "ne"; expected "=" or "!="`.
pub fn policy(against: &Against) -> Result<(), String> {
    if against.signal.name.is_empty() {
        return Err("signal.name is empty; expected the signal's log field".into());
    }
    let points = against
        .signal
        .recalibration
        .as_ref()
        .and_then(|m| m.points.as_ref());
    let outside = |&[_, y]: &[f64; 2]| !(0.0..=1.0).contains(&y);
    if let Some(i) = points.and_then(|p| p.iter().position(outside)) {
        return Err(format!(
            "signal.recalibration.points[{i}] maps to {}; expected a probability, 0 to 1",
            points.map_or(0.0, |p| p[i][1])
        ));
    }
    let objective = &against.objective;
    let Some(&(_, unit)) = OBJECTIVES.iter().find(|(k, _)| *k == objective.kind) else {
        let known: Vec<&str> = OBJECTIVES.iter().map(|(k, _)| *k).collect();
        return Err(format!(
            "objective.kind is {:?}; expected one of {}",
            objective.kind,
            known.join(", ")
        ));
    };
    match (unit, objective.value) {
        (Some(_), None) => return Err("objective.value is missing".into()),
        (Some(true), Some(v)) if !(0.0..=1.0).contains(&v) => {
            return Err(format!("objective.value is {v}; expected 0 to 1"));
        }
        (Some(false), Some(v)) if v < 0.0 => {
            return Err(format!(
                "objective.value is {v}; expected a cost of at least 0"
            ));
        }
        _ => {}
    }
    for (i, c) in against.scope.iter().enumerate() {
        if c.op != "=" && c.op != "!=" {
            return Err(format!(
                "where[{i}].op is {:?}; expected \"=\" or \"!=\"",
                c.op
            ));
        }
        if c.field.is_empty() {
            return Err(format!("where[{i}].field is empty; expected a log column"));
        }
    }
    if let Some(i) = against.always_large.iter().position(|o| o.field.is_empty()) {
        return Err(format!(
            "always_large[{i}].field is empty; expected a log column"
        ));
    }
    if let Some(t) = against.small_timeout_ms.filter(|t| *t <= 0.0) {
        return Err(format!(
            "small_timeout_ms is {t}; expected a positive number of milliseconds"
        ));
    }
    segments(against)
}

/// The per-segment rules: each keyed by exactly the `segment_by` columns, once, with an action
/// routing can apply.
fn segments(against: &Against) -> Result<(), String> {
    let mut columns: Vec<&String> = against.segment_by.iter().collect();
    columns.sort();
    if !against.segments.is_empty() && columns.is_empty() {
        return Err(
            "segments are listed but segment_by is empty; expected the columns \
                    that select them"
                .into(),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, segment) in against.segments.iter().enumerate() {
        let matched: Vec<&String> = segment.matches.keys().collect();
        if matched != columns {
            return Err(format!(
                "segments[{i}].match names the columns {matched:?}; expected those of \
                 segment_by, {columns:?}"
            ));
        }
        if !seen.insert(&segment.matches) {
            return Err(format!(
                "segments[{i}].match repeats an earlier segment's values"
            ));
        }
        match (segment.action.as_str(), segment.threshold) {
            ("threshold", Some(_)) | ("always_large", _) => {}
            ("threshold", None) => {
                return Err(format!(
                    "segments[{i}].threshold is missing; its action is \"threshold\""
                ));
            }
            (action, _) => {
                return Err(format!(
                    "segments[{i}].action is {action:?}; expected \"threshold\" or \
                     \"always_large\""
                ));
            }
        }
    }
    Ok(())
}

/// `Err`: what is wrong, naming the part of the reference, e.g.
/// `reference.segments[2] (task_type=chat): counts has 3 entries; expected 21 ...`.
pub fn check(reference: &Reference) -> Result<(), String> {
    let cost = &reference.cost;
    let costs = [
        ("small", Some(cost.small)),
        ("large", Some(cost.large)),
        ("baseline", cost.baseline),
    ];
    for (model, value) in costs {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!(
                "reference.cost.{model} is {v}; expected a cost per request of at least 0"
            ));
        }
    }
    if let Some(t) = reference.target.filter(|t| !(0.0..=1.0).contains(t)) {
        return Err(format!(
            "reference.target is {t}; expected a quality between 0 and 1"
        ));
    }
    distribution(&reference.overall).map_err(|why| format!("reference.overall: {why}"))?;
    let mut columns: Vec<&String> = reference.segment_by.iter().collect();
    columns.sort();
    for (i, segment) in reference.segments.iter().enumerate() {
        let values: Vec<String> = (segment.matches.iter())
            .map(|(c, v)| format!("{c}={v}"))
            .collect();
        let name = format!("reference.segments[{i}] ({})", values.join(", "));
        let matched: Vec<&String> = segment.matches.keys().collect();
        if matched != columns {
            return Err(format!(
                "{name}: matches the columns {matched:?}; expected those of segment_by, \
                 {columns:?}"
            ));
        }
        distribution(&segment.distribution).map_err(|why| format!("{name}: {why}"))?;
    }
    Ok(())
}

/// One distribution's shape and ranges.
fn distribution(d: &Distribution) -> Result<(), String> {
    ascending("edges", &d.edges)?;
    ascending("deciles", &d.deciles)?;
    let bins = d.edges.len() - 1;
    if d.counts.len() != bins {
        return Err(format!(
            "counts has {}; expected {bins}, one per bin between the {} edges",
            entries(d.counts.len()),
            d.edges.len()
        ));
    }
    qualities("small_quality", &d.small_quality, bins)?;
    if let Some(large) = &d.large_quality {
        qualities("large_quality", large, bins)?;
    }
    let total = (d.counts.iter()).try_fold(0u64, |sum, &c| sum.checked_add(c));
    if total != Some(d.records) {
        let total = total.map_or_else(|| "more than 2^64".to_string(), |t| t.to_string());
        return Err(format!(
            "counts add up to {total}; expected records, {}",
            d.records
        ));
    }
    if d.escalated > d.records {
        return Err(format!(
            "escalated is {}; expected at most records, {}",
            d.escalated, d.records
        ));
    }
    if !(d.sd.is_finite() && d.sd >= 0.0) {
        return Err(format!(
            "sd is {}; expected a standard deviation of at least 0",
            d.sd
        ));
    }
    Ok(())
}

/// At least two finite values, each at least the one before.
fn ascending(name: &str, values: &[f64]) -> Result<(), String> {
    if values.len() < 2 {
        return Err(format!(
            "{name} has {}; expected at least 2",
            entries(values.len())
        ));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!("{name}[{i}] is {}; expected a number", values[i]));
    }
    if let Some(i) = values.windows(2).position(|w| w[1] < w[0]) {
        return Err(format!(
            "{name}[{}] is {}, below {name}[{i}] ({}); expected ascending values",
            i + 1,
            values[i + 1],
            values[i]
        ));
    }
    Ok(())
}

/// One mean quality (or `null` for an empty bin) per bin, each between 0 and 1.
fn qualities(name: &str, values: &[Option<f64>], bins: usize) -> Result<(), String> {
    if values.len() != bins {
        return Err(format!(
            "{name} has {}; expected {bins}, one per bin",
            entries(values.len())
        ));
    }
    let out = |q: &f64| !(0.0..=1.0).contains(q);
    match values.iter().position(|q| q.as_ref().is_some_and(out)) {
        Some(i) => Err(format!(
            "{name}[{i}] is {}; expected a mean quality between 0 and 1, or null",
            values[i].unwrap_or_default()
        )),
        None => Ok(()),
    }
}

/// `1 entry`, `3 entries`.
fn entries(n: usize) -> String {
    match n {
        1 => "1 entry".into(),
        n => format!("{n} entries"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference written by `policy::reference` for five records 0.1..0.5 at threshold 0.35
    /// (the bins worked by hand in that module's test).
    fn written() -> Reference {
        serde_json::from_value(serde_json::json!({
            "scale": "s",
            "cost": {"small": 1.0, "large": 10.0},
            "overridden": 0,
            "overall": {
                "records": 5, "threshold": 0.35, "escalated": 3, "sd": 0.1414,
                "edges": [0.1, 0.2, 0.3, 0.35, 0.4, 0.5],
                "deciles": [0.1, 0.2, 0.3, 0.4, 0.5],
                "counts": [1, 1, 1, 0, 2],
                "small_quality": [0.0, 0.0, 1.0, null, 1.0]
            },
            "segment_by": ["task"],
            "segments": [{
                "match": {"task": "chat"},
                "records": 0, "threshold": null, "escalated": 0, "sd": 0.0,
                "edges": [0.0, 1.0], "deciles": [0.0, 1.0], "counts": [0],
                "small_quality": [null]
            }]
        }))
        .unwrap()
    }

    /// A policy segmented by `task` (without its reference, which `policy` does not read).
    fn segmented() -> Against {
        serde_json::from_value(serde_json::json!({
            "signal": {"name": "confidence"},
            "objective": {"kind": "min_quality", "value": 0.9},
            "default_threshold": 0.5,
            "segment_by": ["task"],
            "segments": [
                {"match": {"task": "chat"}, "action": "threshold", "threshold": 0.4},
                {"match": {"task": "legal"}, "action": "always_large"}
            ],
            "where": [{"field": "tier", "op": "!=", "value": "free"}],
            "always_large": [{"field": "vip", "value": "true"}],
            "reference": null
        }))
        .unwrap()
    }

    #[test]
    fn a_written_policy_passes_and_each_fault_is_named() {
        assert_eq!(policy(&segmented()), Ok(()));
        let fails = |edit: &dyn Fn(&mut Against)| {
            let mut a = segmented();
            edit(&mut a);
            policy(&a).unwrap_err()
        };
        assert_eq!(
            fails(&|a| a.scope[0].op = "ne".into()),
            "where[0].op is \"ne\"; expected \"=\" or \"!=\""
        );
        assert_eq!(
            fails(&|a| a.objective.kind = "best".into()),
            "objective.kind is \"best\"; expected one of min_quality, max_escalation, \
             max_quality_loss, min_cascade_quality, budget, quality_times_savings"
        );
        assert_eq!(
            fails(&|a| a.objective.value = Some(1.5)),
            "objective.value is 1.5; expected 0 to 1"
        );
        assert_eq!(
            fails(&|a| a.segments[0].action = "skip".into()),
            "segments[0].action is \"skip\"; expected \"threshold\" or \"always_large\""
        );
        assert_eq!(
            fails(&|a| a.segments[0].threshold = None),
            "segments[0].threshold is missing; its action is \"threshold\""
        );
        assert_eq!(
            fails(&|a| a.segments[1].matches = a.segments[0].matches.clone()),
            "segments[1].match repeats an earlier segment's values"
        );
        assert_eq!(
            fails(&|a| a.segments[0].matches.clear()),
            "segments[0].match names the columns []; expected those of segment_by, [\"task\"]"
        );
        assert_eq!(
            fails(&|a| a.segment_by.clear()),
            "segments are listed but segment_by is empty; expected the columns that select them"
        );
        assert_eq!(
            fails(&|a| a.always_large[0].field.clear()),
            "always_large[0].field is empty; expected a log column"
        );
        assert_eq!(
            fails(&|a| {
                a.signal.recalibration = serde_json::from_value(serde_json::json!(
                    {"method": "isotonic", "points": [[0.1, 0.2], [0.5, 1.5]]}
                ))
                .unwrap()
            }),
            "signal.recalibration.points[1] maps to 1.5; expected a probability, 0 to 1"
        );
        assert_eq!(
            fails(&|a| a.small_timeout_ms = Some(0.0)),
            "small_timeout_ms is 0; expected a positive number of milliseconds"
        );
    }

    #[test]
    fn a_written_reference_passes_and_each_fault_is_named() {
        assert_eq!(check(&written()), Ok(()));
        let fails = |edit: &dyn Fn(&mut Reference)| {
            let mut r = written();
            edit(&mut r);
            check(&r).unwrap_err()
        };
        assert_eq!(
            fails(&|r| r.overall.counts.truncate(3)),
            "reference.overall: counts has 3 entries; expected 5, one per bin between the 6 edges"
        );
        assert_eq!(
            fails(&|r| r.overall.edges.swap(0, 1)),
            "reference.overall: edges[1] is 0.1, below edges[0] (0.2); expected ascending values"
        );
        assert_eq!(
            fails(&|r| r.overall.deciles.clear()),
            "reference.overall: deciles has 0 entries; expected at least 2"
        );
        assert_eq!(
            fails(&|r| r.overall.small_quality.pop().map(drop).unwrap_or(())),
            "reference.overall: small_quality has 4 entries; expected 5, one per bin"
        );
        assert_eq!(
            fails(&|r| r.overall.small_quality[0] = Some(1.5)),
            "reference.overall: small_quality[0] is 1.5; expected a mean quality between 0 and \
             1, or null"
        );
        assert_eq!(
            fails(&|r| r.overall.records = 6),
            "reference.overall: counts add up to 5; expected records, 6"
        );
        assert_eq!(
            fails(&|r| r.overall.escalated = 9),
            "reference.overall: escalated is 9; expected at most records, 5"
        );
        assert_eq!(
            fails(&|r| r.segments[0].distribution.edges = vec![0.5]),
            "reference.segments[0] (task=chat): edges has 1 entry; expected at least 2"
        );
        assert_eq!(
            fails(&|r| r.segment_by = vec!["tier".into()]),
            "reference.segments[0] (task=chat): matches the columns [\"task\"]; expected those \
             of segment_by, [\"tier\"]"
        );
        assert_eq!(
            fails(&|r| r.cost.large = -1.0),
            "reference.cost.large is -1; expected a cost per request of at least 0"
        );
        assert_eq!(
            fails(&|r| r.target = Some(2.0)),
            "reference.target is 2; expected a quality between 0 and 1"
        );
    }
}
