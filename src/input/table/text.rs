//! CSV text into typed polars columns, with every row's line number.
//!
//! Owns parsing CSV bytes with the `csv` crate (quoted fields, newlines inside quotes, a UTF-8
//! byte-order mark, blank lines skipped as JSON Lines skips them), the header's checks (UTF-8,
//! no name twice) and typing each read column from all of its rows: numbers when every
//! non-empty cell spells a number (surrounding spaces allowed), booleans when every one spells
//! a boolean, text otherwise, so a column whose values change kind after any number of rows is
//! read whole and a bad value reaches per-row validation, which names its line. Rows whose
//! field count differs from the header's are set aside with their line. It must not validate
//! values.

use polars::prelude::*;

/// A row whose number of fields differs from the header's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// How many good rows come before it (it sits before frame row `before`).
    pub before: usize,
    /// The line it starts on (the header is line 1).
    pub line: u64,
    /// Its number of fields.
    pub found: usize,
    /// It is the file's last record and opens a quote that is never closed.
    pub unclosed_quote: bool,
}

/// A parsed CSV table: the requested columns, typed.
pub struct CsvTable {
    /// The columns read, typed.
    pub frame: DataFrame,
    /// The line each frame row starts on.
    pub lines: Vec<u64>,
    /// Rows with the wrong number of fields, in file order.
    pub bad: Vec<BadRow>,
}

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes)
}

/// The header's column names, or a message (without the file name) naming line 1.
pub fn header(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut csv = reader(bytes);
    let header = csv
        .byte_headers()
        .map_err(|e| format!("1: not valid CSV ({e})"))?;
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let name = std::str::from_utf8(name).map_err(|_| {
            format!(
                "1: column {} of the header is not UTF-8 text (found {})",
                i + 1,
                escape_bytes(name)
            )
        })?;
        if let Some(first) = names.iter().position(|n| n == name) {
            return Err(format!(
                "1: column {:?} appears twice in the header (columns {} and {}); rename one",
                name,
                first + 1,
                i + 1
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// Bytes for a message: text where they are printable UTF-8, `\xNN` escapes elsewhere.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&c.escape_default().to_string()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// What one column's cells have been so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Every non-empty cell is a number.
    Numbers,
    /// Every non-empty cell is a boolean.
    Bools,
    /// Anything else: kept as text.
    Text,
}

/// One column being read: numbers or booleans while they last, text when asked or needed.
struct Builder {
    index: usize,
    name: String,
    kind: Kind,
    numbers: Vec<Option<f64>>,
    bools: Vec<Option<bool>>,
    text: Vec<Option<String>>,
}

impl Builder {
    fn new(index: usize, name: &str, as_text: bool) -> Builder {
        Builder {
            index,
            name: name.to_string(),
            kind: if as_text { Kind::Text } else { Kind::Numbers },
            numbers: Vec::new(),
            bools: Vec::new(),
            text: Vec::new(),
        }
    }

    /// Adds one cell; returns false when the column must be re-read as text.
    fn push(&mut self, cell: &[u8]) -> bool {
        let text = std::str::from_utf8(cell).ok();
        match self.kind {
            Kind::Text => {
                // Not UTF-8: kept with U+FFFD for the bad bytes, which validation quotes.
                self.text.push(match text {
                    Some("") => None,
                    Some(t) => Some(t.to_string()),
                    None => Some(String::from_utf8_lossy(cell).into_owned()),
                });
                true
            }
            Kind::Numbers => match text.map(str::trim) {
                Some("") => {
                    self.numbers.push(None);
                    true
                }
                Some(t) => match t.parse::<f64>() {
                    Ok(x) => {
                        self.numbers.push(Some(x));
                        true
                    }
                    // A first boolean before any number: a boolean column.
                    Err(_) => match boolean(t) {
                        Some(b) if self.numbers.iter().all(Option::is_none) => {
                            self.kind = Kind::Bools;
                            self.bools = vec![None; self.numbers.len()];
                            self.numbers = Vec::new();
                            self.bools.push(Some(b));
                            true
                        }
                        _ => false,
                    },
                },
                None => false,
            },
            Kind::Bools => match text.map(str::trim) {
                Some("") => {
                    self.bools.push(None);
                    true
                }
                Some(t) => match boolean(t) {
                    Some(b) => {
                        self.bools.push(Some(b));
                        true
                    }
                    None => false,
                },
                None => false,
            },
        }
    }

    /// Drops the last cell.
    fn pop(&mut self) {
        match self.kind {
            Kind::Numbers => drop(self.numbers.pop()),
            Kind::Bools => drop(self.bools.pop()),
            Kind::Text => drop(self.text.pop()),
        }
    }

    fn finish(self) -> Column {
        let name: PlSmallStr = self.name.as_str().into();
        match self.kind {
            Kind::Numbers => Series::new(name, self.numbers).into(),
            Kind::Bools => Series::new(name, self.bools).into(),
            Kind::Text => Series::new(name, self.text).into(),
        }
    }
}

fn boolean(t: &str) -> Option<bool> {
    match t {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Reads the columns `projection` (names from `names`, the header), the `text` ones as text
/// and the others typed from their cells.
pub fn read(
    bytes: &[u8],
    names: &[String],
    projection: &[String],
    text: &[String],
) -> Result<CsvTable, String> {
    let mut as_text: Vec<String> = text.to_vec();
    loop {
        match attempt(bytes, names, projection, &as_text)? {
            Ok(table) => return Ok(table),
            // A column held something other than what its first cells promised: read it
            // again as text (at most once per column).
            Err(column) => as_text.push(column),
        }
    }
}

/// One pass over the rows; `Err(column)` when `column` must be read as text.
fn attempt(
    bytes: &[u8],
    names: &[String],
    projection: &[String],
    text: &[String],
) -> Result<Result<CsvTable, String>, String> {
    let mut builders: Vec<Builder> = projection
        .iter()
        .map(|p| {
            let index = names
                .iter()
                .position(|n| n == p)
                .expect("projected from the header");
            Builder::new(index, p, text.contains(p))
        })
        .collect();
    let width = names.len();
    let mut csv = reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    // The csv crate's own line count skips blank lines; count newlines up to each record.
    let mut counted = (0usize, 1u64);
    let mut last_start = None;
    loop {
        let more = csv.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("{line}: not valid CSV ({e})")
        })?;
        if !more {
            break;
        }
        let mut start = (record
            .position()
            .expect("a read record has a position")
            .byte() as usize)
            .min(bytes.len());
        // A record's position is where its read began, before the blank lines it skipped.
        while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        counted.1 += memchr::memchr_iter(b'\n', &bytes[counted.0..start]).count() as u64;
        counted.0 = start;
        last_start = Some(start);
        let line = counted.1;
        if record.len() != width {
            bad.push(BadRow {
                before: lines.len(),
                line,
                found: record.len(),
                unclosed_quote: false,
            });
            continue;
        }
        for b in &mut builders {
            if !b.push(&record[b.index]) {
                return Ok(Err(b.name.clone()));
            }
        }
        lines.push(line);
    }
    if last_start.is_some_and(|start| opens_unclosed_quote(&bytes[start..])) {
        unclosed_quote(&mut lines, &mut bad, &mut builders, width);
    }
    let columns: Vec<Column> = builders.into_iter().map(Builder::finish).collect();
    let frame = DataFrame::new(lines.len(), columns).map_err(|e| e.to_string())?;
    Ok(Ok(CsvTable { frame, lines, bad }))
}

/// Marks the last record, which runs to the end of the file inside a quote, as a bad row
/// whatever its field count.
fn unclosed_quote(
    lines: &mut Vec<u64>,
    bad: &mut Vec<BadRow>,
    builders: &mut [Builder],
    width: usize,
) {
    match bad.last_mut() {
        Some(b) if b.before == lines.len() => b.unclosed_quote = true,
        _ => {
            let line = lines.pop().expect("a last record");
            builders.iter_mut().for_each(Builder::pop);
            bad.push(BadRow {
                before: lines.len(),
                line,
                found: width,
                unclosed_quote: true,
            });
        }
    }
}

/// Whether the text of a last record holds an odd number of quotes: a quote opened and never
/// closed, which makes the rest of the file one field.
fn opens_unclosed_quote(rest: &[u8]) -> bool {
    rest.iter().filter(|&&b| b == b'"').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bytes: &[u8]) -> Vec<String> {
        header(bytes).unwrap()
    }

    fn dtypes(t: &CsvTable) -> Vec<String> {
        t.frame.dtypes().iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn types_a_column_from_all_its_rows() {
        // Issue 13.6: a column that changes kind after row 100 is read whole.
        let mut text = String::from("a,b,c\n");
        for _ in 0..150 {
            text.push_str("1,0,true\n");
        }
        text.push_str(" 0.5 ,x,false\n");
        let bytes = text.as_bytes();
        let all = vec!["a".to_string(), "b".into(), "c".into()];
        let t = read(bytes, &names(bytes), &all, &[]).unwrap();
        assert_eq!(dtypes(&t), ["f64", "str", "bool"]);
        let a = t.frame.column("a").unwrap().f64().unwrap().get(150);
        assert_eq!(a, Some(0.5));
        assert_eq!(t.lines.last(), Some(&152));
    }

    #[test]
    fn lines_count_newlines_inside_quotes_and_skip_blank_lines() {
        // Issue 13.14/13.15: the row after a quoted newline starts on line 4; blank lines
        // (a trailing one too) are no records.
        let bytes = b"a,b\n1,\"x\ny\"\n2,z\n\n3,w\n\n";
        let t = read(bytes, &names(bytes), &["a".into()], &[]).unwrap();
        assert_eq!(t.lines, [2, 4, 6]);
        assert!(t.bad.is_empty());
    }

    #[test]
    fn wrong_widths_are_set_aside_with_their_line() {
        let bytes = b"a,b\n1,2\n3\n4,5,6\n7,8\n";
        let t = read(bytes, &names(bytes), &["a".into()], &[]).unwrap();
        assert_eq!(t.lines, [2, 5]);
        let found: Vec<(usize, u64, usize)> =
            t.bad.iter().map(|b| (b.before, b.line, b.found)).collect();
        assert_eq!(found, [(1, 3, 1), (1, 4, 3)]);
    }

    #[test]
    fn an_unclosed_quote_is_named() {
        let bytes = b"a,b\n1,2\n3,\"oops\n4,5\n";
        let t = read(bytes, &names(bytes), &["a".into()], &[]).unwrap();
        assert_eq!(t.bad.len(), 1);
        assert!(t.bad[0].unclosed_quote);
        assert_eq!(t.bad[0].line, 3);
    }

    #[test]
    fn header_checks() {
        assert_eq!(names(b"\xef\xbb\xbfa,b\n1,2\n"), ["a", "b"]);
        let twice = header(b"a,b,a\n1,2,3\n").unwrap_err();
        assert_eq!(
            twice,
            "1: column \"a\" appears twice in the header (columns 1 and 3); rename one"
        );
        let binary = header(b"\xff\xfe\x01x,b\n").unwrap_err();
        assert_eq!(
            binary,
            "1: column 1 of the header is not UTF-8 text (found \"\\xff\\xfe\\u{1}x\")"
        );
    }
}
