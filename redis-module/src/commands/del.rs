//! `OPTIONS.DEL` and `OPTIONS.PURGE`: remove contracts by name or by expiry.

use options_core::clock::now_ms;
use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::keyspace::{chain_mut, changed, err, text_args};
use crate::args;
use crate::chain::symbol_for_key;
use crate::stats::Footprint;

/// Deletes the key once its chain is empty, as Redis does for empty collections.
fn drop_if_empty(key: &redis_module::key::RedisKeyWritable, empty: bool) -> RedisResult<()> {
    if empty {
        key.delete()?;
    }
    Ok(())
}

/// `OPTIONS.DEL key symbol [symbol …]`: the symbols, each checked against the key (everything
/// after the command name, key first).
pub fn parse_del(argv: &[&str]) -> args::ArgResult<Vec<options_core::Symbol>> {
    let [key, symbols @ ..] = argv else {
        return Err("ERR wrong number of arguments for 'OPTIONS.DEL' command".into());
    };
    if symbols.is_empty() {
        return Err("ERR wrong number of arguments for 'OPTIONS.DEL' command".into());
    }
    symbols
        .iter()
        .map(|s| symbol_for_key(key, s).map_err(|e| format!("ERR {e}")))
        .collect()
}

/// `OPTIONS.PURGE key [NOW ms]`: the time to purge at, `None` for the server's clock (the
/// arguments after the key).
pub fn parse_purge(argv: &[&str]) -> args::ArgResult<Option<i64>> {
    match argv {
        [] => Ok(None),
        [kw, ms] if kw.eq_ignore_ascii_case("NOW") => args::parse_i64("NOW", ms).map(Some),
        [kw, _] => Err(args::unknown_keyword(kw, "OPTIONS.PURGE")),
        _ => Err("ERR wrong number of arguments for 'OPTIONS.PURGE' command".into()),
    }
}

/// `OPTIONS.DEL key symbol [symbol …]`
pub fn del(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let symbols = parse_del(&argv[1..]).map_err(err)?;
    let key = ctx.open_key_writable(&args[1]);
    let Some(chain) = chain_mut(&key)? else {
        return Ok(RedisValue::Integer(0));
    };
    let before = Footprint::of(chain);
    let removed = symbols.iter().filter(|s| chain.remove(s)).count();
    crate::stats::chain_changed(before, chain);
    if removed > 0 {
        ctx.replicate_verbatim();
        changed(ctx, &args[1], "options.del");
    }
    drop_if_empty(&key, chain.is_empty())?;
    Ok(RedisValue::Integer(removed as i64))
}

/// `OPTIONS.PURGE key [NOW ms]`
pub fn purge(ctx: &Context, args: &[RedisString]) -> RedisResult {
    let argv = text_args(args)?;
    if argv.len() != 2 && argv.len() != 4 {
        return Err(RedisError::WrongArity);
    }
    let now = parse_purge(&argv[2..]).map_err(err)?.unwrap_or_else(now_ms);
    let key = ctx.open_key_writable(&args[1]);
    let Some(chain) = chain_mut(&key)? else {
        return Ok(RedisValue::Integer(0));
    };
    let before = Footprint::of(chain);
    let n = chain.purge_expired(now);
    crate::stats::chain_changed(before, chain);
    if n > 0 {
        let now_text = now.to_string();
        ctx.replicate(
            "OPTIONS.PURGE",
            &[args[1].as_slice(), b"NOW", now_text.as_bytes()][..],
        );
        changed(ctx, &args[1], "options.purge");
    }
    drop_if_empty(&key, chain.is_empty())?;
    Ok(RedisValue::Integer(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn del_and_purge_arguments() {
        let d = parse_del(&["SOL", "SOL-3SEP25-200-C-USDT", "sol-3sep25-200-p-usdt"]).unwrap();
        assert_eq!(d.len(), 2);
        assert!(parse_del(&["SOL"]).unwrap_err().contains("wrong number"));
        assert!(
            parse_del(&["SOL", "SOL-3SEP25-200-C-USDT", "BTC-3SEP25-1-C"])
                .unwrap_err()
                .contains("belongs to underlying BTC")
        );
        assert_eq!(parse_purge(&[]).unwrap(), None);
        assert_eq!(
            parse_purge(&["now", "1760000000000"]).unwrap(),
            Some(1_760_000_000_000)
        );
        assert!(parse_purge(&["LATER", "5"]).unwrap_err().contains("LATER"));
        assert!(parse_purge(&["NOW", "soon"]).unwrap_err().contains("NOW"));
        assert!(parse_purge(&["NOW"]).unwrap_err().contains("wrong number"));
    }
}
