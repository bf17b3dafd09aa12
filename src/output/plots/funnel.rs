//! The funnel plot: where requests go at the recommended threshold, one bar per outcome.
//!
//! Drawing only; the counts come from the report's findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{BLUE, FONT, GREEN, GREY, ORANGE, PURPLE, RED, count, err};
use crate::report::Report;

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some(f) = r.findings.funnel else {
        return Ok(());
    };
    let threshold = r
        .recommendation
        .as_ref()
        .map(|m| m.threshold)
        .unwrap_or(f64::NAN);
    let mut bars: Vec<(String, f64, RGBColor)> = vec![
        ("requests".into(), f.requests as f64, GREY),
        ("answered by small".into(), f.accepted as f64, BLUE),
        ("escalated to large".into(), f.escalated as f64, ORANGE),
        (
            "shipped errors (accepted, wrong)".into(),
            f.shipped_errors,
            RED,
        ),
        (
            "wasted escalations (small was right)".into(),
            f.wasted_escalations,
            PURPLE,
        ),
    ];
    if let (Some(g), Some(l)) = (f.gained, f.lost) {
        bars.push(("quality gained on escalation".into(), g, GREEN));
        bars.push(("quality lost on escalation".into(), l, RED));
    }
    let n = f.requests as f64;
    let rows = bars.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Escalation funnel at threshold {threshold}"),
            (FONT, 24),
        )
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..n * 1.02, 0.0..rows)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("records")
        .x_label_formatter(&count)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    for (i, (label, value, color)) in bars.iter().enumerate() {
        let y = rows - i as f64;
        chart
            .draw_series([Rectangle::new(
                [(0.0, y - 0.85), (*value, y - 0.15)],
                color.mix(0.75).filled(),
            )])
            .map_err(err)?;
        let share = if n > 0.0 { 100.0 * value / n } else { 0.0 };
        chart
            .draw_series([Text::new(
                format!("{label}: {} ({share:.1}%)", trim(*value)),
                (n * 0.01, y - 0.62),
                (FONT, 17).into_font().color(&BLACK),
            )])
            .map_err(err)?;
    }
    Ok(())
}

/// Counts print without decimals; fractional quality sums keep two.
fn trim(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
