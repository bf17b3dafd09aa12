//! The reliability diagram: observed small-model quality per confidence bin against the
//! diagonal of perfect calibration.
//!
//! Drawing only; the bins come from the report's findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{BLUE, FONT, err, legend, reliability_frame};
use crate::report::Report;

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let bins = r.findings.reliability.as_deref().unwrap_or_default();
    let mut chart = reliability_frame(
        root,
        "Reliability: observed quality against confidence",
        "small-model confidence (bins of 0.1)",
        1.08,
    )?;
    let points: Vec<(f64, f64)> = bins
        .iter()
        .map(|b| (b.mean_score, b.mean_quality))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(3)))
        .map_err(err)?
        .label("observed (label: records in bin)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, 5, BLUE.filled())))
        .map_err(err)?;
    chart
        .draw_series(bins.iter().map(|b| {
            Text::new(
                format!("{}", b.count),
                (b.mean_score, b.mean_quality + 0.03),
                (FONT, 14).into_font().color(&BLACK),
            )
        }))
        .map_err(err)?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
    Ok(())
}
