//! Shared look of the plots: font, colours, legend box, dashed reference lines, tick labels.
//!
//! Formatting only; no numbers are computed here.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

pub(super) const FONT: &str = "sans-serif";
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
pub(super) const RED: RGBColor = RGBColor(214, 39, 40);
pub(super) const GREY: RGBColor = RGBColor(110, 110, 110);
pub(super) const PURPLE: RGBColor = RGBColor(148, 103, 189);

/// A plotters error as an anyhow error.
pub(super) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a plot failed: {e:?}")
}

pub(super) type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws the series legend in a box at `position`.
pub(super) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    position: SeriesLabelPosition,
    size: u32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, size))
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// A reliability diagram's frame: signal from 0 to 1 across, observed quality from 0 to `y_top`
/// up, the mesh, and the "perfectly calibrated" diagonal.
pub(super) fn reliability_frame<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    x_desc: &str,
    y_top: f64,
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 24))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, 0.0..y_top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(242, 242, 242))
        .x_desc(x_desc)
        .y_desc("observed small-model quality")
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(err)?;
    dashed(
        &mut chart,
        vec![(0.0, 0.0), (1.0, 1.0)],
        GREY,
        "perfectly calibrated",
    )?;
    Ok(chart)
}

pub(super) fn count(x: &f64) -> String {
    format!("{x:.0}")
}

pub(super) fn pct(x: &f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

pub(super) fn dashed<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .draw_series(DashedLineSeries::new(points, 8, 5, color.stroke_width(2)))
        .map_err(err)?
        .label(label.to_string())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2)));
    Ok(())
}
