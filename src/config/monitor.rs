//! `calibrate monitor`'s flags to its typed configuration: window length, margins, alert
//! levels, log field mapping.
//!
//! Owns the checks on these flags. It must not read the logs or the policy.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::run::source_of;
use crate::cli::{FailOn, FormatArg, MonitorArgs};
use crate::input::{Format, LogColumns, Source};
use crate::monitor::MonitorSettings;
use crate::report::MonitorInput;

/// `calibrate monitor`.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// What to read.
    pub input: MonitorInput,
    /// What the checks need.
    pub settings: MonitorSettings,
    /// Warnings count as alerts for the exit status.
    pub fail_on_warn: bool,
    /// The report directory.
    pub out: PathBuf,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// Validates `calibrate monitor`'s flags.
pub fn monitor(a: MonitorArgs) -> Result<MonitorConfig> {
    let source = source_of(a.logs);
    let fields = log_fields(&a.field, &mut LogColumns::new("signal"))?;
    let unit = |flag: &str, x: f64| {
        if x > 0.0 && x < 1.0 {
            Ok(x)
        } else {
            bail!("{flag} {x}: expected a number between 0 and 1 (exclusive)")
        }
    };
    let (psi_warn, psi_alert) = (a.psi_warn, a.psi_alert);
    if !(psi_warn > 0.0 && psi_alert >= psi_warn && psi_alert.is_finite()) {
        bail!("--psi-warn {psi_warn} / --psi-alert {psi_alert}: expected 0 < warn <= alert");
    }
    let out = a.out.unwrap_or_else(|| default_out(&source));
    Ok(MonitorConfig {
        input: MonitorInput {
            source,
            format: a.format.map(|f| match f {
                FormatArg::Jsonl => Format::Jsonl,
                FormatArg::Csv => Format::Csv,
                FormatArg::Parquet => Format::Parquet,
            }),
            fields,
            small_model: a.small_model,
            label_weight: a.label_weight_field,
            against: a.against,
        },
        settings: MonitorSettings {
            window: window(&a.window)?,
            tolerance: unit("--tolerance", a.tolerance)?,
            max_escalation: unit("--max-escalation", a.max_escalation)?,
            fdr: unit("--fdr", a.fdr)?,
            psi_warn,
            psi_alert,
            level: unit("--level", a.level)?,
        },
        fail_on_warn: a.fail_on == FailOn::Warn,
        out,
        quiet: a.quiet,
    })
}

/// `--field FIELD=COLUMN` of log fields, set on `columns`; the pairs, in order.
pub fn log_fields(specs: &[String], columns: &mut LogColumns) -> Result<Vec<(String, String)>> {
    let mut fields = Vec::new();
    for spec in specs {
        let (name, column) = (spec.split_once('='))
            .filter(|(n, c)| !n.is_empty() && !c.is_empty())
            .with_context(|| format!("--field {spec:?}: expected FIELD=COLUMN"))?;
        if !columns.set(name, column) {
            bail!(
                "--field {spec:?}: unknown log field {name:?} (known: {})",
                LogColumns::NAMES
            );
        }
        fields.push((name.to_string(), column.to_string()));
    }
    Ok(fields)
}

/// `--window`: a whole number and a unit, `s`, `m`, `h` or `d` (`1h`, `30m`, `7d`).
pub fn window(spec: &str) -> Result<i64> {
    let bad = || format!("--window {spec:?}: expected a whole number and s, m, h or d (1h, 1d)");
    let unit = spec.chars().last().with_context(bad)?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => bail!(bad()),
    };
    let n: i64 = spec[..spec.len() - 1]
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .with_context(bad)?;
    n.checked_mul(seconds).with_context(bad)
}

/// `reports/<logs stem>-monitor`.
fn default_out(source: &Source) -> PathBuf {
    let stem = match source {
        Source::File(p) => {
            (p.file_stem()).map_or_else(|| "logs".into(), |s| s.to_string_lossy().into_owned())
        }
        Source::Stdin => "stdin".into(),
    };
    Path::new("reports").join(format!("{stem}-monitor"))
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn windows_are_a_number_and_a_unit() {
        assert_eq!(window("1h").unwrap(), 3600);
        assert_eq!(window("30m").unwrap(), 1800);
        assert_eq!(window("7d").unwrap(), 604_800);
        assert_eq!(window("90s").unwrap(), 90);
        for bad in ["", "h", "0d", "1w", "-1h", "1.5h"] {
            assert!(window(bad).is_err(), "{bad}");
        }
    }
}
