//! How numbers read in text and Markdown: percentages, qualities, costs, thresholds, dates.
//! Rounding only.

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
    if !(1e-9..1e12).contains(&x.abs()) {
        return format!("{x:.3e}");
    }
    let digits = 3 - x.abs().log10().floor() as i32;
    format!("{x:.*}", digits.clamp(0, 12) as usize)
}

/// A label (segment value, field name, task type) as Markdown table cell or inline text: `|`
/// escaped, tabs and line breaks shown as `\t`, `\n`, `\r` so they cannot end a cell or a
/// row.
pub fn cell(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A threshold or other value read off the data, without float noise: the fewest decimals
/// (up to 6) that give back the value to within 1e-9 of it, so `0.30000000000000004` reads
/// `0.3` and `1.0000000000000002` reads `1`; a value that needs more reads with 4 significant
/// digits. Never a 300-digit decimal: extreme magnitudes read in scientific notation.
pub fn threshold(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let a = x.abs();
    if !(1e-4..1e9).contains(&a) {
        return format!("{x:.3e}");
    }
    for decimals in 0..=6 {
        let s = format!("{x:.decimals$}");
        if s.parse::<f64>()
            .is_ok_and(|v| (v - x).abs() <= 1e-9 * a.max(1.0))
        {
            return s;
        }
    }
    money(x)
}

/// A chain stage's threshold for people: the number without float noise, or `never` for a
/// stage that answers nothing (threshold above every confidence).
pub fn stage_threshold(t: f64) -> String {
    if t == f64::INFINITY {
        "never".into()
    } else {
        threshold(t)
    }
}

/// A row's threshold as a router applies it, for people: the number without float noise, or
/// `always_large` for "escalate everything" (the policy `recommend` prints; a number just
/// above every confidence would accept a future request more confident than any in the eval
/// set).
pub fn row_threshold(m: &crate::engine::sweep::Metrics) -> String {
    cut(m.routing_threshold())
}

/// A routing threshold for people: the number without float noise, or `always_large` for
/// infinity (accept nothing).
pub fn cut(t: f64) -> String {
    if t == f64::INFINITY {
        "always_large".into()
    } else {
        threshold(t)
    }
}

/// A window's start as UTC date (whole days) or date and time; `all` for the whole run.
pub fn window_label(start: Option<i64>, window: i64) -> String {
    let Some(start) = start else {
        return "all".into();
    };
    let (days, secs) = (start.div_euclid(86_400), start.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if window % 86_400 == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60
        )
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
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

    #[test]
    fn labels_cannot_break_a_markdown_table() {
        // Issue 13.18: a `|`, a tab or a newline in a segment value split the row.
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("tab\there"), "tab\\there");
        assert_eq!(cell("new\nline\r"), "new\\nline\\r");
        assert_eq!(cell("plain"), "plain");
    }

    #[test]
    fn thresholds_read_without_float_noise() {
        // Issue 15: no 0.6666666666666666 or 1.0000000000000002 in the report.
        assert_eq!(threshold(0.30000000000000004), "0.3");
        assert_eq!(threshold(1.0000000000000002), "1");
        assert_eq!(threshold(0.689), "0.689");
        assert_eq!(threshold(2.0 / 3.0), "0.6667");
        assert_eq!(threshold(0.6923076923076923), "0.6923");
        assert_eq!(threshold(0.0), "0");
    }

    #[test]
    fn extreme_numbers_do_not_print_as_300_digit_decimals() {
        // Issue 13.18: subnormal and huge values printed every digit.
        for (x, read) in [
            (5e-324, "4.941e-324"),
            (2.2e-308, "2.200e-308"),
            (1e307, "1.000e307"),
            (f64::MAX, "1.798e308"),
            (-1e300, "-1.000e300"),
        ] {
            assert_eq!(threshold(x), read);
        }
        for x in [5e-324, 1e307, f64::MAX] {
            assert!(money(x).len() <= 12, "{x} reads {}", money(x));
        }
    }
}
