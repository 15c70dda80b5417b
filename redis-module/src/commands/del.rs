//! `OPTIONS.DEL` and `OPTIONS.PURGE`: remove contracts by name or by expiry.

use super::*;

/// Deletes the key once its chain is empty, as Redis does for empty collections.
fn drop_if_empty(key: &redis_module::key::RedisKeyWritable, empty: bool) -> RedisResult<()> {
    if empty {
        key.delete()?;
    }
    Ok(())
}

/// `OPTIONS.DEL key symbol [symbol …]`
pub fn del(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let symbols = argv[2..]
        .iter()
        .map(|s| symbol_for_key(argv[1], s).map_err(|e| err(format!("ERR {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let key = ctx.open_key_writable(&args[1]);
    let Some(chain) = chain_mut(&key)? else {
        return Ok(RedisValue::Integer(0));
    };
    let before = Footprint::of(chain);
    let removed = symbols.iter().filter(|s| chain.remove(s)).count();
    crate::stats::chain_changed(before, chain);
    if removed > 0 {
        ctx.replicate_verbatim();
        ctx.notify_keyspace_event(NotifyEvent::MODULE, "options.del", &args[1]);
    }
    drop_if_empty(&key, chain.is_empty())?;
    Ok(RedisValue::Integer(removed as i64))
}

/// `OPTIONS.PURGE key [NOW ms]`
pub fn purge(ctx: &Context, args: &[RedisString]) -> RedisResult {
    let argv = text_args(args)?;
    let now = match argv.len() {
        2 => now_ms(),
        4 if argv[2].eq_ignore_ascii_case("NOW") => args::parse_i64("NOW", argv[3]).map_err(err)?,
        4 => return Err(err(args::unknown_keyword(argv[2], "OPTIONS.PURGE"))),
        _ => return Err(RedisError::WrongArity),
    };
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
        ctx.notify_keyspace_event(NotifyEvent::MODULE, "options.purge", &args[1]);
    }
    drop_if_empty(&key, chain.is_empty())?;
    Ok(RedisValue::Integer(n as i64))
}
