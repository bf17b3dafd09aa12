//! The policy as `recommend --print text|yaml|toml|env` prints it.
//!
//! Owns those encodings (JSON is serde's, in `json/recommendation.rs`). It must not compute;
//! every number comes from the [`Policy`].

use std::fmt::Write;

use anyhow::Result;
use serde_json::Value;

use super::json::recommendation_json;
use crate::engine::objective::Objective;
use crate::policy::document::Policy;
use crate::report::Decision;

/// How `recommend` prints the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFormat {
    /// The threshold alone, one line (a table when segments or safeguards are in play).
    Text,
    /// The whole policy as one JSON object, with what calibration measured.
    Json,
    /// YAML.
    Yaml,
    /// TOML.
    Toml,
    /// Shell variables (KEY=VALUE lines).
    Env,
}

/// What `recommend` prints: `Ok(stdout text)`, or `Err(why)` when no policy meets the objective
/// (the reason goes to stderr; JSON prints either way). One global threshold prints bare;
/// "escalate everything" prints `always_large`, as the policy says (a number just above every
/// confidence would accept a future request more confident than any in the eval set).
pub fn decision_text(
    d: &Decision,
    objective: Objective,
    format: PolicyFormat,
) -> Result<Result<String, String>> {
    Ok(Ok(match (&d.policy, format) {
        (_, PolicyFormat::Json) => recommendation_json(d, objective)? + "\n",
        (Some(policy), PolicyFormat::Text) if policy.is_bare() && d.recommendation.is_ok() => {
            match (policy.default_threshold, &d.recommendation) {
                (Some(_), Ok(m)) => format!("{}\n", m.threshold),
                _ => "always_large\n".into(),
            }
        }
        (Some(policy), format) => policy_text(policy, format)?,
        (None, _) => {
            return Ok(Err(match &d.recommendation {
                Err(why) => why.to_string(),
                Ok(_) => "no policy meets the objective".into(),
            }));
        }
    }))
}

/// The policy in `format` (not JSON, which carries the recommendation too).
pub fn policy_text(policy: &Policy, format: PolicyFormat) -> Result<String> {
    // The monitoring reference travels in JSON only (TOML has no null for an empty bin).
    let policy = &Policy {
        reference: None,
        ..policy.clone()
    };
    let value = serde_json::to_value(policy)?;
    Ok(match format {
        PolicyFormat::Text => text(policy),
        PolicyFormat::Yaml => {
            let mut out = String::new();
            yaml(&value, 0, &mut out);
            out
        }
        PolicyFormat::Toml => toml::to_string(policy)?,
        PolicyFormat::Env => env_text(&value)?,
        PolicyFormat::Json => serde_json::to_string(policy)? + "\n",
    })
}

/// One rule per line: `match<TAB>threshold`, with `<TAB>raw<TAB>raw_threshold` after a
/// recalibrated threshold (the caller prints a bare number for a bare policy). Column names and
/// values are [`escaped`], so a label holding a tab, a newline, `,` or `=` stays on its line
/// and in its field.
fn text(p: &Policy) -> String {
    let recalibrated = p.signal.recalibration.is_some();
    let threshold = |t: Option<f64>, raw: Option<f64>| match (t, raw) {
        (None, _) => "always_large".to_string(),
        (Some(t), Some(raw)) if recalibrated => format!("{t}\traw\t{raw}"),
        (Some(t), _) => t.to_string(),
    };
    let mut out = String::new();
    for o in &p.always_large {
        let _ = writeln!(
            out,
            "always_large\t{}={}",
            escaped(&o.field),
            escaped(&o.value)
        );
    }
    if p.escalate_refusals {
        let _ = writeln!(out, "always_large\trefusals");
    }
    for s in &p.segments {
        let key: Vec<String> = (s.matches.iter())
            .map(|(k, v)| format!("{}={}", escaped(k), escaped(v)))
            .collect();
        let _ = writeln!(
            out,
            "{}\t{}",
            key.join(","),
            threshold(s.threshold, s.raw_threshold)
        );
    }
    if let Some(t) = &p.tie_split {
        let _ = writeln!(
            out,
            "tie_split\t{}\tkeep\t{}\tseed\t{}",
            t.signal, t.keep_fraction, t.seed
        );
    }
    let _ = writeln!(
        out,
        "default\t{}",
        threshold(p.default_threshold, p.default_raw_threshold)
    );
    out
}

/// A name or value for the text form: `\\`, `\t`, `\n`, `\r`, `\,` and `\=` for a backslash,
/// tab, newline, carriage return, comma and equals sign, `\u{..}` for other control characters.
pub(crate) fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ',' => out.push_str("\\,"),
            '=' => out.push_str("\\="),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Block-style YAML; strings are double-quoted JSON strings (valid YAML scalars).
pub(super) fn yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                // Keys as JSON strings: `no`, `on` or `a: b` stay text.
                let k = Value::String(k.clone());
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        yaml(v, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(v));
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // The first key shares the dash's line.
                        let mut inner = String::new();
                        yaml(item, indent + 2, &mut inner);
                        let rest = inner
                            .strip_prefix(&" ".repeat(indent + 2))
                            .unwrap_or(&inner);
                        let _ = write!(out, "{pad}- {rest}");
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}- {}", scalar(item));
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", scalar(item));
                    }
                }
            }
        }
        _ => {
            let _ = writeln!(out, "{pad}{}", scalar(value));
        }
    }
}

/// A value on one line: JSON flow syntax is valid YAML, except that YAML 1.1 readers take
/// `1e-6` for text, so exponents get a decimal point (`1.0e-6`).
fn scalar(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => {
            let t = n.to_string();
            match t.find(['e', 'E']) {
                Some(i) if !t[..i].contains('.') => format!("{}.0{}", &t[..i], &t[i..]),
                _ => t,
            }
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(scalar).collect();
            format!("[{}]", inner.join(","))
        }
        _ => v.to_string(),
    }
}

/// The `--print env` lines; refused when two keys map to one variable (`user-tier` and
/// `user_tier` are both `..._USER_TIER`), since one of them would be lost.
pub(super) fn env_text(value: &Value) -> Result<String> {
    let mut vars = Vec::new();
    env("CALIBRATE", "", value, &mut vars);
    let mut seen: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (name, key, _) in &vars {
        if let Some(first) = seen.insert(name, key) {
            anyhow::bail!(
                "--print env: {first} and {key} both become the shell variable {name}; one would \
                 be lost. Use --print json, yaml or toml (or rename a column)"
            );
        }
    }
    let mut out = String::new();
    for (name, _, value) in &vars {
        let _ = writeln!(out, "{name}={value}");
    }
    Ok(out)
}

/// `(PREFIX_KEY, key path, value)` triples, nested keys joined by `_`, array items by their
/// index; the key path (`segments[0].match."user-tier"`) names the source in errors.
fn env(prefix: &str, path: &str, value: &Value, out: &mut Vec<(String, String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                // Shell names: letters, digits and `_` only (`user-tier` → `USER_TIER`).
                let name: String = k
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_uppercase()
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let plain = k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let k_text = if plain {
                    k.clone()
                } else {
                    Value::String(k.clone()).to_string()
                };
                let key = match path {
                    "" => k_text,
                    _ => format!("{path}.{k_text}"),
                };
                env(&format!("{prefix}_{name}"), &key, v, out);
            }
        }
        Value::Array(items) => {
            let count = format!("{path} (its length)");
            out.push((format!("{prefix}_COUNT"), count, items.len().to_string()));
            for (i, v) in items.iter().enumerate() {
                env(&format!("{prefix}_{i}"), &format!("{path}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.into(), path.into(), shell_quote(s))),
        other => out.push((prefix.into(), path.into(), other.to_string())),
    }
}

/// Single-quoted for POSIX shells (`'` written as `'\''`).
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::document::{
        AlwaysLargePolicy, Measured, ObjectivePolicy, RULE, SegmentPolicy,
    };
    use crate::signals::spec::SignalSpec;

    fn policy() -> Policy {
        Policy {
            tool: "calibrate",
            version: "0.1.0",
            input_sha256: "ab".into(),
            scope: Vec::new(),
            rule: RULE,
            signal: SignalSpec {
                name: "confidence".into(),
                formula: None,
                recalibration: None,
            },
            objective: ObjectivePolicy {
                kind: "min_quality",
                value: Some(0.9),
            },
            default_threshold: Some(0.5),
            default_raw_threshold: None,
            tie_split: None,
            guarantee: None,
            segment_by: vec!["task_type".into()],
            segments: vec![SegmentPolicy {
                matches: [("task_type".to_string(), "legal".to_string())].into(),
                action: "always_large",
                threshold: None,
                raw_threshold: None,
                reason: "it's hard".into(),
                records: 3,
            }],
            always_large: vec![AlwaysLargePolicy {
                field: "tier".into(),
                value: "enterprise".into(),
            }],
            escalate_refusals: false,
            small_timeout_ms: None,
            measured: Measured {
                records: 10,
                escalation_rate: 0.25,
                non_escalated_quality: Some(0.95),
                cascade_quality: None,
                cost_per_request: 2.5,
                savings_vs_large: Some(0.75),
            },
            reference: None,
        }
    }

    #[test]
    fn yaml_parses_back_to_the_json() {
        let p = policy();
        let text = policy_text(&p, PolicyFormat::Yaml).unwrap();
        assert!(
            text.contains(
                "\"segments\":\n  - \"action\": \"always_large\"\n    \"match\":\n      \"task_type\": \"legal\"\n"
            ),
            "{text}"
        );
        // Parsed by a YAML-compatible reader: every line is `key: json` or `- json`, so check
        // the round trip through TOML and JSON instead, and the YAML lines' JSON scalars.
        for line in text.lines() {
            let v = line.trim_start().trim_start_matches("- ");
            if let Some((_, scalar)) = v.split_once(": ") {
                assert!(serde_json::from_str::<Value>(scalar).is_ok(), "{line}");
            }
        }
    }

    #[test]
    fn yaml_quotes_keys_and_marks_exponent_floats() {
        // YAML 1.1 readers load an unquoted `no` key as false and 1e-6 as text.
        let v = serde_json::json!({"no": {"x": 1e-6, "y": [1e-7, 2]}});
        let mut out = String::new();
        yaml(&v, 0, &mut out);
        assert_eq!(
            out,
            "\"no\":\n  \"x\": 1.0e-6\n  \"y\":\n    - 1.0e-7\n    - 2\n"
        );
    }

    #[test]
    fn env_names_are_shell_safe() {
        let v = serde_json::json!({"user-tier x": "p"});
        assert_eq!(env_text(&v).unwrap(), "CALIBRATE_USER_TIER_X='p'\n");
    }

    #[test]
    fn env_refuses_two_columns_that_become_one_variable() {
        // Issue 13, item 9: `user-tier` and `user_tier` would both be ..._USER_TIER.
        let mut p = policy();
        p.segments[0].matches = [("user-tier", "a"), ("user_tier", "b")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let err = policy_text(&p, PolicyFormat::Env).unwrap_err().to_string();
        assert!(
            err.contains(r#"segments[0].match."user-tier" and segments[0].match.user_tier both"#)
                && err.contains("CALIBRATE_SEGMENTS_0_MATCH_USER_TIER"),
            "{err}"
        );
        // A nested key against a flat one: {"a_b": 1} and {"a": {"b": 2}}.
        let v = serde_json::json!({"a": {"b": 2}, "a_b": 1});
        assert!(env_text(&v).is_err());
    }

    #[test]
    fn text_escapes_tabs_newlines_commas_and_equals_in_labels() {
        // Issue 13, item 18: each rule stays one line of two tab-separated fields.
        let mut p = policy();
        p.segments[0].matches = [("task\ttype", "a=b,c\nd\\e\u{7}")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        p.always_large[0].value = "x|y\r".into();
        let text = policy_text(&p, PolicyFormat::Text).unwrap();
        assert_eq!(
            text,
            "always_large\ttier=x|y\\r\n\
             task\\ttype=a\\=b\\,c\\nd\\\\e\\u{7}\talways_large\n\
             default\t0.5\n"
        );
    }

    #[test]
    fn toml_round_trips() {
        let p = policy();
        let text = policy_text(&p, PolicyFormat::Toml).unwrap();
        let back: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(back["default_threshold"].as_float(), Some(0.5));
        assert_eq!(
            back["segments"][0]["match"]["task_type"].as_str(),
            Some("legal")
        );
        assert_eq!(
            back["always_large"][0]["value"].as_str(),
            Some("enterprise")
        );
    }

    #[test]
    fn env_lines() {
        let text = policy_text(&policy(), PolicyFormat::Env).unwrap();
        assert!(text.contains("CALIBRATE_DEFAULT_THRESHOLD=0.5\n"), "{text}");
        assert!(
            text.contains("CALIBRATE_SEGMENTS_0_MATCH_TASK_TYPE='legal'\n"),
            "{text}"
        );
        assert!(
            text.contains("CALIBRATE_SEGMENTS_0_REASON='it'\\''s hard'\n"),
            "{text}"
        );
        assert!(text.contains("CALIBRATE_ALWAYS_LARGE_COUNT=1\n"), "{text}");
    }

    #[test]
    fn text_has_one_rule_per_line() {
        let mut p = policy();
        p.segments.clear();
        p.always_large.clear();
        assert_eq!(
            policy_text(&p, PolicyFormat::Text).unwrap(),
            "default\t0.5\n"
        );
        let full = policy_text(&policy(), PolicyFormat::Text).unwrap();
        assert_eq!(
            full,
            "always_large\ttier=enterprise\ntask_type=legal\talways_large\ndefault\t0.5\n"
        );
    }
}
