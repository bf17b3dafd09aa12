//! The formulas: one function per derived signal, from one record's raw value to a confidence
//! in [0, 1] (log-probabilities, a self-reported score, sampled answers, the response text), and
//! [`is_refusal`]. Pure; see the parent module for provenance and determinism.

use std::collections::HashMap;

use crate::engine::sums::Sum;

// ---------------------------------------------------------------------------
// Log-probabilities
// ---------------------------------------------------------------------------

fn debug_check_logprobs(logprobs: &[f64]) {
    debug_assert!(
        !logprobs.is_empty(),
        "logprobs must hold at least one token"
    );
    debug_assert!(
        logprobs.iter().all(|lp| lp.is_finite() && *lp <= 0.0),
        "logprobs must be finite and <= 0"
    );
}

/// The arithmetic mean of the token log-probabilities.
///
/// The sum is a Neumaier compensated sum taken in input order, divided by the
/// token count: deterministic, and accurate even for long answers. Expects at
/// least one token (`NaN` for none in release builds).
pub fn mean_logprob(logprobs: &[f64]) -> f64 {
    debug_check_logprobs(logprobs);
    if logprobs.is_empty() {
        return f64::NAN;
    }
    Sum::of(logprobs.iter().copied()) / logprobs.len() as f64
}

/// `min(1, max(0, (mean logprob + 2) / 2))`, the post's map.
///
/// A mean log-probability of 0 maps to 1 and a mean of −2 or lower maps to 0;
/// the map is linear in between. The mean is [`mean_logprob`].
pub fn logprob_mean(logprobs: &[f64]) -> f64 {
    ((mean_logprob(logprobs) + 2.0) / 2.0).clamp(0.0, 1.0)
}

/// `exp(mean logprob)`: the geometric mean of the token probabilities.
///
/// The mean is [`mean_logprob`].
pub fn logprob_geomean(logprobs: &[f64]) -> f64 {
    mean_logprob(logprobs).exp()
}

/// `exp(min logprob)`: the probability of the least likely token.
///
/// Expects at least one token (`NaN` for none in release builds).
pub fn logprob_min(logprobs: &[f64]) -> f64 {
    debug_check_logprobs(logprobs);
    if logprobs.is_empty() {
        return f64::NAN;
    }
    logprobs.iter().copied().fold(f64::INFINITY, f64::min).exp()
}

/// The 1-based rank `ceil(n / 10)` used by [`logprob_p10`], in integer
/// arithmetic so no floating-point rounding is involved.
pub(super) fn p10_rank(n: usize) -> usize {
    n.div_ceil(10)
}

/// The nearest-rank 10th percentile of the token probabilities `exp(lp)`.
///
/// Definition: with `n` tokens, take the `k`-th smallest (1-based) token
/// log-probability where `k = ceil(0.1 * n)`, computed exactly as the integer
/// `ceil(n / 10)`, and return its `exp`. Because `exp` is increasing this is
/// the `k`-th smallest token probability. No interpolation: the result is
/// always `exp` of one of the inputs, bit for bit. So 1–10 tokens give the
/// least likely token (same as [`logprob_min`]), 11–20 the second least
/// likely, 21–30 the third, and so on.
///
/// Expects at least one token (`NaN` for none in release builds).
pub fn logprob_p10(logprobs: &[f64]) -> f64 {
    debug_check_logprobs(logprobs);
    if logprobs.is_empty() {
        return f64::NAN;
    }
    let k = p10_rank(logprobs.len());
    let mut scratch = logprobs.to_vec();
    let (_, kth, _) = scratch.select_nth_unstable_by(k - 1, f64::total_cmp);
    kth.exp()
}

// ---------------------------------------------------------------------------
// Self-reported confidence
// ---------------------------------------------------------------------------

/// The scale an eval set's self-reported scores are on, decided once per set
/// by [`self_reported_scale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// Scores are already on 0–1 and are used as they are.
    UnitInterval,
    /// Scores are on 0–100 and are divided by 100.
    Percent,
}

impl Scale {
    /// A short label for reports: `"0-1"` or `"0-100"`.
    pub const fn name(self) -> &'static str {
        match self {
            Scale::UnitInterval => "0-1",
            Scale::Percent => "0-100",
        }
    }
}

/// Decides whether an eval set's self-reported scores are on 0–1 or 0–100.
///
/// Rule, applied to the whole set at once:
///
/// 1. if every value is in `[0, 1]`, the set is [`Scale::UnitInterval`];
/// 2. otherwise, if every value is in `[0, 100]`, it is [`Scale::Percent`];
/// 3. otherwise it is an error (see below).
///
/// An empty set is [`Scale::UnitInterval`] (every value vacuously fits).
///
/// Ambiguity: the rule cannot tell a 0–100 set whose values are all 0 or 1
/// (or, in general, all within `[0, 1]`) from a 0–1 set; such a set is read
/// as 0–1, so a self-rating of "1 out of 100" becomes confidence 1.0. A set
/// with at least one value above 1 is unambiguous.
///
/// # Errors
///
/// When some value is outside `[0, 100]` (`NaN` included): the message names
/// the first such value and its 0-based index, e.g. `self_reported value 150
/// at index 3 is outside both 0-1 and 0-100`.
pub fn self_reported_scale(values: &[f64]) -> Result<Scale, ScaleError> {
    if let Some((index, value)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=100.0).contains(*v))
    {
        return Err(ScaleError {
            value: *value,
            index,
        });
    }
    if values.iter().all(|v| (0.0..=1.0).contains(v)) {
        Ok(Scale::UnitInterval)
    } else {
        Ok(Scale::Percent)
    }
}

/// A self-reported value that fits neither the 0–1 nor the 0–100 scale.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("self_reported value {value} at index {index} is outside both 0-1 and 0-100")]
pub struct ScaleError {
    /// The first offending value.
    pub value: f64,
    /// Its 0-based index.
    pub index: usize,
}

/// A self-reported score rescaled to 0–1: unchanged on
/// [`Scale::UnitInterval`], divided by 100 on [`Scale::Percent`].
///
/// Unlike the post's `int(score) / 100` there is no truncation: `87.5` on
/// 0–100 gives `0.875`. Expects a value that [`self_reported_scale`] accepted
/// for this scale.
pub fn self_reported(value: f64, scale: Scale) -> f64 {
    match scale {
        Scale::UnitInterval => {
            debug_assert!((0.0..=1.0).contains(&value), "0-1 score out of range");
            value
        }
        Scale::Percent => {
            debug_assert!((0.0..=100.0).contains(&value), "0-100 score out of range");
            value / 100.0
        }
    }
}

// ---------------------------------------------------------------------------
// Sampled answers
// ---------------------------------------------------------------------------

/// The form in which sampled answers are compared: surrounding whitespace
/// trimmed (Rust's [`str::trim`], Unicode `White_Space`), nothing else.
///
/// Deliberately conservative: case, inner whitespace and punctuation are
/// kept, so `"Paris"` and `"paris"` are different answers, as in the post
/// (which compares raw strings with `set`).
pub fn normalise_answer(answer: &str) -> &str {
    answer.trim()
}

/// How many times each normalised answer occurs.
fn answer_counts<S: AsRef<str>>(samples: &[S]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for sample in samples {
        *counts.entry(normalise_answer(sample.as_ref())).or_insert(0) += 1;
    }
    counts
}

/// `1 - (unique - 1) / n`, the post's consistency score.
///
/// `n` is the number of samples in the record and `unique` the number of
/// distinct answers after [`normalise_answer`]. All samples agreeing gives 1;
/// all differing gives `1 / n`. (The post passes `n` separately, default 3;
/// here it is always the record's sample count.) Expects at least one sample
/// (`NaN` for none in release builds).
pub fn consistency<S: AsRef<str>>(samples: &[S]) -> f64 {
    debug_assert!(!samples.is_empty(), "samples must hold at least one answer");
    if samples.is_empty() {
        return f64::NAN;
    }
    let unique = answer_counts(samples).len();
    1.0 - (unique - 1) as f64 / samples.len() as f64
}

/// `(count of the most common answer) / n`.
///
/// `n` is the number of samples in the record; answers are compared after
/// [`normalise_answer`]. Ties do not matter (only the count is used).
/// Expects at least one sample (`NaN` for none in release builds).
pub fn majority_share<S: AsRef<str>>(samples: &[S]) -> f64 {
    debug_assert!(!samples.is_empty(), "samples must hold at least one answer");
    if samples.is_empty() {
        return f64::NAN;
    }
    let top = answer_counts(samples).into_values().max().unwrap_or(0);
    top as f64 / samples.len() as f64
}

// ---------------------------------------------------------------------------
// Response text
// ---------------------------------------------------------------------------

/// Hedging phrases for [`heuristic`]: the post's four, plus the typographic
/// apostrophe form of `"I'm not sure"`. Matched as case-sensitive substrings.
pub const UNCERTAINTY_PHRASES: [&str; 5] = [
    "I'm not sure",
    "I\u{2019}m not sure",
    "I think",
    "might be",
    "possibly",
];

/// Refusal phrases for [`is_refusal`]: the post's two, plus the typographic
/// apostrophe form of `"I don't know"`. Matched as case-sensitive substrings.
pub const REFUSAL_PHRASES: [&str; 3] = ["I cannot", "I don't know", "I don\u{2019}t know"];

/// A response with fewer than this many characters (Unicode scalar values)
/// is "short" for [`heuristic`].
pub const SHORT_RESPONSE_CHARS: usize = 50;

/// Whether the response is a refusal: it contains `"I cannot"`,
/// `"I don't know"` or `"I don’t know"` (typographic apostrophe U+2019).
///
/// Case-sensitive substring match, as in the post: `"i cannot"` and
/// `"I can't"` are not refusals. Used by [`heuristic`] and, by the caller, as
/// a safeguard that forces escalation regardless of the threshold.
pub fn is_refusal(response: &str) -> bool {
    REFUSAL_PHRASES
        .iter()
        .any(|phrase| response.contains(phrase))
}

/// The post's text heuristic, with the refusal check moved first.
///
/// In order, the first rule that applies wins:
///
/// 1. [`is_refusal`] → 0.3;
/// 2. contains one of [`UNCERTAINTY_PHRASES`] (case-sensitive) → 0.6;
/// 3. fewer than [`SHORT_RESPONSE_CHARS`] (50) characters → 0.7;
/// 4. otherwise → 0.9.
///
/// Characters are Unicode scalar values (`str::chars`), which is what the
/// post's Python `len` counts on a `str`; the text is not trimmed.
///
/// Fix relative to the post: the post checks refusal last, so a short
/// refusal (`"I cannot help."`) scores 0.7 and a hedged one
/// (`"I think I don't know"`) 0.6; here both score 0.3.
pub fn heuristic(response: &str) -> f64 {
    if is_refusal(response) {
        0.3
    } else if UNCERTAINTY_PHRASES
        .iter()
        .any(|phrase| response.contains(phrase))
    {
        0.6
    } else if response.chars().count() < SHORT_RESPONSE_CHARS {
        0.7
    } else {
        0.9
    }
}
