//! `OPTIONS.INGEST`: upsert one contract.

use super::*;

use crate::args::ArgResult;

/// `OPTIONS.INGEST key symbol field value [field value …]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestArgs {
    pub symbol: options_core::Symbol,
    /// The values, in the order given; `updated_ms` is `-1` when the command named no time
    /// (the server's clock is then used, and replicated).
    pub update: Update,
}

impl IngestArgs {
    /// Parses everything after the command name: the key, the symbol (which must belong to the
    /// key's underlying) and the field/value pairs. Any error means nothing is written.
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let [key, symbol, pairs @ ..] = argv else {
            return Err("ERR wrong number of arguments for 'OPTIONS.INGEST' command".into());
        };
        if !pairs.len().is_multiple_of(2) {
            return Err("ERR wrong number of arguments for 'OPTIONS.INGEST' command".into());
        }
        let symbol = symbol_for_key(key, symbol).map_err(|e| format!("ERR {e}"))?;
        let mut update = Update {
            values: Vec::with_capacity(pairs.len() / 2),
            updated_ms: -1,
        };
        for pair in pairs.chunks_exact(2) {
            let (name, value) = (pair[0], pair[1]);
            if name.eq_ignore_ascii_case("updated_ms") {
                let ms = args::parse_i64("updated_ms", value)?;
                if ms < 0 {
                    return Err(format!(
                        "ERR updated_ms must not be negative, got '{value}'"
                    ));
                }
                update.updated_ms = ms;
                continue;
            }
            let field = Field::parse(name).ok_or_else(|| format!("ERR unknown field '{name}'"))?;
            let v = options_core::parse_number(value)
                .map_err(|_| format!("ERR invalid number '{value}' for field {}", field.name()))?;
            update.values.push((field, v));
        }
        Ok(IngestArgs { symbol, update })
    }
}

/// `OPTIONS.INGEST key symbol field value [field value …]`
pub fn ingest(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 || !(args.len() - 3).is_multiple_of(2) {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let key_name = argv[1];
    let IngestArgs { symbol, mut update } = IngestArgs::parse(&argv[1..]).map_err(err)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_write() {
        let a = IngestArgs::parse(&[
            "BTC",
            "btc-26dec25-100000-c",
            "mark_price",
            "1234.5",
            "DELTA",
            "0.5",
            "updated_ms",
            "1760000000000",
        ])
        .unwrap();
        assert_eq!(a.symbol.canonical(), "BTC-26DEC25-100000-C");
        assert_eq!(
            a.update.values,
            [(Field::MarkPrice, 1234.5), (Field::Delta, 0.5)]
        );
        assert_eq!(a.update.updated_ms, 1_760_000_000_000);
        let plain = IngestArgs::parse(&["BTC", "BTC-26DEC25-100000-C"]).unwrap();
        assert_eq!(
            (plain.update.values.len(), plain.update.updated_ms),
            (0, -1)
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let e = |argv: &[&str]| IngestArgs::parse(argv).unwrap_err();
        assert!(e(&["BTC"]).contains("wrong number of arguments"));
        assert!(e(&["BTC", "BTC-26DEC25-100000-C", "mark_price"]).contains("wrong number"));
        assert!(e(&["ETH", "BTC-26DEC25-100000-C"]).contains("belongs to underlying BTC"));
        assert!(
            e(&["BTC", "BTC-26DEC25-100000-C", "colour", "1"]).contains("unknown field 'colour'")
        );
        assert!(e(&["BTC", "BTC-26DEC25-100000-C", "delta", "nan"])
            .contains("invalid number 'nan' for field delta"));
        assert!(e(&["BTC", "BTC-26DEC25-100000-C", "updated_ms", "-5"])
            .contains("must not be negative"));
    }
}
