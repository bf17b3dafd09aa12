//! The cost model: what each request costs on each path. Pure; no I/O.
//!
//! Owns where a record's cost comes from (a per-record column or a per-request price) and the
//! cascade cost rule: the small model is always paid, the large model only on escalation. It must
//! not choose thresholds or format numbers.

/// A cost in the user's currency unit (per request unless a name says otherwise).
pub type Cost = f64;

/// Where one model's per-request cost comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CostColumn<'a> {
    /// A cost per record, read from the eval set.
    PerRecord(&'a [Cost]),
    /// The same cost for every request, from `--small-cost` / `--large-cost`.
    PerRequest(Cost),
}

impl CostColumn<'_> {
    /// The cost of record `i`.
    pub fn get(&self, i: usize) -> Cost {
        match self {
            CostColumn::PerRecord(v) => v[i],
            CostColumn::PerRequest(c) => *c,
        }
    }

    /// A short description for the summary ("per record" or "per request").
    pub fn source(&self) -> CostSource {
        match self {
            CostColumn::PerRecord(_) => CostSource::PerRecord,
            CostColumn::PerRequest(c) => CostSource::PerRequest(*c),
        }
    }
}

/// Where a cost came from, as the summary states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CostSource {
    /// The record's own cost field.
    PerRecord,
    /// A flat price per request.
    PerRequest(Cost),
}

/// The costs of both models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel<'a> {
    /// The small model's cost, paid on every request.
    pub small: CostColumn<'a>,
    /// The large model's cost, paid on escalated requests (and on every request when always-large).
    pub large: CostColumn<'a>,
}

/// Mean cost per request of a cascade, given the totals over n requests.
///
/// `small_total` is the small model's cost summed over every request (it always runs);
/// `large_escalated` is the large model's cost summed over escalated requests only.
pub fn cascade_cost_per_request(small_total: Cost, large_escalated: Cost, n: usize) -> Cost {
    (small_total + large_escalated) / n as f64
}

/// Savings of `cost` against `reference` as a fraction (0.25 = 25 % cheaper; negative = dearer).
/// `None` when the reference costs nothing, where savings are undefined.
pub fn savings(cost: Cost, reference: Cost) -> Option<f64> {
    (reference > 0.0).then(|| 1.0 - cost / reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_model_is_paid_on_escalation_too() {
        // 10 requests, small costs 1 each, large 60 on the 2 escalated: (10 + 120) / 10 = 13.
        assert_eq!(cascade_cost_per_request(10.0, 120.0, 10), 13.0);
        // Against always-large at 60 per request: 1 - 13/60.
        assert_eq!(savings(13.0, 60.0), Some(1.0 - 13.0 / 60.0));
        assert_eq!(savings(13.0, 0.0), None);
    }

    #[test]
    fn cost_columns() {
        let v = [0.5, 2.0];
        assert_eq!(CostColumn::PerRecord(&v).get(1), 2.0);
        assert_eq!(CostColumn::PerRequest(3.0).get(7), 3.0);
    }
}
