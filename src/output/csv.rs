//! `sweep.csv`: one row per threshold of the grid (or every candidate with `--exact`).
//!
//! Formats numbers at full precision (shortest round-trip form); empty cells mean "undefined"
//! (no accepted records, no large labels). `_lo`/`_hi` columns bound each metric at the
//! report's confidence level. A `savings_vs_baseline` column is added with a
//! baseline, and latency columns when the records carry latencies. It must not compute.

use anyhow::Result;

use super::Exporter;
use crate::engine::latency::Latency;
use crate::engine::sweep::Metrics;
use crate::report::Report;
use crate::trust::intervals::RowIntervals;

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
        let table = SweepTable {
            rows: &report.rows,
            intervals: &report.uncertainty.rows,
            baseline: report.settings.baseline.is_some(),
            latency: report.latency.as_deref(),
        };
        table.render()
    }
}

/// What sweep.csv shows, from records or from an aggregate.
pub struct SweepTable<'a> {
    /// The rows.
    pub rows: &'a [Metrics],
    /// Their intervals, row for row.
    pub intervals: &'a [RowIntervals],
    /// Whether a baseline was given (a `savings_vs_baseline` column).
    pub baseline: bool,
    /// Cascade latency per row, when known.
    pub latency: Option<&'a [Latency]>,
}

impl SweepTable<'_> {
    /// The CSV bytes.
    pub fn render(&self) -> Result<Vec<u8>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = COLUMNS.to_vec();
        header.extend(INTERVAL_COLUMNS);
        if self.baseline {
            header.push("savings_vs_baseline");
        }
        if self.latency.is_some() {
            header.extend(LATENCY_COLUMNS);
        }
        w.write_record(&header)?;
        for (i, m) in self.rows.iter().enumerate() {
            let mut row = cells(m).to_vec();
            let u = &self.intervals[i];
            let pair = |x: Option<crate::trust::intervals::Interval>| match x {
                Some(x) => [num(x.lo), num(x.hi)],
                None => [String::new(), String::new()],
            };
            row.extend(pair(Some(u.escalation_rate)));
            row.extend(pair(u.non_escalated_quality));
            row.extend(pair(u.cascade_quality));
            row.extend(pair(u.cost_per_request));
            if self.baseline {
                row.push(opt(m.savings_vs_baseline));
            }
            if let Some(l) = self.latency.and_then(|l| l.get(i)) {
                row.extend([num(l.mean), num(l.p50), num(l.p95), num(l.p99)]);
            }
            w.write_record(&row)?;
        }
        Ok(w.into_inner()?)
    }
}

/// Interval columns, always present (empty where undefined or without a bootstrap).
pub const INTERVAL_COLUMNS: [&str; 8] = [
    "escalation_rate_lo",
    "escalation_rate_hi",
    "non_escalated_quality_lo",
    "non_escalated_quality_hi",
    "cascade_quality_lo",
    "cascade_quality_hi",
    "cost_per_request_lo",
    "cost_per_request_hi",
];

/// Extra columns when the records carry latencies (milliseconds, nearest-rank percentiles).
pub const LATENCY_COLUMNS: [&str; 4] = [
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
];

/// A row's [`COLUMNS`], formatted.
pub(super) fn cells(m: &Metrics) -> [String; 11] {
    [
        num(m.threshold),
        m.accepted.to_string(),
        m.escalated.to_string(),
        num(m.escalation_rate),
        opt(m.non_escalated_quality),
        opt(m.cascade_quality),
        num(m.cost_per_request),
        num(m.wasted_small_cost_per_request),
        opt(m.savings_vs_large),
        opt(m.quality_times_savings),
        m.accepts_none.to_string(),
    ]
}

fn num(x: f64) -> String {
    format!("{x}")
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// `segments.csv` (with `--segment-by`): every segment's metrics at each threshold of the main
/// table, plus one `policy` row per segment with its chosen threshold. A segment name is
/// repeated on every row, so a long one is [`shortened`] (the policy in `summary.json` has it
/// whole).
pub struct SegmentsCsv;

impl Exporter for SegmentsCsv {
    fn file_name(&self) -> &'static str {
        "segments.csv"
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        segments_csv(report.deployment.plan.as_ref())
    }
}

/// `segments.csv` of a per-segment plan (the header alone without one), from the records or
/// from an aggregate's cells alike.
pub fn segments_csv(plan: Option<&crate::policy::segments::Plan>) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["segment", "row", "records"];
    header.extend(COLUMNS);
    w.write_record(&header)?;
    let Some(plan) = plan else {
        return Ok(w.into_inner()?);
    };
    for s in &plan.segments {
        let name = shortened(&s.name);
        let rows = s.rows.iter().map(|m| ("grid", m));
        for (kind, m) in rows.chain(std::iter::once(("policy", &s.chosen))) {
            let mut row = vec![name.to_string(), kind.to_string(), s.records.to_string()];
            row.extend(cells(m));
            w.write_record(&row)?;
        }
    }
    Ok(w.into_inner()?)
}

/// The longest segment name `segments.csv` repeats whole, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// `name`, or for a longer one its first [`MAX_NAME_BYTES`] (cut at a character boundary) and
/// `…[N bytes, sha256 <16 hex digits>]`, so that distinct long names stay distinct (issue 13:
/// a 50 MB label made a 5.3 GB segments.csv).
pub fn shortened(name: &str) -> std::borrow::Cow<'_, str> {
    use sha2::{Digest, Sha256};
    if name.len() <= MAX_NAME_BYTES {
        return name.into();
    }
    let cut = (0..=MAX_NAME_BYTES)
        .rev()
        .find(|&i| name.is_char_boundary(i))
        .unwrap_or(0);
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}…[{} bytes, sha256 {hex}]", &name[..cut], name.len()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_segment_names_are_shortened_and_stay_distinct() {
        assert_eq!(shortened("task_type=code"), "task_type=code");
        let exact = "x".repeat(MAX_NAME_BYTES);
        assert_eq!(shortened(&exact), exact);
        // 199 ASCII bytes then a 2-byte 'é': the cut falls before it, at byte 199.
        let long = format!("{}é{}", "a".repeat(199), "b".repeat(1_000_000));
        let short = shortened(&long);
        assert!(short.starts_with(&format!("{}…[1000201 bytes, sha256 ", "a".repeat(199))));
        // The digest prefix is SHA-256 of the whole name (checked against sha256sum).
        let other = format!("{}é{}c", "a".repeat(199), "b".repeat(999_999));
        assert_eq!(other.len(), long.len());
        assert_ne!(shortened(&other), short);
        assert_eq!(
            shortened(&"z".repeat(201)),
            format!("{}…[201 bytes, sha256 64014b479bc17f01]", "z".repeat(200))
        );
    }
}
