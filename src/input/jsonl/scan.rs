//! A cursor over one JSON Lines line for the hand-written fast paths (eval records in
//! `jsonl::fast`, production logs in `input::logs`): whitespace, literals, plain strings
//! and numbers checked against the JSON grammar, and skipping values no column reads.
//!
//! Owns those primitives and agreeing with serde_json on what they accept: each one accepts only
//! what serde_json accepts and gives up (`None`) on the rest, so the caller can fall back to the
//! serde path, which words the errors. It must not know columns, cells or records.

/// Strings up to this long are scanned eight bytes at a time; past it, by a vector search.
const SHORT: usize = 32;

/// A cursor over one line.
pub(crate) struct Scan<'a> {
    /// The line, without its line end.
    pub(crate) b: &'a [u8],
    /// The next byte to read.
    pub(crate) i: usize,
}

impl<'a> Scan<'a> {
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub(crate) fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    pub(crate) fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Skips JSON whitespace.
    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The bytes of a string without escapes or control characters, after its opening quote
    /// has been eaten; `None` for any other string.
    pub(crate) fn plain_string(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let rest = &self.b[start..];
        // Most strings (keys, labels) end within a few words, where testing eight bytes at a
        // time beats setting up a vector search.
        let mut at = 0;
        let end = loop {
            if at >= SHORT {
                let end = at + memchr::memchr2(b'"', b'\\', &rest[at..])?;
                if rest[at..end].iter().any(|&c| c < 0x20) {
                    return None;
                }
                break end;
            }
            let Some(word) = rest.get(at..at + 8) else {
                break at + rest[at..].iter().position(|&c| stops_string(c))?;
            };
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            match first_stop(word) {
                Some(k) => break at + k,
                None => at += 8,
            }
        };
        if rest[end] != b'"' {
            return None;
        }
        self.i = start + end + 1;
        Some(&rest[..end])
    }

    /// An object key, as bytes (the serde path reads keys as bytes too: no UTF-8 check).
    pub(crate) fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        self.plain_string()
    }

    /// A string value, which must be UTF-8 (serde_json checks strings it reads as text).
    pub(crate) fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.plain_string()?).ok()
    }

    /// The literal `word` (its first byte already seen, not eaten).
    pub(crate) fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A number's text, checked against the JSON grammar:
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    pub(crate) fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.skip_number()?;
        // The grammar admits only ASCII, so the slice is text.
        std::str::from_utf8(&self.b[start..self.i]).ok()
    }

    /// Skips a number, checked against the JSON grammar.
    pub(crate) fn skip_number(&mut self) -> Option<()> {
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
    pub(crate) fn float(&mut self) -> Option<f64> {
        if let Some(x) = self.short_float() {
            return Some(x);
        }
        self.any_float()
    }

    /// [`float`](Self::float) of the numbers eval sets are mostly made of: at most seven digits
    /// before the point and seven after, with eight bytes readable after each run (so the byte
    /// that ends it is seen). Reads the two runs with one [`eight_digits`] each, without loops;
    /// `None` (nothing consumed) for any other text, which [`any_float`](Self::any_float)
    /// reads, refusing what JSON refuses. Same double: the mantissa is below 10^14 and the
    /// scale at most 10^7, the exact case `any_float` takes.
    #[inline(always)]
    fn short_float(&mut self) -> Option<f64> {
        let (b, start) = (self.b, self.i);
        let negative = b.get(start) == Some(&b'-');
        let i = start + usize::from(negative);
        let (whole, mut mantissa) = eight_digits(b, i)?;
        // A leading zero of a longer run is JSON's error, which the full path words.
        if whole == 0 || whole == 8 || (whole > 1 && b[i] == b'0') {
            return None;
        }
        let mut end = i + whole;
        let mut scale = 0;
        if b[end] == b'.' {
            let (fraction, digits) = eight_digits(b, end + 1)?;
            if fraction == 0 || fraction == 8 {
                return None;
            }
            mantissa = mantissa * POW10_U64[fraction] + digits;
            scale = fraction;
            end += 1 + fraction;
        }
        // An exponent goes to the full path (`end` is within the eight bytes last read).
        if b[end] | 0x20 == b'e' {
            return None;
        }
        self.i = end;
        let x = mantissa as i64 as f64 / POW10[scale];
        Some(if negative { -x } else { x })
    }

    /// [`float`](Self::float) of any number.
    fn any_float(&mut self) -> Option<f64> {
        // One pass over `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, gathering the digits; an exponent
        // goes to the full parser after `skip_number` checks the grammar.
        let (b, start) = (self.b, self.i);
        let negative = b.get(start) == Some(&b'-');
        let mut i = start + usize::from(negative);
        let (mut mantissa, mut digits) = (0u64, 0u32);
        // Eight bytes at a time (see `eight_digits`), byte by byte near the line's end. The
        // mantissa wraps past 2^64, which only matters beyond 15 digits (the full parse).
        let mut take_digits = |i: &mut usize| {
            while let Some((count, value)) = eight_digits(b, *i) {
                mantissa = mantissa.wrapping_mul(POW10_U64[count]).wrapping_add(value);
                digits += count as u32;
                *i += count;
                if count < 8 {
                    return;
                }
            }
            while let Some(&c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                digits += 1;
                *i += 1;
            }
        };
        match b.get(i)? {
            // A leading zero; serde_json words the error.
            b'0' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => return None,
            b'0'..=b'9' => take_digits(&mut i),
            _ => return None,
        }
        let mut scale = 0i32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let first = i;
            take_digits(&mut i);
            if i == first {
                return None;
            }
            scale = -((i - first) as i32);
        }
        if let Some(b'e' | b'E') = b.get(i) {
            self.skip_number()?;
            return float_bytes(&b[start..self.i]);
        }
        self.i = i;
        if digits <= 15 && scale >= -22 {
            // Below 10^15, so a signed conversion (one instruction) is exact too.
            let x = mantissa as i64 as f64;
            let x = if scale == 0 {
                x
            } else {
                x / POW10[(-scale) as usize]
            };
            return Some(if negative { -x } else { x });
        }
        float_bytes(&b[start..i])
    }

    pub(crate) fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    pub(crate) fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// After an object member's value: `Some(true)` at the object's closing brace,
    /// `Some(false)` past a comma (and the whitespace after it), `None` on anything else.
    pub(crate) fn member_end(&mut self) -> Option<bool> {
        self.ws();
        match self.next()? {
            b',' => {
                self.ws();
                Some(false)
            }
            b'}' => Some(true),
            _ => None,
        }
    }

    /// Skips a value no column reads. Strings are not checked for UTF-8 and numbers not for
    /// range, as serde_json skips them; nested values are left to the serde path.
    pub(crate) fn skip_value(&mut self) -> Option<()> {
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

    /// Skips any value no column reads, as serde_json's `IgnoredAny` does: strings with escapes
    /// (each escape checked, `\u` with four hex digits) and arrays and objects nested up to
    /// [`DEPTH`] levels (serde_json refuses past 128), every part checked against the grammar.
    /// `None` wherever serde_json might answer otherwise.
    pub(crate) fn skip_any(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.skip_string()
            }
            b'[' if depth < DEPTH => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_any(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'{' if depth < DEPTH => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.eat(b'"')?;
                    self.skip_string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_any(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' | b'{' => None,
            _ => self.skip_value(),
        }
    }

    /// Skips the rest of a string (its opening quote eaten), escapes included; `None` on a bad
    /// escape, a control character or no closing quote.
    fn skip_string(&mut self) -> Option<()> {
        loop {
            let rest = &self.b[self.i..];
            let at = memchr::memchr2(b'"', b'\\', rest)?;
            if rest[..at].iter().any(|&c| c < 0x20) {
                return None;
            }
            self.i += at + 1;
            if rest[at] == b'"' {
                return Some(());
            }
            match self.next()? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    let hex = self.b.get(self.i..self.i + 4)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    self.i += 4;
                }
                _ => return None,
            }
        }
    }
}

/// The ASCII digits that start `b[i..]`, read eight bytes at once: how many (0 to 8) and the
/// number they spell. `None` when fewer than eight bytes are left (the caller goes byte by
/// byte).
///
/// A byte is a digit when neither `byte - '0'` borrows nor `byte + 0x46` carries into its top
/// bit; below the first byte that is not, no lane borrows or carries into the next, so the count
/// is exact. The digits are then shifted to the top (a leading zero for each missing one) and
/// combined pairwise, as in fast_float's `parse_eight_digits_unrolled`.
#[inline]
fn eight_digits(b: &[u8], i: usize) -> Option<(usize, u64)> {
    let word = u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?);
    let lanes = word.wrapping_sub(0x3030_3030_3030_3030);
    let not_digit = (word.wrapping_add(0x4646_4646_4646_4646) | lanes) & 0x8080_8080_8080_8080;
    let count = (not_digit.trailing_zeros() / 8) as usize;
    if count == 0 {
        return Some((0, 0));
    }
    let v = lanes << (8 * (8 - count));
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    let high = (v & MASK).wrapping_mul(100 + (1_000_000 << 32));
    let low = ((v >> 16) & MASK).wrapping_mul(1 + (10_000 << 32));
    Some((count, (high.wrapping_add(low) >> 32) & 0xFFFF_FFFF))
}

/// Whether byte `c` ends the plain part of a string: a quote, a backslash or a control byte.
#[inline]
fn stops_string(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The position of the first byte of `word` (little-endian: byte 0 is the lowest) that
/// [`stops_string`], if any.
///
/// `(v - 0x01..) & !v & 0x80..` flags the zero bytes of `v`, and `(w - 0x20..) & !w & 0x80..`
/// the bytes of `w` below 0x20. A borrow can flag a byte wrongly only above a byte that is
/// rightly flagged, so the lowest flag of each test, and of their union, is exact.
#[inline]
fn first_stop(word: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let flags = quote | backslash | control;
    (flags != 0).then(|| (flags.trailing_zeros() / 8) as usize)
}

/// 10^0 to 10^8 as integers, for [`eight_digits`]' runs.
const POW10_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Nesting levels [`Scan::skip_any`] reads before it leaves a line to serde_json.
pub(crate) const DEPTH: usize = 100;

/// 10^0 to 10^22, each exactly a double.
pub(crate) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The number `text` (JSON grammar) as the nearest double, like serde_json with
/// `float_roundtrip`: both round correctly. `None` where serde_json refuses the number (out of
/// range) or where the two might part (an underflow to zero).
pub(crate) fn float(text: &str) -> Option<f64> {
    float_bytes(text.as_bytes())
}

/// [`float`] of a number's bytes (ASCII by the grammar). fast-float2 rounds correctly, as the
/// standard library's parser does, so the two give the same double.
fn float_bytes(text: &[u8]) -> Option<f64> {
    let (x, used) = fast_float2::parse_partial::<f64, _>(text).ok()?;
    if used != text.len() || x.is_infinite() {
        return None;
    }
    if x == 0.0 {
        let mantissa = text
            .split(|&c| matches!(c, b'e' | b'E'))
            .next()
            .unwrap_or(text);
        if mantissa.iter().any(|c| matches!(c, b'1'..=b'9')) {
            return None;
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests;
