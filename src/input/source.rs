//! Opening the input: a file, a pipe or stdin, and the format it is read as.
//!
//! Owns choosing the format (the flag, the extension, or the first bytes), decompressing gzip
//! and zstd (by extension or magic bytes, on the reading thread), turning a JSON array into
//! JSON Lines, refusing what cannot be read (a directory; Parquet from a stream or compressed)
//! before any work, and hashing bytes as they are read. It must not parse records.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::LoadError;
use super::{Format, Source};

/// An opened input.
pub enum Input {
    /// Bytes read once, front to back (JSON Lines and CSV): a file, a pipe or stdin.
    Stream {
        /// The bytes.
        reader: Box<dyn Read + Send>,
        /// The size in bytes, when known (a regular file).
        size: Option<u64>,
    },
    /// A JSON array re-cut as JSON Lines, with the hash and size of the array's own bytes.
    Array {
        /// The JSON Lines.
        reader: Box<dyn Read + Send>,
        /// SHA-256 of the array's bytes.
        sha256: String,
        /// Their number.
        bytes: u64,
    },
    /// A regular file, which Parquet needs: its footer, at the end, says where each column is.
    Seekable {
        /// The file.
        file: File,
        /// Its size in bytes.
        size: u64,
    },
}

impl Input {
    /// The size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stream { size, .. } => *size,
            Input::Array { .. } => None,
            Input::Seekable { size, .. } => Some(*size),
        }
    }
}

/// How the input's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`.gz`; magic bytes 1f 8b), every member read.
    Gzip,
    /// zstd (`.zst`; magic bytes 28 b5 2f fd), every frame read.
    Zstd,
}

impl Compression {
    /// The compression a file name's last extension implies.
    pub fn from_path(path: &Path) -> Option<Compression> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "gz" | "gzip" => Some(Compression::Gzip),
            "zst" | "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The compression the first bytes show.
    fn from_magic(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// Its name, as the run reports it.
    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// `reader` decompressed, on the thread that reads it.
    fn decoder(self, reader: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
        })
    }
}

/// Bytes looked at to tell compression and format apart.
const HEAD: u64 = 4096;

/// Up to [`HEAD`] bytes of `reader`, and a reader that yields them again followed by the rest.
fn peek(mut reader: Box<dyn Read + Send>) -> std::io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::new();
    (&mut reader).take(HEAD).read_to_end(&mut head)?;
    let again = Box::new(Cursor::new(head.clone()).chain(reader));
    Ok((head, again))
}

/// Opens `source` and decides its format (`format`: as given by `--format`); returns what the
/// run should say about how it read the bytes (compression, a JSON array).
pub fn open(
    source: &Source,
    format: Option<Format>,
) -> Result<(Format, Input, Vec<String>), LoadError> {
    let label = source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let not_seekable = || LoadError::NotSeekable {
        path: label.clone(),
    };
    let (named, reader, size): (Option<Format>, Box<dyn Read + Send>, Option<u64>) = match source {
        Source::File(path) => {
            if path.is_dir() {
                return Err(LoadError::IsDirectory { path: label });
            }
            let named = format.or_else(|| Format::from_path(path));
            let file = File::open(path).map_err(io)?;
            let meta = file.metadata().map_err(io)?;
            let compressed = Compression::from_path(path).is_some();
            match (named, meta.is_file()) {
                (Some(Format::Parquet), false) => return Err(not_seekable()),
                (Some(Format::Parquet), true) if !compressed => {
                    let size = meta.len();
                    return Ok((Format::Parquet, Input::Seekable { file, size }, Vec::new()));
                }
                (_, regular) => (named, Box::new(file), regular.then_some(meta.len())),
            }
        }
        // Not locked: the JSON Lines reader reads on its own thread.
        Source::Stdin => (format, Box::new(std::io::stdin()), None),
    };
    let (head, mut reader) = peek(reader).map_err(io)?;
    let mut notes = Vec::new();
    let mut size = size;
    let mut head = head;
    if let Some(c) = Compression::from_magic(&head) {
        let (h, r) = peek(c.decoder(reader).map_err(io)?).map_err(io)?;
        (head, reader) = (h, r);
        notes.push(format!("{} compressed", c.name()));
        size = None; // the progress bar counts decompressed bytes
    }
    let format = match named {
        Some(f) => f,
        // A pipe has no extension to go by (`<(zcat x.csv.gz)` is `/dev/fd/63`): its first bytes
        // tell, as for stdin.
        None if size.is_none() || !notes.is_empty() => sniff(&head),
        None => return Err(LoadError::UnknownFormat { path: label }),
    };
    match (format, notes.is_empty()) {
        (Format::Parquet, false) => return Err(LoadError::CompressedParquet { path: label }),
        (Format::Parquet, true) => return Err(not_seekable()),
        _ => {}
    }
    if format == Format::Jsonl && first_byte(&head) == Some(b'[') {
        let array = json_array(reader, &label)?;
        notes.push(format!(
            "a JSON array of {} records, read as JSON Lines (locations count its elements)",
            array.records
        ));
        let reader = Box::new(Cursor::new(array.lines));
        let input = Input::Array {
            reader,
            sha256: array.sha256,
            bytes: array.bytes,
        };
        return Ok((format, input, notes));
    }
    Ok((format, Input::Stream { reader, size }, notes))
}

/// The first byte that is not white space (after a UTF-8 byte-order mark).
fn first_byte(head: &[u8]) -> Option<u8> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    head.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// A JSON array of records, re-cut as JSON Lines.
struct Array {
    /// One element per line.
    lines: Vec<u8>,
    /// Elements.
    records: usize,
    /// SHA-256 of the array's own bytes (decompressed), as the report states it.
    sha256: String,
    /// Their number.
    bytes: u64,
}

/// A JSON array of records as JSON Lines: one element per line.
fn json_array(mut reader: Box<dyn Read + Send>, label: &str) -> Result<Array, LoadError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Io {
            path: label.to_string(),
            source,
        })?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let elements: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| LoadError::Reader {
            path: label.to_string(),
            message: {
                // serde_json ends its message with the position, which leads this one instead.
                let what = e.to_string();
                let what = what
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                format!("{}: not a JSON array of records: {what}", e.line())
            },
        })?;
    let mut out = Vec::with_capacity(bytes.len());
    for element in &elements {
        // One line per element (numbers keep their value: floats print in shortest round-trip
        // form).
        serde_json::to_writer(&mut out, element).expect("a Value serialises");
        out.push(b'\n');
    }
    Ok(Array {
        lines: out,
        records: elements.len(),
        sha256,
        bytes: size,
    })
}

/// Guesses the format from the first bytes: `{` or `[` means JSON (Lines or an array), `PAR1`
/// Parquet, anything else CSV.
fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"PAR1") {
        return Format::Parquet;
    }
    match first_byte(head) {
        Some(b'{' | b'[') => Format::Jsonl,
        _ => Format::Csv,
    }
}

/// Bytes read per step while hashing.
const STEP: u64 = 1 << 20;

/// Reads `reader` to the end into memory (`size`: the expected length, a hint), reporting
/// progress; returns the bytes and their SHA-256.
pub fn read_all(
    reader: &mut dyn Read,
    size: Option<u64>,
    progress: &dyn super::Progress,
) -> std::io::Result<(Vec<u8>, String)> {
    let mut bytes = Vec::new();
    if let Some(size) = size {
        // A hint: when the memory is not there, the buffer grows as it fills.
        let _ = bytes.try_reserve_exact(usize::try_from(size).unwrap_or(0));
    }
    let mut hasher = Sha256::new();
    loop {
        let start = bytes.len();
        let n = (&mut *reader).take(STEP).read_to_end(&mut bytes)?;
        hasher.update(&bytes[start..]);
        progress.advance(n as u64);
        if n == 0 {
            return Ok((bytes, hex(&hasher.finalize())));
        }
    }
}

/// Reads `reader` to the end, reporting progress; returns the SHA-256 and the number of bytes.
pub fn hash_all(
    reader: &mut dyn Read,
    progress: &dyn super::Progress,
) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; STEP as usize];
    let mut total = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok((hex(&hasher.finalize()), total)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
        progress.advance(n as u64);
    }
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of an open file, lowercase hex, the file rewound for its reader.
pub(super) fn sha256_of(file: &mut File, label: &str) -> Result<String, LoadError> {
    use std::io::{Read as _, Seek};
    let io = |source| LoadError::Io {
        path: label.into(),
        source,
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buffer).map_err(io)? {
            0 => break,
            n => hasher.update(&buffer[..n]),
        }
    }
    file.rewind().map_err(io)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn format_from_extension_and_sniffing() {
        assert_eq!(
            Format::from_path(Path::new("a.NDJSON")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("a.csv")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("a.txt")), None);
        assert_eq!(sniff(b"  {\"a\":1}"), Format::Jsonl);
        assert_eq!(sniff(b"confidence,small_quality"), Format::Csv);
        assert_eq!(sniff(b"PAR1...."), Format::Parquet);
    }

    struct Quiet;
    impl super::super::Progress for Quiet {
        fn start(&self, _: Option<u64>) {}
        fn advance(&self, _: u64) {}
    }

    fn open_error(path: &Path) -> String {
        let err = open(&Source::File(path.to_path_buf()), None).err().unwrap();
        // As `main` prints it: the error chain on one line.
        format!("{:#}", anyhow::Error::from(err))
    }

    #[test]
    fn a_missing_file_prints_the_os_error_once() {
        // Issue: `cannot read: No such file or directory (os error 2): No such file or
        // directory (os error 2)`.
        let text = open_error(Path::new("/no/such/eval.jsonl"));
        assert!(
            text.starts_with("/no/such/eval.jsonl: cannot read: "),
            "{text}"
        );
        assert_eq!(text.matches("(os error 2)").count(), 1, "{text}");
    }

    #[test]
    fn a_directory_is_named_as_one() {
        // Issue: a directory given as input said "cannot tell the format from the extension".
        let dir = tempfile::tempdir().unwrap();
        for name in ["evals", "evals.jsonl"] {
            let path = dir.path().join(name);
            std::fs::create_dir(&path).unwrap();
            let text = open_error(&path);
            assert!(
                text.starts_with(&format!("{}: is a directory;", path.display())),
                "{text}"
            );
        }
    }

    #[test]
    fn sha256_of_known_input() {
        // Reference: `printf abc | sha256sum`.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(hash_all(&mut &b"abc"[..], &Quiet).unwrap(), (abc.into(), 3));
        let (bytes, sha) = read_all(&mut &b"abc"[..], None, &Quiet).unwrap();
        assert_eq!((bytes.as_slice(), sha.as_str()), (&b"abc"[..], abc));
    }
}
