//! Reading a large eval set in parts, for `calibrate aggregate`: memory holds one part.

use super::LoadError;
use crate::input::source::{self, Input};
use crate::input::{Format, LoadOptions, Loaded, NoProgress, Progress, Source, jsonl, table};

/// Reads an eval set in parts and hands each to `each`, so that memory holds one part at a time
/// (`calibrate aggregate` on inputs larger than memory). JSON Lines (a file, a pipe, stdin,
/// compressed or not) is cut into parts of whole lines of about `part_bytes`, each loaded as a
/// file of its own whose line numbers continue the previous part's; other formats are loaded
/// whole, as one part.
///
/// The rules about bad records span the parts: the records of every part are checked before a
/// refusal names the first few of them and counts them all, and with `--skip-invalid` a part
/// whose records are all invalid is dropped whole. Returns the records of such parts (read
/// and dropped; `each` never sees them).
pub fn load_in_parts<E: From<LoadError> + Send>(
    options: &LoadOptions,
    part_bytes: usize,
    progress: &dyn Progress,
    each: &mut Each<'_, E>,
) -> Result<u64, E> {
    let mut merged = Merged::default();
    read_parts(options, part_bytes, progress, each, &mut merged)?;
    merged.flush(each)?;
    merged.finish().map_err(E::from)
}

/// What a caller does with each part.
pub type Each<'a, E> = dyn FnMut(Loaded) -> Result<(), E> + Send + 'a;

/// Bad records of the parts read so far.
#[derive(Default)]
struct Merged {
    /// The first refusal's input name, and the bad records' count, first few and whether every
    /// record so far was bad.
    bad: Option<(String, u64, bool, Vec<crate::input::error::RecordProblem>)>,
    /// A part had good records.
    good: bool,
    /// Records of parts dropped whole (`--skip-invalid`).
    dropped: u64,
    /// The part loaded last, not yet handed on (see [`Merged::overlap`]).
    pending: Option<Result<Loaded, LoadError>>,
}

impl Merged {
    /// Loads the next part with `load` while `each` takes the part loaded before it, side by
    /// side: parsing one part and aggregating another keep both cores busy. Parts still reach
    /// `each`, and their refusals merge, in the input's order; [`Merged::flush`] hands on the
    /// last.
    fn overlap<E: From<LoadError> + Send>(
        &mut self,
        load: impl FnOnce() -> Result<Loaded, LoadError> + Send,
        each: &mut Each<'_, E>,
    ) -> Result<(), E> {
        let before = self.pending.take();
        let (next, fed) = rayon::join(load, || match before {
            Some(part) => self.feed(part, each),
            None => Ok(()),
        });
        self.pending = Some(next);
        fed
    }

    /// Hands on the part [`Merged::overlap`] loaded last.
    fn flush<E: From<LoadError>>(&mut self, each: &mut Each<'_, E>) -> Result<(), E> {
        match self.pending.take() {
            Some(part) => self.feed(part, each),
            None => Ok(()),
        }
    }

    /// Hands a part to `each`, or keeps its refusal to merge with the other parts'.
    fn feed<E: From<LoadError>>(
        &mut self,
        part: Result<Loaded, LoadError>,
        each: &mut Each<'_, E>,
    ) -> Result<(), E> {
        use crate::input::error::SHOWN;
        match part {
            Ok(loaded) => {
                self.good = true;
                if self.bad.is_none() {
                    each(loaded)?;
                }
            }
            Err(LoadError::BadRecords {
                path,
                total,
                all,
                first,
            }) => match &mut self.bad {
                None => self.bad = Some((path, total, all, first)),
                Some((_, t, a, f)) => {
                    *t += total;
                    *a &= all;
                    f.extend(first);
                    f.truncate(SHOWN);
                }
            },
            Err(LoadError::AllDropped { dropped, .. }) => self.dropped += dropped,
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    fn finish(self) -> Result<u64, LoadError> {
        match self.bad {
            Some((path, total, all, first)) => Err(LoadError::BadRecords {
                path,
                total,
                all: all && !self.good,
                first,
            }),
            None => Ok(self.dropped),
        }
    }
}

fn read_parts<E: From<LoadError> + Send>(
    options: &LoadOptions,
    part_bytes: usize,
    progress: &dyn Progress,
    each: &mut Each<'_, E>,
    merged: &mut Merged,
) -> Result<(), E> {
    let label = options.source.label();
    let (format, input, _) = source::open(&options.source, options.format)?;
    let (mut reader, size) = match input {
        Input::Stream { reader, size } => (reader, size),
        Input::Array { mut reader, .. } => {
            let loaded = jsonl::load(&mut reader, None, options, &label, progress);
            return merged.feed(loaded, each);
        }
        Input::Seekable { file, .. } => {
            return parquet_parts(file, options, part_bytes, each, merged);
        }
    };
    progress.start(size);
    if format != Format::Jsonl {
        return csv_parts(&mut reader, options, part_bytes, progress, each, merged);
    }
    stream_parts(&mut reader, options, part_bytes, progress, each, merged)
}

/// [`load_in_parts`] on a JSON Lines stream.
fn stream_parts<E: From<LoadError> + Send>(
    reader: &mut (dyn std::io::Read + Send),
    options: &LoadOptions,
    part_bytes: usize,
    progress: &dyn Progress,
    each: &mut Each<'_, E>,
    merged: &mut Merged,
) -> Result<(), E> {
    let label = options.source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let mut first_line = 1u64;
    let mut any = false;
    // A reader thread cuts the next part while this one is parsed and aggregated.
    std::thread::scope(|scope| -> Result<(), E> {
        let (send, receive) = std::sync::mpsc::sync_channel::<std::io::Result<Part>>(1);
        scope.spawn(move || {
            let mut parts = Parts {
                reader,
                carry: Vec::new(),
                part_bytes,
                ended: false,
            };
            while let Some(part) = parts.next().transpose() {
                let failed = part.is_err();
                // A closed channel means the consumer stopped on an error: stop reading.
                if send.send(part).is_err() || failed {
                    break;
                }
            }
        });
        for part in receive {
            let part = part.map_err(io)?;
            progress.advance(part.read);
            let lines = memchr::memchr_iter(b'\n', &part.bytes).count() as u64;
            // The input's byte-order mark starts its first part; a part never starts a line.
            let bytes = match first_line {
                1 => jsonl::without_bom(&part.bytes),
                _ => &part.bytes[..],
            };
            if bytes.iter().any(|b| !b.is_ascii_whitespace()) {
                let part_options = LoadOptions {
                    first_line,
                    hash: false,
                    ..options.clone()
                };
                let load = || {
                    let loaded = jsonl::load_bytes(bytes, &part_options, &label);
                    loaded.map_err(|e| from_line_on(e, first_line))
                };
                merged.overlap(load, each)?;
                any = true;
            }
            first_line += lines;
        }
        Ok(())
    })?;
    if !any {
        return Err(LoadError::Empty { path: label }.into());
    }
    Ok(())
}

/// A column missing from a part after the first is missing from the records there on (the
/// parts before had it): the error says from which line.
fn from_line_on(e: LoadError, first_line: u64) -> LoadError {
    match e {
        LoadError::MissingColumn {
            path,
            field,
            column,
            hint,
            available,
        } if first_line > 1 => LoadError::MissingColumn {
            path: format!("{path}: from line {first_line} on"),
            field,
            column,
            hint,
            available,
        },
        e => e,
    }
}

/// [`load_in_parts`] on a CSV stream: parts of whole records (csv-core, the `csv` crate's own
/// parser, says where each ends, so quoted line ends stay inside their record), each loaded
/// with the header in front and its lines numbered as in the file.
fn csv_parts<E: From<LoadError> + Send>(
    reader: &mut (dyn std::io::Read + Send),
    options: &LoadOptions,
    part_bytes: usize,
    progress: &dyn Progress,
    each: &mut Each<'_, E>,
    merged: &mut Merged,
) -> Result<(), E> {
    let label = options.source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let mut ends = RecordEnds::default();
    let (mut pending, mut header): (Vec<u8>, Option<Vec<u8>>) = (Vec::new(), None);
    let (mut lines_before, mut want, mut ended, mut any) = (0u64, part_bytes.max(1), false, false);
    loop {
        while !ended && pending.len() < want {
            let start = pending.len();
            pending.resize(want, 0);
            let n = reader.read(&mut pending[start..]).map_err(io)?;
            pending.truncate(start + n);
            progress.advance(n as u64);
            ended = n == 0;
        }
        let (first, last) = ends.scan(&pending);
        if header.is_none() {
            let Some(h) = first.or(ended.then_some(pending.len())) else {
                want *= 2;
                continue;
            };
            header = Some(pending.drain(..h).collect());
            continue;
        }
        let end = match (ended, last) {
            (true, _) => pending.len(),
            (false, Some(end)) => end,
            // One record longer than a part: read on to its end.
            (false, None) => {
                want = 2 * pending.len().max(1);
                continue;
            }
        };
        let body = &pending[..end];
        // Blank lines are skipped; a line of spaces is a record (the whole-file read says so).
        if body.iter().any(|b| !matches!(b, b'\n' | b'\r')) {
            let mut part = header.clone().unwrap_or_default();
            part.extend_from_slice(body);
            let part_options = LoadOptions {
                first_line: 1 + lines_before,
                hash: false,
                ..options.clone()
            };
            let load = || table::load_csv_part(part, &part_options, &label);
            merged.overlap(load, each)?;
            any = true;
        }
        lines_before += memchr::memchr_iter(b'\n', body).count() as u64;
        pending.drain(..end);
        want = part_bytes.max(1);
        if ended {
            break;
        }
    }
    if !any {
        // A header alone: the whole-file reader says what is missing.
        let bytes = header.unwrap_or_default();
        return merged.feed(table::load_csv_part(bytes, options, &label), each);
    }
    Ok(())
}

/// Where CSV records end, by the `csv` crate's own parser (quotes, escaped quotes, line ends
/// inside quotes, CR, LF and CRLF).
struct RecordEnds {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl Default for RecordEnds {
    fn default() -> Self {
        RecordEnds {
            // `ReaderBuilder::build`, not `Default`: the builder builds the parser's tables.
            core: csv_core::ReaderBuilder::new().build(),
            out: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl RecordEnds {
    /// The byte offsets just past the first and the last complete record of `bytes`, read
    /// from the start of a record.
    fn scan(&mut self, bytes: &[u8]) -> (Option<usize>, Option<usize>) {
        use csv_core::ReadRecordResult as R;
        self.core.reset();
        if self.out.is_empty() {
            self.out.resize(1 << 16, 0);
            self.ends.resize(1 << 10, 0);
        }
        let (mut at, mut first, mut last) = (0, None, None);
        loop {
            // Empty input means the end of the data to csv-core: stop before.
            if at == bytes.len() {
                return (first, last);
            }
            let (result, read, _, _) =
                self.core
                    .read_record(&bytes[at..], &mut self.out, &mut self.ends);
            at += read;
            match result {
                R::InputEmpty | R::End => return (first, last),
                R::OutputFull => self.out.resize(2 * self.out.len(), 0),
                R::OutputEndsFull => self.ends.resize(2 * self.ends.len(), 0),
                R::Record => {
                    first.get_or_insert(at);
                    last = Some(at);
                }
            }
        }
    }
}

/// A stream cut into parts of whole lines.
struct Parts<'a> {
    reader: &'a mut (dyn std::io::Read + Send),
    /// The partial line that ends the bytes read so far.
    carry: Vec<u8>,
    part_bytes: usize,
    ended: bool,
}

/// One part, and how many bytes were read for it.
struct Part {
    bytes: Vec<u8>,
    read: u64,
}

impl Parts<'_> {
    /// The next part: the carried partial line, then whole lines up to about `part_bytes` (more
    /// when one line is longer); `None` at the end.
    fn next(&mut self) -> std::io::Result<Option<Part>> {
        let mut read = 0u64;
        loop {
            if self.ended {
                return Ok(None);
            }
            let mut part = std::mem::take(&mut self.carry);
            let start = part.len();
            let want = if start < self.part_bytes {
                self.part_bytes
            } else {
                2 * start
            };
            part.reserve_exact(want - start);
            // `read_to_end` fills spare capacity without zeroing it first; short only at the end.
            let limit = (want - start) as u64;
            let reader = &mut *self.reader;
            let got =
                std::io::Read::read_to_end(&mut std::io::Read::take(reader, limit), &mut part)?;
            self.ended = (got as u64) < limit;
            let filled = part.len();
            read += (filled - start) as u64;
            if self.ended {
                return Ok(Some(Part { bytes: part, read }));
            }
            match memchr::memrchr(b'\n', &part) {
                Some(end) => {
                    self.carry = part.split_off(end + 1);
                    return Ok(Some(Part { bytes: part, read }));
                }
                // One line longer than a part: read on to its end.
                None => self.carry = part,
            }
        }
    }
}

/// [`load_in_parts`] on a Parquet file: slices of rows, about `part_bytes` / 64 at a time (an
/// eval record's columns take well under 64 bytes in memory).
fn parquet_parts<E: From<LoadError> + Send>(
    file: std::fs::File,
    options: &LoadOptions,
    part_bytes: usize,
    each: &mut Each<'_, E>,
    merged: &mut Merged,
) -> Result<(), E> {
    let label = options.source.label();
    let Source::File(path) = &options.source else {
        unreachable!("a seekable input is a file");
    };
    let rows = table::parquet_rows(file, &label)?;
    let step = (part_bytes / 64).max(1);
    if rows <= step {
        let file = open(path, &label)?;
        let quiet = NoProgress;
        return merged.feed(table::load_parquet(file, options, &label, &quiet), each);
    }
    for first in (0..rows).step_by(step) {
        let file = open(path, &label)?;
        let slice = (first, step.min(rows - first));
        let load = || table::load_parquet_slice(file, options, &label, slice);
        merged.overlap(load, each)?;
    }
    Ok(())
}

fn open(path: &std::path::Path, label: &str) -> Result<std::fs::File, LoadError> {
    std::fs::File::open(path).map_err(|source| LoadError::Io {
        path: label.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::RecordEnds;

    #[test]
    fn record_ends_follow_quotes_and_line_ends() {
        let mut ends = RecordEnds::default();
        // By hand: "a,b\n" ends at 4; the quoted line end does not end a record; CRLF.
        let text = b"a,b\n\"x\ny\",2\r\n3,4";
        assert_eq!(ends.scan(text), (Some(4), Some(12)));
        assert_eq!(ends.scan(b"\"open\n"), (None, None));
    }
}
