//! Log timestamps: RFC 3339 text to seconds since the epoch, by hand (no date crate).
//!
//! Owns the accepted spellings. It must not decide between text and epoch numbers (the reader
//! does).

/// Seconds since the epoch of an RFC 3339 date-time (`2026-01-31T12:00:00.5Z`,
/// `2026-01-31 12:00:00+02:00`); `None` for anything else.
pub(super) fn rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let int = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (int(0..4)?, int(5..7)?, int(8..10)?);
    let (h, mi, sec) = (int(11..13)?, int(14..16)?, int(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", &r[..digits]).parse().ok()?;
        rest = &r[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb[3] != b':' || !matches!(rb[0], b'+' | b'-') {
                return None;
            }
            let (oh, om) = (
                rest[1..3].parse::<i64>().ok()?,
                rest[4..6].parse::<i64>().ok()?,
            );
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) as f64 + frac)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_epoch_seconds_worked_by_hand() {
        // 2026-01-31: 20,484 days after 1970-01-01 (`date -u -d 2026-01-31 +%s` = 1769817600).
        assert_eq!(rfc3339("2026-01-31T00:00:00Z"), Some(1_769_817_600.0));
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        // 02:00 at +02:00 is midnight UTC; fractions are kept.
        assert_eq!(rfc3339("1970-01-02T02:00:00.5+02:00"), Some(86_400.5));
        assert_eq!(rfc3339("2024-02-29 12:00:00Z"), Some(1_709_208_000.0));
        assert_eq!(rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(rfc3339("yesterday"), None);
    }
}
