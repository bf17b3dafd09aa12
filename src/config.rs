//! Flags to a typed, validated configuration, in one place.
//!
//! Owns every check on what the user asked for (ranges, field names, output paths) and the
//! defaults that depend on the input. It must not read the eval set or compute anything.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::{self, CommandArgs, FormatArg, PrintFormat};
use crate::eval_set::{Field, FieldMap, Format, LoadOptions, Source};
use crate::recommend::Objective;

/// What the program will do.
#[derive(Debug, Clone)]
pub enum Config {
    /// Sweep and write a report directory.
    Sweep(SweepConfig),
    /// Print the recommended threshold.
    Recommend(RecommendConfig),
}

/// Settings shared by every command that reads an eval set.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// How to read the input.
    pub load: LoadOptions,
    /// Small-model cost per request when records carry none (currency units).
    pub small_cost: f64,
    /// Large-model cost per request when records carry none (currency units).
    pub large_cost: f64,
    /// What the recommendation optimises.
    pub objective: Objective,
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
                let analysis = analysis(a.input, a.objective, a.quiet)?;
                let grid = match (a.exact, a.grid) {
                    (true, _) => Grid::Exact,
                    (false, Some(step)) => {
                        if !(step > 0.0 && step <= 1.0) {
                            bail!("--grid: expected a step in (0, 1], found {step}");
                        }
                        Grid::Step(step)
                    }
                    (false, None) => Grid::Auto,
                };
                let out = match a.out {
                    Some(out) => out,
                    None => default_out(&analysis.load.source),
                };
                Config::Sweep(SweepConfig {
                    analysis,
                    out,
                    grid,
                })
            }
            CommandArgs::Recommend(a) => Config::Recommend(RecommendConfig {
                analysis: analysis(a.input, a.objective, a.quiet)?,
                print: a.print,
            }),
        })
    }
}

fn analysis(input: cli::InputArgs, objective: cli::ObjectiveArgs, quiet: bool) -> Result<Analysis> {
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
    for spec in &input.fields {
        let (name, column) = spec
            .split_once('=')
            .with_context(|| format!("--field {spec:?}: expected FIELD=COLUMN"))?;
        let field = Field::parse(name.trim()).with_context(|| {
            format!(
                "--field {spec:?}: unknown field {name:?}; expected one of {}",
                Field::ALL.map(Field::name).join(", ")
            )
        })?;
        if column.is_empty() {
            bail!("--field {spec:?}: the column name is empty");
        }
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
    let cost = |flag: &str, x: f64| -> Result<f64> {
        if !(x.is_finite() && x >= 0.0) {
            bail!("{flag}: expected a finite non-negative cost, found {x}");
        }
        Ok(x)
    };
    let unit = |flag: &str, x: f64| -> Result<f64> {
        if !(0.0..=1.0).contains(&x) {
            bail!("{flag}: expected a number in [0, 1], found {x}");
        }
        Ok(x)
    };
    let objective = match (
        objective.min_quality,
        objective.max_escalation,
        objective.budget,
    ) {
        (Some(q), _, _) => Objective::MinQuality {
            target: unit("--min-quality", q)?,
        },
        (_, Some(r), _) => Objective::MaxEscalation {
            max_rate: unit("--max-escalation", r)?,
        },
        (_, _, Some(b)) => Objective::Budget {
            max_cost: cost("--budget", b)?,
        },
        _ => Objective::QualityTimesSavings,
    };
    Ok(Analysis {
        load: LoadOptions {
            source,
            format,
            fields,
            skip_invalid: input.skip_invalid,
        },
        small_cost: cost("--small-cost", input.small_cost)?,
        large_cost: cost("--large-cost", input.large_cost)?,
        objective,
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
        assert_eq!((c.analysis.small_cost, c.analysis.large_cost), (1.0, 60.0));
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
