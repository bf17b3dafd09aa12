//! The line each CSV record starts on, for records parsed from bytes in memory.
//!
//! The `csv` crate's record position is where its read began: before the blank lines and the
//! line feed of a CRLF that it skipped. Owns counting line feeds up to the record's first byte
//! instead; it must not parse.

/// Line feeds counted up to the first byte of each record, records met in file order.
pub(crate) struct RecordLines {
    counted: usize,
    line: u64,
}

impl RecordLines {
    /// Counting from `first_line`, the line the bytes start on.
    pub(crate) fn new(first_line: u64) -> RecordLines {
        RecordLines {
            counted: 0,
            line: first_line,
        }
    }

    /// The line of the record whose read began at byte `position` of `bytes`, and the byte the
    /// record starts at.
    pub(crate) fn line_of(&mut self, bytes: &[u8], position: usize) -> (u64, usize) {
        let mut start = position.min(bytes.len());
        while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        let counted = self.counted.min(start);
        self.line += memchr::memchr_iter(b'\n', &bytes[counted..start]).count() as u64;
        self.counted = self.counted.max(start);
        (self.line, start)
    }
}
