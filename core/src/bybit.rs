//! Bybit V5 REST shapes, typed (as barter-data keeps wire structs per exchange): what the
//! feeder and the web server read from `/v5/market/instruments-info` and `/v5/market/tickers`,
//! and what the simulator writes. Every value Bybit sends as a string stays a string here; the
//! readers parse what they use. Fields a reader can do without default when absent, so a
//! field Bybit drops or adds breaks nothing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every REST reply: `{"retCode":0,"retMsg":"OK","result":…,"retExtInfo":{},"time":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub ret_code: i64,
    #[serde(default)]
    pub ret_msg: String,
    /// Absent or `{}` on errors.
    #[serde(default = "none")]
    pub result: Option<T>,
    #[serde(default)]
    pub ret_ext_info: Value,
    #[serde(default)]
    pub time: i64,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Envelope<T> {
    /// A successful reply at `time_ms`.
    pub fn ok(result: T, time_ms: i64) -> Self {
        Envelope {
            ret_code: 0,
            ret_msg: "OK".into(),
            result: Some(result),
            ret_ext_info: Value::Object(Default::default()),
            time: time_ms,
        }
    }
}

/// One page of a listing; `I` is the item type (`Value` keeps items as the exchange wrote them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<I> {
    #[serde(default)]
    pub category: String,
    /// Only listings page; the tickers reply has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_cursor: Option<String>,
    #[serde(default = "Vec::new")]
    pub list: Vec<I>,
}

impl<I> Page<I> {
    /// The cursor of the next page, `None` on the last one.
    pub fn next(&self) -> Option<&str> {
        self.next_page_cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// One option of `instruments-info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionInstrument {
    pub symbol: String,
    /// `Trading`, `PreLaunch`, `Delivering`, …
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub base_coin: String,
    #[serde(default)]
    pub quote_coin: String,
    #[serde(default)]
    pub settle_coin: String,
    /// `Call` or `Put`.
    #[serde(default)]
    pub options_type: String,
    /// Unix ms, as text.
    #[serde(default)]
    pub launch_time: String,
    /// Unix ms, as text.
    #[serde(default)]
    pub delivery_time: String,
    #[serde(default)]
    pub delivery_fee_rate: String,
    #[serde(default)]
    pub price_filter: PriceFilter,
    #[serde(default)]
    pub lot_size_filter: LotSizeFilter,
}

impl OptionInstrument {
    pub fn is_trading(&self) -> bool {
        self.status == "Trading"
    }

    /// Delivery in Unix ms, when the exchange gave a number.
    pub fn delivery_ms(&self) -> Option<i64> {
        self.delivery_time.parse().ok()
    }

    /// The quote step, when the exchange gave a positive number.
    pub fn tick(&self) -> Option<f64> {
        crate::parse_number(&self.price_filter.tick_size)
            .ok()
            .filter(|t| *t > 0.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceFilter {
    #[serde(default)]
    pub min_price: String,
    #[serde(default)]
    pub max_price: String,
    #[serde(default)]
    pub tick_size: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LotSizeFilter {
    #[serde(default)]
    pub max_order_qty: String,
    #[serde(default)]
    pub min_order_qty: String,
    #[serde(default)]
    pub qty_step: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page as Bybit's documentation shows it (trimmed to two items), with a field this code
    /// does not know (`displayName`) and one item without filters.
    const INSTRUMENTS: &str = r#"{"retCode":0,"retMsg":"success","result":{"category":"option","nextPageCursor":"0%2C2","list":[
        {"symbol":"ETH-3JAN23-1250-P","displayName":"ETH-3JAN23-1250-P","status":"Trading","baseCoin":"ETH","quoteCoin":"USD","settleCoin":"USDC","optionsType":"Put","launchTime":"1672560000000","deliveryTime":"1672732800000","deliveryFeeRate":"0.00015","priceFilter":{"minPrice":"0.1","maxPrice":"10000000","tickSize":"0.1"},"lotSizeFilter":{"maxOrderQty":"10000","minOrderQty":"0.1","qtyStep":"0.1"}},
        {"symbol":"ETH-3JAN23-1300-C","status":"PreLaunch","deliveryTime":"soon"}
    ]},"retExtInfo":{},"time":1672712537130}"#;

    #[test]
    fn reads_an_instruments_page() {
        let env: Envelope<Page<OptionInstrument>> = serde_json::from_str(INSTRUMENTS).unwrap();
        assert_eq!((env.ret_code, env.time), (0, 1672712537130));
        let page = env.result.unwrap();
        assert_eq!(page.next(), Some("0%2C2"));
        let (a, b) = (&page.list[0], &page.list[1]);
        assert!(a.is_trading() && !b.is_trading());
        assert_eq!(a.delivery_ms(), Some(1672732800000));
        assert_eq!(a.tick(), Some(0.1));
        assert_eq!(a.settle_coin, "USDC");
        assert_eq!((b.delivery_ms(), b.tick()), (None, None));
    }

    #[test]
    fn an_error_reply_has_no_result() {
        let env: Envelope<Page<OptionInstrument>> = serde_json::from_str(
            r#"{"retCode":10001,"retMsg":"params error","result":{},"retExtInfo":{},"time":1}"#,
        )
        .unwrap();
        assert_eq!(env.ret_code, 10001);
        assert_eq!(env.result.map(|p| p.list.len()), Some(0));
        let bare: Envelope<Page<Value>> =
            serde_json::from_str(r#"{"retCode":10006,"retMsg":"Too many visits!"}"#).unwrap();
        assert!(bare.result.is_none());
    }

    #[test]
    fn writes_what_it_reads() {
        let env: Envelope<Page<OptionInstrument>> = serde_json::from_str(INSTRUMENTS).unwrap();
        let page = env.result.unwrap();
        let text = serde_json::to_string(&Envelope::ok(page.clone(), 5)).unwrap();
        let back: Envelope<Page<OptionInstrument>> = serde_json::from_str(&text).unwrap();
        assert_eq!(back.result, Some(page));
        assert!(text.starts_with(r#"{"retCode":0,"retMsg":"OK","result":{"category":"option","nextPageCursor":"0%2C2","list":[{"symbol":"ETH-3JAN23-1250-P","status":"Trading","baseCoin":"ETH""#), "{text}");
        let tickers = serde_json::to_string(&Page::<Value> {
            category: "option".into(),
            next_page_cursor: None,
            list: vec![],
        })
        .unwrap();
        assert_eq!(tickers, r#"{"category":"option","list":[]}"#);
    }
}
