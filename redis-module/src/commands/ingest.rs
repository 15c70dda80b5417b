//! `OPTIONS.INGEST`: upsert one contract.

use super::*;

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
        crate::stats::count_rejected();
        return Err(err(format!(
            "ERR contract {} expired at {} 08:00 UTC",
            symbol.canonical(),
            symbol.expiry.iso()
        )));
    }

    let key = ctx.open_key_writable(&args[1]);
    let chain = chain_or_create(&key, key_name, update.updated_ms as u64)?;
    let before = Footprint::of(chain);
    if authoritative {
        purge_if_due(ctx, &args[1], chain, now);
    }
    let outcome = chain.upsert(&symbol, &update);
    // History: the write that crosses an interval boundary samples the chain at its own time,
    // which is replicated, so replicas and AOF replays take the same samples.
    let settings = crate::history::settings();
    if chain.history.wants_sample(update.updated_ms, settings) {
        let figures = crate::analytics::compute(
            chain,
            &crate::analytics::Selection::default(),
            update.updated_ms,
            false,
        );
        let sample = crate::history::Sample::of(&figures, update.updated_ms);
        chain.history.push(&sample, settings);
    }
    crate::stats::chain_changed(before, chain);
    crate::stats::count_ingest();

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
