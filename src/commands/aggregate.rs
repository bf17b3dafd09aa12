//! `calibrate aggregate`: every input (eval sets read in parts, or aggregates to merge) reduced
//! to one table of cells and written as Parquet, atomically.
//!
//! Owns the order of that command's steps and what it says on stderr. It must not compute cells
//! (that is `engine::cells` through `report::aggregate`) nor format the table (`output`).

use anyhow::{Context, Result, bail};

use crate::config::AggregateConfig;
use crate::engine::cells::CellTable;
use crate::engine::chains::ChainTable;
use crate::input::Loaded;
use crate::report::RunSettings;
use crate::report::chains::ChainSource;
use crate::{ExitStatus, engine, input, output, report};

/// Reads every input (eval sets, or aggregates to merge), reduces them to one table of cells and
/// writes it as Parquet, atomically.
pub(crate) fn aggregate(config: &AggregateConfig) -> Result<ExitStatus> {
    let mut table: Option<CellTable> = None;
    let mut chains: Option<ChainTable> = None;
    for run in &config.inputs {
        let label = run.load.source.label();
        if let Some(source) = crate::load_chains(run)? {
            if table.is_some() {
                bail!("{label}: {MIXED}");
            }
            merge_chains(config, run, source, &mut chains)?;
            continue;
        }
        if chains.is_some() {
            bail!("{label}: {MIXED}");
        }
        if let Some(agg) = input::aggregate::aggregate_input(&run.load)? {
            merge_aggregate(config, run, &agg, &mut table)?;
            continue;
        }
        add_eval_set(config, run, &mut table)?;
    }
    if let Some(chains) = chains {
        output::write_file_atomically(&config.out, &output::chain_aggregate_parquet(&chains)?)?;
        say!(
            "wrote {}: {} prompts of {} models in {} rows",
            config.out.display(),
            chains.records(),
            chains.models.len(),
            chains.rows()
        );
        return Ok(ExitStatus::Success);
    }
    let table = table.expect("clap requires an input");
    output::write_file_atomically(&config.out, &output::aggregate_parquet(&table)?)?;
    let latency_rows = table.latencies();
    say!(
        "wrote {}: {} records in {} rows of sums{}",
        config.out.display(),
        table.records(),
        table.cells().count(),
        match latency_rows {
            0 => String::new(),
            n => format!(" and {n} latency rows"),
        }
    );
    Ok(ExitStatus::Success)
}

/// Reads a two-model eval set in parts into `table`, saying on stderr what was dropped.
fn add_eval_set(
    config: &AggregateConfig,
    run: &RunSettings,
    table: &mut Option<CellTable>,
) -> Result<()> {
    let label = run.load.source.label();
    if run.costs.small_timeout_ms.is_some() {
        bail!("--small-timeout-ms: an aggregate has no per-record latency to escalate by");
    }
    let bar = output::progress::Bar::new(run.quiet);
    let (mut read_records, mut dropped) = (0u64, 0u64);
    let mut defaulted = None;
    let mut add = |loaded: Loaded| -> Result<()> {
        let before = read_records;
        read_records += loaded.drops.read;
        dropped += loaded.drops.dropped;
        let added = report::aggregate::add_records(table, &loaded, run, config.resolution);
        match added {
            Ok(warning) => {
                defaulted = defaulted.take().or(warning);
                Ok(())
            }
            Err(e) if before == 0 => Err(anyhow::Error::new(e).context(label.clone())),
            // The parts before were of this input: one of its fields is in some records only.
            Err(report::RunError::Merge(why)) => {
                bail!(
                    "{label}: from record {} on: {}",
                    before + 1,
                    why.within_one_input()
                )
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!(
                "{label}: from record {} on (read in parts of --part-bytes)",
                before + 1
            ))),
        }
    };
    let read = input::aggregate::load_in_parts(&run.load, config.part_bytes, &bar, &mut add);
    bar.finish();
    // Parts whose records were all invalid, dropped whole.
    let whole = read?;
    read_records += whole;
    dropped += whole;
    if read_records > 0 && dropped == read_records {
        return Err(input::LoadError::AllDropped {
            path: label.clone(),
            dropped,
        }
        .into());
    }
    if dropped > 0 {
        say!(
            "calibrate: {label}: dropped {dropped} of {read_records} records as invalid \
             (--skip-invalid)"
        );
    }
    // The aggregate keeps the prices, not where they came from: say it now.
    output::stderr::text(&output::warnings_text(defaulted.as_slice()));
    Ok(())
}

/// Why a two-model input and a multi-model one do not merge.
const MIXED: &str = "a multi-model input (or chain aggregate) and a two-model one cannot be \
                     merged into one aggregate: aggregate them apart";

/// Merges a multi-model eval set's cells, or a chain aggregate's, into `chains`.
fn merge_chains(
    config: &AggregateConfig,
    run: &RunSettings,
    source: ChainSource,
    chains: &mut Option<ChainTable>,
) -> Result<()> {
    let label = run.load.source.label();
    let other = match source {
        ChainSource::Records(loaded) => {
            if !run.policy.segment_by.is_empty() {
                bail!("{label}: --segment-by is not supported with a multi-model input yet");
            }
            report::chains::records_table(&loaded, run, config.resolution)
                .with_context(|| label.clone())?
        }
        ChainSource::Aggregate { table, .. } => {
            let priced = report::aggregate::priced(run).then_some("cost flags");
            let prices = (run.chains.sheets.len() > 1).then_some("--prices");
            if let Some(flag) = config.eval_flags.first().copied().or(priced).or(prices) {
                bail!(
                    "{label}: {flag} for eval sets only: this input is a chain aggregate, whose \
                     cells were keyed and priced when it was built (give {flag} when \
                     aggregating the eval set, or merge aggregates without)"
                );
            }
            table
        }
    };
    match chains {
        None => *chains = Some(other),
        Some(t) => t
            .merge(other)
            .with_context(|| format!("{label}: cannot merge"))?,
    }
    Ok(())
}

/// Merges an input that is already an aggregate into `table`, refusing the flags that shape an
/// eval set's cells.
fn merge_aggregate(
    config: &AggregateConfig,
    run: &RunSettings,
    agg: &input::aggregate::Aggregate,
    table: &mut Option<CellTable>,
) -> Result<()> {
    let label = run.load.source.label();
    let priced = report::aggregate::priced(run).then_some("cost flags");
    if let Some(flag) = config.eval_flags.first().copied().or(priced) {
        bail!(
            "{label}: {flag} for eval sets only: this input is an aggregate, whose cells were \
             keyed, segmented and priced when it was built (give {flag} when aggregating the \
             eval sets, or merge aggregates without)"
        );
    }
    let other = engine::cells::table_of(agg);
    match table {
        None => *table = Some(other),
        Some(t) => t
            .merge(other)
            .with_context(|| format!("{label}: cannot merge"))?,
    }
    Ok(())
}
