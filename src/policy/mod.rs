//! The deployed routing policy: per-segment thresholds chosen jointly, safeguards that force
//! escalation, and the deployable document a router reads.
//!
//! Owns what a router does with a request. It must not read files, print or format.

pub mod document;
pub mod reference;
pub mod safeguards;
pub mod segments;
pub mod settings;
