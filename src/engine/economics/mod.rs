//! The cost model: what each request costs on each path. Pure; no I/O.
//!
//! Owns where a record's cost comes from (precedence: the record's own cost field, then its
//! tokens × a per-token price, then a flat price per request), the cascade cost rule (the small
//! model is always paid, the large model only on escalation), break-even rates and the what-if
//! table (`what_if.rs`). It must not choose thresholds or format numbers.

use std::borrow::Cow;

use crate::input::EvalSet;
use crate::input::prices::{NamedPrice, Price};

mod what_if;

pub use what_if::{WhatIf, WhatIfRow, WhatIfSummary};

/// How requests are priced (see `economics::resolve` for the precedence).
#[derive(Debug, Clone)]
pub struct CostSettings {
    /// The small model.
    pub small: Pricing,
    /// The large model.
    pub large: Pricing,
    /// The comparison model, if any.
    pub baseline: Option<Baseline>,
    /// Large output tokens = small output tokens × this, when records lack them.
    pub large_output_ratio: f64,
    /// Small answers slower than this many milliseconds escalate.
    pub small_timeout_ms: Option<f64>,
}

/// The comparison model of `--baseline` / `--baseline-cost`.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// A flat cost per request.
    PerRequest(f64),
    /// A per-token price, applied to input_tokens and small_output_tokens.
    Tokens(NamedPrice),
}

/// Why the costs cannot be resolved: a price needs a field the records lack.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CostError {
    /// `--price MODEL=...` without the token counts it multiplies.
    #[error("--price {model}=... needs {needs} field in the records{alternative}")]
    MissingTokens {
        /// `small` or `large`.
        model: &'static str,
        /// The missing field, with its article (`an input_tokens`).
        needs: String,
        /// What else would do, in parentheses, or empty.
        alternative: String,
    },
    /// `--baseline MODEL` priced per token without the token counts.
    #[error(
        "--baseline {0}: pricing the baseline per token needs a small_output_tokens field (or \
         use --baseline-cost)"
    )]
    BaselineTokens(String),
    /// The costs summed over the records exceed [`MAX_TOTAL_COST`].
    #[error(
        "the costs overflow: the small and large models' costs summed over the {records} \
         records ({small:e} + {large:e}) exceed 1e300, beyond which resampled and summed costs \
         can overflow; state costs in a larger unit (e.g. thousands)"
    )]
    Overflow {
        /// Records.
        records: usize,
        /// Σ small cost over the records.
        small: Cost,
        /// Σ large cost over the records.
        large: Cost,
    },
    /// One request's cost is at least [`MAX_COST`].
    #[error(
        "a {model} model cost of {cost:e} per request is too large: costs must be below 1e30 \
         per request (sums are kept exactly in fixed units up to about 1e31); state costs in a \
         larger unit (e.g. millions)"
    )]
    TooLarge {
        /// `small`, `large` or `baseline`.
        model: &'static str,
        /// The largest cost found.
        cost: Cost,
    },
}

/// Costs per request must stay below this, so that exact fixed-unit sums
/// ([`crate::engine::exact`], limited to 2^103 ≈ 1.01e31 per value) hold every one.
pub const MAX_COST: Cost = 1e30;

/// The largest Σ small + Σ large over the records calibrate accepts. Every cost it reports is at
/// most that sum times a bootstrap weight (a Poisson(1) draw, in practice below 30), so this
/// bound, far below f64's 1.8e308, keeps every reported cost finite.
pub const MAX_TOTAL_COST: Cost = 1e300;

/// Refuses costs whose sum over the records (or the baseline's mean) exceeds
/// [`MAX_TOTAL_COST`] (issue 13: overflowing costs printed as null beside `"found": true`).
pub fn check_finite(
    small: &Costs<'_>,
    large: &Costs<'_>,
    records: usize,
    baseline: Option<Cost>,
) -> Result<(), CostError> {
    let total = |c: &Costs<'_>| -> Cost {
        match c {
            Costs::PerRecord(v) => v.iter().sum(),
            Costs::PerRequest(x) => x * records as f64,
        }
    };
    let largest = |c: &Costs<'_>| -> Cost {
        match c {
            Costs::PerRecord(v) => v.iter().copied().fold(0.0, f64::max),
            Costs::PerRequest(x) => *x,
        }
    };
    // Each model's largest cost and total in one thread each (the sums in order, as ever).
    let ((small_largest, s), (large_largest, l)) = rayon::join(
        || (largest(small), total(small)),
        || (largest(large), total(large)),
    );
    let checks = [("small", small_largest), ("large", large_largest)];
    let baseline_check = baseline.map(|b| ("baseline", b));
    for (model, cost) in checks.into_iter().chain(baseline_check) {
        // Infinity and NaN are left to the overflow check below, which names them.
        if cost >= MAX_COST && cost.is_finite() {
            return Err(CostError::TooLarge { model, cost });
        }
    }
    let fits = |x: Cost| x <= MAX_TOTAL_COST; // false for infinity and NaN
    if fits(s + l) && baseline.is_none_or(fits) {
        Ok(())
    } else {
        Err(CostError::Overflow {
            records,
            small: s,
            large: l,
        })
    }
}

/// The comparison model priced on the records.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedBaseline {
    /// How it was priced, in words.
    pub description: String,
    /// Its mean cost per request.
    pub cost_per_request: Cost,
}

/// Prices the comparison model on the records: a flat cost, or its per-token price on the
/// records' input and small-model output tokens (its own output length is assumed equal to the
/// small model's).
pub fn price_baseline(baseline: &Baseline, set: &EvalSet) -> Result<PricedBaseline, CostError> {
    match baseline {
        Baseline::PerRequest(cost) => Ok(PricedBaseline {
            description: format!("{cost} per request (--baseline-cost)"),
            cost_per_request: *cost,
        }),
        Baseline::Tokens(named) => {
            let Some(output) = &set.small_output_tokens else {
                return Err(CostError::BaselineTokens(named.name.clone()));
            };
            // Without input_tokens only the output is priced, as for the two models.
            let total: Cost = match &set.input_tokens {
                Some(input) => (input.iter().zip(output))
                    .map(|(i, o)| token_cost(named.price, *i, *o))
                    .sum(),
                None => output
                    .iter()
                    .map(|o| token_cost(named.price, 0.0, *o))
                    .sum(),
            };
            let priced = match set.input_tokens {
                Some(_) => "input_tokens and small_output_tokens",
                None => "small_output_tokens only (the records carry no input_tokens)",
            };
            Ok(PricedBaseline {
                description: format!(
                    "{} on {priced} (its own output length is assumed equal to the small \
                     model's)",
                    named.name
                ),
                cost_per_request: total / set.confidence.len() as f64,
            })
        }
    }
}

/// A cost in the user's currency unit (per request unless a name says otherwise).
pub type Cost = f64;

/// Tokens per million, the unit prices are quoted in.
const PER_MILLION: f64 = 1e6;

/// Where one model's per-request cost comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CostColumn<'a> {
    /// A cost per record.
    PerRecord(&'a [Cost]),
    /// The same cost for every request.
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
}

/// The costs the sweep needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel<'a> {
    /// The small model's cost, paid on every request.
    pub small: CostColumn<'a>,
    /// The large model's cost, paid on escalated requests (and on every request when always-large).
    pub large: CostColumn<'a>,
    /// The comparison model's mean cost per request (`--baseline`), if any.
    pub baseline: Option<Cost>,
}

/// A model's resolved costs, owning them when computed from tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum Costs<'a> {
    /// One cost per record.
    PerRecord(Cow<'a, [Cost]>),
    /// A flat cost per request.
    PerRequest(Cost),
}

impl Costs<'_> {
    /// A borrowed view for the sweep.
    pub fn column(&self) -> CostColumn<'_> {
        match self {
            Costs::PerRecord(v) => CostColumn::PerRecord(v),
            Costs::PerRequest(c) => CostColumn::PerRequest(*c),
        }
    }
}

/// Where a model's cost came from, as the summary states it.
#[derive(Debug, Clone, PartialEq)]
pub enum CostSource {
    /// The record's own cost field; `ignored` names a price that was given but not needed.
    PerRecord {
        /// A `--price` that the per-record costs override, if any.
        ignored: Option<String>,
    },
    /// Tokens × price.
    Tokens {
        /// The price used.
        price: NamedPrice,
        /// How the output tokens were known.
        output: OutputTokens,
        /// Whether input tokens were priced too (`false`: the records carry no input_tokens,
        /// so only output tokens are).
        input_priced: bool,
    },
    /// A flat price per request (`--small-cost` / `--large-cost`).
    PerRequest(Cost),
    /// The built-in flat price per request (1 small, 60 large): no cost field, price or flag.
    Default(Cost),
}

/// How a model's output tokens were known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputTokens {
    /// The record's own output-token field.
    Recorded,
    /// Unknown for the large model: estimated as the small model's output tokens × ratio.
    EstimatedFromSmall {
        /// The ratio (`--large-output-ratio`, default 1).
        ratio: f64,
    },
}

/// Which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// The small, cheap model.
    Small,
    /// The large, expensive model.
    Large,
}

/// How one model is priced, as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// `--price MODEL=...`, if given.
    pub price: Option<NamedPrice>,
    /// `--small-cost` / `--large-cost`: the flat price per request.
    pub per_request: Cost,
    /// Whether `per_request` is the built-in default (no flag given): said aloud when used.
    pub default: bool,
}

/// Resolves a model's per-request costs, by precedence: the record's cost field, then tokens ×
/// price, then the flat per-request price. Errs (in words) when a price is given but the
/// tokens it needs are not in the data.
pub fn resolve<'a>(
    model: Model,
    set: &'a EvalSet,
    pricing: &Pricing,
    large_output_ratio: f64,
) -> Result<(Costs<'a>, CostSource), CostError> {
    let recorded = match model {
        Model::Small => set.small_cost.as_deref(),
        Model::Large => set.large_cost.as_deref(),
    };
    if let Some(costs) = recorded {
        let ignored = pricing.price.as_ref().map(|p| p.name.clone());
        return Ok((
            Costs::PerRecord(Cow::Borrowed(costs)),
            CostSource::PerRecord { ignored },
        ));
    }
    let Some(named) = &pricing.price else {
        let source = if pricing.default {
            CostSource::Default(pricing.per_request)
        } else {
            CostSource::PerRequest(pricing.per_request)
        };
        return Ok((Costs::PerRequest(pricing.per_request), source));
    };
    let which = match model {
        Model::Small => "small",
        Model::Large => "large",
    };
    let (output, how): (Cow<'_, [f64]>, OutputTokens) =
        match (model, &set.small_output_tokens, &set.large_output_tokens) {
            (Model::Small, Some(o), _) => (Cow::Borrowed(o), OutputTokens::Recorded),
            (Model::Large, _, Some(o)) => (Cow::Borrowed(o), OutputTokens::Recorded),
            (Model::Large, Some(small), None) => (
                Cow::Owned(small.iter().map(|t| t * large_output_ratio).collect()),
                OutputTokens::EstimatedFromSmall {
                    ratio: large_output_ratio,
                },
            ),
            _ => {
                return Err(CostError::MissingTokens {
                    model: which,
                    needs: format!("a {which}_output_tokens"),
                    alternative: match model {
                        Model::Large => {
                            " (or small_output_tokens, to estimate it from; or per-record \
                             large_cost)"
                                .into()
                        }
                        Model::Small => " (or per-record small_cost)".into(),
                    },
                });
            }
        };
    // Without input_tokens only the output is priced; the report says so.
    let input = set.input_tokens.as_deref();
    let costs = match input {
        Some(input) => (input.iter().zip(output.iter()))
            .map(|(i, o)| token_cost(named.price, *i, *o))
            .collect(),
        None => (output.iter())
            .map(|o| token_cost(named.price, 0.0, *o))
            .collect(),
    };
    Ok((
        Costs::PerRecord(Cow::Owned(costs)),
        CostSource::Tokens {
            price: named.clone(),
            output: how,
            input_priced: input.is_some(),
        },
    ))
}

/// The cost of one request: input and output tokens at a price per million tokens.
pub fn token_cost(price: Price, input_tokens: f64, output_tokens: f64) -> Cost {
    (input_tokens * price.input + output_tokens * price.output) / PER_MILLION
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

/// The escalation rate e at which a cascade costing `small + e × large` per request costs as
/// much as `reference`: e = (reference − small) / large. Below it the cascade saves. `None` when
/// the large model costs nothing. A value ≤ 0 means it never saves; ≥ 1, always.
pub fn break_even_rate(small: Cost, large: Cost, reference: Cost) -> Option<f64> {
    (large > 0.0).then(|| (reference - small) / large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_whose_sum_overflows_are_refused() {
        // Issue 13, item 10: 1.7e308 + 1.7e308 is infinite in f64 (max about 1.798e308); the
        // bound is 1e300 on the sum (5 × 1e298 + 5 × 1e298 = 1e299 fits, 5 × 1.1e299 + 5 ×
        // 1.1e299 = 1.1e300 does not).
        let flat = |x| Costs::PerRequest(x);
        assert!(check_finite(&flat(1.7e308), &flat(1.7e308), 1, None).is_err());
        assert!(check_finite(&flat(1e300), &flat(0.0), 2, None).is_err());
        assert!(check_finite(&flat(1.1e299), &flat(1.1e299), 5, None).is_err());
        assert!(check_finite(&flat(9e29), &flat(9e29), 5, None).is_ok());
        let per = Costs::PerRecord(Cow::Owned(vec![1e308, 1e308]));
        assert!(check_finite(&per, &flat(0.0), 2, None).is_err());
        assert!(check_finite(&flat(1.0), &flat(1.0), 2, Some(f64::INFINITY)).is_err());
        let err = check_finite(&flat(1e308), &flat(1e308), 5, None).unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
        let err = check_finite(&flat(1.0), &flat(f64::INFINITY), 5, None).unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
        // Per request, 1e30 is refused and just below it is not (exact sums need < 2^103).
        let err = check_finite(&flat(1.0), &flat(1e30), 5, None).unwrap_err();
        assert_eq!(
            err,
            CostError::TooLarge {
                model: "large",
                cost: 1e30
            }
        );
        assert!(check_finite(&flat(1.0), &flat(1e30f64.next_down()), 5, None).is_ok());
    }

    #[test]
    fn small_model_is_paid_on_escalation_too() {
        // 10 requests, small costs 1 each, large 60 on the 2 escalated: (10 + 120) / 10 = 13.
        assert_eq!(cascade_cost_per_request(10.0, 120.0, 10), 13.0);
        // Against always-large at 60 per request: 1 - 13/60.
        assert_eq!(savings(13.0, 60.0), Some(1.0 - 13.0 / 60.0));
        assert_eq!(savings(13.0, 0.0), None);
    }

    fn flat(x: f64) -> Price {
        Price {
            input: x,
            output: x,
        }
    }

    /// The post's scenario: 1,000,000 requests of 1,000 tokens; small 0.25, large 15, baseline
    /// ("all medium") 3.00 per million tokens.
    fn post() -> WhatIf {
        WhatIf {
            requests: 1e6,
            input_tokens: 1000.0,
            output_tokens: 0.0,
            small: flat(0.25),
            large: flat(15.0),
            baseline: Some(flat(3.0)),
        }
    }

    #[test]
    fn the_posts_table_corrected() {
        // By hand: small on every request = 1e6 × 1000 × 0.25 / 1e6 = 250; large on 10 % =
        // 1e5 × 1000 × 15 / 1e6 = 1500; total 1750; baseline 3000; savings 1 − 1750/3000.
        // The post claims $1,525 and 49 %; its own formula gives 225 + 1500 = 1725 (42.5 %).
        let rows = post().rows(&[0.1, 0.2, 0.3]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(rows[0].small_total, 250.0));
        assert!(close(rows[0].large_total, 1500.0));
        assert!(close(rows[0].cascade_total, 1750.0));
        assert!(close(
            rows[0].savings_vs_baseline.unwrap(),
            1.0 - 1750.0 / 3000.0
        )); // 41.7 %
        assert!(close(rows[0].post_formula_total, 1725.0));
        assert!(close(
            rows[0].post_formula_savings_vs_baseline.unwrap(),
            0.425
        ));
        // 20 %: the post claims 7 % savings; in fact 250 + 3000 = 3250, 8.3 % dearer.
        assert!(close(rows[1].cascade_total, 3250.0));
        assert!(close(rows[1].savings_vs_baseline.unwrap(), -250.0 / 3000.0));
        // 30 %: 250 + 4500 = 4750 (the post: 4,075).
        assert!(close(rows[2].cascade_total, 4750.0));
        // Against always-large (15,000): 1 − 1750 / 15000.
        assert!(close(
            rows[0].savings_vs_large.unwrap(),
            1.0 - 1750.0 / 15000.0
        ));
    }

    #[test]
    fn break_even_rates() {
        // Baseline: 0.25 + e × 15 = 3 → e = 2.75 / 15 = 18.33 %. Always-large: (15 − 0.25)/15.
        let s = post().summary();
        assert!((s.break_even_vs_baseline.unwrap() - 2.75 / 15.0).abs() < 1e-12);
        assert!((s.break_even_vs_large.unwrap() - 14.75 / 15.0).abs() < 1e-12);
        assert!((s.baseline_total.unwrap() - 3000.0).abs() < 1e-9);
        assert_eq!(break_even_rate(1.0, 0.0, 3.0), None);
    }

    #[test]
    fn token_costs_and_precedence() {
        // 1,000 input at 3 and 500 output at 15 per million: (3000 + 7500) / 1e6.
        assert_eq!(
            token_cost(
                Price {
                    input: 3.0,
                    output: 15.0
                },
                1000.0,
                500.0
            ),
            10500.0 / 1e6
        );
        let set = EvalSet {
            confidence: vec![0.5, 0.6],
            small_quality: vec![1.0, 0.0],
            small_cost: Some(vec![0.1, 0.2]),
            input_tokens: Some(vec![1000.0, 2000.0]),
            small_output_tokens: Some(vec![100.0, 300.0]),
            ..EvalSet::default()
        };
        let price = |x: f64| Pricing {
            default: false,
            price: Some(NamedPrice {
                price: Price {
                    input: x,
                    output: 2.0 * x,
                },
                name: format!("{x}:{}", 2.0 * x),
            }),
            per_request: 7.0,
        };
        // Small: the record's cost wins over the price, which the summary names as ignored.
        let (c, source) = resolve(Model::Small, &set, &price(1.0), 1.0).unwrap();
        assert_eq!(c.column().get(1), 0.2);
        assert_eq!(
            source,
            CostSource::PerRecord {
                ignored: Some("1:2".into())
            }
        );
        // Large: no cost field, no large output tokens: estimated from small output × 1.5.
        // Record 0: (1000 × 10 + 150 × 20) / 1e6 = 0.013.
        let (c, source) = resolve(Model::Large, &set, &price(10.0), 1.5).unwrap();
        assert!((c.column().get(0) - 0.013).abs() < 1e-15);
        assert!(matches!(
            source,
            CostSource::Tokens { output: OutputTokens::EstimatedFromSmall { ratio }, .. } if ratio == 1.5
        ));
        // No price: the flat per-request cost.
        let flat = Pricing {
            default: false,
            price: None,
            per_request: 7.0,
        };
        let (c, source) = resolve(Model::Large, &set, &flat, 1.0).unwrap();
        assert_eq!(c, Costs::PerRequest(7.0));
        assert_eq!(source, CostSource::PerRequest(7.0));
        // Issue 14: without input_tokens only the output tokens are priced, and the source
        // says so.
        let output_only = EvalSet {
            input_tokens: None,
            ..set.clone()
        };
        // Large output tokens estimated as small × 1, at 2 per million: 100 × 2 / 1e6 and
        // 300 × 2 / 1e6.
        let (c, source) = resolve(Model::Large, &output_only, &price(1.0), 1.0).unwrap();
        assert_eq!((c.column().get(0), c.column().get(1)), (0.0002, 0.0006));
        assert!(matches!(
            source,
            CostSource::Tokens {
                input_priced: false,
                ..
            }
        ));
        // A price without any tokens is an error, not a silent fallback.
        let bare = EvalSet {
            input_tokens: None,
            small_output_tokens: None,
            large_output_tokens: None,
            ..set.clone()
        };
        let err = resolve(Model::Large, &bare, &price(1.0), 1.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs a large_output_tokens field"), "{err}");
    }
}
