//! Numbers as integers counting a power of ten, the form both chunk encodings store: a value
//! `m × 10^e`. Reads convert tens of thousands of them, so the exact powers are looked up.

/// Powers of ten that are exact doubles (10^0 … 10^22).
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

pub fn pow10(e: i32) -> f64 {
    match usize::try_from(e) {
        Ok(i) if i < EXACT_POW10.len() => EXACT_POW10[i],
        _ => 10f64.powi(e),
    }
}

/// `m × 10^e` as the nearest double. Dividing by an exact power of ten rounds once, where
/// multiplying by 10^-k would not.
pub fn value_of(m: i64, e: i32) -> f64 {
    if e < 0 {
        m as f64 / pow10(-e)
    } else {
        m as f64 * pow10(e)
    }
}
