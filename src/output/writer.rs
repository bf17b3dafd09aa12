//! The report directory: created before the long work starts, written whole or not at all.
//!
//! Files go to a temporary directory beside the target, which then replaces the target in one
//! rename. A directory calibrate did not write (no marker file) is never replaced, so nothing
//! of the user's is lost. It must not render anything.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

/// Marks a directory as a calibrate report, so a rerun may replace it.
pub const MARKER: &str = ".calibrate-report";

/// A report directory being prepared.
pub struct OutputDir {
    target: PathBuf,
    staging: TempDir,
}

impl OutputDir {
    /// Checks the target and creates the staging directory. Fails fast on a bad path.
    pub fn prepare(target: &Path) -> Result<OutputDir> {
        if target.exists() {
            if !target.is_dir() {
                bail!("{}: exists and is not a directory", target.display());
            }
            let mut entries = fs::read_dir(target)
                .with_context(|| format!("{}: cannot list", target.display()))?;
            let empty = entries.next().is_none();
            if !empty && !target.join(MARKER).exists() {
                bail!(
                    "{}: exists and was not written by calibrate (no {MARKER} file); refusing to \
                     replace it. Choose another --out or remove it",
                    target.display()
                );
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .with_context(|| format!("{}: cannot create directory", parent.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".calibrate-tmp-")
            .tempdir_in(&parent)
            .with_context(|| format!("{}: cannot write here", parent.display()))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
        })
    }

    /// Writes every file, then swaps the staging directory into place.
    pub fn commit(self, files: &[(&str, Vec<u8>)]) -> Result<()> {
        let dir = self.staging.path();
        for (name, bytes) in files {
            let path = dir.join(name);
            fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))?;
        }
        fs::write(
            dir.join(MARKER),
            "This directory is a report written by calibrate; rerunning replaces it whole.\n",
        )?;
        let staged = self.staging.keep();
        if self.target.exists() {
            let old = tempfile::Builder::new()
                .prefix(".calibrate-old-")
                .tempdir_in(staged.parent().unwrap_or(Path::new(".")))?
                .keep();
            fs::rename(&self.target, old.join("report"))
                .with_context(|| format!("{}: cannot move aside", self.target.display()))?;
            if let Err(e) = fs::rename(&staged, &self.target) {
                // Put the old report back rather than leave nothing.
                fs::rename(old.join("report"), &self.target).ok();
                fs::remove_dir_all(&old).ok();
                fs::remove_dir_all(&staged).ok();
                return Err(e)
                    .with_context(|| format!("{}: cannot replace", self.target.display()));
            }
            fs::remove_dir_all(&old).ok();
        } else {
            fs::rename(&staged, &self.target)
                .with_context(|| format!("{}: cannot create", self.target.display()))?;
        }
        Ok(())
    }
}

/// Writes one file whole or not at all: a temporary file beside it, then a rename.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("{}: cannot write here", parent.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}
