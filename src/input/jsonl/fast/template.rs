//! The layout of a record, learned once and matched byte for byte: the fastest path for the
//! records of one producer, which write the same keys in the same order with the same
//! spacing.
//!
//! Owns learning that layout from a line the fast path has read, matching later lines against
//! it, and when a block learns again ([`Layout`]). It must not decide anything the fast path
//! would not: a line matches only when every byte outside its values equals the learned
//! line's, so its keys, their order and their distinctness are the learned line's, and its
//! values are read by the fast path's own readers at the same offsets. Anything else gives up
//! (`None`) and the line goes to the fast path.

use super::super::record::{KeyCache, Plan, Read};
use super::super::scan::Scan;
use crate::input::columns::READ;
use crate::input::extra::Raw;
use crate::input::value::{Cell, same_bytes};

/// One record's layout: for each key in order, the bytes before its value and how the value is
/// read; then the bytes after the last value.
#[derive(Debug)]
pub struct Template {
    parts: Vec<Part>,
    /// The closing brace and any whitespace around it.
    tail: Vec<u8>,
}

/// One key of the layout.
#[derive(Debug)]
struct Part {
    /// Everything between the previous value (or the line's start) and this key's value:
    /// whitespace, the comma or opening brace, the quoted key and the colon, as written.
    before: Vec<u8>,
    /// How the plan reads the key's value.
    read: Read,
}

impl Template {
    /// The layout of `line`, a record of the common shape (see [`super::record`]) whose keys
    /// are plain and distinct; `None` for any other line.
    pub fn learn(line: &[u8], plan: &Plan) -> Option<Template> {
        let mut s = Scan { b: line, i: 0 };
        s.ws();
        s.eat(b'{')?;
        s.ws();
        let mut parts: Vec<Part> = Vec::new();
        let mut keys: Vec<&[u8]> = Vec::new();
        let mut end = 0;
        loop {
            let key = s.key()?;
            if keys.contains(&key) {
                return None;
            }
            keys.push(key);
            s.ws();
            s.eat(b':')?;
            s.ws();
            let read = plan.read(plan.slot(key));
            parts.push(Part {
                before: line[end..s.i].to_vec(),
                read,
            });
            match read {
                Read::Skip => s.skip_value()?,
                Read::Cell(_) => drop(s.cell()?),
                Read::Raw(..) => drop(s.raw()?),
            }
            end = s.i;
            if s.member_end()? {
                break;
            }
        }
        s.ws();
        (s.i == line.len()).then(|| Template {
            parts,
            tail: line[end..].to_vec(),
        })
    }

    /// Reads `line` if it has this layout, as [`super::record`] would read it: the fixed
    /// fields' cells into `cells`, the extra columns' values into `raws` (all `None` on entry)
    /// and the number of keys. `None`: the line has another layout or a value the fast path
    /// leaves to serde (`raws` and `cells` may hold values by then).
    pub fn read<'de>(
        &self,
        line: &'de [u8],
        raws: &mut [Option<Raw<'de>>],
        cells: &mut [Cell<'de>; READ],
    ) -> Option<usize> {
        for cell in cells.iter_mut() {
            *cell = Cell::Missing;
        }
        let mut s = Scan { b: line, i: 0 };
        for part in &self.parts {
            let end = s.i + part.before.len();
            if !same_bytes(line.get(s.i..end)?, &part.before) {
                return None;
            }
            s.i = end;
            s.value(part.read, raws, cells)?;
        }
        same_bytes(line.get(s.i..)?, &self.tail).then_some(self.parts.len())
    }
}

/// Layouts a block learns at most: in a file whose records keep changing layout, the block
/// stops learning after this many and drops its layout at the next miss, so the lines pay for
/// neither a layout that misses nor learning a new one.
const LEARN: usize = 64;

/// The layout a block's records were last seen to share (see [`Template`]).
///
/// A line read by the layout does not pass through the block's [`KeyCache`]: that is sound
/// because every key of the layout was looked up in the cache when the fast path read the line
/// it was learned from (so the cache's list of unread keys is already complete), and because
/// what the fast path answers does not depend on what the cache holds (only how fast it does).
#[derive(Default)]
pub struct Layout {
    template: Option<Template>,
    learned: usize,
}

impl Layout {
    /// Reads `line` by the learned layout when `usable` and it matches, else by the fast path
    /// (learning the line's layout when it has none or the old one missed); `None`: the serde
    /// path must read it. Same arguments and answers as [`record`](super::record), which alone
    /// updates the cache.
    pub fn read<'de>(
        &mut self,
        line: &'de [u8],
        plan: &Plan,
        cache: &mut KeyCache,
        raws: &mut [Option<Raw<'de>>],
        cells: &mut [Cell<'de>; READ],
        usable: bool,
    ) -> Option<usize> {
        let mut missed = self.template.is_none();
        if let Some(t) = self.template.as_ref().filter(|_| usable) {
            if let Some(keys) = t.read(line, raws, cells) {
                return Some(keys);
            }
            raws.fill(None);
            missed = true;
            if self.learned == LEARN {
                self.template = None;
            }
        }
        let keys = super::record(line, plan, cache, raws, cells)?;
        if missed && self.learned < LEARN {
            self.template = Template::learn(line, plan);
            self.learned += 1;
        }
        Some(keys)
    }
}
