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

/// Splits ryu's text into sign, significant digits and the exponent `e` of `d.ddd × 10^e`.
fn decompose(text: &str) -> (&'static str, String, i32) {
    let (sign, body) = match text.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", text),
    };
    let (mantissa, exp) = match body.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int}{frac}");
    let leading = all.bytes().take_while(|b| *b == b'0').count();
    let digits = all[leading..].trim_end_matches('0');
    if digits.is_empty() {
        return (sign, "0".into(), 0);
    }
    // The first significant digit sits `int.len() - 1 - leading` places left of the point.
    let e = exp + int.len() as i32 - 1 - leading as i32;
    (sign, digits.to_string(), e)
}

/// Python's `str(float)` / `repr(float)`: the seed wrote every hash value this way
/// (`100000.0`, `0.5`, `1e-05`, `1.5e+16`), and seed-compatible outputs must match it.
pub fn python_float(v: f64) -> String {
    // Fast path: ryu's fixed notation is Python's wherever Python does not switch to an
    // exponent (it always keeps a fraction: `100000.0`). Everything else takes the slow path.
    if v.is_finite() && (v == 0.0 || v.abs() >= 1e-4) {
        let mut b = ryu::Buffer::new();
        let s = b.format_finite(v);
        if !s.contains('e') {
            return s.to_string();
        }
    }
    python_float_slow(v)
}

fn python_float_slow(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // ryu's digits: shortest, and on a tie the even one, as Python's repr (Rust's `{:e}` can
    // round a tie the other way: 29718897183227.8125 → …813, Python …812).
    let (sign, digits, exp) = decompose(ryu::Buffer::new().format_finite(v));
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let text = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!(
            "{sign}{first}{frac}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
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

    #[test]
    fn python_repr() {
        for (v, want) in [
            (100000.0, "100000.0"),
            (0.5, "0.5"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-0.00012, "-0.00012"),
            (1.5e16, "1.5e+16"),
            (1e16, "1e+16"),
            (123456789012345.6, "123456789012345.6"),
            (0.0, "0.0"),
            (-2.0, "-2.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::from_bits(4808445240455855056), "29718897183227.812"),
            (1.5e-7, "1.5e-07"),
            (-1e22, "-1e+22"),
            (123456789.0, "123456789.0"),
        ] {
            assert_eq!(python_float(v), want, "{v:e}");
        }
    }

    proptest! {
        #[test]
        fn python_fast_path_agrees(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            prop_assert_eq!(python_float(v), python_float_slow(v));
        }

        #[test]
        fn python_fast_path_agrees_on_market_values(v in -1e7f64..1e7) {
            prop_assert_eq!(python_float(v), python_float_slow(v));
        }

        #[test]
        fn python_repr_round_trips(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            prop_assert_eq!(python_float(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
        }

        #[test]
        fn round_trips_bit_exactly(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let text = format_number(v);
            prop_assert_eq!(parse_number(&text).unwrap().to_bits(), v.to_bits());
        }
    }
}
