//! Bybit option symbols: `BTC-26DEC25-100000-C` (USDC-settled) and
//! `XRP-28NOV26-2.35-C-USDT` (USDT-settled).

use std::fmt;

use crate::error::ParseError;
use crate::expiry::Expiry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OptionType {
    Call,
    Put,
}

impl OptionType {
    /// `call` / `put`, the canonical JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OptionType::Call => "call",
            OptionType::Put => "put",
        }
    }
    /// `C` / `P`, as in symbols.
    pub fn letter(self) -> char {
        match self {
            OptionType::Call => 'C',
            OptionType::Put => 'P',
        }
    }
    /// Accepts `call`, `put`, `c`, `p` in any case.
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("call") || text.eq_ignore_ascii_case("c") {
            Some(OptionType::Call)
        } else if text.eq_ignore_ascii_case("put") || text.eq_ignore_ascii_case("p") {
            Some(OptionType::Put)
        } else {
            None
        }
    }
}

/// The coin a contract settles in. Bybit's plain symbols settle in USDC; a `-USDT` suffix
/// marks USDT settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Settle {
    Usdc,
    Usdt,
}

impl Settle {
    pub fn as_str(self) -> &'static str {
        match self {
            Settle::Usdc => "USDC",
            Settle::Usdt => "USDT",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("usdc") {
            Some(Settle::Usdc)
        } else if text.eq_ignore_ascii_case("usdt") {
            Some(Settle::Usdt)
        } else {
            None
        }
    }
}

/// A parsed option symbol. `strike_text` keeps the exchange's spelling of the strike so that
/// the canonical symbol can be rebuilt exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    pub base: String,
    pub expiry: Expiry,
    pub strike: f64,
    pub strike_text: String,
    pub kind: OptionType,
    pub settle: Settle,
}

impl Symbol {
    /// The exchange's spelling: unpadded expiry, upper case, `-USDT` only for USDT settlement.
    pub fn canonical(&self) -> String {
        let mut s = format!(
            "{}-{}-{}-{}",
            self.base,
            self.expiry.code(),
            self.strike_text,
            self.kind.letter()
        );
        if self.settle == Settle::Usdt {
            s.push_str("-USDT");
        }
        s
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Longest base coin accepted; Bybit's are 3–5 letters, this leaves room without letting a
/// garbage argument become a huge allocation.
const MAX_BASE_LEN: usize = 16;
const MAX_STRIKE_LEN: usize = 24;

/// Parses a symbol in any letter case. Expiry may be padded or not.
pub fn parse_symbol(text: &str) -> Result<Symbol, ParseError> {
    let bad = || ParseError::Symbol(text.to_string());
    let mut parts = text.split('-');
    let (Some(base), Some(expiry), Some(strike), Some(kind)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let settle = match parts.next() {
        None => Settle::Usdc,
        Some(s) => match Settle::parse(s) {
            Some(Settle::Usdt) => Settle::Usdt,
            // Bybit never spells out USDC; accepting it would make two names for one contract.
            _ => return Err(bad()),
        },
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    if base.is_empty()
        || base.len() > MAX_BASE_LEN
        || !base.bytes().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(bad());
    }
    let expiry = Expiry::parse(expiry).map_err(|_| bad())?;
    let (strike_value, strike_text) = parse_strike(strike).map_err(|_| bad())?;
    let kind = match kind {
        "C" | "c" => OptionType::Call,
        "P" | "p" => OptionType::Put,
        _ => return Err(bad()),
    };
    Ok(Symbol {
        base: base.to_ascii_uppercase(),
        expiry,
        strike: strike_value,
        strike_text,
        kind,
        settle,
    })
}

/// A strike as Bybit writes it: digits with at most one decimal point, positive. Returns the
/// value and the text (trailing zeros after a decimal point are kept as written).
pub fn parse_strike(text: &str) -> Result<(f64, String), ParseError> {
    let bad = || ParseError::Strike(text.to_string());
    if text.is_empty() || text.len() > MAX_STRIKE_LEN {
        return Err(bad());
    }
    let mut dots = 0;
    for c in text.bytes() {
        match c {
            b'0'..=b'9' => {}
            b'.' => dots += 1,
            _ => return Err(bad()),
        }
    }
    if dots > 1 || text.starts_with('.') || text.ends_with('.') {
        return Err(bad());
    }
    let value: f64 = text.parse().map_err(|_| bad())?;
    if !(value > 0.0 && value.is_finite()) {
        return Err(bad());
    }
    Ok((value, text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usdc_symbol() {
        let s = parse_symbol("BTC-26DEC25-100000-C").unwrap();
        assert_eq!(s.base, "BTC");
        assert_eq!(s.expiry, Expiry::parse("26DEC25").unwrap());
        assert_eq!(s.strike, 100_000.0);
        assert_eq!(s.kind, OptionType::Call);
        assert_eq!(s.settle, Settle::Usdc);
        assert_eq!(s.canonical(), "BTC-26DEC25-100000-C");
    }

    #[test]
    fn usdt_symbol_with_decimal_strike() {
        let s = parse_symbol("XRP-28NOV26-2.35-P-USDT").unwrap();
        assert_eq!(s.base, "XRP");
        assert_eq!(s.strike, 2.35);
        assert_eq!(s.strike_text, "2.35");
        assert_eq!(s.kind, OptionType::Put);
        assert_eq!(s.settle, Settle::Usdt);
        assert_eq!(s.canonical(), "XRP-28NOV26-2.35-P-USDT");
    }

    #[test]
    fn normalises_case_and_padding() {
        let s = parse_symbol("eth-03sep25-4000-p").unwrap();
        assert_eq!(s.canonical(), "ETH-3SEP25-4000-P");
        let s = parse_symbol("sol-3SEP25-200-c-usdt").unwrap();
        assert_eq!(s.canonical(), "SOL-3SEP25-200-C-USDT");
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "BTC",
            "BTC-26DEC25",
            "BTC-26DEC25-100000",
            "BTC-26DEC25-100000-X",
            "BTC-26DEC25-100000-C-USDC",
            "BTC-26DEC25-100000-C-USDT-X",
            "BTC-26DEC25--C",
            "BTC-26DEC25-0-C",
            "BTC-26DEC25--5-C",
            "BTC-26DEC25-1e5-C",
            "BTC-26DEC25-1..5-C",
            "BTC-26DEC25-.5-C",
            "BTC-26DEC25-5.-C",
            "BTC-31FEB25-100-C",
            "-26DEC25-100-C",
            "B_C-26DEC25-100-C",
            "BTC-26DEC25-NaN-C",
            "BTC-26DEC25-inf-C",
        ] {
            assert!(parse_symbol(text).is_err(), "{text:?} should be rejected");
        }
    }

    proptest! {
        #[test]
        fn canonical_round_trips(
            base in "[A-Z]{2,5}",
            days in 19_000i64..30_000,
            int_part in 1u32..2_000_000,
            frac in proptest::option::of(1u32..100),
            call in any::<bool>(),
            usdt in any::<bool>(),
        ) {
            let expiry = Expiry::from_unix_days(days).unwrap();
            let strike = match frac { Some(f) => format!("{int_part}.{f}"), None => int_part.to_string() };
            let text = format!("{base}-{}-{strike}-{}{}", expiry.code(), if call {"C"} else {"P"}, if usdt {"-USDT"} else {""});
            let s = parse_symbol(&text).unwrap();
            prop_assert_eq!(s.canonical(), text.clone());
            prop_assert_eq!(parse_symbol(&s.canonical()).unwrap(), s.clone());
            let padded = text.replacen(&expiry.code(), &expiry.padded(), 1);
            prop_assert_eq!(parse_symbol(&padded).unwrap(), s);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_symbol(&s);
        }
    }
}
