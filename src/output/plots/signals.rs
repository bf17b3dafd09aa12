//! The plots of `calibrate signals`: every signal's risk–coverage curve and reliability diagram
//! overlaid, each in its own colour, a signal that ranks records like an earlier one named so.
//!
//! Drawing only; the curves come from the [`Comparison`].

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Drawing;
use super::style::{
    Entry, FONT, GREY, Mark, err, frame_box, legend_strip, pct_tick, reliability_frame,
    series_color, with_legend_strip,
};
use crate::output::format::pct;
use crate::signals::compare::Comparison;
use crate::signals::plotted::RISK_AXIS_MIN_COVERAGE;

/// The legend line of signal `k`: its name, and the earlier signal it draws over when the two
/// rank the records alike.
fn name(c: &Comparison, k: usize) -> String {
    let row = &c.rows[k];
    match c.same_curve_as(k) {
        Some(other) => format!("{} (= {other}: same ranking)", row.name),
        None => row.name.clone(),
    }
}

/// Risk (1 − accepted quality) against coverage, one line per signal.
pub struct RiskCoverage<'a>(pub &'a Comparison);

/// Observed quality against the signal (equal-width bins), one line per signal in [0, 1].
pub struct Reliability<'a>(pub &'a Comparison);

impl Drawing for RiskCoverage<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let c = self.0;
        let keys: Vec<Entry> = (0..c.rows.len())
            .map(|k| Entry::new(name(c, k), Mark::Line(series_color(k), 2)))
            .collect();
        let (area, strip) = with_legend_strip(root, &keys);
        let top = c.risk_axis_top() * 1.1;
        let mut chart = ChartBuilder::on(&area)
            .caption(
                "Risk-coverage: error rate of the answers kept, by share kept",
                (FONT, 24),
            )
            .margin(16)
            .margin_right(30)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(242, 242, 242))
            .x_desc(format!(
                "coverage (share answered by the small model; risk below {} coverage is off the \
                 axis)",
                pct(RISK_AXIS_MIN_COVERAGE)
            ))
            .y_desc("risk (1 - quality of the answers kept)")
            .x_label_formatter(&pct_tick)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(err)?;
        for (k, row) in c.rows.iter().enumerate() {
            // Clipped to the axis: the spikes left out of its range stop at its top.
            let points: Vec<(f64, f64)> = row
                .risk_coverage
                .points
                .iter()
                .map(|p| (p.coverage, p.risk.min(top)))
                .collect();
            chart
                .draw_series(LineSeries::new(points, series_color(k).stroke_width(2)))
                .map_err(err)?;
        }
        frame_box(&chart)?;
        legend_strip(&strip, &keys, 86)
    }
}

impl Drawing for Reliability<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let c = self.0;
        let mut keys = vec![Entry::new("perfectly calibrated", Mark::Dashed(GREY))];
        keys.extend(
            (0..c.rows.len())
                .filter(|&k| !c.rows[k].reliability.is_empty())
                .map(|k| Entry::new(name(c, k), Mark::Line(series_color(k), 2))),
        );
        let (area, strip) = with_legend_strip(root, &keys);
        let mut chart = reliability_frame(
            &area,
            "Reliability: observed quality against each signal",
            "signal (10 equal-width bins; signals outside [0, 1] are left out)",
            1.05,
        )?;
        for (k, row) in self.0.rows.iter().enumerate() {
            if row.reliability.is_empty() {
                continue;
            }
            let color = series_color(k);
            let points: Vec<(f64, f64)> = row
                .reliability
                .iter()
                .map(|b| (b.mean_score, b.mean_quality))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(err)?;
        }
        frame_box(&chart)?;
        legend_strip(&strip, &keys, 86)
    }
}
