//! Recognising a two-model aggregate among the inputs: a Parquet file whose schema carries
//! `calibrate_aggregate` (`super::VERSION_COLUMN`). Owns only that test; reading is `read_aggregate`'s.

use std::fs::File;

use super::{Aggregate, LoadError, is_aggregate, read_aggregate};

/// The aggregate named by `options`, when its input is one (a Parquet file carrying
/// [`VERSION_COLUMN`]); `None` for an eval set.
pub fn aggregate_input(
    options: &crate::input::LoadOptions,
) -> Result<Option<Aggregate>, LoadError> {
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
    let open = || {
        File::open(path).map_err(|source| LoadError::Io {
            path: label.clone(),
            source,
        })
    };
    // A file that cannot be read as Parquet is left to the eval-set loader, which says why.
    let Ok(names) = crate::input::table::parquet_names(open()?, &label) else {
        return Ok(None);
    };
    if !is_aggregate(&names) {
        return Ok(None);
    }
    read_aggregate(open()?, &label).map(Some)
}
