//! Opening the input: a file, a pipe or stdin, and the format it is read as.
//!
//! Owns choosing the format (the flag, the extension, or stdin's first bytes), refusing what
//! cannot be read (a directory; Parquet from a stream) before any work, and hashing bytes as
//! they are read. It must not parse records.

use std::fs::File;
use std::io::{Cursor, Read};

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
            Input::Seekable { size, .. } => Some(*size),
        }
    }
}

/// Opens `source` and decides its format (`format`: as given by `--format`).
pub fn open(source: &Source, format: Option<Format>) -> Result<(Format, Input), LoadError> {
    let label = source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let not_seekable = || LoadError::NotSeekable {
        path: label.clone(),
    };
    match source {
        Source::File(path) => {
            if path.is_dir() {
                return Err(LoadError::IsDirectory { path: label });
            }
            let format = format.or_else(|| Format::from_path(path)).ok_or_else(|| {
                LoadError::UnknownFormat {
                    path: label.clone(),
                }
            })?;
            let file = File::open(path).map_err(io)?;
            let meta = file.metadata().map_err(io)?;
            match (format, meta.is_file()) {
                (Format::Parquet, false) => Err(not_seekable()),
                (Format::Parquet, true) => Ok((
                    format,
                    Input::Seekable {
                        file,
                        size: meta.len(),
                    },
                )),
                (_, regular) => Ok((
                    format,
                    Input::Stream {
                        reader: Box::new(file),
                        size: regular.then_some(meta.len()),
                    },
                )),
            }
        }
        Source::Stdin => {
            if format == Some(Format::Parquet) {
                return Err(not_seekable());
            }
            // Not locked: the JSON Lines reader reads on its own thread.
            let mut stdin = std::io::stdin();
            let mut head = Vec::new();
            (&mut stdin).take(4096).read_to_end(&mut head).map_err(io)?;
            let format = format.unwrap_or_else(|| sniff(&head));
            if format == Format::Parquet {
                return Err(not_seekable());
            }
            let reader = Box::new(Cursor::new(head).chain(stdin));
            Ok((format, Input::Stream { reader, size: None }))
        }
    }
}

/// Guesses the format of stdin from its first bytes: `{` means JSON Lines, `PAR1` Parquet.
fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"PAR1") {
        return Format::Parquet;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Format::Jsonl,
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
