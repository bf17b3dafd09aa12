//! The confidence plot: histograms of the small model's confidence on right and on wrong
//! answers, with the recommended threshold.
//!
//! Drawing only; the histogram comes from the report's findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{FONT, GREEN, PURPLE, RED, count, err, legend};
use crate::report::Report;

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let h = &r.findings.histogram;
    let (x0, x1) = (h.edges[0], h.edges[h.edges.len() - 1]);
    let top = h
        .right
        .iter()
        .chain(&h.wrong)
        .fold(1.0, |a: f64, b| a.max(*b))
        * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Confidence of right and wrong small-model answers",
            (FONT, 24),
        )
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("small-model confidence")
        .y_desc("records")
        .y_label_formatter(&count)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    let bars = |counts: &[f64], color: RGBColor| {
        counts
            .iter()
            .enumerate()
            .map(move |(i, &c)| {
                Rectangle::new(
                    [(h.edges[i], 0.0), (h.edges[i + 1], c)],
                    color.mix(0.45).filled(),
                )
            })
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(bars(&h.right, GREEN))
        .map_err(err)?
        .label("right answers")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], GREEN.mix(0.45).filled()));
    chart
        .draw_series(bars(&h.wrong, RED))
        .map_err(err)?
        .label("wrong answers")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], RED.mix(0.45).filled()));
    if let Ok(m) = &r.recommendation {
        let x = m.threshold.clamp(x0, x1);
        chart
            .draw_series(LineSeries::new(
                vec![(x, 0.0), (x, top)],
                PURPLE.stroke_width(3),
            ))
            .map_err(err)?
            .label(format!(
                "recommended threshold {} (escalate left of it)",
                m.threshold
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], PURPLE.stroke_width(3)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
    Ok(())
}
