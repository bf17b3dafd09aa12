//! Turning raw per-record model outputs into confidence signals.
//!
//! This module owns the *derivation* step of `calibrate`: given the raw
//! values the loader has read for a record (per-token log-probabilities, a
//! self-reported score, a set of sampled answers, or the response text), it
//! computes one confidence in `[0, 1]` per [`Signal`], using the exact
//! formulas documented on each function and summarised by
//! [`Signal::formula`]. It also owns [`is_refusal`], the safeguard that forces
//! escalation whatever the threshold says.
//!
//! It must not read files, print, or validate input formats: the loader hands
//! it already-validated values (log-probabilities finite and `<= 0`, at least
//! one token per record, at least one sample per record, self-reported scores
//! finite). Those preconditions are checked with `debug_assert!` only; in a
//! release build an empty token list or sample list yields `NaN`. The one
//! column-level decision made here is [`self_reported_scale`], because telling
//! a 0–1 scale from a 0–100 scale needs the whole eval set.
//!
//! # Provenance
//!
//! `logprob_mean`, `self_reported`, `consistency` and `heuristic` follow the
//! blog post the users work from, with two documented differences:
//!
//! * [`heuristic`] checks for a refusal *first*. The post checks hedging
//!   phrases, then shortness, then refusal, so a refusal that is short
//!   (`"I cannot help."`) or hedged (`"I think I don't know"`) scores 0.7 or
//!   0.6 there and never 0.3. Here every refusal scores 0.3.
//! * [`self_reported`] does not truncate: the post's `int(score) / 100`
//!   parses the model's text reply, whereas the loader hands this module a
//!   number, so `87.5` on a 0–100 scale becomes `0.875`, not `0.87`.
//!
//! The other signals (`logprob_geomean`, `logprob_min`, `logprob_p10`,
//! `majority_share`) are additions.
//!
//! # Determinism
//!
//! Every function is a pure function of its arguments: no randomness, no
//! hashing order, no dependence on thread count. Means use a Neumaier
//! compensated sum in input order (Rust never reassociates floating-point
//! operations), and percentiles are chosen with integer rank arithmetic, so
//! the same input always gives the same bits.

use std::fmt;

mod formulas;

pub use formulas::*;

/// A confidence signal that can be derived from one raw field of a record.
///
/// Every signal maps into `[0, 1]`, higher meaning more confident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// The post's map of the mean token log-probability: see [`logprob_mean`].
    LogprobMean,
    /// Geometric-mean token probability: see [`logprob_geomean`].
    LogprobGeomean,
    /// Probability of the least likely token: see [`logprob_min`].
    LogprobMin,
    /// Nearest-rank 10th percentile of token probabilities: see [`logprob_p10`].
    LogprobP10,
    /// The model's own confidence, rescaled to 0–1: see [`self_reported`].
    SelfReported,
    /// The post's agreement score over sampled answers: see [`consistency`].
    Consistency,
    /// Share of samples giving the most common answer: see [`majority_share`].
    MajorityShare,
    /// The post's text heuristic, refusal checked first: see [`heuristic`].
    Heuristic,
}

impl Signal {
    /// Every signal, in declaration order.
    pub const ALL: [Signal; 8] = [
        Signal::LogprobMean,
        Signal::LogprobGeomean,
        Signal::LogprobMin,
        Signal::LogprobP10,
        Signal::SelfReported,
        Signal::Consistency,
        Signal::MajorityShare,
        Signal::Heuristic,
    ];

    /// The signal's stable `snake_case` name, as used on the command line and
    /// in reports (e.g. `"logprob_mean"`).
    pub const fn name(self) -> &'static str {
        match self {
            Signal::LogprobMean => "logprob_mean",
            Signal::LogprobGeomean => "logprob_geomean",
            Signal::LogprobMin => "logprob_min",
            Signal::LogprobP10 => "logprob_p10",
            Signal::SelfReported => "self_reported",
            Signal::Consistency => "consistency",
            Signal::MajorityShare => "majority_share",
            Signal::Heuristic => "heuristic",
        }
    }

    /// The signal whose [`name`](Signal::name) is exactly `name`
    /// (case-sensitive, no trimming), or `None`.
    pub fn parse(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|signal| signal.name() == name)
    }

    /// The raw field this signal is derived from.
    pub const fn source(self) -> RawField {
        match self {
            Signal::LogprobMean
            | Signal::LogprobGeomean
            | Signal::LogprobMin
            | Signal::LogprobP10 => RawField::Logprobs,
            Signal::SelfReported => RawField::SelfReported,
            Signal::Consistency | Signal::MajorityShare => RawField::Samples,
            Signal::Heuristic => RawField::Response,
        }
    }

    /// A one-line, human-readable statement of the exact formula, for the
    /// README and the report. ASCII only.
    pub const fn formula(self) -> &'static str {
        match self {
            Signal::LogprobMean => "min(1, max(0, (mean logprob + 2) / 2)), as in the post",
            Signal::LogprobGeomean => {
                "exp(mean logprob), the geometric mean of the token probabilities"
            }
            Signal::LogprobMin => "exp(min logprob), the probability of the least likely token",
            Signal::LogprobP10 => {
                "exp(k-th smallest logprob) with k = ceil(n / 10) over n tokens \
                 (nearest-rank 10th percentile of token probabilities)"
            }
            Signal::SelfReported => {
                "self-reported score, divided by 100 when the eval set is on 0-100 \
                 (no rounding); a set entirely within 0-1 is taken as 0-1"
            }
            Signal::Consistency => {
                "1 - (unique answers - 1) / n over n samples compared after trimming \
                 whitespace (case-sensitive), as in the post"
            }
            Signal::MajorityShare => {
                "(count of the most common answer) / n over n samples compared after \
                 trimming whitespace (case-sensitive)"
            }
            Signal::Heuristic => {
                "0.3 if a refusal, else 0.6 if a hedging phrase, else 0.7 if under 50 \
                 characters, else 0.9 (the post's rules, refusal checked first)"
            }
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A raw per-record field that signals are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawField {
    /// Per-token natural-log probabilities of the small model's answer.
    Logprobs,
    /// The small model's own confidence score, on 0–1 or 0–100.
    SelfReported,
    /// Several sampled answers to the same prompt.
    Samples,
    /// The small model's answer text.
    Response,
}

impl RawField {
    /// Every raw field, in declaration order.
    pub const ALL: [RawField; 4] = [
        RawField::Logprobs,
        RawField::SelfReported,
        RawField::Samples,
        RawField::Response,
    ];

    /// The field's name as it appears in input records (e.g. `"logprobs"`).
    pub const fn name(self) -> &'static str {
        match self {
            RawField::Logprobs => "logprobs",
            RawField::SelfReported => "self_reported",
            RawField::Samples => "samples",
            RawField::Response => "response",
        }
    }

    /// A short description of the value the field holds, for error messages
    /// (e.g. `"an array of per-token log-probabilities"`).
    pub const fn description(self) -> &'static str {
        match self {
            RawField::Logprobs => "an array of per-token log-probabilities",
            RawField::SelfReported => "a number, the model's own confidence on 0-1 or 0-100",
            RawField::Samples => "an array of sampled answers, as strings",
            RawField::Response => "a string, the model's answer text",
        }
    }
}

impl fmt::Display for RawField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

/// One record's raw value for one field, borrowed from the loader's columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue<'a> {
    /// Per-token log-probabilities (finite, `<= 0`, at least one).
    Logprobs(&'a [f64]),
    /// A self-reported score and the scale its eval set is on.
    SelfReported(f64, Scale),
    /// Sampled answers (at least one).
    Samples(&'a [String]),
    /// The answer text.
    Response(&'a str),
}

impl RawValue<'_> {
    /// The raw field this value belongs to.
    pub const fn field(&self) -> RawField {
        match self {
            RawValue::Logprobs(_) => RawField::Logprobs,
            RawValue::SelfReported(..) => RawField::SelfReported,
            RawValue::Samples(_) => RawField::Samples,
            RawValue::Response(_) => RawField::Response,
        }
    }
}

/// Derives `signal` from one record's raw value.
///
/// # Panics
///
/// If `raw` is not the field the signal needs (`raw.field() !=
/// signal.source()`): that is a bug in the caller, not bad input.
pub fn derive(signal: Signal, raw: RawValue<'_>) -> f64 {
    match (signal, raw) {
        (Signal::LogprobMean, RawValue::Logprobs(lps)) => logprob_mean(lps),
        (Signal::LogprobGeomean, RawValue::Logprobs(lps)) => logprob_geomean(lps),
        (Signal::LogprobMin, RawValue::Logprobs(lps)) => logprob_min(lps),
        (Signal::LogprobP10, RawValue::Logprobs(lps)) => logprob_p10(lps),
        (Signal::SelfReported, RawValue::SelfReported(value, scale)) => self_reported(value, scale),
        (Signal::Consistency, RawValue::Samples(samples)) => consistency(samples),
        (Signal::MajorityShare, RawValue::Samples(samples)) => majority_share(samples),
        (Signal::Heuristic, RawValue::Response(text)) => heuristic(text),
        (signal, raw) => panic!(
            "{signal} is derived from \"{}\", but was given \"{}\"",
            signal.source(),
            raw.field()
        ),
    }
}

/// The loader's per-record raw columns, borrowed; `None` means the field is
/// absent from the eval set. Each present column holds one entry per record.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RawColumns<'a> {
    /// Per-record token log-probabilities.
    pub logprobs: Option<&'a [Vec<f64>]>,
    /// Per-record self-reported scores, on the set's own scale.
    pub self_reported: Option<&'a [f64]>,
    /// Per-record sampled answers.
    pub samples: Option<&'a [Vec<String>]>,
    /// Per-record answer texts.
    pub response: Option<&'a [String]>,
}

impl RawColumns<'_> {
    /// Whether the column for `field` is present.
    pub const fn has(&self, field: RawField) -> bool {
        match field {
            RawField::Logprobs => self.logprobs.is_some(),
            RawField::SelfReported => self.self_reported.is_some(),
            RawField::Samples => self.samples.is_some(),
            RawField::Response => self.response.is_some(),
        }
    }

    /// The signals whose source column is present, in [`Signal::ALL`] order.
    pub fn available_signals(&self) -> Vec<Signal> {
        Signal::ALL
            .into_iter()
            .filter(|signal| self.has(signal.source()))
            .collect()
    }
}

/// Derives `signal` for every record, in record order.
///
/// For [`Signal::SelfReported`] the scale is decided once for the whole
/// column by [`self_reported_scale`]. Per-record preconditions are the
/// caller's, as for the scalar functions.
///
/// # Errors
///
/// Why a signal cannot be derived for an eval set.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum DeriveError {
    /// The raw field the signal needs is absent.
    #[error("{signal} needs a \"{}\" field ({})", field.name(), field.description())]
    Missing {
        /// The signal asked for.
        signal: Signal,
        /// The raw field it is derived from.
        field: RawField,
    },
    /// The self-reported column fits neither scale.
    #[error(transparent)]
    Scale(#[from] ScaleError),
}

/// In words, when the needed column is absent (e.g. `logprob_min needs a
/// "logprobs" field (an array of per-token log-probabilities)`), or, for
/// `self_reported`, when the column fits neither scale (the
/// [`self_reported_scale`] message).
pub fn derive_column(signal: Signal, columns: &RawColumns<'_>) -> Result<Vec<f64>, DeriveError> {
    let field = signal.source();
    let missing = || DeriveError::Missing { signal, field };
    let out = match field {
        RawField::Logprobs => {
            let column = columns.logprobs.ok_or_else(missing)?;
            column
                .iter()
                .map(|lps| derive(signal, RawValue::Logprobs(lps)))
                .collect()
        }
        RawField::SelfReported => {
            let column = columns.self_reported.ok_or_else(missing)?;
            let scale = self_reported_scale(column)?;
            column
                .iter()
                .map(|&value| derive(signal, RawValue::SelfReported(value, scale)))
                .collect()
        }
        RawField::Samples => {
            let column = columns.samples.ok_or_else(missing)?;
            column
                .iter()
                .map(|samples| derive(signal, RawValue::Samples(samples)))
                .collect()
        }
        RawField::Response => {
            let column = columns.response.ok_or_else(missing)?;
            column
                .iter()
                .map(|text| derive(signal, RawValue::Response(text)))
                .collect()
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests;
