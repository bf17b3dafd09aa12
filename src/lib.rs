//! calibrate: choose the escalation threshold of an LLM cascade from an eval set.
//!
//! The folder list is the architecture; imports flow one way, top to bottom:
//! `input` (read and validate) → `engine` (sweep, costs, objectives) → `trust` (statistics) →
//! `signals` → `policy` (segments, safeguards, the deployable document) → `report` (the one
//! [`Report`](report::Report) value) → `output` (one renderer per format, the writer). `cli`
//! (flags) and `config` (flags to typed settings) sit at the edge; `run` below reads like the
//! README.

/// `eprintln!` that neither panics nor fails on a closed or full stderr.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::stderr::line(format_args!($($arg)*))
    };
}

pub mod cli;
mod commands;

mod config;
mod engine;
mod input;
mod monitor;
mod output;
mod policy;
mod report;
mod signals;
mod trust;

use std::io::Write;

use anyhow::{Result, bail};

use crate::config::{
    Config, EconomicsConfig, MonitorConfig, RecommendConfig, SignalsConfig, SweepConfig,
};
use crate::engine::cells::CellTable;
use crate::input::Loaded;
use crate::report::{Grid, RunSettings};

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

impl ExitStatus {
    /// 1 from `monitor`: ran fine, and a check alerted (or warned, with `--fail-on warn`).
    pub const ALERT: ExitStatus = ExitStatus::NoThreshold;

    fn of(found: bool) -> ExitStatus {
        if found {
            ExitStatus::Success
        } else {
            ExitStatus::NoThreshold
        }
    }
}

/// Runs one command.
pub fn run(args: cli::Args) -> Result<ExitStatus> {
    match Config::from_args(args)? {
        Config::Sweep(config) => sweep(&config),
        Config::Recommend(config) => recommend(&config),
        Config::Economics(config) => economics(&config),
        Config::Signals(config) => compare_signals(&config),
        Config::Monitor(config) => monitor(&config),
        Config::Aggregate(config) => commands::aggregate::aggregate(&config),
        Config::Sql(spec) => {
            note_sql_costs(&spec);
            print_bytes(output::sql::aggregate_sql(&spec).as_bytes())
        }
        Config::LogSql(spec) => print_bytes(output::sql::logs::log_aggregate_sql(&spec).as_bytes()),
        Config::ChainSql(spec) => {
            if spec
                .models
                .iter()
                .any(|(_, c)| *c != output::sql::chains::ChainSqlCost::Column)
            {
                say!(
                    "calibrate: note: the query prices every row from its tokens; `calibrate \
                     aggregate` and `sweep` price a record from its own {:?} column when the \
                     data has one (drop --prices to read it)",
                    spec.cost
                );
            }
            print_bytes(output::sql::chains::chain_aggregate_sql(&spec).as_bytes())
        }
        Config::Completions(shell) => print_bytes(&completions(shell)),
        Config::Man(page) => print_bytes(&man_page(page)?),
    }
}

/// The completion script for `shell`, generated from the flag definitions.
fn completions(shell: cli::Shell) -> Vec<u8> {
    use clap_complete::Shell as S;
    let shell = match shell {
        cli::Shell::Bash => S::Bash,
        cli::Shell::Zsh => S::Zsh,
        cli::Shell::Fish => S::Fish,
        cli::Shell::Powershell => S::PowerShell,
        cli::Shell::Elvish => S::Elvish,
    };
    let mut out = Vec::new();
    let mut command = <cli::Args as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "calibrate", &mut out);
    out
}

/// A manual page (roff), generated from the flag definitions and help text: the overview, or a
/// command's page (`calibrate-sweep(1)`, ...) with all its flags.
fn man_page(page: Option<cli::ManPage>) -> Result<Vec<u8>> {
    let top = <cli::Args as clap::CommandFactory>::command();
    let command = match page {
        None => top,
        Some(page) => {
            let (name, title) = match page {
                cli::ManPage::Sweep => ("sweep", "calibrate-sweep"),
                cli::ManPage::Recommend => ("recommend", "calibrate-recommend"),
                cli::ManPage::Signals => ("signals", "calibrate-signals"),
                cli::ManPage::Economics => ("economics", "calibrate-economics"),
                cli::ManPage::Monitor => ("monitor", "calibrate-monitor"),
            };
            let sub = top.find_subcommand(name).expect("every page is a command");
            sub.clone().name(title).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(command).render(&mut out)?;
    Ok(out)
}

/// Says on stderr that a query priced by cost flags ignores the table's own cost columns, which
/// the local path reads first.
fn note_sql_costs(spec: &output::sql::SqlSpec) {
    let priced = [
        (&spec.small_cost, &spec.small_cost_column),
        (&spec.large_cost, &spec.large_cost_column),
    ];
    for (cost, column) in priced {
        if *cost != output::sql::SqlCost::Column {
            say!(
                "calibrate: note: the query prices every row from the cost flags; `calibrate \
                 aggregate` and `sweep` price a record from its own {column:?} column when the \
                 data has one (drop the flag to read it)"
            );
        }
    }
}

/// Writes generated text to stdout (a closed pipe is not an error).
fn print_bytes(bytes: &[u8]) -> Result<ExitStatus> {
    print(&String::from_utf8_lossy(bytes))?;
    Ok(ExitStatus::Success)
}

/// Load, sweep, recommend, assemble the report, render every file, write the directory whole.
fn sweep(config: &SweepConfig) -> Result<ExitStatus> {
    // A bad output path fails before the long work.
    let out = output::OutputDir::prepare(&config.out)?;
    let mut inputs: Vec<&std::path::Path> =
        config.run.chains.join.iter().map(|p| p.as_path()).collect();
    inputs.extend(config.run.load.source.path());
    out.keeps(&inputs)?;
    if let Some(source) = load_chains(&config.run)? {
        let settings = config.sweep.intervals.settings(source.prompts());
        let report = report::chains::chain_report(source, &config.run, Some(settings))?;
        out.commit(&output::chain_files(&report)?)?;
        say!("wrote {}", config.out.display());
        print(&output::chain_summary_text(&report))?;
        return Ok(ExitStatus::of(report.meets_objective()));
    }
    if let Some((table, sha256)) = aggregate_table(&config.run)? {
        let intervals = Some(config.sweep.intervals.settings(table.records() as usize));
        let how = (config.sweep.grid, intervals);
        let report = report::aggregate::aggregate_report(&table, &config.run, how, &sha256)
            .map_err(anyhow::Error::msg)?;
        for line in &report.unmatched_safeguards {
            say!("warning: {line}");
        }
        out.commit(&output::aggregate_files(&report, &config.run)?)?;
        say!("wrote {}", config.out.display());
        print(&output::aggregate_summary_text(&report))?;
        return Ok(ExitStatus::of(report.meets_objective()));
    }
    let loaded = load(&config.run)?;
    let report = report::sweep_report(loaded, &config.run, &config.sweep)?;
    note_filtered(report.input.filtered.as_ref());
    warn_unmatched(&report.unmatched_safeguards);
    warn_segments(report.deployment.plan.iter().flat_map(|p| &p.warnings));
    output::stderr::text(&output::warnings_text(&report.findings.warnings));
    out.commit(&output::render_all(&report)?)?;
    say!("wrote {}", config.out.display());
    print(&output::summary_text(&report))?;
    Ok(ExitStatus::of(report.meets_objective()))
}

/// The aggregate a run's input names, as a table with its file's sha256, refusing settings it
/// cannot serve; `None` for an eval set.
fn aggregate_table(run: &RunSettings) -> Result<Option<(CellTable, String)>> {
    let Some(agg) = input::aggregate::aggregate_input(&run.load)? else {
        return Ok(None);
    };
    if let Some(why) = report::aggregate::unsupported(run) {
        bail!("{}: {why}", run.load.source.label());
    }
    if let Some(why) = run.objective.needs_large_labels()
        && !agg.large
    {
        bail!("{why}, which needs large-model quality labels; the aggregate has none");
    }
    Ok(Some((engine::cells::table_of(&agg), agg.sha256.clone())))
}

/// Load, sweep, recommend, print the policy in the asked format.
fn recommend(config: &RecommendConfig) -> Result<ExitStatus> {
    if let Some(source) = load_chains(&config.run)? {
        let report = report::chains::chain_report(source, &config.run, config.intervals)?;
        let asked = config.intervals.is_some_and(|s| s.resamples > 0);
        if let Some(note) = report.note.as_ref().filter(|_| asked) {
            say!("calibrate: {note}");
        }
        if let Some(h) = &report.holdout {
            say!(
                "calibrate: held out {} of {} prompts: cost {}, quality {:.4} ({} the objective)",
                h.test,
                h.test + h.calibration,
                h.held_out.cost,
                h.held_out.quality,
                if h.met { "meets" } else { "misses" }
            );
        }
        match output::chain_decision_text(&report, config.print)? {
            Ok(text) => print(&text)?,
            Err(why) => say!("calibrate: {why}"),
        }
        return Ok(ExitStatus::of(report.meets_objective()));
    }
    if let Some((table, sha256)) = aggregate_table(&config.run)? {
        let how = (Grid::Exact, config.intervals);
        let report = report::aggregate::aggregate_report(&table, &config.run, how, &sha256)
            .map_err(anyhow::Error::msg)?;
        for line in &report.unmatched_safeguards {
            say!("warning: {line}");
        }
        let met = report.meets_objective();
        let decision = report.decision();
        warn_segments(&decision.segment_warnings);
        match output::decision_text(&decision, config.run.objective, config.print)? {
            Ok(text) => print(&text)?,
            Err(why) => say!("calibrate: {why}"),
        }
        return Ok(ExitStatus::of(met));
    }
    let loaded = load(&config.run)?;
    let decision = report::decision(loaded, &config.run, config.intervals)?;
    note_filtered(decision.filtered.as_ref());
    warn_unmatched(&decision.unmatched_safeguards);
    warn_segments(&decision.segment_warnings);
    if let Some(h) = &decision.holdout {
        say!("calibrate: {}", output::held_out_line(h));
    }
    if let Some(s) = &decision.split_ties {
        say!("calibrate: {}", output::split_line(s));
    }
    for line in decision.cross_fit.iter().flat_map(output::cross_fit_lines) {
        say!("calibrate: {line}");
    }
    output::stderr::text(&output::warnings_text(&decision.warnings));
    match output::decision_text(&decision, config.run.objective, config.print)? {
        Ok(text) => print(&text)?,
        Err(why) => say!("calibrate: {why}"),
    }
    Ok(ExitStatus::of(decision.policy.is_some()))
}

/// Tabulate the what-if costs; print them, and write the CSV copy when asked.
fn economics(config: &EconomicsConfig) -> Result<ExitStatus> {
    let rows = config.what_if.rows(&config.rates);
    let summary = config.what_if.summary();
    if let Some(path) = &config.csv {
        output::write_file_atomically(path, &output::what_if_csv(&rows)?)?;
        say!("wrote {}", path.display());
    }
    print(&output::what_if_text(
        &config.what_if,
        &config.names,
        &rows,
        &summary,
    ))?;
    Ok(ExitStatus::Success)
}

/// Load, measure every candidate signal, write the comparison, print the ranking.
fn compare_signals(config: &SignalsConfig) -> Result<ExitStatus> {
    let out = output::OutputDir::prepare(&config.out)?;
    out.keeps(
        &config
            .run
            .load
            .source
            .path()
            .into_iter()
            .collect::<Vec<_>>(),
    )?;
    if input::aggregate::aggregate_input(&config.run.load)?.is_some()
        || input::aggregate::chain_aggregate_input(&config.run.load)?.is_some()
    {
        bail!(
            "{}: an aggregate holds counts per confidence, not each record's signals; compare \
             signals on the eval set itself",
            config.run.load.source.label()
        );
    }
    let loaded = load(&config.run)?;
    // `sweep` and `recommend` list this among their warnings.
    if loaded.drops.dropped > 0 {
        say!(
            "warning: dropped {} invalid records of {} (--skip-invalid); reasons are in summary.json",
            loaded.drops.dropped,
            loaded.drops.read
        );
    }
    let report = report::signals_report(loaded, &config.run, &config.candidates, config.target)?;
    note_filtered(report.filtered.as_ref());
    output::stderr::text(&output::signals_warnings(&report));
    out.commit(&output::signals_files(&report)?)?;
    say!("wrote {}", config.out.display());
    print(&output::signals_text(&report))?;
    Ok(ExitStatus::Success)
}

/// Reads a multi-model eval set behind a progress bar, or a chain aggregate, when the input is
/// one (`None`: a two-model eval set or aggregate, read by [`load`] or [`aggregate_table`]).
pub(crate) fn load_chains(run: &RunSettings) -> Result<Option<report::chains::ChainSource>> {
    if let Some(agg) = input::aggregate::chain_aggregate_input(&run.load)? {
        if !run.chains.join.is_empty() {
            bail!(
                "{}: --join: a chain aggregate already holds every model; merge aggregates \
                 with `calibrate aggregate`",
                run.load.source.label()
            );
        }
        return Ok(Some(report::chains::ChainSource::Aggregate {
            input: report::chains::aggregate_input_info(&agg, &run.load.source.label()),
            table: engine::chains::table_of(&agg),
        }));
    }
    let detected = if run.chains.join.is_empty() {
        input::multi::detect(&run.load, &run.chains.fields)
    } else {
        Some(input::multi::MultiForm::Long)
    };
    let Some(form) = detected else {
        if run.chains.models.is_some() && input::aggregate::aggregate_input(&run.load)?.is_some() {
            bail!(
                "{}: --models: a two-model aggregate holds the small model's confidence per \
                 row, not each prompt's confidence, quality and cost for every model, which \
                 choosing a chain needs; aggregate the multi-model eval set (`calibrate \
                 aggregate`) or run --models on it (or drop --models to sweep the aggregate's \
                 two-model cascade)",
                run.load.source.label()
            );
        }
        if run.chains.models.is_some() {
            bail!(
                "--models needs a multi-model input: records with a {:?} field (one per prompt \
                 and model) or a {:?} object (one per prompt), read from a file, or their \
                 aggregate",
                run.chains.fields.model,
                run.chains.fields.models
            );
        }
        return Ok(None);
    };
    let bar = output::progress::Bar::new(run.quiet);
    let joined = &run.chains.join;
    let loaded = input::multi::load_multi(&run.load, &run.chains.fields, form, joined, &bar);
    bar.finish();
    let loaded = loaded?;
    if loaded.drops.dropped > 0 {
        let reasons: Vec<String> = (loaded.drops.reasons.iter())
            .map(|(r, n)| format!("{r} ({n})"))
            .collect();
        say!(
            "warning: dropped {} invalid records of {} (--skip-invalid): {}",
            loaded.drops.dropped,
            loaded.drops.read,
            reasons.join("; ")
        );
    }
    Ok(Some(report::chains::ChainSource::Records(loaded)))
}

/// Stream the logs through the policy, check every window and segment, write the report,
/// print the status and the alerts.
fn monitor(config: &MonitorConfig) -> Result<ExitStatus> {
    let out = output::OutputDir::prepare(&config.out)?;
    let mut inputs: Vec<&std::path::Path> = vec![&config.input.against];
    inputs.extend(config.input.source.path());
    out.keeps(&inputs)?;
    let bar = output::progress::Bar::new(config.quiet);
    let report = report::monitor_report(&config.input, &config.settings, &bar);
    bar.finish();
    let report = report?;
    out.commit(&output::monitor_files(&report)?)?;
    say!("wrote {}", config.out.display());
    print(&output::monitor_text(&report))?;
    Ok(if report.fails(config.fail_on_warn) {
        ExitStatus::ALERT
    } else {
        ExitStatus::Success
    })
}

/// Reads the eval set behind a progress bar; refuses an objective the labels cannot serve.
fn load(run: &RunSettings) -> Result<Loaded> {
    let bar = output::progress::Bar::new(run.quiet);
    let loaded = input::load(&run.load, &bar);
    bar.finish();
    let loaded = loaded?;
    for note in &loaded.notes {
        say!("calibrate: {}: {note}", run.load.source.label());
    }
    if let Some(why) = run.objective.needs_large_labels()
        && loaded.set.large_quality.is_none()
    {
        bail!(
            "{why}, which needs large-model quality labels; the input has no {:?} column \
             (map one with --field large_quality=COLUMN)",
            run.load.fields.column(input::Field::LargeQuality)
        );
    }
    Ok(loaded)
}

/// Says on stderr how many records `--where` kept.
fn note_filtered(filtered: Option<&report::Filtered>) {
    if let Some(f) = filtered {
        say!("calibrate: {}", output::filtered_line(f));
    }
}

/// Safeguards that match no record are often a typo or a value spelled differently (values
/// compare as text).
fn warn_unmatched(labels: &[String]) {
    for label in labels {
        say!("warning: {label} matches no record of the eval set");
    }
}

/// Segments the per-segment policy lets ship answers below the target.
fn warn_segments<'a>(lines: impl IntoIterator<Item = &'a String>) {
    for line in lines {
        eprintln!("warning: {line}");
    }
}

/// Writes data to stdout; a closed pipe is not an error (see `main`).
fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
