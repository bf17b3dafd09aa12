//! The fast path for one JSON Lines record: a flat object whose keys carry no escapes and whose
//! values are scalars, read in one scan without serde.
//!
//! Owns recognising that common shape and nothing else: it accepts only lines that serde_json
//! accepts too and yields the same cells and raw values, and it gives up (returns `None`) on
//! anything else (an escape, a nested value it would have to read, a number out of range, a
//! duplicate key, a syntax error), so the serde path in [`record`](super::record) decides those
//! and words their errors. It must not validate values; [`Columns`](crate::input::columns::Columns)
//! does. Its submodule [`template`] reads the lines that repeat a record's layout byte for byte,
//! with the same answers.

use std::borrow::Cow;

use serde_json::Value as Json;

mod template;

pub use template::Layout;

use super::record::{KeyCache, Plan, Read};
use super::scan::{Scan, float};
use crate::input::columns::READ;
use crate::input::extra::Raw;
use crate::input::value::Cell;

/// Reads `line` (not blank, without its line end) if it has the common shape: the fixed
/// fields' cells into `cells` and the number of keys, with the extra columns' values in `raws`
/// (all `None` on entry). `None`: the serde path must read this line (`raws` and `cells` may
/// hold values by then).
pub fn record<'de>(
    line: &'de [u8],
    plan: &Plan,
    cache: &mut KeyCache,
    raws: &mut [Option<Raw<'de>>],
    cells: &mut [Cell<'de>; READ],
) -> Option<usize> {
    let mut s = Scan { b: line, i: 0 };
    for cell in cells.iter_mut() {
        *cell = Cell::Missing;
    }
    s.ws();
    s.eat(b'{')?;
    s.ws();
    let mut position = 0;
    loop {
        // Records of one file mostly list the same keys in the same order: match the quoted
        // key where the last record had it before scanning for its end.
        let read = match cache.expected(position, &line[s.i..]) {
            Some((len, slot)) => {
                s.i += len;
                slot
            }
            None => {
                let key = s.key()?;
                cache.lookup(position, key, plan).ok()?
            }
        };
        s.ws();
        s.eat(b':')?;
        s.ws();
        position += 1;
        s.value(plan.read(read), raws, cells)?;
        if s.member_end()? {
            break;
        }
    }
    s.ws();
    (s.i == line.len()).then_some(position)
}

impl<'a> Scan<'a> {
    /// Reads the value at the cursor as `read` says: skipped, into a fixed field's cell, or into
    /// an extra column's slot of `raws` (and the cell of the fixed field it also fills).
    // Always inlined: called once per key on the hot paths, where a call costs 7 % of the
    // instructions of reading a record.
    #[inline(always)]
    fn value(
        &mut self,
        read: Read,
        raws: &mut [Option<Raw<'a>>],
        cells: &mut [Cell<'a>; READ],
    ) -> Option<()> {
        match read {
            Read::Skip => self.skip_value()?,
            Read::Cell(i) => cells[i] = self.cell()?,
            Read::Raw(slot, field) => {
                let raw = self.raw()?;
                if let Some(i) = field {
                    cells[i] = super::record::cell(&raw);
                }
                raws[slot] = Some(raw);
            }
        }
        Some(())
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
}

#[cfg(test)]
mod tests;
