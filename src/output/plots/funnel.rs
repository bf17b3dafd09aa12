//! The funnel plot: where requests go at the recommended threshold, one bar per outcome, each
//! with its share of the base it belongs to (shipped errors of the shipped answers, wasted
//! escalations of the escalations), labels beside the bars rather than across their edges.
//!
//! Drawing only; the counts and shares come from the report's findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    BLUE, BROWN, Chart, FONT, GREEN, GREY, ORANGE, PURPLE, RED, count, err, frame_box,
};
use crate::output::format::{pct, threshold};
use crate::report::Report;
use crate::report::findings::Funnel;

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some(f) = r.findings.funnel else {
        return Ok(());
    };
    let bars = bars(&f);
    let n = (f.requests as f64).max(1.0);
    let rows = bars.len() as f64;
    let caption = match &r.recommendation {
        Ok(m) => format!("Escalation funnel at threshold {}", threshold(m.threshold)),
        Err(_) => "Escalation funnel".into(),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 24))
        .margin(16)
        .margin_right(30)
        .x_label_area_size(50)
        .y_label_area_size(200)
        .build_cartesian_2d(0.0..n * 1.45, 0.0..rows)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("records (escalation outcomes count records, weighted by quality labels)")
        .x_label_formatter(&count)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    for (i, bar) in bars.iter().enumerate() {
        draw_bar(&mut chart, bar, rows - i as f64)?;
    }
    frame_box(&chart)?;
    Ok(())
}

/// One bar: its name, its value and what that value is a share of.
type Bar = (&'static str, f64, String, RGBColor);

/// The bars, top to bottom.
fn bars(f: &Funnel) -> Vec<Bar> {
    let of = |share: Option<f64>, base: &str| {
        share.map_or_else(|| format!("no {base}"), |s| format!("{} of {base}", pct(s)))
    };
    let mut bars: Vec<Bar> = vec![
        ("requests", f.requests as f64, String::new(), GREY),
        (
            "answered by small",
            f.accepted as f64,
            of(f.accepted_share(), "requests"),
            BLUE,
        ),
        (
            "escalated to large",
            f.escalated as f64,
            of(f.escalated_share(), "requests"),
            ORANGE,
        ),
        (
            "shipped errors",
            f.shipped_errors,
            of(f.shipped_error_rate(), "shipped answers"),
            RED,
        ),
        (
            "wasted escalations",
            f.wasted_escalations,
            of(f.wasted_share(), "escalations"),
            PURPLE,
        ),
    ];
    if let (Some(g), Some(l)) = (f.gained, f.lost) {
        bars.push((
            "large better than small",
            g,
            of(f.gained_share(), "escalations"),
            GREEN,
        ));
        bars.push((
            "large worse than small",
            l,
            of(f.lost_share(), "escalations"),
            BROWN,
        ));
    }
    bars
}

/// Draws one bar with its value and share right of its end and its name left of the frame.
fn draw_bar<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    (label, value, share, color): &Bar,
    y: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let words = (FONT, 16).into_font().color(&BLACK);
    chart
        .draw_series([Rectangle::new(
            [(0.0, y - 0.85), (*value, y - 0.15)],
            color.mix(0.75).filled(),
        )])
        .map_err(err)?;
    // Its count and share right of its bar's end; its name left of the frame.
    chart
        .draw_series([EmptyElement::at((*value, y - 0.5))
            + Text::new(
                if share.is_empty() {
                    trim(*value)
                } else {
                    format!("{}  ({share})", trim(*value))
                },
                (8, -9),
                words.clone(),
            )])
        .map_err(err)?;
    chart
        .draw_series([EmptyElement::at((0.0, y - 0.5))
            + Text::new(
                label.to_string(),
                (-10, -9),
                words.clone().pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Right,
                    plotters::style::text_anchor::VPos::Top,
                )),
            )])
        .map_err(err)?;
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
