//! Why a run cannot produce its report: each layer's typed error, and the settings that need a
//! field the data lacks. Callers and tests match on the variants; the edge prints the message.

use crate::engine::cells::MergeError;
use crate::engine::economics::CostError;
use crate::signals::SignalError;
use crate::trust::holdout::SplitError;

/// Why a run cannot produce its report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// A price needs token counts the records lack.
    #[error(transparent)]
    Cost(#[from] CostError),
    /// An input's records cannot join the aggregate of the inputs before it.
    /// (Not a `source`: the message already says why, and error chains would say it twice.)
    #[error("cannot merge: {0}")]
    Merge(MergeError),
    /// The thresholded signal cannot be made.
    #[error(transparent)]
    Signal(#[from] SignalError),
    /// The signals to compare cannot be made from this input.
    #[error("{input}: {error}")]
    InInput {
        /// The input's label.
        input: String,
        /// Why.
        error: SignalError,
    },
    /// The hold-out split cannot be made.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// `--small-timeout-ms` without both latencies.
    #[error("--small-timeout-ms needs small_latency_ms and large_latency_ms fields in the records")]
    TimeoutNeedsLatency,
    /// A flag's column was not read (a loader bug: every named column is a required extra).
    #[error("{0}: the column was not read")]
    NotRead(String),
    /// `--escalate-refusals` without the response column (as above).
    #[error("--escalate-refusals: the response column was not read")]
    ResponseNotRead,
    /// `--where` keeps no record.
    #[error("--where {0}: no record matches")]
    NothingKept(String),
    /// Every record is safeguarded: there is no threshold to choose.
    #[error(
        "every record escalates whatever its confidence ({0}), so there is no threshold to \
         choose"
    )]
    AllSafeguarded(String),
    /// A confidence too large to key at the asked resolution.
    #[error(
        "--resolution {resolution}: the confidence {confidence:e} times 2^{resolution} is beyond \
         the largest double, so it has no key; ask for a resolution of at most {most}"
    )]
    Unkeyable {
        /// The asked resolution.
        resolution: i64,
        /// The largest confidence, in magnitude.
        confidence: f64,
        /// The largest resolution that keys it.
        most: i64,
    },
}

impl From<MergeError> for RunError {
    fn from(e: MergeError) -> RunError {
        RunError::Merge(e)
    }
}
