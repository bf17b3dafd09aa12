//! The what-if table of `calibrate economics`: flat traffic at given prices, without an eval
//! set. Pure.

use super::{Cost, break_even_rate, savings, token_cost};
use crate::input::prices::Price;

/// A what-if scenario without an eval set: flat traffic at given prices.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// Requests in the period.
    pub requests: f64,
    /// Input tokens per request.
    pub input_tokens: f64,
    /// Output tokens per request.
    pub output_tokens: f64,
    /// The small model's price.
    pub small: Price,
    /// The large model's price.
    pub large: Price,
    /// The comparison model's price (the post's "all requests to a medium model").
    pub baseline: Option<Price>,
}

/// One row of the what-if table; totals over all requests, in currency units.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WhatIfRow {
    /// Share of requests escalated.
    pub escalation: f64,
    /// The small model on every request.
    pub small_total: Cost,
    /// The large model on escalated requests.
    pub large_total: Cost,
    /// small_total + large_total.
    pub cascade_total: Cost,
    /// 1 − cascade / baseline.
    pub savings_vs_baseline: Option<f64>,
    /// 1 − cascade / always-large.
    pub savings_vs_large: Option<f64>,
    /// The post's formula, which pays the small model only on requests that do not escalate.
    pub post_formula_total: Cost,
    /// 1 − post's formula / baseline.
    pub post_formula_savings_vs_baseline: Option<f64>,
}

/// Totals of the single-model policies and the break-even escalation rates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WhatIfSummary {
    /// Every request to the small model.
    pub always_small_total: Cost,
    /// Every request to the large model.
    pub always_large_total: Cost,
    /// Every request to the baseline model.
    pub baseline_total: Option<Cost>,
    /// Escalation rate at which the cascade costs as much as the baseline.
    pub break_even_vs_baseline: Option<f64>,
    /// Escalation rate at which the cascade costs as much as always-large.
    pub break_even_vs_large: Option<f64>,
}

impl WhatIf {
    fn per_request(&self, price: Price) -> Cost {
        token_cost(price, self.input_tokens, self.output_tokens)
    }

    /// The table at each escalation rate.
    pub fn rows(&self, rates: &[f64]) -> Vec<WhatIfRow> {
        let small = self.per_request(self.small);
        let large = self.per_request(self.large);
        let baseline = self.baseline.map(|p| self.per_request(p) * self.requests);
        let always_large = large * self.requests;
        rates
            .iter()
            .map(|&e| {
                let small_total = small * self.requests;
                let large_total = large * self.requests * e;
                let cascade_total = small_total + large_total;
                let post_formula_total = small * self.requests * (1.0 - e) + large_total;
                WhatIfRow {
                    escalation: e,
                    small_total,
                    large_total,
                    cascade_total,
                    savings_vs_baseline: baseline.and_then(|b| savings(cascade_total, b)),
                    savings_vs_large: savings(cascade_total, always_large),
                    post_formula_total,
                    post_formula_savings_vs_baseline: baseline
                        .and_then(|b| savings(post_formula_total, b)),
                }
            })
            .collect()
    }

    /// Single-model totals and break-even rates.
    pub fn summary(&self) -> WhatIfSummary {
        let small = self.per_request(self.small);
        let large = self.per_request(self.large);
        let baseline = self.baseline.map(|p| self.per_request(p));
        WhatIfSummary {
            always_small_total: small * self.requests,
            always_large_total: large * self.requests,
            baseline_total: baseline.map(|b| b * self.requests),
            break_even_vs_baseline: baseline.and_then(|b| break_even_rate(small, large, b)),
            break_even_vs_large: break_even_rate(small, large, large),
        }
    }
}
