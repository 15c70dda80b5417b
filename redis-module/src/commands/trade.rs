//! `OPTIONS.TRADE key id symbol side size price ts [IV iv] [INDEX px] [BLOCK]
//! [LIQUIDATION M|T|MT]`: records one trade of the chain at `key` on its tape stream
//! (`{key}:trades`). 1 when recorded, 0 for a trade id the tape already holds (a venue resends
//! after a reconnect). The dedupe, the append and the trim to the retention are one step: the
//! command runs whole on Redis's thread and replicates itself, so replicas and the AOF append
//! the same entry with the same id.

use options_core::Symbol;
use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::keyspace::{err, text_args};
use super::tape::{append, trim, with_tape};
use crate::args::{self, ArgCursor, ArgResult};
use crate::chain::symbol_for_key;
use crate::flow::{Side, Trade};

const COMMAND: &str = "OPTIONS.TRADE";
/// Longest trade id kept (venues' ids are tens of characters).
const MAX_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct TradeArgs {
    pub id: String,
    pub symbol: Symbol,
    pub side: Side,
    pub size: f64,
    pub price: f64,
    pub ts: i64,
    pub iv: Option<f64>,
    pub index: Option<f64>,
    pub block: bool,
    pub liquidation: Option<&'static str>,
}

impl TradeArgs {
    /// `argv` is everything after the command name: the key first.
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let [key, id, symbol, side, size, price, ts, rest @ ..] = argv else {
            return Err(format!(
                "ERR wrong number of arguments for '{COMMAND}' command"
            ));
        };
        if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_whitespace) {
            return Err(format!(
                "ERR trade id must be 1 to {MAX_ID_LEN} characters without spaces, got '{id}'"
            ));
        }
        let symbol = symbol_for_key(key, symbol).map_err(|e| format!("ERR {e}"))?;
        let side = Side::parse(side)
            .ok_or_else(|| format!("ERR side must be buy or sell, got '{side}'"))?;
        let size = args::parse_f64("size", size)?;
        if size <= 0.0 {
            return Err(format!("ERR size must be above 0, got '{size}'"));
        }
        let price = args::parse_f64("price", price)?;
        if price < 0.0 {
            return Err(format!("ERR price must not be negative, got '{price}'"));
        }
        let ts: i64 = ts
            .parse()
            .ok()
            .filter(|t| *t > 0)
            .ok_or_else(|| format!("ERR ts must be Unix milliseconds above 0, got '{ts}'"))?;
        let mut out = TradeArgs {
            id: id.to_string(),
            symbol,
            side,
            size,
            price,
            ts,
            iv: None,
            index: None,
            block: false,
            liquidation: None,
        };
        let mut cur = ArgCursor::new(rest);
        while let Some(kw) = cur.next() {
            match kw.to_ascii_uppercase().as_str() {
                "IV" => {
                    let v = args::parse_f64("IV", cur.value_for("IV", "an implied volatility")?)?;
                    if v < 0.0 {
                        return Err(format!("ERR IV must not be negative, got '{v}'"));
                    }
                    out.iv = Some(v);
                }
                "INDEX" => {
                    let v = args::parse_f64("INDEX", cur.value_for("INDEX", "a price")?)?;
                    if v <= 0.0 {
                        return Err(format!("ERR INDEX must be above 0, got '{v}'"));
                    }
                    out.index = Some(v);
                }
                "BLOCK" => out.block = true,
                "LIQUIDATION" => {
                    let v = cur.value_for("LIQUIDATION", "M, T or MT")?;
                    out.liquidation = Some(match v.to_ascii_uppercase().as_str() {
                        "M" => "M",
                        "T" => "T",
                        "MT" => "MT",
                        _ => return Err(format!("ERR LIQUIDATION must be M, T or MT, got '{v}'")),
                    });
                }
                _ => return Err(args::unknown_keyword(kw, COMMAND)),
            }
        }
        Ok(out)
    }
}

pub fn trade(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 8 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let req = TradeArgs::parse(&argv[1..]).map_err(err)?;
    let key = argv[1];
    let retention = crate::history::settings().flow_retention_ms;
    with_tape(ctx, key, |tape, stream| {
        if tape.seen(&req.id) {
            return Ok(RedisValue::Integer(0));
        }
        let t = Trade {
            entry: tape.next_entry(req.ts),
            id: req.id.clone(),
            symbol: req.symbol.canonical(),
            expiry: req.symbol.expiry,
            strike: req.symbol.strike,
            kind: req.symbol.kind,
            side: req.side,
            size: req.size,
            price: req.price,
            iv: req.iv,
            index: req.index,
            block: req.block,
            ts: req.ts,
        };
        append(ctx, stream, &t, req.liquidation)?;
        let newest = t.entry.0;
        tape.push(t);
        // The retention counts back from the newest trade's time, not this server's clock, so
        // every copy keeps the same entries.
        let min_ms = newest.saturating_sub(retention);
        if tape.trades.front().is_some_and(|f| f.entry.0 < min_ms) {
            trim(ctx, stream, min_ms)?;
            tape.trim_before(min_ms);
        }
        ctx.replicate_verbatim();
        Ok(RedisValue::Integer(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(argv: &[&str]) -> String {
        TradeArgs::parse(argv).unwrap_err()
    }

    #[test]
    fn parses_a_trade() {
        let a = TradeArgs::parse(&[
            "BTC",
            "t-1",
            "BTC-26DEC26-100000-C",
            "Buy",
            "0.5",
            "1200",
            "1796000000000",
            "iv",
            "0.55",
            "INDEX",
            "98000",
            "block",
            "liquidation",
            "mt",
        ])
        .unwrap();
        assert_eq!(a.side, Side::Buy);
        assert_eq!((a.size, a.price, a.ts), (0.5, 1200.0, 1_796_000_000_000));
        assert_eq!((a.iv, a.index, a.block), (Some(0.55), Some(98_000.0), true));
        assert_eq!(a.liquidation, Some("MT"));
        let d = TradeArgs::parse(&[
            "deribit:XRP",
            "x",
            "XRP_USDC-26DEC26-0d625-P",
            "sell",
            "100",
            "0.01",
            "5",
        ])
        .unwrap();
        assert_eq!(d.symbol.strike, 0.625);
    }

    #[test]
    fn bad_trades_name_the_argument() {
        let base = ["BTC", "t", "BTC-26DEC26-100000-C", "buy", "1", "10", "1000"];
        let with = |i: usize, v: &str| {
            let mut a = base.to_vec();
            a[i] = v;
            e(&a)
        };
        assert!(e(&base[..6]).contains("wrong number of arguments"));
        assert!(with(1, "a b").contains("trade id"));
        assert!(with(2, "ETH-26DEC26-1-C").contains("belongs to underlying ETH"));
        assert!(with(3, "hold").contains("side must be buy or sell"));
        assert!(with(4, "0").contains("size must be above 0"));
        assert!(with(4, "x").contains("size must be a number"));
        assert!(with(5, "-1").contains("price must not be negative"));
        assert!(with(6, "0").contains("ts must be Unix milliseconds"));
        let mut more = base.to_vec();
        more.push("IV");
        assert!(e(&more).contains("IV needs"));
        more.push("-0.1");
        assert!(e(&more).contains("IV must not be negative"));
        let mut liq = base.to_vec();
        liq.extend(["LIQUIDATION", "X"]);
        assert!(e(&liq).contains("LIQUIDATION must be M, T or MT"));
        let mut odd = base.to_vec();
        odd.push("FAST");
        assert!(e(&odd).contains("unknown argument 'FAST'"));
    }
}
