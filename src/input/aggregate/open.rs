//! Recognising an aggregate among the inputs: a Parquet file whose schema carries the column
//! that marks it (`calibrate_aggregate`, `calibrate_chain_aggregate`). Owns only that test;
//! reading is `read_aggregate`'s and `read_chain_aggregate`'s.

use std::fs::File;
use std::path::PathBuf;

use super::chains::{ChainAggregate, is_chain_aggregate, read_chain_aggregate};
use super::{Aggregate, LoadError, is_aggregate, read_aggregate};

/// The aggregate named by `options`, when its input is one (a Parquet file carrying
/// `calibrate_aggregate`); `None` for an eval set.
pub fn aggregate_input(
    options: &crate::input::LoadOptions,
) -> Result<Option<Aggregate>, LoadError> {
    match marked(options, is_aggregate)? {
        Some((path, label)) => read_aggregate(open(&path, &label)?, &label).map(Some),
        None => Ok(None),
    }
}

/// The chain aggregate named by `options`, when its input is one (a Parquet file carrying
/// `calibrate_chain_aggregate`); `None` otherwise.
pub fn chain_aggregate_input(
    options: &crate::input::LoadOptions,
) -> Result<Option<ChainAggregate>, LoadError> {
    match marked(options, is_chain_aggregate)? {
        Some((path, label)) => read_chain_aggregate(&path, &label).map(Some),
        None => Ok(None),
    }
}

/// The input's path and label when it is a Parquet file whose column names pass `is`.
fn marked(
    options: &crate::input::LoadOptions,
    is: fn(&[String]) -> bool,
) -> Result<Option<(PathBuf, String)>, LoadError> {
    let crate::input::Source::File(path) = &options.source else {
        return Ok(None);
    };
    let parquet = options
        .format
        .or_else(|| crate::input::Format::from_path(path));
    if parquet != Some(crate::input::Format::Parquet) || path.is_dir() {
        return Ok(None);
    }
    let label = options.source.label();
    // A file that cannot be read as Parquet is left to the eval-set loaders, which say why.
    let Ok(names) = crate::input::table::parquet_names(open(path, &label)?, &label) else {
        return Ok(None);
    };
    if super::logs::is_log_aggregate(&names) {
        return Err(LoadError::Reader {
            path: label,
            message: "a production-log aggregate (from `calibrate sql --logs`): `calibrate \
                      monitor` reads it; sweep, recommend, aggregate and signals read an eval set \
                      or its aggregate"
                .into(),
        });
    }
    Ok(is(&names).then(|| (path.clone(), label)))
}

fn open(path: &std::path::Path, label: &str) -> Result<File, LoadError> {
    File::open(path).map_err(|source| LoadError::Io {
        path: label.into(),
        source,
    })
}
