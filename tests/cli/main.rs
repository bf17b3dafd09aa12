//! The one integration-test binary: runs `calibrate` like a user would, on the fixtures in
//! `tests/data/` (every expected number is worked by hand in `tests/data/README.md`).

mod certify;
mod economics;
mod holdout;
mod input;
mod recommend;
mod report;
mod segments;
mod signals;
mod sweep;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The binary under test.
pub fn calibrate() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("calibrate"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// A fixture's path.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// stdout of a finished command as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a finished command as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
