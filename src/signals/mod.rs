//! Confidence signals: deriving them from raw model output, choosing the one a run thresholds,
//! recalibrating it into a probability of correctness, and comparing candidates (`compare`).
//!
//! Owns the signals themselves; how well a signal ranks and calibrates is measured in
//! `trust::scoring`. It must not read files or format output; the loader hands it columns and
//! renderers format what it returns.

pub mod compare;
pub mod derive;
pub mod plotted;
pub mod recalibrate;
pub mod routing;
pub mod settings;
pub mod spec;

use std::borrow::Cow;

use crate::input::{ExtraColumn, ExtraKind, Loaded};
use settings::{Recalibration, SignalSettings, SignalSource};
use spec::{MapSpec, SignalSpec};

use crate::trust::scoring::{self, Binning, CALIBRATION_BINS};
use derive::{DeriveError, RawColumns, RawField, Signal};
use recalibrate::CrossFitError;
use recalibrate::{Map, Method};

/// Why the thresholded signal cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    /// No `--signal`, and no confidence field.
    #[error("the records carry no confidence field; choose a signal with --signal")]
    NoConfidence,
    /// `--signal COLUMN` names a column that was not read.
    #[error("--signal {0}: the column was not read")]
    NotRead(String),
    /// A derived signal's raw field is missing or unusable.
    #[error("--signal {signal}: {error}")]
    Derive {
        /// The signal asked for.
        signal: Signal,
        /// Why it cannot be derived.
        error: DeriveError,
    },
    /// `calibrate signals` found nothing to compare.
    #[error(
        "no signal to compare: the records carry no confidence field and none of the raw \
         fields logprobs, self_reported, samples, response (map them with --field, or name a \
         numeric column with --signal)"
    )]
    NothingToCompare,
    /// `--folds` above the record count.
    #[error("--folds {folds}: more folds than the {records} records")]
    TooManyFolds {
        /// Folds asked for.
        folds: usize,
        /// Records available.
        records: usize,
    },
    /// `--recalibrate` on no records.
    #[error("--recalibrate: no records to fit on")]
    NothingToFit,
    /// Cross-fitting failed.
    #[error(transparent)]
    CrossFit(#[from] CrossFitError),
}

/// The raw fields the run read, as the derivations take them (borrowed, not copied).
pub fn raw_columns<'a>(loaded: &'a Loaded, config: &SignalSettings) -> RawColumns<'a> {
    let get = |field: RawField| loaded.extra(config.raw_column(field), settings::raw_kind(field));
    RawColumns {
        logprobs: match get(RawField::Logprobs) {
            Some(ExtraColumn::Logprobs(v)) => Some(v),
            _ => None,
        },
        self_reported: match get(RawField::SelfReported) {
            Some(ExtraColumn::Numbers(v)) => Some(v),
            _ => None,
        },
        samples: match get(RawField::Samples) {
            Some(ExtraColumn::Samples(v)) => Some(v),
            _ => None,
        },
        response: match get(RawField::Response) {
            Some(ExtraColumn::Texts(v)) => Some(v),
            _ => None,
        },
    }
}

/// The values of the signal `config` names, one per record, with how it was made.
pub fn signal_values<'a>(
    loaded: &'a Loaded,
    config: &SignalSettings,
) -> Result<(Cow<'a, [f64]>, SignalSpec), SignalError> {
    match &config.source {
        SignalSource::Confidence => {
            if loaded.set.confidence.is_empty() {
                return Err(SignalError::NoConfidence);
            }
            Ok((
                Cow::Borrowed(&loaded.set.confidence),
                SignalSpec {
                    name: "confidence".into(),
                    formula: None,
                    recalibration: None,
                },
            ))
        }
        SignalSource::Derived(signal) => {
            derived(loaded, config, *signal).map(|(v, p)| (Cow::Owned(v), p))
        }
        SignalSource::Column(column) => match loaded.extra(column, ExtraKind::Number) {
            Some(ExtraColumn::Numbers(v)) => Ok((
                Cow::Borrowed(v),
                SignalSpec {
                    name: column.clone(),
                    formula: None,
                    recalibration: None,
                },
            )),
            _ => Err(SignalError::NotRead(column.clone())),
        },
    }
}

fn derived(
    loaded: &Loaded,
    config: &SignalSettings,
    signal: Signal,
) -> Result<(Vec<f64>, SignalSpec), SignalError> {
    let raw = raw_columns(loaded, config);
    let values = derive::derive_column(signal, &raw)
        .map_err(|error| SignalError::Derive { signal, error })?;
    let mut formula = signal.formula().to_string();
    if let (Signal::SelfReported, Some(v)) = (signal, raw.self_reported) {
        let scale = derive::self_reported_scale(v).map_err(|e| SignalError::Derive {
            signal,
            error: DeriveError::Scale(e),
        })?;
        formula = format!("{formula}; this eval set reads as {}", scale.name());
    }
    Ok((
        values,
        SignalSpec {
            name: signal.name().into(),
            formula: Some(formula),
            recalibration: None,
        },
    ))
}

/// What `calibrate signals` ranks, and the columns it leaves out.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// The signals to rank.
    pub ranked: Vec<compare::Candidate>,
    /// Other columns not numeric in every record.
    pub skipped: Vec<String>,
    /// Other numeric columns, not ranked unless named with `--signal` (a router may not know
    /// them when it decides).
    pub unranked: Vec<String>,
    /// Named columns that look like a label or a large-model output.
    pub suspects: Vec<routing::Suspect>,
}

/// The signals `calibrate signals` compares: `named`, or with none named what a router knows
/// when it decides: the confidence field and every signal the raw fields allow. Other columns
/// numeric in every record are listed, not ranked (issue 12: a large model's confidence or a
/// label column ranked first and was recommended).
pub fn candidates(
    loaded: &Loaded,
    config: &SignalSettings,
    named: &[SignalSource],
) -> Result<Candidates, SignalError> {
    let mut skipped = Vec::new();
    let mut unranked = Vec::new();
    let sources: Vec<SignalSource> = if named.is_empty() {
        let mut all = Vec::new();
        if !loaded.set.confidence.is_empty() {
            all.push(SignalSource::Confidence);
        }
        let raw = raw_columns(loaded, config);
        all.extend(
            raw.available_signals()
                .into_iter()
                .map(SignalSource::Derived),
        );
        // Other columns that hold a number in every record (a verifier's score, say).
        for (request, column) in loaded.extras.iter().filter(|(r, _)| r.probe) {
            match column {
                Some(_) => unranked.push(request.column.clone()),
                None => skipped.push(request.column.clone()),
            }
        }
        all
    } else {
        named.to_vec()
    };
    if sources.is_empty() {
        return Err(SignalError::NothingToCompare);
    }
    let mut out = Vec::with_capacity(sources.len());
    let mut suspects = Vec::new();
    for source in sources {
        let column = match &source {
            SignalSource::Column(c) => Some(c.clone()),
            _ => None,
        };
        let one = SignalSettings {
            source,
            ..config.clone()
        };
        let (values, policy) = signal_values(loaded, &one)?;
        let values = values.into_owned();
        if let Some(c) = column {
            suspects.extend(routing::suspect(&c, &values, &loaded.set.small_quality));
        }
        let recalibrated = match config.recalibrate {
            Some(settings) => Some(recalibrate(&values, &loaded.set.small_quality, settings)?),
            None => None,
        };
        out.push(compare::Candidate {
            name: policy.name,
            formula: policy.formula,
            values,
            recalibrated,
        });
    }
    Ok(Candidates {
        ranked: out,
        skipped,
        unranked,
        suspects,
    })
}

/// Output lengths per record, for the length-bias check: the small model's output tokens, or
/// else the number of log-probabilities.
pub fn output_lengths(loaded: &Loaded, config: &SignalSettings) -> Option<Vec<f64>> {
    loaded.set.small_output_tokens.clone().or_else(|| {
        raw_columns(loaded, config)
            .logprobs
            .map(|l| l.iter().map(|t| t.len() as f64).collect())
    })
}

/// Calibration measures of a signal in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// Expected calibration error, 10 equal-width bins.
    pub ece_width: f64,
    /// Expected calibration error, 10 equal-mass bins.
    pub ece_mass: f64,
    /// Maximum calibration error, 10 equal-width bins.
    pub mce: f64,
    /// Mean squared error of the signal as a probability.
    pub brier: f64,
}

/// The calibration of `score` against `quality`; `None` when a score leaves [0, 1].
pub fn calibration(score: &[f64], quality: &[f64]) -> Option<Calibration> {
    if score.is_empty() || score.iter().any(|s| !(0.0..=1.0).contains(s)) {
        return None;
    }
    let n = score.len();
    let width = scoring::reliability(score, quality, Binning::EqualWidth(CALIBRATION_BINS));
    let mass = scoring::reliability(score, quality, Binning::EqualMass(CALIBRATION_BINS));
    Some(Calibration {
        ece_width: scoring::ece(&width, n),
        ece_mass: scoring::ece(&mass, n),
        mce: scoring::mce(&width),
        brier: scoring::brier(score, quality)?,
    })
}

/// A recalibrated signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Recalibrated {
    /// The settings.
    pub settings: Recalibration,
    /// The deployed map applied to each record's signal: what the sweep thresholds, so the
    /// split it measures is the one a router applying the exported map reproduces. A monotone
    /// map keeps the ranking (flat stretches merge candidate thresholds).
    pub values: Vec<f64>,
    /// The map fitted on every record: what deployment applies.
    pub map: Map,
    /// Calibration of the raw signal (when it lies in [0, 1]).
    pub before: Option<Calibration>,
    /// Calibration after recalibration, measured on out-of-fold values: each record scored by
    /// a map fitted on the other folds, so no record grades itself.
    pub after: Option<Calibration>,
    /// The out-of-fold values `after` measures: each record's signal through a map fitted on
    /// the other folds.
    pub out_of_fold: Vec<f64>,
}

/// Fits the deployment map on all records, and measures its calibration by cross-fitting
/// (`settings.folds` seeded folds).
pub fn recalibrate(
    signal: &[f64],
    quality: &[f64],
    settings: Recalibration,
) -> Result<Recalibrated, SignalError> {
    let folds = u32::try_from(settings.folds).unwrap_or(u32::MAX);
    if settings.folds > signal.len() {
        return Err(SignalError::TooManyFolds {
            folds: settings.folds,
            records: signal.len(),
        });
    }
    let out_of_fold =
        recalibrate::cross_fit(signal, quality, folds, settings.seed, settings.method)?;
    let map =
        recalibrate::fit(settings.method, signal, quality).ok_or(SignalError::NothingToFit)?;
    Ok(Recalibrated {
        before: calibration(signal, quality),
        after: calibration(&out_of_fold, quality),
        out_of_fold,
        values: signal.iter().map(|&s| map.apply(s)).collect(),
        settings,
        map,
    })
}

/// The raw-signal form of a threshold on the recalibrated signal: the smallest raw value whose
/// mapped value is ≥ `threshold`, so `raw >= cut` and `map(raw) >= threshold` agree on every
/// value, not only on the eval set (up to the rounding of the map's own arithmetic on a
/// sloped stretch). Isotonic: the first breakpoint reaching the threshold, or the smallest
/// record reaching it if that comes first (a sloped stretch). Platt: the closed-form inverse
/// (ln(1/t − 1) − b) / a, nudged up to agree with the map on the records. `None` when the map
/// decreases (the raw signal would need the opposite comparison) or nothing reaches the
/// threshold.
pub fn raw_cut(raw: &[f64], mapped: &[f64], threshold: f64, map: &Map) -> Option<f64> {
    if !map.increasing() {
        return None;
    }
    let lowest_record = raw
        .iter()
        .zip(mapped)
        .filter(|(_, m)| **m >= threshold)
        .map(|(r, _)| *r)
        .min_by(f64::total_cmp);
    let cut = match map {
        Map::Isotonic(m) => m
            .points()
            .iter()
            .filter(|(_, y)| *y >= threshold)
            .map(|(x, _)| *x)
            .chain(lowest_record)
            .min_by(f64::total_cmp)?,
        Map::Platt(m) => {
            let record = lowest_record?;
            if !(threshold > 0.0 && threshold < 1.0) || m.a == 0.0 {
                return Some(record);
            }
            let inverse = ((1.0 / threshold - 1.0).ln() - m.b) / m.a;
            // The records decide where rounding leaves the boundary: never above the smallest
            // accepted record, never at or below a rejected one.
            let highest_out = raw
                .iter()
                .zip(mapped)
                .filter(|(_, v)| **v < threshold)
                .map(|(r, _)| *r)
                .max_by(f64::total_cmp);
            let cut = inverse.min(record);
            match highest_out {
                Some(out) if cut <= out => record,
                _ => cut,
            }
        }
    };
    Some(cut)
}

/// The fitted map as the policy exports it.
pub fn map_policy(map: &Map) -> MapSpec {
    match map {
        Map::Isotonic(m) => MapSpec {
            method: "isotonic",
            points: Some(m.points().iter().map(|&(x, y)| [x, y]).collect()),
            a: None,
            b: None,
        },
        Map::Platt(m) => MapSpec {
            method: "platt",
            points: None,
            a: Some(m.a),
            b: Some(m.b),
        },
    }
}

/// The method's name.
pub fn method_name(method: Method) -> &'static str {
    match method {
        Method::Isotonic => "isotonic",
        Method::Platt => "platt",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::recalibrate::PlattMap;

    #[test]
    fn raw_cut_inverts_the_map_and_refuses_decreasing_maps() {
        // Isotonic fit of (0.1→0), (0.5→1), (0.9→1): points (0.1, 0), (0.5, 1), (0.9, 1).
        let map = recalibrate::fit(Method::Isotonic, &[0.1, 0.5, 0.9], &[0.0, 1.0, 1.0]).unwrap();
        let raw = [0.1, 0.7, 0.9];
        let mapped: Vec<f64> = raw.iter().map(|&x| map.apply(x)).collect();
        // Threshold 1 is reached from breakpoint 0.5 on, though the smallest record reaching
        // it is 0.7: a cut between records would disagree with the map on 0.5–0.7.
        assert_eq!(raw_cut(&raw, &mapped, 1.0, &map), Some(0.5));
        // Nothing reaches 1.5.
        assert_eq!(raw_cut(&raw, &mapped, 1.5, &map), None);
        // A decreasing Platt map (a > 0) reverses the order: no raw cut.
        let platt = Map::Platt(PlattMap { a: 2.0, b: 0.0 });
        assert_eq!(raw_cut(&raw, &raw, 0.4, &platt), None);
        // Platt with a = −2, b = 1: map(x) ≥ 0.5 ⟺ −2x + 1 ≤ 0 ⟺ x ≥ 0.5.
        let platt = Map::Platt(PlattMap { a: -2.0, b: 1.0 });
        let mapped: Vec<f64> = raw.iter().map(|&x| platt.apply(x)).collect();
        assert_eq!(raw_cut(&raw, &mapped, 0.5, &platt), Some(0.5));
    }
}
