//! `calibrate economics`: the what-if table as text and as CSV. Formatting only.

use std::fmt::Write;

use anyhow::Result;

use super::format::pct;
use crate::engine::economics::{WhatIf, WhatIfRow, WhatIfSummary};
use crate::input::prices::{Price, PriceNames};

/// The table as aligned text for the terminal.
pub fn what_if_text(
    w: &WhatIf,
    names: &PriceNames,
    rows: &[WhatIfRow],
    s: &WhatIfSummary,
) -> String {
    let mut o = String::new();
    assumptions(w, names, &mut o);
    table(rows, &mut o);
    totals(s, &mut o);
    o
}

/// The volumes and prices the table assumes.
fn assumptions(w: &WhatIf, names: &PriceNames, o: &mut String) {
    let (small, large, baseline) = (&names.small, &names.large, &names.baseline);
    let price = |name: &str, p: Price| {
        let numeric = name.chars().all(|c| c.is_ascii_digit() || ".:".contains(c));
        if numeric {
            format!("{} / {}", p.input, p.output)
        } else {
            format!("{name}: {} / {}", p.input, p.output)
        }
    };
    let _ = writeln!(
        o,
        "{} requests of {} input + {} output tokens; prices per million tokens (input / output): \
         small {}, large {}{}",
        w.requests,
        w.input_tokens,
        w.output_tokens,
        price(small, w.small),
        price(large, w.large),
        match (baseline, w.baseline) {
            (Some(name), Some(p)) => format!(", baseline {}", price(name, p)),
            _ => String::new(),
        }
    );
    let _ = writeln!(
        o,
        "The small model is paid on every request, the large model on escalated ones.\n"
    );
}

/// One line per escalation rate.
fn table(rows: &[WhatIfRow], o: &mut String) {
    let _ = writeln!(
        o,
        "{:>10}  {:>14}  {:>14}  {:>14}  {:>11}  {:>15}  {:>24}",
        "escalation",
        "small model",
        "large model",
        "cascade total",
        "vs baseline",
        "vs always-large",
        "post's formula (savings)"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "{:>10}  {:>14.2}  {:>14.2}  {:>14.2}  {:>11}  {:>15}  {:>24}",
            pct(r.escalation),
            r.small_total,
            r.large_total,
            r.cascade_total,
            opt_pct(r.savings_vs_baseline),
            opt_pct(r.savings_vs_large),
            format!(
                "{:.2} ({})",
                r.post_formula_total,
                opt_pct(r.post_formula_savings_vs_baseline)
            ),
        );
    }
}

/// The single-model totals and the break-even escalation rates.
fn totals(s: &WhatIfSummary, o: &mut String) {
    let _ = writeln!(
        o,
        "\nalways-small {:.2}, always-large {:.2}{}",
        s.always_small_total,
        s.always_large_total,
        s.baseline_total
            .map(|b| format!(", baseline {b:.2}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        o,
        "break-even escalation rate: {}against always-large {}",
        s.break_even_vs_baseline
            .map(|e| format!("against the baseline {}, ", rate(e)))
            .unwrap_or_default(),
        s.break_even_vs_large
            .map(rate)
            .unwrap_or_else(|| "n/a".into())
    );
}

/// The table as CSV.
pub fn what_if_csv(rows: &[WhatIfRow]) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "escalation",
        "small_total",
        "large_total",
        "cascade_total",
        "savings_vs_baseline",
        "savings_vs_large",
        "post_formula_total",
        "post_formula_savings_vs_baseline",
    ])?;
    let opt = |x: Option<f64>| x.map(|x| format!("{x}")).unwrap_or_default();
    for r in rows {
        w.write_record([
            format!("{}", r.escalation),
            format!("{}", r.small_total),
            format!("{}", r.large_total),
            format!("{}", r.cascade_total),
            opt(r.savings_vs_baseline),
            opt(r.savings_vs_large),
            format!("{}", r.post_formula_total),
            opt(r.post_formula_savings_vs_baseline),
        ])?;
    }
    Ok(w.into_inner()?)
}

fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "n/a".into())
}

/// A break-even rate: a percentage, or what it means when outside [0, 1].
fn rate(e: f64) -> String {
    if e <= 0.0 {
        "none (the cascade never saves)".into()
    } else if e >= 1.0 {
        "none (the cascade always saves)".into()
    } else {
        format!("{:.2}%", 100.0 * e)
    }
}
