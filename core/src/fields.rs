//! The canonical field list and its Bybit wire names.
//!
//! Bybit spells the same quantity differently on REST (`bid1Price`, `markIv`) and WebSocket
//! (`bidPrice`, `markPriceIv`); everything past the feeder uses the snake_case canonical name.

/// One of the 24 numeric ticker fields. The discriminant is the field's index in [`FIELDS`]
/// and its bit in a presence mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    BidPrice,
    BidSize,
    BidIv,
    AskPrice,
    AskSize,
    AskIv,
    LastPrice,
    HighPrice24h,
    LowPrice24h,
    MarkPrice,
    IndexPrice,
    MarkIv,
    UnderlyingPrice,
    OpenInterest,
    Turnover24h,
    Volume24h,
    TotalVolume,
    TotalTurnover,
    Delta,
    Gamma,
    Vega,
    Theta,
    PredictedDeliveryPrice,
    Change24h,
}

pub const FIELD_COUNT: usize = 24;

/// Every field, in canonical order.
pub const FIELDS: [Field; FIELD_COUNT] = [
    Field::BidPrice,
    Field::BidSize,
    Field::BidIv,
    Field::AskPrice,
    Field::AskSize,
    Field::AskIv,
    Field::LastPrice,
    Field::HighPrice24h,
    Field::LowPrice24h,
    Field::MarkPrice,
    Field::IndexPrice,
    Field::MarkIv,
    Field::UnderlyingPrice,
    Field::OpenInterest,
    Field::Turnover24h,
    Field::Volume24h,
    Field::TotalVolume,
    Field::TotalTurnover,
    Field::Delta,
    Field::Gamma,
    Field::Vega,
    Field::Theta,
    Field::PredictedDeliveryPrice,
    Field::Change24h,
];

// (canonical, REST ticker name, WebSocket ticker name), indexed by `Field as usize`.
const NAMES: [(&str, &str, &str); FIELD_COUNT] = [
    ("bid_price", "bid1Price", "bidPrice"),
    ("bid_size", "bid1Size", "bidSize"),
    ("bid_iv", "bid1Iv", "bidIv"),
    ("ask_price", "ask1Price", "askPrice"),
    ("ask_size", "ask1Size", "askSize"),
    ("ask_iv", "ask1Iv", "askIv"),
    ("last_price", "lastPrice", "lastPrice"),
    ("high_price_24h", "highPrice24h", "highPrice24h"),
    ("low_price_24h", "lowPrice24h", "lowPrice24h"),
    ("mark_price", "markPrice", "markPrice"),
    ("index_price", "indexPrice", "indexPrice"),
    ("mark_iv", "markIv", "markPriceIv"),
    ("underlying_price", "underlyingPrice", "underlyingPrice"),
    ("open_interest", "openInterest", "openInterest"),
    ("turnover_24h", "turnover24h", "turnover24h"),
    ("volume_24h", "volume24h", "volume24h"),
    ("total_volume", "totalVolume", "totalVolume"),
    ("total_turnover", "totalTurnover", "totalTurnover"),
    ("delta", "delta", "delta"),
    ("gamma", "gamma", "gamma"),
    ("vega", "vega", "vega"),
    ("theta", "theta", "theta"),
    (
        "predicted_delivery_price",
        "predictedDeliveryPrice",
        "predictedDeliveryPrice",
    ),
    ("change_24h", "change24h", "change24h"),
];

impl Field {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }
    pub fn from_index(i: usize) -> Option<Field> {
        FIELDS.get(i).copied()
    }
    /// snake_case name used by the module, the web API and JSON.
    pub fn name(self) -> &'static str {
        NAMES[self as usize].0
    }
    /// Name in a REST `/v5/market/tickers` item.
    pub fn rest_name(self) -> &'static str {
        NAMES[self as usize].1
    }
    /// Name in a WebSocket `tickers.SYMBOL` push.
    pub fn ws_name(self) -> &'static str {
        NAMES[self as usize].2
    }

    /// Canonical or either wire name, in any letter case (no two names differ only by case).
    pub fn parse(text: &str) -> Option<Field> {
        Field::from_canonical(text).or_else(|| {
            NAMES
                .iter()
                .position(|(_, rest, ws)| {
                    rest.eq_ignore_ascii_case(text) || ws.eq_ignore_ascii_case(text)
                })
                .and_then(Field::from_index)
        })
    }

    pub fn from_canonical(text: &str) -> Option<Field> {
        NAMES
            .iter()
            .position(|(c, _, _)| c.eq_ignore_ascii_case(text))
            .and_then(Field::from_index)
    }

    /// REST or WebSocket name, exact case, as the exchange sends it. A `match` rather than a
    /// table scan: the feeder calls this for every field of every push.
    pub fn from_wire(text: &str) -> Option<Field> {
        use Field::*;
        Some(match text {
            "bid1Price" | "bidPrice" => BidPrice,
            "bid1Size" | "bidSize" => BidSize,
            "bid1Iv" | "bidIv" => BidIv,
            "ask1Price" | "askPrice" => AskPrice,
            "ask1Size" | "askSize" => AskSize,
            "ask1Iv" | "askIv" => AskIv,
            "lastPrice" => LastPrice,
            "highPrice24h" => HighPrice24h,
            "lowPrice24h" => LowPrice24h,
            "markPrice" => MarkPrice,
            "indexPrice" => IndexPrice,
            "markIv" | "markPriceIv" => MarkIv,
            "underlyingPrice" => UnderlyingPrice,
            "openInterest" => OpenInterest,
            "turnover24h" => Turnover24h,
            "volume24h" => Volume24h,
            "totalVolume" => TotalVolume,
            "totalTurnover" => TotalTurnover,
            "delta" => Delta,
            "gamma" => Gamma,
            "vega" => Vega,
            "theta" => Theta,
            "predictedDeliveryPrice" => PredictedDeliveryPrice,
            "change24h" => Change24h,
            _ => return None,
        })
    }
}

/// Fields a row has beside the 24 numbers, derived from the symbol or kept by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derived {
    Symbol,
    Underlying,
    Expiry,
    ExpiryTs,
    Strike,
    Type,
    Settle,
    UpdatedMs,
}

pub const DERIVED: [Derived; 8] = [
    Derived::Symbol,
    Derived::Underlying,
    Derived::Expiry,
    Derived::ExpiryTs,
    Derived::Strike,
    Derived::Type,
    Derived::Settle,
    Derived::UpdatedMs,
];

impl Derived {
    pub fn name(self) -> &'static str {
        match self {
            Derived::Symbol => "symbol",
            Derived::Underlying => "underlying",
            Derived::Expiry => "expiry",
            Derived::ExpiryTs => "expiry_ts",
            Derived::Strike => "strike",
            Derived::Type => "type",
            Derived::Settle => "settle",
            Derived::UpdatedMs => "updated_ms",
        }
    }
}

/// Any column of a row: a derived one or one of the 24 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Derived(Derived),
    Value(Field),
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::Derived(d) => d.name(),
            Column::Value(f) => f.name(),
        }
    }

    /// Canonical names (any case) of derived and numeric columns, and the wire names.
    pub fn parse(text: &str) -> Option<Column> {
        DERIVED
            .iter()
            .find(|d| d.name().eq_ignore_ascii_case(text))
            .map(|d| Column::Derived(*d))
            .or_else(|| Field::parse(text).map(Column::Value))
    }

    /// Every column in the order a full row lists them.
    pub fn all() -> impl Iterator<Item = Column> {
        DERIVED[..7]
            .iter()
            .map(|d| Column::Derived(*d))
            .chain(FIELDS.iter().map(|f| Column::Value(*f)))
            .chain(std::iter::once(Column::Derived(Derived::UpdatedMs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in FIELDS {
            assert_eq!(Field::from_canonical(f.name()), Some(f));
            assert_eq!(Field::from_canonical(&f.name().to_uppercase()), Some(f));
            assert_eq!(Field::from_wire(f.rest_name()), Some(f));
            assert_eq!(Field::from_wire(f.ws_name()), Some(f));
            assert_eq!(Column::parse(f.name()), Some(Column::Value(f)));
        }
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
    }

    #[test]
    fn rest_and_ws_differ_where_bybit_differs() {
        assert_eq!(Field::from_wire("bid1Price"), Some(Field::BidPrice));
        assert_eq!(Field::from_wire("bidPrice"), Some(Field::BidPrice));
        assert_eq!(Field::from_wire("markIv"), Some(Field::MarkIv));
        assert_eq!(Field::from_wire("markPriceIv"), Some(Field::MarkIv));
        assert_eq!(Field::from_wire("bogus"), None);
        assert_eq!(Field::parse("MARK_IV"), Some(Field::MarkIv));
        assert_eq!(Field::parse("MARKPRICEIV"), Some(Field::MarkIv));
        assert_eq!(Field::from_wire("MARKPRICEIV"), None);
    }

    #[test]
    fn full_row_has_32_columns_symbol_first() {
        let all: Vec<Column> = Column::all().collect();
        assert_eq!(all.len(), 32);
        assert_eq!(all[0], Column::Derived(Derived::Symbol));
        assert_eq!(all[31], Column::Derived(Derived::UpdatedMs));
    }
}
