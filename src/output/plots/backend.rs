//! The PNG drawing backend: plotters' bitmap backend with text laid out correctly.
//!
//! plotters 0.3.7 draws each `ab_glyph` glyph at its pen position without the glyph's left
//! side bearing and truncates the pen to whole pixels, so narrow letters open gaps ("escal
//! ated", "al ways"). This backend passes every drawing call to the bitmap backend except text,
//! which it lays out itself with the same embedded DejaVu Sans: the pen advances in fractional
//! pixels, kerning applies, and each glyph is placed by its own pixel bounds. It also records
//! each text's pixel box so tests can check text against the plot frames. Drawing only.

use std::cell::RefCell;
use std::rc::Rc;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

/// A pixel rectangle: left, top, right, bottom (inclusive).
pub type PixelBox = (i32, i32, i32, i32);

/// Every text drawn, with its pixel box.
pub type TextBoxes = Vec<(String, PixelBox)>;

/// The texts a drawing drew, shared between the backend and its caller.
pub type Texts = Rc<RefCell<TextBoxes>>;

/// The bitmap backend with correct text layout.
pub struct Png<'a> {
    inner: BitMapBackend<'a>,
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    /// Every text drawn, with its pixel box (shared with the caller, who keeps it after the
    /// drawing area that owns this backend is gone).
    texts: Texts,
}

impl<'a> Png<'a> {
    /// Draws into `rgb` (3 bytes a pixel) of `size`, recording texts in `texts`.
    pub fn new(rgb: &'a mut [u8], size: (u32, u32), texts: Texts) -> anyhow::Result<Self> {
        let font = |bytes: &'static [u8]| {
            FontRef::try_from_slice(bytes)
                .map_err(|_| anyhow::anyhow!("the embedded DejaVu Sans font failed to load"))
        };
        Ok(Png {
            inner: BitMapBackend::with_buffer(rgb, size),
            regular: font(dejavu::sans::regular())?,
            bold: font(dejavu::sans::bold())?,
            texts,
        })
    }

    fn font(&self, style: FontStyle) -> &FontRef<'static> {
        match style {
            FontStyle::Bold => &self.bold,
            _ => &self.regular,
        }
    }
}

/// Width (advances and kerning, in fractional pixels) and height (ascent to descent) of a line.
fn extent(font: &FontRef<'static>, size: f64, text: &str) -> (f32, f32) {
    let f = font.as_scaled(PxScale::from(size as f32));
    let mut width = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            width += f.kern(p, id);
        }
        width += f.h_advance(id);
        prev = Some(id);
    }
    (width, f.ascent() - f.descent())
}

type Error = DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

impl DrawingBackend for Png<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), Error> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), Error> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), Error> {
        self.inner.blit_bitmap(pos, (iw, ih), src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), Error> {
        let (w, h) = extent(self.font(style.style()), style.size(), text);
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Error> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = self.font(style.style()).clone();
        let scale = PxScale::from(style.size() as f32);
        let scaled = font.as_scaled(scale);
        let (width, height) = extent(&font, style.size(), text);
        // The text's box, before rotation: (0, 0) at its top left, the baseline at the ascent.
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Right => -width,
            HPos::Center => -width / 2.0,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let place = |x: f32, y: f32| {
            let (x, y) = trans.transform(x.round() as i32, y.round() as i32);
            (pos.0 + x, pos.1 + y)
        };
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        let mut pen = dx;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, point(pen, dy + scaled.ascent()));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|x, y, coverage| {
                    pixels.push((
                        (b.min.x + x as f32) as i32,
                        (b.min.y + y as f32) as i32,
                        coverage,
                    ));
                });
            }
            pen += scaled.h_advance(id);
        }
        let (w, h) = self.get_size();
        let corners = [place(dx, dy), place(dx + width, dy + height)];
        self.texts.borrow_mut().push((
            text.to_string(),
            (
                corners[0].0.min(corners[1].0),
                corners[0].1.min(corners[1].1),
                corners[0].0.max(corners[1].0),
                corners[0].1.max(corners[1].1),
            ),
        ));
        for (x, y, coverage) in pixels {
            let (x, y) = place(x as f32, y as f32);
            if coverage > 0.0 && x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(coverage.min(1.0)),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((x, y), c)?;
            }
        }
        Ok(())
    }
}
