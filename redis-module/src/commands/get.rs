//! `OPTIONS.GET`: one contract.

use options_core::clock::now_ms;
use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::keyspace::{err, text_args, with_chain};
use crate::args::{self, ArgCursor, OutputOptions};
use crate::chain::symbol_for_key;
use crate::reply::Reply;

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
        Reply::row(chain, row, opts.fields.as_deref()).send(ctx, opts.format)
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
