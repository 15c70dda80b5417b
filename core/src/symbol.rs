//! Option symbols as each venue writes them. Bybit: `BTC-26DEC25-100000-C` (USDC-settled) and
//! `XRP-28NOV26-2.35-C-USDT` (USDT-settled). Deribit: `BTC-26DEC25-100000-C` (inverse: settled
//! in BTC) and `XRP_USDC-24JAN25-0d625-C` (linear, USDC-settled, a decimal point written `d`).
//! A chain stores each venue's own names, so a user finds a contract by the name the venue shows.

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
/// marks USDT settlement. Deribit's inverse options settle in their base coin, BTC or ETH (the
/// only two it lists inverse), its `_USDC` ones in USDC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Settle {
    Usdc,
    Usdt,
    Btc,
    Eth,
}

impl Settle {
    /// Every settle coin, in the order chains sort them.
    pub const ALL: [Settle; 4] = [Settle::Usdc, Settle::Usdt, Settle::Btc, Settle::Eth];
    /// The names `Settle::parse` accepts, for error messages.
    pub const NAMES: &'static str = "USDC, USDT, BTC or ETH";

    pub fn as_str(self) -> &'static str {
        match self {
            Settle::Usdc => "USDC",
            Settle::Usdt => "USDT",
            Settle::Btc => "BTC",
            Settle::Eth => "ETH",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Settle::ALL
            .into_iter()
            .find(|s| text.eq_ignore_ascii_case(s.as_str()))
    }
    /// Whether a premium is quoted in the settle coin of an inverse option (a coin, not USD).
    pub fn is_inverse(self) -> bool {
        matches!(self, Settle::Btc | Settle::Eth)
    }
}

/// The exchange a chain comes from. Bybit's chains keep the seed's keys (`BTC`); every other
/// venue's live under `<venue>:<UNDERLYING>` (`deribit:BTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Venue {
    Bybit,
    Deribit,
}

impl Venue {
    pub const ALL: [Venue; 2] = [Venue::Bybit, Venue::Deribit];

    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Bybit => "bybit",
            Venue::Deribit => "deribit",
        }
    }

    /// `bybit` or `deribit`, any case.
    pub fn parse(text: &str) -> Option<Self> {
        Venue::ALL
            .into_iter()
            .find(|v| text.eq_ignore_ascii_case(v.as_str()))
    }

    /// The venue and underlying of a chain key: `deribit:BTC` → (Deribit, `BTC`); a key without
    /// a known venue prefix is Bybit's, whole.
    pub fn of_key(key: &str) -> (Venue, &str) {
        match key.split_once(':') {
            Some((prefix, rest)) if prefix == Venue::Deribit.as_str() => (Venue::Deribit, rest),
            _ => (Venue::Bybit, key),
        }
    }

    /// The chain key of `underlying` on this venue.
    pub fn key(self, underlying: &str) -> String {
        match self {
            Venue::Bybit => underlying.to_string(),
            other => format!("{}:{underlying}", other.as_str()),
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
    pub venue: Venue,
}

impl Symbol {
    /// The venue's spelling: unpadded expiry, upper case; on Bybit `-USDT` only for USDT
    /// settlement, on Deribit `_USDC` after the base of a linear option.
    pub fn canonical(&self) -> String {
        let base = match (self.venue, self.settle) {
            (Venue::Deribit, Settle::Usdc) => format!("{}_USDC", self.base),
            _ => self.base.clone(),
        };
        let mut s = format!(
            "{base}-{}-{}-{}",
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

/// Parses a Bybit symbol in any letter case. Expiry may be padded or not.
pub fn parse_symbol(text: &str) -> Result<Symbol, ParseError> {
    parse_venue_symbol(Venue::Bybit, text)
}

/// Parses a symbol as `venue` writes it, in any letter case.
pub fn parse_venue_symbol(venue: Venue, text: &str) -> Result<Symbol, ParseError> {
    match venue {
        Venue::Bybit => parse_bybit(text),
        Venue::Deribit => parse_deribit(text),
    }
}

fn valid_base(base: &str) -> bool {
    !base.is_empty()
        && base.len() <= MAX_BASE_LEN
        && base.bytes().all(|c| c.is_ascii_alphanumeric())
}

fn parse_kind(kind: &str) -> Option<OptionType> {
    match kind {
        "C" | "c" => Some(OptionType::Call),
        "P" | "p" => Some(OptionType::Put),
        _ => None,
    }
}

/// `BTC-5NOV22-16000-C` (inverse: BTC and ETH only) or `XRP_USDC-24JAN25-0d625-C` (linear).
fn parse_deribit(text: &str) -> Result<Symbol, ParseError> {
    let bad = || ParseError::DeribitSymbol(text.to_string());
    let parts: Vec<&str> = text.splitn(5, '-').collect();
    let [base_part, expiry, strike, kind] = parts[..] else {
        return Err(bad());
    };
    let (base, settle) = match base_part.split_once('_') {
        Some((base, quote)) if quote.eq_ignore_ascii_case("usdc") => {
            (base.to_ascii_uppercase(), Settle::Usdc)
        }
        Some(_) => return Err(bad()),
        None => {
            let base = base_part.to_ascii_uppercase();
            match Settle::parse(&base) {
                Some(coin) if coin.is_inverse() => (base, coin),
                // Deribit lists inverse options on BTC and ETH only.
                _ => return Err(bad()),
            }
        }
    };
    if !valid_base(&base) {
        return Err(bad());
    }
    let expiry = Expiry::parse(expiry).map_err(|_| bad())?;
    // A decimal point is written `d` (`0d625`); the value parses with a point, the text keeps
    // Deribit's spelling.
    if strike.contains('.') {
        return Err(bad());
    }
    let strike_text = strike.to_ascii_lowercase();
    let (strike_value, _) = parse_strike(&strike_text.replace('d', ".")).map_err(|_| bad())?;
    let kind = parse_kind(kind).ok_or_else(bad)?;
    Ok(Symbol {
        base,
        expiry,
        strike: strike_value,
        strike_text,
        kind,
        settle,
        venue: Venue::Deribit,
    })
}

fn parse_bybit(text: &str) -> Result<Symbol, ParseError> {
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
    if !valid_base(base) {
        return Err(bad());
    }
    let expiry = Expiry::parse(expiry).map_err(|_| bad())?;
    let (strike_value, strike_text) = parse_strike(strike).map_err(|_| bad())?;
    let kind = parse_kind(kind).ok_or_else(bad)?;
    Ok(Symbol {
        base: base.to_ascii_uppercase(),
        expiry,
        strike: strike_value,
        strike_text,
        kind,
        settle,
        venue: Venue::Bybit,
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

    #[test]
    fn deribit_names() {
        let s = parse_venue_symbol(Venue::Deribit, "BTC-5NOV26-16000-C").unwrap();
        assert_eq!(
            (s.base.as_str(), s.strike, s.settle),
            ("BTC", 16_000.0, Settle::Btc)
        );
        assert_eq!(s.canonical(), "BTC-5NOV26-16000-C");
        let s = parse_venue_symbol(Venue::Deribit, "xrp_usdc-24jan27-0d625-p").unwrap();
        assert_eq!(
            (s.base.as_str(), s.strike, s.settle),
            ("XRP", 0.625, Settle::Usdc)
        );
        assert_eq!(s.kind, OptionType::Put);
        assert_eq!(s.canonical(), "XRP_USDC-24JAN27-0d625-P");
        let s = parse_venue_symbol(Venue::Deribit, "ETH-26DEC26-4000-P").unwrap();
        assert_eq!(s.settle, Settle::Eth);
        for text in [
            "SOL-26DEC26-200-C",
            "XRP_USDT-24JAN27-0d625-C",
            "XRP_USDC-24JAN27-0.625-C",
            "XRP_USDC-24JAN27-0d6d25-C",
            "BTC-26DEC26-100000-C-USDT",
            "_USDC-26DEC26-1-C",
        ] {
            assert!(
                parse_venue_symbol(Venue::Deribit, text).is_err(),
                "{text} should be rejected"
            );
        }
        // The same text is a different contract on each venue: Bybit's plain name settles in USDC.
        assert_eq!(
            parse_symbol("BTC-5NOV26-16000-C").unwrap().settle,
            Settle::Usdc
        );
        assert!(parse_symbol("XRP_USDC-24JAN27-0d625-C").is_err());
    }

    #[test]
    fn keys_name_their_venue() {
        assert_eq!(Venue::of_key("deribit:BTC"), (Venue::Deribit, "BTC"));
        assert_eq!(Venue::of_key("BTC"), (Venue::Bybit, "BTC"));
        assert_eq!(Venue::of_key("okx:BTC"), (Venue::Bybit, "okx:BTC"));
        assert_eq!(Venue::Deribit.key("ETH"), "deribit:ETH");
        assert_eq!(Venue::Bybit.key("ETH"), "ETH");
        assert_eq!(Settle::parse("eth"), Some(Settle::Eth));
        assert_eq!(Settle::parse("sol"), None);
    }

    proptest! {
        #[test]
        fn deribit_canonical_round_trips(
            base in "[A-Z]{2,5}",
            days in 19_000i64..30_000,
            int_part in 0u32..2_000_000,
            frac in proptest::option::of(1u32..1000),
            call in any::<bool>(),
        ) {
            prop_assume!(int_part > 0 || frac.is_some());
            let expiry = Expiry::from_unix_days(days).unwrap();
            let strike = match frac { Some(f) => format!("{int_part}d{f}"), None => int_part.to_string() };
            let text = format!("{base}_USDC-{}-{strike}-{}", expiry.code(), if call {"C"} else {"P"});
            let s = parse_venue_symbol(Venue::Deribit, &text).unwrap();
            prop_assert_eq!(s.canonical(), text);
            prop_assert_eq!(parse_venue_symbol(Venue::Deribit, &s.canonical()).unwrap(), s);
        }

        #[test]
        fn deribit_never_panics(s in "\\PC{0,40}") {
            let _ = parse_venue_symbol(Venue::Deribit, &s);
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
