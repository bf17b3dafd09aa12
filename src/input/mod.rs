//! The only code that reads input: eval-set formats, field mapping, validation and input errors.
//!
//! Owns turning a file (or stdin) into validated columns plus the facts the report states about
//! the input (rows read and dropped, sha256). It must not compute metrics or print anything;
//! progress goes through the [`Progress`] trait the caller supplies.

mod columns;
mod error;
mod extra;
mod field;
mod jsonl;
pub mod prices;
mod table;
mod value;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use error::{LoadError, Location};
pub use extra::{ExtraColumn, ExtraKind, ExtraRequest};
pub use field::{Field, FieldMap};

/// A validated eval set, one entry per record in every column, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalSet {
    /// The small model's confidence per record.
    pub confidence: Vec<f64>,
    /// The small model's quality per record, in [0, 1].
    pub small_quality: Vec<f64>,
    /// The large model's quality per record, in [0, 1], when the input carries it.
    pub large_quality: Option<Vec<f64>>,
    /// The small model's cost per record (currency units), when the input carries it.
    pub small_cost: Option<Vec<f64>>,
    /// The large model's cost per record (currency units), when the input carries it.
    pub large_cost: Option<Vec<f64>>,
    /// Prompt tokens per record, when the input carries them.
    pub input_tokens: Option<Vec<f64>>,
    /// Tokens the small model generated per record, when the input carries them.
    pub small_output_tokens: Option<Vec<f64>>,
    /// Tokens the large model generated per record, when the input carries them.
    pub large_output_tokens: Option<Vec<f64>>,
    /// The small model's latency per record (milliseconds), when the input carries it.
    pub small_latency_ms: Option<Vec<f64>>,
    /// The large model's latency per record (milliseconds), when the input carries it.
    pub large_latency_ms: Option<Vec<f64>>,
    /// Per record, true for the test part of a `--split-field` split.
    pub split: Option<Vec<bool>>,
    /// The task type per record, when the input carries it.
    pub task_type: Option<Labels>,
}

/// Task types as codes into a sorted list of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// The code of each record's task type.
    pub codes: Vec<u32>,
    /// The distinct names, sorted; a code indexes this list.
    pub names: Vec<String>,
}

/// What was read and what `--skip-invalid` dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drops {
    /// Records read, valid or not.
    pub read: u64,
    /// Records dropped as invalid.
    pub dropped: u64,
    /// Dropped records grouped by reason, sorted by reason.
    pub reasons: Vec<(String, u64)>,
    /// Where each kept record sits in the input, when some were dropped (`None`: every record
    /// was kept, in file order).
    pub kept_at: Option<Vec<Location>>,
}

/// An input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The name used in `--format` and the summary.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The format implied by a file name's extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// Where to read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file path.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Source {
    /// As given on the command line: the path, or `-` for stdin.
    pub fn as_given(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".into(),
        }
    }

    /// The name used in messages and the summary.
    pub fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
        }
    }
}

/// Receives loading progress; implemented by the terminal progress bar and by no-ops.
pub trait Progress: Sync {
    /// The total number of bytes to read, when known.
    fn start(&self, total_bytes: Option<u64>);
    /// `bytes` more have been read.
    fn advance(&self, bytes: u64);
}

/// What to read and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The input.
    pub source: Source,
    /// The format, or `None` to decide from the extension (or the first bytes of stdin).
    pub format: Option<Format>,
    /// Which column each field is read from.
    pub fields: FieldMap,
    /// Drop invalid records instead of failing.
    pub skip_invalid: bool,
    /// Read the token fields (only per-token prices need them; skipping saves time and memory).
    pub read_tokens: bool,
    /// Read the split field (`--split-field`).
    pub read_split: bool,
    /// Columns beyond the fixed fields, read by a second pass (see [`extra`]).
    pub extras: Vec<ExtraRequest>,
    /// `calibrate signals`: also try every other column as a numeric signal, except these
    /// (the columns of known fields).
    pub discover_except: Option<Vec<String>>,
}

impl LoadOptions {
    /// Whether this run reads `field` at all.
    pub fn reads(&self, field: Field) -> bool {
        match field {
            Field::InputTokens | Field::SmallOutputTokens | Field::LargeOutputTokens => {
                self.read_tokens
            }
            Field::Split => self.read_split,
            _ => true,
        }
    }
}

/// A loaded eval set and the facts about its input.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The records.
    pub set: EvalSet,
    /// What was read and dropped.
    pub drops: Drops,
    /// The input's SHA-256, lowercase hex.
    pub sha256: String,
    /// The input's size in bytes.
    pub bytes: u64,
    /// The format it was read as.
    pub format: Format,
    /// The columns of [`LoadOptions::extras`], each with its request (`None`: an optional
    /// column absent from the input).
    pub extras: Vec<(ExtraRequest, Option<ExtraColumn>)>,
}

impl Loaded {
    /// The extra column `column` read as `kind`, if it was asked for and is present.
    pub fn extra(&self, column: &str, kind: ExtraKind) -> Option<&ExtraColumn> {
        self.extras
            .iter()
            .find(|(r, _)| r.column == column && r.kind == kind)
            .and_then(|(_, c)| c.as_ref())
    }

    /// The records whose mask value is `want`, every column (extras too) kept.
    pub fn subset(&self, mask: &[bool], want: bool) -> Loaded {
        Loaded {
            set: self.set.subset(mask, want),
            extras: (self.extras.iter())
                .map(|(r, c)| (r.clone(), c.as_ref().map(|c| c.subset(mask, want))))
                .collect(),
            ..self.clone()
        }
    }
}

/// The values whose mask value is `want`, in order.
pub fn pick<T: Clone>(values: &[T], mask: &[bool], want: bool) -> Vec<T> {
    let kept = values.iter().zip(mask).filter(|(_, m)| **m == want);
    kept.map(|(x, _)| x.clone()).collect()
}

impl EvalSet {
    /// The records whose mask value is `want`, every column kept.
    pub fn subset(&self, mask: &[bool], want: bool) -> EvalSet {
        let pick = |v: &Vec<f64>| pick(v, mask, want);
        let opt = |v: &Option<Vec<f64>>| v.as_ref().map(pick);
        EvalSet {
            confidence: pick(&self.confidence),
            small_quality: pick(&self.small_quality),
            large_quality: opt(&self.large_quality),
            small_cost: opt(&self.small_cost),
            large_cost: opt(&self.large_cost),
            input_tokens: opt(&self.input_tokens),
            small_output_tokens: opt(&self.small_output_tokens),
            large_output_tokens: opt(&self.large_output_tokens),
            small_latency_ms: opt(&self.small_latency_ms),
            large_latency_ms: opt(&self.large_latency_ms),
            split: self.split.as_ref().map(|s| self::pick(s, mask, want)),
            task_type: self.task_type.as_ref().map(|t| t.subset(mask, want)),
        }
    }
}

impl Labels {
    /// The records whose mask value is `want`; the names are kept whole.
    pub fn subset(&self, mask: &[bool], want: bool) -> Labels {
        Labels {
            codes: pick(&self.codes, mask, want),
            names: self.names.clone(),
        }
    }
}

/// Reads and validates an eval set.
pub fn load(options: &LoadOptions, progress: &dyn Progress) -> Result<Loaded, LoadError> {
    let label = options.source.label();
    let io = |source| LoadError::Io {
        path: label.clone(),
        source,
    };
    let mut stdin_bytes = Vec::new();
    let (mut loaded, input) = match &options.source {
        Source::File(path) => {
            let format = match options.format {
                Some(f) => f,
                None => Format::from_path(path).ok_or_else(|| LoadError::UnknownFormat {
                    path: label.clone(),
                })?,
            };
            let mut file = File::open(path).map_err(io)?;
            let bytes = file.metadata().map_err(io)?.len();
            progress.start(Some(bytes));
            let loaded = match format {
                Format::Jsonl => finish_jsonl(&mut file, Some(bytes), options, &label, progress)?,
                Format::Csv | Format::Parquet => {
                    let sha256 = hash_reader(&mut file).map_err(io)?;
                    drop(file);
                    let input = table::TableInput::Path(path);
                    let (set, drops) = table::read(&input, format, options, &label)?;
                    progress.advance(bytes);
                    Loaded {
                        set,
                        drops,
                        sha256,
                        bytes,
                        format,
                        extras: Vec::new(),
                    }
                }
            };
            (loaded, extra::ExtraInput::Path(path))
        }
        Source::Stdin => {
            progress.start(None);
            // Not locked: the JSON Lines reader reads on its own thread.
            let mut stdin = std::io::stdin();
            let mut head = Vec::new();
            (&mut stdin).take(4096).read_to_end(&mut head).map_err(io)?;
            let format = options.format.unwrap_or_else(|| sniff(&head));
            let mut reader = std::io::Cursor::new(head).chain(stdin);
            // A second pass needs the bytes again: keep them.
            let streamed = format == Format::Jsonl && options.extras.is_empty();
            let loaded = if streamed {
                finish_jsonl(&mut reader, None, options, &label, progress)?
            } else {
                reader.read_to_end(&mut stdin_bytes).map_err(io)?;
                let size = stdin_bytes.len() as u64;
                progress.advance(size);
                if format == Format::Jsonl {
                    finish_jsonl(
                        &mut std::io::Cursor::new(&stdin_bytes),
                        Some(size),
                        options,
                        &label,
                        &NoProgress,
                    )?
                } else {
                    let sha256 = hex(&Sha256::digest(&stdin_bytes));
                    let input = table::TableInput::Bytes(&stdin_bytes);
                    let (set, drops) = table::read(&input, format, options, &label)?;
                    Loaded {
                        set,
                        drops,
                        sha256,
                        bytes: size,
                        format,
                        extras: Vec::new(),
                    }
                }
            };
            (loaded, extra::ExtraInput::Bytes(&stdin_bytes))
        }
    };
    let mut requests = options.extras.clone();
    if let Some(except) = &options.discover_except {
        let names = extra::column_names_of(&input, loaded.format).map_err(io)?;
        for name in names {
            if !except.contains(&name) && !requests.iter().any(|r| r.column == name) {
                requests.push(ExtraRequest {
                    purpose: format!("the column {name:?}"),
                    column: name,
                    kind: ExtraKind::Number,
                    required: false,
                    probe: true,
                });
            }
        }
    }
    let columns = extra::read(
        &input,
        loaded.format,
        &requests,
        loaded.drops.kept_at.as_deref(),
        loaded.set.small_quality.len(),
        &label,
    )?;
    loaded.extras = requests.into_iter().zip(columns).collect();
    Ok(loaded)
}

/// Progress already reported by the caller.
struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
}

fn finish_jsonl(
    reader: &mut (dyn Read + Send),
    size: Option<u64>,
    options: &LoadOptions,
    label: &str,
    progress: &dyn Progress,
) -> Result<Loaded, LoadError> {
    let keys = columns::READ_FIELDS.map(|f| options.reads(f).then(|| options.fields.column(f)));
    let out = jsonl::read(
        reader,
        size,
        &keys,
        &options.fields,
        options.skip_invalid,
        label,
        progress,
    )?;
    let (set, drops) = out
        .columns
        .finish(label, &options.fields, options.skip_invalid)?;
    Ok(Loaded {
        set,
        drops,
        sha256: out.sha256,
        bytes: out.bytes,
        format: Format::Jsonl,
        extras: Vec::new(),
    })
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

fn hash_reader(reader: &mut dyn Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn sha256_of_known_input() {
        // Reference: `printf abc | sha256sum`.
        let got = hash_reader(&mut &b"abc"[..]).unwrap();
        assert_eq!(
            got,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
