//! The files and text of a chain report (multi-model input): `chains.csv`, `summary.json`,
//! `report.md`, the chain frontier and funnel plots, the stdout summary, and the policy with
//! its `stages` in every `recommend --print` format.
//!
//! Formatting only; every number comes from the [`ChainReport`].

mod csv;
mod json;
mod markdown;
mod text;

use anyhow::Result;

use crate::report::chains::ChainReport;

pub use text::{chain_decision_text, chain_summary_text};

/// Every file of a chain report directory: (file name, bytes), in a fixed order.
pub fn chain_files(report: &ChainReport) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut files = vec![
        ("chains.csv", csv::chains_csv(report)?),
        ("summary.json", json::summary_json(report)?),
        ("report.md", markdown::report_md(report).into_bytes()),
    ];
    let frontier = super::plots::chains::ChainFrontier(report);
    files.push(("chain_frontier.svg", super::plots::svg(&frontier)?));
    files.push(("chain_frontier.png", super::plots::png(&frontier)?));
    if report.pick.is_some() {
        let funnel = super::plots::chains::StageFunnel(report);
        files.push(("chain_funnel.svg", super::plots::svg(&funnel)?));
        files.push(("chain_funnel.png", super::plots::png(&funnel)?));
    }
    Ok(files)
}
