//! The CSV parser against inputs worked by hand.
use super::*;

fn names(bytes: &[u8]) -> Vec<String> {
    header(bytes).unwrap()
}

fn dtypes(t: &CsvTable) -> Vec<String> {
    t.frame.dtypes().iter().map(|d| d.to_string()).collect()
}

#[test]
fn types_a_column_from_all_its_rows() {
    // Issue 13.6: a column that changes kind after row 100 is read whole.
    let mut text = String::from("a,b,c\n");
    for _ in 0..150 {
        text.push_str("1,0,true\n");
    }
    text.push_str(" 0.5 ,x,false\n");
    let bytes = text.as_bytes();
    let all = vec!["a".to_string(), "b".into(), "c".into()];
    let t = read(bytes, &names(bytes), &all, &[], 0).unwrap();
    assert_eq!(dtypes(&t), ["f64", "str", "bool"]);
    let a = t.frame.column("a").unwrap().f64().unwrap().get(150);
    assert_eq!(a, Some(0.5));
    assert_eq!(t.lines.last(), Some(&152));
}

#[test]
fn lines_count_newlines_inside_quotes_and_skip_blank_lines() {
    // Issue 13.14/13.15: the row after a quoted newline starts on line 4; blank lines
    // (a trailing one too) are no records.
    let bytes = b"a,b\n1,\"x\ny\"\n2,z\n\n3,w\n\n";
    let t = read(bytes, &names(bytes), &["a".into()], &[], 0).unwrap();
    assert_eq!(t.lines, [2, 4, 6]);
    assert!(t.bad.is_empty());
}

#[test]
fn wrong_widths_are_set_aside_with_their_line() {
    let bytes = b"a,b\n1,2\n3\n4,5,6\n7,8\n";
    let t = read(bytes, &names(bytes), &["a".into()], &[], 0).unwrap();
    assert_eq!(t.lines, [2, 5]);
    let found: Vec<(usize, u64, usize)> =
        t.bad.iter().map(|b| (b.before, b.line, b.found)).collect();
    assert_eq!(found, [(1, 3, 1), (1, 4, 3)]);
}

#[test]
fn an_unclosed_quote_is_named() {
    let bytes = b"a,b\n1,2\n3,\"oops\n4,5\n";
    let t = read(bytes, &names(bytes), &["a".into()], &[], 0).unwrap();
    assert_eq!(t.bad.len(), 1);
    assert!(t.bad[0].unclosed_quote);
    assert_eq!(t.bad[0].line, 3);
}

#[test]
fn parallel_chunks_read_as_one_pass_does() {
    // The same file cut into 64-byte chunks (many chunk edges, blank lines and bad rows on
    // both sides of them, a column whose kind changes in a later chunk) against one pass.
    let mut text = String::from("a,b,c,d\n");
    for i in 0..300 {
        let d = if i < 200 { "" } else { "false" };
        match i % 37 {
            5 => text.push('\n'),
            11 => text.push_str("1,2\n"),
            _ => {}
        }
        text.push_str(&format!("{i},x{i}, {}.5 ,{d}\n", i % 7));
    }
    text.push_str("7,y,true,\n");
    let bytes = text.as_bytes();
    let all: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
    let one = read_in(bytes, &names(bytes), &all, &["b".into()], (usize::MAX, 0)).unwrap();
    let many = read_in(bytes, &names(bytes), &all, &["b".into()], (64, 0)).unwrap();
    assert!(one.frame.equals_missing(&many.frame));
    assert_eq!(one.lines, many.lines);
    assert_eq!(one.bad, many.bad);
    assert_eq!(dtypes(&many), ["f64", "str", "str", "bool"]);
    // Short rows at i = 11 + 37k for k = 0..=7.
    assert_eq!(one.bad.len(), 8);
    // Blank lines before the header: the header is the first line that is not blank, and
    // every line number moves down by the two blank lines, in one pass and in chunks alike.
    let blank = format!("\n\r\n{text}");
    let bytes = blank.as_bytes();
    let one_blank = read_in(bytes, &names(bytes), &all, &["b".into()], (usize::MAX, 0)).unwrap();
    let many_blank = read_in(bytes, &names(bytes), &all, &["b".into()], (64, 0)).unwrap();
    assert!(one_blank.frame.equals_missing(&many.frame));
    assert!(many_blank.frame.equals_missing(&many.frame));
    let moved: Vec<u64> = one.lines.iter().map(|l| l + 2).collect();
    assert_eq!(one_blank.lines, moved);
    assert_eq!(many_blank.lines, moved);
}

#[test]
fn header_checks() {
    assert_eq!(names(b"\xef\xbb\xbfa,b\n1,2\n"), ["a", "b"]);
    let twice = header(b"a,b,a\n1,2,3\n").unwrap_err();
    assert_eq!(
        twice,
        "1: column \"a\" appears twice in the header (columns 1 and 3); rename one"
    );
    let binary = header(b"\xff\xfe\x01x,b\n").unwrap_err();
    assert_eq!(
        binary,
        "1: column 1 of the header is not UTF-8 text (found \"\\xff\\xfe\\u{1}x\")"
    );
}

proptest::proptest! {
    #[test]
    fn short_decimals_read_as_the_full_parse_reads_them(
        negative in proptest::bool::ANY,
        int in "[0-9]{0,12}",
        frac in proptest::option::of("[0-9]{0,12}"),
    ) {
        // The Clinger fast path against Rust's own correctly rounded parse, bit for bit.
        let text = format!(
            "{}{int}{}",
            if negative { "-" } else { "" },
            frac.map_or(String::new(), |f| format!(".{f}"))
        );
        let full = text.parse::<f64>().ok();
        match super::decimal(text.as_bytes()) {
            Some(x) => proptest::prop_assert_eq!(Some(x.to_bits()), full.map(f64::to_bits)),
            // Refused: more than 15 digits, no digit at all, or not a plain decimal.
            None => proptest::prop_assert!(
                text.bytes().filter(u8::is_ascii_digit).count() > 15
                    || !text.bytes().any(|b| b.is_ascii_digit())
            ),
        }
    }
}

#[test]
fn decimal_refuses_what_is_not_a_plain_decimal() {
    for cell in [
        "", "-", ".", "1e5", " 1", "1 ", "+1", "1.2.3", "0x10", "inf", "NaN",
    ] {
        assert_eq!(super::decimal(cell.as_bytes()), None, "{cell:?}");
    }
    assert_eq!(super::decimal(b"0.1"), Some(0.1));
    assert_eq!(super::decimal(b"-2.5"), Some(-2.5));
    assert_eq!(super::decimal(b"7."), Some(7.0));
    assert_eq!(super::decimal(b".25"), Some(0.25));
}
