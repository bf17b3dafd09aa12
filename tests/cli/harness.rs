//! The one command harness: runs `calibrate` as a user would and hands back what the user
//! sees (exit code, stdout, stderr, the files written). Every test module goes through it, so
//! tests differ in their arguments and assertions, never in plumbing.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// The binary under test, with `RUST_LOG` cleared so a developer's setting cannot reach stderr.
pub fn calibrate() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("calibrate");
    cmd.env_remove("RUST_LOG");
    cmd
}

/// Runs `calibrate COMMAND INPUT FLAGS...` to completion.
pub fn run(command: &str, input: impl AsRef<OsStr>, flags: &[&str]) -> Output {
    calibrate()
        .arg(command)
        .arg(input)
        .args(flags)
        .output()
        .unwrap()
}

/// A tiny fixture in `tests/data/` (its numbers worked by hand in the README beside it).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A file of the committed example data in `data/` (the README's examples).
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// stdout of a finished command as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a finished command as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run wrote its report: exit 0 (objective met) or 1 (not met), not 2 (error).
pub fn assert_reported(out: &Output) {
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(out));
}

/// A test's own temporary directory: inputs are written into it, reports under it, and all of
/// it is removed when the value is dropped.
pub struct Scratch(TempDir);

impl Scratch {
    /// A new, empty directory.
    pub fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// A path inside the directory (nothing is created).
    pub fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Writes an input file (creating its parent directories) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    /// A written file's bytes.
    pub fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.join(name)).unwrap()
    }

    /// A written file as text.
    pub fn text(&self, name: &str) -> String {
        fs::read_to_string(self.join(name)).unwrap()
    }

    /// A written file parsed as JSON.
    pub fn json(&self, name: &str) -> serde_json::Value {
        serde_json::from_slice(&self.read(name)).unwrap()
    }

    /// Runs `calibrate COMMAND INPUT FLAGS... --out DIR` to completion, DIR being `out` inside
    /// this directory.
    pub fn run_out(
        &self,
        command: &str,
        input: impl AsRef<OsStr>,
        out: &str,
        flags: &[&str],
    ) -> Output {
        calibrate()
            .arg(command)
            .arg(input)
            .args(flags)
            .arg("--out")
            .arg(self.join(out))
            .output()
            .unwrap()
    }
}
