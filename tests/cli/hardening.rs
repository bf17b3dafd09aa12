//! Issue 13, the readers' half: valid files a user brings are read, bad ones get one error
//! naming the line (or row) and field, and nothing hangs or panics. Each test is named for
//! the defect it guards.

use std::fs;

use crate::harness::{Scratch, calibrate, fixture, run, stderr, stdout};

/// `recommend --print json` on `input` with `flags`, without the input's hash: for comparing
/// two readers of the same records.
fn policy(input: &std::path::Path, flags: &[&str]) -> serde_json::Value {
    let mut all = vec!["--print", "json"];
    all.extend_from_slice(flags);
    let out = run("recommend", input, &all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut policy: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // The policy names the input's hash; the numbers must agree.
    policy["policy"]
        .as_object_mut()
        .unwrap()
        .remove("input_sha256");
    policy
}

#[test]
fn parquet_narrow_ints_half_floats_decimals_and_categories_are_read() {
    // Issue 13.1 (a DECIMAL cost panicked) and 13.7 (int8, int16, uint8, uint16, float16 and
    // dictionary-encoded text were refused). tests/data/types.parquet is written by pyarrow
    // (tests/data/make_parquet_types.py); the same records as JSON Lines must give the same
    // policy.
    let dir = Scratch::new();
    let rows = [
        (0.5, 1, 1, 100, 10, "chat"),
        (0.25, 0, 1, 200, 20, "code"),
        (0.75, 1, 1, 300, 30, "chat"),
        (0.125, 0, 0, 400, 40, "code"),
        (0.5, 1, 1, 500, 50, "chat"),
        (0.75, 1, 1, 600, 60, "chat"),
    ];
    let mut jsonl = String::new();
    for (c, s, l, i, o, t) in rows {
        jsonl.push_str(&format!(
            "{{\"confidence\":{c},\"small_quality\":{s},\"large_quality\":{l},\
             \"small_cost\":0.000125,\"large_cost\":0.0025,\"input_tokens\":{i},\
             \"small_output_tokens\":{o},\"task_type\":\"{t}\"}}\n"
        ));
    }
    let same = dir.write("types.jsonl", jsonl);
    let flags = ["--min-quality", "0.9", "--segment-by", "task_type"];
    let parquet = policy(&fixture("types.parquet"), &flags);
    assert_eq!(parquet, policy(&same, &flags));
}

#[test]
fn csv_column_that_changes_kind_after_row_100_is_read() {
    // Issue 13.6: integers for 150 rows, then `0.5`, `true` and ` 0.5 ` with spaces: all valid.
    let dir = Scratch::new();
    let mut csv = String::from("confidence,small_quality\n");
    let mut jsonl = String::new();
    for i in 0..150 {
        let q = i % 2;
        csv.push_str(&format!("{},{q}\n", i % 7));
        jsonl.push_str(&format!(
            "{{\"confidence\":{},\"small_quality\":{q}}}\n",
            i % 7
        ));
    }
    csv.push_str("0.5,true\n 0.5 ,0.5\n");
    jsonl.push_str("{\"confidence\":0.5,\"small_quality\":true}\n");
    jsonl.push_str("{\"confidence\":0.5,\"small_quality\":0.5}\n");
    let a = dir.write("late.csv", csv);
    let b = dir.write("late.jsonl", jsonl);
    assert_eq!(policy(&a, &[]), policy(&b, &[]));
}

#[test]
fn csv_bad_value_after_row_100_names_its_line_and_field_and_can_be_skipped() {
    // Issue 13.6: the error named no line or field, and --skip-invalid did not help.
    let dir = Scratch::new();
    let mut csv = String::from("confidence,small_quality\n");
    for i in 0..150 {
        csv.push_str(&format!("0.{},{}\n", i % 9 + 1, i % 2));
    }
    csv.push_str("high,1\n");
    let path = dir.write("late-bad.csv", &csv);
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let first = stderr(&out).lines().next().unwrap().to_string();
    assert_eq!(
        first,
        format!(
            "error: {}:152: field \"confidence\": expected a finite number, found \"high\"",
            path.display()
        )
    );
    let out = run("recommend", &path, &["--skip-invalid"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 of 151 records were dropped by --skip-invalid"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn csv_line_numbers_count_lines_not_records_after_a_quoted_newline() {
    // Issue 13.14: the bad row is on line 4 (the quoted field spans lines 2 and 3).
    let dir = Scratch::new();
    let path = dir.write(
        "quoted.csv",
        "confidence,small_quality,note\n0.5,1,\"two\nlines\"\noops,1,x\n",
    );
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: {}:4: field \"confidence\": expected a finite number, found \"oops\"",
            path.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn csv_blank_lines_are_skipped_like_jsonl_blank_lines() {
    // Issue 13.15: a blank line, even a trailing one, was an invalid record.
    let dir = Scratch::new();
    let csv = dir.write("blank.csv", "confidence,small_quality\n0.5,1\n\n0.6,0\n\n");
    let jsonl = dir.write(
        "blank.jsonl",
        "{\"confidence\":0.5,\"small_quality\":1}\n\n{\"confidence\":0.6,\"small_quality\":0}\n\n",
    );
    assert_eq!(policy(&csv, &[]), policy(&jsonl, &[]));
}

#[test]
fn csv_short_and_long_rows_name_the_field_count_and_can_be_skipped() {
    // Issue 13.16: a short row read "found null", a long one could not be dropped.
    let dir = Scratch::new();
    let path = dir.write(
        "widths.csv",
        "confidence,small_quality\n0.5,1\n0.7\n0.6,0,extra\n0.8,1\n",
    );
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let p = path.display();
    assert!(
        err.starts_with(&format!(
            "error: {p}:3: expected 2 fields as in the header, found 1\n  {p}:4: expected 2 \
             fields as in the header, found 3\n"
        )),
        "{err}"
    );
    let out = run("recommend", &path, &["--skip-invalid"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 of 4 records were dropped by --skip-invalid"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn csv_unclosed_quote_names_its_line() {
    // Issue 13.16: an unterminated quote gave a truncated message without a line.
    let dir = Scratch::new();
    let path = dir.write(
        "quote.csv",
        "confidence,small_quality\n0.5,1\n\"0.6,0\n0.7,1\n",
    );
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: {}:3: expected a closing quote, found a quoted field that runs to the end \
             of the file",
            path.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn csv_duplicate_column_names_are_refused() {
    // Issue 13.8: the first of two same-named columns won, silently.
    let dir = Scratch::new();
    let path = dir.write(
        "dup.csv",
        "confidence,small_quality,confidence\n0.5,1,0.9\n",
    );
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}:1: column \"confidence\" appears twice in the header (columns 1 and 3); \
             rename one\n",
            path.display()
        )
    );
}

#[test]
fn binary_header_bytes_are_escaped_not_echoed() {
    // Issue 13.18: raw binary bytes were echoed in "found columns".
    let dir = Scratch::new();
    let path = dir.write("bin.csv", b"\xff\xfe\x01x,b\n1,2\n");
    let out = run("recommend", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "error: {}:1: column 1 of the header is not UTF-8 text (found \
             \"\\xff\\xfe\\u{{1}}x\")\n",
            path.display()
        )
    );
}

/// Runs `recommend` on `input`'s bytes written into a FIFO without an extension.
fn through_fifo(input: &std::path::Path, flags: &[&str]) -> std::process::Output {
    let dir = Scratch::new();
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = fs::read(input).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::write(fifo, bytes).unwrap())
    };
    let out = calibrate()
        .arg("recommend")
        .arg(&fifo)
        .args(flags)
        .output()
        .unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn csv_and_jsonl_from_a_pipe_without_extension_are_sniffed_and_read_once() {
    // Issue 13.4: a FIFO hung (it was reopened by path) and `<(cat x.csv)`, a pipe without an
    // extension, gave an error. Columns read beside the fixed fields (--segment-by) come from
    // the same single pass.
    for (name, flags) in [
        ("tiny.csv", vec!["--field", "small_quality=small_correct"]),
        ("tiny.jsonl", vec![]),
    ] {
        let mut flags = flags;
        flags.extend(["--segment-by", "task_type", "--print", "json"]);
        let out = through_fifo(&fixture(name), &flags);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let direct = run("recommend", fixture(name), &flags);
        assert_eq!(stdout(&out), stdout(&direct), "{name}");
    }
}

#[test]
fn stdin_jsonl_with_a_byte_order_mark_or_as_an_array_is_sniffed_as_json() {
    // Issue 13.16: stdin sniffing read a JSON array or BOM-prefixed JSON Lines as CSV.
    let jsonl = fs::read(fixture("tiny.jsonl")).unwrap();
    let direct = run("recommend", fixture("tiny.jsonl"), &["--print", "json"]);
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&jsonl);
    let text = String::from_utf8(jsonl).unwrap();
    let array = format!("[{}]", text.lines().collect::<Vec<_>>().join(",\n"));
    for input in [bom, array.into_bytes()] {
        let out = calibrate()
            .args(["recommend", "-", "--print", "json"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // The hash is of the bytes given; the policy's numbers must match the file's.
        let mut a: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let mut b: serde_json::Value = serde_json::from_str(&stdout(&direct)).unwrap();
        a["policy"].as_object_mut().unwrap().remove("input_sha256");
        b["policy"].as_object_mut().unwrap().remove("input_sha256");
        assert_eq!(a, b);
    }
}
