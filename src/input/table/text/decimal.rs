//! Plain decimals read without the full float parser: the CSV reader's common case.
//!
//! Owns one conversion, exact for what it accepts; everything else is left to `str::parse`.
//! It must not decide what a cell means.

/// 10^0 to 10^22, each exactly a double.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A cell that is a plain decimal (`-12.5`: an optional minus, digits, an optional point and
/// digits; at most 15 digits, at most 22 after the point) as the nearest double, by Clinger's
/// exact path: the digits and the power of ten are both exact doubles, so one division rounds
/// once, as a full parse does. `None` for any other cell, which takes the full parse.
pub fn decimal(cell: &[u8]) -> Option<f64> {
    let (negative, rest) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, cell),
    };
    let (mut mantissa, mut digits, mut scale) = (0u64, 0u32, 0i32);
    let mut fraction = false;
    for &c in rest {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                scale -= i32::from(fraction);
                if digits > 15 {
                    return None;
                }
            }
            b'.' if !fraction => fraction = true,
            _ => return None,
        }
    }
    if digits == 0 || scale < -22 {
        return None;
    }
    let x = mantissa as f64 / POW10[(-scale) as usize];
    Some(if negative { -x } else { x })
}
