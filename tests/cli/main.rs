//! The one integration-test binary: runs `calibrate` like a user would, on the fixtures in
//! `tests/data/` (every expected number is worked by hand in `tests/data/README.md`). Every
//! module drives the binary through the one shared [`harness`].

mod harness;

mod certify;
mod compressed;
mod daily;
mod economics;
mod holdout;
mod input;
mod jsonl;
mod recommend;
mod report;
mod segments;
mod signals;
mod sweep;
