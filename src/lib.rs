//! calibrate: choose the escalation threshold of an LLM cascade from an eval set.
//!
//! `run` reads like the README: flags to config, load, sweep, recommend, render, write. The
//! numbers live in the pure core (`sweep`, `economics`, `recommend`, `analysis`); input in
//! `eval_set`; output in `report`.

pub mod cli;

mod analysis;
mod certify;
mod config;
mod dashboard;
mod economics;
mod eval_set;
mod holdout;
mod intervals;
mod latency;
mod policy;
mod prices;
mod progress;
mod recommend;
mod report;
mod safeguards;
mod segments;
mod signals;
mod stats;
mod sweep;

use std::io::Write;

use anyhow::{Result, bail};

use crate::cli::PrintFormat;
use crate::config::{
    Analysis, Config, EconomicsConfig, RecommendConfig, SignalsConfig, SweepConfig,
};
use crate::eval_set::Loaded;
use crate::recommend::Objective;

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done, and a threshold meets the objective.
    Success = 0,
    /// 1: ran fine, but no threshold meets the objective.
    NoThreshold = 1,
    /// 2: an error (bad input, bad flags, I/O).
    Error = 2,
}

/// Runs one command.
pub fn run(args: cli::Args) -> Result<ExitStatus> {
    match Config::from_args(args)? {
        Config::Sweep(config) => sweep(&config),
        Config::Recommend(config) => recommend(&config),
        Config::Economics(config) => economics(&config),
        Config::Signals(config) => compare_signals(&config),
    }
}

fn economics(config: &EconomicsConfig) -> Result<ExitStatus> {
    let rows = config.what_if.rows(&config.rates);
    let summary = config.what_if.summary();
    if let Some(path) = &config.csv {
        let bytes = report::what_if_csv(&rows)?;
        report::write_file_atomically(path, &bytes)?;
        eprintln!("wrote {}", path.display());
    }
    print(&report::what_if_text(config, &rows, &summary))?;
    Ok(ExitStatus::Success)
}

fn sweep(config: &SweepConfig) -> Result<ExitStatus> {
    // Fail on a bad output path before the long work.
    let out = report::OutputDir::prepare(&config.out)?;
    let analysis = &config.analysis;
    let mut loaded = load(analysis)?;
    let mut signal = choose_signal(&mut loaded, analysis)?;
    // With a hold-out, everything is chosen on the calibration part and checked on the rest.
    let (mut loaded, test) = match &config.holdout {
        None => (loaded, None),
        Some(how) => {
            let mask = holdout::test_mask(&loaded.set, how).map_err(anyhow::Error::msg)?;
            let part = |want: bool| eval_set::Loaded {
                set: holdout::subset(&loaded.set, &mask, want),
                extras: loaded
                    .extras
                    .iter()
                    .map(|(r, c)| (r.clone(), c.as_ref().map(|c| c.subset(&mask, want))))
                    .collect(),
                ..loaded.clone()
            };
            (part(false), Some((part(true), how)))
        }
    };
    let recalibrated = recalibrate(&mut loaded, analysis, &mut signal)?;
    let test = test.map(|(mut t, how)| {
        if let Some((r, _)) = &recalibrated {
            for c in &mut t.set.confidence {
                *c = r.map.apply(*c);
            }
        }
        (t, how)
    });
    let prepared = analysis::prepare(&loaded, analysis).map_err(anyhow::Error::msg)?;
    warn_unmatched(&prepared);
    let sweep = sweep::Sweep::new(prepared.input());
    let recalibration = recalibrated
        .as_ref()
        .map(|r| recalibration_report(r, &prepared, analysis));
    let mut report = analysis::report(
        &loaded,
        analysis,
        &prepared,
        &sweep,
        config.grid,
        config.intervals,
        (signal, recalibration),
    );
    if let (Some((test, how)), Ok(chosen)) = (test, &report.recommendation) {
        let prepared = analysis::prepare(&test, analysis).map_err(anyhow::Error::msg)?;
        let test_sweep = sweep::Sweep::new(prepared.input());
        // "Escalate everything" accepts nothing anywhere, whatever the held-out confidences.
        let threshold = if chosen.accepts_none {
            f64::INFINITY
        } else {
            chosen.threshold
        };
        let held_out = test_sweep.at_threshold(threshold);
        let large_quality = test_sweep.baselines().always_large.quality;
        // With per-segment thresholds, the whole policy is checked too.
        let policy = report.deployment.plan.as_ref().and_then(|plan| {
            let promised = plan.policy?;
            let held_out = analysis::apply_plan(&test, analysis, &prepared, plan, threshold)?;
            let met = holdout::met(analysis.objective, &held_out, large_quality);
            Some((promised, held_out, met))
        });
        report.holdout = Some(holdout::Validation {
            policy,
            description: match how {
                config::Holdout::Fraction { fraction, seed } => format!(
                    "{:.1} % of the records held out at random (seed {seed}, stratified by task \
                     type when present)",
                    100.0 * fraction
                ),
                config::Holdout::Field(column) => {
                    format!("records marked calibration/test in column {column:?}")
                }
            },
            calibration_records: sweep.records(),
            test_records: test_sweep.records(),
            promised: *chosen,
            held_out,
            met: holdout::met(analysis.objective, &held_out, large_quality),
        });
    }
    report.deployment.policy = with_raw_thresholds(
        report.deployment.policy.take(),
        recalibrated.as_ref(),
        &loaded,
    );
    let files = report::render_all(&report)?;
    out.commit(&files)?;
    eprintln!("wrote {}", config.out.display());
    print(&report::summary_text(&report))?;
    Ok(status(&report))
}

fn recommend(config: &RecommendConfig) -> Result<ExitStatus> {
    let analysis = &config.analysis;
    let mut loaded = load(analysis)?;
    let mut signal = choose_signal(&mut loaded, analysis)?;
    let recalibrated = recalibrate(&mut loaded, analysis, &mut signal)?;
    let prepared = analysis::prepare(&loaded, analysis).map_err(anyhow::Error::msg)?;
    warn_unmatched(&prepared);
    let sweep = sweep::Sweep::new(prepared.input());
    let objective = analysis.objective;
    let (recommendation, certification) = analysis::decide(&sweep, analysis, &prepared);
    let deployment = analysis::deployment(
        &loaded,
        analysis,
        &prepared,
        &sweep,
        &recommendation,
        certification.as_ref(),
        &[],
        signal,
        &loaded.sha256,
    );
    let mut deployment = deployment;
    deployment.policy =
        with_raw_thresholds(deployment.policy.take(), recalibrated.as_ref(), &loaded);
    let found = deployment.policy.is_some();
    match (&deployment.policy, config.print) {
        (_, PrintFormat::Json) => print(
            &(report::recommendation_json(
                &recommendation,
                objective,
                certification.as_ref(),
                deployment.policy.as_ref(),
            )? + "\n"),
        )?,
        // One global threshold prints bare; "escalate everything" prints `always_large`, as
        // the policy says (a number just above every confidence would accept a future request
        // more confident than any in the eval set).
        (Some(policy), PrintFormat::Text) if policy.is_bare() && recommendation.is_ok() => {
            let m = recommendation.as_ref().expect("checked");
            match policy.default_threshold {
                Some(_) => print(&format!("{}\n", m.threshold))?,
                None => print("always_large\n")?,
            }
        }
        (Some(policy), format) => print(&report::policy_text(policy, format)?)?,
        (None, _) => {
            let why = match &recommendation {
                Err(why) => why.to_string(),
                Ok(_) => "no policy meets the objective".into(),
            };
            eprintln!("calibrate: {why}");
        }
    }
    Ok(if found {
        ExitStatus::Success
    } else {
        ExitStatus::NoThreshold
    })
}

fn compare_signals(config: &SignalsConfig) -> Result<ExitStatus> {
    let out = report::OutputDir::prepare(&config.out)?;
    let analysis = &config.analysis;
    let mut loaded = load(analysis)?;
    let (candidates, skipped) = signals::candidates(&loaded, &analysis.signal, &config.candidates)
        .map_err(|e| anyhow::anyhow!("{}: {e}", analysis.load.source.label()))?;
    // The sweep input's confidence is replaced per candidate; costs need a column of the
    // right length.
    loaded.set.confidence = candidates[0].values.clone();
    let prepared = analysis::prepare(&loaded, analysis).map_err(anyhow::Error::msg)?;
    let lengths = signals::output_lengths(&loaded, &analysis.signal);
    let comparison = signals::compare::compare(
        prepared.input(),
        &candidates,
        config.target,
        lengths.as_deref(),
    );
    let shown = report::SignalsReport {
        path: &analysis.load.source.as_given(),
        sha256: &loaded.sha256,
        records: loaded.set.small_quality.len(),
        comparison: &comparison,
        recalibrate: analysis
            .signal
            .recalibrate
            .map(|r| (signals::method_name(r.method), r.folds)),
        skipped: &skipped,
    };
    out.commit(&report::signals_files(&shown)?)?;
    eprintln!("wrote {}", config.out.display());
    print(&report::signals_text(&shown))?;
    Ok(ExitStatus::Success)
}

/// Replaces the confidence column by the signal the run thresholds; says which it is.
fn choose_signal(loaded: &mut Loaded, analysis: &Analysis) -> Result<policy::SignalPolicy> {
    let (values, signal) =
        signals::signal_values(loaded, &analysis.signal).map_err(anyhow::Error::msg)?;
    // The confidence field itself stays in place, not copied.
    if analysis.signal.source != config::SignalSource::Confidence {
        loaded.set.confidence = values.into_owned();
    }
    Ok(signal)
}

/// With a recalibration, adds the raw-signal form of every threshold to the policy (the
/// loaded confidence column then holds the mapped signal).
fn with_raw_thresholds(
    policy: Option<policy::Policy>,
    recalibrated: Option<&(signals::Recalibrated, Vec<f64>)>,
    loaded: &Loaded,
) -> Option<policy::Policy> {
    match (policy, recalibrated) {
        (Some(p), Some((r, raw))) => {
            let mapped = &loaded.set.confidence;
            Some(p.with_raw_thresholds(|t| signals::raw_cut(raw, mapped, t, &r.map)))
        }
        (policy, _) => policy,
    }
}

/// With `--recalibrate`: replaces the signal by the deployed map's values and records the map
/// in `signal`; returns the recalibration and the raw signal.
fn recalibrate(
    loaded: &mut Loaded,
    analysis: &Analysis,
    signal: &mut policy::SignalPolicy,
) -> Result<Option<(signals::Recalibrated, Vec<f64>)>> {
    let Some(settings) = analysis.signal.recalibrate else {
        return Ok(None);
    };
    let r = signals::recalibrate(&loaded.set.confidence, &loaded.set.small_quality, settings)
        .map_err(anyhow::Error::msg)?;
    signal.recalibration = Some(signals::map_policy(&r.map));
    let raw = std::mem::replace(&mut loaded.set.confidence, r.values.clone());
    Ok(Some((r, raw)))
}

/// Calibration before and after, and what the raw signal would have picked.
fn recalibration_report(
    (r, raw): &(signals::Recalibrated, Vec<f64>),
    prepared: &analysis::Prepared<'_>,
    analysis: &Analysis,
) -> report::RecalibrationReport {
    let raw = sweep::Sweep::new(sweep::SweepInput {
        confidence: raw,
        ..prepared.input()
    });
    report::RecalibrationReport {
        method: signals::method_name(r.settings.method),
        folds: r.settings.folds,
        before: r.before,
        after: r.after,
        raw_pick: recommend::recommend(&raw, analysis.objective).map_err(|e| e.to_string()),
    }
}

/// Warns on stderr about safeguards that match no record (often a typo or a value spelled
/// differently: values compare as text).
fn warn_unmatched(prepared: &analysis::Prepared<'_>) {
    for s in &prepared.safeguards {
        if s.matched() == 0 {
            eprintln!("warning: {} matches no record of the eval set", s.label);
        }
    }
}

fn load(analysis: &Analysis) -> Result<Loaded> {
    let bar = progress::Bar::new(analysis.quiet);
    let loaded = eval_set::load(&analysis.load, &bar);
    bar.finish();
    let loaded = loaded?;
    let needs_large = match analysis.objective {
        Objective::Budget { .. } => Some("--budget maximises cascade quality"),
        Objective::MaxQualityLoss { .. } => Some("--max-quality-loss compares with always-large"),
        Objective::MinCascadeQuality { .. } => {
            Some("--min-cascade-quality counts the large model's answers")
        }
        _ => None,
    };
    if let Some(what) = needs_large
        && loaded.set.large_quality.is_none()
    {
        bail!(
            "{what}, which needs large-model quality labels; the input has no {:?} column \
             (map one with --field large_quality=COLUMN)",
            analysis.load.fields.column(eval_set::Field::LargeQuality)
        );
    }
    if loaded.drops.dropped > 0 {
        eprintln!(
            "warning: dropped {} invalid records of {} (--skip-invalid); reasons are in summary.json",
            loaded.drops.dropped, loaded.drops.read
        );
    }
    Ok(loaded)
}

fn status(report: &report::Report) -> ExitStatus {
    // Per-segment thresholds can meet an objective no single threshold meets.
    if report.recommendation.is_ok() || report.deployment.policy.is_some() {
        ExitStatus::Success
    } else {
        ExitStatus::NoThreshold
    }
}

/// Writes data to stdout; a closed pipe is not an error (see `main`).
fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
