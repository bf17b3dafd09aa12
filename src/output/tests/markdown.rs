//! `report.md` read as prose (issue 15): no float printed with more digits than the data
//! supports, on the fixtures and on the committed example reports.

use super::file;
use super::fixtures::{certified, infeasible, policy_report, tiny_report};

/// Numbers in `text` outside code blocks with more than six significant digits
/// (`0.6666666666666666`, `1.0000000000000002`, a 300-digit decimal).
fn unrounded(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Words of digits and dots only: a hash such as `0123456789ab` is not a number.
        let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'));
        let numbers = words.filter(|w| {
            w.chars().any(|c| c.is_ascii_digit())
                && w.chars().all(|c| c.is_ascii_digit() || c == '.')
        });
        for token in numbers {
            let digits: String = token.chars().filter(char::is_ascii_digit).collect();
            let significant = digits.trim_start_matches('0').len();
            if significant > 6 {
                found.push(format!("{token} in: {line}"));
            }
        }
    }
    found
}

#[test]
fn the_checker_finds_float_noise() {
    let bad = "threshold 0.6666666666666666 and 1.0000000000000002; cost 0.0005259";
    assert_eq!(unrounded(bad).len(), 2);
    assert!(unrounded("```json\n0.6666666666666666\n```\n").is_empty());
}

#[test]
fn report_md_prose_has_no_unrounded_float() {
    // The policy fixture recalibrates with isotonic regression: its thresholds are block means
    // such as 2/3, printed in full before issue 15.
    for (name, r) in [
        ("tiny", tiny_report()),
        ("policy", policy_report()),
        ("certified", certified()),
        ("infeasible", infeasible()),
    ] {
        let md = file(&r, "report.md");
        let bad = unrounded(&md);
        assert!(bad.is_empty(), "{name}: {bad:#?}");
    }
}

#[test]
fn committed_example_reports_have_no_unrounded_float() {
    let reports = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let mut read = 0;
    for entry in std::fs::read_dir(&reports).unwrap() {
        let path = entry.unwrap().path().join("report.md");
        if let Ok(md) = std::fs::read_to_string(&path) {
            let bad = unrounded(&md);
            assert!(bad.is_empty(), "{}: {bad:#?}", path.display());
            read += 1;
        }
    }
    assert!(read >= 3, "only {read} committed reports found");
}

#[test]
fn dashboard_is_on_the_first_screen() {
    // Issue 15: the post's cascade health dashboard (funnel, small against large quality,
    // cost per request by path, the threshold suggestion) right under the recommendation.
    // By hand (fixtures.rs): at 0.6 the six most confident records ship, one of them wrong
    // (1 / 6 = 16.7%); of the four escalated the small model had one right (1 / 4 = 25.0%).
    // Small costs 1 and large 20 a request: small only 1, escalated 21, all (6 + 84) / 10 = 9.
    let md = file(&tiny_report(), "report.md");
    let first: String = md.lines().take(25).collect::<Vec<_>>().join("\n");
    for view in [
        "## Cascade health at threshold 0.6",
        "| Escalation funnel | 10 requests: 6 answered by the small model (60.0%), 4 escalated \
         (40.0%); shipped errors 16.7% of the shipped answers; wasted escalations 25.0% of the \
         escalations |",
        "| Cost per request by path | small only 1.000; escalated 21.00; all requests 9.000 \
         (always-large 20.00) |",
        "| Threshold suggestion | threshold 0.6",
    ] {
        assert!(first.contains(view), "no {view:?} in:\n{first}");
    }
}
