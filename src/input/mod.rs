//! The only code that reads input: eval-set formats, field mapping, validation and input errors.
//!
//! Owns turning a file (or stdin) into validated columns plus the facts the report states about
//! the input (rows read and dropped, sha256). It must not compute metrics or print anything;
//! progress goes through the [`Progress`] trait the caller supplies.

pub mod aggregate;
mod columns;
mod error;
mod extra;
mod field;
mod jsonl;
mod lines;
mod logs;
pub mod multi;
pub mod prices;
mod reference;
mod source;
mod table;
mod value;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use error::LoadError;
pub use extra::{ExtraColumn, ExtraKind, ExtraRequest};
pub use field::{Field, FieldMap, SplitNames};
pub use logs::{EPOCH_MS_ABOVE, LogColumns, LogOptions, LogRecord, read_logs};
pub use reference::{
    Against, AgainstCondition, AgainstOverride, Distribution, Reference, ReferenceCost,
    ReferenceSegment, read_against,
};

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
        // A compressed file's format is the one before `.gz` or `.zst`.
        let path = match source::Compression::from_path(path) {
            Some(_) => Path::new(path.file_stem()?),
            None => path,
        };
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            // `.json`: JSON Lines, or a JSON array of records (told apart by its first byte).
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
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

    /// The file's path (`None`: standard input).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(p) => Some(p),
            Source::Stdin => None,
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

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
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
    /// Columns beyond the fixed fields, read in the same pass (see [`extra`]).
    pub extras: Vec<ExtraRequest>,
    /// `calibrate signals`: also try every other column as a numeric signal, except these
    /// (the columns of known fields).
    pub discover_except: Option<Vec<String>>,
    /// The line number of the input's first line (1; more for a later part of a stream read in
    /// parts), so that errors name the line in the whole input.
    pub first_line: u64,
    /// Hash the input (SHA-256, which reports state); off for the parts of a stream, which
    /// `calibrate aggregate` does not report.
    pub hash: bool,
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
    /// How the bytes were read, when not plainly (`gzip`, `zstd`, `a JSON array`), for the run
    /// to say.
    pub notes: Vec<String>,
    /// Every column name of the input (a table's header; the keys of JSON records), so a run
    /// can name columns it left unused.
    pub columns: Vec<String>,
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

/// Keeps the rows whose `keep` entry is true (an empty column stays empty).
pub fn retain_rows<T>(column: &mut Vec<T>, keep: &[bool]) {
    if column.is_empty() {
        return;
    }
    let mut row = 0;
    column.retain(|_| {
        row += 1;
        keep[row - 1]
    });
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
    /// Labels from codes in first-seen order, renumbered so the names are sorted (reports list
    /// them in a stable order).
    fn sorted(mut codes: Vec<u32>, names: Vec<String>) -> Labels {
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
        let mut renumber = vec![0u32; order.len()];
        for (new, old) in order.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        // Names first seen in sorted order keep their codes; others renumber in parallel.
        if renumber
            .iter()
            .enumerate()
            .any(|(old, &new)| new as usize != old)
        {
            codes
                .par_iter_mut()
                .for_each(|c| *c = renumber[*c as usize]);
        }
        let mut names: Vec<Option<String>> = names.into_iter().map(Some).collect();
        let names = order.iter().filter_map(|old| names[*old as usize].take());
        Labels {
            codes,
            names: names.collect(),
        }
    }

    /// The records whose mask value is `want`; the names are kept whole.
    pub fn subset(&self, mask: &[bool], want: bool) -> Labels {
        Labels {
            codes: pick(&self.codes, mask, want),
            names: self.names.clone(),
        }
    }
}

/// Reads and validates an eval set, reading the input once: the fixed fields and every
/// requested extra column come from the same pass, typed as they are parsed.
pub fn load(options: &LoadOptions, progress: &dyn Progress) -> Result<Loaded, LoadError> {
    let label = options.source.label();
    let (format, input, notes) = source::open(&options.source, options.format)?;
    progress.start(input.size());
    let loaded = match input {
        source::Input::Stream { mut reader, size } => match format {
            Format::Jsonl => jsonl::load(&mut reader, size, options, &label, progress),
            Format::Csv => table::load_csv(&mut reader, size, options, &label, progress),
            Format::Parquet => Err(LoadError::NotSeekable { path: label }),
        },
        source::Input::Array {
            mut reader,
            sha256,
            bytes,
        } => jsonl::load(&mut reader, None, options, &label, progress).map(|l| Loaded {
            sha256,
            bytes,
            ..l
        }),
        source::Input::Seekable { file, .. } => {
            table::load_parquet(file, options, &label, progress)
        }
    };
    loaded.map(|l| Loaded { notes, ..l })
}

/// Helpers for the readers' unit tests.
#[cfg(test)]
mod testing {
    use super::*;

    /// Progress nobody watches.
    pub struct Quiet;

    impl Progress for Quiet {
        fn start(&self, _: Option<u64>) {}
        fn advance(&self, _: u64) {}
    }

    /// Options that read every fixed field and `extras`, from stdin.
    pub fn options(extras: Vec<ExtraRequest>) -> LoadOptions {
        LoadOptions {
            source: Source::Stdin,
            format: None,
            fields: FieldMap::default(),
            skip_invalid: false,
            read_tokens: true,
            read_split: true,
            extras,
            discover_except: None,
            first_line: 1,
            hash: true,
        }
    }

    /// A required request for `column` as `kind`.
    pub fn request(column: &str, kind: ExtraKind) -> ExtraRequest {
        ExtraRequest {
            column: column.into(),
            kind,
            required: true,
            purpose: "a test".into(),
            probe: false,
        }
    }
}
