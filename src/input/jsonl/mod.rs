//! JSON Lines reader: streamed in large chunks, parsed in parallel blocks with serde_json.
//!
//! Owns splitting the stream at line boundaries (on a reader thread that also hashes), numbering
//! lines, and reading every column the run needs from each line in one parse (see [`record`]).
//! It must not validate values; [`Columns`] does. Memory stays near the kept columns: one chunk
//! of the input at a time, so stdin and pipes stream like files.

mod fast;
mod record;
pub(crate) mod scan;

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use rayon::prelude::*;
use serde::de::DeserializeSeed;
use sha2::{Digest, Sha256};

use super::columns::{Columns, READ, READ_FIELDS};
use super::error::{LoadError, Location, RecordProblem};
use super::extra::{Raw, probe, with_discovered};
use super::field::FieldMap;
use super::source::hex;
use super::value::Cell;
use super::{Format, LoadOptions, Loaded, Progress};
use fast::Layout;
use record::{Duplicate, KeyCache, Keys, Plan, RecordSeed};

/// Bytes read from the input per step at least (parsing starts once the first chunk is read)
/// and at most; see [`chunk_size`].
const CHUNK: std::ops::RangeInclusive<usize> = (4 << 20)..=(32 << 20);
/// Bytes read and hashed at a time, within a chunk.
const PIECE: usize = 256 << 10;
/// Target size of one parallel parse job.
const BLOCK: usize = 1 << 20;
/// The UTF-8 byte-order mark some tools write at the start of a text file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads and validates a JSON Lines eval set with the extra columns `options` asks for.
pub fn load(
    reader: &mut (dyn Read + Send),
    size: Option<u64>,
    options: &LoadOptions,
    label: &str,
    progress: &dyn Progress,
) -> Result<Loaded, LoadError> {
    let keys: Keys<'_> = READ_FIELDS.map(|f| options.reads(f).then(|| options.fields.column(f)));
    let out = read(reader, size, &keys, options, label, progress)?;
    finish(out, options, label)
}

/// Reads and validates JSON Lines already in memory (a part of a larger input, whose lines are
/// numbered from `options.first_line`, without the input's byte-order mark: see
/// [`without_bom`]): parsed in place, in parallel blocks; not hashed.
pub fn load_bytes(chunk: &[u8], options: &LoadOptions, label: &str) -> Result<Loaded, LoadError> {
    let keys: Keys<'_> = READ_FIELDS.map(|f| options.reads(f).then(|| options.fields.column(f)));
    let plan = plan_for(chunk, &keys, options);
    let mut columns = Columns::default();
    if let Some(p) = &plan {
        columns = Columns::new(p.extra_columns());
        let (parts, _) = parse_chunk(chunk, options.first_line, p, &options.fields);
        parts.into_iter().for_each(|part| columns.append(part));
    }
    let plan = plan.unwrap_or_else(|| Plan::new(&keys, options.extras.clone()));
    let out = JsonlOutput {
        columns,
        requests: plan.requests,
        sha256: String::new(),
        bytes: chunk.len() as u64,
    };
    finish(out, options, label)
}

/// The input's first bytes without a byte-order mark (which is not part of the first record;
/// anywhere else it is, and the record is refused).
pub fn without_bom(first: &[u8]) -> &[u8] {
    first.strip_prefix(BOM).unwrap_or(first)
}

/// Validates what [`read`] or [`load_bytes`] read and lists the columns seen.
fn finish(mut out: JsonlOutput, options: &LoadOptions, label: &str) -> Result<Loaded, LoadError> {
    let unread = out.columns.take_unread_keys();
    let finished = (out.columns).finish(label, &options.fields, options.skip_invalid)?;
    let available = finished.extra_names.join(", ");
    // Every key seen: the first kept record's and those no plan read.
    let mut columns: Vec<String> = finished.extra_names.clone();
    columns.extend(unread.iter().cloned());
    columns.sort();
    columns.dedup();
    let extras = finished.extras.finish(&out.requests, &available, label)?;
    let mut extras: Vec<_> = out.requests.into_iter().zip(extras).collect();
    // `calibrate signals` plans its columns from the first record; a column that first appears
    // later is not in every record, so it is listed as left out, not silently missed.
    if let Some(except) = &options.discover_except {
        let late: Vec<String> = (unread.into_iter())
            .filter(|k| !except.contains(k) && !extras.iter().any(|(r, _)| &r.column == k))
            .collect();
        extras.extend(late.into_iter().map(|column| (probe(column), None)));
    }
    Ok(Loaded {
        columns,
        set: finished.set,
        drops: finished.drops,
        sha256: out.sha256,
        bytes: out.bytes,
        format: Format::Jsonl,
        extras,
        notes: Vec::new(),
    })
}

/// The columns read from a JSON Lines stream and facts about the stream.
struct JsonlOutput {
    /// Validated records, not yet finished.
    columns: Columns,
    /// The extra columns read: those asked for, then those discovered.
    requests: Vec<super::ExtraRequest>,
    /// SHA-256 of the bytes read, lowercase hex.
    sha256: String,
    /// Bytes read.
    bytes: u64,
}

/// Reads every line of `reader`: a reader thread reads, hashes and cuts the stream into chunks
/// of whole lines while the rayon pool parses the previous chunk.
fn read(
    reader: &mut (dyn Read + Send),
    size: Option<u64>,
    keys: &Keys<'_>,
    options: &LoadOptions,
    label: &str,
    progress: &dyn Progress,
) -> Result<JsonlOutput, LoadError> {
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
    // Parsed chunks come back for reuse, so their pages are not faulted in and zeroed again.
    let (recycle, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let chunk = chunk_size(options.discover_except.is_some());
        let producer =
            scope.spawn(move || produce(reader, (&send, &recycled), progress, options.hash, chunk));
        let (columns, plan) = consume(receive, &recycle, size, keys, options);
        let (sha256, bytes) = producer
            .join()
            .expect("the reader thread does not panic")
            .map_err(|source| LoadError::Io {
                path: label.into(),
                source,
            })?;
        // An input without records has no columns to discover.
        let plan = plan.unwrap_or_else(|| Plan::new(keys, options.extras.clone()));
        Ok(JsonlOutput {
            columns,
            requests: plan.requests,
            sha256,
            bytes,
        })
    })
}

/// Bytes read per step, parsed in parallel blocks of [`BLOCK`] bytes: two blocks per thread,
/// within [`CHUNK`]. `calibrate signals` discovers its columns from the first chunk's first
/// object, so a run that discovers keeps the largest chunk, the window discovery always had.
fn chunk_size(discovering: bool) -> usize {
    if discovering {
        return *CHUNK.end();
    }
    (rayon::current_num_threads() * 2 * BLOCK).clamp(*CHUNK.start(), *CHUNK.end())
}

/// Reads, hashes and sends chunks of whole lines until the input ends (or the parser stops).
/// Returns the hash and the number of bytes read.
fn produce(
    reader: &mut (dyn Read + Send),
    (send, recycled): (&SyncSender<Vec<u8>>, &Receiver<Vec<u8>>),
    progress: &dyn Progress,
    hash: bool,
    chunk: usize,
) -> std::io::Result<(String, u64)> {
    let mut hasher = hash.then(Sha256::new);
    let mut total: u64 = 0;
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let mut buf = recycled.try_recv().unwrap_or_default();
        buf.clear();
        buf.append(&mut tail);
        // Read until the new bytes hold a line end (or the input ends); a line longer than a
        // chunk keeps growing the same buffer.
        let (cut, eof) = loop {
            let start = buf.len();
            buf.reserve(chunk);
            let mut n = 0;
            // Pieces small enough to stay in cache between the copy in and the hash.
            while n < chunk {
                let at = buf.len();
                // `read_to_end` fills spare capacity without zeroing it first.
                let got = (&mut *reader).take(PIECE as u64).read_to_end(&mut buf)?;
                if let Some(h) = &mut hasher {
                    h.update(&buf[at..]);
                }
                progress.advance(got as u64);
                n += got;
                if got == 0 {
                    break;
                }
            }
            total += n as u64;
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
    Ok((
        hasher.map_or_else(String::new, |h| hex(&h.finalize())),
        total,
    ))
}

/// Parses the chunks as they arrive; returns the columns and the plan they were read with
/// (`None`: the input holds no line that is not blank).
fn consume(
    receive: Receiver<Vec<u8>>,
    recycle: &Sender<Vec<u8>>,
    size: Option<u64>,
    keys: &Keys<'_>,
    options: &LoadOptions,
) -> (Columns, Option<Plan>) {
    let map = &options.fields;
    let mut plan: Option<Plan> = None;
    let mut columns = Columns::default();
    let mut next_line: u64 = options.first_line;
    // Appending one chunk's blocks overlaps with parsing the next.
    let mut pending: Vec<Columns> = Vec::new();
    let mut sized = size.is_none();
    let mut first = true;
    for buf in receive {
        // A byte-order mark before the first record is not part of it.
        let start = if std::mem::take(&mut first) && buf.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let chunk = &buf[start..];
        if plan.is_none() {
            plan = plan_for(chunk, keys, options);
            if let Some(p) = &plan {
                columns = Columns::new(p.extra_columns());
            }
        }
        let Some(p) = &plan else {
            // Blank lines only, so far: nothing to discover columns from, nothing to parse.
            next_line += line_count(chunk);
            recycle.send(buf).ok();
            continue;
        };
        let ((), (parts, lines)) = rayon::join(
            || {
                for part in pending.drain(..) {
                    columns.append(part);
                }
            },
            || parse_chunk(chunk, next_line, p, map),
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
        recycle.send(buf).ok();
    }
    for part in pending {
        columns.append(part);
    }
    (columns, plan)
}

/// What to read from each record: the fixed fields and the requested extras, plus (for
/// `calibrate signals`) every other column of the first record that reads as a JSON object
/// (one that does not is reported by the parse itself), which needs a line that is not blank
/// (`None` until a chunk holds one).
fn plan_for(chunk: &[u8], keys: &Keys<'_>, options: &LoadOptions) -> Option<Plan> {
    let Some(except) = &options.discover_except else {
        return Some(Plan::new(keys, options.extras.clone()));
    };
    let mut lines = (chunk.split(|b| *b == b'\n'))
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .peekable();
    lines.peek()?;
    let names = lines.find_map(record::object_keys).unwrap_or_default();
    Some(Plan::new(
        keys,
        with_discovered(&options.extras, &names, Some(except)),
    ))
}

/// Parses whole lines in parallel blocks; returns the columns and the number of lines consumed.
fn parse_chunk(chunk: &[u8], first_line: u64, plan: &Plan, map: &FieldMap) -> (Vec<Columns>, u64) {
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
        .map(|(block, start)| parse_block(block, start, plan, map))
        .collect();
    (parsed, line - first_line)
}

/// Lines in a block: newlines, plus one for a final line without a newline.
fn line_count(block: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', block).count() as u64;
    newlines + u64::from(!block.is_empty() && !block.ends_with(b"\n"))
}

fn parse_block(block: &[u8], first_line: u64, plan: &Plan, map: &FieldMap) -> Columns {
    let mut columns = Columns::new(plan.extra_columns());
    let mut cache = KeyCache::default();
    let mut raws: Vec<Option<Raw<'_>>> = vec![None; plan.raw_slots()];
    // One record's cells, filled in place (an array of twelve cells is too big to move around).
    let mut cells: [Cell<'_>; READ] = Default::default();
    let mut layout = Layout::default();
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
        raws.fill(None);
        // The learned layout is tried once the block has its first kept record (whose keys
        // the cache holds for the messages below).
        let usable = columns.has_extra_names();
        let keys = match layout.read(line, plan, &mut cache, &mut raws, &mut cells, usable) {
            Some(keys) => keys,
            None => {
                raws.fill(None);
                match parse_record(line, location, plan, &mut cache, &mut raws) {
                    Ok((parsed, keys)) => {
                        cells = parsed;
                        keys
                    }
                    Err(problem) => {
                        columns.reject(problem);
                        continue;
                    }
                }
            }
        };
        if columns.first_columns().is_none() {
            // The first record's keys (still in the cache), for a missing-column message.
            columns.set_first_columns(cache.keys(keys));
        }
        if columns.push(location, &mut cells, &raws, map) && !columns.has_extra_names() {
            // The first kept record's keys, sorted as a JSON object lists them, for the message
            // about a requested column no record has.
            let mut names = cache.keys(keys);
            names.sort();
            names.dedup();
            columns.set_extra_names(names);
        }
    }
    columns.note_unread_keys(cache.unread());
    columns
}

/// Reads one record with serde_json: any shape of JSON, and the words for what is wrong with a
/// line that is not one JSON object with distinct keys.
fn parse_record<'de>(
    line: &'de [u8],
    location: Location,
    plan: &Plan,
    cache: &mut KeyCache,
    raws: &mut [Option<Raw<'de>>],
) -> Result<([Cell<'de>; READ], usize), RecordProblem> {
    let mut duplicate = None;
    let mut de = serde_json::Deserializer::from_slice(line);
    let parsed = RecordSeed {
        plan,
        cache,
        raws,
        duplicate: &mut duplicate,
    }
    .deserialize(&mut de)
    .and_then(|cells| de.end().map(|()| cells));
    parsed.map_err(|e| match duplicate {
        Some(Duplicate(key)) => RecordProblem {
            location,
            column: Some(key),
            expected: "each key once per object".into(),
            found: "it twice".into(),
        },
        None => RecordProblem {
            location,
            column: None,
            expected: "one JSON object per line".into(),
            found: describe_json_error(&e),
        },
    })
}

fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => format!("{} at column {}", &text[..i], e.column()),
        None => text,
    };
    format!("invalid JSON ({text})")
}

#[cfg(test)]
mod tests;
