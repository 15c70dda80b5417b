//! Number text in and out. Output is the shortest text that parses back to the same `f64`, so
//! a value survives JSON, RESP and AOF bit-exactly.

use crate::error::ParseError;

/// Parses a finite decimal number; rejects empty text, NaN and infinities.
pub fn parse_number(text: &str) -> Result<f64, ParseError> {
    let t = text.trim();
    // Rust's parser accepts "inf", "nan" and "infinity"; none is a market value.
    if t.is_empty()
        || t.bytes()
            .any(|c| c.is_ascii_alphabetic() && c != b'e' && c != b'E')
    {
        return Err(ParseError::Number(text.to_string()));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ParseError::Number(text.to_string())),
    }
}

/// Appends the shortest round-tripping text of a finite `v`; integral values within 2^53 are
/// written without a fraction (`100000`, not `100000.0`). Non-finite values are written as
/// `null`, which keeps JSON valid (they are never stored).
pub fn write_number(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        if v == 0.0 && v.is_sign_negative() {
            out.extend_from_slice(b"-0");
            return;
        }
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(v as i64).as_bytes());
        return;
    }
    let mut b = ryu::Buffer::new();
    out.extend_from_slice(b.format_finite(v).as_bytes());
}

pub fn format_number(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_number(&mut out, v);
    // write_number emits ASCII only
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats() {
        assert_eq!(format_number(100000.0), "100000");
        assert_eq!(format_number(2.35), "2.35");
        assert_eq!(format_number(1e-5), "0.00001");
        assert_eq!(format_number(1.5e-9), "1.5e-9");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(format_number(f64::NAN), "null");
    }

    #[test]
    fn parses_strictly() {
        assert_eq!(parse_number("0.65").unwrap(), 0.65);
        assert_eq!(parse_number("-12").unwrap(), -12.0);
        assert_eq!(parse_number("1e-05").unwrap(), 1e-5);
        for bad in [
            "",
            " ",
            "abc",
            "nan",
            "NaN",
            "inf",
            "-infinity",
            "1e999",
            "0x10",
            "1,5",
        ] {
            assert!(parse_number(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_bit_exactly(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let text = format_number(v);
            prop_assert_eq!(parse_number(&text).unwrap().to_bits(), v.to_bits());
        }
    }
}
