//! The monitor's plots: escalation per window (every request, and the threshold's share of
//! routed requests) against the calibration's prediction with its expected band and the
//! absolute ceiling; PSI per window and scope against its warn and alert levels.
//!
//! Drawing only; every number comes from the [`MonitorReport`].

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Drawing;
use super::style::{
    BLUE, Chart, FONT, FRAME, GREEN, GREY, RED, dashed, err, frame_box, legend, pct_tick,
    series_color,
};
use crate::monitor::checks::Row;
use crate::output::format::window_label;
use crate::report::MonitorReport;

/// Escalation over time.
pub struct Escalation<'a>(pub &'a MonitorReport);

impl Drawing for Escalation<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let r = self.0;
        let rows: Vec<_> = (r.monitor.rows.iter())
            .filter(|x| x.window.is_some() && x.scope == 0)
            .collect();
        let n = rows.len().max(1) as f64;
        let labels: Vec<String> = (rows.iter())
            .map(|x| window_label(x.window, r.settings.window))
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption("Escalation per window against the calibration", (FONT, 24))
            .margin(16)
            .margin_right(30)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(242, 242, 242))
            .x_labels(rows.len().clamp(1, 12))
            .x_label_formatter(&|x| window_tick(&labels, *x))
            .y_label_formatter(&pct_tick)
            .x_desc("window (UTC)")
            .y_desc("escalated")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(err)?;
        band(&mut chart, &rows)?;
        lines(&mut chart, &rows)?;
        let ceiling = r.settings.max_escalation;
        dashed(
            &mut chart,
            vec![(-0.5, ceiling), (n - 0.5, ceiling)],
            GREY,
            "ceiling (--max-escalation)",
        )?;
        legend(&mut chart, SeriesLabelPosition::UpperRight, 15)?;
        frame_box(&chart)?;
        root.present().map_err(err)?;
        Ok(())
    }
}

/// The expected band (prediction ± z standard errors) of the windows that were tested.
fn band<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, rows: &[&Row]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let band: Vec<(f64, f64, f64)> = (rows.iter().enumerate())
        .filter_map(|(i, x)| {
            let (lo, hi) = x.escalation_band?;
            Some((i as f64, lo.max(0.0), hi.min(1.0)))
        })
        .collect();
    if !band.is_empty() {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
        chart
            .draw_series(std::iter::once(Polygon::new(poly, GREEN.mix(0.2).filled())))
            .map_err(err)?
            .label("expected band (by threshold)")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 24, y + 5)], GREEN.mix(0.2).filled())
            });
    }
    Ok(())
}

/// The observed escalation lines and the prediction.
fn lines<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, rows: &[&Row]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let line = |f: &dyn Fn(&Row) -> Option<f64>| {
        (rows.iter().enumerate())
            .filter_map(|(i, x)| f(x).map(|y| (i as f64, y)))
            .collect::<Vec<_>>()
    };
    dashed(
        chart,
        line(&|x| Some(x.predicted_escalation)),
        GREEN,
        "predicted (by threshold)",
    )?;
    for (points, color, name) in [
        (
            line(&|x| x.routed_escalation),
            BLUE,
            "escalated by threshold",
        ),
        (
            line(&|x| Some(x.escalation_rate)),
            RED,
            "escalated, overrides included",
        ),
    ] {
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
            .map_err(err)?;
    }
    Ok(())
}

/// PSI per window, one line per scope, with the warn and alert levels. PSI is drawn on a
/// square-root axis (a shifted segment reaches PSI 8 while the levels sit at 0.1 and 0.25).
pub struct DriftPlot<'a>(pub &'a MonitorReport);

impl Drawing for DriftPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let r = self.0;
        let windows: Vec<i64> = {
            let mut w: Vec<i64> = r.monitor.rows.iter().filter_map(|x| x.window).collect();
            w.dedup();
            w
        };
        let n = windows.len().max(1) as f64;
        let top = (r.monitor.rows.iter())
            .filter_map(|x| x.drift.map(|d| d.psi))
            .fold(r.settings.psi_alert * 2.0, f64::max)
            .sqrt()
            * 1.15;
        let labels: Vec<String> = (windows.iter())
            .map(|w| window_label(Some(*w), r.settings.window))
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Signal drift per window (PSI over the reference deciles)",
                (FONT, 24),
            )
            .margin(16)
            .margin_right(30)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(242, 242, 242))
            .x_labels(windows.len().clamp(1, 12))
            .x_label_formatter(&|x| window_tick(&labels, *x))
            .y_label_formatter(&|y| format!("{:.2}", y * y))
            .x_desc("window (UTC)")
            .y_desc("PSI (square-root scale)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(err)?;
        scope_lines(&mut chart, r, &windows)?;
        for (level, name, color) in [
            (r.settings.psi_warn, "warn level (--psi-warn)", GREY),
            (r.settings.psi_alert, "alert level (--psi-alert)", FRAME),
        ] {
            let y = level.sqrt();
            dashed(&mut chart, vec![(-0.5, y), (n - 0.5, y)], color, name)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 14)?;
        frame_box(&chart)?;
        root.present().map_err(err)?;
        Ok(())
    }
}

/// One PSI line per scope (the overall one thicker).
fn scope_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    r: &MonitorReport,
    windows: &[i64],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    for (scope, name) in r.monitor.scopes.iter().enumerate() {
        let points: Vec<(f64, f64)> = (r.monitor.rows.iter())
            .filter(|x| x.scope == scope)
            .filter_map(|x| {
                let i = windows.iter().position(|w| Some(*w) == x.window)?;
                Some((i as f64, x.drift?.psi.sqrt()))
            })
            .collect();
        let color = series_color(scope);
        let width = if scope == 0 { 3 } else { 2 };
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(width)))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
            .map_err(err)?;
    }
    Ok(())
}

/// The window label at an integer tick position; blank between windows and past the ends.
fn window_tick(labels: &[String], x: f64) -> String {
    let k = x.round();
    if (k - x).abs() < 1e-9 && k >= 0.0 && (k as usize) < labels.len() {
        labels[k as usize].clone()
    } else {
        String::new()
    }
}
