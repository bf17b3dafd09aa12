//! Shared look of the plots: font, colours, the legend (in a box or in a strip under the plot),
//! dashed reference lines, tick labels, and axis ranges plotters can tick.
//!
//! Formatting only; no numbers are computed here.

use std::ops::Range;

use anyhow::{Result, anyhow};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

pub(super) const FONT: &str = "sans-serif";
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
pub(super) const RED: RGBColor = RGBColor(214, 39, 40);
pub(super) const GREY: RGBColor = RGBColor(110, 110, 110);
pub(super) const PURPLE: RGBColor = RGBColor(148, 103, 189);
pub(super) const BROWN: RGBColor = RGBColor(140, 86, 75);
pub(super) const PINK: RGBColor = RGBColor(227, 119, 194);
pub(super) const OLIVE: RGBColor = RGBColor(188, 189, 34);
pub(super) const CYAN: RGBColor = RGBColor(23, 190, 207);

/// The first series colours: matplotlib's tab10 without its grey (grey marks references).
const TAB10: [RGBColor; 9] = [BLUE, ORANGE, GREEN, RED, PURPLE, BROWN, PINK, OLIVE, CYAN];

/// The colour of series `k`: tab10 first, then hues a golden angle apart at alternating
/// lightness, so any number of series get different colours (the palette never wraps).
pub(super) fn series_color(k: usize) -> RGBColor {
    if let Some(c) = TAB10.get(k) {
        return *c;
    }
    let j = (k - TAB10.len()) as f64;
    let hue = (j * 0.381_966_011_250_105).fract();
    let lightness = [0.35, 0.55, 0.45][(k - TAB10.len()) % 3];
    let (r, g, b) = hsl(hue, 0.75, lightness);
    RGBColor(r, g, b)
}

/// HSL (each in [0, 1]) to 8-bit RGB.
fn hsl(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h * 6.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (byte(r), byte(g), byte(b))
}

/// Values beyond this (in magnitude or span) get no tick marks: plotters' tick search does not
/// end on ranges near the largest f64 (issue 13.2: confidences 0 and 1e307 hung `sweep`).
const TICKABLE: f64 = 1e200;

/// An axis range plotters can draw: finite, increasing and not empty. The flag says whether
/// plotters can also tick it (see [`TICKABLE`]).
pub(super) fn axis(lo: f64, hi: f64) -> (Range<f64>, bool) {
    let finite = |x: f64, fallback: f64| if x.is_finite() { x } else { fallback };
    let lo = finite(lo, -f64::MAX / 4.0).max(-f64::MAX / 4.0);
    let hi = finite(hi, f64::MAX / 4.0).min(f64::MAX / 4.0);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let pad = lo.abs().max(1.0) * 0.5;
        (lo - pad, lo + pad)
    };
    let tickable = (hi - lo) < TICKABLE && lo.abs() < TICKABLE && hi.abs() < TICKABLE;
    (lo..hi, tickable)
}

/// Tick labels for an axis: plotters' default count, or none on a range it cannot tick.
pub(super) fn ticks(tickable: bool) -> usize {
    if tickable { 10 } else { 0 }
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    /// A solid line of this width.
    Line(RGBColor, u32),
    /// A dashed line, drawn dashed.
    Dashed(RGBColor),
    /// A shaded region at this opacity.
    Shade(RGBColor, f64),
    /// A marker dot.
    Dot(RGBColor),
}

impl Mark {
    /// What tells this entry apart from the others: its colour, and for shades the opacity.
    fn key(self) -> (RGBColor, u32) {
        match self {
            Mark::Line(c, _) | Mark::Dashed(c) | Mark::Dot(c) => (c, 100),
            Mark::Shade(c, a) => (c, (a * 100.0).round() as u32),
        }
    }
}

/// One line of a legend.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The words.
    pub label: String,
    /// The swatch.
    pub mark: Mark,
}

impl Entry {
    pub(super) fn new(label: impl Into<String>, mark: Mark) -> Self {
        Entry {
            label: label.into(),
            mark,
        }
    }
}

/// Height of one legend row, in pixels.
const ROW: u32 = 21;

/// Splits `root` into the plot above and a legend strip below sized for `entries`, so the
/// legend never covers data.
pub(super) fn with_legend_strip<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[Entry],
) -> (
    DrawingArea<DB, plotters::coord::Shift>,
    DrawingArea<DB, plotters::coord::Shift>,
) {
    let rows = legend_rows(entries);
    let (_, h) = root.dim_in_pixel();
    root.split_vertically(h.saturating_sub(rows as u32 * ROW + 14))
}

fn legend_columns(entries: &[Entry]) -> usize {
    if entries.iter().any(|e| e.label.chars().count() > 50) {
        1
    } else {
        2
    }
}

fn legend_rows(entries: &[Entry]) -> usize {
    entries.len().div_ceil(legend_columns(entries))
}

/// Draws `entries` in columns on `area` (from [`with_legend_strip`]), starting at `left` pixels.
/// No two entries may look alike: a legend that cannot tell two series apart is a bug.
pub(super) fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[Entry],
    left: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    debug_assert!(
        distinct(entries),
        "two legend entries share a colour: {entries:?}"
    );
    let columns = legend_columns(entries);
    let (w, _) = area.dim_in_pixel();
    let width = (w as i32 - left - 16) / columns as i32;
    let per_column = legend_rows(entries);
    for (i, e) in entries.iter().enumerate() {
        let x = left + width * (i / per_column) as i32;
        let y = 6 + (ROW as i32) * (i % per_column) as i32 + ROW as i32 / 2;
        swatch(area, e.mark, (x, y))?;
        area.draw(&Text::new(
            e.label.clone(),
            (x + 36, y - 8),
            (FONT, 15).into_font().color(&BLACK),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Whether no two entries look alike.
pub(super) fn distinct(entries: &[Entry]) -> bool {
    let keys: Vec<_> = entries.iter().map(|e| e.mark.key()).collect();
    keys.iter().enumerate().all(|(i, k)| !keys[..i].contains(k))
}

/// The swatch of one entry, 28 pixels wide, centred on `y`.
fn swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    mark: Mark,
    (x, y): (i32, i32),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    match mark {
        Mark::Line(c, w) => area.draw(&PathElement::new(
            vec![(x, y), (x + 28, y)],
            c.stroke_width(w),
        )),
        Mark::Dashed(c) => area.draw(&DashedPathElement::new(
            vec![(x, y), (x + 28, y)],
            6,
            5,
            c.stroke_width(2),
        )),
        Mark::Shade(c, a) => area.draw(&Rectangle::new(
            [(x, y - 7), (x + 28, y + 7)],
            c.mix(a).filled(),
        )),
        Mark::Dot(c) => area.draw(&Circle::new((x + 14, y), 6, c.filled())),
    }
    .map_err(err)?;
    Ok(())
}

/// The colour of every plot frame (and of nothing else, so tests can find frames in pixels).
pub const FRAME: RGBColor = RGBColor(51, 51, 51);

/// Draws the border of the chart's plotting area, on top of the series.
pub(super) fn frame_box<DB: DrawingBackend>(chart: &Chart<'_, DB>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(0, 0), (w as i32 - 1, h as i32 - 1)],
        FRAME.stroke_width(1),
    ))
    .map_err(err)?;
    Ok(())
}

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
        .margin_right(30)
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

pub(super) fn pct_tick(x: &f64) -> String {
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
        .legend(move |(x, y)| {
            DashedPathElement::new(vec![(x, y), (x + 26, y)], 6, 4, color.stroke_width(2))
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_colours_never_repeat_and_never_take_the_reference_grey() {
        // Issue 15: a palette of eight wrapped, so the ninth signal drew in the first's colour.
        let colours: Vec<RGBColor> = (0..200).map(series_color).collect();
        for (i, c) in colours.iter().enumerate() {
            assert!(!colours[..i].contains(c), "series {i} repeats {c:?}");
            assert_ne!(*c, GREY, "series {i} takes the reference grey");
        }
    }

    #[test]
    fn axes_plotters_cannot_tick_are_flagged() {
        // Issue 13.2: ranges near the largest f64 made plotters' tick search loop forever.
        assert_eq!(axis(0.0, 1.0), (0.0..1.0, true));
        assert!(!axis(0.0, 1e307).1);
        assert!(!axis(0.0, f64::INFINITY).1);
        let (r, _) = axis(2.0, 2.0);
        assert!(r.start < 2.0 && r.end > 2.0);
    }
}
