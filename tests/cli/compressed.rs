//! Issue 14: inputs as teams have them. gzip and zstd (by extension, and by magic bytes on
//! stdin or under any name), `.json` holding JSON Lines or a JSON array: each gives the same
//! sweep.csv and deployable policy as the plain JSON Lines file.

use std::io::Write;

use crate::harness::{Scratch, calibrate, example, stderr, stdout};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

/// The files a sweep writes that must not depend on how the input was stored.
fn sweep_csv_and_policy(dir: &Scratch, input: &std::path::Path, out: &str) -> (Vec<u8>, String) {
    let flags = ["--min-quality", "0.95", "--bootstrap", "0", "--quiet"];
    let run = dir.run_out("sweep", input, out, &flags);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let policy = calibrate()
        .arg("recommend")
        .arg(input)
        .args(["--min-quality", "0.95", "--print", "json", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(policy.status.code(), Some(0), "{}", stderr(&policy));
    (dir.read(&format!("{out}/sweep.csv")), stdout(&policy))
}

#[test]
fn gzip_and_zstd_give_the_plain_file_s_results() {
    let dir = Scratch::new();
    let plain = std::fs::read(example("example.jsonl")).unwrap();
    let reference = sweep_csv_and_policy(&dir, &example("example.jsonl"), "plain");
    let inputs = [
        ("e.jsonl.gz", gzip(&plain)),
        ("e.jsonl.zst", zstd(&plain)),
        // Magic bytes decide, whatever the name says.
        ("misnamed.jsonl", gzip(&plain)),
        ("e.json", plain.clone()),
    ];
    for (name, bytes) in inputs {
        let path = dir.write(name, bytes);
        let got = sweep_csv_and_policy(&dir, &path, &format!("out-{name}"));
        assert!(got.0 == reference.0, "{name}: sweep.csv differs");
        assert_eq!(got.1, reference.1, "{name}: policy differs");
    }
    // The run says how it read the bytes.
    let path = dir.join("e.jsonl.zst");
    let out = calibrate()
        .arg("recommend")
        .arg(&path)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(stderr(&out).contains("zstd compressed"), "{}", stderr(&out));
}

#[test]
fn compressed_stdin_and_csv() {
    let dir = Scratch::new();
    let plain = std::fs::read(example("example.jsonl")).unwrap();
    let reference = sweep_csv_and_policy(&dir, &example("example.jsonl"), "plain");
    for bytes in [gzip(&plain), zstd(&plain)] {
        let out = calibrate()
            .args([
                "recommend",
                "-",
                "--min-quality",
                "0.95",
                "--print",
                "json",
                "--quiet",
            ])
            .write_stdin(bytes)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            reference.1.replace(&sha(&reference.1), &sha(&stdout(&out)))
        );
    }
    // CSV inside gzip: the same threshold as the CSV itself.
    let csv = b"confidence,small_quality\n0.9,1\n0.8,1\n0.7,0\n0.6,1\n0.5,0\n";
    let plain = dir.write("t.csv", csv);
    let packed = dir.write("t.csv.gz", gzip(csv));
    let threshold = |p: &std::path::Path| {
        let out = calibrate()
            .arg("recommend")
            .arg(p)
            .args(["--min-quality", "0.75", "--quiet"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(threshold(&packed), threshold(&plain));
    // Parquet keeps its own compression inside; a compressed Parquet file is refused clearly.
    let pq = dir.write("t.parquet.gz", gzip(b"PAR1"));
    let out = calibrate().arg("recommend").arg(&pq).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a compressed Parquet file; Parquet compresses its own columns"),
        "{}",
        stderr(&out)
    );
}

/// The `input_sha256` of a printed policy (it hashes the bytes as read, which for stdin are the
/// decompressed ones, so it matches the plain file's).
fn sha(policy: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(policy).unwrap();
    v["policy"]["input_sha256"].as_str().unwrap().to_string()
}

/// A `.json` file holding a JSON array of records reads as the same records; the run says so,
/// and a bad element is named by its position.
#[test]
fn a_json_array() {
    let dir = Scratch::new();
    let lines = "{\"confidence\":0.9,\"small_quality\":1}\n{\"confidence\":0.8,\"small_quality\":1}\n\
                 {\"confidence\":0.7,\"small_quality\":0}\n{\"confidence\":0.6,\"small_quality\":1}\n";
    let array = format!("[\n  {}\n]\n", lines.trim_end().replace('\n', ",\n  "));
    let jsonl = dir.write("r.jsonl", lines);
    let json = dir.write("r.json", &array);
    let run = |p: &std::path::Path| {
        calibrate()
            .arg("recommend")
            .arg(p)
            .args(["--min-quality", "0.75", "--quiet"])
            .output()
            .unwrap()
    };
    let (a, b) = (run(&jsonl), run(&json));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    assert_eq!(stdout(&a), stdout(&b));
    assert!(
        stderr(&b).contains("a JSON array of 4 records"),
        "{}",
        stderr(&b)
    );
    // From stdin too (sniffed from the `[`).
    let out = calibrate()
        .args(["recommend", "-", "--min-quality", "0.75", "--quiet"])
        .write_stdin(array.clone())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), stdout(&a), "{}", stderr(&out));
    let bad = dir.write("bad.json", array.replace("0.7", "\"high\""));
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":3: field \"confidence\""),
        "{}",
        stderr(&out)
    );
}
