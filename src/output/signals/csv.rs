//! `signals.csv`: one row per signal, best first, at full precision (shortest round-trip
//! form); empty cells mean "undefined". It must not compute.

use anyhow::Result;

use crate::signals::Calibration;
use crate::signals::compare::Comparison;

/// The ranking as CSV.
pub(super) fn csv(c: &Comparison) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "rank",
        "signal",
        "auroc",
        "aurc",
        "e_aurc",
        "ece_equal_width",
        "ece_equal_mass",
        "mce",
        "brier",
        "target_quality",
        "threshold_at_target",
        "escalation_rate_at_target",
        "cost_per_request_at_target",
        "savings_vs_large_at_target",
        "quality_escalation_area",
        "ece_equal_width_recalibrated",
        "brier_recalibrated",
        "escalation_rate_at_target_recalibrated",
    ])?;
    for (k, row) in c.rows.iter().enumerate() {
        let cal = |f: fn(&Calibration) -> f64| opt(row.calibration.as_ref().map(f));
        let t = row.at_target.as_ref();
        let after_cal = row.after.as_ref().and_then(|a| a.calibration.as_ref());
        let after_m = row.after.as_ref().and_then(|a| a.at_target.as_ref());
        w.write_record([
            (k + 1).to_string(),
            row.name.clone(),
            opt(row.auroc),
            opt(row.aurc),
            opt(row.e_aurc),
            cal(|c| c.ece_width),
            cal(|c| c.ece_mass),
            cal(|c| c.mce),
            cal(|c| c.brier),
            num(c.target),
            opt(t.map(|m| m.threshold)),
            opt(t.map(|m| m.escalation_rate)),
            opt(t.map(|m| m.cost_per_request)),
            opt(t.and_then(|m| m.savings_vs_large)),
            opt(row.quality_escalation_area),
            opt(after_cal.map(|c| c.ece_width)),
            opt(after_cal.map(|c| c.brier)),
            opt(after_m.map(|m| m.escalation_rate)),
        ])?;
    }
    Ok(w.into_inner()?)
}

fn num(x: f64) -> String {
    format!("{x}")
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}
