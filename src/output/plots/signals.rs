//! The plots of `calibrate signals`: every signal's risk–coverage curve and reliability diagram
//! overlaid.
//!
//! Drawing only; the curves come from the [`Comparison`].

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Drawing;
use super::style::{
    BLUE, FONT, GREEN, GREY, ORANGE, PURPLE, RED, err, legend, pct_tick, reliability_frame,
};
use crate::signals::compare::Comparison;

const PALETTE: [RGBColor; 8] = [
    BLUE,
    ORANGE,
    GREEN,
    RED,
    PURPLE,
    GREY,
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

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
        let top = self
            .0
            .rows
            .iter()
            .flat_map(|r| r.risk_coverage.points.iter().map(|p| p.risk))
            .fold(0.0f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Risk-coverage: error rate of the answers kept, by share kept",
                (FONT, 24),
            )
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..(top * 1.1).max(0.01))
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(242, 242, 242))
            .x_desc("coverage (share answered by the small model)")
            .y_desc("risk (1 - quality of the answers kept)")
            .x_label_formatter(&pct_tick)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(err)?;
        for (k, row) in self.0.rows.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points: Vec<(f64, f64)> = row
                .risk_coverage
                .points
                .iter()
                .map(|p| (p.coverage, p.risk))
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(err)?
                .label(row.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
        Ok(())
    }
}

impl Drawing for Reliability<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = reliability_frame(
            root,
            "Reliability: observed quality against each signal",
            "signal (10 equal-width bins; signals outside [0, 1] are left out)",
            1.05,
        )?;
        for (k, row) in self.0.rows.iter().enumerate() {
            if row.reliability.is_empty() {
                continue;
            }
            let color = PALETTE[k % PALETTE.len()];
            let points: Vec<(f64, f64)> = row
                .reliability
                .iter()
                .map(|b| (b.mean_score, b.mean_quality))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(row.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
        Ok(())
    }
}
