//! Price sheets: model names to prices per million tokens, from a TOML file or the built-in
//! examples (clearly dated), and the `--price` specs that refer to them.
//!
//! Owns reading and parsing price sheets and `--price` text. It must not compute costs
//! (`engine::economics` does).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The names of the prices as the user gave them (a sheet's model name or the numbers typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceNames {
    /// The small model's.
    pub small: String,
    /// The large model's.
    pub large: String,
    /// The comparison model's, if any.
    pub baseline: Option<String>,
}

/// A price in currency per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Price {
    /// Per million input (prompt) tokens.
    pub input: f64,
    /// Per million output (generated) tokens.
    pub output: f64,
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in / {} out per million tokens",
            self.input, self.output
        )
    }
}

/// A price and where it came from ("0.25:1.25", or a model name and its sheet).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPrice {
    /// The price.
    pub price: Price,
    /// How the user named it, for the summary.
    pub name: String,
}

/// The built-in example prices: list prices as published by the providers on this date. They
/// change; keep your own sheet with `--prices`.
pub const BUILTIN_AS_OF: &str = "2024-08-01";

const BUILTIN: &str = r#"
[models.gpt-4o-mini]
input = 0.15
output = 0.60

[models.gpt-4o]
input = 2.50
output = 10.00

[models.claude-3-haiku]
input = 0.25
output = 1.25

[models.claude-3-5-sonnet]
input = 3.00
output = 15.00

[models.claude-3-opus]
input = 15.00
output = 75.00
"#;

/// Named model prices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceSheet {
    models: BTreeMap<String, Price>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetFile {
    #[serde(default)]
    currency: Option<String>,
    models: BTreeMap<String, PriceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    input: f64,
    output: f64,
}

impl PriceSheet {
    /// Reads and parses the price sheet at `path`.
    pub fn read(path: &std::path::Path) -> Result<PriceSheet> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the price sheet", path.display()))?;
        PriceSheet::parse(&text, &path.display().to_string())
    }

    /// Parses a sheet (`[models.NAME] input = X output = Y`, currency per million tokens).
    pub fn parse(text: &str, source: &str) -> Result<PriceSheet> {
        let file: SheetFile =
            toml::from_str(text).with_context(|| format!("{source}: not a valid price sheet"))?;
        let _ = file.currency;
        let mut models = BTreeMap::new();
        for (name, p) in file.models {
            for (what, x) in [("input", p.input), ("output", p.output)] {
                if !(x.is_finite() && x >= 0.0) {
                    bail!(
                        "{source}: model {name:?}: {what}: expected a non-negative price, found {x}"
                    );
                }
            }
            models.insert(
                name,
                Price {
                    input: p.input,
                    output: p.output,
                },
            );
        }
        Ok(PriceSheet {
            models,
            source: source.to_string(),
        })
    }

    /// The built-in examples.
    pub fn builtin() -> PriceSheet {
        PriceSheet::parse(
            BUILTIN,
            &format!("built-in example prices (list prices as of {BUILTIN_AS_OF})"),
        )
        .expect("the built-in sheet parses")
    }

    /// The price of a model, if the sheet names it.
    pub fn get(&self, name: &str) -> Option<Price> {
        self.models.get(name).copied()
    }

    /// The model names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.models.keys().map(String::as_str).collect()
    }

    /// Where the sheet came from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Parses a price: `X` (same for input and output), `IN:OUT`, or a model name looked up in the
/// sheets in order (the user's first, then the built-in examples).
pub fn parse_price(spec: &str, sheets: &[PriceSheet]) -> Result<NamedPrice> {
    let number = |s: &str| -> Result<f64> {
        let x: f64 = s
            .trim()
            .parse()
            .with_context(|| format!("expected a price per million tokens, found {s:?}"))?;
        if !(x.is_finite() && x >= 0.0) {
            bail!("expected a non-negative price, found {s:?}");
        }
        Ok(x)
    };
    let numeric = match spec.split_once(':') {
        Some((i, o)) => i.trim().parse::<f64>().is_ok() && o.trim().parse::<f64>().is_ok(),
        None => spec.trim().parse::<f64>().is_ok(),
    };
    if numeric {
        let price = match spec.split_once(':') {
            Some((i, o)) => Price {
                input: number(i)?,
                output: number(o)?,
            },
            None => {
                let x = number(spec)?;
                Price {
                    input: x,
                    output: x,
                }
            }
        };
        return Ok(NamedPrice {
            price,
            name: spec.trim().to_string(),
        });
    }
    for sheet in sheets {
        if let Some(price) = sheet.get(spec.trim()) {
            return Ok(NamedPrice {
                price,
                name: format!("{} ({})", spec.trim(), sheet.source()),
            });
        }
    }
    let known: Vec<&str> = sheets.iter().flat_map(|s| s.names()).collect();
    bail!(
        "unknown model {spec:?}; expected a price (X or IN:OUT per million tokens) or one of: {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let sheets = [PriceSheet::builtin()];
        assert_eq!(
            parse_price("0.25", &sheets).unwrap().price,
            Price {
                input: 0.25,
                output: 0.25
            }
        );
        assert_eq!(
            parse_price("3:15", &sheets).unwrap().price,
            Price {
                input: 3.0,
                output: 15.0
            }
        );
        let named = parse_price("claude-3-haiku", &sheets).unwrap();
        assert_eq!(named.price.output, 1.25);
        assert!(named.name.contains("as of 2024-08-01"));
        let err = parse_price("gpt-9", &sheets).unwrap_err().to_string();
        assert!(err.contains("unknown model \"gpt-9\""), "{err}");
        let err = parse_price("-1", &sheets).unwrap_err().to_string();
        assert!(err.contains("expected a non-negative price"), "{err}");
    }

    #[test]
    fn user_sheet_wins_and_is_validated() {
        let mine = PriceSheet::parse(
            "currency = \"EUR\"\n[models.claude-3-haiku]\ninput = 0.2\noutput = 1.0\n",
            "prices.toml",
        )
        .unwrap();
        let sheets = [mine, PriceSheet::builtin()];
        let p = parse_price("claude-3-haiku", &sheets).unwrap();
        assert_eq!(p.price.input, 0.2);
        assert_eq!(p.name, "claude-3-haiku (prices.toml)");
        let bad = PriceSheet::parse("[models.x]\ninput = -1\noutput = 1\n", "p.toml");
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("expected a non-negative price")
        );
        assert!(PriceSheet::parse("[models.x]\ninput = 1\n", "p.toml").is_err());
    }
}
