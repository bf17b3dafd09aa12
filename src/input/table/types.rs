//! The Parquet column types the readers accept, as the plain types their rows are walked in,
//! and the ones they refuse by name (dates and times).
//!
//! Owns that mapping only; reading the file belongs to the parent module.

use polars::prelude::*;

use super::LoadError;

/// Parquet types read as the plain ones the rows are walked in: decimals (money exported from
/// SQL) and half floats as `f64`, categories (pandas' `category`, dictionary-encoded text) as
/// text. Narrow integers are numbers already.
pub(super) fn plain_types(frame: DataFrame) -> PolarsResult<DataFrame> {
    let columns = frame
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::Decimal(..) | DataType::Float16 => c.cast(&DataType::Float64),
            DataType::Categorical(..) | DataType::Enum(..) => c.cast(&DataType::String),
            // Text written without its UTF-8 annotation (older Spark, some writers) is text;
            // bytes that are not UTF-8 are refused, not read as missing.
            DataType::Binary | DataType::BinaryOffset => {
                (c.strict_cast(&DataType::String)).map_err(|_| {
                    polars_err!(ComputeError: "column {:?}: expected text, found bytes that are not UTF-8", c.name().as_str())
                })
            }
            _ => Ok(c.clone()),
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(frame.height(), columns)
}

/// Refuses a date or time column among `names`, naming it: calibrate reads times as epoch
/// numbers or RFC 3339 text (the Parquet reader would stop without naming the column).
pub(super) fn no_dates(
    schema: &ArrowSchema,
    names: &[impl AsRef<str>],
    label: &str,
) -> Result<(), LoadError> {
    use polars::prelude::ArrowDataType as A;
    for name in names {
        let Some(field) = schema.get(name.as_ref()) else {
            continue;
        };
        if let A::Timestamp(..) | A::Date32 | A::Date64 | A::Time32(_) | A::Time64(_) = field.dtype
        {
            return Err(LoadError::Reader {
                path: label.into(),
                message: format!(
                    "column {:?} is a Parquet date or time ({:?}), which calibrate does not read: \
                     write it as epoch seconds or milliseconds, or as RFC 3339 text (DuckDB: \
                     epoch(col); Spark: unix_timestamp(col))",
                    name.as_ref(),
                    field.dtype
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_or_time_column_is_refused_by_name() {
        let mut schema = ArrowSchema::default();
        schema.insert(
            "n".into(),
            ArrowField::new("n".into(), ArrowDataType::Int64, true),
        );
        let stamp = ArrowDataType::Timestamp(ArrowTimeUnit::Microsecond, None);
        schema.insert("ts".into(), ArrowField::new("ts".into(), stamp, true));
        schema.insert(
            "d".into(),
            ArrowField::new("d".into(), ArrowDataType::Date32, true),
        );
        assert!(no_dates(&schema, &["n"], "x.parquet").is_ok());
        for name in ["ts", "d"] {
            let err = no_dates(&schema, &["n", name], "x.parquet").unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("x.parquet: column \"{name}\" is a Parquet date")),
                "{text}"
            );
        }
    }
}
