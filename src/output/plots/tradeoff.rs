//! The tradeoff plot: quality against escalation rate, for the answers the small model ships
//! and for the whole cascade, with interval bands, the single-model policies and the
//! recommendation.
//!
//! Drawing only; every number comes from the [`Report`] and its findings.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::drawn_rows;
use super::style::{BLUE, Chart, FONT, GREEN, GREY, ORANGE, RED, dashed, err, legend, pct};
use crate::engine::sweep::Metrics;
use crate::report::Report;
use crate::trust::intervals::{Interval, RowIntervals};

/// Draws the plot on `root`.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let y0 = quality_floor(r);
    let mut chart = frame(root, y0)?;
    bands(&mut chart, r, y0)?;
    curves(&mut chart, r)?;
    if let Some(q) = r.baselines.always_small.quality {
        dashed(
            &mut chart,
            vec![(0.0, q), (1.0, q)],
            GREY,
            "always-small quality",
        )?;
    }
    if let Some(q) = r.baselines.always_large.quality {
        dashed(
            &mut chart,
            vec![(0.0, q), (1.0, q)],
            GREEN,
            "always-large quality",
        )?;
    }
    recommended(&mut chart, r)?;
    legend(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
    Ok(())
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

/// The axes, with the post's rule of thumb shaded under the mesh.
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
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, y0.max(0.0)..1.0)
        .map_err(err)?;
    // The post's rule of thumb: above 30 to 40 % escalation the savings erode.
    chart
        .draw_series([
            Rectangle::new([(0.3, y0.max(0.0)), (0.4, 1.0)], RED.mix(0.10).filled()),
            Rectangle::new([(0.4, y0.max(0.0)), (1.0, 1.0)], RED.mix(0.05).filled()),
        ])
        .map_err(err)?
        .label("escalation above 30-40 %: savings erode")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], RED.mix(0.2).filled()));
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc("escalation rate (share of requests sent to the large model)")
        .y_desc("quality (mean label, 0 to 1)")
        .x_label_formatter(&pct)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    Ok(chart)
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
    let level = 100.0 * r.uncertainty.settings.level;
    chart
        .draw_series(LineSeries::new(
            series(&|m| m.non_escalated_quality),
            BLUE.stroke_width(3),
        ))
        .map_err(err)?
        .label(format!(
            "non-escalated quality (answers the small model ships), {level:.0} % band"
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    if r.settings.has_large_quality {
        chart
            .draw_series(LineSeries::new(
                series(&|m| m.cascade_quality),
                ORANGE.stroke_width(3),
            ))
            .map_err(err)?
            .label("cascade quality (all requests)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], ORANGE.stroke_width(3)));
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
            .draw_series([Circle::new((m.escalation_rate, q), 7, RED.filled())])
            .map_err(err)?
            .label(format!(
                "recommended: threshold {}, {:.1}% escalated, quality {:.3}",
                m.threshold,
                100.0 * m.escalation_rate,
                q
            ))
            .legend(|(x, y)| Circle::new((x + 12, y), 6, RED.filled()));
    }
    Ok(())
}
