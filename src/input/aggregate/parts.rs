//! Reading a large eval set in parts, for `calibrate aggregate`: memory holds one part.

use super::LoadError;
use crate::input::source::{self, Input};
use crate::input::{Format, LoadOptions, Loaded, NoProgress, Progress, Source, jsonl, table};

/// Reads an eval set in parts and hands each to `each`, so that memory holds one part at a time
/// (`calibrate aggregate` on inputs larger than memory). JSON Lines (a file, a pipe, stdin,
/// compressed or not) is cut into parts of whole lines of about `part_bytes`, each loaded as a
/// file of its own whose line numbers continue the previous part's; other formats are loaded
/// whole, as one part.
pub fn load_in_parts<E: From<LoadError>>(
    options: &LoadOptions,
    part_bytes: usize,
    progress: &dyn Progress,
    each: &mut dyn FnMut(Loaded) -> Result<(), E>,
) -> Result<(), E> {
    let label = options.source.label();
    let (format, input, _) = source::open(&options.source, options.format)?;
    let (mut reader, size) = match input {
        Input::Stream { reader, size } => (reader, size),
        Input::Array { mut reader, .. } => {
            return each(jsonl::load(&mut reader, None, options, &label, progress)?);
        }
        Input::Seekable { file, .. } => {
            return parquet_parts(file, options, part_bytes, each);
        }
    };
    if format != Format::Jsonl {
        progress.start(size);
        let loaded = table::load_csv(&mut reader, size, options, &label, progress)?;
        return each(loaded);
    }
    progress.start(size);
    stream_parts(&mut reader, options, part_bytes, progress, each)
}

/// [`load_in_parts`] on a JSON Lines stream.
fn stream_parts<E: From<LoadError>>(
    reader: &mut (dyn std::io::Read + Send),
    options: &LoadOptions,
    part_bytes: usize,
    progress: &dyn Progress,
    each: &mut dyn FnMut(Loaded) -> Result<(), E>,
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
            if part.bytes.iter().any(|b| !b.is_ascii_whitespace()) {
                let part_options = LoadOptions {
                    first_line,
                    hash: false,
                    ..options.clone()
                };
                let quiet = NoProgress;
                let bytes = &mut &part.bytes[..];
                each(jsonl::load(bytes, None, &part_options, &label, &quiet)?)?;
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
            part.resize(
                if start < self.part_bytes {
                    self.part_bytes
                } else {
                    2 * start
                },
                0,
            );
            let mut filled = start;
            while filled < part.len() {
                match self.reader.read(&mut part[filled..])? {
                    0 => {
                        self.ended = true;
                        break;
                    }
                    n => filled += n,
                }
            }
            part.truncate(filled);
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
fn parquet_parts<E: From<LoadError>>(
    file: std::fs::File,
    options: &LoadOptions,
    part_bytes: usize,
    each: &mut dyn FnMut(Loaded) -> Result<(), E>,
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
        return each(table::load_parquet(file, options, &label, &quiet)?);
    }
    for first in (0..rows).step_by(step) {
        let file = open(path, &label)?;
        let slice = (first, step.min(rows - first));
        each(table::load_parquet_slice(file, options, &label, slice)?)?;
    }
    Ok(())
}

fn open(path: &std::path::Path, label: &str) -> Result<std::fs::File, LoadError> {
    std::fs::File::open(path).map_err(|source| LoadError::Io {
        path: label.into(),
        source,
    })
}
