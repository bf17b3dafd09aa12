//! The reliability diagram: observed small-model quality per signal bin against the diagonal
//! of perfect calibration. With `--recalibrate`, the cross-fitted values (each record scored
//! by a map fitted without it), the same ones the ECE in the report measures: the in-sample
//! map sits on the diagonal by construction and would hide it.
//!
//! Drawing only; the bins come from the report.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::confidence::signal_words;
use super::style::{
    BLUE, Entry, FONT, GREY, Mark, err, frame_box, legend_strip, reliability_frame,
    with_legend_strip,
};
use crate::report::Report;

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let cross_fitted = r
        .recalibration
        .as_ref()
        .and_then(|c| c.reliability.as_deref());
    let bins = cross_fitted
        .or(r.findings.reliability.as_deref())
        .unwrap_or_default();
    let observed = match cross_fitted {
        Some(_) => "observed, cross-fitted (label: records in bin)",
        None => "observed (label: records in bin)",
    };
    let keys = [
        Entry::new("perfectly calibrated", Mark::Dashed(GREY)),
        Entry::new(observed, Mark::Line(BLUE, 3)),
    ];
    let (area, strip) = with_legend_strip(root, &keys);
    let mut chart = reliability_frame(
        &area,
        "Reliability: observed quality against the signal",
        &format!("{} (bins of 0.1)", signal_words(r)),
        1.08,
    )?;
    let points: Vec<(f64, f64)> = bins
        .iter()
        .map(|b| (b.mean_score, b.mean_quality))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(3)))
        .map_err(err)?;
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, 5, BLUE.filled())))
        .map_err(err)?;
    // Counts beside their marker, below it when the marker is high (so no label meets the
    // frame), and left of it near the right edge.
    chart
        .draw_series(bins.iter().map(|b| {
            let dy = if b.mean_quality > 0.9 { 10 } else { -22 };
            let dx = if b.mean_score > 0.85 { -46 } else { 8 };
            EmptyElement::at((b.mean_score, b.mean_quality))
                + Text::new(
                    format!("{}", b.count),
                    (dx, dy),
                    (FONT, 14).into_font().color(&BLACK),
                )
        }))
        .map_err(err)?;
    frame_box(&chart)?;
    legend_strip(&strip, &keys, 86)
}
