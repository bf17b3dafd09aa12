//! What a router knows when it decides: which candidate signals `calibrate signals` ranks by
//! default, and which named columns look like they are not known at routing time (a label, or
//! the large model's own output).
//!
//! Owns those rules. It must not read files, rank signals (`compare` does) nor word warnings.

/// Why a named column looks undeployable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its name reads like a label or the large model's output.
    Name,
    /// It separates right from wrong answers perfectly, as a label would.
    Separates,
}

/// A named signal that looks undeployable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// The column.
    pub name: String,
    /// Why.
    pub reason: Reason,
}

/// Name fragments of labels and of the large model's output: using either to route means
/// knowing the answer, or calling the large model on every request.
const SUSPECT_WORDS: [&str; 9] = [
    "large", "correct", "label", "quality", "gold", "truth", "accura", "judge", "target",
];

/// Whether a column name reads like a label or a large-model output.
pub fn name_is_suspect(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SUSPECT_WORDS.iter().any(|w| name.contains(w))
}

/// Whether `values` put every right answer (quality 1) strictly above, or strictly below,
/// every wrong one (quality 0), with both present and every quality 0 or 1.
pub fn separates_perfectly(values: &[f64], quality: &[f64]) -> bool {
    if quality.iter().any(|q| *q != 0.0 && *q != 1.0) {
        return false;
    }
    let range = |want: f64| {
        let v = values.iter().zip(quality).filter(|(_, q)| **q == want);
        v.fold(None, |acc: Option<(f64, f64)>, (x, _)| match acc {
            None => Some((*x, *x)),
            Some((lo, hi)) => Some((lo.min(*x), hi.max(*x))),
        })
    };
    match (range(1.0), range(0.0)) {
        (Some((rlo, rhi)), Some((wlo, whi))) => rlo > whi || rhi < wlo,
        _ => false,
    }
}

/// Why the column `name` with `values` looks undeployable, if it does.
pub fn suspect(name: &str, values: &[f64], quality: &[f64]) -> Option<Suspect> {
    let reason = if name_is_suspect(name) {
        Reason::Name
    } else if separates_perfectly(values, quality) {
        Reason::Separates
    } else {
        return None;
    };
    Some(Suspect {
        name: name.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_perfect_separation() {
        for n in [
            "large_confidence",
            "large_correct",
            "is_correct",
            "gold_label",
            "Quality",
        ] {
            assert!(name_is_suspect(n), "{n}");
        }
        for n in ["verifier", "logprob_mean", "self_reported", "margin"] {
            assert!(!name_is_suspect(n), "{n}");
        }
        // Right answers at 0.7, 0.6; wrong at 0.1, 0.2: separated (either direction counts).
        let q = [1.0, 1.0, 0.0, 0.0];
        assert!(separates_perfectly(&[0.7, 0.6, 0.1, 0.2], &q));
        assert!(separates_perfectly(&[0.1, 0.2, 0.7, 0.6], &q));
        // One overlap (0.6 right, 0.6 wrong): not perfect.
        assert!(!separates_perfectly(&[0.7, 0.6, 0.6, 0.2], &q));
        // No wrong answers: nothing to separate.
        assert!(!separates_perfectly(&[0.7, 0.6], &[1.0, 1.0]));
    }
}
