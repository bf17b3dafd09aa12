//! CSV logs, read front to back with the `csv` crate, each record named by the line it starts on.
//!
//! Owns finding that line: the crate's own record positions can sit before the blank lines and
//! the line feed of a CRLF that precede a record, so the bytes between are looked at to count
//! them. It must not judge values; [`super::record`] does.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use super::cells::LabelSets;
use super::{Cell, LogError, LogOptions, LogRecord, record, wanted};
use crate::input::Progress;

/// Reads every CSV record of `reader`, handing each to `each` in file order; returns how many.
pub(super) fn csv_records(
    reader: Box<dyn Read + Send>,
    options: &LogOptions,
    path: &str,
    progress: &dyn Progress,
    each: &mut dyn FnMut(LogRecord),
) -> Result<u64, LogError> {
    let seen = Rc::new(RefCell::new(Seen::default()));
    let tracked = Tracked {
        inner: reader,
        seen: Rc::clone(&seen),
    };
    let mut csv = csv::ReaderBuilder::new().from_reader(tracked);
    // The line the parser names when it knows it.
    let bad = |line: u64, e: csv::Error| LogError::Record {
        path: path.into(),
        line: e.position().map_or(line, |p| p.line()),
        expected: "a CSV row",
        why: e.to_string(),
    };
    let header = csv.headers().map_err(|e| bad(1, e))?.clone();
    let mut sets = LabelSets::default();
    let wanted = wanted(options);
    let columns: Vec<Option<usize>> = (wanted.iter())
        .map(|w| header.iter().position(|h| h == w))
        .collect();
    let (mut records, mut row, mut offset) = (0u64, csv::StringRecord::new(), 0u64);
    loop {
        let line = csv.position().line() + 1;
        if !csv.read_record(&mut row).map_err(|e| bad(line, e))? {
            return Ok(records);
        }
        let at = csv.position().byte();
        progress.advance(at - offset);
        offset = at;
        let line = match row.position() {
            Some(p) => seen.borrow_mut().line_of(p.byte(), p.line(), at),
            None => line,
        };
        let row = &row;
        let get = |k: usize| match columns[k] {
            Some(k) => match row.get(k) {
                Some("") | None => Cell::Missing,
                Some(text) => Cell::Text(text),
            },
            None => Cell::Missing,
        };
        each(record(&get, &mut sets, &wanted, options, path, line)?);
        records += 1;
    }
}

/// The bytes the parser has been handed and not yet passed: from `start` (a stream offset) on.
#[derive(Default)]
struct Seen {
    start: u64,
    bytes: Vec<u8>,
}

impl Seen {
    /// The line of the record whose read began at stream offset `byte` on line `line` (the
    /// parser's position): one more per line feed before its first byte that is not a line
    /// end. `next` is where the next read begins; bytes before it may be dropped.
    fn line_of(&mut self, byte: u64, line: u64, next: u64) -> u64 {
        let from = byte.saturating_sub(self.start) as usize;
        let ends = self.bytes.get(from..).unwrap_or_default();
        let skipped = ends.iter().take_while(|&&b| b == b'\n' || b == b'\r');
        let line = line + skipped.filter(|&&b| b == b'\n').count() as u64;
        // Dropped in steps of at least 64 KiB: the bytes kept after the cut move once per step,
        // not once per record.
        let drop = (next.saturating_sub(self.start) as usize).min(self.bytes.len());
        if drop >= 1 << 16 {
            self.bytes.drain(..drop);
            self.start += drop as u64;
        }
        line
    }
}

/// A reader that keeps a copy of what it hands on, for [`Seen::line_of`].
struct Tracked {
    inner: Box<dyn Read + Send>,
    seen: Rc<RefCell<Seen>>,
}

impl Read for Tracked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.borrow_mut().bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn a_record_is_on_the_line_after_the_line_ends_its_read_began_at() {
        // By hand: "a,b\r\n" is line 1; the record "x,1" after a CRLF's line feed (offset 4)
        // and a blank line is on line 3.
        let mut seen = Seen {
            start: 0,
            bytes: b"a,b\r\n\r\nx,1\r\n".to_vec(),
        };
        assert_eq!(seen.line_of(4, 1, 10), 3);
        assert_eq!(
            (seen.start, seen.bytes.len()),
            (0, 12),
            "kept until 64 KiB are passed"
        );
        // Past 64 KiB the bytes before the next read are dropped; offsets stay the stream's.
        seen.bytes.extend(std::iter::repeat_n(b'\n', 1 << 16));
        seen.bytes.extend_from_slice(b"y,2\n");
        // From offset 10: the CRLF's line feed and 2^16 blank lines before "y".
        assert_eq!(seen.line_of(10, 2, 12 + (1 << 16)), 2 + 1 + (1 << 16));
        assert_eq!(
            (seen.start, seen.bytes.as_slice()),
            (12 + (1 << 16), &b"y,2\n"[..])
        );
        // A record that starts where its read began keeps the parser's line.
        let mut seen = Seen {
            start: 0,
            bytes: b"a,b\nx,1\n".to_vec(),
        };
        assert_eq!(seen.line_of(4, 2, 8), 2);
    }
}
