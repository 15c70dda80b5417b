//! `OPTIONS.CHAIN`: calls and puts side by side per strike, with the ATM strike.

use super::*;

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

/// `OPTIONS.CHAIN key expiry [SETTLE USDC|USDT] [FIELDS n f…] [FORMAT RESP|JSON]`, parsed.
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
                settle = Some(args::parse_settle(
                    cur.value_for("SETTLE", "USDC or USDT")?,
                )?);
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

/// `OPTIONS.CHAIN key expiry [SETTLE USDC|USDT] [FIELDS n f…] [FORMAT RESP|JSON]`
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
        let cols = opts.fields.as_deref();
        match opts.format {
            Format::Json => Ok(RedisValue::StringBuffer(chain_json(
                chain, expiry, price, atm, &lines, cols,
            ))),
            Format::Resp => {
                let side = |c: Option<&Contract>| {
                    c.map_or(RedisValue::Null, |c| resp_row(c, underlying, cols))
                };
                let rows = lines
                    .iter()
                    .map(|l| {
                        RedisValue::Array(vec![
                            bulk("strike"),
                            bulk(l.strike_text),
                            bulk("settle"),
                            bulk(l.settle.as_str()),
                            bulk("call"),
                            side(l.call),
                            bulk("put"),
                            side(l.put),
                        ])
                    })
                    .collect();
                Ok(RedisValue::Array(vec![
                    bulk("underlying"),
                    bulk(underlying),
                    bulk("expiry"),
                    bulk(expiry.code()),
                    bulk("expiry_ts"),
                    RedisValue::Integer(expiry.timestamp_ms()),
                    bulk("underlying_price"),
                    opt_number(price),
                    bulk("atm_strike"),
                    opt_number(atm),
                    bulk("strikes"),
                    RedisValue::Array(rows),
                ]))
            }
        }
    })
}

fn chain_json(
    chain: &Chain,
    expiry: Expiry,
    price: Option<f64>,
    atm: Option<f64>,
    lines: &[ChainLine<'_>],
    cols: Option<&[Column]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + lines.len() * 1400);
    out.push(b'{');
    json_key(&mut out, "underlying");
    json_str(&mut out, &chain.underlying);
    out.push(b',');
    json_key(&mut out, "expiry");
    json_str(&mut out, &expiry.code());
    out.push(b',');
    json_key(&mut out, "expiry_ts");
    out.extend_from_slice(itoa::Buffer::new().format(expiry.timestamp_ms()).as_bytes());
    out.push(b',');
    json_key(&mut out, "underlying_price");
    json_opt_number(&mut out, price);
    out.push(b',');
    json_key(&mut out, "atm_strike");
    json_opt_number(&mut out, atm);
    out.push(b',');
    json_key(&mut out, "strikes");
    out.push(b'[');
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        json_key(&mut out, "strike");
        options_core::write_number(&mut out, l.strike);
        out.push(b',');
        json_key(&mut out, "settle");
        json_str(&mut out, l.settle.as_str());
        for (name, side) in [("call", l.call), ("put", l.put)] {
            out.push(b',');
            json_key(&mut out, name);
            match side {
                Some(c) => json_row(&mut out, chain, c, cols),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(e(&["BTC", "3SEP25", "SETTLE", "EUR"]).contains("USDC or USDT"));
        assert!(e(&["BTC", "3SEP25", "COLOUR"]).contains("COLOUR"));
    }
}
