//! A quote opened in the last record and never closed: the rest of the file is one field.
//!
//! Owns recognising that case and turning the record into a bad row. It must not parse.

use super::{BadRow, Builder};

/// Marks the last record, which runs to the end of the file inside a quote, as a bad row
/// whatever its field count.
pub(super) fn unclosed_quote(
    lines: &mut Vec<u64>,
    bad: &mut Vec<BadRow>,
    builders: &mut [Builder],
    width: usize,
) {
    match bad.last_mut() {
        Some(b) if b.before == lines.len() => b.unclosed_quote = true,
        _ => {
            let line = lines.pop().expect("a last record");
            builders.iter_mut().for_each(Builder::pop);
            bad.push(BadRow {
                before: lines.len(),
                line,
                found: width,
                unclosed_quote: true,
            });
        }
    }
}

/// Whether the text of a last record holds an odd number of quotes: a quote opened and never
/// closed, which makes the rest of the file one field.
pub(super) fn opens_unclosed_quote(rest: &[u8]) -> bool {
    rest.iter().filter(|&&b| b == b'"').count() % 2 == 1
}
