use super::*;
use crate::engine::objective::Objective;
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
    assert_eq!(c.sweep.grid, Grid::Auto);
    assert_eq!(c.run.objective, Objective::QualityTimesSavings);
    assert_eq!(c.run.costs.small.per_request, 1.0);
    assert_eq!(c.run.costs.large.per_request, 60.0);
    assert_eq!(c.run.costs.baseline, None);
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
        c.run.load.fields.column(Field::SmallQuality),
        "small_correct"
    );
    assert_eq!(c.run.objective, Objective::MinQuality { target: 0.95 });
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

#[test]
fn bootstrap_resamples_are_bounded() {
    // Issue 13, item 11: a million resamples took 13.6 GB; the bound is refused up front.
    for cmd in ["sweep", "recommend"] {
        let mut args = vec![cmd, "e.jsonl", "--bootstrap", "100001"];
        if cmd == "recommend" {
            args.extend(["--print", "json"]);
        }
        let err = parse(&args).err().unwrap().to_string();
        assert_eq!(
            err, "--bootstrap: expected at most 100000 resamples, found 100001",
            "{cmd}"
        );
        args[3] = "100000";
        assert!(parse(&args).is_ok(), "{cmd}");
    }
}
