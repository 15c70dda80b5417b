//! Pure building blocks shared by every crate of the Bybit options system: symbol and expiry
//! parsing, the canonical field list with Bybit's wire names, number text that round-trips
//! bit-exactly, and Black-76 pricing. No I/O here.

pub mod alert_rule;
pub mod assets;
pub mod black76;
pub mod bybit;
pub mod clock;
pub mod error;
pub mod expiry;
pub mod fields;
pub mod figures;
#[doc(hidden)]
pub mod fuzzing;
pub mod number;
#[cfg(feature = "recording")]
pub mod recording;
pub mod svi;
pub mod symbol;

pub use alert_rule::{parse_alert_rules_json, AlertRule, Watched};
pub use black76::{Black76, Greeks};
pub use error::ParseError;
pub use expiry::Expiry;
pub use fields::{Column, Derived, Field, DERIVED, FIELDS, FIELD_COUNT};
pub use number::{format_number, parse_number, python_float, write_number};
pub use symbol::{
    parse_strike, parse_symbol, parse_venue_symbol, OptionType, Settle, Symbol, Venue,
};

/// The module's data type name as `TYPE key` reports it and RDB files record it (Redis requires
/// exactly nine characters). Clients find every chain with `SCAN … TYPE` this name.
pub const CHAIN_TYPE_NAME: &str = "optchain1";

/// The stream that holds the trades of the chain at `chain_key` (`OPTIONS.TRADE` writes it,
/// `OPTIONS.FLOW` sums it): the hash tag keeps it in the chain's Cluster slot.
pub fn tape_key(chain_key: &str) -> String {
    format!("{{{chain_key}}}:trades")
}
