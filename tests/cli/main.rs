//! The one integration-test binary: runs `calibrate` like a user would, on the fixtures in
//! `tests/data/` (every expected number is worked by hand in `tests/data/README.md`). Every
//! module drives the binary through the one shared [`harness`].

mod harness;

mod aggregate;
mod certify;
mod chain_aggregate;
mod chains;
mod compressed;
mod daily;
mod economics;
mod fuzz;
mod hardening;
mod holdout;
mod input;
mod jsonl;
mod log_aggregate;
mod logs_gen;
mod monitor;
mod output;
mod plots;
mod recommend;
mod report;
mod segment_trust;
mod segments;
mod signals;
mod split_ties;
mod sweep;
mod trust_advice;
