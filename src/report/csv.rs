//! `sweep.csv`: one row per threshold of the grid (or every candidate with `--exact`).
//!
//! Formats numbers at full precision (shortest round-trip form); empty cells mean "undefined"
//! (no accepted records, no large labels). It must not compute.

use anyhow::Result;

use super::{Exporter, Report};

/// The sweep table.
pub struct SweepCsv;

/// Column names, in order.
pub const COLUMNS: [&str; 11] = [
    "threshold",
    "accepted",
    "escalated",
    "escalation_rate",
    "non_escalated_quality",
    "cascade_quality",
    "cost_per_request",
    "wasted_small_cost_per_request",
    "savings_vs_large",
    "objective",
    "accepts_none",
];

impl Exporter for SweepCsv {
    fn file_name(&self) -> &'static str {
        "sweep.csv"
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record(COLUMNS)?;
        for m in &report.rows {
            w.write_record([
                num(m.threshold),
                m.accepted.to_string(),
                m.escalated.to_string(),
                num(m.escalation_rate),
                opt(m.non_escalated_quality),
                opt(m.cascade_quality),
                num(m.cost_per_request),
                num(m.wasted_small_cost_per_request),
                opt(m.savings_vs_large),
                opt(m.objective),
                m.accepts_none.to_string(),
            ])?;
        }
        Ok(w.into_inner()?)
    }
}

fn num(x: f64) -> String {
    format!("{x}")
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}
