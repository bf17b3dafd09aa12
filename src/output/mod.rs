//! Output: one renderer per format, each turning the [`Report`] into bytes, and the writer
//! that owns the report directory.
//!
//! Renderers only format; they never compute a number (everything comes from `report`).
//! `writer.rs` owns the output directory and writes it atomically.

mod aggregate;
mod aggregate_report;
mod chain_aggregate;
mod chains;
mod csv;
mod format;
mod json;
mod markdown;
mod monitor;
mod plots;
mod policy;
pub mod progress;
mod signals;
pub mod sql;
pub mod stderr;
#[cfg(test)]
mod tests;
mod text;
mod ties;
mod warnings;
mod what_if;
mod writer;

use anyhow::Result;

use crate::report::Report;

pub use aggregate::aggregate_parquet;
pub use aggregate_report::{aggregate_files, aggregate_summary_text};
pub use chain_aggregate::chain_aggregate_parquet;
pub use chains::{chain_decision_text, chain_files, chain_summary_text};
pub use monitor::{monitor_files, monitor_text};
pub use policy::{PolicyFormat, decision_text};
pub use signals::{signals_files, signals_text, signals_warnings};
pub use text::{cross_fit_lines, filtered_line, held_out_line, summary_text};
pub use ties::split_line;
pub use warnings::warnings_text;
pub use what_if::{what_if_csv, what_if_text};
pub use writer::{OutputDir, write_file_atomically};

/// Turns a report into the bytes of one file.
pub trait Exporter {
    /// The file name inside the report directory.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    fn render(&self, report: &Report) -> Result<Vec<u8>>;
}

/// Every file of the report directory for this report (plots that do not apply are left out).
pub fn exporters(report: &Report) -> Vec<Box<dyn Exporter + Send + Sync>> {
    let mut out: Vec<Box<dyn Exporter + Send + Sync>> = vec![
        Box::new(csv::SweepCsv),
        Box::new(json::SummaryJson),
        Box::new(markdown::Markdown),
    ];
    if report.deployment.plan.is_some() {
        out.push(Box::new(csv::SegmentsCsv));
    }
    for plot in plots::Plot::ALL.into_iter().filter(|p| p.applies(report)) {
        out.push(Box::new(plots::Svg(plot)));
        out.push(Box::new(plots::Png(plot)));
    }
    out
}

/// Renders every file, in parallel: (file name, bytes), in a fixed order.
pub fn render_all(report: &Report) -> Result<Vec<(&'static str, Vec<u8>)>> {
    use rayon::prelude::*;
    exporters(report)
        .par_iter()
        .map(|e| Ok((e.file_name(), e.render(report)?)))
        .collect()
}
