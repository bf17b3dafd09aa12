//! The confidence plot: how the signal is spread over right and over wrong small-model answers,
//! each as its own share per bin (so a few wrong answers show beside many right ones), with the
//! recommended threshold.
//!
//! Drawing only; the histogram and its shares come from the report's findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    Entry, FONT, GREEN, Mark, PURPLE, RED, axis, err, frame_box, legend_strip, pct_tick, ticks,
    with_legend_strip,
};
use crate::output::format::threshold;
use crate::report::Report;

/// What the signal on the x axis is, in words: a recalibrated or derived signal is not "the
/// small model's confidence".
pub(super) fn signal_words(r: &Report) -> String {
    let name = &r.signal.name;
    match (&r.recalibration, name.as_str()) {
        (Some(c), _) => format!("{name}, recalibrated ({})", c.method),
        (None, "confidence") if r.signal.formula.is_none() => "small-model confidence".into(),
        (None, _) => format!("signal {name}"),
    }
}

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let h = &r.findings.histogram;
    let (right, wrong) = (h.right_shares(), h.wrong_shares());
    let mut keys = vec![
        Entry::new(
            format!("right answers ({:.0})", h.right_total()),
            Mark::Line(GREEN, 3),
        ),
        Entry::new(
            format!("wrong answers ({:.0})", h.wrong_total()),
            Mark::Line(RED, 3),
        ),
    ];
    if let Ok(m) = &r.recommendation {
        keys.push(Entry::new(
            format!(
                "recommended threshold {} (escalate left of it)",
                threshold(m.threshold)
            ),
            Mark::Line(PURPLE, 2),
        ));
    }
    let (area, strip) = with_legend_strip(root, &keys);
    let (xs, x_ticks) = axis(h.edges[0], h.edges[h.edges.len() - 1]);
    let top = right.iter().chain(&wrong).fold(0.01, |a: f64, b| a.max(*b)) * 1.1;
    let mut chart = ChartBuilder::on(&area)
        .caption(
            "Where right and wrong small-model answers fall on the signal",
            (FONT, 24),
        )
        .margin(16)
        .margin_right(30)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(xs.clone(), 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_labels(ticks(x_ticks))
        .x_desc(signal_words(r))
        .y_desc("share of right (or of wrong) answers")
        .y_label_formatter(&pct_tick)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    // Outlined steps, not overlapping fills: no third "overlap" colour to explain.
    let steps = |shares: &[f64]| -> Vec<(f64, f64)> {
        let mut points = vec![(h.edges[0], 0.0)];
        for (i, &s) in shares.iter().enumerate() {
            points.push((h.edges[i], s));
            points.push((h.edges[i + 1], s));
        }
        points.push((h.edges[shares.len()], 0.0));
        points
    };
    for (shares, color) in [(&right, GREEN), (&wrong, RED)] {
        chart
            .draw_series(LineSeries::new(steps(shares), color.stroke_width(3)))
            .map_err(err)?;
    }
    if let Ok(m) = &r.recommendation {
        let x = m.threshold.clamp(xs.start, xs.end);
        chart
            .draw_series(LineSeries::new(
                vec![(x, 0.0), (x, top)],
                PURPLE.stroke_width(2),
            ))
            .map_err(err)?;
    }
    frame_box(&chart)?;
    legend_strip(&strip, &keys, 86)
}
