//! The tradeoff plot: quality against escalation rate, for the answers the small model ships
//! and for the whole cascade, with interval bands, the single-model policies and the
//! recommendation; the objective's line; the post's rule of thumb and this data's break-even.
//!
//! Drawing only; every number comes from the [`Report`] and its findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::drawn_rows;
use super::style::{
    BLUE, BROWN, Chart, Entry, FONT, GREEN, GREY, Mark, ORANGE, PURPLE, RED, dashed, err,
    frame_box, legend_strip, pct_tick, with_legend_strip,
};
use crate::engine::sweep::Metrics;
use crate::output::format::{opt4, pct, threshold};
use crate::report::Report;
use crate::report::reading::TargetLine;
use crate::trust::intervals::{Interval, RowIntervals};

/// Draws the plot on `root`: the chart above, its legend in a strip below (never over data).
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let keys = entries(r);
    let (top, strip) = with_legend_strip(root, &keys);
    let y0 = quality_floor(r);
    let mut chart = frame(&top, y0)?;
    regions(&mut chart, r, y0)?;
    bands(&mut chart, r, y0)?;
    curves(&mut chart, r)?;
    let lines = [
        (r.baselines.always_small.quality, GREY),
        (r.baselines.always_large.quality, GREEN),
    ];
    for (q, color) in lines {
        if let Some(q) = q {
            dashed(&mut chart, vec![(0.0, q), (1.0, q)], color, "")?;
        }
    }
    match r.target_line() {
        Some(TargetLine::NonEscalatedQuality(q) | TargetLine::CascadeQuality(q)) => {
            target_dashes(&mut chart, vec![(0.0, q), (1.0, q)])?;
        }
        Some(TargetLine::Escalation(x)) => {
            target_dashes(&mut chart, vec![(x, y0.max(0.0)), (x, 1.0)])?;
        }
        None => {}
    }
    recommended(&mut chart, r)?;
    frame_box(&chart)?;
    legend_strip(&strip, &keys, 86)
}

/// The objective's line: longer dashes than the baselines', so the two can be told apart where
/// they coincide (the example's target 0.95 is also always-large's quality).
fn target_dashes<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    points: Vec<(f64, f64)>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .draw_series(DashedLineSeries::new(points, 14, 6, BROWN.stroke_width(2)))
        .map_err(err)?;
    Ok(())
}

/// The legend: every region, band, curve and line drawn, in drawing order.
fn entries(r: &Report) -> Vec<Entry> {
    let level = 100.0 * r.uncertainty.settings.level;
    let mut keys = vec![Entry::new(
        "the post's rule of thumb: savings erode at 30-40 %",
        Mark::Shade(PURPLE, 0.12),
    )];
    if let Some(be) = r.findings.break_even.as_ref().filter(|b| !b.accepts_none) {
        keys.push(Entry::new(
            format!(
                "dearer than always-large (break-even {} here)",
                pct(be.escalation_rate)
            ),
            Mark::Shade(RED, 0.12),
        ));
    }
    keys.push(Entry::new(
        "non-escalated quality (shipped small answers)",
        Mark::Line(BLUE, 3),
    ));
    keys.push(Entry::new(
        format!("{level:.0} % interval, non-escalated quality"),
        Mark::Shade(BLUE, 0.18),
    ));
    if r.settings.has_large_quality {
        keys.push(Entry::new(
            "cascade quality (all requests)",
            Mark::Line(ORANGE, 3),
        ));
        keys.push(Entry::new(
            format!("{level:.0} % interval, cascade quality"),
            Mark::Shade(ORANGE, 0.18),
        ));
    }
    if r.baselines.always_small.quality.is_some() {
        keys.push(Entry::new("always-small quality", Mark::Dashed(GREY)));
    }
    if r.baselines.always_large.quality.is_some() {
        keys.push(Entry::new("always-large quality", Mark::Dashed(GREEN)));
    }
    if let Some(line) = r.target_line() {
        let words = match line {
            TargetLine::NonEscalatedQuality(q) => {
                format!("objective: non-escalated quality >= {q}")
            }
            TargetLine::CascadeQuality(q) => {
                format!("objective: cascade quality >= {}", opt4(Some(q)))
            }
            TargetLine::Escalation(x) => format!("objective: escalation <= {}", pct(x)),
        };
        keys.push(Entry::new(words, Mark::Dashed(BROWN)));
    }
    if let Ok(m) = &r.recommendation
        && m.non_escalated_quality.is_some()
    {
        keys.push(Entry::new(
            format!(
                "recommended: threshold {}, {} escalated",
                threshold(m.threshold),
                pct(m.escalation_rate)
            ),
            Mark::Dot(BLACK),
        ));
    }
    keys
}

/// The bottom of the quality axis: the lowest quality plotted, less a margin, rounded down to
/// a multiple of 0.05.
fn quality_floor(r: &Report) -> f64 {
    let b = &r.baselines;
    let mut lowest: f64 = 1.0;
    for m in &r.findings.curve {
        for q in [m.non_escalated_quality, m.cascade_quality]
            .into_iter()
            .flatten()
        {
            lowest = lowest.min(q);
        }
    }
    for q in [b.always_small.quality, b.always_large.quality]
        .into_iter()
        .flatten()
    {
        lowest = lowest.min(q);
    }
    ((lowest - 0.02) * 20.0).floor() / 20.0
}

/// The top of the quality axis: a little above 1, so a curve at quality 1 stays inside the
/// frame (a 3-pixel line on the frame's edge drew above it).
fn quality_ceiling(y0: f64) -> f64 {
    1.0 + (1.0 - y0.max(0.0)) * 0.02
}

/// The axes.
fn frame<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    y0: f64,
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .caption("Quality against escalation rate", (FONT, 24))
        .margin(16)
        .margin_right(36)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, y0.max(0.0)..quality_ceiling(y0))
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("escalation rate (share of requests sent to the large model)")
        .y_desc("quality (mean label, 0 to 1)")
        .x_label_formatter(&pct_tick)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The post's rule of thumb (30 to 40 % escalation) as a labelled reference, and this data's
/// own break-even: beyond it the cascade costs more than always-large.
fn regions<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    r: &Report,
    y0: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = (y0.max(0.0), quality_ceiling(y0));
    chart
        .draw_series([Rectangle::new(
            [(0.3, lo), (0.4, hi)],
            PURPLE.mix(0.12).filled(),
        )])
        .map_err(err)?;
    if let Some(be) = r.findings.break_even.as_ref().filter(|b| !b.accepts_none) {
        chart
            .draw_series([Rectangle::new(
                [(be.escalation_rate, lo), (1.0, hi)],
                RED.mix(0.12).filled(),
            )])
            .map_err(err)?;
    }
    Ok(())
}

/// Interval bands from the report's rows (at its confidence level), under the curves.
fn bands<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>, r: &Report, y0: f64) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let band = |f: &dyn Fn(&RowIntervals) -> Option<Interval>| -> Vec<(f64, f64)> {
        let pairs: Vec<(f64, Interval)> = drawn_rows(r.rows.len())
            .map(|i| (&r.rows[i], &r.uncertainty.rows[i]))
            .filter_map(|(m, u)| f(u).map(|i| (m.escalation_rate, i)))
            .collect();
        // Clipped to the plotted range.
        let lower = pairs.iter().map(|(x, i)| (*x, i.lo.max(y0.max(0.0))));
        let upper = pairs.iter().rev().map(|(x, i)| (*x, i.hi));
        lower.chain(upper).collect()
    };
    for (f, color) in [
        (
            &(|u: &RowIntervals| u.non_escalated_quality) as &dyn Fn(&RowIntervals) -> _,
            BLUE,
        ),
        (&|u: &RowIntervals| u.cascade_quality, ORANGE),
    ] {
        let points = band(f);
        if points.len() >= 3 {
            chart
                .draw_series([Polygon::new(points, color.mix(0.18).filled())])
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Non-escalated quality and, with large-model labels, cascade quality at every threshold.
fn curves<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let series = |f: &dyn Fn(&Metrics) -> Option<f64>| -> Vec<(f64, f64)> {
        r.findings
            .curve
            .iter()
            .filter_map(|m| f(m).map(|q| (m.escalation_rate, q)))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(
            series(&|m| m.non_escalated_quality),
            BLUE.stroke_width(3),
        ))
        .map_err(err)?;
    if r.settings.has_large_quality {
        chart
            .draw_series(LineSeries::new(
                series(&|m| m.cascade_quality),
                ORANGE.stroke_width(3),
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// The recommended threshold as a point on the non-escalated curve.
fn recommended<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if let Ok(m) = &r.recommendation
        && let Some(q) = m.non_escalated_quality
    {
        chart
            .draw_series([Circle::new((m.escalation_rate, q), 6, BLACK.filled())])
            .map_err(err)?;
    }
    Ok(())
}
