//! Cost flags to typed settings: per-request costs, `--price` specs and price sheets, the
//! baseline, and the what-if scenario of `calibrate economics`.
//!
//! Owns the checks on those flags. It must not read the eval set or compute a cost.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::EconomicsConfig;
use crate::cli;
use crate::engine::economics::{Baseline, CostSettings, Pricing, WhatIf};
use crate::input::prices::{NamedPrice, PriceNames, PriceSheet, parse_price};

/// The small model's cost per request when nothing else prices it.
pub const DEFAULT_SMALL: f64 = 1.0;
/// The large model's cost per request when nothing else prices it.
pub const DEFAULT_LARGE: f64 = 60.0;

/// `x` if it is finite and not negative.
pub fn non_negative(flag: &str, x: f64) -> Result<f64> {
    if !(x.is_finite() && x >= 0.0) {
        bail!("{flag}: expected a finite non-negative number, found {x}");
    }
    Ok(x)
}

/// The user's price sheet (if any) and the built-in examples, in lookup order.
pub(super) fn sheets(file: Option<&Path>) -> Result<Vec<PriceSheet>> {
    let mut sheets = Vec::new();
    if let Some(path) = file {
        sheets.push(PriceSheet::read(path)?);
    }
    sheets.push(PriceSheet::builtin());
    Ok(sheets)
}

/// `--price MODEL=PRICE` flags by model name (`small`, `large`).
pub(super) fn prices(
    specs: &[String],
    sheets: &[PriceSheet],
) -> Result<(Option<NamedPrice>, Option<NamedPrice>)> {
    let (mut small, mut large) = (None, None);
    for spec in specs {
        let (model, price) = spec
            .split_once('=')
            .with_context(|| format!("--price {spec:?}: expected MODEL=PRICE, e.g. small=0.25"))?;
        let parsed = parse_price(price, sheets).with_context(|| format!("--price {spec:?}"))?;
        let slot = match model.trim() {
            "small" => &mut small,
            "large" => &mut large,
            other => bail!("--price {spec:?}: unknown model {other:?}; expected small or large"),
        };
        if slot.is_some() {
            bail!("--price {spec:?}: {} is priced twice", model.trim());
        }
        *slot = Some(parsed);
    }
    Ok((small, large))
}

/// `--small-cost`, `--large-cost`, `--price`, `--baseline` and the timeout.
pub fn costs(a: cli::CostArgs) -> Result<CostSettings> {
    let sheets = sheets(a.prices.prices_file.as_deref())?;
    let (small, large) = prices(&a.prices.price, &sheets)?;
    let baseline = match (a.baseline, a.baseline_cost) {
        (Some(spec), _) => Some(Baseline::Tokens(
            parse_price(&spec, &sheets).with_context(|| format!("--baseline {spec:?}"))?,
        )),
        (None, Some(c)) => Some(Baseline::PerRequest(non_negative("--baseline-cost", c)?)),
        (None, None) => None,
    };
    if let Some(t) = a.small_timeout_ms {
        non_negative("--small-timeout-ms", t)?;
    }
    Ok(CostSettings {
        small: Pricing {
            price: small,
            per_request: non_negative("--small-cost", a.small_cost.unwrap_or(DEFAULT_SMALL))?,
            default: a.small_cost.is_none(),
        },
        large: Pricing {
            price: large,
            per_request: non_negative("--large-cost", a.large_cost.unwrap_or(DEFAULT_LARGE))?,
            default: a.large_cost.is_none(),
        },
        baseline,
        large_output_ratio: non_negative("--large-output-ratio", a.large_output_ratio)?,
        small_timeout_ms: a.small_timeout_ms,
    })
}

/// `calibrate economics`.
pub fn economics(a: cli::EconomicsArgs) -> Result<EconomicsConfig> {
    let sheets = sheets(a.prices.prices_file.as_deref())?;
    let (small, large) = prices(&a.prices.price, &sheets)?;
    let small = small.context("--price small=...: the small model's price is required")?;
    let large = large.context("--price large=...: the large model's price is required")?;
    let baseline = a
        .baseline
        .map(|spec| parse_price(&spec, &sheets).with_context(|| format!("--baseline {spec:?}")))
        .transpose()?;
    for &r in &a.escalation {
        if !(0.0..=1.0).contains(&r) {
            bail!("--escalation: expected rates in [0, 1], found {r}");
        }
    }
    Ok(EconomicsConfig {
        what_if: WhatIf {
            requests: non_negative("--requests", a.requests)?,
            input_tokens: non_negative("--tokens-per-request", a.tokens_per_request)?,
            output_tokens: non_negative(
                "--output-tokens-per-request",
                a.output_tokens_per_request,
            )?,
            small: small.price,
            large: large.price,
            baseline: baseline.as_ref().map(|b| b.price),
        },
        names: PriceNames {
            small: small.name,
            large: large.name,
            baseline: baseline.map(|b| b.name),
        },
        rates: a.escalation,
        csv: a.csv,
    })
}
