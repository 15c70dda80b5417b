//! `OPTIONS.FLOW key [EXPIRY e …] [FROM ms] [TO ms] [BYSTRIKE] [BUCKET s] [MIN_NOTIONAL usd]
//! [NOW ms] [FORMAT RESP|JSON]`: the chain's option flow, summed inside Redis over the trades of
//! its tape with `FROM ≤ ts ≤ TO` (default: the 24 hours before `NOW`, the server's time).
//! Totals and per expiry: trades, buy/sell/net volume, buy/sell/net premium (size × price, USD,
//! signed by the taker's side), block trades and volume; `BYSTRIKE` the calls' and puts' net
//! premium and volume per strike; `BUCKET s` a series `[[bucket_start, net_premium,
//! block_volume], …]` over every bucket (aligned to `FROM`) from the first to the last holding
//! a selected trade.

use options_core::clock::now_ms;
use options_core::Expiry;
use redis_module::{Context, RedisError, RedisResult, RedisString};

use super::keyspace::{err, text_args};
use super::tape::with_tape;
use crate::args::{self, ArgCursor, ArgResult, Format, OutputOptions};
use crate::flow::{flow, Selection, Sums, TooManyBuckets, MAX_BUCKETS};
use crate::reply::{Points, Reply};

const COMMAND: &str = "OPTIONS.FLOW";
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowArgs {
    pub expiries: Vec<Expiry>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub by_strike: bool,
    pub bucket_s: Option<i64>,
    pub min_notional: Option<f64>,
    pub now: Option<i64>,
    pub format: Format,
}

impl FlowArgs {
    /// The arguments after the key.
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let mut out = FlowArgs::default();
        let mut cur = ArgCursor::new(argv);
        let time = |name: &str, cur: &mut ArgCursor| -> ArgResult<i64> {
            let v = args::parse_i64(name, cur.value_for(name, "a time in Unix milliseconds")?)?;
            if v < 0 {
                return Err(format!("ERR {name} must not be negative, got '{v}'"));
            }
            Ok(v)
        };
        while let Some(kw) = cur.next() {
            match kw.to_ascii_uppercase().as_str() {
                "EXPIRY" => {
                    out.expiries
                        .push(args::parse_expiry(cur.value_for("EXPIRY", "an expiry")?)?);
                    // More expiries may follow without repeating the keyword.
                    while let Some(e) = cur.peek().and_then(|t| Expiry::parse(t).ok()) {
                        cur.next();
                        out.expiries.push(e);
                    }
                }
                "FROM" => out.from = Some(time("FROM", &mut cur)?),
                "TO" => out.to = Some(time("TO", &mut cur)?),
                "NOW" => out.now = Some(args::parse_now(&mut cur)?),
                "BYSTRIKE" => out.by_strike = true,
                "BUCKET" => {
                    let s =
                        args::parse_i64("BUCKET", cur.value_for("BUCKET", "a number of seconds")?)?;
                    if s < 1 {
                        return Err(format!("ERR BUCKET must be at least 1 second, got '{s}'"));
                    }
                    out.bucket_s = Some(s);
                }
                "MIN_NOTIONAL" => {
                    let v = args::parse_f64(
                        "MIN_NOTIONAL",
                        cur.value_for("MIN_NOTIONAL", "an amount in USD")?,
                    )?;
                    if v < 0.0 {
                        return Err(format!("ERR MIN_NOTIONAL must not be negative, got '{v}'"));
                    }
                    out.min_notional = Some(v);
                }
                "FORMAT" => {
                    let mut o = OutputOptions::default();
                    o.try_parse(kw, &mut cur)?;
                    out.format = o.format;
                }
                _ => return Err(args::unknown_keyword(kw, COMMAND)),
            }
        }
        out.expiries.sort();
        out.expiries.dedup();
        Ok(out)
    }

    /// The selection at `now` (ms): the window, checked.
    pub fn selection(&self, now: i64) -> ArgResult<Selection> {
        let to = self.to.unwrap_or(now);
        let from = self.from.unwrap_or(to.saturating_sub(DAY_MS));
        if from > to {
            return Err(format!("ERR FROM ({from}) is after TO ({to})"));
        }
        Ok(Selection {
            expiries: self.expiries.clone(),
            from,
            to,
            min_notional: self.min_notional,
            by_strike: self.by_strike,
            bucket_ms: self.bucket_s.map(|s| s * 1000),
        })
    }
}

fn sums<'a>(mut fields: Vec<(&'static str, Reply<'a>)>, s: &Sums) -> Reply<'a> {
    fields.extend([
        ("trades", Reply::Int(s.trades as i64)),
        ("buy_volume", Reply::Num(s.buy_volume)),
        ("sell_volume", Reply::Num(s.sell_volume)),
        ("net_volume", Reply::Num(s.net_volume())),
        ("buy_premium", Reply::Num(s.buy_premium)),
        ("sell_premium", Reply::Num(s.sell_premium)),
        ("net_premium", Reply::Num(s.net_premium())),
        ("block_trades", Reply::Int(s.block_trades as i64)),
        ("block_volume", Reply::Num(s.block_volume)),
    ]);
    Reply::Map(fields)
}

pub fn flow_cmd(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let req = FlowArgs::parse(&argv[2..]).map_err(err)?;
    let sel = req.selection(req.now.unwrap_or_else(now_ms)).map_err(err)?;
    let key = argv[1];
    with_tape(ctx, key, |tape, _| {
        let f = flow(tape, &sel).map_err(|TooManyBuckets(n)| {
            RedisError::String(format!(
                "ERR BUCKET {} makes {n} buckets between the first and the last trade; at most {MAX_BUCKETS}",
                req.bucket_s.unwrap_or_default()
            ))
        })?;
        let Reply::Map(mut top) = sums(
            vec![
                ("underlying", Reply::text(key)),
                ("from", Reply::Int(sel.from)),
                ("to", Reply::Int(sel.to)),
            ],
            &f.totals,
        ) else {
            unreachable!("sums answers a map")
        };
        let expiries = f
            .expiries
            .iter()
            .map(|(e, s)| sums(vec![("expiry", Reply::text(e.code()))], s))
            .collect();
        top.push(("expiries", Reply::Array(expiries)));
        if sel.by_strike {
            let strikes = f
                .strikes
                .iter()
                .map(|(k, s)| {
                    Reply::Map(vec![
                        ("strike", Reply::Num(*k)),
                        ("call_net_premium", Reply::Num(s.call_net_premium)),
                        ("call_net_volume", Reply::Num(s.call_net_volume)),
                        ("put_net_premium", Reply::Num(s.put_net_premium)),
                        ("put_net_volume", Reply::Num(s.put_net_volume)),
                    ])
                })
                .collect();
            top.push(("strikes", Reply::Array(strikes)));
        }
        if sel.bucket_ms.is_some() {
            let mut points = Points::with_capacity(2, f.buckets.len());
            for (start, net, block) in &f.buckets {
                points.push(*start, [Some(*net), Some(*block)]);
            }
            top.push(("buckets", Reply::Points(points)));
        }
        Reply::Map(top).send(ctx, req.format)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_arguments() {
        let a = FlowArgs::parse(&[
            "EXPIRY",
            "26DEC26",
            "3JAN27",
            "FROM",
            "1000",
            "to",
            "5000",
            "BYSTRIKE",
            "BUCKET",
            "60",
            "MIN_NOTIONAL",
            "1e5",
            "NOW",
            "9000",
            "FORMAT",
            "JSON",
        ])
        .unwrap();
        assert_eq!(a.expiries.len(), 2);
        assert_eq!((a.from, a.to, a.now), (Some(1000), Some(5000), Some(9000)));
        assert!(a.by_strike);
        assert_eq!((a.bucket_s, a.min_notional), (Some(60), Some(100_000.0)));
        assert_eq!(a.format, Format::Json);
        let s = a.selection(9000).unwrap();
        assert_eq!((s.from, s.to, s.bucket_ms), (1000, 5000, Some(60_000)));
        let d = FlowArgs::parse(&[]).unwrap().selection(DAY_MS * 3).unwrap();
        assert_eq!(
            (d.from, d.to),
            (DAY_MS * 2, DAY_MS * 3),
            "the 24 h before NOW"
        );
    }

    #[test]
    fn bad_arguments_name_themselves() {
        let e = |argv: &[&str]| {
            FlowArgs::parse(argv)
                .and_then(|a| a.selection(10_000_000))
                .unwrap_err()
        };
        assert!(e(&["EXPIRY"]).contains("EXPIRY needs"));
        assert!(e(&["EXPIRY", "31FEB26"]).contains("invalid expiry"));
        assert!(e(&["FROM", "x"]).contains("FROM must be an integer"));
        assert!(e(&["TO", "-1"]).contains("TO must not be negative"));
        assert!(e(&["BUCKET", "0"]).contains("BUCKET must be at least 1"));
        assert!(e(&["MIN_NOTIONAL", "-5"]).contains("MIN_NOTIONAL must not be negative"));
        assert!(e(&["FROM", "5000", "TO", "1000"]).contains("after TO"));
        // A wide window finely cut is fine: the buckets span the trades, not the window.
        assert!(
            FlowArgs::parse(&["FROM", "0", "TO", "1000000000", "BUCKET", "1"])
                .and_then(|a| a.selection(10_000_000))
                .is_ok()
        );
        assert!(e(&["FORMAT", "CSV"]).contains("FORMAT must be RESP or JSON"));
        assert!(e(&["LIMIT", "1"]).contains("unknown argument 'LIMIT'"));
    }
}
