//! The tape stream of a chain (`{<key>}:trades`) and the module's index of it (`flow::Tape`),
//! shared by `OPTIONS.TRADE` and `OPTIONS.FLOW`. The stream is the record (persisted,
//! replicated, trimmed like any stream); the index is memory beside it, checked against the
//! stream's length and ends on every use and rebuilt from the stream when they differ (after a
//! restart, or a client's `XTRIM`, `XDEL`, `XADD` or `DEL` by hand).

use std::cell::RefCell;
use std::collections::HashMap;

use options_core::Symbol;
use redis_module::{Context, RedisError, RedisResult, RedisValue};

use crate::flow::{Side, Tape, Trade};

/// The stream key of the chain at `key` (one name for the module and its clients).
pub(crate) fn stream_key(key: &str) -> String {
    options_core::tape_key(key)
}

thread_local! {
    // Commands run on Redis's main thread; the index lives there too.
    static TAPES: RefCell<HashMap<(i32, String), Tape>> = RefCell::new(HashMap::new());
}

fn selected_db(ctx: &Context) -> i32 {
    // SAFETY: `GetSelectedDb` only reads the calling client's selected database from a valid
    // context Redis gave this command; the API table is filled at module load.
    unsafe {
        match redis_module::raw::RedisModule_GetSelectedDb {
            Some(f) => f(ctx.ctx),
            None => 0,
        }
    }
}

fn text(v: &RedisValue) -> Option<&str> {
    match v {
        RedisValue::SimpleString(s) | RedisValue::BulkString(s) => Some(s),
        _ => None,
    }
}

fn entry_id(text: &str) -> Option<(i64, u64)> {
    let (ms, seq) = text.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// The first (or last, `rev`) entry id of the stream.
fn end_id(ctx: &Context, stream: &str, rev: bool) -> RedisResult<Option<(i64, u64)>> {
    let reply = if rev {
        ctx.call("XREVRANGE", &[stream, "+", "-", "COUNT", "1"][..])?
    } else {
        ctx.call("XRANGE", &[stream, "-", "+", "COUNT", "1"][..])?
    };
    Ok(match reply {
        RedisValue::Array(entries) => entries.first().and_then(|e| match e {
            RedisValue::Array(pair) => pair.first().and_then(text).and_then(entry_id),
            _ => None,
        }),
        _ => None,
    })
}

/// A trade from a stream entry's fields; `None` for an entry that is not a trade of this
/// chain (written by hand): it is left out of the figures, never an error.
fn trade_of(key: &str, entry: (i64, u64), fields: &[RedisValue]) -> Option<Trade> {
    let mut get: HashMap<&str, &str> = HashMap::new();
    for pair in fields.chunks(2) {
        if let [k, v] = pair {
            get.insert(text(k)?, text(v)?);
        }
    }
    let symbol: Symbol = crate::chain::symbol_for_key(key, get.get("symbol")?).ok()?;
    let num = |name: &str| {
        get.get(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|x| x.is_finite())
    };
    Some(Trade {
        entry,
        id: get.get("id")?.to_string(),
        symbol: symbol.canonical(),
        expiry: symbol.expiry,
        strike: symbol.strike,
        kind: symbol.kind,
        side: Side::parse(get.get("side")?)?,
        size: num("size").filter(|s| *s > 0.0)?,
        price: num("price").filter(|p| *p >= 0.0)?,
        iv: num("iv"),
        index: num("index").filter(|i| *i > 0.0),
        block: get.get("block") == Some(&"1"),
        ts: get.get("ts")?.parse().ok()?,
    })
}

/// Reads the whole stream into an index.
fn rebuild(ctx: &Context, key: &str, stream: &str) -> RedisResult<Tape> {
    let mut trades = Vec::new();
    if let RedisValue::Array(entries) = ctx.call("XRANGE", &[stream, "-", "+"][..])? {
        for e in &entries {
            let RedisValue::Array(pair) = e else { continue };
            let (Some(id), Some(RedisValue::Array(fields))) =
                (pair.first().and_then(text).and_then(entry_id), pair.get(1))
            else {
                continue;
            };
            if let Some(t) = trade_of(key, id, fields) {
                trades.push(t);
            }
        }
    }
    Ok(Tape::from_trades(trades))
}

/// Runs `f` on the index of `key`'s tape, checked against the stream first (and rebuilt when it
/// no longer describes it). A key of another type answers WRONGTYPE.
pub(crate) fn with_tape<R>(
    ctx: &Context,
    key: &str,
    f: impl FnOnce(&mut Tape, &str) -> RedisResult<R>,
) -> RedisResult<R> {
    let stream = stream_key(key);
    let len = match ctx.call("XLEN", &[stream.as_str()][..]) {
        Ok(RedisValue::Integer(n)) => n.max(0) as usize,
        Ok(_) => 0,
        Err(RedisError::String(e)) if e.starts_with("WRONGTYPE") => {
            return Err(RedisError::String(format!(
                "WRONGTYPE {stream} holds something other than the tape stream"
            )))
        }
        Err(e) => return Err(e),
    };
    let (first, last) = if len == 0 {
        (None, None)
    } else {
        (end_id(ctx, &stream, false)?, end_id(ctx, &stream, true)?)
    };
    let slot = (selected_db(ctx), stream.clone());
    let cached = TAPES.with(|t| t.borrow_mut().remove(&slot));
    let mut tape = match cached {
        // Entries a client wrote by hand that are not trades are not in the index; their count
        // makes the lengths differ, and the rebuild leaves them out again: cheap for such a
        // stream only while it is small, which a tape written by hand is.
        Some(t) if t.matches(len, first, last) => t,
        _ if len == 0 => Tape::default(),
        _ => rebuild(ctx, key, &stream)?,
    };
    let out = f(&mut tape, &stream);
    TAPES.with(|t| t.borrow_mut().insert(slot, tape));
    out
}

/// `XADD stream <ms>-<seq> …` of one trade.
pub(crate) fn append(
    ctx: &Context,
    stream: &str,
    t: &Trade,
    liquidation: Option<&str>,
) -> RedisResult<()> {
    let id = format!("{}-{}", t.entry.0, t.entry.1);
    let fmt = options_core::format_number;
    let mut args: Vec<String> = vec![
        stream.to_string(),
        id,
        "id".into(),
        t.id.clone(),
        "symbol".into(),
        t.symbol.clone(),
        "side".into(),
        t.side.as_str().into(),
        "size".into(),
        fmt(t.size),
        "price".into(),
        fmt(t.price),
    ];
    if let Some(iv) = t.iv {
        args.extend(["iv".into(), fmt(iv)]);
    }
    if let Some(i) = t.index {
        args.extend(["index".into(), fmt(i)]);
    }
    args.extend(["block".into(), if t.block { "1" } else { "0" }.into()]);
    if let Some(l) = liquidation {
        args.extend(["liquidation".into(), l.into()]);
    }
    args.extend(["ts".into(), t.ts.to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ctx.call("XADD", &refs[..])?;
    Ok(())
}

/// `XTRIM stream MINID min_ms`: entries older than the retention go.
pub(crate) fn trim(ctx: &Context, stream: &str, min_ms: i64) -> RedisResult<()> {
    let min = min_ms.to_string();
    ctx.call("XTRIM", &[stream, "MINID", min.as_str()][..])?;
    Ok(())
}
