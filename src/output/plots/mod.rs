//! The report's plots, each drawn once for any plotters backend and exported as SVG and PNG.
//!
//! Owns which plots exist and their encoding (PNG at balanced compression, DejaVu Sans embedded so
//! text renders without system fonts). It must not compute: every number comes from the
//! [`Report`] and its [`Findings`](crate::report::findings::Findings).

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

pub mod backend;
pub mod chains;
mod confidence;
mod cost;
mod frontier;
mod funnel;
pub mod monitor;
mod reliability;
pub mod signals;
mod style;
mod tradeoff;

use super::Exporter;
use crate::report::Report;
#[cfg(test)]
pub(crate) use style::FRAME;
use style::{FONT, err};

/// The rows of the sweep table a plot draws: all of them up to
/// [`CURVE_POINTS`](crate::report::findings::CURVE_POINTS), else that many evenly spaced rows,
/// both ends kept (an `--exact` table of millions of rows made 79-158 MB SVGs; issue 13).
/// `sweep.csv` keeps every row.
pub fn drawn_rows(rows: usize) -> impl Iterator<Item = usize> + Clone {
    let keep = rows.min(crate::report::findings::CURVE_POINTS);
    (0..keep).map(move |k| {
        if keep == rows {
            k
        } else {
            k * (rows - 1) / (keep - 1)
        }
    })
}

/// Width and height of every plot, in pixels.
pub const SIZE: (u32, u32) = (960, 600);

/// One plot of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plot {
    /// Quality against escalation rate.
    Tradeoff,
    /// Cost and savings against threshold.
    Cost,
    /// Cascade quality against cost per request.
    Frontier,
    /// Confidence histograms of right and wrong answers.
    Confidence,
    /// Observed quality against confidence.
    Reliability,
    /// Where requests go at the recommended threshold.
    Funnel,
}

impl Plot {
    /// Every plot, in report order.
    pub const ALL: [Plot; 6] = [
        Plot::Tradeoff,
        Plot::Cost,
        Plot::Frontier,
        Plot::Confidence,
        Plot::Reliability,
        Plot::Funnel,
    ];

    /// The file stem.
    pub fn stem(self) -> &'static str {
        match self {
            Plot::Tradeoff => "tradeoff",
            Plot::Cost => "cost",
            Plot::Frontier => "frontier",
            Plot::Confidence => "confidence",
            Plot::Reliability => "reliability",
            Plot::Funnel => "funnel",
        }
    }

    /// Whether the report has what this plot needs.
    pub fn applies(self, report: &Report) -> bool {
        let d = &report.findings;
        match self {
            Plot::Frontier => report.settings.has_large_quality,
            Plot::Reliability => d.reliability.is_some(),
            Plot::Funnel => d.funnel.is_some(),
            _ => true,
        }
    }

    fn draw<DB: DrawingBackend>(self, root: &DrawingArea<DB, Shift>, r: &Report) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        match self {
            Plot::Tradeoff => tradeoff::draw(root, r),
            Plot::Cost => cost::draw(root, r),
            Plot::Frontier => frontier::draw(root, r),
            Plot::Confidence => confidence::draw(root, r),
            Plot::Reliability => reliability::draw(root, r),
            Plot::Funnel => funnel::draw(root, r),
        }?;
        root.present().map_err(err)?;
        Ok(())
    }
}

/// A plot as SVG.
pub struct Svg(pub Plot);
/// A plot as PNG.
pub struct Png(pub Plot);

impl Exporter for Svg {
    fn file_name(&self) -> &'static str {
        match self.0 {
            Plot::Tradeoff => "tradeoff.svg",
            Plot::Cost => "cost.svg",
            Plot::Frontier => "frontier.svg",
            Plot::Confidence => "confidence.svg",
            Plot::Reliability => "reliability.svg",
            Plot::Funnel => "funnel.svg",
        }
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        svg(&(self.0, report))
    }
}

impl Exporter for Png {
    fn file_name(&self) -> &'static str {
        match self.0 {
            Plot::Tradeoff => "tradeoff.png",
            Plot::Cost => "cost.png",
            Plot::Frontier => "frontier.png",
            Plot::Confidence => "confidence.png",
            Plot::Reliability => "reliability.png",
            Plot::Funnel => "funnel.png",
        }
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        png(&(self.0, report))
    }
}

/// Something drawn once for any backend.
pub trait Drawing {
    /// Draws the whole picture on `root`, background included.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

impl Drawing for (Plot, &Report) {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        self.0.draw(root, self.1)
    }
}

/// A drawing as SVG bytes.
pub fn svg(d: &impl Drawing) -> Result<Vec<u8>> {
    fonts()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        d.draw(&root)?;
    }
    Ok(svg.into_bytes())
}

/// A drawing as PNG bytes.
pub fn png(d: &impl Drawing) -> Result<Vec<u8>> {
    let (rgb, _) = pixels(d)?;
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, SIZE.0, SIZE.1);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_compression(::png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

/// A drawing as RGB pixels (3 bytes a pixel, rows of [`SIZE`]`.0`), with every text drawn and
/// its pixel box.
pub fn pixels(d: &impl Drawing) -> Result<(Vec<u8>, backend::TextBoxes)> {
    fonts()?;
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    let texts = std::rc::Rc::default();
    {
        let root = backend::Png::new(&mut rgb, SIZE, std::rc::Rc::clone(&texts))?;
        d.draw(&root.into_drawing_area())?;
    }
    Ok((rgb, texts.take()))
}

/// Registers the embedded DejaVu Sans once per process.
fn fonts() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        let regular = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let bold = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
        if regular.is_err() || bold.is_err() {
            result = Err(anyhow!("the embedded DejaVu Sans font failed to load"));
        }
    });
    result
}

#[cfg(test)]
mod drawn_tests {
    use super::drawn_rows;

    #[test]
    fn plots_draw_at_most_curve_points_rows_of_an_exact_table() {
        // Issue 13, item 12: every row up to 1500, else 1500 evenly spaced, both ends kept.
        assert_eq!(drawn_rows(3).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(drawn_rows(1500).count(), 1500);
        let big: Vec<usize> = drawn_rows(5_000_000).collect();
        assert_eq!(big.len(), 1500);
        assert_eq!((big[0], big[1499]), (0, 4_999_999));
        assert!(big.windows(2).all(|w| w[0] < w[1]));
        // k × 4,999,999 / 1499: row 3335 for k = 1 (4,999,999 / 1499 rounded down).
        assert_eq!(big[1], 3335);
    }
}
