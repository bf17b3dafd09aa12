//! The fast path for one JSON Lines log record: an object whose keys carry no escapes, read in
//! one scan without serde with the eval loader's scanner ([`Scan`]). Values of the wanted
//! columns must be scalars (strings without escapes); other keys' values are skipped whatever
//! they hold (prompts with escapes, nested objects), each checked as serde_json checks it.
//!
//! Owns recognising that shape and nothing else: it accepts only lines serde_json accepts and
//! yields the values serde_json would (the last of a repeated key wins), and gives up (`None`)
//! on anything else, so the serde path in the reader decides those and words their errors. It
//! must not type the values (see `cells`).

use super::Cell;
use crate::input::jsonl::scan::Scan;

/// The wanted columns, and a small table from key to slot filled as keys are met (a log's
/// records share a few keys, though optional ones shift their positions), so a key costs one
/// comparison.
pub(super) struct Keys<'w, 'b> {
    wanted: &'w [String],
    seen: [Option<Seen<'b>>; SEEN],
}

/// A key met: its fingerprint, its bytes and its slot.
type Seen<'b> = (Fingerprint, &'b [u8], Option<usize>);

/// Entries of [`Keys`]' table.
const SEEN: usize = 64;

/// A key's length and its first and last eight bytes (zero-padded): equal fingerprints of keys
/// up to 16 bytes mean equal keys, so the common comparison needs no call to `memcmp`.
type Fingerprint = (usize, u64, u64);

fn fingerprint(key: &[u8]) -> Fingerprint {
    let word = |part: &[u8]| {
        let mut b = [0u8; 8];
        b[..part.len()].copy_from_slice(part);
        u64::from_le_bytes(b)
    };
    let n = key.len();
    (n, word(&key[..n.min(8)]), word(&key[n.saturating_sub(8)..]))
}

impl<'w, 'b> Keys<'w, 'b> {
    pub(super) fn new(wanted: &'w [String]) -> Keys<'w, 'b> {
        Keys {
            wanted,
            seen: [None; SEEN],
        }
    }

    /// The slot of `key` (the first wanted column of that name).
    fn slot(&mut self, key: &'b [u8]) -> Option<usize> {
        let f = fingerprint(key);
        let mixed = f.1 ^ f.2.rotate_left(29) ^ f.0 as u64;
        let h = (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % SEEN;
        if let Some((g, k, slot)) = self.seen[h]
            && g == f
            && (key.len() <= 16 || k == key)
        {
            return slot;
        }
        let slot = self.wanted.iter().position(|w| w.as_bytes() == key);
        self.seen[h] = Some((f, key, slot));
        slot
    }
}

/// Reads `line` (not blank, without its line end) if it has the common shape: `cells[k]` gets
/// the value of the wanted column `k` (or [`Cell::Missing`]). `None`: the serde path must read
/// this line.
pub(super) fn record<'b>(
    line: &'b str,
    keys: &mut Keys<'_, 'b>,
    cells: &mut Vec<Cell<'b>>,
) -> Option<()> {
    cells.clear();
    cells.resize(keys.wanted.len(), Cell::Missing);
    let mut s = Scan {
        b: line.as_bytes(),
        i: 0,
    };
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek()? == b'}' {
        s.i += 1;
    } else {
        loop {
            s.eat(b'"')?;
            let key = s.plain_string()?;
            s.ws();
            s.eat(b':')?;
            s.ws();
            match keys.slot(key) {
                Some(k) => cells[k] = cell(line, &mut s)?,
                None => s.skip_any(0)?,
            }
            if s.member_end()? {
                break;
            }
        }
    }
    s.ws();
    (s.i == line.len()).then_some(())
}

/// A wanted column's value: a scalar (a string without escapes). Text is sliced from `line`
/// at ASCII bytes (quotes, a number's ends), so it needs no UTF-8 check of its own.
fn cell<'b>(line: &'b str, s: &mut Scan<'b>) -> Option<Cell<'b>> {
    Some(match s.peek()? {
        b'"' => {
            s.i += 1;
            let start = s.i;
            s.plain_string()?;
            Cell::Str(line.get(start..s.i - 1)?)
        }
        b't' => s.literal(b"true").map(|()| Cell::Bool(true))?,
        b'f' => s.literal(b"false").map(|()| Cell::Bool(false))?,
        b'n' => s.literal(b"null").map(|()| Cell::Null)?,
        _ => {
            let start = s.i;
            let x = s.float()?;
            let text = line.get(start..s.i)?;
            // The nearest double, as serde_json's value gives it back (`-0` is -0.0 there too).
            Cell::Number(x, text)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeSeed;

    /// The fast scan against the serde path (`picked::Pick`) on lines of many shapes: both
    /// accept the same lines and give the same values.
    #[test]
    fn agrees_with_serde_json_on_every_line() {
        let wanted: Vec<String> = ["a", "b", "c", "a_long_column_name_one", "small_cost"]
            .map(String::from)
            .into();
        let lines = [
            r#"{"a": 1, "b": "x", "c": true}"#,
            r#"{"b": "x", "a": -0, "c": null}"#,
            r#"{"a": 1e400}"#,
            r#"{"a": 0.1, "prompt": "line\nbreak \"quoted\" \u00e9", "c": false}"#,
            r#"{"a": 2, "meta": {"k": [1, 2, {"z": null}], "e": []}, "b": "t"}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1,}"#,
            r#"{"a": [1, 2]}"#,
            r#"{"x": [1,, 2], "a": 1}"#,
            r#"{"x": "bad \q escape"}"#,
            r#"{"x": "\u12"}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1} trailing"#,
            r#"{}"#,
            r#"[1]"#,
            r#"{"a": 18446744073709551616, "b": -9223372036854775809}"#,
            r#"{"a": 1.5e3, "b": "2026-01-31T00:00:00Z"}"#,
            "{\"x\": \"tab\there\", \"a\": 1}",
            r#"{"b\"x": 1, "a": 2}"#,
            // Keys alike but for bytes in the middle, or past sixteen bytes.
            r#"{"smalX_cost": 1, "small_cost": 2, "a_long_column_name_two": 3}"#,
            r#"{"a_long_column_name_one": 4, "a_long_column_name_two": 5, "small_cost": 6}"#,
        ];
        let mut accepted = Vec::new();
        // One table for every line, as for a block's lines: keys met before must not mislead.
        let mut keys = Keys::new(&wanted);
        for (n, line) in lines.iter().enumerate() {
            let mut de = serde_json::Deserializer::from_str(line);
            let serde = (super::super::picked::Pick { wanted: &wanted })
                .deserialize(&mut de)
                .and_then(|v| de.end().map(|()| v));
            let mut cells = Vec::new();
            let Some(()) = record(line, &mut keys, &mut cells) else {
                continue; // left to the serde path: nothing to compare
            };
            accepted.push(n);
            let serde = serde.unwrap_or_else(|e| panic!("{line}: fast accepts, serde: {e}"));
            for (k, value) in serde.iter().enumerate() {
                let fast = match cells[k] {
                    Cell::Missing => None,
                    Cell::Null => Some(serde_json::Value::Null),
                    Cell::Bool(b) => Some(b.into()),
                    Cell::Str(s) => Some(s.into()),
                    Cell::Number(x, text) => {
                        let v: serde_json::Value = serde_json::from_str(text).unwrap();
                        assert_eq!(v.as_f64().map(f64::to_bits), Some(x.to_bits()), "{line}");
                        Some(v)
                    }
                    Cell::Json(_) | Cell::Text(_) => unreachable!(),
                };
                assert_eq!(&fast, value, "{line}: column {k}");
            }
        }
        // The common shapes take the fast path (escaped or nested values of skipped keys
        // included); escaped keys, wanted nested values and anything invalid do not.
        assert_eq!(accepted, [0, 1, 3, 4, 5, 13, 15, 16, 19, 20]);
    }
}
