//! The JSON Lines reader's hardening (issue 13): duplicate keys refused by line and key, a
//! byte-order mark accepted, and parse failures worded for what they are.

use sha2::Digest;

use crate::harness::{Scratch, run, stderr, stdout};

const GOOD: &str = "{\"confidence\":0.9,\"small_quality\":1,\"large_quality\":1,\"seg\":\"a\"}\n\
                    {\"confidence\":0.4,\"small_quality\":0,\"large_quality\":1,\"seg\":\"b\"}\n\
                    {\"confidence\":0.7,\"small_quality\":1,\"large_quality\":0,\"seg\":\"a\"}\n";

#[test]
fn duplicate_json_key_is_refused_with_line_and_key_issue_13_8() {
    let dir = Scratch::new();
    for (line, key) in [
        // A key the run reads, and one it skips: both are refused, neither resolved silently.
        (
            "{\"confidence\":0.5,\"small_quality\":1,\"confidence\":0.6}",
            "confidence",
        ),
        (
            "{\"x\":1,\"confidence\":0.5,\"small_quality\":1,\"x\":2}",
            "x",
        ),
    ] {
        let path = dir.write("dup.jsonl", format!("{GOOD}{line}\n"));
        let out = run("recommend", &path, &["--min-quality", "0.5"]);
        assert_eq!(out.status.code(), Some(2), "{line}");
        let err = stderr(&out);
        assert_eq!(
            err.lines().next().unwrap(),
            format!(
                "error: {}:4: field \"{key}\": expected each key once per object, found it twice",
                path.display()
            )
        );
    }
}

#[test]
fn duplicate_key_in_a_record_after_another_key_order_is_found_issue_13_8() {
    // The key cache remembers the previous record's order; a record that first agrees with it
    // and then repeats a key must still be caught.
    let dir = Scratch::new();
    let text = format!(
        "{GOOD}{{\"small_quality\":1,\"confidence\":0.5}}\n\
         {{\"small_quality\":1,\"small_quality\":0,\"confidence\":0.5}}\n"
    );
    let out = run("recommend", dir.write("e.jsonl", text), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":5: field \"small_quality\": expected each key once per object"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn jsonl_byte_order_mark_is_accepted_issue_13_16() {
    let dir = Scratch::new();
    let json = |out: &std::process::Output| -> serde_json::Value {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plain = json(&run(
        "recommend",
        dir.write("p.jsonl", GOOD),
        &["--print", "json"],
    ));
    let bom_file = dir.write("bom.jsonl", format!("\u{feff}{GOOD}"));
    let mut bom = json(&run("recommend", &bom_file, &["--print", "json"]));
    // The hash is of the file's bytes, mark included (`sha256sum bom.jsonl`); all else agrees.
    let sha = |v: &mut serde_json::Value| v["policy"]["input_sha256"].take();
    let digest = sha2::Sha256::digest(std::fs::read(&bom_file).unwrap());
    let expected: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sha(&mut bom), serde_json::Value::String(expected));
    let mut plain = plain;
    sha(&mut plain);
    assert_eq!(bom, plain);
}

#[test]
fn segment_column_parse_failures_say_what_is_wrong_issue_13_13() {
    let dir = Scratch::new();
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for (value, words) in [
        ("1e400", "number out of range"),
        (deep.as_str(), "recursion limit exceeded"),
    ] {
        let line = format!("{{\"confidence\":0.5,\"small_quality\":1,\"seg\":{value}}}");
        let path = dir.write("seg.jsonl", format!("{GOOD}{line}\n"));
        let out = run("recommend", &path, &["--segment-by", "seg"]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        let first = err.lines().next().unwrap();
        assert!(
            first.contains(":4: expected one JSON object per line"),
            "{err}"
        );
        assert!(
            first.contains(words) && !err.contains("no such field"),
            "{err}"
        );
    }
    // A key that is not UTF-8 elsewhere in the object does not hide the segment column.
    let mut text = GOOD.as_bytes().to_vec();
    text.extend_from_slice(
        b"{\"confidence\":0.5,\"small_quality\":1,\"large_quality\":1,\"\xff\":1,\"seg\":\"b\"}\n",
    );
    let flags = ["--segment-by", "seg", "--print", "json"];
    let out = run("recommend", dir.write("key.jsonl", text), &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["policy"]["measured"]["records"], 4, "{json}");
}

#[test]
fn signals_discover_columns_past_an_unreadable_value_issue_13_13() {
    // The first record holds a key that is not UTF-8 and a number out of range in a column no
    // one reads: its other columns are still tried as signals.
    let dir = Scratch::new();
    let mut text = b"{\"confidence\":0.9,\"small_quality\":1,\"\xff\":1,\"s2\":0.3}\n".to_vec();
    text.extend_from_slice(b"{\"confidence\":0.4,\"small_quality\":0,\"s2\":0.1,\"x\":1e400}\n");
    text.extend_from_slice(b"{\"confidence\":0.7,\"small_quality\":1,\"s2\":0.2}\n");
    let path = dir.write("s.jsonl", text);
    let out = dir.run_out("signals", &path, "r", &["--min-quality", "0.5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("s2"), "{}", stdout(&out));
}
