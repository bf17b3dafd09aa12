//! Flags to a typed, validated configuration, in one place.
//!
//! Owns every check on what the user asked for (ranges, field names, output paths) and the
//! defaults that depend on the input. It must not read the eval set or compute anything.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::{self, CommandArgs, FormatArg, PrintFormat};
use crate::economics::{Pricing, WhatIf};
use crate::eval_set::{Field, FieldMap, Format, LoadOptions, Source};
use crate::prices::{NamedPrice, PriceSheet, parse_price};
use crate::recommend::Objective;

mod policy;

pub use policy::{PolicyConfig, Recalibration, SignalConfig, SignalSource, raw_kind};

/// `calibrate signals`.
#[derive(Debug, Clone)]
pub struct SignalsConfig {
    /// Input, costs and recalibration.
    pub analysis: Analysis,
    /// The signals named with `--signal` (empty: the confidence field and every derivable one).
    pub candidates: Vec<SignalSource>,
    /// `--min-quality`, if given.
    pub target: Option<f64>,
    /// The report directory.
    pub out: PathBuf,
}

/// The finest `--grid` step: a million rows; `--exact` lists every candidate instead.
pub const MIN_STEP: f64 = 1e-6;

/// What the program will do.
#[derive(Debug, Clone)]
pub enum Config {
    /// Sweep and write a report directory.
    Sweep(SweepConfig),
    /// Print the recommended threshold.
    Recommend(RecommendConfig),
    /// Tabulate costs for given escalation rates.
    Economics(EconomicsConfig),
    /// Compare confidence signals.
    Signals(SignalsConfig),
}

/// `calibrate economics`.
#[derive(Debug, Clone)]
pub struct EconomicsConfig {
    /// The scenario.
    pub what_if: WhatIf,
    /// Names of the prices as the user gave them: small, large, baseline.
    pub names: (String, String, Option<String>),
    /// Escalation rates to tabulate (fractions).
    pub rates: Vec<f64>,
    /// Where to write the CSV copy, if anywhere.
    pub csv: Option<PathBuf>,
}

/// How requests are priced (see `economics::resolve` for the precedence).
#[derive(Debug, Clone)]
pub struct CostConfig {
    /// The small model.
    pub small: Pricing,
    /// The large model.
    pub large: Pricing,
    /// The comparison model, if any.
    pub baseline: Option<Baseline>,
    /// Large output tokens = small output tokens × this, when records lack them.
    pub large_output_ratio: f64,
    /// Small answers slower than this many milliseconds escalate.
    pub small_timeout_ms: Option<f64>,
}

/// The comparison model of `--baseline` / `--baseline-cost`.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// A flat cost per request.
    PerRequest(f64),
    /// A per-token price, applied to input_tokens and small_output_tokens.
    Tokens(NamedPrice),
}

/// Settings shared by every command that reads an eval set.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// How to read the input.
    pub load: LoadOptions,
    /// How requests are priced.
    pub costs: CostConfig,
    /// What the recommendation optimises.
    pub objective: Objective,
    /// `--certify`: the error probability δ.
    pub certify: Option<f64>,
    /// Segments and overrides.
    pub policy: PolicyConfig,
    /// The thresholded signal.
    pub signal: SignalConfig,
    /// Hide progress.
    pub quiet: bool,
}

/// Which thresholds `sweep.csv` lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grid {
    /// Every multiple of the step in [0, 1] when confidences lie there, else quantiles.
    Auto,
    /// Every multiple of this step in [0, 1].
    Step(f64),
    /// Every candidate threshold.
    Exact,
}

/// `calibrate sweep`.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// Input and objective.
    pub analysis: Analysis,
    /// The report directory.
    pub out: PathBuf,
    /// Rows of sweep.csv.
    pub grid: Grid,
    /// Interval level, bootstrap resamples (`None`: the default for the data's size) and seed.
    pub intervals: (f64, Option<usize>, u64),
    /// Held-out validation, if asked for.
    pub holdout: Option<Holdout>,
}

/// How to hold records out for validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Holdout {
    /// A seeded random fraction, stratified by task type.
    Fraction {
        /// Share of records held out, in (0, 1).
        fraction: f64,
        /// The split's seed.
        seed: u64,
    },
    /// The records' `split` field (`calibration` or `test`), read from this column.
    Field(String),
}

/// `calibrate recommend`.
#[derive(Debug, Clone)]
pub struct RecommendConfig {
    /// Input and objective.
    pub analysis: Analysis,
    /// Output format.
    pub print: PrintFormat,
}

impl Config {
    /// Validates the flags.
    pub fn from_args(args: cli::Args) -> Result<Config> {
        Ok(match args.command {
            CommandArgs::Sweep(a) => {
                let holdout = match (a.holdout, &a.split_field) {
                    (Some(f), _) => {
                        if !(f > 0.0 && f < 1.0) {
                            bail!("--holdout: expected a fraction in (0, 1), found {f}");
                        }
                        Some(Holdout::Fraction {
                            fraction: f,
                            seed: a.input.seed,
                        })
                    }
                    (None, Some(field)) => Some(Holdout::Field(field.clone())),
                    (None, None) => None,
                };
                let seed = a.input.seed;
                let mut analysis =
                    analysis(a.input, a.objective, a.certify, Some(&a.policy), a.quiet)?;
                if let Some(Holdout::Field(column)) = &holdout {
                    analysis.load.fields.set(Field::Split, column.clone());
                    analysis.load.read_split = true;
                }
                let grid = match (a.exact, a.grid) {
                    (true, _) => Grid::Exact,
                    (false, Some(step)) => {
                        if !(MIN_STEP..=1.0).contains(&step) {
                            bail!("--grid: expected a step in [{MIN_STEP}, 1], found {step}");
                        }
                        Grid::Step(step)
                    }
                    (false, None) => Grid::Auto,
                };
                let out = match a.out {
                    Some(out) => out,
                    None => default_out(&analysis.load.source),
                };
                if !(a.level > 0.0 && a.level < 1.0) {
                    bail!(
                        "--level: expected a probability in (0, 1), found {}",
                        a.level
                    );
                }
                Config::Sweep(SweepConfig {
                    analysis,
                    out,
                    grid,
                    intervals: (a.level, a.bootstrap, seed),
                    holdout,
                })
            }
            CommandArgs::Recommend(a) => Config::Recommend(RecommendConfig {
                analysis: analysis(a.input, a.objective, a.certify, Some(&a.policy), a.quiet)?,
                print: a.print,
            }),
            CommandArgs::Economics(a) => Config::Economics(economics(a)?),
            CommandArgs::Signals(a) => {
                let candidates = a
                    .input
                    .signal
                    .signal
                    .iter()
                    .map(|s| policy::parse_source(s))
                    .collect::<Result<Vec<_>>>()?;
                let target = a
                    .min_quality
                    .map(|q| {
                        if (0.0..=1.0).contains(&q) {
                            Ok(q)
                        } else {
                            Err(anyhow::anyhow!(
                                "--min-quality: expected a number in [0, 1], found {q}"
                            ))
                        }
                    })
                    .transpose()?;
                let mut analysis = analysis(
                    a.input,
                    cli::ObjectiveArgs {
                        min_quality: None,
                        max_escalation: None,
                        budget: None,
                        max_quality_loss: None,
                        min_cascade_quality: None,
                    },
                    cli::CertifyArgs {
                        certify: false,
                        delta: 0.05,
                    },
                    None,
                    a.quiet,
                )?;
                analysis.load.fields.make_confidence_optional();
                analysis.load.extras = policy::compare_extras(&candidates, &analysis.signal);
                if candidates.is_empty() {
                    // Every other numeric column is a candidate signal too.
                    let fields = &analysis.load.fields;
                    let mut except: Vec<String> = Field::ALL
                        .iter()
                        .map(|f| fields.column(*f).to_string())
                        .collect();
                    except.extend(analysis.signal.raw_columns.iter().cloned());
                    analysis.load.discover_except = Some(except);
                }
                let out = match a.out {
                    Some(out) => out,
                    None => {
                        let mut dir = default_out(&analysis.load.source).into_os_string();
                        dir.push("-signals");
                        PathBuf::from(dir)
                    }
                };
                Config::Signals(SignalsConfig {
                    analysis,
                    candidates,
                    target,
                    out,
                })
            }
        })
    }
}

fn non_negative(flag: &str, x: f64) -> Result<f64> {
    if !(x.is_finite() && x >= 0.0) {
        bail!("{flag}: expected a finite non-negative number, found {x}");
    }
    Ok(x)
}

/// The user's price sheet (if any) and the built-in examples, in lookup order.
fn sheets(file: Option<&Path>) -> Result<Vec<PriceSheet>> {
    let mut sheets = Vec::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the price sheet", path.display()))?;
        sheets.push(PriceSheet::parse(&text, &path.display().to_string())?);
    }
    sheets.push(PriceSheet::builtin());
    Ok(sheets)
}

/// `--price MODEL=PRICE` flags by model name (`small`, `large`).
fn prices(
    specs: &[String],
    sheets: &[PriceSheet],
) -> Result<(Option<NamedPrice>, Option<NamedPrice>)> {
    let (mut small, mut large) = (None, None);
    for spec in specs {
        let (model, price) = spec
            .split_once('=')
            .with_context(|| format!("--price {spec:?}: expected MODEL=PRICE, e.g. small=0.25"))?;
        let parsed = parse_price(price, sheets).with_context(|| format!("--price {spec:?}"))?;
        let slot = match model.trim() {
            "small" => &mut small,
            "large" => &mut large,
            other => bail!("--price {spec:?}: unknown model {other:?}; expected small or large"),
        };
        if slot.is_some() {
            bail!("--price {spec:?}: {} is priced twice", model.trim());
        }
        *slot = Some(parsed);
    }
    Ok((small, large))
}

fn costs(a: cli::CostArgs) -> Result<CostConfig> {
    let sheets = sheets(a.prices.prices_file.as_deref())?;
    let (small, large) = prices(&a.prices.price, &sheets)?;
    let baseline = match (a.baseline, a.baseline_cost) {
        (Some(spec), _) => Some(Baseline::Tokens(
            parse_price(&spec, &sheets).with_context(|| format!("--baseline {spec:?}"))?,
        )),
        (None, Some(c)) => Some(Baseline::PerRequest(non_negative("--baseline-cost", c)?)),
        (None, None) => None,
    };
    if let Some(t) = a.small_timeout_ms {
        non_negative("--small-timeout-ms", t)?;
    }
    Ok(CostConfig {
        small: Pricing {
            price: small,
            per_request: non_negative("--small-cost", a.small_cost)?,
        },
        large: Pricing {
            price: large,
            per_request: non_negative("--large-cost", a.large_cost)?,
        },
        baseline,
        large_output_ratio: non_negative("--large-output-ratio", a.large_output_ratio)?,
        small_timeout_ms: a.small_timeout_ms,
    })
}

fn economics(a: cli::EconomicsArgs) -> Result<EconomicsConfig> {
    let sheets = sheets(a.prices.prices_file.as_deref())?;
    let (small, large) = prices(&a.prices.price, &sheets)?;
    let small = small.context("--price small=...: the small model's price is required")?;
    let large = large.context("--price large=...: the large model's price is required")?;
    let baseline = a
        .baseline
        .map(|spec| parse_price(&spec, &sheets).with_context(|| format!("--baseline {spec:?}")))
        .transpose()?;
    for &r in &a.escalation {
        if !(0.0..=1.0).contains(&r) {
            bail!("--escalation: expected rates in [0, 1], found {r}");
        }
    }
    Ok(EconomicsConfig {
        what_if: WhatIf {
            requests: non_negative("--requests", a.requests)?,
            input_tokens: non_negative("--tokens-per-request", a.tokens_per_request)?,
            output_tokens: non_negative(
                "--output-tokens-per-request",
                a.output_tokens_per_request,
            )?,
            small: small.price,
            large: large.price,
            baseline: baseline.as_ref().map(|b| b.price),
        },
        names: (small.name, large.name, baseline.map(|b| b.name)),
        rates: a.escalation,
        csv: a.csv,
    })
}

fn analysis(
    input: cli::InputArgs,
    objective: cli::ObjectiveArgs,
    certify: cli::CertifyArgs,
    policy: Option<&cli::PolicyArgs>,
    quiet: bool,
) -> Result<Analysis> {
    let source = if input.eval == Path::new("-") {
        Source::Stdin
    } else {
        Source::File(input.eval)
    };
    let format = input.format.map(|f| match f {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Csv => Format::Csv,
        FormatArg::Parquet => Format::Parquet,
    });
    let mut fields = FieldMap::default();
    let mut raw = SignalConfig::default();
    for spec in &input.fields {
        let (name, column) = spec
            .split_once('=')
            .with_context(|| format!("--field {spec:?}: expected FIELD=COLUMN"))?;
        if column.is_empty() {
            bail!("--field {spec:?}: the column name is empty");
        }
        if policy::set_raw_column(&mut raw, name.trim(), column) {
            continue;
        }
        let field = Field::parse(name.trim()).with_context(|| {
            format!(
                "--field {spec:?}: unknown field {name:?}; expected one of {}, {}",
                Field::ALL.map(Field::name).join(", "),
                crate::signals::derive::RawField::ALL
                    .map(|f| f.name())
                    .join(", ")
            )
        })?;
        fields.set(field, column.to_string());
    }
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
    let unit = |flag: &str, x: f64| -> Result<f64> {
        if !(0.0..=1.0).contains(&x) {
            bail!("{flag}: expected a number in [0, 1], found {x}");
        }
        Ok(x)
    };
    let o = objective;
    let objective = if let Some(q) = o.min_quality {
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
    };
    let certify = if certify.certify {
        if !matches!(
            objective,
            Objective::MinQuality { .. } | Objective::MaxQualityLoss { .. }
        ) {
            bail!("--certify needs --min-quality Q or --max-quality-loss L");
        }
        if !(certify.delta > 0.0 && certify.delta < 1.0) {
            bail!(
                "--delta: expected a probability in (0, 1), found {}",
                certify.delta
            );
        }
        Some(certify.delta)
    } else {
        None
    };
    let signal = policy::signal(&input.signal, input.seed, raw, policy.is_none())?;
    if signal.source != SignalSource::Confidence {
        fields.make_confidence_optional();
    }
    let policy = match policy {
        Some(p) => policy::policy(p)?,
        None => PolicyConfig::default(),
    };
    let extras = policy::extras(&policy, &signal);
    let costs = costs(input.costs)?;
    let read_tokens = costs.small.price.is_some()
        || costs.large.price.is_some()
        || matches!(costs.baseline, Some(Baseline::Tokens(_)));
    Ok(Analysis {
        load: LoadOptions {
            source,
            format,
            fields,
            skip_invalid: input.skip_invalid,
            read_tokens,
            read_split: false,
            extras,
            discover_except: None,
        },
        costs,
        objective,
        certify,
        policy,
        signal,
        quiet,
    })
}

/// `reports/<input file stem>`, or `reports/stdin`.
fn default_out(source: &Source) -> PathBuf {
    let stem = match source {
        Source::File(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "eval".into()),
        Source::Stdin => "stdin".into(),
    };
    Path::new("reports").join(stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Config> {
        let mut full = vec!["calibrate"];
        full.extend_from_slice(args);
        Config::from_args(cli::Args::try_parse_from(full)?)
    }

    #[test]
    fn defaults() {
        let Config::Sweep(c) = parse(&["sweep", "data/x.jsonl"]).unwrap() else {
            panic!("expected sweep")
        };
        assert_eq!(c.out, PathBuf::from("reports/x"));
        assert_eq!(c.grid, Grid::Auto);
        assert_eq!(c.analysis.objective, Objective::QualityTimesSavings);
        assert_eq!(c.analysis.costs.small.per_request, 1.0);
        assert_eq!(c.analysis.costs.large.per_request, 60.0);
        assert_eq!(c.analysis.costs.baseline, None);
    }

    #[test]
    fn field_mapping_and_errors() {
        let Config::Recommend(c) = parse(&[
            "recommend",
            "e.csv",
            "--field",
            "small_quality=small_correct",
            "--min-quality",
            "0.95",
        ])
        .unwrap() else {
            panic!("expected recommend")
        };
        assert_eq!(
            c.analysis.load.fields.column(Field::SmallQuality),
            "small_correct"
        );
        assert_eq!(c.analysis.objective, Objective::MinQuality { target: 0.95 });
        let err = parse(&["recommend", "e.csv", "--field", "qual=x"]).unwrap_err();
        assert!(err.to_string().contains("unknown field \"qual\""), "{err}");
        let err = parse(&["recommend", "e.csv", "--field", "id=confidence"]).unwrap_err();
        assert!(
            err.to_string().contains("both read column \"confidence\""),
            "{err}"
        );
        let err = parse(&["recommend", "e.csv", "--min-quality", "1.5"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a number in [0, 1], found 1.5")
        );
        assert!(
            parse(&[
                "recommend",
                "e.csv",
                "--min-quality",
                "0.9",
                "--budget",
                "3"
            ])
            .is_err()
        );
    }
}
