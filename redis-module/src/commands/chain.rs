//! `OPTIONS.CHAIN`: calls and puts side by side per strike, with the ATM strike.

use options_core::clock::now_ms;
use options_core::{Column, Expiry, Settle};
use redis_module::{Context, RedisError, RedisResult, RedisString};

use super::keyspace::{err, text_args, with_chain};
use crate::args::{self, ArgCursor, OutputOptions};
use crate::chain::{Chain, Contract};
use crate::reply::Reply;

/// One strike line of a chain: the call and the put with the same strike and settle coin.
struct ChainLine<'a> {
    strike: f64,
    strike_text: &'a str,
    settle: Settle,
    call: Option<&'a Contract>,
    put: Option<&'a Contract>,
}

fn chain_lines<'a>(contracts: impl Iterator<Item = &'a Contract>) -> Vec<ChainLine<'a>> {
    let mut lines: Vec<ChainLine<'a>> = Vec::new();
    for c in contracts {
        // Contracts arrive in strike order, so a line for this strike, if any, is near the end.
        let existing = lines
            .iter_mut()
            .rev()
            .take_while(|l| l.strike == c.strike)
            .find(|l| l.settle == c.settle);
        let line = match existing {
            Some(l) => l,
            None => {
                lines.push(ChainLine {
                    strike: c.strike,
                    strike_text: c.strike_text(),
                    settle: c.settle,
                    call: None,
                    put: None,
                });
                let last = lines.len() - 1;
                &mut lines[last]
            }
        };
        match c.kind {
            options_core::OptionType::Call => line.call = Some(c),
            options_core::OptionType::Put => line.put = Some(c),
        }
    }
    lines.sort_by(|a, b| a.strike.total_cmp(&b.strike).then(a.settle.cmp(&b.settle)));
    lines
}

/// `OPTIONS.CHAIN key expiry [SETTLE USDC|USDT|BTC|ETH] [FIELDS n f…] [FORMAT RESP|JSON]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainArgs {
    pub expiry: Expiry,
    pub settle: Option<Settle>,
    pub output: OutputOptions,
}

impl ChainArgs {
    /// Parses everything after the command name, key first.
    pub fn parse(argv: &[&str]) -> args::ArgResult<Self> {
        let [_key, expiry, rest @ ..] = argv else {
            return Err("ERR wrong number of arguments for 'OPTIONS.CHAIN' command".into());
        };
        let expiry = args::parse_expiry(expiry)?;
        let mut cur = ArgCursor::new(rest);
        let mut settle = None;
        let mut output = OutputOptions::default();
        while let Some(kw) = cur.next() {
            if kw.eq_ignore_ascii_case("SETTLE") {
                settle = Some(args::parse_settle(cur.value_for("SETTLE", Settle::NAMES)?)?);
            } else if !output.try_parse(kw, &mut cur)? {
                return Err(args::unknown_keyword(kw, "OPTIONS.CHAIN"));
            }
        }
        Ok(ChainArgs {
            expiry,
            settle,
            output,
        })
    }
}

/// `OPTIONS.CHAIN key expiry [SETTLE USDC|USDT|BTC|ETH] [FIELDS n f…] [FORMAT RESP|JSON]`
pub fn chain(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let ChainArgs {
        expiry,
        settle,
        output: opts,
    } = ChainArgs::parse(&argv[1..]).map_err(err)?;
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let underlying = argv[1];
        let empty = Chain::new(underlying, 0);
        let chain = chain.unwrap_or(&empty);
        let contracts: Vec<&Contract> = chain
            .expiry_slice(expiry)
            .iter()
            .filter(|c| c.is_live(now) && settle.is_none_or(|s| c.settle == s))
            .collect();
        // ANALYTICS.md's rule: the forward is the median of the contracts' underlying prices
        // (one stale contract cannot move it), the ATM strike the listed strike nearest it.
        let (price, atm) = crate::analytics::forward_and_atm(&contracts);
        let lines = chain_lines(contracts.iter().copied());
        chain_reply(chain, expiry, price, atm, &lines, opts.fields.as_deref())
            .send(ctx, opts.format)
    })
}

/// The chain's reply: the expiry, its forward and ATM strike, then each strike's line.
fn chain_reply<'a>(
    chain: &'a Chain,
    expiry: Expiry,
    price: Option<f64>,
    atm: Option<f64>,
    lines: &[ChainLine<'a>],
    columns: Option<&'a [Column]>,
) -> Reply<'a> {
    let side = |c: Option<&'a Contract>| c.map_or(Reply::Null, |c| Reply::row(chain, c, columns));
    let strikes = lines.iter().map(|l| {
        Reply::Map(vec![
            ("strike", Reply::Listed(l.strike, l.strike_text)),
            ("settle", Reply::text(l.settle.as_str())),
            ("call", side(l.call)),
            ("put", side(l.put)),
        ])
    });
    Reply::Map(vec![
        ("underlying", Reply::text(&*chain.underlying)),
        ("expiry", Reply::text(expiry.code())),
        ("expiry_ts", Reply::Int(expiry.timestamp_ms())),
        ("underlying_price", Reply::number(price)),
        ("atm_strike", Reply::number(atm)),
        ("strikes", Reply::Array(strikes.collect())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Format;

    #[test]
    fn parses_and_refuses() {
        let a = ChainArgs::parse(&["BTC", "3sep25", "settle", "usdt", "FORMAT", "JSON"]).unwrap();
        assert_eq!(a.expiry, Expiry::parse("3SEP25").unwrap());
        assert_eq!(a.settle, Some(Settle::Usdt));
        assert_eq!(a.output.format, Format::Json);
        let e = |argv: &[&str]| ChainArgs::parse(argv).unwrap_err();
        assert!(e(&["BTC"]).contains("wrong number"));
        assert!(e(&["BTC", "soon"]).contains("soon"));
        assert!(e(&["BTC", "3SEP25", "SETTLE"]).contains("SETTLE"));
        assert!(e(&["BTC", "3SEP25", "SETTLE", "EUR"]).contains("USDC, USDT, BTC or ETH"));
        assert!(e(&["BTC", "3SEP25", "COLOUR"]).contains("COLOUR"));
    }
}
