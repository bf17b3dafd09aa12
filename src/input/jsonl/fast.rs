//! The fast path for one JSON Lines record: a flat object whose keys carry no escapes and whose
//! values are scalars, read in one scan without serde.
//!
//! Owns recognising that common shape and nothing else: it accepts only lines that serde_json
//! accepts too and yields the same cells and raw values, and it gives up (returns `None`) on
//! anything else (an escape, a nested value it would have to read, a number out of range, a
//! duplicate key, a syntax error), so the serde path in [`record`](super::record) decides those
//! and words their errors. It must not validate values; [`Columns`](crate::input::columns::Columns)
//! does.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::record::{KeyCache, Plan, Read};
use crate::input::columns::READ;
use crate::input::extra::Raw;
use crate::input::value::Cell;

/// Reads `line` (not blank, without its line end) if it has the common shape: the fixed
/// fields' cells and the number of keys, with the extra columns' values in `raws` (all `None`
/// on entry). `None`: the serde path must read this line (`raws` may hold values by then).
pub fn record<'de>(
    line: &'de [u8],
    plan: &Plan,
    cache: &mut KeyCache,
    raws: &mut [Option<Raw<'de>>],
) -> Option<([Cell<'de>; READ], usize)> {
    let mut s = Scan { b: line, i: 0 };
    let mut cells: [Cell<'de>; READ] = Default::default();
    s.ws();
    s.eat(b'{')?;
    s.ws();
    let mut position = 0;
    loop {
        let key = s.key()?;
        s.ws();
        s.eat(b':')?;
        s.ws();
        let read = cache.lookup(position, key, plan).ok()?;
        position += 1;
        match plan.read(read) {
            Read::Skip => s.skip_value()?,
            Read::Cell(i) => cells[i] = s.cell()?,
            Read::Raw(slot, field) => {
                let raw = s.raw()?;
                if let Some(i) = field {
                    cells[i] = super::record::cell(&raw);
                }
                raws[slot] = Some(raw);
            }
        }
        s.ws();
        match s.next()? {
            b',' => s.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    s.ws();
    (s.i == line.len()).then_some((cells, position))
}

/// A cursor over one line.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The bytes of a string without escapes or control characters, after its opening quote
    /// has been eaten; `None` for any other string.
    fn plain_string(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let rest = &self.b[start..];
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        let text = &rest[..end];
        if rest[end] != b'"' || text.iter().any(|&c| c < 0x20) {
            return None;
        }
        self.i = start + end + 1;
        Some(text)
    }

    /// An object key, as bytes (the serde path reads keys as bytes too: no UTF-8 check).
    fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        self.plain_string()
    }

    /// A string value, which must be UTF-8 (serde_json checks strings it reads as text).
    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.plain_string()?).ok()
    }

    /// The literal `word` (its first byte already seen, not eaten).
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A number's text, checked against the JSON grammar:
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.skip_number()?;
        // The grammar admits only ASCII, so the slice is text.
        std::str::from_utf8(&self.b[start..self.i]).ok()
    }

    /// Skips a number, checked against the JSON grammar.
    fn skip_number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None; // a leading zero; serde_json words the error
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    /// A number as the nearest double. Most numbers in eval sets (counts, 0/1, prices with a
    /// few decimals) take Clinger's exact path: at most 15 digits and a power of ten up to
    /// 10^22 are both exact doubles, so one multiplication or division rounds once, correctly,
    /// as a full parse would. Any other number is parsed from its text.
    fn float(&mut self) -> Option<f64> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        let mut i = start + usize::from(negative);
        let (mut mantissa, mut digits, mut scale) = (0u64, 0u32, 0i32);
        let mut fraction = false;
        while let Some(&c) = self.b.get(i) {
            match c {
                b'0'..=b'9' => {
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    digits += 1;
                    scale -= i32::from(fraction);
                }
                b'.' if !fraction => fraction = true,
                _ => break,
            }
            i += 1;
        }
        let simple = !matches!(self.b.get(i), Some(b'e' | b'E'));
        self.skip_number()?;
        if simple && digits <= 15 && self.i == i && scale >= -22 {
            let x = mantissa as f64;
            let x = if scale == 0 {
                x
            } else {
                x / POW10[(-scale) as usize]
            };
            return Some(if negative { -x } else { x });
        }
        float(std::str::from_utf8(&self.b[start..self.i]).ok()?)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// A value read as a fixed field's cell.
    fn cell(&mut self) -> Option<Cell<'a>> {
        Some(match self.peek()? {
            b'"' => {
                self.i += 1;
                Cell::Text(Cow::Borrowed(self.text()?))
            }
            b't' => self.literal(b"true").map(|()| Cell::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Cell::Bool(false))?,
            b'n' => self.literal(b"null").map(|()| Cell::Null)?,
            _ => Cell::Number(self.float()?),
        })
    }

    /// A value read as an extra column's raw value.
    fn raw(&mut self) -> Option<Raw<'a>> {
        Some(match self.peek()? {
            b'"' => {
                self.i += 1;
                Raw::Text(Cow::Borrowed(self.text()?))
            }
            b't' => self
                .literal(b"true")
                .map(|()| Raw::Json(Json::Bool(true)))?,
            b'f' => self
                .literal(b"false")
                .map(|()| Raw::Json(Json::Bool(false)))?,
            b'n' => self.literal(b"null").map(|()| Raw::Json(Json::Null))?,
            _ => {
                let text = self.number()?;
                float(text)?; // out of range: the serde path words the error
                // serde_json's own number, so integers stay integers exactly as it keeps them.
                Raw::Json(serde_json::from_str::<Json>(text).ok()?)
            }
        })
    }

    /// Skips a value no column reads. Strings are not checked for UTF-8 and numbers not for
    /// range, as serde_json skips them; nested values are left to the serde path.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.plain_string().map(drop)
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.skip_number(),
        }
    }
}

/// 10^0 to 10^22, each exactly a double.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The number `text` (JSON grammar) as the nearest double, like serde_json with
/// `float_roundtrip`: both round correctly. `None` where serde_json refuses the number (out of
/// range) or where the two might part (an underflow to zero).
fn float(text: &str) -> Option<f64> {
    let x: f64 = text.parse().ok()?;
    if x.is_infinite() {
        return None;
    }
    if x == 0.0 {
        let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
        if mantissa.bytes().any(|c| matches!(c, b'1'..=b'9')) {
            return None;
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests;
