//! Issue 13's fuzz target, bounded so it runs in CI (cargo-fuzz needs nightly): arbitrary bytes
//! and mutated valid records fed to every format through the binary. Each run must end with
//! exit 0, 1 or 2, never a panic (101) or a signal; every exit 2 is one `error:` naming the file,
//! and a line or row unless the problem is the whole file's (listed in `WHOLE_FILE`). The draws
//! come from one seeded generator, so a failure reproduces; the failing input is printed.

use std::path::Path;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::harness::{Scratch, calibrate, fixture, stderr};

/// Cases per format (each is one run of the binary).
const CASES: usize = 40;

/// Errors about the file as a whole, which have no line or row to name: how each begins
/// after the file name.
const WHOLE_FILE: [&str; 5] = [
    ": no records",
    ": no column",
    ": all ",
    // Parquet's own structure (footer, pages) is broken: the reader names no row.
    ": parquet: ",
    ": not a readable Parquet file",
];

/// Pieces that parsers find hard, spliced into valid records.
const TOKENS: [&[u8]; 22] = [
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"1e400",
    b"-0",
    b"NaN",
    b"\xff",
    b"\xef\xbb\xbf",
    b"null",
    b"true",
    b"\"\"",
    b"\\",
    b"\\u0000",
    b"0.5",
    b"\t",
    b"{\"a\":{\"b\":[[[[1]]]]}}",
];

/// Flips a few bytes in the first part of a binary file, keeping its footer (Parquet's schema
/// and index) whole so the reader reaches the damaged pages.
fn damage(rng: &mut ChaCha8Rng, base: &[u8]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    let body = bytes.len() * 3 / 5;
    for _ in 0..1 + rng.next_u32() % 3 {
        let at = 4 + (rng.next_u32() as usize) % (body - 4);
        bytes[at] = rng.next_u32() as u8;
    }
    bytes
}

fn mutate(rng: &mut ChaCha8Rng, base: &[u8]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    if rng.next_u32().is_multiple_of(8) {
        // Arbitrary bytes.
        let len = (rng.next_u32() % 400) as usize;
        return (0..len).map(|_| rng.next_u32() as u8).collect();
    }
    let edits = 1 + rng.next_u32() % 4;
    for _ in 0..edits {
        let at = if bytes.is_empty() {
            0
        } else {
            (rng.next_u32() as usize) % bytes.len()
        };
        match rng.next_u32() % 5 {
            0 if !bytes.is_empty() => bytes[at] = rng.next_u32() as u8,
            1 => {
                let token = TOKENS[(rng.next_u32() as usize) % TOKENS.len()];
                bytes.splice(at..at, token.iter().copied());
            }
            2 if !bytes.is_empty() => {
                let end = (at + 1 + (rng.next_u32() as usize) % 16).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => bytes.truncate(at),
            _ => {
                // Repeat a stretch (duplicate keys, columns, lines).
                let end = (at + (rng.next_u32() as usize) % 40).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

/// Runs `recommend` on `bytes` written as `name`; checks the exit contract.
fn check(dir: &Scratch, name: &str, bytes: &[u8], flags: &[&str]) {
    let path = dir.write(name, bytes);
    let out = calibrate()
        .arg("recommend")
        .arg(&path)
        .args(flags)
        .output()
        .unwrap();
    let err = stderr(&out);
    let shown = String::from_utf8_lossy(bytes);
    let code = out.status.code();
    if std::env::var_os("CALIBRATE_FUZZ_LOG").is_some() {
        eprintln!(
            "fuzz: exit {code:?}: {}",
            err.lines().next().unwrap_or_default()
        );
    }
    assert!(
        matches!(code, Some(0..=2)),
        "exit {code:?} on {name} {flags:?}:\n{shown:?}\n{err}"
    );
    if code == Some(2) {
        let first = err.lines().next().unwrap_or_default();
        let prefix = format!("error: {}", path.display());
        assert!(
            first.starts_with(&prefix),
            "exit 2 without the file: {first}\n{shown:?}"
        );
        let rest = &first[prefix.len()..];
        let located = names_location(rest);
        let whole = WHOLE_FILE.iter().any(|w| rest.starts_with(w));
        assert!(
            located || whole,
            "exit 2 names no line or row: {first}\n{shown:?}"
        );
    }
}

/// `:12:` (a line) or `:row 3:` right after the file name.
fn names_location(rest: &str) -> bool {
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let rest = rest.strip_prefix("row ").unwrap_or(rest);
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(':')
}

fn fuzz(base: &Path, name: &str, seed: u64, flags: &[&str]) {
    let base = std::fs::read(base).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = Scratch::new();
    let binary = name.ends_with(".parquet");
    for case in 0..CASES {
        let bytes = if binary && case % 2 == 0 {
            damage(&mut rng, &base)
        } else {
            mutate(&mut rng, &base)
        };
        check(&dir, name, &bytes, flags);
    }
}

/// tiny.csv names its small-model label `small_correct`.
const TINY_CSV: [&str; 4] = [
    "--field",
    "small_quality=small_correct",
    "--segment-by",
    "task_type",
];

#[test]
fn mutated_jsonl_never_panics_and_every_error_names_a_line() {
    fuzz(
        &fixture("tiny.jsonl"),
        "f.jsonl",
        13,
        &["--segment-by", "task_type"],
    );
}

#[test]
fn mutated_csv_never_panics_and_every_error_names_a_line() {
    fuzz(&fixture("tiny.csv"), "f.csv", 14, &TINY_CSV);
}

#[test]
fn mutated_parquet_never_panics() {
    fuzz(
        &fixture("types.parquet"),
        "f.parquet",
        15,
        &["--segment-by", "task_type"],
    );
}

#[test]
fn the_location_check_reads_lines_and_rows() {
    // The checker itself: it must tell a located message from one without a place.
    assert!(names_location(":12: field \"x\""));
    assert!(names_location(":row 3: field \"x\""));
    assert!(!names_location(": no records"));
    assert!(!names_location(":12 no colon"));
}
