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
use rayon::prelude::*;

use decimal::decimal;
use quote::{opens_unclosed_quote, unclosed_quote};

use crate::input::lines::RecordLines;

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
    /// Numbers, 0 where a cell is empty (those rows are in `nulls`): a column without empty
    /// cells moves into polars without a copy.
    numbers: Vec<f64>,
    /// Rows of `numbers` whose cell is empty, ascending.
    nulls: Vec<usize>,
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
            nulls: Vec::new(),
            bools: Vec::new(),
            text: Vec::new(),
        }
    }

    /// Adds one cell; returns false when the column must be re-read as text.
    fn push(&mut self, cell: &[u8]) -> bool {
        let text = || std::str::from_utf8(cell).ok();
        match self.kind {
            Kind::Text => {
                // Not UTF-8: kept with U+FFFD for the bad bytes, which validation quotes.
                self.text.push(match text() {
                    Some("") => None,
                    Some(t) => Some(t.to_string()),
                    None => Some(String::from_utf8_lossy(cell).into_owned()),
                });
                true
            }
            Kind::Numbers => match decimal(cell) {
                Some(x) => {
                    self.numbers.push(x);
                    true
                }
                None => self.push_number_text(text()),
            },
            Kind::Bools => match text().map(str::trim) {
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

    /// A numbers column's cell that is not a short decimal: empty, spaced, an exponent, a
    /// boolean that starts a boolean column, or something else.
    fn push_number_text(&mut self, text: Option<&str>) -> bool {
        match text.map(str::trim) {
            Some("") => {
                self.nulls.push(self.numbers.len());
                self.numbers.push(0.0);
                true
            }
            Some(t) => match t.parse::<f64>() {
                Ok(x) => {
                    self.numbers.push(x);
                    true
                }
                // A first boolean before any number: a boolean column.
                Err(_) => match boolean(t) {
                    Some(b) if self.nulls.len() == self.numbers.len() => {
                        self.kind = Kind::Bools;
                        self.bools = vec![None; self.numbers.len()];
                        self.numbers = Vec::new();
                        self.nulls = Vec::new();
                        self.bools.push(Some(b));
                        true
                    }
                    _ => false,
                },
            },
            None => false,
        }
    }

    /// Appends the cells of the same column from a later chunk; `Err(name)` when the two
    /// chunks' kinds disagree (numbers in one, booleans in the other).
    fn append(&mut self, next: Builder) -> Result<(), String> {
        let empty = |b: &Builder| b.kind == Kind::Numbers && b.nulls.len() == b.numbers.len();
        if self.kind != next.kind && empty(self) && next.kind == Kind::Bools {
            self.kind = Kind::Bools;
            self.bools = vec![None; self.numbers.len()];
            self.numbers = Vec::new();
            self.nulls = Vec::new();
        }
        match (self.kind, next.kind) {
            (Kind::Numbers, Kind::Numbers) => {
                let rows = self.numbers.len();
                self.nulls.extend(next.nulls.iter().map(|r| r + rows));
                self.numbers.extend(next.numbers);
            }
            (Kind::Bools, Kind::Bools) => self.bools.extend(next.bools),
            (Kind::Text, Kind::Text) => self.text.extend(next.text),
            (Kind::Bools, Kind::Numbers) if empty(&next) => self
                .bools
                .extend(std::iter::repeat_n(None, next.numbers.len())),
            _ => return Err(self.name.clone()),
        }
        Ok(())
    }

    /// Drops the last cell.
    fn pop(&mut self) {
        match self.kind {
            Kind::Numbers => {
                self.numbers.pop();
                if self.nulls.last() == Some(&self.numbers.len()) {
                    self.nulls.pop();
                }
            }
            Kind::Bools => drop(self.bools.pop()),
            Kind::Text => drop(self.text.pop()),
        }
    }

    fn finish(self) -> Column {
        let name: PlSmallStr = self.name.as_str().into();
        match self.kind {
            Kind::Numbers if self.nulls.is_empty() => Float64Chunked::from_vec(name, self.numbers)
                .into_series()
                .into(),
            Kind::Numbers => {
                let mut nulls = self.nulls.iter().peekable();
                let cells = self.numbers.iter().enumerate().map(|(row, &x)| {
                    match nulls.next_if(|&&r| r == row) {
                        Some(_) => None,
                        None => Some(x),
                    }
                });
                Float64Chunked::from_iter_options(name, cells)
                    .into_series()
                    .into()
            }
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
/// `offset`: lines before the text's own (a part of a larger file, its header aside).
pub fn read(
    bytes: &[u8],
    names: &[String],
    projection: &[String],
    text: &[String],
    offset: u64,
) -> Result<CsvTable, String> {
    read_in(bytes, names, projection, text, (CHUNK, offset))
}

/// [`read`] with parallel chunks of about `chunk` bytes.
fn read_in(
    bytes: &[u8],
    names: &[String],
    projection: &[String],
    text: &[String],
    chunk: (usize, u64),
) -> Result<CsvTable, String> {
    let mut as_text: Vec<String> = text.to_vec();
    loop {
        match attempt(bytes, names, projection, &as_text, chunk)? {
            Ok(table) => return Ok(table),
            // A column held something other than what its first cells promised: read it
            // again as text (at most once per column).
            Err(column) => as_text.push(column),
        }
    }
}

/// Bytes per chunk when a file without quotes is parsed in parallel.
const CHUNK: usize = 4 << 20;

/// One pass over the rows; `Err(column)` when `column` must be read as text. A file without a
/// quote character has a record on every non-blank line, so it is cut at line ends and its
/// chunks parsed in parallel; any other file is parsed front to back.
fn attempt(
    bytes: &[u8],
    names: &[String],
    projection: &[String],
    text: &[String],
    (chunk, offset): (usize, u64),
) -> Result<Result<CsvTable, String>, String> {
    let columns: Vec<(usize, &str, bool)> = projection
        .iter()
        .map(|p| {
            let index = (names.iter().position(|n| n == p)).expect("projected from the header");
            (index, p.as_str(), text.contains(p))
        })
        .collect();
    let width = names.len();
    // The header is the first line that is not blank.
    let header = (bytes.iter())
        .position(|b| !matches!(b, b'\n' | b'\r'))
        .unwrap_or(bytes.len());
    let body = match memchr::memchr(b'\n', &bytes[header..]) {
        Some(end) if bytes.len() > chunk && memchr::memchr(b'"', bytes).is_none() => {
            header + end + 1
        }
        _ => {
            let part = Part {
                bytes,
                header: true,
                first_line: 1 + offset,
            };
            return Ok(parse(part, &columns, width)?.map(Chunk::table));
        }
    };
    let mut parts = Vec::new();
    let blank = memchr::memchr_iter(b'\n', &bytes[..header]).count() as u64;
    let (mut at, mut line) = (body, 2 + offset + blank);
    while at < bytes.len() {
        let cut = (at + chunk).min(bytes.len());
        let end = match memchr::memchr(b'\n', &bytes[cut..]) {
            Some(i) => cut + i + 1,
            None => bytes.len(),
        };
        parts.push(Part {
            bytes: &bytes[at..end],
            header: false,
            first_line: line,
        });
        line += memchr::memchr_iter(b'\n', &bytes[at..end]).count() as u64;
        at = end;
    }
    let chunks: Vec<Result<Result<Chunk, String>, String>> = parts
        .into_par_iter()
        .map(|part| parse(part, &columns, width))
        .collect();
    let mut all: Option<Chunk> = None;
    for chunk in chunks {
        let chunk = match chunk? {
            Ok(chunk) => chunk,
            Err(column) => return Ok(Err(column)),
        };
        all = Some(match all {
            None => chunk,
            Some(all) => match all.append(chunk) {
                Ok(all) => all,
                Err(column) => return Ok(Err(column)),
            },
        });
    }
    let all = all.unwrap_or_else(|| Chunk::empty(&columns));
    Ok(Ok(all.table()))
}

/// A stretch of CSV text and where it starts.
struct Part<'a> {
    bytes: &'a [u8],
    /// It starts with the header.
    header: bool,
    /// The line its first byte is on.
    first_line: u64,
}

/// The rows of one part, parsed.
struct Chunk {
    builders: Vec<Builder>,
    lines: Vec<u64>,
    bad: Vec<BadRow>,
}

impl Chunk {
    fn empty(columns: &[(usize, &str, bool)]) -> Chunk {
        Chunk {
            builders: (columns.iter())
                .map(|&(index, name, text)| Builder::new(index, name, text))
                .collect(),
            lines: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// This chunk followed by `next`; `Err(column)` when a column's kinds disagree.
    fn append(mut self, next: Chunk) -> Result<Chunk, String> {
        let rows = self.lines.len();
        for (mine, theirs) in self.builders.iter_mut().zip(next.builders) {
            mine.append(theirs)?;
        }
        self.lines.extend(next.lines);
        self.bad.extend(next.bad.into_iter().map(|b| BadRow {
            before: b.before + rows,
            ..b
        }));
        Ok(self)
    }

    fn table(self) -> CsvTable {
        let columns: Vec<Column> = self.builders.into_iter().map(Builder::finish).collect();
        let frame = DataFrame::new(self.lines.len(), columns).expect("columns of one length");
        CsvTable {
            frame,
            lines: self.lines,
            bad: self.bad,
        }
    }
}

/// Parses one part; `Ok(Err(column))` when `column` must be read as text.
fn parse(
    part: Part<'_>,
    columns: &[(usize, &str, bool)],
    width: usize,
) -> Result<Result<Chunk, String>, String> {
    let bytes = part.bytes;
    let mut chunk = Chunk::empty(columns);
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(part.header)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    // The csv crate's own line count skips blank lines; count newlines up to each record.
    let mut lines = RecordLines::new(part.first_line);
    let mut last_start = None;
    loop {
        let more = csv.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line()) + part.first_line - 1;
            format!("{line}: not valid CSV ({e})")
        })?;
        if !more {
            break;
        }
        let position = record
            .position()
            .expect("a read record has a position")
            .clone();
        let (line, start) = lines.line_of(bytes, position.byte() as usize);
        last_start = Some(start);
        if record.len() != width {
            chunk.bad.push(BadRow {
                before: chunk.lines.len(),
                line,
                found: record.len(),
                unclosed_quote: false,
            });
            continue;
        }
        for b in &mut chunk.builders {
            if !b.push(&record[b.index]) {
                return Ok(Err(b.name.clone()));
            }
        }
        chunk.lines.push(line);
    }
    if last_start.is_some_and(|start| opens_unclosed_quote(&bytes[start..])) {
        unclosed_quote(&mut chunk.lines, &mut chunk.bad, &mut chunk.builders, width);
    }
    Ok(Ok(chunk))
}

mod decimal;
mod quote;
#[cfg(test)]
mod tests;
