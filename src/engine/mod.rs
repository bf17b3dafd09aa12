//! The pure numbers of one cascade: the exact sweep (sort once, prefix sums), what each request
//! costs, latency, objectives and the recommendation; and of chains of several models
//! (`chains/`).
//!
//! Owns every number that follows from the records and a threshold. It must not read files,
//! print, draw random numbers or know about flags; it imports only `input`'s column types.

pub mod cells;
pub mod chains;
pub mod economics;
pub mod exact;
pub mod latency;
pub mod latency_sketch;
pub mod objective;
pub mod recommend;
pub mod sums;
pub mod sweep;
pub mod ties;
