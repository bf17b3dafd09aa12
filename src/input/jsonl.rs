//! JSON Lines reader: streamed in large chunks, parsed in parallel blocks with serde_json.
//!
//! Owns splitting the stream at line boundaries (on a reader thread that also hashes), numbering lines and turning each object's
//! wanted keys into [`Cell`]s (other keys are skipped without allocating). It must not validate
//! values; [`Columns`] does. Memory stays near the kept columns: one chunk of the file at a time.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use sha2::{Digest, Sha256};

use super::columns::{Columns, READ};
use super::error::{LoadError, Location, RecordProblem};
use super::field::FieldMap;
use super::value::Cell;
use super::{Progress, hex};

/// The column name of each read field, or `None` for a field this run does not need.
pub type Keys<'a> = [Option<&'a str>; READ];

/// Bytes read from the input per step; parsed in parallel blocks of [`BLOCK`] bytes.
const CHUNK: usize = 32 << 20;
/// Target size of one parallel parse job.
const BLOCK: usize = 1 << 20;

/// The columns read from a JSON Lines stream and facts about the stream.
pub struct JsonlOutput {
    /// Validated records, not yet finished.
    pub columns: Columns,
    /// SHA-256 of the bytes read, lowercase hex.
    pub sha256: String,
    /// Bytes read.
    pub bytes: u64,
}

/// Reads every line of `reader`: a reader thread reads, hashes and cuts the stream into chunks
/// of whole lines while the rayon pool parses the previous chunk.
pub fn read(
    reader: &mut (dyn Read + Send),
    size: Option<u64>,
    keys: &Keys<'_>,
    map: &FieldMap,
    track_locations: bool,
    label: &str,
    progress: &dyn Progress,
) -> Result<JsonlOutput, LoadError> {
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
    // Parsed chunks come back for reuse, so their pages are not faulted in and zeroed again.
    let (recycle, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> std::io::Result<(String, u64)> {
            let mut hasher = Sha256::new();
            let mut total: u64 = 0;
            let mut tail: Vec<u8> = Vec::new();
            loop {
                let mut buf = recycled.try_recv().unwrap_or_default();
                buf.clear();
                buf.append(&mut tail);
                // Read until the new bytes hold a line end (or the input ends); a line longer
                // than a chunk keeps growing the same buffer.
                let (cut, eof) = loop {
                    let start = buf.len();
                    buf.reserve(CHUNK);
                    // `read_to_end` fills spare capacity without zeroing it first.
                    let n = (&mut *reader).take(CHUNK as u64).read_to_end(&mut buf)?;
                    hasher.update(&buf[start..]);
                    total += n as u64;
                    progress.advance(n as u64);
                    if n == 0 {
                        break (buf.len(), true);
                    }
                    if let Some(i) = memchr::memrchr(b'\n', &buf[start..]) {
                        break (start + i + 1, false);
                    }
                };
                tail = buf.split_off(cut);
                if !buf.is_empty() && send.send(buf).is_err() {
                    break; // the parser stopped; nothing more to do
                }
                if eof {
                    break;
                }
            }
            Ok((hex(&hasher.finalize()), total))
        });
        let mut columns = Columns::new(track_locations);
        let mut next_line: u64 = 1;
        // Appending one chunk's blocks overlaps with parsing the next.
        let mut pending: Vec<Columns> = Vec::new();
        let mut sized = size.is_none();
        for chunk in receive {
            let ((), (parts, lines)) = rayon::join(
                || {
                    for part in pending.drain(..) {
                        columns.append(part);
                    }
                },
                || parse_chunk(&chunk, next_line, keys, map, track_locations),
            );
            if !sized && !chunk.is_empty() {
                // Size the columns for the whole file from the first chunk's rows per byte (5 %
                // spare), so they grow once instead of doubling and copying.
                let rows: usize = parts.iter().map(Columns::kept).sum();
                let total = size.unwrap_or_default() as f64;
                let estimate = (rows as f64 * total / chunk.len() as f64 * 1.05) as usize;
                columns.reserve_like(estimate, &parts);
                sized = true;
            }
            pending = parts;
            next_line += lines;
            recycle.send(chunk).ok();
        }
        for part in pending {
            columns.append(part);
        }
        let (sha256, bytes) = producer
            .join()
            .expect("the reader thread does not panic")
            .map_err(|source| LoadError::Io {
                path: label.into(),
                source,
            })?;
        Ok(JsonlOutput {
            columns,
            sha256,
            bytes,
        })
    })
}

/// Parses whole lines in parallel blocks; returns the columns and the number of lines consumed.
fn parse_chunk(
    chunk: &[u8],
    first_line: u64,
    keys: &Keys<'_>,
    map: &FieldMap,
    track_locations: bool,
) -> (Vec<Columns>, u64) {
    let mut blocks: Vec<&[u8]> = Vec::new();
    let mut rest = chunk;
    while rest.len() > BLOCK {
        let cut = match memchr::memchr(b'\n', &rest[BLOCK..]) {
            Some(i) => BLOCK + i + 1,
            None => rest.len(),
        };
        blocks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        blocks.push(rest);
    }
    let counts: Vec<u64> = blocks.par_iter().map(|b| line_count(b)).collect();
    let mut starts = Vec::with_capacity(blocks.len());
    let mut line = first_line;
    for c in &counts {
        starts.push(line);
        line += c;
    }
    let parsed: Vec<Columns> = blocks
        .par_iter()
        .zip(starts)
        .map(|(block, start)| parse_block(block, start, keys, map, track_locations))
        .collect();
    (parsed, line - first_line)
}

/// Lines in a block: newlines, plus one for a final line without a newline.
fn line_count(block: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', block).count() as u64;
    newlines + u64::from(!block.is_empty() && !block.ends_with(b"\n"))
}

fn parse_block(
    block: &[u8],
    first_line: u64,
    keys: &Keys<'_>,
    map: &FieldMap,
    track_locations: bool,
) -> Columns {
    let mut columns = Columns::new(track_locations);
    let mut cache = KeyCache::default();
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len()));
    for (i, end) in ends.enumerate() {
        if start > block.len() {
            break;
        }
        let raw = &block[start..end];
        start = end + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue; // blank lines, including the one after the final newline, are not records
        }
        let location = Location::Line(first_line + i as u64);
        let mut de = serde_json::Deserializer::from_slice(line);
        let parsed = RecordSeed {
            keys,
            cache: &mut cache,
        }
        .deserialize(&mut de)
        .and_then(|cells| de.end().map(|()| cells));
        if columns.first_columns().is_none() && parsed.is_ok() {
            // The first record's keys (still in the cache), for a missing-column message.
            let names = cache
                .slots
                .iter()
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned());
            columns.set_first_columns(names.collect());
        }
        match parsed {
            Ok(cells) => columns.push(location, cells, map),
            Err(e) => columns.reject(RecordProblem {
                location,
                column: None,
                expected: "one JSON object per line".into(),
                found: describe_json_error(&e),
            }),
        }
    }
    columns
}

fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => format!("{} at column {}", &text[..i], e.column()),
        None => text,
    };
    format!("invalid JSON ({text})")
}

/// Remembers, for each key position in an object, the key last seen there and which wanted
/// field it is: records from one producer repeat their key order, so one comparison per key
/// usually replaces a search over every wanted name.
#[derive(Default)]
struct KeyCache {
    slots: Vec<(Vec<u8>, Option<usize>)>,
}

impl KeyCache {
    fn lookup(&mut self, position: usize, key: &[u8], keys: &Keys<'_>) -> Option<usize> {
        if let Some((last, field)) = self.slots.get(position)
            && last.as_slice() == key
        {
            return *field;
        }
        let field = keys
            .iter()
            .position(|k| k.is_some_and(|k| k.as_bytes() == key));
        if position < self.slots.len() {
            self.slots[position] = (key.to_vec(), field);
        } else if position == self.slots.len() {
            self.slots.push((key.to_vec(), field));
        }
        field
    }
}

/// Deserializes one JSON object, keeping only the wanted keys as cells.
struct RecordSeed<'k, 'c> {
    keys: &'k Keys<'k>,
    cache: &'c mut KeyCache,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = [Cell<'de>; READ];

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = [Cell<'de>; READ];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cells: [Cell<'de>; READ] = Default::default();
        let mut position = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.cache.lookup(position, &key, self.keys) {
                Some(i) => cells[i] = map.next_value_seed(CellSeed)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            position += 1;
        }
        Ok(cells)
    }
}

/// A key as raw bytes (unescaped, borrowed when it has no escapes): names are compared
/// byte for byte, which skips UTF-8 validation of every key.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, [u8]>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, [u8]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_vec()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v.as_bytes()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.as_bytes().to_vec()))
    }
}

/// Deserializes one JSON value into a [`Cell`], borrowing strings where possible.
struct CellSeed;

impl<'de> DeserializeSeed<'de> for CellSeed {
    type Value = Cell<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed {
    type Value = Cell<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Cell::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cell::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cell::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Cell::Number(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cell::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cell::Text(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cell::Text(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Cell::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Cell::Null)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::Unsupported("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Cell::Unsupported("an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::columns::READ_FIELDS;

    struct Quiet;
    impl Progress for Quiet {
        fn start(&self, _: Option<u64>) {}
        fn advance(&self, _: u64) {}
    }

    fn load(text: &str) -> Result<(super::super::EvalSet, super::super::Drops), LoadError> {
        let map = FieldMap::default();
        let keys = READ_FIELDS.map(|f| Some(map.column(f)));
        let size = Some(text.len() as u64);
        let out = read(
            &mut text.as_bytes(),
            size,
            &keys,
            &map,
            false,
            "e.jsonl",
            &Quiet,
        )?;
        out.columns.finish("e.jsonl", &map, false)
    }

    #[test]
    fn reads_fields_and_ignores_others() {
        let text = "{\"confidence\":0.5,\"small_quality\":true,\"extra\":{\"a\":[1,2]}}\n\
                    \n{\"small_quality\":0,\"confidence\":-1e-3}";
        let (set, drops) = load(text).unwrap();
        assert_eq!(set.confidence, vec![0.5, -0.001]);
        assert_eq!(set.small_quality, vec![1.0, 0.0]);
        assert_eq!(drops.read, 2);
    }

    #[test]
    fn errors_carry_line_numbers() {
        let text = "{\"confidence\":0.5,\"small_quality\":1}\n\
                    {\"confidence\":\"high\",\"small_quality\":1}\n\
                    {\"confidence\":0.5,\n";
        let err = load(text).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines[0],
            "e.jsonl:2: field \"confidence\": expected a finite number, found \"high\""
        );
        assert!(
            lines[1].starts_with("  e.jsonl:3: expected one JSON object per line, found invalid JSON (EOF while parsing"),
            "{err}"
        );
        assert!(lines[2].contains("2 bad records in all"), "{err}");
    }

    #[test]
    fn escaped_strings_and_objects_in_fields() {
        let text = "{\"confidence\":0.5,\"small_quality\":1,\"task_type\":\"a\\\"b\"}\n\
                    {\"confidence\":{\"x\":1},\"small_quality\":1,\"task_type\":\"c\"}\n";
        let err = load(text).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "e.jsonl:2: field \"confidence\": expected a finite number, found an object"
            ),
            "{err}"
        );
    }

    #[test]
    fn hashes_input_without_final_newline() {
        // Reference: `printf '{"confidence":0.5,"small_quality":1}' | sha256sum`.
        let text = "{\"confidence\":0.5,\"small_quality\":1}";
        let map = FieldMap::default();
        let keys = READ_FIELDS.map(|f| Some(map.column(f)));
        let out = read(&mut text.as_bytes(), None, &keys, &map, false, "e", &Quiet).unwrap();
        assert_eq!(
            out.sha256,
            "f1f2e4196853316cf74582718020906da087405aa917418fb68e6a9d808486f1"
        );
    }

    #[test]
    fn line_numbers_survive_block_boundaries() {
        // Enough lines to span several parallel blocks; the bad one sits near the end.
        let good = "{\"confidence\":0.5,\"small_quality\":1}\n";
        let n = 2 * BLOCK / good.len() + 7;
        let mut text = good.repeat(n);
        text.push_str("{\"confidence\":null,\"small_quality\":1}\n");
        let err = load(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("e.jsonl:{}: field \"confidence\"", n + 1)),
            "{err}"
        );
    }
}
