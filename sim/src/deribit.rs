//! Deribit's side of the bundled exchange: the same simulated market, listed and quoted as
//! Deribit lists and quotes it (../shared/VENUES.md). BTC and ETH options are inverse (prices in
//! the coin, `BTC-5NOV26-16000-C`); the others linear in USDC (`XRP_USDC-24JAN27-0d625-C`, sizes
//! in contracts of `multiplier` coins). IVs are percent, an empty book side is `null` with a
//! `bid_iv` of 0. Deribit prices its options a little apart from Bybit: every IV here is
//! [`VOL_OFFSET`] points higher and every premium moved by vega times that offset.
//!
//! JSON-RPC envelopes (`jsonrpc`, `id`, `result` or `error`, `usIn`, `usOut`, `usDiff`) are built
//! here, from the market alone; the REST routes are `deribit_rest.rs`, the socket protocol
//! `deribit_socket.rs`.

use std::collections::HashMap;

use options_core::{format_number, Field, OptionType, Settle};
use serde_json::{json, Map, Value};

use crate::clock::now_ms;
use crate::market::{Contract, Market};

/// Vol points Deribit's IVs sit above Bybit's in the simulation.
pub const VOL_OFFSET: f64 = 1.5;

/// Whether `base` has inverse (coin-settled) options on Deribit.
pub fn is_inverse(base: &str) -> bool {
    base == "BTC" || base == "ETH"
}

/// Coins per contract of a linear option (Deribit's `contract_size`).
pub fn multiplier(base: &str) -> f64 {
    match base {
        "SOL" => 10.0,
        "XRP" => 1000.0,
        _ => 1.0,
    }
}

/// The currency Deribit lists `base`'s options under (`get_instruments?currency=`).
pub fn currency_of(base: &str) -> &'static str {
    match base {
        "BTC" => "BTC",
        "ETH" => "ETH",
        _ => "USDC",
    }
}

fn base_of(c: &Contract) -> &str {
    c.symbol.split('-').next().unwrap_or("")
}

/// Deribit's name of a contract, or `None` when Deribit does not list it: one instrument per
/// expiry, strike and type, from the USDC-settled contract (the USDT one where Bybit lists no
/// USDC twin).
pub fn name_of(market: &Market, c: &Contract) -> Option<String> {
    let listed = match c.settle {
        Settle::Usdc => true,
        Settle::Usdt => c
            .symbol
            .strip_suffix("-USDT")
            .is_none_or(|plain| market.get(plain).is_none()),
        _ => false,
    };
    if !listed {
        return None;
    }
    let base = base_of(c);
    let strike = format_number(c.strike).replace('.', "d");
    let kind = match c.kind {
        OptionType::Call => 'C',
        OptionType::Put => 'P',
    };
    let prefix = if is_inverse(base) {
        base.to_string()
    } else {
        format!("{base}_USDC")
    };
    Some(format!("{prefix}-{}-{strike}-{kind}", c.expiry.code()))
}

/// Every Deribit instrument of the market: name → index into `market.contracts()`.
pub fn listing(market: &Market) -> HashMap<String, usize> {
    market
        .contracts()
        .iter()
        .enumerate()
        .filter_map(|(i, c)| name_of(market, c).map(|n| (n, i)))
        .collect()
}

/// A JSON-RPC reply with Deribit's timing fields (µs).
pub fn envelope(id: Option<&Value>, result: Value, us_in: i64) -> String {
    let us_out = now_ms() * 1000;
    let mut m = Map::new();
    m.insert("jsonrpc".into(), json!("2.0"));
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    m.insert("result".into(), result);
    m.insert("usIn".into(), json!(us_in));
    m.insert("usOut".into(), json!(us_out));
    m.insert("usDiff".into(), json!((us_out - us_in).max(0)));
    m.insert("testnet".into(), json!(false));
    Value::Object(m).to_string()
}

/// A JSON-RPC error.
pub fn error(id: Option<&Value>, code: i64, message: &str, us_in: i64) -> String {
    let us_out = now_ms() * 1000;
    json!({
        "jsonrpc": "2.0",
        "id": id.cloned().unwrap_or(Value::Null),
        "error": {"code": code, "message": message},
        "usIn": us_in,
        "usOut": us_out,
        "usDiff": (us_out - us_in).max(0),
        "testnet": false,
    })
    .to_string()
}

/// A subscription notification.
pub fn notification(channel: &str, data: Value) -> String {
    json!({"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}})
        .to_string()
}

/// Values as Deribit quotes them: premiums in the coin (inverse) or USDC, moved by the venue's
/// vol offset; `None` for an empty side.
struct Quoted {
    bid: Option<f64>,
    ask: Option<f64>,
    mark: f64,
    last: Option<f64>,
    divisor: f64,
}

fn quoted(c: &Contract) -> Quoted {
    let v = |f: Field| c.values[f.index()];
    let shift = v(Field::Vega) * VOL_OFFSET;
    let divisor = if is_inverse(base_of(c)) {
        v(Field::IndexPrice).max(1e-9)
    } else {
        1.0
    };
    let side = |x: f64| (x > 0.0).then(|| round_sig((x + shift).max(0.0) / divisor, 6));
    Quoted {
        bid: side(v(Field::BidPrice)),
        ask: side(v(Field::AskPrice)),
        mark: round_sig((v(Field::MarkPrice) + shift).max(0.0) / divisor, 6),
        last: side(v(Field::LastPrice)),
        divisor,
    }
}

fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// A fraction IV as Deribit's percent, with the venue's offset.
fn percent(x: f64) -> f64 {
    (x * 100.0 + VOL_OFFSET).max(0.0)
}

/// `ticker.{name}.100ms` data (also `public/ticker`): no perpetual fields.
pub fn ticker(c: &Contract, name: &str, now: i64) -> Value {
    let v = |f: Field| c.values[f.index()];
    let q = quoted(c);
    let m = multiplier(base_of(c));
    let amounts = |x: f64| round_sig(x / m, 6);
    let base = base_of(c);
    json!({
        "timestamp": now,
        "state": "open",
        "stats": {
            "volume": amounts(v(Field::Volume24h)),
            "volume_usd": round_sig(v(Field::Turnover24h), 8),
            "high": q.last.map(|_| round_sig(v(Field::HighPrice24h) / q.divisor, 6)),
            "low": q.last.map(|_| round_sig(v(Field::LowPrice24h) / q.divisor, 6)),
            "price_change": round_sig(v(Field::Change24h) * 100.0, 6),
        },
        "greeks": {
            "delta": v(Field::Delta),
            "gamma": v(Field::Gamma),
            "vega": v(Field::Vega),
            "theta": v(Field::Theta),
            "rho": 0.0,
        },
        "index_price": v(Field::IndexPrice),
        "instrument_name": name,
        "last_price": q.last,
        "settlement_price": q.mark,
        "min_price": round_sig(q.mark * 0.5, 6),
        "max_price": round_sig(q.mark * 1.5 + 0.0005, 6),
        "open_interest": amounts(v(Field::OpenInterest)),
        "mark_price": q.mark,
        "interest_rate": 0,
        "best_ask_price": q.ask,
        "best_bid_price": q.bid,
        "mark_iv": round_sig(percent(v(Field::MarkIv)), 6),
        "bid_iv": if q.bid.is_some() { round_sig(percent(v(Field::BidIv)), 6) } else { 0.0 },
        "ask_iv": if q.ask.is_some() { round_sig(percent(v(Field::AskIv)), 6) } else { 0.0 },
        "underlying_price": v(Field::UnderlyingPrice),
        "underlying_index": format!("SYN.{base}-{}", c.expiry.code()),
        "estimated_delivery_price": v(Field::IndexPrice),
        "best_ask_amount": if q.ask.is_some() { amounts(v(Field::AskSize)) } else { 0.0 },
        "best_bid_amount": if q.bid.is_some() { amounts(v(Field::BidSize)) } else { 0.0 },
    })
}

/// One `trades.option.{currency}.100ms` item: the coin price of an inverse option, amounts in
/// contracts, IV in percent, `block_trade_id` on a block.
pub fn trade(t: &crate::market::MarketTrade, c: &Contract, name: &str) -> Value {
    let v = |f: Field| c.values[f.index()];
    let base = base_of(c);
    let divisor = if is_inverse(base) {
        v(Field::IndexPrice).max(1e-9)
    } else {
        1.0
    };
    let shift = v(Field::Vega) * VOL_OFFSET;
    let mut item = json!({
        "trade_seq": t.id % 1_000_000,
        "trade_id": format!("DRB-{}", t.id),
        "timestamp": t.ts,
        "tick_direction": 0,
        "price": round_sig((t.price + shift).max(0.0) / divisor, 6),
        "mark_price": round_sig((v(Field::MarkPrice) + shift).max(0.0) / divisor, 6),
        "iv": round_sig(percent(v(Field::MarkIv)), 6),
        "instrument_name": name,
        "index_price": v(Field::IndexPrice),
        "direction": if t.buy { "buy" } else { "sell" },
        "amount": round_sig(t.size / multiplier(base), 6),
    });
    if t.block {
        item["block_trade_id"] = json!(format!("BLOCK-{}", t.id));
    }
    item
}

/// One `get_book_summary_by_currency` item: quotes, mark IV and OI, no greeks or bid/ask IV.
pub(crate) fn summary(c: &Contract, name: &str, now: i64) -> Value {
    let v = |f: Field| c.values[f.index()];
    let q = quoted(c);
    let base = base_of(c);
    let m = multiplier(base);
    json!({
        "instrument_name": name,
        "base_currency": base,
        "quote_currency": if is_inverse(base) { base } else { "USDC" },
        "bid_price": q.bid,
        "ask_price": q.ask,
        "mark_price": q.mark,
        "mark_iv": round_sig(percent(v(Field::MarkIv)), 6),
        "last": q.last,
        "open_interest": round_sig(v(Field::OpenInterest) / m, 6),
        "volume": round_sig(v(Field::Volume24h) / m, 6),
        "volume_usd": round_sig(v(Field::Turnover24h), 8),
        "underlying_price": v(Field::UnderlyingPrice),
        "underlying_index": format!("SYN.{base}-{}", c.expiry.code()),
        "estimated_delivery_price": v(Field::IndexPrice),
        "interest_rate": 0,
        "creation_timestamp": now,
        "price_change": round_sig(v(Field::Change24h) * 100.0, 6),
        "high": null,
        "low": null,
    })
}

/// One `get_instruments` item.
pub(crate) fn instrument(c: &Contract, name: &str) -> Value {
    let base = base_of(c);
    let inverse = is_inverse(base);
    json!({
        "instrument_name": name,
        "kind": "option",
        "option_type": match c.kind { OptionType::Call => "call", OptionType::Put => "put" },
        "strike": c.strike,
        "expiration_timestamp": c.expiry.timestamp_ms(),
        "creation_timestamp": c.launch_ms,
        "settlement_currency": if inverse { base } else { "USDC" },
        "base_currency": base,
        "quote_currency": if inverse { base } else { "USDC" },
        "counter_currency": "USD",
        "contract_size": if inverse { 1.0 } else { multiplier(base) },
        "tick_size": if inverse { 0.0005 } else { 0.0001 },
        "min_trade_amount": if inverse { 0.1 } else { 1.0 },
        "is_active": true,
        "state": "open",
        "settlement_period": "day",
        "instrument_id": c.launch_ms % 1_000_000,
    })
}

/// The contracts listed under `currency` (BTC, ETH or USDC), in chain order, with their names.
pub(crate) fn listed_under<'m>(market: &'m Market, currency: &str) -> Vec<(String, &'m Contract)> {
    let mut out: Vec<(String, &Contract)> = market
        .contracts()
        .iter()
        .filter(|c| currency_of(base_of(c)).eq_ignore_ascii_case(currency))
        .filter_map(|c| name_of(market, c).map(|n| (n, c)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::AssetSpec;

    #[test]
    fn names_and_units_follow_deribit() {
        let market = Market::new(
            &[AssetSpec::named("BTC"), AssetSpec::named("XRP")],
            3,
            1,
            1_790_000_000_000,
        );
        let names = listing(&market);
        assert!(names
            .keys()
            .any(|n| n.starts_with("BTC-") && n.ends_with("-C")));
        assert!(names
            .keys()
            .any(|n| n.starts_with("XRP_USDC-") && n.contains('d')));
        // One instrument per expiry, strike and type: BTC's USDT twins are not listed again.
        let btc_usdc = market
            .contracts()
            .iter()
            .filter(|c| c.symbol.starts_with("BTC-") && c.settle == Settle::Usdc)
            .count();
        assert_eq!(
            names.keys().filter(|n| n.starts_with("BTC-")).count(),
            btc_usdc
        );
        for (name, &i) in &names {
            let c = market.contract(i);
            let t = ticker(c, name, 1);
            let v = |f: Field| c.values[f.index()];
            assert_eq!(t["instrument_name"], name.as_str());
            let mark = t["mark_price"].as_f64().unwrap();
            let usd = v(Field::MarkPrice) + v(Field::Vega) * VOL_OFFSET;
            if name.starts_with("BTC-") {
                let want = usd / v(Field::IndexPrice);
                assert!((mark - want).abs() <= 1e-5 * want.max(1e-9), "{name}");
            } else {
                assert!((mark - usd).abs() <= 1e-5 * usd.max(1e-9), "{name}");
            }
            let iv = t["mark_iv"].as_f64().unwrap();
            assert!((iv - (v(Field::MarkIv) * 100.0 + VOL_OFFSET)).abs() < 1e-3);
            assert!(t.get("current_funding").is_none());
            if t["best_bid_price"].is_null() {
                assert_eq!(t["bid_iv"], 0.0);
            }
        }
    }
}
