//! The cost plot: above, the cascade's cost per request against the threshold beside the
//! single-model policies; below, its savings against always-large.
//!
//! Drawing only; every number comes from the [`Report`].

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    BLUE, Chart, FONT, GREEN, GREY, PURPLE, RED, axis, dashed, err, frame_box, legend, pct_tick,
    ticks,
};
use super::{SIZE, drawn_rows};
use crate::output::format::threshold;
use crate::report::Report;

/// Draws the plot on `root`: the cost panel over the savings panel.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (top, bottom) = root.split_vertically(SIZE.1 * 55 / 100);
    let rows = &r.rows;
    let (span, tickable) = axis(rows[0].threshold, rows[rows.len() - 1].threshold);
    cost_panel(&top, r, (span.start, span.end), tickable)?;
    savings_panel(&bottom, r, (span.start, span.end), tickable)?;
    Ok(())
}

/// The recommended threshold as a vertical line across a panel.
fn recommended<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    r: &Report,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if let Ok(m) = &r.recommendation {
        let x = m.threshold.clamp(x0, x1);
        chart
            .draw_series(LineSeries::new(
                vec![(x, y0), (x, y1)],
                PURPLE.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("recommended threshold {}", threshold(m.threshold)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], PURPLE.stroke_width(2)));
    }
    Ok(())
}

/// Cost per request at each threshold, with always-large (the break-even) and always-small.
fn cost_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Report,
    (x0, x1): (f64, f64),
    tickable: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let rows = &r.rows;
    let b = &r.baselines;
    let top_cost = rows
        .iter()
        .map(|m| m.cost_per_request)
        .fold(b.always_large.cost_per_request, f64::max);
    // Headroom above the dearest line for the legend box.
    let (ys, cost_ticks) = axis(0.0, top_cost * 1.6);
    let mut chart = ChartBuilder::on(area)
        .caption("Cost and savings against threshold", (FONT, 24))
        .margin(16)
        .x_label_area_size(30)
        .y_label_area_size(90)
        .margin_right(30)
        .build_cartesian_2d(x0..x1, ys.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_labels(ticks(tickable))
        .y_labels(ticks(cost_ticks))
        .y_desc("cost per request (input's cost unit)")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            drawn_rows(rows.len()).map(|i| (rows[i].threshold, rows[i].cost_per_request)),
            BLUE.stroke_width(3),
        ))
        .map_err(err)?
        .label("cascade (small model always paid)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    let large = b.always_large.cost_per_request;
    let small = b.always_small.cost_per_request;
    dashed(
        &mut chart,
        vec![(x0, large), (x1, large)],
        RED,
        "always-large = break-even",
    )?;
    dashed(
        &mut chart,
        vec![(x0, small), (x1, small)],
        GREY,
        "always-small",
    )?;
    recommended(&mut chart, r, (x0, x1), (ys.start, ys.end))?;
    frame_box(&chart)?;
    legend(&mut chart, SeriesLabelPosition::UpperMiddle, 14)?;
    Ok(())
}

/// Savings against always-large at each threshold, with the recommended threshold marked.
fn savings_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Report,
    (x0, x1): (f64, f64),
    tickable: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let savings: Vec<(f64, f64)> = drawn_rows(r.rows.len())
        .map(|i| &r.rows[i])
        .filter_map(|m| m.savings_vs_large.map(|s| (m.threshold, s)))
        .collect();
    let lo = savings.iter().map(|p| p.1).fold(0.0, f64::min);
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .margin_right(30)
        .build_cartesian_2d(x0..x1, (lo - 0.05)..1.02)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(ticks(tickable))
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("threshold (accept the small answer when confidence >= threshold)")
        .y_desc("savings vs always-large")
        .y_label_formatter(&pct_tick)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(savings, GREEN.stroke_width(3)))
        .map_err(err)?
        .label("savings")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], GREEN.stroke_width(3)));
    dashed(&mut chart, vec![(x0, 0.0), (x1, 0.0)], RED, "no savings")?;
    recommended(&mut chart, r, (x0, x1), (lo - 0.05, 1.02))?;
    frame_box(&chart)?;
    legend(&mut chart, SeriesLabelPosition::LowerLeft, 14)?;
    Ok(())
}
