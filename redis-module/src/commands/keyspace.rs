//! What the command handlers share: argument text and errors, opening a key's chain, and the
//! one chokepoint every change passes (`changed`: the key-space event and the wake-up of
//! parked readers).

use redis_module::{Context, ContextFlags, NotifyEvent, RedisError, RedisResult, RedisString};

use crate::args::{ArgCursor, Format, OutputOptions};
use crate::chain::Chain;
use crate::persist::CHAIN_TYPE;

pub(crate) fn err(msg: String) -> RedisError {
    RedisError::String(msg)
}

/// The arguments as text. Binary arguments cannot be symbols, fields or numbers.
pub(crate) fn text_args(args: &[RedisString]) -> Result<Vec<&str>, RedisError> {
    args.iter()
        .map(|a| {
            a.try_as_str()
                .map_err(|_| RedisError::Str("ERR arguments must be UTF-8 text"))
        })
        .collect()
}

/// Commands arriving from a master or replayed from disk carry the master's decisions; this
/// node must apply them as they are, not re-judge them against its own clock.
pub(crate) fn is_authoritative(ctx: &Context) -> bool {
    !ctx.get_flags()
        .intersects(ContextFlags::LOADING | ContextFlags::REPLICATED)
}

/// The crate reports a foreign key type with its own wording; clients expect Redis's.
pub(crate) fn wrong_type(e: RedisError) -> RedisError {
    match e {
        RedisError::Str(msg) if msg.contains("wrong Redis type") => RedisError::WrongType,
        other => other,
    }
}

pub(crate) fn chain_mut(
    key: &redis_module::key::RedisKeyWritable,
) -> RedisResult<Option<&mut Chain>> {
    key.get_value::<Chain>(&CHAIN_TYPE).map_err(wrong_type)
}

/// The chain at `key`, created empty (and counted in the module's totals) when the key has
/// none: the writes that may start a chain (INGEST, HISTORYRESTORE) share this.
pub(crate) fn chain_or_create<'k>(
    key: &'k redis_module::key::RedisKeyWritable,
    name: &str,
    created_ms: u64,
) -> RedisResult<&'k mut Chain> {
    if chain_mut(key)?.is_none() {
        let chain = Chain::new(name, crate::chain::sequence::start(created_ms));
        crate::stats::chain_added(&chain);
        key.set_value(&CHAIN_TYPE, chain).map_err(wrong_type)?;
    }
    chain_mut(key)?.ok_or(RedisError::Str("ERR could not create the chain"))
}

pub(crate) fn with_chain<T>(
    ctx: &Context,
    key: &RedisString,
    f: impl FnOnce(Option<&Chain>) -> RedisResult<T>,
) -> RedisResult<T> {
    let key = ctx.open_key(key);
    let chain = key.get_value::<Chain>(&CHAIN_TYPE).map_err(wrong_type)?;
    f(chain)
}

/// A write changed the chain at `key`: the key-space event, and its parked `OPTIONS.CHANGES …
/// BLOCK` readers are served after this command. Every write that changes a chain ends here.
pub(crate) fn changed(ctx: &Context, key: &RedisString, event: &str) {
    ctx.notify_keyspace_event(NotifyEvent::MODULE, event, key);
    crate::blocking::signal(ctx, key);
}

/// Drops expired contracts as part of a write, replicating the purge with the time it used.
pub(crate) fn purge_if_due(ctx: &Context, key: &RedisString, chain: &mut Chain, now: i64) -> usize {
    if !chain.has_expired(now) {
        return 0;
    }
    let n = chain.purge_expired(now);
    let now_text = now.to_string();
    ctx.replicate(
        "OPTIONS.PURGE",
        &[key.as_slice(), b"NOW", now_text.as_bytes()][..],
    );
    changed(ctx, key, "options.purge");
    n
}

pub(crate) fn format_only(argv: &[&str], command: &str) -> RedisResult<Format> {
    let opts = OutputOptions::parse_all(&mut ArgCursor::new(argv), command).map_err(err)?;
    if opts.fields.is_some() {
        return Err(err(format!("ERR FIELDS is not an option of '{command}'")));
    }
    Ok(opts.format)
}
