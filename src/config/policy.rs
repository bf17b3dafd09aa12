//! The typed settings of the deployed policy (segments, overrides, refusals) and of the signal
//! (which one, recalibrated how), and the extra columns they make the loader read.
//!
//! Owns the checks on `--segment-by`, `--always-large`, `--signal`, `--recalibrate` and the raw
//! field names. It must not read the eval set or compute anything.

use anyhow::{Context, Result, bail};

use crate::cli::{PolicyArgs, RecalibrateArg, SignalArgs};
use crate::eval_set::{ExtraKind, ExtraRequest};
use crate::signals::derive::{RawField, Signal};
use crate::signals::recalibrate::Method;

/// Segments and overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyConfig {
    /// Columns whose value combinations are the segments (empty: one global threshold).
    pub segment_by: Vec<String>,
    /// Segments with fewer records keep the global threshold (or escalate everything).
    pub min_segment_records: usize,
    /// Records matching any of these always escalate.
    pub overrides: Vec<Override>,
    /// Refusals (from the response text) always escalate.
    pub escalate_refusals: bool,
}

/// One `--always-large FIELD=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The column.
    pub column: String,
    /// The value that sends a record to the large model, compared as text (numbers and
    /// booleans as their JSON text: `true`, `3`).
    pub value: String,
}

impl Override {
    /// `FIELD=VALUE` as the user typed it.
    pub fn label(&self) -> String {
        format!("{}={}", self.column, self.value)
    }
}

/// Where the thresholded signal comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalSource {
    /// The confidence field.
    Confidence,
    /// A signal derived from raw model output.
    Derived(Signal),
    /// Another numeric column of the input.
    Column(String),
}

/// Cross-fitted recalibration of the signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recalibration {
    /// Isotonic or Platt.
    pub method: Method,
    /// Folds of the cross-fitting (at least 2).
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
}

/// Which signal a run thresholds, and the raw fields' columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalConfig {
    /// The signal.
    pub source: SignalSource,
    /// `--recalibrate`, if asked for.
    pub recalibrate: Option<Recalibration>,
    /// The column each raw field is read from (`--field logprobs=COLUMN`).
    pub raw_columns: [String; 4],
}

impl Default for SignalConfig {
    fn default() -> Self {
        SignalConfig {
            source: SignalSource::Confidence,
            recalibrate: None,
            raw_columns: RawField::ALL.map(|f| f.name().to_string()),
        }
    }
}

impl SignalConfig {
    /// The column `field` is read from.
    pub fn raw_column(&self, field: RawField) -> &str {
        &self.raw_columns[raw_index(field)]
    }
}

fn raw_index(field: RawField) -> usize {
    RawField::ALL
        .iter()
        .position(|f| *f == field)
        .expect("ALL lists every raw field")
}

/// The loader kind of a raw field.
pub fn raw_kind(field: RawField) -> ExtraKind {
    match field {
        RawField::Logprobs => ExtraKind::Logprobs,
        RawField::SelfReported => ExtraKind::Number,
        RawField::Samples => ExtraKind::Samples,
        RawField::Response => ExtraKind::Text,
    }
}

/// Maps `--field RAW=COLUMN` for a raw field name; `false` if `name` is not one.
pub fn set_raw_column(signal: &mut SignalConfig, name: &str, column: &str) -> bool {
    match RawField::ALL.into_iter().find(|f| f.name() == name) {
        Some(f) => {
            signal.raw_columns[raw_index(f)] = column.to_string();
            true
        }
        None => false,
    }
}

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
    raw: SignalConfig,
    compare: bool,
) -> Result<SignalConfig> {
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
    Ok(SignalConfig {
        source,
        recalibrate,
        ..raw
    })
}

/// Parses the segment and override flags.
pub fn policy(args: &PolicyArgs) -> Result<PolicyConfig> {
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
    let mut overrides: Vec<Override> = Vec::new();
    for spec in &args.always_large {
        let (column, value) = spec.split_once('=').with_context(|| {
            format!("--always-large {spec:?}: expected FIELD=VALUE, e.g. task_type=legal")
        })?;
        if column.is_empty() {
            bail!("--always-large {spec:?}: the field name is empty");
        }
        let o = Override {
            column: column.to_string(),
            value: value.to_string(),
        };
        if overrides.contains(&o) {
            bail!("--always-large {spec:?}: given twice");
        }
        overrides.push(o);
    }
    Ok(PolicyConfig {
        segment_by,
        min_segment_records: args.min_segment_records,
        overrides,
        escalate_refusals: args.escalate_refusals,
    })
}

/// The extra columns `calibrate signals` reads: each named signal's source (required), or with
/// none named every raw field (optional).
pub fn compare_extras(candidates: &[SignalSource], signal: &SignalConfig) -> Vec<ExtraRequest> {
    let mut out: Vec<ExtraRequest> = Vec::new();
    let mut add = |column: &str, kind: ExtraKind, required: bool, purpose: String| {
        if !out.iter().any(|r| r.column == column && r.kind == kind) {
            out.push(ExtraRequest {
                column: column.to_string(),
                kind,
                required,
                purpose,
                probe: false,
            });
        }
    };
    if candidates.is_empty() {
        for field in RawField::ALL {
            add(
                signal.raw_column(field),
                raw_kind(field),
                false,
                format!("the {} field", field.name()),
            );
        }
    }
    for c in candidates {
        match c {
            SignalSource::Confidence => {}
            SignalSource::Derived(s) => add(
                signal.raw_column(s.source()),
                raw_kind(s.source()),
                true,
                format!("--signal {}", s.name()),
            ),
            SignalSource::Column(col) => {
                add(col, ExtraKind::Number, true, format!("--signal {col}"))
            }
        }
    }
    out
}

/// The extra columns a run reads: segment and override labels, the signal's raw field, the
/// response for refusals. Deduplicated; the order is fixed.
pub fn extras(policy: &PolicyConfig, signal: &SignalConfig) -> Vec<ExtraRequest> {
    let mut out: Vec<ExtraRequest> = Vec::new();
    let mut add = |column: &str, kind: ExtraKind, purpose: String| {
        if !out.iter().any(|r| r.column == column && r.kind == kind) {
            out.push(ExtraRequest {
                column: column.to_string(),
                kind,
                required: true,
                purpose,
                probe: false,
            });
        }
    };
    for column in &policy.segment_by {
        add(column, ExtraKind::Label, format!("--segment-by {column}"));
    }
    for o in &policy.overrides {
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
    out
}
