//! Bybit V5 JSON, written by hand: the sim must produce exactly Bybit's shapes (every value a
//! string) and do it fast enough for 100k pushes a second.

use std::fmt::Write;

use options_core::bybit::{Envelope, LotSizeFilter, OptionInstrument, Page, PriceFilter};
use options_core::{format_number, OptionType, Settle, FIELDS};
use serde_json::{json, Value};

use crate::market::Contract;

/// The REST envelope of one page: `{"retCode":0,"retMsg":"OK","result":{"category":"option",
/// ["nextPageCursor":…,] "list":[…]},"retExtInfo":{},"time":…}`.
pub fn envelope<I>(
    list: Vec<I>,
    next_page_cursor: Option<String>,
    now_ms: i64,
) -> Envelope<Page<I>> {
    Envelope::ok(
        Page {
            category: "option".into(),
            next_page_cursor,
            list,
        },
        now_ms,
    )
}

pub fn error_envelope(code: i64, msg: &str, now_ms: i64) -> Value {
    json!({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": now_ms})
}

/// The WebSocket reply to `{"op":"ping"}`.
pub fn pong(req_id: &str, conn_id: &str, now_ms: i64) -> String {
    json!({"req_id": req_id, "op": "pong", "args": [now_ms.to_string()], "conn_id": conn_id})
        .to_string()
}

/// The WebSocket reply to a `subscribe` or `unsubscribe` request.
pub fn command_reply(
    op: &str,
    req_id: &str,
    conn_id: &str,
    ok: &[String],
    failed: &[String],
) -> String {
    json!({
        "success": failed.is_empty(),
        "ret_msg": if failed.is_empty() { "" } else { "error:some topics were rejected" },
        "conn_id": conn_id,
        "req_id": req_id,
        "op": op,
        "data": {"successTopics": ok, "failTopics": failed},
        "type": "COMMAND_RESP",
    })
    .to_string()
}

/// One `instruments-info` item.
pub fn instrument(c: &Contract, base: &str, tick: f64) -> OptionInstrument {
    let tick = format_number(tick);
    OptionInstrument {
        symbol: c.symbol.clone(),
        status: "Trading".into(),
        base_coin: base.into(),
        quote_coin: if c.settle == Settle::Usdt {
            "USDT"
        } else {
            "USD"
        }
        .into(),
        settle_coin: c.settle.as_str().into(),
        options_type: match c.kind {
            OptionType::Call => "Call",
            OptionType::Put => "Put",
        }
        .into(),
        launch_time: c.launch_ms.to_string(),
        delivery_time: c.expiry.timestamp_ms().to_string(),
        delivery_fee_rate: "0.00015".into(),
        price_filter: PriceFilter {
            min_price: tick.clone(),
            max_price: "10000000".into(),
            tick_size: tick,
        },
        lot_size_filter: LotSizeFilter {
            max_order_qty: "500".into(),
            min_order_qty: "0.01".into(),
            qty_step: "0.01".into(),
        },
    }
}

/// One REST `tickers` item (REST field names: `bid1Price`, `markIv`, …).
pub fn rest_ticker(c: &Contract) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("symbol".into(), Value::String(c.symbol.clone()));
    for f in FIELDS {
        m.insert(
            f.rest_name().into(),
            Value::String(format_number(c.values[f.index()])),
        );
    }
    Value::Object(m)
}

/// A WebSocket `tickers.SYMBOL` snapshot push (WebSocket names: `bidPrice`, `markPriceIv`, …).
pub fn ws_push(c: &Contract, now_ms: i64, seq: u64) -> String {
    let mut s = String::with_capacity(720);
    let _ = write!(
        s,
        r#"{{"id":"tickers.{sym}-{seq}","topic":"tickers.{sym}","ts":{now_ms},"data":{{"symbol":"{sym}""#,
        sym = c.symbol
    );
    for f in FIELDS {
        let _ = write!(
            s,
            r#","{}":"{}""#,
            f.ws_name(),
            format_number(c.values[f.index()])
        );
    }
    s.push_str(r#"},"type":"snapshot"}"#);
    s
}

/// Frames a broken exchange might send; the feeder must survive every one.
pub fn garbage_frames(symbol: &str) -> Vec<String> {
    vec![
        "{not json".to_string(),
        String::new(),
        "null".to_string(),
        "[1,2,3]".to_string(),
        r#"{"topic":"tickers.","type":"snapshot","data":{}}"#.to_string(),
        format!(r#"{{"topic":"tickers.{symbol}","type":"snapshot","data":"oops"}}"#),
        format!(r#"{{"topic":"tickers.{symbol}","type":"snapshot","data":{{"symbol":"{symbol}","markPrice":"abc","delta":{{}}}}}}"#),
        r#"{"topic":"tickers.NOPE-1JAN30-1-C","type":"snapshot","data":{"symbol":"NOPE-1JAN30-1-C","markPrice":"1"}}"#.to_string(),
        format!(r#"{{"topic":"tickers.{symbol}","type":"snapshot","data":{{"symbol":"{symbol}","markPrice":"1e999"}}}}"#),
        "\u{0}\u{1}\u{2}".to_string(),
        format!(r#"{{"topic":"tickers.{symbol}","type":"snapshot","data":{{"symbol":"#),
    ]
}

/// A `publicTrade.<BASE>` push: Bybit's option trade fields (`T` time, `s` symbol, `S` taker
/// side, `v` size, `p` price, `i` trade id, `BT` block trade, `iv`, `mIv` mark IV, `mP` mark
/// price, `iP` index price), every value a string but `BT`.
pub fn trade_push(
    base: &str,
    trades: &[(&crate::market::MarketTrade, &Contract)],
    now_ms: i64,
) -> String {
    let v = |c: &Contract, f: options_core::Field| format_number(c.values[f.index()]);
    let data: Vec<Value> = trades
        .iter()
        .map(|(t, c)| {
            json!({
                "T": t.ts,
                "s": c.symbol,
                "S": if t.buy { "Buy" } else { "Sell" },
                "v": format_number(t.size),
                "p": format_number(t.price),
                "L": "PlusTick",
                "i": format!("{:x}-{:04x}", t.id, t.id % 0xffff),
                "BT": t.block,
                "iv": v(c, options_core::Field::MarkIv),
                "mIv": v(c, options_core::Field::MarkIv),
                "mP": v(c, options_core::Field::MarkPrice),
                "iP": v(c, options_core::Field::IndexPrice),
            })
        })
        .collect();
    json!({"id": format!("publicTrade.{base}-{now_ms}"), "topic": format!("publicTrade.{base}"), "type": "snapshot", "ts": now_ms, "data": data})
        .to_string()
}
