use thiserror::Error;

/// Why a piece of exchange or user text was not understood. The message names the offending
/// text so that a Redis error reply or an HTTP 400 can pass it on unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("invalid expiry '{0}' (expected e.g. 3SEP25, 03SEP25 or 2025-09-03)")]
    Expiry(String),
    #[error(
        "invalid symbol '{0}' (expected BASE-EXPIRY-STRIKE-C|P or BASE-EXPIRY-STRIKE-C|P-USDT)"
    )]
    Symbol(String),
    #[error(
        "invalid Deribit symbol '{0}' (expected BTC-EXPIRY-STRIKE-C|P, ETH-…, or BASE_USDC-EXPIRY-STRIKE-C|P with a decimal point written d, e.g. XRP_USDC-24JAN27-0d625-C)"
    )]
    DeribitSymbol(String),
    #[error("invalid strike '{0}' (expected a positive decimal number)")]
    Strike(String),
    #[error("invalid number '{0}'")]
    Number(String),
    #[error(
        "invalid time '{0}' (expected e.g. 2026-12-01T09:00:00Z, 2026-12-01 or Unix milliseconds)"
    )]
    Instant(String),
    #[error("unknown field '{0}'")]
    Field(String),
}
