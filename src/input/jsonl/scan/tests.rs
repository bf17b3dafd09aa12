//! Tests of the JSON Lines cursor's primitives against byte loops and the standard parser.

use super::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Every digit run of length 0 to 8 after every prefix, followed by every byte value, read
/// eight at a time against a byte-by-byte count and `str::parse`.
#[test]
fn eight_digits_counts_and_reads_like_a_byte_loop() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for run in 0..=8usize {
        for stop in 0..=255u8 {
            for _ in 0..8 {
                let mut line: Vec<u8> = (0..run)
                    .map(|_| b'0' + (rng.next_u64() % 10) as u8)
                    .collect();
                line.push(stop);
                line.extend((0..8).map(|_| rng.next_u64() as u8));
                let count = line
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count()
                    .min(8);
                let value: u64 =
                    std::str::from_utf8(&line[..count]).map_or(0, |t| t.parse().unwrap_or(0));
                assert_eq!(eight_digits(&line, 0), Some((count, value)), "{line:?}");
            }
        }
    }
    assert_eq!(eight_digits(b"1234567", 0), None);
    assert_eq!(eight_digits(b"99999999", 0), Some((8, 99_999_999)));
}

/// Every byte value at every position of a word, after random bytes that do not stop a
/// string, and strings of every length up to past the vector search's start: the word test
/// finds the first stop as a byte loop does, and `plain_string` reads what a byte scan reads.
#[test]
fn plain_strings_stop_where_a_byte_loop_stops() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    for at in 0..8 {
        for stop in 0..=255u8 {
            let mut word = [0u8; 8];
            for b in &mut word {
                *b = loop {
                    let c = rng.next_u64() as u8;
                    if !stops_string(c) {
                        break c;
                    }
                };
            }
            word[at] = stop;
            // Bytes after the first stop are random, stops included.
            for b in word.iter_mut().skip(at + 1) {
                *b = rng.next_u64() as u8;
            }
            let want = word.iter().position(|&c| stops_string(c));
            assert_eq!(first_stop(u64::from_le_bytes(word)), want, "{word:?}");
        }
    }
    let alphabet = [b'a', b'"', b'\\', 0x1f, 0x7f, 0xc3, 0xa9, b' ', 0x00];
    for _ in 0..20_000 {
        let len = (rng.next_u64() % 48) as usize;
        let text: Vec<u8> = (0..len)
            .map(|_| match rng.next_u64() % 40 {
                k @ 0..9 => alphabet[k as usize],
                _ => b'a' + (rng.next_u64() % 26) as u8,
            })
            .collect();
        let naive = text
            .iter()
            .position(|&c| stops_string(c))
            .and_then(|end| (text[end] == b'"').then(|| &text[..end]));
        let mut s = Scan { b: &text, i: 0 };
        assert_eq!(s.plain_string(), naive, "{text:?}");
    }
}

/// fast-float2 against the standard library's parser (both claim correct rounding) on
/// seeded random JSON numbers of every shape: long mantissas, exponents near the ends of
/// the range, subnormals.
#[test]
fn float_bytes_equals_the_standard_parser() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let mut below = |n: u64| rng.next_u64() % n;
    let mut checked = 0;
    for _ in 0..200_000 {
        let mut text = String::new();
        if below(10) < 3 {
            text.push('-');
        }
        if below(3) == 0 {
            text.push('0');
        } else {
            text.push(char::from(b'1' + below(9) as u8));
            for _ in 0..below(25) {
                text.push(char::from(b'0' + below(10) as u8));
            }
        }
        if below(10) < 7 {
            text.push('.');
            for _ in 0..=below(30) {
                text.push(char::from(b'0' + below(10) as u8));
            }
        }
        if below(10) < 4 {
            text += &format!("e{}", below(650) as i64 - 340);
        }
        let want: f64 = text.parse().unwrap();
        match float_bytes(text.as_bytes()) {
            Some(x) => {
                assert_eq!(x.to_bits(), want.to_bits(), "{text}");
                checked += 1;
            }
            // Refused only where serde_json refuses or might part: out of range, or a
            // non-zero mantissa that underflows to zero.
            None => assert!(want.is_infinite() || want == 0.0, "{text}"),
        }
    }
    // Halfway between two doubles, written out exactly: 2^53 + 1 rounds to even.
    assert_eq!(
        float_bytes(b"9007199254740993"),
        Some(9_007_199_254_740_992.0)
    );
    assert!(checked > 150_000, "{checked}");
}

/// The short path against the full one, which it must agree with in value and in where it
/// stops: seeded numbers of every shape near the short path's limits (0 to 9 digits on each
/// side of the point, leading zeros, signs, exponents, a point without digits), followed by
/// any byte and then 0 to 9 more (so the eight-byte reads fall off the end too).
#[test]
fn short_floats_read_as_the_full_path_reads() {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let mut below = |n: u64| rng.next_u64() % n;
    let (mut short, mut checked) = (0, 0);
    for _ in 0..300_000 {
        let mut text: Vec<u8> = Vec::new();
        if below(4) == 0 {
            text.push(b'-');
        }
        for _ in 0..below(10) {
            text.push(b'0' + below(10) as u8);
        }
        if below(3) > 0 {
            text.push(b'.');
            for _ in 0..below(10) {
                text.push(b'0' + below(10) as u8);
            }
        }
        if below(8) == 0 {
            text.push(if below(2) == 0 { b'e' } else { b'E' });
            text.extend(format!("{}", below(40) as i64 - 20).bytes());
        }
        let ends = [
            b',', b'}', b' ', b'.', b'e', b'E', b'0', b'9', b'-', b'x', 0x80, b'"',
        ];
        text.push(ends[below(ends.len() as u64) as usize]);
        for _ in 0..below(10) {
            text.push(ends[below(ends.len() as u64) as usize]);
        }
        let mut fast = Scan { b: &text, i: 0 };
        let mut full = Scan { b: &text, i: 0 };
        let got = fast.float();
        let want = full.any_float();
        assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{text:?}");
        if want.is_some() {
            assert_eq!(fast.i, full.i, "{text:?}");
            checked += 1;
        }
        if (Scan { b: &text, i: 0 }).short_float().is_some() {
            short += 1;
        }
    }
    // Both paths are exercised (counts from this seed).
    assert!(
        short > 50_000 && checked - short > 20_000,
        "{short} {checked}"
    );
}
