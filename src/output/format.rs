//! How numbers read in text and Markdown: percentages, qualities, costs. Rounding only.

/// A fraction as a percentage with one decimal ("20.7%").
pub fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// A quality with four decimals, or "n/a".
pub fn opt4(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.4}")).unwrap_or_else(|| "n/a".into())
}

/// A cost with four significant digits (costs per request are often fractions of a cent).
pub fn money(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = 3 - x.abs().log10().floor() as i32;
    format!("{x:.*}", digits.clamp(0, 12) as usize)
}

/// A row's threshold as a router applies it: the number, or `always_large` for "escalate
/// everything" (the policy `recommend` prints; a number just above every confidence would
/// accept a future request more confident than any in the eval set).
pub fn threshold(m: &crate::engine::sweep::Metrics) -> String {
    cut(m.routing_threshold())
}

/// A routing threshold: the number, or `always_large` for infinity (accept nothing).
pub fn cut(t: f64) -> String {
    if t == f64::INFINITY {
        "always_large".into()
    } else {
        format!("{t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(pct(0.2066), "20.7%");
        assert_eq!(opt4(Some(0.95013)), "0.9501");
        assert_eq!(opt4(None), "n/a");
        assert_eq!(money(0.009791234), "0.009791");
        assert_eq!(money(60.0), "60.00");
        assert_eq!(money(1234.5678), "1235");
        assert_eq!(money(0.0), "0");
    }
}
