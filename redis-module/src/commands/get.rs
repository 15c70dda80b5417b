//! `OPTIONS.GET`: one contract.

use super::*;

/// `OPTIONS.GET key symbol [FIELDS n f…] [FORMAT RESP|JSON]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct GetArgs {
    pub symbol: options_core::Symbol,
    pub output: OutputOptions,
}

impl GetArgs {
    /// Parses everything after the command name, key first (the symbol must belong to it).
    pub fn parse(argv: &[&str]) -> args::ArgResult<Self> {
        let [key, symbol, rest @ ..] = argv else {
            return Err("ERR wrong number of arguments for 'OPTIONS.GET' command".into());
        };
        let symbol = symbol_for_key(key, symbol).map_err(|e| format!("ERR {e}"))?;
        let output = OutputOptions::parse_all(&mut ArgCursor::new(rest), "OPTIONS.GET")?;
        Ok(GetArgs { symbol, output })
    }
}

/// `OPTIONS.GET key symbol [FIELDS n f…] [FORMAT RESP|JSON]` — one row, or nil.
pub fn get(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let GetArgs {
        symbol,
        output: opts,
    } = GetArgs::parse(&argv[1..]).map_err(err)?;
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let found = chain.and_then(|c| c.get(&symbol).filter(|c| c.is_live(now)).map(|r| (c, r)));
        let Some((chain, row)) = found else {
            return Ok(RedisValue::Null);
        };
        let cols = opts.fields.as_deref();
        match opts.format {
            Format::Resp => Ok(resp_row(row, &chain.underlying, cols)),
            Format::Json => {
                let mut out = Vec::with_capacity(800);
                json_row(&mut out, chain, row, cols);
                json_reply(out)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_arguments() {
        let a = GetArgs::parse(&["ETH", "eth-26dec25-4000-p", "FIELDS", "2", "delta", "gamma"])
            .unwrap();
        assert_eq!(a.symbol.canonical(), "ETH-26DEC25-4000-P");
        // `symbol` leads the named columns.
        assert_eq!(a.output.fields.map(|f| f.len()), Some(3));
        assert!(GetArgs::parse(&["ETH"])
            .unwrap_err()
            .contains("wrong number"));
        assert!(GetArgs::parse(&["BTC", "ETH-26DEC25-4000-P"])
            .unwrap_err()
            .contains("belongs to underlying ETH"));
        assert!(GetArgs::parse(&["ETH", "ETH-26DEC25-4000-P", "FORMAT", "XML"]).is_err());
    }
}
