//! The frontier plot: cascade quality against cost per request at every threshold, with the
//! single-model policies, the oracle and the recommendation.
//!
//! Drawing only; every number comes from the [`Report`] and its findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    BLUE, Chart, FONT, GREEN, GREY, PURPLE, RED, axis, err, frame_box, legend, ticks,
};
use crate::output::format::threshold;
use crate::report::Report;

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let d = &r.findings;
    let b = &r.baselines;
    let points: Vec<(f64, f64)> = d
        .curve
        .iter()
        .filter_map(|m| m.cascade_quality.map(|q| (m.cost_per_request, q)))
        .collect();
    let mut extra = vec![
        (
            b.always_large.cost_per_request,
            b.always_large.quality.unwrap_or(0.0),
        ),
        (
            b.always_small.cost_per_request,
            b.always_small.quality.unwrap_or(0.0),
        ),
    ];
    if let Some(o) = d.oracle {
        extra.push((o.cost_per_request, o.quality));
    }
    let titles = (
        "Quality against cost: every threshold",
        "cascade quality (mean label, 0 to 1)",
    );
    let mut chart = frame(root, points.iter().chain(&extra), titles)?;
    chart
        .draw_series(LineSeries::new(points, BLUE.stroke_width(3)))
        .map_err(err)?
        .label("cascade at each threshold")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    let mut marker = |p: (f64, f64), color: RGBColor, label: String| -> Result<()> {
        chart
            .draw_series([Circle::new(p, 7, color.filled())])
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 12, y), 6, color.filled()));
        Ok(())
    };
    marker(extra[1], GREY, "always-small".into())?;
    marker(extra[0], GREEN, "always-large".into())?;
    if let Some(o) = d.oracle {
        marker(
            (o.cost_per_request, o.quality),
            PURPLE,
            "oracle: each prompt to the cheapest model that gets it right".into(),
        )?;
    }
    if let Ok(m) = &r.recommendation
        && let Some(q) = m.cascade_quality
    {
        marker(
            (m.cost_per_request, q),
            RED,
            format!("recommended: threshold {}", threshold(m.threshold)),
        )?;
    }
    frame_box(&chart)?;
    legend(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
    Ok(())
}

/// Quality-against-cost axes, wide and tall enough for every point, with the caption and the
/// quality axis's description (the chain frontier uses them too).
pub(super) fn frame<'a, 'p, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    all: impl Iterator<Item = &'p (f64, f64)>,
    (caption, quality): (&str, &str),
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let (x1, y0) = all.fold((0.0, 1.0), |(x, y): (f64, f64), p| (x.max(p.0), y.min(p.1)));
    let (xs, x_ticks) = axis(0.0, x1 * 1.05);
    let y0 = (((y0 - 0.02) * 20.0).floor() / 20.0).max(0.0);
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 24))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .margin_right(30)
        .build_cartesian_2d(xs, y0..1.02)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(ticks(x_ticks))
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("cost per request (input's cost unit)")
        .y_desc(quality)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    Ok(chart)
}
