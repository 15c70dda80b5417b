//! Bybit frames in: WebSocket pushes, command replies and REST ticker items, parsed without
//! copying more than the values and validated so that nothing garbled reaches Redis.

use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

use compact_str::{CompactString, ToCompactString};
use options_core::{Field, Venue};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A field's value as the exchange wrote it. Numbers are short, so the text is held inline, not
/// on the heap: a ticker has some twenty of them, and at the simulator's full rate a `String`
/// each was a quarter of the feeder's time in malloc and free.
pub type FieldText = CompactString;

/// The latest values of one contract from one push. Values keep the exchange's text: it goes
/// to Redis unchanged and Redis parses it once.
#[derive(Debug, Clone, PartialEq)]
pub struct TickerUpdate {
    /// The venue the values come from: it names the Redis key (`BTC`, `deribit:BTC`).
    pub venue: Venue,
    pub symbol: String,
    pub fields: Vec<(Field, FieldText)>,
    /// The exchange's timestamp (ms), when the frame had one.
    pub exchange_ts: Option<i64>,
    pub received: Instant,
}

impl TickerUpdate {
    /// The underlying: the symbol's first dash-separated part (before `_USDC` on Deribit).
    pub fn underlying(&self) -> &str {
        let first = self.symbol.split('-').next().unwrap_or("");
        first.split('_').next().unwrap_or(first)
    }

    /// The Redis key of the contract's chain: the underlying on Bybit (the seed's keys),
    /// `<venue>:<underlying>` elsewhere.
    pub fn base(&self) -> Cow<'_, str> {
        match self.venue {
            Venue::Bybit => Cow::Borrowed(self.underlying()),
            other => Cow::Owned(other.key(self.underlying())),
        }
    }

    /// The contract's identity across venues (the same name can be listed on two).
    pub fn slot(&self) -> String {
        slot_of(self.venue, &self.symbol)
    }

    /// Merges a newer update into this one: newer values win, fields the newer one lacks stay.
    pub fn merge(&mut self, newer: TickerUpdate) {
        for (f, v) in newer.fields {
            match self.fields.iter_mut().find(|(g, _)| *g == f) {
                Some(slot) => slot.1 = v,
                None => self.fields.push((f, v)),
            }
        }
        if newer.exchange_ts.is_some() {
            self.exchange_ts = newer.exchange_ts;
        }
        self.received = newer.received;
    }
}

/// A contract's identity across venues: Bybit's symbol as is, others' behind their venue.
pub fn slot_of(venue: Venue, symbol: &str) -> String {
    match venue {
        Venue::Bybit => symbol.to_string(),
        other => format!("{}:{symbol}", other.as_str()),
    }
}

/// One trade from a venue, in the model's units, for `OPTIONS.TRADE`.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeUpdate {
    pub venue: Venue,
    pub record: options_client::cmd::TradeRecord,
    pub received: Instant,
}

impl TradeUpdate {
    /// The Redis key of the trade's chain (`BTC`, `deribit:BTC`).
    pub fn key(&self) -> String {
        let first = self.record.symbol.split('-').next().unwrap_or("");
        self.venue.key(first.split('_').next().unwrap_or(first))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Ticker(TickerUpdate),
    /// A `publicTrade.<BASE>` push: its topic and trades.
    Trades {
        topic: String,
        trades: Vec<TradeUpdate>,
    },
    Pong,
    /// Reply to subscribe/unsubscribe.
    Command {
        op: String,
        success: bool,
        message: String,
        failed: Vec<String>,
    },
    /// Anything else well-formed (e.g. a linear-style reply): ignored.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Garbled(pub String);

impl fmt::Display for Garbled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(borrow, default)]
    topic: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    op: Option<Cow<'a, str>>,
    #[serde(default)]
    ts: Option<i64>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(borrow, default)]
    ret_msg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// A ticker object's fields: `symbol` and the known numeric fields; others are skipped.
struct TickerData {
    symbol: Option<String>,
    fields: Vec<(Field, FieldText)>,
}

impl<'de> Deserialize<'de> for TickerData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TickerData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ticker object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TickerData, A::Error> {
                let mut out = TickerData {
                    symbol: None,
                    fields: Vec::with_capacity(24),
                };
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    if key == "symbol" {
                        out.symbol = Some(map.next_value::<Text>()?.0.into());
                    } else if let Some(field) = Field::from_wire(&key) {
                        let Text(v) = map.next_value()?;
                        // Empty means "no value" on Bybit; missing fields stay unchanged.
                        if v.is_empty() {
                            continue;
                        }
                        if options_core::parse_number(&v).is_err() {
                            return Err(de::Error::custom(format!("{key} is not a number: {v:?}")));
                        }
                        out.fields.push((field, v));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// A map key, borrowed from the frame unless it had escapes (serde's own `Cow` always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A string, or a number written back as text (Bybit sends strings; accept numbers anyway).
struct Text(FieldText);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(FieldText::new(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(FieldText::new(options_core::format_number(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_compact_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_compact_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
struct CommandData {
    #[serde(default, rename = "failTopics")]
    fail_topics: Vec<String>,
}

/// Parses one WebSocket text frame.
pub fn parse_frame(text: &str, received: Instant) -> Result<Frame, Garbled> {
    let raw: RawFrame<'_> =
        serde_json::from_str(text).map_err(|e| Garbled(format!("not a Bybit frame: {e}")))?;
    if let Some(topic) = raw.topic.as_deref() {
        if let Some(base) = topic.strip_prefix("publicTrade.") {
            let data = raw
                .data
                .ok_or_else(|| Garbled(format!("push for {topic} without data")))?;
            let items: Vec<BybitTrade> = serde_json::from_str(data.get())
                .map_err(|e| Garbled(format!("bad trades for {topic}: {e}")))?;
            let trades = items
                .into_iter()
                .map(|t| t.into_update(base, received))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Frame::Trades {
                topic: topic.to_string(),
                trades,
            });
        }
        let Some(sym) = topic.strip_prefix("tickers.") else {
            return Ok(Frame::Other);
        };
        let data = raw
            .data
            .ok_or_else(|| Garbled(format!("push for {topic} without data")))?;
        let t: TickerData = serde_json::from_str(data.get())
            .map_err(|e| Garbled(format!("bad ticker for {topic}: {e}")))?;
        let symbol = t.symbol.unwrap_or_else(|| sym.to_string());
        if symbol != sym || symbol.is_empty() {
            return Err(Garbled(format!("push on {topic} names symbol {symbol:?}")));
        }
        return Ok(Frame::Ticker(TickerUpdate {
            venue: Venue::Bybit,
            symbol,
            fields: t.fields,
            exchange_ts: raw.ts,
            received,
        }));
    }
    let op = raw.op.as_deref().unwrap_or("");
    let ret_msg = raw.ret_msg.as_deref().unwrap_or("");
    if op == "pong" || (op == "ping" && ret_msg == "pong") {
        return Ok(Frame::Pong);
    }
    if op == "subscribe" || op == "unsubscribe" {
        let data: CommandData = raw
            .data
            .and_then(|d| serde_json::from_str(d.get()).ok())
            .unwrap_or_default();
        return Ok(Frame::Command {
            op: op.to_string(),
            success: raw.success.unwrap_or(false),
            message: ret_msg.to_string(),
            failed: data
                .fail_topics
                .into_iter()
                .map(|t| t.strip_prefix("tickers.").map(String::from).unwrap_or(t))
                .collect(),
        });
    }
    Ok(Frame::Other)
}

/// One item of Bybit's option `publicTrade.<BASE>` push.
#[derive(Deserialize)]
struct BybitTrade {
    #[serde(rename = "T")]
    time: i64,
    #[serde(rename = "s")]
    symbol: String,
    #[serde(rename = "S")]
    side: String,
    #[serde(rename = "v")]
    size: Text,
    #[serde(rename = "p")]
    price: Text,
    #[serde(rename = "i")]
    id: String,
    #[serde(rename = "BT", default)]
    block: bool,
    #[serde(default)]
    iv: Option<Text>,
    #[serde(rename = "iP", default)]
    index: Option<Text>,
}

impl BybitTrade {
    /// Checked: the symbol is of the topic's base, the side is Buy or Sell, size above 0,
    /// price not negative, every number finite. Anything else garbles the whole frame.
    fn into_update(self, base: &str, received: Instant) -> Result<TradeUpdate, Garbled> {
        let bad = |what: &str| Garbled(format!("trade {} of {}: {what}", self.id, self.symbol));
        let parsed = options_core::parse_symbol(&self.symbol).map_err(|_| bad("not a symbol"))?;
        if parsed.base != base {
            return Err(bad("not of the topic's base coin"));
        }
        let num = |t: &Text| {
            options_core::parse_number(&t.0)
                .ok()
                .filter(|x| x.is_finite())
        };
        let opt = |t: &Option<Text>| -> Result<Option<f64>, Garbled> {
            match t.as_ref().map(|t| t.0.as_str()) {
                None | Some("") => Ok(None),
                Some(v) => options_core::parse_number(v)
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .map(Some)
                    .ok_or_else(|| bad("a number is not finite")),
            }
        };
        let buy = match self.side.as_str() {
            "Buy" | "buy" => true,
            "Sell" | "sell" => false,
            _ => return Err(bad("side is neither Buy nor Sell")),
        };
        let size = num(&self.size)
            .filter(|s| *s > 0.0)
            .ok_or_else(|| bad("size"))?;
        let price = num(&self.price)
            .filter(|p| *p >= 0.0)
            .ok_or_else(|| bad("price"))?;
        if self.time <= 0 || self.id.is_empty() {
            return Err(bad("time or id"));
        }
        Ok(TradeUpdate {
            venue: Venue::Bybit,
            record: options_client::cmd::TradeRecord {
                id: self.id.clone(),
                symbol: parsed.canonical(),
                buy,
                size,
                price,
                ts: self.time,
                iv: opt(&self.iv)?,
                index: opt(&self.index)?,
                block: self.block,
                liquidation: None,
            },
            received,
        })
    }
}

/// Parses one REST `/v5/market/tickers` item (REST field names).
/// One item of a REST `tickers` reply; `time_ms` is the reply envelope's `time` (a REST item
/// has no time of its own), kept only when it is a real instant (> 0).
pub fn parse_rest_ticker(
    item: &serde_json::Value,
    time_ms: i64,
    received: Instant,
) -> Result<TickerUpdate, Garbled> {
    let t: TickerData =
        TickerData::deserialize(item).map_err(|e| Garbled(format!("bad REST ticker: {e}")))?;
    let symbol = t
        .symbol
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Garbled("REST ticker without symbol".into()))?;
    Ok(TickerUpdate {
        venue: Venue::Bybit,
        symbol,
        fields: t.fields,
        exchange_ts: Some(time_ms).filter(|ms| *ms > 0),
        received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUSH: &str = r#"{"id":"tickers.BTC-26DEC25-100000-C-1","topic":"tickers.BTC-26DEC25-100000-C","ts":1766000000123,"data":{"symbol":"BTC-26DEC25-100000-C","bidPrice":"1200","bidSize":"1.5","bidIv":"0.51","markPrice":"1234.5","markPriceIv":"0.52","lastPrice":"","delta":"0.55","newField":"x","gamma":"1e-05"},"type":"snapshot"}"#;

    #[test]
    fn parses_a_push_with_ws_names() {
        let Frame::Ticker(t) = parse_frame(PUSH, Instant::now()).unwrap() else {
            panic!()
        };
        assert_eq!(t.symbol, "BTC-26DEC25-100000-C");
        assert_eq!(t.base(), "BTC");
        assert_eq!(t.exchange_ts, Some(1_766_000_000_123));
        let names: Vec<&str> = t.fields.iter().map(|(f, _)| f.name()).collect();
        assert_eq!(
            names,
            [
                "bid_price",
                "bid_size",
                "bid_iv",
                "mark_price",
                "mark_iv",
                "delta",
                "gamma"
            ],
            "empty lastPrice and unknown newField skipped"
        );
        assert_eq!(t.fields[3].1, "1234.5");
    }

    #[test]
    fn parses_rest_names() {
        let item = serde_json::json!({"symbol": "ETH-3SEP25-4000-P", "bid1Price": "10", "markIv": "0.7", "ask1Iv": "0.8"});
        let t = parse_rest_ticker(&item, 1_766_000_000_123, Instant::now()).unwrap();
        assert_eq!(t.fields.len(), 3);
        assert!(t.fields.contains(&(Field::MarkIv, "0.7".into())));
        assert_eq!(
            t.exchange_ts,
            Some(1_766_000_000_123),
            "the envelope's time"
        );
        let untimed = parse_rest_ticker(&item, 0, Instant::now()).unwrap();
        assert_eq!(
            untimed.exchange_ts, None,
            "an envelope without a time stamps nothing"
        );
    }

    #[test]
    fn replies_and_pongs() {
        assert_eq!(
            parse_frame(
                r#"{"op":"pong","args":["1"],"conn_id":"x"}"#,
                Instant::now()
            ),
            Ok(Frame::Pong)
        );
        assert_eq!(
            parse_frame(
                r#"{"success":true,"ret_msg":"pong","op":"ping"}"#,
                Instant::now()
            ),
            Ok(Frame::Pong)
        );
        let f = parse_frame(r#"{"success":false,"ret_msg":"no","op":"subscribe","data":{"successTopics":[],"failTopics":["tickers.X-1JAN30-1-C"]},"type":"COMMAND_RESP"}"#, Instant::now()).unwrap();
        assert_eq!(
            f,
            Frame::Command {
                op: "subscribe".into(),
                success: false,
                message: "no".into(),
                failed: vec!["X-1JAN30-1-C".into()]
            }
        );
    }

    #[test]
    fn garbage_is_refused() {
        for g in [
            "{not json",
            "",
            "null",
            "[1,2]",
            r#"{"topic":"tickers.BTC-26DEC25-1-C","data":"oops"}"#,
            r#"{"topic":"tickers.BTC-26DEC25-1-C","data":{"symbol":"BTC-26DEC25-1-C","markPrice":"abc"}}"#,
            r#"{"topic":"tickers.BTC-26DEC25-1-C","data":{"symbol":"BTC-26DEC25-1-C","markPrice":"1e999"}}"#,
            r#"{"topic":"tickers.BTC-26DEC25-1-C","data":{"symbol":"BTC-26DEC25-1-C","delta":{}}}"#,
            r#"{"topic":"tickers.BTC-26DEC25-1-C","data":{"symbol":"ETH-26DEC25-1-C","delta":"1"}}"#,
            r#"{"topic":"tickers.BTC-26DEC25-1-C"}"#,
            r#"{"topic":"tickers.BTC-26DEC25-1-C","data":{"symbol":"#,
        ] {
            let r = parse_frame(g, Instant::now());
            assert!(r.is_err() || r == Ok(Frame::Other), "{g:?} gave {r:?}");
        }
    }

    #[test]
    fn numbers_are_accepted_as_text() {
        let Frame::Ticker(t) = parse_frame(
            r#"{"topic":"tickers.A-1JAN30-1-C","data":{"markPrice":12.5,"delta":1}}"#,
            Instant::now(),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            t.fields,
            [
                (Field::MarkPrice, "12.5".into()),
                (Field::Delta, "1".into())
            ]
        );
    }

    #[test]
    fn merge_keeps_latest_values_and_old_fields() {
        let now = Instant::now();
        let mut a = TickerUpdate {
            venue: Venue::Bybit,
            symbol: "A".into(),
            fields: vec![(Field::Delta, "1".into()), (Field::Gamma, "2".into())],
            exchange_ts: Some(1),
            received: now,
        };
        a.merge(TickerUpdate {
            venue: Venue::Bybit,
            symbol: "A".into(),
            fields: vec![(Field::Delta, "3".into()), (Field::Vega, "4".into())],
            exchange_ts: None,
            received: now,
        });
        assert_eq!(
            a.fields,
            [
                (Field::Delta, "3".into()),
                (Field::Gamma, "2".into()),
                (Field::Vega, "4".into())
            ]
        );
        assert_eq!(a.exchange_ts, Some(1));
    }
}
