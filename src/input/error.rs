//! Errors raised while loading an eval set, typed so callers and tests can match them.
//!
//! Owns the wording of every input error (`file:line: field "x": expected ..., found ...`). It
//! must not decide what is valid; `value.rs` does.

use std::fmt;

use thiserror::Error;

/// How many bad records an error lists.
pub const SHOWN: usize = 5;

/// Where a record sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// A 1-based line number (JSON Lines; CSV counts the header as line 1).
    Line(u64),
    /// A 1-based row number (Parquet, which has no lines).
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "{n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// One bad record: where, which column, what was found and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    /// Where the record is.
    pub location: Location,
    /// The column name as it appears in the file; `None` when the record itself is unreadable.
    pub column: Option<String>,
    /// What the column accepts, or what a record must be.
    pub expected: String,
    /// What was found.
    pub found: String,
}

impl RecordProblem {
    /// A short key grouping problems of the same kind, for drop counts ("confidence: null").
    pub fn reason_key(&self) -> String {
        match &self.column {
            Some(column) if self.found == "no such field" || self.found == "null" => {
                format!("field \"{column}\": {}", self.found)
            }
            Some(column) => format!("field \"{column}\": not {}", self.expected),
            None => format!("not {}", self.expected),
        }
    }

    /// The message without the file name.
    pub fn describe(&self) -> String {
        match &self.column {
            Some(column) => format!(
                "field \"{column}\": expected {}, found {}",
                self.expected, self.found
            ),
            None => format!("expected {}, found {}", self.expected, self.found),
        }
    }
}

/// Everything that can stop a load.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    // The OS error is the source, which an error chain prints after "cannot read".
    #[error("{path}: cannot read")]
    Io {
        /// The input as named on the command line.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A compressed Parquet file.
    #[error(
        "{path}: a compressed Parquet file; Parquet compresses its own columns, so decompress it \
         and pass the .parquet file"
    )]
    CompressedParquet {
        /// The input as named on the command line.
        path: String,
    },
    /// The input named is a directory.
    #[error(
        "{path}: is a directory; give an eval-set file (.jsonl, .ndjson, .json, .csv or .parquet; \
         .gz or .zst compressed), or merge an engine's aggregate parts first: calibrate \
         aggregate {path}/*.parquet --out agg.parquet"
    )]
    IsDirectory {
        /// The input as named on the command line.
        path: String,
    },
    /// `monitor` given a directory that holds no Parquet parts of a log aggregate.
    #[error(
        "{path}: a directory without Parquet parts: give a logs file (.jsonl, .csv or .parquet; \
         .gz or .zst compressed), or a directory holding the Parquet parts of one log aggregate \
         (calibrate sql --logs)"
    )]
    NoLogParts {
        /// The input as named on the command line.
        path: String,
    },
    /// A Parquet input that is not a regular file (stdin, a pipe).
    #[error(
        "{path}: Parquet cannot be read from a pipe or stdin (its index is at the end of the \
         file); write it to a file and pass the path"
    )]
    NotSeekable {
        /// The input as named on the command line.
        path: String,
    },
    /// The format could not be chosen from the name.
    #[error(
        "{path}: cannot tell the format from the extension; use --format jsonl|csv|parquet \
         (known extensions: .jsonl, .ndjson, .json, .csv, .parquet; .gz or .zst compressed)"
    )]
    UnknownFormat {
        /// The input as named on the command line.
        path: String,
    },
    /// The input holds no records.
    #[error("{path}: no records (the eval set is empty)")]
    Empty {
        /// The input as named on the command line.
        path: String,
    },
    /// A required column is absent from the file.
    #[error("{path}: no column \"{column}\" for field {field}{hint}; found columns: {available}")]
    MissingColumn {
        /// The input as named on the command line.
        path: String,
        /// The logical field.
        field: String,
        /// The column it was looked up as.
        column: String,
        /// A suggestion for `--field`.
        hint: String,
        /// The columns the file does have.
        available: String,
    },
    /// One or more records are invalid and `--skip-invalid` was not given.
    #[error("{}", bad_records_message(path, *total, first, if *all { Advice::NotAll } else { Advice::Skip }))]
    BadRecords {
        /// The input as named on the command line.
        path: String,
        /// How many records are bad.
        total: u64,
        /// Every record read is bad (dropping them would leave nothing).
        all: bool,
        /// The first few problems, in file order.
        first: Vec<RecordProblem>,
    },
    /// Values of a column a run names (`--segment-by`, `--always-large`, `--signal`, raw
    /// fields) are invalid; `--skip-invalid` does not apply to those.
    #[error("{}", bad_records_message(path, *total, first, Advice::Named))]
    BadNamedColumn {
        /// The input as named on the command line.
        path: String,
        /// How many records are bad.
        total: u64,
        /// The first few problems, in file order.
        first: Vec<RecordProblem>,
    },
    /// Every record was invalid and dropped.
    #[error("{path}: all {dropped} records are invalid; nothing left to calibrate on")]
    AllDropped {
        /// The input as named on the command line.
        path: String,
        /// How many were dropped.
        dropped: u64,
    },
    /// The CSV or Parquet reader failed for a reason of its own.
    #[error("{path}:{}{message}", if message.starts_with(|c: char| c.is_ascii_digit()) { "" } else { " " })]
    Reader {
        /// The input as named on the command line.
        path: String,
        /// The reader's message.
        message: String,
    },
}

/// What the message after the bad records advises.
#[derive(Clone, Copy)]
enum Advice {
    /// `--skip-invalid` would drop them.
    Skip,
    /// Every record is bad: dropping them would leave nothing.
    NotAll,
    /// They are in a column a run names, which `--skip-invalid` does not cover.
    Named,
}

fn bad_records_message(path: &str, total: u64, first: &[RecordProblem], advice: Advice) -> String {
    let mut out = String::new();
    for (i, p) in first.iter().enumerate() {
        if i > 0 {
            out.push_str("\n  ");
        }
        out.push_str(&format!("{path}:{}: {}", p.location, p.describe()));
    }
    let shown = first.len() as u64;
    let noun = if total == 1 { "record" } else { "records" };
    let more = if total > shown {
        format!(" ({} more not shown)", total - shown)
    } else {
        String::new()
    };
    out.push_str(&match advice {
        Advice::Skip => format!(
            "\n  {total} bad {noun} in all{more}; fix them, or pass --skip-invalid to drop them \
             (the report then states how many were dropped and why)"
        ),
        Advice::NotAll => format!(
            "\n  {total} bad {noun} in all{more}: every record, so dropping them would leave \
             nothing; check the values and the field mapping (--field)"
        ),
        Advice::Named => format!(
            "\n  {total} bad {noun} in all{more}; fix them (--skip-invalid drops records only for \
             the fixed fields, not for columns named by --segment-by, --always-large, --where or \
             --signal, or raw signal fields)"
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_records_first_line_names_file_line_field() {
        let err = LoadError::BadRecords {
            path: "eval.jsonl".into(),
            total: 3,
            all: false,
            first: vec![RecordProblem {
                location: Location::Line(1042),
                column: Some("confidence".into()),
                expected: "a finite number".into(),
                found: "\"high\"".into(),
            }],
        };
        let text = err.to_string();
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "eval.jsonl:1042: field \"confidence\": expected a finite number, found \"high\""
        );
        assert!(text.contains("3 bad records in all (2 more not shown)"));
    }
}
