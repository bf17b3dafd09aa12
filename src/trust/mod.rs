//! Pure statistics on top of the engine: tail probabilities, intervals and the bootstrap,
//! certified thresholds, held-out validation, and how well a signal ranks and calibrates
//! (one reliability binning for every table and plot).
//!
//! Owns how much a number from the eval set can be trusted in production. It must not read
//! files or print; randomness comes from seeds the caller passes.

pub mod cell_bootstrap;
pub mod certify;
pub mod chains;
pub mod crossfit;
pub mod holdout;
pub mod intervals;
pub mod scoring;
pub mod stats;
