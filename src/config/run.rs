//! The flags every command that reads an eval set shares, to [`RunSettings`]: the input and
//! its field mapping, the objective, certification, the signal, the policy and the costs.
//!
//! Owns the checks on those flags. It must not read the eval set or compute anything.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::costs::{costs as parse_costs, non_negative};
use super::policy::{self, Extras};
use crate::cli::{self, FormatArg};
use crate::engine::economics::Baseline;
use crate::engine::objective::Objective;
use crate::input::multi::MultiFields;
use crate::input::{ExtraKind, Field, FieldMap, Format, LoadOptions, Source};
use crate::policy::settings::PolicySettings;
use crate::report::chains::ChainSettings;
use crate::report::{Filter, RunSettings};
use crate::signals::derive::RawField;
use crate::signals::settings::{SignalSettings, SignalSource, set_raw_column};

/// The flags every command that reads an eval set has.
pub struct Shared {
    /// How to read it.
    pub input: cli::InputArgs,
    /// How requests are priced.
    pub costs: cli::CostArgs,
    /// Which signal to threshold.
    pub signal: cli::SignalArgs,
    /// `--seed`.
    pub seed: u64,
    /// `--quiet`.
    pub quiet: bool,
}

/// The settings of a run; `policy` is `None` for `calibrate signals` (which compares signals
/// and so takes no segments, safeguards or single `--signal`).
pub fn run_settings(
    shared: Shared,
    objective: cli::ObjectiveArgs,
    certify: cli::CertifyArgs,
    policy: Option<&cli::PolicyArgs>,
) -> Result<RunSettings> {
    let Shared {
        input,
        costs,
        signal,
        seed,
        quiet,
    } = shared;
    let (mut fields, raw, multi) = field_map(&input.fields)?;
    let sheets = super::costs::sheets(costs.prices.prices_file.as_deref())?;
    let objective = parse_objective(&objective)?;
    let split_ties = split_ties(&certify, objective)?;
    let certify = certify_delta(&certify, objective)?;
    let signal = policy::signal(&signal, seed, raw, policy.is_none())?;
    if signal.source != SignalSource::Confidence {
        fields.make_confidence_optional();
    }
    let policy = match policy {
        Some(p) => policy::policy(p, seed)?,
        None => PolicySettings::default(),
    };
    if split_ties.is_some() && !policy.segment_by.is_empty() {
        bail!(
            "--split-ties with --segment-by: a split is one tie under one global threshold, \
             and per-segment thresholds have one tie each; drop one of the two"
        );
    }
    if split_ties.is_some() && signal.recalibrate.is_some() {
        bail!(
            "--split-ties with --recalibrate: a tie of recalibrated values spans a range of raw \
             signals, which a router cannot match exactly; drop one of the two"
        );
    }
    let filters = parse_filters(&input.filters)?;
    let mut extras = Extras::default();
    policy::extras(&mut extras, &policy, &signal);
    filter_extras(&mut extras, &filters);
    let costs = parse_costs(costs)?;
    let read_tokens = costs.small.price.is_some()
        || costs.large.price.is_some()
        || matches!(costs.baseline, Some(Baseline::Tokens(_)));
    Ok(RunSettings {
        load: LoadOptions {
            source: source_of(input.eval),
            format: input.format.map(|f| match f {
                FormatArg::Jsonl => Format::Jsonl,
                FormatArg::Csv => Format::Csv,
                FormatArg::Parquet => Format::Parquet,
            }),
            fields,
            skip_invalid: input.skip_invalid,
            read_tokens,
            read_split: false,
            extras: extras.into_requests(),
            discover_except: None,
            first_line: 1,
            hash: true,
        },
        costs,
        objective,
        certify,
        split_ties,
        policy,
        signal,
        filters,
        holdout: None,
        quiet,
        chains: ChainSettings {
            models: None,
            fields: multi,
            sheets,
            join: Vec::new(),
        },
    })
}

/// The label columns `--where` reads.
pub fn filter_extras(out: &mut Extras, filters: &[Filter]) {
    for f in filters {
        let purpose = format!("--where {}", f.label());
        out.add(&f.column, ExtraKind::Label, true, purpose);
    }
}

/// `--where FIELD=VALUE` and `--where FIELD!=VALUE` conditions.
fn parse_filters(specs: &[String]) -> Result<Vec<Filter>> {
    let mut out: Vec<Filter> = Vec::new();
    for spec in specs {
        let (column, value, equal) = policy::condition("--where", spec, "task_type=chat", true)?;
        let f = Filter {
            column,
            value,
            equal,
        };
        if out.contains(&f) {
            bail!("--where {spec:?}: given twice");
        }
        out.push(f);
    }
    Ok(out)
}

/// `-` is standard input.
pub fn source_of(path: PathBuf) -> Source {
    if path == Path::new("-") {
        Source::Stdin
    } else {
        Source::File(path)
    }
}

/// `--field FIELD=COLUMN` flags: the logical fields' columns and the raw fields' columns.
fn field_map(specs: &[String]) -> Result<(FieldMap, SignalSettings, MultiFields)> {
    let mut fields = FieldMap::default();
    let mut raw = SignalSettings::default();
    let mut multi = MultiFields::default();
    for spec in specs {
        let (name, column) = spec
            .split_once('=')
            .with_context(|| format!("--field {spec:?}: expected FIELD=COLUMN"))?;
        if column.is_empty() {
            bail!("--field {spec:?}: the column name is empty");
        }
        if set_raw_column(&mut raw, name.trim(), column) || multi.set(name.trim(), column) {
            continue;
        }
        if name.trim() == Field::Split.name() {
            bail!(
                "--field {spec:?}: the split column is named with --split-field {column} (which \
                 also says which labels mark each part)"
            );
        }
        let field = Field::parse(name.trim()).with_context(|| {
            let hint = did_you_mean(name.trim())
                .map(|n| format!(" (did you mean {n:?}?)"))
                .unwrap_or_default();
            format!(
                "--field {spec:?}: unknown field {name:?}{hint}; expected one of {}, {}, {}",
                Field::ALL.map(Field::name).join(", "),
                MultiFields::NAMES.join(", "),
                RawField::ALL.map(|f| f.name()).join(", ")
            )
        })?;
        fields.set(field, column.to_string());
    }
    distinct_columns(&fields)?;
    Ok((fields, raw, multi))
}

/// No two logical fields read the same column.
pub fn distinct_columns(fields: &FieldMap) -> Result<()> {
    for a in Field::ALL {
        for b in Field::ALL.into_iter().filter(|b| *b > a) {
            if fields.column(a) == fields.column(b) {
                bail!(
                    "--field: fields {a} and {b} would both read column {:?}; map them to \
                     different columns",
                    fields.column(a)
                );
            }
        }
    }
    Ok(())
}

/// The logical or raw field name closest to a mistyped one, when it is close (clap's own rule
/// for flags: Jaro similarity above 0.7).
fn did_you_mean(name: &str) -> Option<&'static str> {
    let names = Field::ALL.map(Field::name).into_iter();
    let all = names.chain(RawField::ALL.map(|f| f.name()));
    all.map(|n| (strsim::jaro(name, n), n))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// The objective flag given (clap allows at most one), else the post's quality × savings.
fn parse_objective(o: &cli::ObjectiveArgs) -> Result<Objective> {
    let unit = |flag: &str, x: f64| -> Result<f64> {
        if !(0.0..=1.0).contains(&x) {
            bail!("{flag}: expected a number in [0, 1], found {x}");
        }
        Ok(x)
    };
    Ok(if let Some(q) = o.min_quality {
        Objective::MinQuality {
            target: unit("--min-quality", q)?,
        }
    } else if let Some(r) = o.max_escalation {
        Objective::MaxEscalation {
            max_rate: unit("--max-escalation", r)?,
        }
    } else if let Some(b) = o.budget {
        Objective::Budget {
            max_cost: non_negative("--budget", b)?,
        }
    } else if let Some(l) = o.max_quality_loss {
        Objective::MaxQualityLoss {
            max_loss: unit("--max-quality-loss", l)?,
        }
    } else if let Some(q) = o.min_cascade_quality {
        Objective::MinCascadeQuality {
            target: unit("--min-cascade-quality", q)?,
        }
    } else {
        Objective::QualityTimesSavings
    })
}

/// `--split-ties`: the hash's seed, for the three quality-floor objectives and without
/// `--certify`.
fn split_ties(c: &cli::CertifyArgs, objective: Objective) -> Result<Option<u64>> {
    if !c.split_ties {
        return Ok(None);
    }
    if !matches!(
        objective,
        Objective::MinQuality { .. }
            | Objective::MinCascadeQuality { .. }
            | Objective::MaxQualityLoss { .. }
    ) {
        bail!(
            "--split-ties needs --min-quality Q, --min-cascade-quality Q or --max-quality-loss L"
        );
    }
    if c.certify {
        bail!(
            "--split-ties with --certify: a certificate covers a deterministic threshold, and \
             certifying a split would need every labelled record routed by the hash of its \
             request id, which calibrate does not do; drop --split-ties for the certified \
             threshold, or --certify for the split's expected figures"
        );
    }
    Ok(Some(c.tie_seed))
}

/// `--certify` and `--delta`: the error probability δ, for the two quality objectives.
fn certify_delta(c: &cli::CertifyArgs, objective: Objective) -> Result<Option<f64>> {
    if !c.certify {
        return Ok(None);
    }
    if !matches!(
        objective,
        Objective::MinQuality { .. } | Objective::MaxQualityLoss { .. }
    ) {
        bail!("--certify needs --min-quality Q or --max-quality-loss L");
    }
    if !(c.delta > 0.0 && c.delta < 1.0) {
        bail!(
            "--delta: expected a probability in (0, 1), found {}",
            c.delta
        );
    }
    Ok(Some(c.delta))
}

/// `reports/<input file stem>`, or `reports/stdin`.
pub fn default_out(source: &Source) -> PathBuf {
    let stem = match source {
        Source::File(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "eval".into()),
        Source::Stdin => "stdin".into(),
    };
    Path::new("reports").join(stem)
}
