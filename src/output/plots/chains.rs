//! The chain frontier plot (every chain's frontier, the envelope, the models alone, the oracle
//! and the pick) and the picked chain's per-stage funnel.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Drawing;
use super::style::{
    BLUE, BROWN, CYAN, FONT, GREEN, GREY, OLIVE, ORANGE, PINK, PURPLE, RED, err, frame_box, legend,
    series_color,
};

/// Colours of the models alone: none of the envelope's, the oracle's or the pick's.
fn model_color(k: usize) -> RGBColor {
    const OWN: [RGBColor; 6] = [ORANGE, GREEN, BROWN, PINK, OLIVE, CYAN];
    OWN.get(k).copied().unwrap_or_else(|| series_color(k + 3))
}
use crate::report::chains::ChainReport;

/// Quality against cost: every chain, the envelope, the models alone, the oracle, the pick.
pub struct ChainFrontier<'a>(pub &'a ChainReport);

/// Prompts reaching and answered at each stage of the picked chain.
pub struct StageFunnel<'a>(pub &'a ChainReport);

/// At most this many points of a frontier are drawn (evenly spaced, both ends kept).
const DRAWN: usize = 600;

fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= DRAWN {
        return points.to_vec();
    }
    (0..DRAWN)
        .map(|k| points[k * (points.len() - 1) / (DRAWN - 1)])
        .collect()
}

impl Drawing for ChainFrontier<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let r = self.0;
        let oracle: Vec<(f64, f64)> = r.oracle.iter().map(|o| (o.cost, o.quality)).collect();
        let all = (r.chains.iter())
            .flat_map(|c| c.frontier.iter())
            .chain(&oracle);
        let titles = (
            "Which models to cascade: quality against cost",
            "quality (mean label, 0 to 1)",
        );
        let mut chart = super::frontier::frame(root, all, titles)?;
        for c in r.chains.iter().filter(|c| c.models.len() > 1) {
            chart
                .draw_series(LineSeries::new(
                    thin(&c.frontier),
                    RGBColor(200, 200, 200).stroke_width(1),
                ))
                .map_err(err)?;
        }
        let envelope: Vec<(f64, f64)> = r.envelope.iter().map(|e| (e.1, e.2)).collect();
        chart
            .draw_series(LineSeries::new(thin(&envelope), BLUE.stroke_width(3)))
            .map_err(err)?
            .label("envelope of all chains (grey: each chain's frontier)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
        for (k, m) in r.models.iter().enumerate() {
            let color = model_color(k);
            chart
                .draw_series([Circle::new((m.cost, m.quality), 6, color.filled())])
                .map_err(err)?
                .label(format!("{} alone", m.name))
                .legend(move |(x, y)| Circle::new((x + 12, y), 5, color.filled()));
        }
        if let Some(&(cost, quality)) = oracle.first() {
            chart
                .draw_series([Circle::new((cost, quality), 7, PURPLE.filled())])
                .map_err(err)?
                .label("oracle: each prompt to the cheapest model that gets it right")
                .legend(|(x, y)| Circle::new((x + 12, y), 6, PURPLE.filled()));
        }
        if let Some((_, row)) = r.picked()
            && let Some((_, e)) = &row.best
        {
            chart
                .draw_series([TriangleMarker::new((e.cost, e.quality), 10, RED.filled())])
                .map_err(err)?
                .label(format!("pick: {}", row.label.replace('→', "->")))
                .legend(|(x, y)| TriangleMarker::new((x + 12, y), 8, RED.filled()));
        }
        frame_box(&chart)?;
        legend(&mut chart, SeriesLabelPosition::LowerRight, 14)?;
        Ok(())
    }
}

impl Drawing for StageFunnel<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let Some((pick, row)) = self.0.picked() else {
            return Ok(());
        };
        let Some((_, e)) = &row.best else {
            return Ok(());
        };
        let k = e.stages.len();
        let n = e.n.max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Where prompts go: each stage of the chosen chain",
                (FONT, 24),
            )
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(70)
            .margin_right(30)
            .build_cartesian_2d(0.0..k as f64, 0.0..1.05)
            .map_err(err)?;
        let names: Vec<String> = pick.stages.iter().map(|(m, _)| m.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(k * 2 + 1)
            .x_label_formatter(&|x: &f64| {
                let i = x.floor() as usize;
                if (x - x.floor() - 0.5).abs() < 0.01 && i < names.len() {
                    names[i].clone()
                } else {
                    String::new()
                }
            })
            .light_line_style(RGBColor(242, 242, 242))
            .x_desc("stage (model)")
            .y_desc("share of prompts")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(e.stages.iter().enumerate().map(|(i, s)| {
                Rectangle::new(
                    [
                        (i as f64 + 0.15, 0.0),
                        (i as f64 + 0.48, s.reached as f64 / n),
                    ],
                    GREY.filled(),
                )
            }))
            .map_err(err)?
            .label("reached the stage")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], GREY.filled()));
        chart
            .draw_series(e.stages.iter().enumerate().map(|(i, s)| {
                Rectangle::new(
                    [
                        (i as f64 + 0.52, 0.0),
                        (i as f64 + 0.85, s.answered as f64 / n),
                    ],
                    BLUE.filled(),
                )
            }))
            .map_err(err)?
            .label("answered there")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.filled()));
        frame_box(&chart)?;
        legend(&mut chart, SeriesLabelPosition::UpperRight, 15)?;
        Ok(())
    }
}
