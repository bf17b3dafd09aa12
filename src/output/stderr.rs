//! Lines for stderr (progress notes, warnings): a closed or full stderr must neither panic
//! nor fail a run whose data is already written, so write errors are dropped here.
//!
//! `eprintln!` panics when stderr cannot be written; every line the program prints to stderr
//! goes through [`line`] instead (the `say!` macro in `lib.rs`). It must not compute anything.

use std::fmt;
use std::io::Write;

/// Writes one line to stderr, ignoring a closed or full stderr.
pub fn line(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Writes `text` (whole lines, each ending in a newline) to stderr, ignoring a closed or full
/// stderr.
pub fn text(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
