//! Tests of every renderer on reports computed in memory: tiny hand-written eval sets run
//! through the pure core (`report::sweep_report`, `decision`, `signals_report`), then rendered.
//!
//! Text outputs are compared byte for byte with the snapshots in `snapshots/` (a change to a
//! report's wording or rounding shows up there as a diff to review). Plots are checked by
//! structure and by rendering twice, not by snapshot: their bytes depend on the font rasteriser.

mod fixtures;
mod markdown;
mod pixels;
mod plots;

use fixtures::{infeasible, policy_decision, policy_report, signals, tiny_decision, tiny_report};

use super::{PolicyFormat, decision_text, exporters, signals_files, signals_text, summary_text};
use super::{policy::policy_text, what_if_csv, what_if_text};
use crate::engine::economics::WhatIf;
use crate::input::prices::{Price, PriceNames};
use crate::report::Report;

/// The file `name` of the report directory, as text.
fn file(report: &Report, name: &str) -> String {
    let exporter = exporters(report)
        .into_iter()
        .find(|e| e.file_name() == name)
        .unwrap_or_else(|| panic!("the report has no {name}"));
    String::from_utf8(exporter.render(report).unwrap()).unwrap()
}

/// Issue 16: the chain report's text files and the policy with its stages in every format.
#[test]
fn chain_report_files() {
    use super::chains::{chain_decision_text, chain_files, chain_summary_text};
    let r = fixtures::chain_report(crate::engine::objective::Objective::MinQuality { target: 1.0 });
    let files = chain_files(&r).unwrap();
    let text = |name: &str| {
        let (_, bytes) = files.iter().find(|(n, _)| *n == name).unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    insta::assert_snapshot!("chain_chains_csv", text("chains.csv"));
    insta::assert_snapshot!("chain_summary_json", text("summary.json"));
    insta::assert_snapshot!("chain_report_md", text("report.md"));
    insta::assert_snapshot!("chain_summary_text", chain_summary_text(&r));
    let mut printed = String::new();
    for format in [
        PolicyFormat::Text,
        PolicyFormat::Json,
        PolicyFormat::Yaml,
        PolicyFormat::Toml,
        PolicyFormat::Env,
    ] {
        let out = chain_decision_text(&r, format).unwrap().unwrap();
        printed.push_str(&format!("--print {format:?}\n{out}\n"));
    }
    insta::assert_snapshot!("chain_recommend", printed);
    let none =
        fixtures::chain_report(crate::engine::objective::Objective::Budget { max_cost: 0.5 });
    assert_eq!(
        chain_decision_text(&none, PolicyFormat::Text).unwrap(),
        Err(
            "no chain of the 7 considered meets the objective (best quality with cost per \
             request <= 0.5)"
                .into()
        )
    );
}

#[test]
fn tiny_report_files() {
    let r = tiny_report();
    insta::assert_snapshot!("tiny_sweep_csv", file(&r, "sweep.csv"));
    insta::assert_snapshot!("tiny_summary_json", file(&r, "summary.json"));
    insta::assert_snapshot!("tiny_report_md", file(&r, "report.md"));
    insta::assert_snapshot!("tiny_summary_text", summary_text(&r));
    assert!(
        exporters(&r)
            .iter()
            .all(|e| e.file_name() != "segments.csv")
    );
}

#[test]
fn summary_json_opens_with_its_schema_version() {
    let json = file(&tiny_report(), "summary.json");
    assert!(json.starts_with("{\n  \"schema_version\": 1,\n"), "{json}");
}

#[test]
fn policy_report_files() {
    let r = policy_report();
    insta::assert_snapshot!("policy_sweep_csv", file(&r, "sweep.csv"));
    insta::assert_snapshot!("policy_segments_csv", file(&r, "segments.csv"));
    insta::assert_snapshot!("policy_summary_json", file(&r, "summary.json"));
    insta::assert_snapshot!("policy_report_md", file(&r, "report.md"));
    insta::assert_snapshot!("policy_summary_text", summary_text(&r));
}

#[test]
fn infeasible_report_files() {
    let r = infeasible();
    assert!(r.recommendation.is_err());
    insta::assert_snapshot!("infeasible_summary_json", file(&r, "summary.json"));
    insta::assert_snapshot!("infeasible_report_md", file(&r, "report.md"));
    insta::assert_snapshot!("infeasible_summary_text", summary_text(&r));
}

#[test]
fn certified_report_states_the_guarantee() {
    let r = fixtures::certified();
    assert!(matches!(r.certification, Some(Ok(_))));
    insta::assert_snapshot!("certified_report_md", file(&r, "report.md"));
    insta::assert_snapshot!("certified_summary_json", file(&r, "summary.json"));
    insta::assert_snapshot!("certified_summary_text", summary_text(&r));
}

/// Every `recommend --print` format of a decision, one after the other.
fn every_print(
    d: &crate::report::Decision,
    objective: crate::engine::objective::Objective,
) -> String {
    let mut out = String::new();
    for format in [
        PolicyFormat::Text,
        PolicyFormat::Json,
        PolicyFormat::Yaml,
        PolicyFormat::Toml,
        PolicyFormat::Env,
    ] {
        let printed = match decision_text(d, objective, format).unwrap() {
            Ok(stdout) => format!("stdout:\n{stdout}"),
            Err(stderr) => format!("stderr:\n{stderr}\n"),
        };
        out.push_str(&format!("--print {format:?}\n{printed}\n"));
    }
    out
}

#[test]
fn recommend_prints() {
    let (d, objective) = tiny_decision();
    insta::assert_snapshot!("tiny_recommend", every_print(&d, objective));
    let (d, objective) = policy_decision();
    insta::assert_snapshot!("policy_recommend", every_print(&d, objective));
    let (d, objective) = fixtures::infeasible_decision();
    insta::assert_snapshot!("infeasible_recommend", every_print(&d, objective));
}

#[test]
fn policy_document_in_every_format() {
    let (d, _) = policy_decision();
    let policy = d
        .policy
        .expect("the per-segment policy meets the objective");
    let mut out = String::new();
    for format in [
        PolicyFormat::Text,
        PolicyFormat::Json,
        PolicyFormat::Yaml,
        PolicyFormat::Toml,
        PolicyFormat::Env,
    ] {
        let text = policy_text(&policy, format).unwrap();
        out.push_str(&format!("--- {format:?}\n{text}"));
    }
    insta::assert_snapshot!("policy_text", out);
}

#[test]
fn what_if_table() {
    let w = WhatIf {
        requests: 1_000_000.0,
        input_tokens: 500.0,
        output_tokens: 200.0,
        small: Price {
            input: 0.15,
            output: 0.6,
        },
        large: Price {
            input: 2.5,
            output: 10.0,
        },
        baseline: Some(Price {
            input: 1.0,
            output: 4.0,
        }),
    };
    let names = PriceNames {
        small: "gpt-4o-mini".into(),
        large: "gpt-4o".into(),
        baseline: Some("1:4".into()),
    };
    let rows = w.rows(&[0.0, 0.1, 0.25, 0.5, 1.0]);
    let summary = w.summary();
    insta::assert_snapshot!("what_if_text", what_if_text(&w, &names, &rows, &summary));
    let csv = String::from_utf8(what_if_csv(&rows).unwrap()).unwrap();
    insta::assert_snapshot!("what_if_csv", csv);
}

#[test]
fn signals_report_files() {
    let r = signals();
    let files = signals_files(&r).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "signals.csv",
            "signals.json",
            "signals.md",
            "risk_coverage.svg",
            "risk_coverage.png",
            "signal_reliability.svg",
            "signal_reliability.png"
        ]
    );
    let text = |name: &str| {
        let (_, bytes) = files.iter().find(|(n, _)| *n == name).unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    insta::assert_snapshot!("signals_csv", text("signals.csv"));
    insta::assert_snapshot!("signals_json", text("signals.json"));
    insta::assert_snapshot!("signals_md", text("signals.md"));
    insta::assert_snapshot!("signals_text", signals_text(&r));
}
