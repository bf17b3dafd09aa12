//! The report directory: checked before the long work starts, written whole or not at all.
//!
//! Files go to a staging directory beside the target, which then takes the target's place in
//! one atomic exchange (`renameat2` with `RENAME_EXCHANGE` / `RENAME_NOREPLACE` where the
//! system has it; two renames elsewhere). The target is checked when the run starts and again
//! at the swap: a directory calibrate did not write (no marker file, not empty) is never
//! replaced; the new report is then left in `<target>.calibrate-new` and the run fails. On any
//! other failure the staging directory and the parent directories the run created are
//! removed. It must not render anything.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

/// Marks a directory as a calibrate report, so a rerun may replace it.
pub const MARKER: &str = ".calibrate-report";

/// How often the swap re-checks a target that another process keeps changing.
const SWAP_ATTEMPTS: usize = 5;

/// A report directory being prepared.
pub struct OutputDir {
    target: PathBuf,
    /// `None` once `commit` has taken it.
    staging: Option<TempDir>,
    /// Parent directories this run created, deepest first (removed again if the run fails).
    created: Vec<PathBuf>,
    committed: bool,
}

/// What is at the target path now.
#[derive(Debug, PartialEq)]
enum Target {
    /// Nothing: the report is renamed into place.
    Absent,
    /// An empty directory, or a report calibrate wrote: it may be replaced.
    Replaceable,
    /// Something calibrate must not replace, and why.
    Foreign(&'static str),
}

impl OutputDir {
    /// Checks the target and creates the staging directory: a bad `--out` (a file, a directory
    /// calibrate did not write, a dangling symbolic link, `.`) fails here, before the input is
    /// read. A symbolic link to a directory stands for that directory.
    pub fn prepare(target: &Path) -> Result<OutputDir> {
        let target = resolve(target)?;
        if let Target::Foreign(why) = inspect(&target)? {
            bail!(
                "{}: {why}; refusing to replace it. Choose another --out or remove it",
                target.display()
            );
        }
        let parent = parent_of(&target);
        let created = create_parents(&parent)?;
        let mut out = OutputDir {
            target,
            staging: None,
            created,
            committed: false,
        };
        let staging = tempfile::Builder::new()
            .prefix(".calibrate-tmp-")
            .tempdir_in(&parent)
            .with_context(|| format!("{}: cannot write here", parent.display()))?;
        out.staging = Some(staging);
        Ok(out)
    }

    /// Refuses a report that would replace the directory holding one of its inputs (a policy
    /// in a report directory given again as `--out`, say): the swap would delete it.
    pub fn keeps(&self, inputs: &[&Path]) -> Result<()> {
        let Ok(target) = std::fs::canonicalize(&self.target) else {
            return Ok(()); // nothing there yet
        };
        for input in inputs {
            if std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&target)) {
                bail!(
                    "{}: this input is inside --out {}, which the report replaces whole; choose \
                     another --out",
                    input.display(),
                    self.target.display()
                );
            }
        }
        Ok(())
    }

    /// Writes every file, then swaps the staging directory into place.
    pub fn commit(mut self, files: &[(&str, Vec<u8>)]) -> Result<()> {
        let staging = self
            .staging
            .take()
            .expect("prepare made the staging directory");
        let dir = staging.path();
        for (name, bytes) in files {
            // Named as the report's file: the staging directory is gone when the user reads it.
            let shown = self.target.join(name);
            fs::write(dir.join(name), bytes)
                .with_context(|| format!("{}: cannot write", shown.display()))?;
        }
        fs::write(
            dir.join(MARKER),
            "This directory is a report written by calibrate; rerunning replaces it whole.\n",
        )
        .with_context(|| format!("{}: cannot write", self.target.join(MARKER).display()))?;
        // From here on the staging directory is removed or parked by hand.
        let staged = staging.keep();
        match swap_in(&staged, &self.target) {
            Ok(()) => {
                self.committed = true;
                Ok(())
            }
            Err(Swap::Refused(why)) => {
                let kept = park(&staged, &self.target);
                bail!(
                    "{}: {why} while calibrate ran; left it untouched. The new report is in {}",
                    self.target.display(),
                    kept.display()
                )
            }
            Err(Swap::Failed(e)) => {
                fs::remove_dir_all(&staged).ok();
                Err(e).with_context(|| format!("{}: cannot replace", self.target.display()))
            }
            Err(Swap::Stranded { error, old, new }) => Err(error).with_context(|| {
                format!(
                    "{}: could not be put back: what was there is now in {} (the new report is \
                     in {})",
                    self.target.display(),
                    old.display(),
                    new.display()
                )
            }),
        }
    }
}

impl Drop for OutputDir {
    /// A failed run removes its staging directory and the (empty) parents it created.
    fn drop(&mut self) {
        drop(self.staging.take());
        if !self.committed {
            for dir in &self.created {
                if fs::remove_dir(dir).is_err() {
                    break; // not empty: something else lives there now
                }
            }
        }
    }
}

/// The path to write: `.`, `..` and `/` are refused (they cannot be renamed); a symbolic link
/// stands for the directory it points to; a dangling one is refused.
fn resolve(target: &Path) -> Result<PathBuf> {
    if target.file_name().is_none() {
        bail!(
            "{}: cannot be the report directory (a report replaces its directory whole); name a \
             directory, e.g. --out report",
            target.display()
        );
    }
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(target) {
            Ok(real) => Ok(real),
            Err(_) => bail!(
                "{}: is a symbolic link to {}, which does not exist; remove the link or choose \
                 another --out",
                target.display(),
                fs::read_link(target)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| "?".into())
            ),
        },
        _ => Ok(target.to_path_buf()),
    }
}

/// What is at `target`, without following a symbolic link.
fn inspect(target: &Path) -> Result<Target> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Target::Absent),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", target.display())),
    };
    if meta.file_type().is_symlink() {
        return Ok(Target::Foreign("is a symbolic link"));
    }
    if !meta.is_dir() {
        return Ok(Target::Foreign("exists and is not a directory"));
    }
    let mut entries =
        fs::read_dir(target).with_context(|| format!("{}: cannot list", target.display()))?;
    if entries.next().is_none() {
        return Ok(Target::Replaceable);
    }
    let marked = fs::symlink_metadata(target.join(MARKER)).is_ok_and(|m| m.is_file());
    Ok(if marked {
        Target::Replaceable
    } else {
        Target::Foreign("exists and was not written by calibrate (no .calibrate-report file)")
    })
}

/// The directory that holds `target` (`.` for a bare name).
fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `dir` and its missing ancestors; returns the ones it created, deepest first.
fn create_parents(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty()) {
        if fs::symlink_metadata(d).is_ok() {
            break;
        }
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    if let Err(e) = fs::create_dir_all(dir) {
        for d in &missing {
            fs::remove_dir(d).ok();
        }
        return Err(e).with_context(|| format!("{}: cannot create directory", dir.display()));
    }
    Ok(missing)
}

/// Why the staged report did not take the target's place.
enum Swap {
    /// The target became something calibrate must not replace.
    Refused(&'static str),
    /// An I/O error; the staging directory holds only the new report.
    Failed(io::Error),
    /// What was at the target could not be put back; nothing is deleted.
    Stranded {
        /// Why.
        error: io::Error,
        /// Where what was at the target is now.
        old: PathBuf,
        /// Where the new report is.
        new: PathBuf,
    },
}

impl From<io::Error> for Swap {
    fn from(e: io::Error) -> Swap {
        Swap::Failed(e)
    }
}

/// Puts `staged` at `target`, re-checking the target first; a target changed in between by
/// another process is checked again (a concurrent calibrate writing the same report is fine:
/// the last one to swap wins, each report whole).
fn swap_in(staged: &Path, target: &Path) -> Result<(), Swap> {
    for _ in 0..SWAP_ATTEMPTS {
        let state =
            inspect(target).map_err(|e| Swap::Failed(io::Error::other(format!("{e:#}"))))?;
        match state {
            Target::Foreign(why) => return Err(Swap::Refused(why)),
            Target::Absent => match rename_noreplace(staged, target) {
                Ok(()) => return Ok(()),
                // Created meanwhile: look again.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            },
            Target::Replaceable => match exchange(staged, target) {
                // `staged` now holds what was at the target: check it once more.
                Ok(()) => match inspect(staged) {
                    Ok(Target::Replaceable) => {
                        fs::remove_dir_all(staged).ok();
                        return Ok(());
                    }
                    _ => {
                        // Changed between the look and the exchange: give it back.
                        exchange(staged, target).map_err(|error| Swap::Stranded {
                            error,
                            old: staged.to_path_buf(),
                            new: target.to_path_buf(),
                        })?;
                        continue;
                    }
                },
                // Removed meanwhile: look again.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    return two_renames(staged, target);
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    Err(Swap::Refused("kept changing"))
}

/// Where `renameat2` is missing: move the old report aside, check it once more, rename the new
/// one in, and put the old one back if that fails. Between the two renames the target is
/// briefly absent. What was moved aside is deleted only once it is known to be a report (or
/// empty) and the new report is in place.
fn two_renames(staged: &Path, target: &Path) -> Result<(), Swap> {
    let aside = tempfile::Builder::new()
        .prefix(".calibrate-old-")
        .tempdir_in(parent_of(target))?;
    let old = aside.path().join("report");
    fs::rename(target, &old)?;
    let put_back = |aside: TempDir| -> Option<Swap> {
        match fs::rename(&old, target) {
            Ok(()) => None,
            Err(error) => Some(Swap::Stranded {
                error,
                old: aside.keep().join("report"),
                new: staged.to_path_buf(),
            }),
        }
    };
    if !matches!(inspect(&old), Ok(Target::Replaceable)) {
        return Err(put_back(aside).unwrap_or(Swap::Refused("changed")));
    }
    if let Err(e) = fs::rename(staged, target) {
        return Err(put_back(aside).unwrap_or(Swap::Failed(e)));
    }
    drop(aside); // removes the old report
    Ok(())
}

/// Moves a refused report to `<target>.calibrate-new` (or `-2`, `-3`, ...), a name the user
/// sees; returns where it is (the staging path itself if no name is free).
fn park(staged: &Path, target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    for i in 1..=100 {
        let suffix = if i == 1 {
            String::new()
        } else {
            format!("-{i}")
        };
        let candidate = parent_of(target).join(format!("{name}.calibrate-new{suffix}"));
        if rename_noreplace(staged, &candidate).is_ok() {
            return candidate;
        }
    }
    staged.to_path_buf()
}

/// `rename` that fails with `AlreadyExists` instead of replacing. Where the system cannot do
/// that atomically, it checks first (a directory created in between could be replaced, but
/// only an empty one: `rename` never replaces a non-empty directory).
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match renameat2(from, to, false) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            if fs::symlink_metadata(to).is_ok() {
                Err(io::ErrorKind::AlreadyExists.into())
            } else {
                fs::rename(from, to)
            }
        }
        other => other,
    }
}

/// Swaps two paths atomically; `Unsupported` where the system cannot.
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    renameat2(a, b, true)
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
fn renameat2(from: &Path, to: &Path, exchange: bool) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    let flags = if exchange {
        RenameFlags::EXCHANGE
    } else {
        RenameFlags::NOREPLACE
    };
    match renameat_with(CWD, from, CWD, to, flags) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) | Err(Errno::NOTEMPTY) => Err(io::ErrorKind::AlreadyExists.into()),
        // Old kernels and file systems without the flags.
        Err(Errno::INVAL) | Err(Errno::NOSYS) | Err(Errno::OPNOTSUPP) => {
            Err(io::ErrorKind::Unsupported.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn renameat2(_: &Path, _: &Path, _: bool) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Writes one file whole or not at all: a temporary file beside it, then a rename.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Created as any new file is (0666 less the umask), not tempfile's private 0600: the file
    // is a result to share.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(parent)
        .with_context(|| format!("{}: cannot write here", parent.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    // The persist error wraps the I/O error and shows it twice: keep the I/O error alone.
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
