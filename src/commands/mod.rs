//! Commands that `lib.rs` dispatches to and that have grown past a screen, one file each: the
//! same layer as `lib.rs` (the edge), which runs a command's steps on settings `config` has
//! already typed.
//!
//! Owns nothing but that orchestration: reading goes through `input`, numbers through the
//! core, bytes through `output`.

pub(crate) mod aggregate;
