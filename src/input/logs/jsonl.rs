//! JSON Lines logs: read in chunks of whole lines on a reader thread, each chunk's blocks
//! parsed in parallel (the hand-written scan first, serde_json for any other line) while the
//! caller's thread hands the previous chunk's records on in file order.
//!
//! Owns chunking, line numbers and the choice between the two parsers. It must not type values
//! (see `cells`) nor aggregate records.

use std::io::Read;

use serde::de::DeserializeSeed;

use super::{
    Cell, LoadError, LogError, LogOptions, LogRecord, Progress, fast, first_of, picked, record,
    wanted,
};

/// Bytes of whole lines read per step; their lines are parsed in parallel blocks of [`BLOCK`]
/// bytes and handed on in file order, so the caller sees exactly the sequence a line-by-line
/// read gives and memory stays near one chunk.
const CHUNK: usize = 8 << 20;
/// Target size of one parallel parse job.
const BLOCK: usize = 256 << 10;
/// The UTF-8 byte-order mark some tools write at the start of a text file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where a block sits: its first line's number and its line ends.
struct Lines {
    first: u64,
    count: u64,
}

/// One chunk's records, block by block, or its first error.
type Parsed = Result<Vec<Vec<LogRecord>>, LogError>;

pub(super) fn jsonl_records(
    reader: Box<dyn Read + Send>,
    options: &LogOptions,
    path: &str,
    progress: &dyn Progress,
    each: &mut dyn FnMut(LogRecord),
) -> Result<u64, LogError> {
    // A reader thread reads and parses chunk k + 1 while this one hands chunk k on.
    let (send, receive) = std::sync::mpsc::sync_channel::<Parsed>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || parse_chunks(reader, options, path, progress, &send));
        let mut records = 0u64;
        for chunk in receive {
            for record in chunk?.into_iter().flatten() {
                each(record);
                records += 1;
            }
        }
        Ok(records)
    })
}

/// Reads the input chunk by chunk; sends each chunk's records (its blocks parsed in parallel),
/// in file order, or the first error, then stops.
fn parse_chunks(
    mut reader: Box<dyn Read + Send>,
    options: &LogOptions,
    path: &str,
    progress: &dyn Progress,
    send: &std::sync::mpsc::SyncSender<Parsed>,
) {
    use rayon::prelude::*;
    let wanted = wanted(options);
    let canon = first_of(&wanted);
    let mut next_line = 1u64;
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let mut buf = std::mem::take(&mut tail);
        let eof = match fill_lines(&mut reader, &mut buf, path, progress) {
            Ok(eof) => eof,
            Err(e) => return drop(send.send(Err(e))),
        };
        let cut = if eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(buf.len(), |i| i + 1)
        };
        tail = buf.split_off(cut);
        // Blocks end at line ends; each knows its first line's number.
        let mut blocks: Vec<(&[u8], u64, u64)> = Vec::new();
        let mut rest: &[u8] = &buf;
        while !rest.is_empty() {
            let at = BLOCK.min(rest.len());
            let end = memchr::memchr(b'\n', &rest[at - 1..]).map_or(rest.len(), |i| at + i);
            let (block, after) = rest.split_at(end);
            let lines = memchr::memchr_iter(b'\n', block).count() as u64;
            blocks.push((block, next_line, lines));
            next_line += lines;
            rest = after;
        }
        let parsed: Vec<Result<Vec<LogRecord>, LogError>> = (blocks.par_iter())
            .map(|&(block, first, lines)| {
                let at = Lines {
                    first,
                    count: lines,
                };
                parse_block(block, at, (&wanted, &canon), options, path)
            })
            .collect();
        // The first bad line in file order is the one named.
        let chunk: Parsed = parsed.into_iter().collect();
        let failed = chunk.is_err();
        if send.send(chunk).is_err() || failed || (eof && tail.is_empty()) {
            return;
        }
    }
}

/// Reads into `buf` until it holds about [`CHUNK`] bytes ending in a line end, or the input
/// ends (`true`).
fn fill_lines(
    reader: &mut Box<dyn Read + Send>,
    buf: &mut Vec<u8>,
    path: &str,
    progress: &dyn Progress,
) -> Result<bool, LogError> {
    loop {
        let start = buf.len();
        let n = (&mut *reader)
            .take(CHUNK as u64)
            .read_to_end(buf)
            .map_err(|source| LoadError::Io {
                path: path.into(),
                source,
            })?;
        progress.advance(n as u64);
        if n == 0 {
            return Ok(true);
        }
        if memchr::memchr(b'\n', &buf[start..]).is_some() {
            return Ok(false);
        }
    }
}

/// The records of a block of whole lines whose first line is `first`, in order. Lines of the
/// common shape take the hand-written scan ([`fast`]); any other line, and every error, the
/// serde path, which words the message.
fn parse_block(
    block: &[u8],
    Lines { first, count }: Lines,
    (wanted, canon): (&[String], &[usize]),
    options: &LogOptions,
    path: &str,
) -> Result<Vec<LogRecord>, LogError> {
    let mut keys = fast::Keys::new(wanted);
    let mut sets = super::cells::LabelSets::default();
    let mut fast_cells: Vec<Cell<'_>> = Vec::new();
    let mut out = Vec::with_capacity(count as usize + 1);
    // A block of valid UTF-8 has only valid lines (a line end is one ASCII byte).
    let valid = simdutf8::basic::from_utf8(block).ok();
    let ends = memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len()));
    let mut start = 0;
    for (k, end) in ends.enumerate() {
        let raw = &block[start..end];
        start = end + 1;
        let line = first + k as u64;
        let bad = |why: String| LogError::Record {
            path: path.into(),
            line,
            expected: "a JSON object",
            why,
        };
        let raw = if line == 1 {
            raw.strip_prefix(BOM).unwrap_or(raw)
        } else {
            raw
        };
        // The same line as text, when the block is valid.
        let fast_line = valid.and_then(|text| text.get(end - raw.len()..end));
        if let Some(text) = fast_line
            && fast::record(text, &mut keys, &mut fast_cells).is_some()
        {
            let get = |k: usize| fast_cells[canon[k]];
            if let Ok(record) = record(&get, &mut sets, wanted, options, path, line) {
                out.push(record);
                continue;
            }
        }
        let text = std::str::from_utf8(raw).map_err(|e| bad(format!("not UTF-8 text: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let picked = (picked::Pick { wanted })
            .deserialize(&mut de)
            .map_err(|e| bad(e.to_string()))?;
        de.end().map_err(|e| bad(e.to_string()))?;
        let picked = &picked;
        let get = |k: usize| picked[canon[k]].as_ref().map_or(Cell::Missing, Cell::Json);
        out.push(record(&get, &mut sets, wanted, options, path, line)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{LogColumns, LogOptions, read_logs};
    use crate::input::Source;
    use crate::input::testing::Quiet;

    /// Labels are shared between records of the same values, up to a few dozen sets; past
    /// that, and with every kind of value (text, numbers as serde_json spells them, booleans,
    /// null, absent), each record still gets exactly its own values, in file order.
    #[test]
    fn labels_are_each_records_own_past_the_shared_sets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.jsonl");
        let mut text = String::new();
        let mut want: Vec<Vec<Option<String>>> = Vec::new();
        for i in 0..300u32 {
            let segment = format!("s{}", i % 45);
            let (tier, tier_text) = match i % 4 {
                0 => ("1.50".to_string(), Some("1.5".to_string())),
                1 => ("true".to_string(), Some("true".to_string())),
                2 => ("null".to_string(), None),
                _ => ("\"gold\"".to_string(), Some("gold".to_string())),
            };
            text += &format!(
                "{{\"timestamp\":{i},\"confidence\":0.5,\"escalated\":false,\
                 \"segment\":\"{segment}\",\"tier\":{tier}}}\n"
            );
            want.push(vec![Some(segment), tier_text]);
        }
        text += "{\"timestamp\":1,\"confidence\":0.5,\"escalated\":false}\n";
        want.push(vec![None, None]);
        std::fs::write(&path, text).unwrap();
        let options = LogOptions {
            source: Source::File(path),
            format: None,
            columns: LogColumns::new("confidence"),
            labels: vec!["segment".into(), "tier".into()],
            small_model: "small".into(),
        };
        let mut got: Vec<Vec<Option<String>>> = Vec::new();
        read_logs(&options, &Quiet, |r| got.push(r.labels.to_vec())).unwrap();
        assert_eq!(got, want);
    }
}
