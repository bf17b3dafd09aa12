//! The typed settings of the deployed policy (segments, `--always-large` rules, refusals) and of the signal
//! (which one, recalibrated how), and the extra columns they make the loader read.
//!
//! Owns the checks on `--segment-by`, `--always-large`, `--signal`, `--recalibrate` and the raw
//! field names. It must not read the eval set or compute anything.

use anyhow::{Result, bail};

use crate::cli::{DeparturesArg, PolicyArgs, RecalibrateArg, SignalArgs};
use crate::input::{ExtraKind, ExtraRequest};
use crate::policy::segments::Departures;
use crate::policy::settings::{AlwaysLarge, PolicySettings};
use crate::signals::derive::{RawField, Signal};
use crate::signals::recalibrate::Method;
use crate::signals::settings::{Recalibration, SignalSettings, SignalSource, raw_kind};

/// A `--signal NAME`: a derived signal's name, else a column.
pub fn parse_source(name: &str) -> Result<SignalSource> {
    Ok(match name {
        "" => bail!("--signal: the name is empty"),
        name => match Signal::parse(name) {
            Some(s) => SignalSource::Derived(s),
            None => SignalSource::Column(name.to_string()),
        },
    })
}

/// Parses `--signal` (at most one unless `compare`) and `--recalibrate`.
pub fn signal(
    args: &SignalArgs,
    seed: u64,
    raw: SignalSettings,
    compare: bool,
) -> Result<SignalSettings> {
    let source = match args.signal.as_slice() {
        [] => SignalSource::Confidence,
        [name] if !compare => parse_source(name)?,
        _ if compare => SignalSource::Confidence,
        many => bail!(
            "--signal given {} times; sweep and recommend threshold one signal (compare several \
             with `calibrate signals`)",
            many.len()
        ),
    };
    let recalibrate = match args.recalibrate {
        None => None,
        Some(method) => {
            if args.folds < 2 {
                bail!("--folds: expected at least 2, found {}", args.folds);
            }
            Some(Recalibration {
                method: match method {
                    RecalibrateArg::Isotonic => Method::Isotonic,
                    RecalibrateArg::Platt => Method::Platt,
                },
                folds: args.folds,
                seed,
            })
        }
    };
    Ok(SignalSettings {
        source,
        recalibrate,
        ..raw
    })
}

/// Parses the segment and override flags.
pub fn policy(args: &PolicyArgs, seed: u64) -> Result<PolicySettings> {
    let mut segment_by: Vec<String> = Vec::new();
    for column in &args.segment_by {
        if column.is_empty() {
            bail!("--segment-by: the column name is empty");
        }
        if segment_by.contains(column) {
            bail!("--segment-by {column}: given twice");
        }
        segment_by.push(column.clone());
    }
    if args.min_segment_records == 0 {
        bail!("--min-segment-records: expected at least 1, found 0");
    }
    let mut always_large: Vec<AlwaysLarge> = Vec::new();
    for spec in &args.always_large {
        let (column, value, equal) = condition("--always-large", spec, "task_type=legal", false)?;
        debug_assert!(equal, "!= is not allowed here");
        let o = AlwaysLarge { column, value };
        if always_large.contains(&o) {
            bail!("--always-large {spec:?}: given twice");
        }
        always_large.push(o);
    }
    if let Some(q) = args.segment_floor
        && !(0.0..=1.0).contains(&q)
    {
        bail!("--segment-floor: expected a quality from 0 to 1, found {q}");
    }
    if args.cross_fit == 1 {
        bail!("--cross-fit: expected 0 (off) or at least 2 folds, found 1");
    }
    Ok(PolicySettings {
        segment_by,
        min_segment_records: args.min_segment_records,
        always_large,
        escalate_refusals: args.escalate_refusals,
        segment_floor: args.segment_floor,
        departures: match args.segment_departures {
            DeparturesArg::Tested => Departures::DEFAULT,
            DeparturesArg::Free => Departures::Free,
        },
        cross_fit_folds: args.cross_fit,
        cross_fit_seed: seed,
        skip_reference: false,
    })
}

/// `FIELD=VALUE` (and with `negated`, `FIELD!=VALUE`) of `flag`: the field, the value, and
/// whether it asks for equality.
pub fn condition(
    flag: &str,
    spec: &str,
    example: &str,
    negated: bool,
) -> Result<(String, String, bool)> {
    let (column, value, equal) = match (spec.split_once("!="), spec.split_once('=')) {
        (Some((c, v)), _) if negated => (c, v, false),
        (_, Some((c, v))) => (c, v, true),
        _ if negated => {
            bail!("{flag} {spec:?}: expected FIELD=VALUE or FIELD!=VALUE, e.g. {example}")
        }
        _ => bail!("{flag} {spec:?}: expected FIELD=VALUE, e.g. {example}"),
    };
    if column.is_empty() {
        bail!("{flag} {spec:?}: the field name is empty");
    }
    Ok((column.to_string(), value.to_string(), equal))
}

/// The extra columns a run asks the loader for, each once (same column, same kind), in the
/// order first asked.
#[derive(Default)]
pub struct Extras(Vec<ExtraRequest>);

impl Extras {
    /// Asks for `column` as `kind` unless it is already asked for.
    pub fn add(&mut self, column: &str, kind: ExtraKind, required: bool, purpose: String) {
        if !self.0.iter().any(|r| r.column == column && r.kind == kind) {
            self.0.push(ExtraRequest {
                column: column.to_string(),
                kind,
                required,
                purpose,
                probe: false,
            });
        }
    }

    /// The requests.
    pub fn into_requests(self) -> Vec<ExtraRequest> {
        self.0
    }
}

/// The extra columns `calibrate signals` reads: each named signal's source (required), or with
/// none named every raw field (optional).
pub fn compare_extras(out: &mut Extras, candidates: &[SignalSource], signal: &SignalSettings) {
    if candidates.is_empty() {
        for field in RawField::ALL {
            let purpose = format!("the {} field", field.name());
            out.add(signal.raw_column(field), raw_kind(field), false, purpose);
        }
    }
    for c in candidates {
        match c {
            SignalSource::Confidence => {}
            SignalSource::Derived(s) => out.add(
                signal.raw_column(s.source()),
                raw_kind(s.source()),
                true,
                format!("--signal {}", s.name()),
            ),
            SignalSource::Column(col) => {
                out.add(col, ExtraKind::Number, true, format!("--signal {col}"))
            }
        }
    }
}

/// The extra columns a run reads: segment and `--always-large` labels, the signal's raw field,
/// the response for refusals.
pub fn extras(out: &mut Extras, policy: &PolicySettings, signal: &SignalSettings) {
    let mut add =
        |column: &str, kind: ExtraKind, purpose: String| out.add(column, kind, true, purpose);
    for column in &policy.segment_by {
        add(column, ExtraKind::Label, format!("--segment-by {column}"));
    }
    for o in &policy.always_large {
        add(
            &o.column,
            ExtraKind::Label,
            format!("--always-large {}", o.label()),
        );
    }
    match &signal.source {
        SignalSource::Confidence => {}
        SignalSource::Derived(s) => {
            let field = s.source();
            add(
                signal.raw_column(field),
                raw_kind(field),
                format!("--signal {}", s.name()),
            );
        }
        SignalSource::Column(c) => add(c, ExtraKind::Number, format!("--signal {c}")),
    }
    if policy.escalate_refusals {
        add(
            signal.raw_column(RawField::Response),
            ExtraKind::Text,
            "--escalate-refusals".into(),
        );
    }
}
