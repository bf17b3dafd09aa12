//! What the comparison's plots read off it: which signals draw the same risk–coverage curve
//! (one would hide the other), and how far up the risk axis must reach. Pure.

use super::compare::Comparison;

/// Coverage below which risk is left out of the axis range: a handful of accepted records
/// gives risk spikes that would stretch the axis to 1 and flatten every curve.
pub const RISK_AXIS_MIN_COVERAGE: f64 = 0.05;

impl Comparison {
    /// The first earlier signal whose risk–coverage curve is the same as row `k`'s (the two
    /// rank the records alike), if any.
    pub fn same_curve_as(&self, k: usize) -> Option<&str> {
        let points = &self.rows.get(k)?.risk_coverage.points;
        self.rows[..k]
            .iter()
            .find(|other| {
                let o = &other.risk_coverage.points;
                o.len() == points.len()
                    && o.iter()
                        .zip(points)
                        .all(|(a, b)| a.accepted == b.accepted && (a.risk - b.risk).abs() <= 1e-12)
            })
            .map(|other| other.name.as_str())
    }

    /// The highest risk at coverage of at least [`RISK_AXIS_MIN_COVERAGE`], over every signal
    /// (at least 0.01).
    pub fn risk_axis_top(&self) -> f64 {
        self.rows
            .iter()
            .flat_map(|r| r.risk_coverage.points.iter())
            .filter(|p| p.coverage >= RISK_AXIS_MIN_COVERAGE)
            .map(|p| p.risk)
            .fold(0.01, f64::max)
    }
}
