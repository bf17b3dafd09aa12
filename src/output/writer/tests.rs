//! The report directory's guarantees (issue 13, items 5, 17 and 18): nothing calibrate did not
//! write is replaced, even when it appears during the run; nothing is left behind.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Barrier};

use super::*;

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn files(tag: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![("report.md", tag.as_bytes().to_vec())]
}

#[test]
fn a_directory_created_at_out_during_the_run_is_kept_and_the_new_report_parked() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("r");
    let out = OutputDir::prepare(&target).unwrap();
    fs::create_dir(&target).unwrap();
    fs::write(target.join("mine.txt"), "user data").unwrap();
    let err = format!("{:#}", out.commit(&files("new")).unwrap_err());
    assert!(err.contains("was not written by calibrate"), "{err}");
    assert!(err.contains("r.calibrate-new"), "{err}");
    assert_eq!(
        fs::read_to_string(target.join("mine.txt")).unwrap(),
        "user data"
    );
    let parked = tmp.path().join("r.calibrate-new");
    assert_eq!(fs::read_to_string(parked.join("report.md")).unwrap(), "new");
    assert!(parked.join(MARKER).is_file());
    assert_eq!(names(tmp.path()), ["r", "r.calibrate-new"]);
}

#[test]
fn files_put_into_an_out_that_was_empty_at_start_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("r");
    fs::create_dir(&target).unwrap();
    let out = OutputDir::prepare(&target).unwrap();
    fs::write(target.join("mine.txt"), "user data").unwrap();
    assert!(out.commit(&files("new")).is_err());
    assert_eq!(names(&target), ["mine.txt"]);
    // A second refused run parks beside the first, it does not overwrite it.
    let out = OutputDir::prepare(&tmp.path().join("q")).unwrap();
    fs::create_dir_all(tmp.path().join("q.calibrate-new")).unwrap();
    fs::write(tmp.path().join("q"), "a file now").unwrap();
    let err = format!("{:#}", out.commit(&files("new")).unwrap_err());
    assert!(err.contains("is not a directory"), "{err}");
    assert!(err.contains("q.calibrate-new-2"), "{err}");
}

#[test]
fn a_rerun_replaces_its_own_report_whole_and_leaves_no_staging() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("r");
    OutputDir::prepare(&target)
        .unwrap()
        .commit(&[("old.csv", b"1".to_vec())])
        .unwrap();
    OutputDir::prepare(&target)
        .unwrap()
        .commit(&files("new"))
        .unwrap();
    assert_eq!(names(&target), [MARKER, "report.md"]);
    assert_eq!(names(tmp.path()), ["r"]);
}

#[test]
fn concurrent_writers_each_succeed_and_leave_one_whole_report() {
    // Eight runs prepared before any commits, then committing at once: every swap either
    // renames into the empty place or exchanges with a whole report, so each run succeeds,
    // the directory holds exactly one run's files, and no staging directory is left.
    for _ in 0..5 {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("r");
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let out = OutputDir::prepare(&target).unwrap();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let name = format!("writer-{i}");
                    let bytes = vec![b'x'; 1000 * (i + 1)];
                    barrier.wait();
                    let files = [(name.as_str(), bytes)];
                    out.commit(&files).map_err(|e| format!("{e:#}"))
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        let left = names(&target);
        assert_eq!(left.len(), 2, "{left:?}");
        let i: usize = left[1].strip_prefix("writer-").unwrap().parse().unwrap();
        assert_eq!(
            fs::read(target.join(&left[1])).unwrap().len(),
            1000 * (i + 1)
        );
        assert_eq!(names(tmp.path()), ["r"]);
    }
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_out_and_dot_fail_at_prepare() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &link).unwrap();
    let err = format!("{:#}", OutputDir::prepare(&link).err().unwrap());
    assert!(
        err.contains("symbolic link") && err.contains("does not exist"),
        "{err}"
    );
    for dot in [".", "..", "/", "a/.."] {
        let err = format!("{:#}", OutputDir::prepare(Path::new(dot)).err().unwrap());
        assert!(
            err.contains("cannot be the report directory"),
            "{dot}: {err}"
        );
    }
    assert_eq!(names(tmp.path()), ["link"]);
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_directory_writes_into_that_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("real")).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink("real", &link).unwrap();
    OutputDir::prepare(&link)
        .unwrap()
        .commit(&files("new"))
        .unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(names(&tmp.path().join("real")), [MARKER, "report.md"]);
}

#[test]
fn a_failed_run_leaves_no_parent_directories_it_created() {
    let tmp = tempfile::tempdir().unwrap();
    // Dropped without a commit (the analysis failed).
    drop(OutputDir::prepare(&tmp.path().join("a/b/c/r")).unwrap());
    // A file that cannot be written (its directory does not exist in the staging directory).
    let out = OutputDir::prepare(&tmp.path().join("x/y/r")).unwrap();
    assert!(out.commit(&[("no/such/file", vec![])]).is_err());
    assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
    // A parent that existed before is kept, and one that gained other files too.
    fs::create_dir(tmp.path().join("kept")).unwrap();
    let out = OutputDir::prepare(&tmp.path().join("kept/new/r")).unwrap();
    fs::write(tmp.path().join("kept/new/other"), "").unwrap();
    drop(out);
    assert_eq!(names(&tmp.path().join("kept/new")), ["other"]);
}

#[test]
fn without_renameat2_two_renames_replace_the_old_report() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("r"), tmp.path().join("staged"));
    fs::create_dir(&old).unwrap();
    fs::write(old.join(MARKER), "").unwrap();
    fs::write(old.join("old"), "").unwrap();
    fs::create_dir(&new).unwrap();
    fs::write(new.join("new"), "").unwrap();
    assert!(two_renames(&new, &old).is_ok());
    assert_eq!(names(&old), ["new"]);
    assert_eq!(names(tmp.path()), ["r"]);
}

#[test]
fn without_renameat2_a_foreign_target_is_put_back_not_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let (target, new) = (tmp.path().join("r"), tmp.path().join("staged"));
    fs::create_dir(&target).unwrap();
    fs::write(target.join("mine.txt"), "user data").unwrap();
    fs::create_dir(&new).unwrap();
    fs::write(new.join(MARKER), "").unwrap();
    assert!(matches!(
        two_renames(&new, &target),
        Err(Swap::Refused("changed"))
    ));
    assert_eq!(names(&target), ["mine.txt"]);
    assert_eq!(names(&new), [MARKER]);
    assert_eq!(names(tmp.path()), ["r", "staged"]);
}

#[cfg(unix)]
#[test]
fn a_file_written_atomically_gets_a_new_files_permissions() {
    // tempfile creates 0600 files; the written file is a result to share, so it gets what any
    // new file gets here (0666 less the umask), as std::fs::write gives.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let atomic = dir.path().join("atomic.parquet");
    write_file_atomically(&atomic, b"x").unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&atomic), mode(&plain));
}
