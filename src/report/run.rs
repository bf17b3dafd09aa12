//! The steps from a loaded eval set to what a command shows: keep the `--where` records, choose
//! the signal, hold records out, recalibrate, sweep, recommend, and (for `sweep`) assemble the
//! whole [`Report`].
//!
//! Owns the order of those steps, the `--where` filter and the hold-out plumbing. It must not read files, print or
//! format: the caller loads the input and an `output` renderer turns the result into bytes.

use super::findings;
use crate::engine::recommend::{Infeasible, recommend};
use crate::engine::sweep::{Metrics, Sweep, SweepInput};
use crate::input::{ExtraColumn, ExtraKind, Loaded};
use crate::policy::document::Policy;
use crate::policy::segments::Plan;
use crate::signals::compare::{Comparison, compare};
use crate::signals::routing::Suspect;
use crate::signals::settings::SignalSource;
use crate::signals::spec::SignalSpec;
use crate::signals::{self, Recalibrated};
use crate::trust::certify::Certification;
use crate::trust::crossfit::CrossFit;
use crate::trust::holdout::{self, Check, Holdout, Validation};
use crate::trust::intervals::{self, Uncertainty};

use super::build::{choose_threshold, decide};
use super::certified::CertifiedSegments;
use super::deploy::{Chosen, apply_plan, deployment, segments_reference};
use super::prepare::{Prepared, prepare, unmatched};
use super::settings::SweepSettings;
use super::ties::SplitTies;
use super::warnings::{self, Warning};
use super::{Filter, Filtered, RecalibrationReport, Report, RunError, RunSettings};

/// The held-out verdict's confidence level when `recommend` is given no `--level`.
const DEFAULT_LEVEL: f64 = 0.95;

/// What `recommend` prints: the decision and the deployable policy.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The recommended threshold, or why none qualifies.
    pub recommendation: Result<Metrics, Infeasible>,
    /// With `--certify`: the certificate, or why none could be issued.
    pub certification: Option<Certification>,
    /// With `--split-ties`: the split the policy carries, or why none.
    pub split_ties: Option<SplitTies>,
    /// The deployable policy, when one meets the objective.
    pub policy: Option<Policy>,
    /// With `--holdout` or `--split-field`: the chosen threshold on the held-out records.
    pub holdout: Option<Validation>,
    /// With `--level` or `--bootstrap`: intervals for the recommended threshold.
    pub uncertainty: Option<Uncertainty>,
    /// With `--where`: the records kept.
    pub filtered: Option<Filtered>,
    /// Safeguards that match no record (often a typo: values compare as text).
    pub unmatched_safeguards: Vec<String>,
    /// Segments the per-segment policy lets ship answers below the target.
    pub segment_warnings: Vec<String>,
    /// With `--segment-by` (unless `--cross-fit 0`): the cross-fitted estimates.
    pub cross_fit: Option<CrossFit>,
    /// The cautions, as the report would list them.
    pub warnings: Vec<Warning>,
}

/// What the signals report shows.
#[derive(Debug, Clone)]
pub struct SignalsReport {
    /// The input as named on the command line.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Records compared.
    pub records: usize,
    /// The comparison.
    pub comparison: Comparison,
    /// `--recalibrate` method and folds, if any.
    pub recalibrate: Option<(&'static str, usize)>,
    /// Other columns tried as signals and left out (not a number in every record).
    pub skipped: Vec<String>,
    /// Other numeric columns, listed but not ranked (pass `--signal NAME` to rank one).
    pub unranked: Vec<String>,
    /// Named columns that look like a label or a large-model output.
    pub suspects: Vec<Suspect>,
    /// With `--where`: the records kept.
    pub filtered: Option<Filtered>,
}

/// The loaded records with the thresholded signal in the confidence column.
struct Signalled {
    loaded: Loaded,
    signal: SignalSpec,
    /// With `--recalibrate`: the recalibration and the raw signal.
    recalibrated: Option<(Recalibrated, Vec<f64>)>,
}

/// The whole report of `calibrate sweep`.
pub fn sweep_report(
    loaded: Loaded,
    run: &RunSettings,
    how: &SweepSettings,
) -> Result<Report, RunError> {
    let (loaded, filtered) = apply_filters(loaded, run)?;
    let (calibrated, test) = calibrate(loaded, run)?;
    let Signalled {
        loaded,
        signal,
        recalibrated,
    } = &calibrated;
    let prepared = prepare(loaded, run)?;
    let sweep = Sweep::keeping_columns(prepared.input());
    let recalibration = recalibrated
        .as_ref()
        .map(|r| recalibration_report(r, &prepared, run));
    let mut report = super::build::report(
        loaded,
        run,
        &prepared,
        &sweep,
        how,
        (signal.clone(), recalibration),
    );
    if let (Some(test), Some(h)) = (test, &run.holdout) {
        let plan = report.deployment.plan.as_ref();
        let chosen = (&report.recommendation, plan);
        let level = how.intervals.level;
        report.holdout = validate(chosen, &test, h, run, (sweep.records(), level))?;
        let miss = report.holdout.as_ref().and_then(warnings::held_out);
        report.findings.warnings.extend(miss);
    }
    let in_sample = (
        report.recommendation.as_ref().ok().copied(),
        report.deployment.plan.as_ref().and_then(|p| p.policy),
    );
    report.certified_segments = super::certified::certified_segments(loaded, run)?;
    let certified = report
        .certified_segments
        .as_ref()
        .and_then(|c| c.as_ref().ok());
    let in_sample = (in_sample.0, in_sample.1, certified.map(|c| c.on_all));
    report.cross_fit = super::crossfit::cross_fit(loaded, run, signal, in_sample)?;
    let reference_of =
        |c: &CertifiedSegments| segments_reference(loaded, run, &prepared, &c.thresholds);
    report.deployment.policy = super::certified::deployable(
        report.deployment.policy.take(),
        report.certified_segments.as_ref(),
        report.deployment.plan.as_ref(),
        &reference_of,
    );
    report.deployment.policy = with_raw_thresholds(report.deployment.policy.take(), &calibrated);
    report.input.filtered = filtered;
    Ok(report)
}

/// The records every `--where` condition keeps, and how many that is (`None` without
/// conditions).
fn apply_filters(
    loaded: Loaded,
    run: &RunSettings,
) -> Result<(Loaded, Option<Filtered>), RunError> {
    if run.filters.is_empty() {
        return Ok((loaded, None));
    }
    let n = loaded.set.small_quality.len();
    let mut keep = vec![true; n];
    for f in &run.filters {
        let Some(ExtraColumn::Labels(labels)) = loaded.extra(&f.column, ExtraKind::Label) else {
            return Err(RunError::NotRead(format!("--where {}", f.label())));
        };
        let code = labels.names.iter().position(|name| *name == f.value);
        for (k, &c) in keep.iter_mut().zip(&labels.codes) {
            *k &= (code == Some(c as usize)) == f.equal;
        }
    }
    let kept = keep.iter().filter(|k| **k).count();
    let filtered = Filtered {
        conditions: run.filters.iter().map(Filter::label).collect(),
        kept,
        removed: n - kept,
        total: n,
    };
    if kept == 0 {
        return Err(RunError::NothingKept(filtered.conditions.join(", ")));
    }
    Ok((loaded.subset(&keep, true), Some(filtered)))
}

/// The signal chosen and recalibrated; with a hold-out, on the calibration part, with the
/// held-out part (its signal mapped the same way) returned beside it.
fn calibrate(loaded: Loaded, run: &RunSettings) -> Result<(Signalled, Option<Loaded>), RunError> {
    let mut signalled = with_signal(loaded, run)?;
    // With a hold-out, everything is chosen on the calibration part and checked on the rest.
    let test = match &run.holdout {
        None => None,
        Some(h) => {
            let mask = holdout::test_mask(&signalled.loaded.set, h)?;
            let test = signalled.loaded.subset(&mask, true);
            signalled.loaded = signalled.loaded.subset(&mask, false);
            Some(test)
        }
    };
    let calibrated = recalibrate(signalled, run)?;
    let test = test.map(|mut t| {
        if let Some((r, _)) = &calibrated.recalibrated {
            let mapped = t.set.confidence.iter_mut();
            mapped.for_each(|c| *c = r.map.apply(*c));
        }
        t
    });
    Ok((calibrated, test))
}

/// The comparison of `calibrate signals`: every candidate signal on the same records.
pub fn signals_report(
    loaded: Loaded,
    run: &RunSettings,
    candidates: &[SignalSource],
    target: Option<f64>,
) -> Result<SignalsReport, RunError> {
    let (mut loaded, filtered) = apply_filters(loaded, run)?;
    let signals::Candidates {
        ranked: candidates,
        skipped,
        unranked,
        suspects,
    } = signals::candidates(&loaded, &run.signal, candidates).map_err(|error| {
        RunError::InInput {
            input: run.load.source.label(),
            error,
        }
    })?;
    // The sweep input's confidence is replaced per candidate; costs need a column of the
    // right length.
    loaded.set.confidence = candidates[0].values.clone();
    let prepared = prepare(&loaded, run)?;
    let lengths = signals::output_lengths(&loaded, &run.signal);
    let comparison = compare(prepared.input(), &candidates, target, lengths.as_deref());
    Ok(SignalsReport {
        path: run.load.source.as_given(),
        sha256: loaded.sha256.clone(),
        records: loaded.set.small_quality.len(),
        comparison,
        recalibrate: (run.signal.recalibrate).map(|r| (signals::method_name(r.method), r.folds)),
        skipped,
        unranked,
        suspects,
        filtered,
    })
}

/// The decision `calibrate recommend` prints (with a hold-out: chosen on the calibration part,
/// checked on the rest).
pub fn decision(
    loaded: Loaded,
    run: &RunSettings,
    intervals: Option<intervals::Settings>,
) -> Result<Decision, RunError> {
    let (loaded, filtered) = apply_filters(loaded, run)?;
    let (calibrated, test) = calibrate(loaded, run)?;
    let loaded = &calibrated.loaded;
    let prepared = prepare(loaded, run)?;
    // The bootstrap reuses the columns the sweep lays out; without it they are not kept.
    let sweep = match intervals {
        Some(s) if s.resamples > 0 => Sweep::keeping_columns(prepared.input()),
        _ => Sweep::new(prepared.input()),
    };
    let (recommendation, certification) = decide(&sweep, run, prepared.binary);
    let split_ties = super::ties::split_ties(run, &prepared, &sweep, &recommendation, intervals);
    let chosen = Chosen {
        recommendation: &recommendation,
        certification: certification.as_ref(),
        split: split_ties.as_ref().and_then(|s| s.outcome.as_ref().ok()),
    };
    let signal = calibrated.signal.clone();
    let deployment = deployment(loaded, run, &prepared, &sweep, chosen, &[], signal);
    let holdout = match (test, &run.holdout) {
        (Some(test), Some(h)) => {
            let chosen = (&recommendation, deployment.plan.as_ref());
            // The verdict's level: `--level`, else the usual 95 %.
            let level = intervals.map_or(DEFAULT_LEVEL, |s| s.level);
            validate(chosen, &test, h, run, (sweep.records(), level))?
        }
        _ => None,
    };
    // Each resample picks its threshold the way this run does.
    let uncertainty = intervals.map(|settings| {
        let choose = |r: &Sweep| choose_threshold(r, run, prepared.binary);
        let at = recommendation.as_ref().ok();
        let (input, binary) = (prepared.input(), prepared.binary);
        intervals::uncertainty(input, &sweep, &[], at, &choose, settings, binary)
    });
    let why = recommendation.as_ref().map_err(|why| why.to_string());
    let mut warnings = warnings::collect(loaded, run, &prepared, &sweep, why, None);
    // `recommend` states the reason itself, as its error line.
    warnings.retain(|w| !matches!(w, Warning::NoThreshold { .. }));
    warnings.extend(holdout.as_ref().and_then(warnings::held_out));
    let certified = super::certified::certified_segments(loaded, run)?;
    let reference_of =
        |c: &CertifiedSegments| segments_reference(loaded, run, &prepared, &c.thresholds);
    let policy = super::certified::deployable(
        deployment.policy,
        certified.as_ref(),
        deployment.plan.as_ref(),
        &reference_of,
    );
    let in_sample = (
        recommendation.as_ref().ok().copied(),
        deployment.plan.as_ref().and_then(|p| p.policy),
        certified.and_then(Result::ok).map(|c| c.on_all),
    );
    let signal = calibrated.signal.clone();
    let cross_fit = super::crossfit::cross_fit(loaded, run, &signal, in_sample)?;
    let segment_warnings = (deployment.plan.iter())
        .flat_map(|p| p.warnings.clone())
        .collect();
    Ok(Decision {
        warnings,
        cross_fit,
        segment_warnings,
        recommendation,
        certification,
        split_ties,
        policy: with_raw_thresholds(policy, &calibrated),
        holdout,
        uncertainty,
        filtered,
        unmatched_safeguards: unmatched(&prepared),
    })
}

/// The chosen threshold (and the per-segment policy) on the held-out records.
fn validate(
    (recommendation, plan): (&Result<Metrics, Infeasible>, Option<&Plan>),
    test: &Loaded,
    how: &Holdout,
    run: &RunSettings,
    (calibration_records, level): (usize, f64),
) -> Result<Option<Validation>, RunError> {
    let Ok(chosen) = recommendation else {
        return Ok(None);
    };
    let prepared = prepare(test, run)?;
    let test_sweep = Sweep::new(prepared.input());
    // "Escalate everything" accepts nothing anywhere, whatever the held-out confidences.
    let threshold = chosen.routing_threshold();
    let held_out = test_sweep.at_threshold(threshold);
    let large_quality = test_sweep.baselines().always_large.quality;
    // With per-segment thresholds, the whole policy is checked too.
    let policy = plan.and_then(|plan| {
        let promised = plan.policy?;
        let held_out = apply_plan(test, run, &prepared, plan, threshold)?;
        let met = run.objective.is_met(&held_out, large_quality);
        Some(Check {
            promised,
            held_out,
            met,
        })
    });
    Ok(Some(Validation {
        policy,
        description: how.describe(),
        calibration_records,
        test_records: test_sweep.records(),
        promised: *chosen,
        held_out,
        met: run.objective.is_met(&held_out, large_quality),
        verdict: holdout::judge(run.objective, &held_out, large_quality, level),
        always_large_quality: large_quality,
    }))
}

/// Replaces the confidence column by the signal the run thresholds; says which it is.
fn with_signal(mut loaded: Loaded, run: &RunSettings) -> Result<Signalled, RunError> {
    let (values, signal) = signals::signal_values(&loaded, &run.signal)?;
    // The confidence field itself stays in place, not copied.
    if run.signal.source != SignalSource::Confidence {
        loaded.set.confidence = values.into_owned();
    }
    Ok(Signalled {
        loaded,
        signal,
        recalibrated: None,
    })
}

/// With `--recalibrate`: replaces the signal by the deployed map's values and records the map
/// in the signal's description, keeping the raw signal.
fn recalibrate(mut s: Signalled, run: &RunSettings) -> Result<Signalled, RunError> {
    let Some(settings) = run.signal.recalibrate else {
        return Ok(s);
    };
    let set = &mut s.loaded.set;
    let r = signals::recalibrate(&set.confidence, &set.small_quality, settings)?;
    s.signal.recalibration = Some(signals::map_policy(&r.map));
    let raw = std::mem::replace(&mut set.confidence, r.values.clone());
    s.recalibrated = Some((r, raw));
    Ok(s)
}

/// With a recalibration, adds the raw-signal form of every threshold to the policy (the
/// confidence column then holds the mapped signal).
fn with_raw_thresholds(policy: Option<Policy>, s: &Signalled) -> Option<Policy> {
    match (policy, &s.recalibrated) {
        (Some(p), Some((r, raw))) => {
            let mapped = &s.loaded.set.confidence;
            Some(p.with_raw_thresholds(|t| signals::raw_cut(raw, mapped, t, &r.map)))
        }
        (policy, _) => policy,
    }
}

/// Calibration before and after, and what the raw signal would have picked.
fn recalibration_report(
    (r, raw): &(Recalibrated, Vec<f64>),
    prepared: &Prepared<'_>,
    run: &RunSettings,
) -> RecalibrationReport {
    let raw = Sweep::new(SweepInput {
        confidence: raw,
        ..prepared.input()
    });
    RecalibrationReport {
        method: signals::method_name(r.settings.method),
        folds: r.settings.folds,
        before: r.before,
        after: r.after,
        raw_pick: recommend(&raw, run.objective).map_err(|e| e.to_string()),
        reliability: findings::reliability(&r.out_of_fold, prepared.input().small_quality),
    }
}
