//! The `OPTIONS.*` command handlers.
//!
//! Each handler parses and validates all of its arguments before it touches the keyspace, so an
//! error reply always means nothing changed. Writes replicate explicitly (with the time they
//! used) so replicas and the AOF replay the same result regardless of their own clocks.

use std::time::{SystemTime, UNIX_EPOCH};

use options_core::{Column, Expiry, Field, Settle};
use redis_module::{
    Context, ContextFlags, NotifyEvent, RedisError, RedisResult, RedisString, RedisValue,
};

use crate::args::{self, ArgCursor, Format, OutputOptions};
use crate::chain::{symbol_for_key, Chain, Contract, Update, UpsertOutcome};
use crate::persist::CHAIN_TYPE;
use crate::query::Query;
use crate::render::{json_key, json_row, json_rows, json_str, resp_row, resp_rows};
use crate::stats::{self, Footprint};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn err(msg: String) -> RedisError {
    RedisError::String(msg)
}

/// The arguments as text. Binary arguments cannot be symbols, fields or numbers.
fn text_args(args: &[RedisString]) -> Result<Vec<&str>, RedisError> {
    args.iter()
        .map(|a| {
            a.try_as_str()
                .map_err(|_| RedisError::Str("ERR arguments must be UTF-8 text"))
        })
        .collect()
}

/// Commands arriving from a master or replayed from disk carry the master's decisions; this
/// node must apply them as they are, not re-judge them against its own clock.
fn is_authoritative(ctx: &Context) -> bool {
    !ctx.get_flags()
        .intersects(ContextFlags::LOADING | ContextFlags::REPLICATED)
}

/// The crate reports a foreign key type with its own wording; clients expect Redis's.
fn wrong_type(e: RedisError) -> RedisError {
    match e {
        RedisError::Str(msg) if msg.contains("wrong Redis type") => RedisError::WrongType,
        other => other,
    }
}

fn chain_mut(key: &redis_module::key::RedisKeyWritable) -> RedisResult<Option<&mut Chain>> {
    key.get_value::<Chain>(&CHAIN_TYPE).map_err(wrong_type)
}

fn with_chain<T>(
    ctx: &Context,
    key: &RedisString,
    f: impl FnOnce(Option<&Chain>) -> RedisResult<T>,
) -> RedisResult<T> {
    let key = ctx.open_key(key);
    let chain = key.get_value::<Chain>(&CHAIN_TYPE).map_err(wrong_type)?;
    f(chain)
}

fn json_reply(out: Vec<u8>) -> RedisResult {
    Ok(RedisValue::StringBuffer(out))
}

fn bulk(s: impl Into<String>) -> RedisValue {
    RedisValue::BulkString(s.into())
}

fn opt_number(v: Option<f64>) -> RedisValue {
    v.map_or(RedisValue::Null, |v| bulk(options_core::format_number(v)))
}

fn json_opt_number(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(v) => options_core::write_number(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// Drops expired contracts as part of a write, replicating the purge with the time it used.
fn purge_if_due(ctx: &Context, key: &RedisString, chain: &mut Chain, now: i64) -> usize {
    if !chain.has_expired(now) {
        return 0;
    }
    let n = chain.purge_expired(now);
    let now_text = now.to_string();
    ctx.replicate(
        "OPTIONS.PURGE",
        &[key.as_slice(), b"NOW", now_text.as_bytes()][..],
    );
    ctx.notify_keyspace_event(NotifyEvent::MODULE, "options.purge", key);
    n
}

/// `OPTIONS.INGEST key symbol field value [field value …]`
pub fn ingest(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 || !(args.len() - 3).is_multiple_of(2) {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let key_name = argv[1];
    let symbol = symbol_for_key(key_name, argv[2]).map_err(|e| err(format!("ERR {e}")))?;
    let mut update = Update {
        values: Vec::with_capacity((argv.len() - 3) / 2),
        updated_ms: -1,
    };
    for pair in argv[3..].chunks_exact(2) {
        let (name, value) = (pair[0], pair[1]);
        if name.eq_ignore_ascii_case("updated_ms") {
            let ms = args::parse_i64("updated_ms", value).map_err(err)?;
            if ms < 0 {
                return Err(err(format!(
                    "ERR updated_ms must not be negative, got '{value}'"
                )));
            }
            update.updated_ms = ms;
            continue;
        }
        let field = Field::parse(name).ok_or_else(|| err(format!("ERR unknown field '{name}'")))?;
        let v = options_core::parse_number(value).map_err(|_| {
            err(format!(
                "ERR invalid number '{value}' for field {}",
                field.name()
            ))
        })?;
        update.values.push((field, v));
    }
    let now = now_ms();
    let stamped = update.updated_ms >= 0;
    if !stamped {
        update.updated_ms = now;
    }
    let authoritative = is_authoritative(ctx);
    if authoritative && symbol.expiry.timestamp_ms() <= now {
        stats::count_rejected();
        return Err(err(format!(
            "ERR contract {} expired at {} 08:00 UTC",
            symbol.canonical(),
            symbol.expiry.iso()
        )));
    }

    let key = ctx.open_key_writable(&args[1]);
    let chain = match chain_mut(&key)? {
        Some(chain) => chain,
        None => {
            let chain = Chain::new(key_name, update.updated_ms as u64);
            stats::chain_added(&chain);
            key.set_value(&CHAIN_TYPE, chain).map_err(wrong_type)?;
            chain_mut(&key)?.ok_or(RedisError::Str("ERR could not create the chain"))?
        }
    };
    let before = Footprint::of(chain);
    if authoritative {
        purge_if_due(ctx, &args[1], chain, now);
    }
    let outcome = chain.upsert(&symbol, &update);
    stats::chain_changed(before, chain);
    stats::count_ingest();

    // Replicate with the canonical symbol and the time used, so every copy stores the same row.
    let canonical = symbol.canonical();
    let ts = update.updated_ms.to_string();
    let mut rep: Vec<&[u8]> = Vec::with_capacity(argv.len() + 2);
    rep.push(args[1].as_slice());
    rep.push(canonical.as_bytes());
    rep.extend(argv[3..].iter().map(|a| a.as_bytes()));
    if !stamped {
        rep.push(b"updated_ms");
        rep.push(ts.as_bytes());
    }
    ctx.replicate("OPTIONS.INGEST", &rep[..]);
    ctx.notify_keyspace_event(NotifyEvent::MODULE, "options.ingest", &args[1]);
    Ok(RedisValue::Integer(i64::from(
        outcome == UpsertOutcome::Created,
    )))
}

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
    stats::chain_changed(before, chain);
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
    stats::chain_changed(before, chain);
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

/// `OPTIONS.QUERY key [filters…] [SORTBY f [ASC|DESC]] [LIMIT off n] [FIELDS n f…] [FORMAT …]`
pub fn query(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let q = Query::parse(&argv[2..]).map_err(err)?;
    stats::count_query();
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let empty = Chain::new(argv[1], 0);
        let chain = chain.unwrap_or(&empty);
        let (total, rows) = q.run(chain, now);
        let cols = q.output.fields.as_deref();
        if q.seed {
            return json_reply(seed_page(chain, &q, total, &rows));
        }
        match q.output.format {
            Format::Json => {
                let mut out = Vec::with_capacity(64 + rows.len() * 700);
                out.extend_from_slice(b"{\"total\":");
                out.extend_from_slice(itoa::Buffer::new().format(total).as_bytes());
                out.extend_from_slice(b",\"offset\":");
                out.extend_from_slice(itoa::Buffer::new().format(q.offset).as_bytes());
                out.extend_from_slice(b",\"limit\":");
                match q.count {
                    Some(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"data\":");
                json_rows(&mut out, chain, &rows, cols);
                out.push(b'}');
                json_reply(out)
            }
            Format::Resp => Ok(RedisValue::Array(vec![
                bulk("total"),
                RedisValue::Integer(total as i64),
                bulk("offset"),
                RedisValue::Integer(q.offset as i64),
                bulk("limit"),
                q.count
                    .map_or(RedisValue::Null, |n| RedisValue::Integer(n as i64)),
                bulk("data"),
                resp_rows(&rows, &chain.underlying, cols),
            ])),
        }
    })
}

/// `FORMAT SEED`: a bare array, or with `LIMIT` the seed's `{"total","limit","offset","data"}`.
fn seed_page(chain: &Chain, q: &Query, total: usize, rows: &[&Contract]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + rows.len() * 420);
    let paged = q.count.is_some();
    if paged {
        out.extend_from_slice(b"{\"total\":");
        out.extend_from_slice(itoa::Buffer::new().format(total).as_bytes());
        out.extend_from_slice(b",\"limit\":");
        out.extend_from_slice(itoa::Buffer::new().format(q.count.unwrap_or(0)).as_bytes());
        out.extend_from_slice(b",\"offset\":");
        out.extend_from_slice(itoa::Buffer::new().format(q.offset).as_bytes());
        out.extend_from_slice(b",\"data\":");
    }
    out.push(b'[');
    for (i, c) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::render::seed_row_cached(&mut out, chain, c);
    }
    out.push(b']');
    if paged {
        out.push(b'}');
    }
    out
}

fn string_list_reply(items: Vec<String>, format: Format) -> RedisResult {
    match format {
        Format::Resp => Ok(RedisValue::Array(items.into_iter().map(bulk).collect())),
        Format::Json => {
            let mut out = Vec::with_capacity(items.len() * 12 + 2);
            out.push(b'[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(&mut out, s);
            }
            out.push(b']');
            json_reply(out)
        }
    }
}

fn format_only(argv: &[&str], command: &str) -> RedisResult<Format> {
    let opts = OutputOptions::parse_all(&mut ArgCursor::new(argv), command).map_err(err)?;
    if opts.fields.is_some() {
        return Err(err(format!("ERR FIELDS is not an option of '{command}'")));
    }
    Ok(opts.format)
}

/// `OPTIONS.EXPIRIES key [FORMAT RESP|JSON]` — chronological.
pub fn expiries(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let format = format_only(&argv[2..], "OPTIONS.EXPIRIES")?;
    let now = now_ms();
    let list = with_chain(ctx, &args[1], |chain| {
        Ok(chain.map(|c| c.expiries(now)).unwrap_or_default())
    })?;
    string_list_reply(list.iter().map(Expiry::code).collect(), format)
}

/// `OPTIONS.STRIKES key [EXPIRY e] [FORMAT RESP|JSON]` — distinct strikes, numeric ascending.
pub fn strikes(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let mut cur = ArgCursor::new(&argv[2..]);
    let mut expiry = None;
    let mut opts = OutputOptions::default();
    while let Some(kw) = cur.next() {
        if kw.eq_ignore_ascii_case("EXPIRY") {
            let e = cur.value_for("EXPIRY", "an expiry").map_err(err)?;
            expiry = Some(args::parse_expiry(e).map_err(err)?);
        } else if !(kw.eq_ignore_ascii_case("FORMAT")
            && opts.try_parse(kw, &mut cur).map_err(err)?)
        {
            return Err(err(args::unknown_keyword(kw, "OPTIONS.STRIKES")));
        }
    }
    let now = now_ms();
    let list = with_chain(ctx, &args[1], |chain| {
        let Some(chain) = chain else {
            return Ok(Vec::new());
        };
        let mut found: Vec<&Contract> = match expiry {
            Some(e) => chain
                .expiry_slice(e)
                .iter()
                .filter(|c| c.is_live(now))
                .collect(),
            None => chain.live(now).collect(),
        };
        found.sort_by(|a, b| a.strike.total_cmp(&b.strike));
        found.dedup_by(|a, b| a.strike == b.strike);
        Ok(found.iter().map(|c| c.strike_text().to_string()).collect())
    })?;
    string_list_reply(list, opts.format)
}

/// `OPTIONS.GET key symbol [FIELDS n f…] [FORMAT RESP|JSON]` — one row, or nil.
pub fn get(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let symbol = symbol_for_key(argv[1], argv[2]).map_err(|e| err(format!("ERR {e}")))?;
    let opts =
        OutputOptions::parse_all(&mut ArgCursor::new(&argv[3..]), "OPTIONS.GET").map_err(err)?;
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

/// The underlying price most recently reported in these contracts.
fn latest_underlying(contracts: &[&Contract]) -> Option<f64> {
    contracts
        .iter()
        .filter_map(|c| c.get(Field::UnderlyingPrice).map(|p| (c.updated_ms, p)))
        .max_by_key(|(ms, _)| *ms)
        .map(|(_, p)| p)
}

/// The strike nearest to `price` (the lower one on a tie).
fn atm_strike(lines: &[ChainLine<'_>], price: Option<f64>) -> Option<f64> {
    let price = price?;
    lines.iter().map(|l| l.strike).min_by(|a, b| {
        (a - price)
            .abs()
            .total_cmp(&(b - price).abs())
            .then(a.total_cmp(b))
    })
}

/// `OPTIONS.CHAIN key expiry [SETTLE USDC|USDT] [FIELDS n f…] [FORMAT RESP|JSON]`
pub fn chain(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let expiry = args::parse_expiry(argv[2]).map_err(err)?;
    let mut cur = ArgCursor::new(&argv[3..]);
    let mut settle = None;
    let mut opts = OutputOptions::default();
    while let Some(kw) = cur.next() {
        if kw.eq_ignore_ascii_case("SETTLE") {
            let s = cur.value_for("SETTLE", "USDC or USDT").map_err(err)?;
            settle = Some(args::parse_settle(s).map_err(err)?);
        } else if !opts.try_parse(kw, &mut cur).map_err(err)? {
            return Err(err(args::unknown_keyword(kw, "OPTIONS.CHAIN")));
        }
    }
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
        let price = latest_underlying(&contracts);
        let lines = chain_lines(contracts.iter().copied());
        let atm = atm_strike(&lines, price);
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

/// `OPTIONS.CHANGES key since-seq [FIELDS n f…] [FORMAT RESP|JSON]`
pub fn changes(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let since = args::parse_u64("since-seq", argv[2]).map_err(err)?;
    let opts = OutputOptions::parse_all(&mut ArgCursor::new(&argv[3..]), "OPTIONS.CHANGES")
        .map_err(err)?;
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let empty = Chain::new(argv[1], 0);
        let chain = chain.unwrap_or(&empty);
        let ch = chain.changes_since(since, now);
        let cols = opts.fields.as_deref();
        match opts.format {
            Format::Json => {
                let mut out = Vec::with_capacity(64 + ch.rows.len() * 700);
                out.extend_from_slice(b"{\"seq\":");
                out.extend_from_slice(itoa::Buffer::new().format(ch.seq).as_bytes());
                out.extend_from_slice(if ch.reset {
                    b",\"reset\":true"
                } else {
                    b",\"reset\":false"
                });
                out.extend_from_slice(b",\"data\":");
                json_rows(&mut out, chain, &ch.rows, cols);
                out.extend_from_slice(b",\"removed\":[");
                for (i, s) in ch.removed.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_str(&mut out, s);
                }
                out.extend_from_slice(b"]}");
                json_reply(out)
            }
            Format::Resp => Ok(RedisValue::Array(vec![
                bulk("seq"),
                RedisValue::Integer(ch.seq as i64),
                bulk("reset"),
                RedisValue::Integer(i64::from(ch.reset)),
                bulk("data"),
                resp_rows(&ch.rows, &chain.underlying, cols),
                bulk("removed"),
                RedisValue::Array(ch.removed.iter().map(|s| bulk(*s)).collect()),
            ])),
        }
    })
}

/// `OPTIONS.STATS [key] [FORMAT RESP|JSON]`
pub fn stats_cmd(ctx: &Context, args: &[RedisString]) -> RedisResult {
    let argv = text_args(args)?;
    let (key, rest) = match argv.len() {
        1 => (None, &argv[1..]),
        3 if argv[1].eq_ignore_ascii_case("FORMAT") => (None, &argv[1..]),
        _ => (Some(1), &argv[2..]),
    };
    let format = format_only(rest, "OPTIONS.STATS")?;
    let now = now_ms();
    let pairs: Vec<(&str, i64)> = match key {
        None => stats::totals().named().to_vec(),
        Some(i) => with_chain(ctx, &args[i], |chain| {
            Ok(match chain {
                None => vec![
                    ("contracts", 0),
                    ("expired_pending", 0),
                    ("expiries", 0),
                    ("updates", 0),
                    ("seq", 0),
                    ("last_update_ms", 0),
                    ("memory_bytes", 0),
                ],
                Some(c) => {
                    let live = c.live(now).count();
                    vec![
                        ("contracts", live as i64),
                        ("expired_pending", (c.len() - live) as i64),
                        ("expiries", c.expiries(now).len() as i64),
                        ("updates", c.updates as i64),
                        ("seq", c.seq as i64),
                        ("last_update_ms", c.last_update_ms),
                        ("memory_bytes", c.memory_usage() as i64),
                    ]
                }
            })
        })?,
    };
    let mut key_pair = None;
    if let Some(i) = key {
        key_pair = Some(argv[i]);
    }
    match format {
        Format::Resp => {
            let mut out = Vec::with_capacity(pairs.len() * 2 + 2);
            if let Some(k) = key_pair {
                out.push(bulk("key"));
                out.push(bulk(k));
            }
            for (name, v) in pairs {
                out.push(bulk(name));
                out.push(RedisValue::Integer(v));
            }
            Ok(RedisValue::Array(out))
        }
        Format::Json => {
            let mut out = Vec::with_capacity(256);
            out.push(b'{');
            if let Some(k) = key_pair {
                json_key(&mut out, "key");
                json_str(&mut out, k);
                out.push(b',');
            }
            for (i, (name, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_key(&mut out, name);
                out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
            }
            out.push(b'}');
            json_reply(out)
        }
    }
}
