//! Tiny eval sets written out by hand, and the reports the pure core computes from them.
//!
//! Built in memory (no file is read) with the settings `config` would make from the flags
//! noted beside each fixture, so the renderers are tested without the command line.

use std::path::PathBuf;

use crate::engine::economics::{Baseline, CostSettings, Pricing};
use crate::engine::objective::Objective;
use crate::input::{
    Drops, EvalSet, ExtraColumn, ExtraKind, ExtraRequest, FieldMap, Format, Labels, LoadOptions,
    Loaded, Source,
};
use crate::policy::settings::{AlwaysLarge, PolicySettings};
use crate::report::{
    Decision, Grid, Report, RunSettings, SignalsReport, SweepSettings, decision, signals_report,
    sweep_report,
};
use crate::signals::recalibrate::Method;
use crate::signals::settings::{Recalibration, SignalSettings};
use crate::trust::holdout::Holdout;
use crate::trust::intervals::Request;

/// Ten records: confidence falls row by row; the small model is wrong on four of them, the
/// large model on two.
const CONFIDENCE: [f64; 10] = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
const SMALL: [f64; 10] = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0];
const LARGE: [f64; 10] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
const TASKS: [&str; 10] = [
    "chat", "chat", "code", "chat", "code", "code", "chat", "code", "chat", "code",
];
const SMALL_MS: [f64; 10] = [
    110.0, 120.0, 130.0, 140.0, 150.0, 160.0, 170.0, 180.0, 190.0, 200.0,
];
const LARGE_MS: [f64; 10] = [
    900.0, 950.0, 1000.0, 1050.0, 1100.0, 1150.0, 1200.0, 1250.0, 1300.0, 1350.0,
];

/// Twenty records for segments, safeguards, recalibration and a hold-out.
const P_CONFIDENCE: [f64; 20] = [
    0.97, 0.94, 0.91, 0.88, 0.85, 0.82, 0.79, 0.76, 0.73, 0.70, 0.67, 0.64, 0.61, 0.58, 0.55, 0.52,
    0.49, 0.46, 0.43, 0.40,
];
const P_SMALL: [f64; 20] = [
    1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0,
    0.0,
];
const P_LARGE: [f64; 20] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0,
    1.0,
];
const P_TASKS: [&str; 20] = [
    "chat", "math", "chat", "code", "chat", "math", "code", "chat", "math", "chat", "code", "math",
    "chat", "legal", "code", "chat", "math", "code", "legal", "chat",
];
const P_TIERS: [&str; 20] = [
    "free",
    "pro",
    "free",
    "enterprise",
    "free",
    "pro",
    "free",
    "pro",
    "free",
    "free",
    "pro",
    "free",
    "pro",
    "free",
    "free",
    "enterprise",
    "free",
    "pro",
    "free",
    "free",
];
const P_SMALL_MS: [f64; 20] = [
    120.0, 130.0, 140.0, 150.0, 160.0, 170.0, 180.0, 190.0, 900.0, 200.0, 210.0, 220.0, 230.0,
    240.0, 250.0, 260.0, 270.0, 280.0, 290.0, 300.0,
];

/// Task types as the loader codes them: names sorted, each record a code into them.
fn labels(values: &[&str]) -> Labels {
    let mut names: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    names.sort();
    names.dedup();
    let codes = values
        .iter()
        .map(|v| names.iter().position(|n| n == v).unwrap() as u32)
        .collect();
    Labels { codes, names }
}

/// An extra column as the loader returns it.
fn extra(
    column: &str,
    kind: ExtraKind,
    values: ExtraColumn,
) -> (ExtraRequest, Option<ExtraColumn>) {
    let request = ExtraRequest {
        column: column.into(),
        kind,
        required: true,
        purpose: format!("the column {column:?}"),
        probe: false,
    };
    (request, Some(values))
}

fn loaded(set: EvalSet, dropped: u64, extras: Vec<(ExtraRequest, Option<ExtraColumn>)>) -> Loaded {
    let records = set.small_quality.len() as u64;
    Loaded {
        set,
        drops: Drops {
            read: records + dropped,
            dropped,
            reasons: match dropped {
                0 => Vec::new(),
                n => vec![("field \"confidence\": expected a finite number".into(), n)],
            },
        },
        sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        bytes: 1234,
        columns: Vec::new(),
        format: Format::Jsonl,
        extras,
        notes: Vec::new(),
    }
}

/// `--small-cost 1 --large-cost 20 --baseline-cost 8` and the objective.
fn run(objective: Objective) -> RunSettings {
    RunSettings {
        load: LoadOptions {
            source: Source::File(PathBuf::from("evals/tiny.jsonl")),
            format: None,
            fields: FieldMap::default(),
            skip_invalid: true,
            read_tokens: false,
            read_split: false,
            extras: Vec::new(),
            discover_except: None,
            first_line: 1,
            hash: true,
        },
        costs: CostSettings {
            small: Pricing {
                default: false,
                price: None,
                per_request: 1.0,
            },
            large: Pricing {
                default: false,
                price: None,
                per_request: 20.0,
            },
            baseline: Some(Baseline::PerRequest(8.0)),
            large_output_ratio: 1.0,
            small_timeout_ms: None,
        },
        objective,
        certify: None,
        split_ties: None,
        policy: PolicySettings::default(),
        signal: SignalSettings::default(),
        filters: Vec::new(),
        holdout: None,
        quiet: true,
        chains: Default::default(),
    }
}

/// `--grid STEP --bootstrap 50 --seed 42`.
fn how(grid: f64) -> SweepSettings {
    SweepSettings {
        grid: Grid::Step(grid),
        intervals: Request {
            level: 0.95,
            resamples: Some(50),
            seed: 42,
        },
    }
}

fn tiny_set() -> EvalSet {
    EvalSet {
        confidence: CONFIDENCE.to_vec(),
        small_quality: SMALL.to_vec(),
        large_quality: Some(LARGE.to_vec()),
        small_latency_ms: Some(SMALL_MS.to_vec()),
        large_latency_ms: Some(LARGE_MS.to_vec()),
        task_type: Some(labels(&TASKS)),
        ..EvalSet::default()
    }
}

const TINY_OBJECTIVE: Objective = Objective::MinQuality { target: 0.8 };

/// `calibrate sweep evals/tiny.jsonl --min-quality 0.8 --grid 0.1`.
pub fn tiny_report() -> Report {
    sweep_report(
        loaded(tiny_set(), 0, Vec::new()),
        &run(TINY_OBJECTIVE),
        &how(0.1),
    )
    .unwrap()
}

/// `calibrate recommend evals/tiny.jsonl --min-quality 0.8`.
pub fn tiny_decision() -> (Decision, Objective) {
    let d = decision(
        loaded(tiny_set(), 0, Vec::new()),
        &run(TINY_OBJECTIVE),
        None,
    )
    .unwrap();
    (d, TINY_OBJECTIVE)
}

/// `calibrate sweep evals/tiny.jsonl --min-quality 0.5 --certify --delta 0.5 --grid 0.1`.
pub fn certified() -> Report {
    let mut run = run(Objective::MinQuality { target: 0.5 });
    run.certify = Some(0.5);
    sweep_report(loaded(tiny_set(), 0, Vec::new()), &run, &how(0.1)).unwrap()
}

/// No threshold reaches cascade quality 0.95 (the best is 0.8, at 0.6 or 0.85), and one record
/// was dropped (`--skip-invalid`).
const INFEASIBLE_OBJECTIVE: Objective = Objective::MinCascadeQuality { target: 0.95 };

/// `calibrate sweep evals/tiny.jsonl --min-cascade-quality 0.95 --skip-invalid --grid 0.1`.
pub fn infeasible() -> Report {
    let run = run(INFEASIBLE_OBJECTIVE);
    sweep_report(loaded(tiny_set(), 1, Vec::new()), &run, &how(0.1)).unwrap()
}

/// `calibrate recommend evals/tiny.jsonl --min-cascade-quality 0.95`.
pub fn infeasible_decision() -> (Decision, Objective) {
    let d = decision(
        loaded(tiny_set(), 1, Vec::new()),
        &run(INFEASIBLE_OBJECTIVE),
        None,
    )
    .unwrap();
    (d, INFEASIBLE_OBJECTIVE)
}

const POLICY_OBJECTIVE: Objective = Objective::MinQuality { target: 0.85 };

/// The twenty records with `task_type` and `user_tier` columns and response texts (one a
/// refusal).
fn policy_loaded() -> Loaded {
    let set = EvalSet {
        confidence: P_CONFIDENCE.to_vec(),
        small_quality: P_SMALL.to_vec(),
        large_quality: Some(P_LARGE.to_vec()),
        small_latency_ms: Some(P_SMALL_MS.to_vec()),
        large_latency_ms: Some(vec![1000.0; 20]),
        task_type: Some(labels(&P_TASKS)),
        ..EvalSet::default()
    };
    let mut responses = vec!["The answer is A.".to_string(); 20];
    responses[11] = "I cannot tell from the question.".into();
    let extras = vec![
        extra(
            "task_type",
            ExtraKind::Label,
            ExtraColumn::Labels(labels(&P_TASKS)),
        ),
        extra(
            "user_tier",
            ExtraKind::Label,
            ExtraColumn::Labels(labels(&P_TIERS)),
        ),
        extra("response", ExtraKind::Text, ExtraColumn::Texts(responses)),
    ];
    loaded(set, 0, extras)
}

/// `--min-quality 0.85 --segment-by task_type --min-segment-records 3 --always-large
/// user_tier=enterprise --escalate-refusals --small-timeout-ms 500 --recalibrate isotonic
/// --folds 2`.
fn policy_run() -> RunSettings {
    let mut run = run(POLICY_OBJECTIVE);
    run.costs.small_timeout_ms = Some(500.0);
    run.policy = PolicySettings {
        segment_by: vec!["task_type".into()],
        min_segment_records: 3,
        always_large: vec![AlwaysLarge {
            column: "user_tier".into(),
            value: "enterprise".into(),
        }],
        escalate_refusals: true,
        // The fixture keeps the in-sample joint optimum it was written for.
        departures: crate::policy::segments::Departures::Free,
        segment_floor: None,
        cross_fit_folds: 0,
        cross_fit_seed: 0,
        skip_reference: false,
    };
    run.signal.recalibrate = Some(Recalibration {
        method: Method::Isotonic,
        folds: 2,
        seed: 42,
    });
    run
}

/// `calibrate sweep` with the policy flags, `--grid 0.25 --holdout 0.25`.
pub fn policy_report() -> Report {
    let holdout = Holdout::Fraction {
        fraction: 0.25,
        seed: 7,
    };
    let run = RunSettings {
        holdout: Some(holdout),
        ..policy_run()
    };
    sweep_report(policy_loaded(), &run, &how(0.25)).unwrap()
}

/// `calibrate recommend` with the policy flags.
pub fn policy_decision() -> (Decision, Objective) {
    (
        decision(policy_loaded(), &policy_run(), None).unwrap(),
        POLICY_OBJECTIVE,
    )
}

/// `calibrate signals evals/tiny.jsonl --min-quality 0.8 --recalibrate isotonic --folds 2`
/// over the confidence, the log-probabilities, the response texts and a verifier's score
/// (one more column, `notes`, is not numeric in every record).
pub fn signals() -> SignalsReport {
    let logprobs: Vec<Vec<f64>> = CONFIDENCE
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = f64::ln(*c);
            (0..3 + i % 4).map(|k| p / (1.0 + k as f64)).collect()
        })
        .collect();
    let mut responses = vec!["The answer is A, as the question states.".to_string(); 10];
    responses[3] = "I don't know.".into();
    responses[6] = "Maybe B.".into();
    let verifier = vec![0.9, 0.8, 0.95, 0.3, 0.7, 0.75, 0.2, 0.6, 0.4, 0.1];
    let mut probe = extra(
        "verifier",
        ExtraKind::Number,
        ExtraColumn::Numbers(verifier),
    );
    probe.0.probe = true;
    let mut notes = extra("notes", ExtraKind::Number, ExtraColumn::Numbers(Vec::new()));
    notes.0.probe = true;
    notes.1 = None;
    let extras = vec![
        extra(
            "logprobs",
            ExtraKind::Logprobs,
            ExtraColumn::Logprobs(logprobs),
        ),
        extra("response", ExtraKind::Text, ExtraColumn::Texts(responses)),
        probe,
        notes,
    ];
    let mut run = run(TINY_OBJECTIVE);
    run.signal.recalibrate = Some(Recalibration {
        method: Method::Isotonic,
        folds: 2,
        seed: 42,
    });
    signals_report(loaded(tiny_set(), 0, extras), &run, &[], Some(0.8)).unwrap()
}

/// The three models over four prompts of `tests/data/multi.jsonl` (worked in the README there):
/// `calibrate sweep multi.jsonl` with `objective` and 50 bootstrap resamples.
pub fn chain_report(objective: Objective) -> crate::report::chains::ChainReport {
    use crate::input::multi::{LoadedMulti, ModelColumns, MultiForm, MultiSet};
    let model = |name: &str, conf: [f64; 4], q: [f64; 4], cost: f64, ms: f64| ModelColumns {
        name: name.into(),
        confidence: conf.to_vec(),
        quality: q.to_vec(),
        cost: Some(vec![cost; 4]),
        input_tokens: None,
        output_tokens: None,
        latency_ms: Some(vec![ms; 4]),
    };
    let loaded = LoadedMulti {
        set: MultiSet {
            ids: ["p1", "p2", "p3", "p4"].map(String::from).to_vec(),
            models: vec![
                model("a", [0.9, 0.8, 0.3, 0.3], [1.0, 0.0, 0.0, 1.0], 1.0, 100.0),
                model("b", [0.9, 0.9, 0.6, 0.2], [1.0, 1.0, 0.0, 0.0], 5.0, 300.0),
                model("c", [0.9, 0.5, 0.5, 0.5], [1.0; 4], 20.0, 1000.0),
            ],
            split: None,
            task_type: None,
        },
        form: MultiForm::Long,
        drops: Drops {
            read: 12,
            dropped: 0,
            reasons: Vec::new(),
        },
        sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        bytes: 1234,
        format: Format::Jsonl,
    };
    let intervals = crate::trust::intervals::Settings {
        level: 0.9,
        resamples: 50,
        seed: 42,
    };
    // A chain run takes no pair prices: the costs are the built-in defaults, as without flags.
    let mut run = run(objective);
    run.costs.small.default = true;
    run.costs.large.default = true;
    run.costs.baseline = None;
    crate::report::chains::chain_report(
        crate::report::chains::ChainSource::Records(loaded),
        &run,
        Some(intervals),
    )
    .unwrap()
}
