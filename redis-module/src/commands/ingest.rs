//! `OPTIONS.INGEST`: upsert one contract.

use options_core::clock::now_ms;
use options_core::Field;
use redis_module::{Context, RedisResult, RedisString, RedisValue};

use super::keyspace::{chain_or_create, changed, err, is_authoritative, purge_if_due, text_args};
use crate::args::{self, ArgResult};
use crate::chain::{symbol_for_key, Update, UpsertOutcome};
use crate::stats::Footprint;

/// `OPTIONS.INGEST key [NOHISTORY] symbol field value [field value …]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestArgs {
    /// `NOHISTORY`: a rewrite of old values (a feeder's start snapshot, or its refill after an
    /// outage), which must never take a history sample: the chain may be half rebuilt.
    pub no_history: bool,
    pub symbol: options_core::Symbol,
    /// The values, in the order given; `updated_ms` is `-1` when the command named no time
    /// (the server's clock is then used, and replicated).
    pub update: Update,
}

impl IngestArgs {
    /// Parses everything after the command name: the key, the symbol (which must belong to the
    /// key's underlying) and the field/value pairs. Any error means nothing is written.
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let (no_history, argv) = match argv {
            [key, flag, rest @ ..] if flag.eq_ignore_ascii_case("NOHISTORY") => {
                (true, (*key, rest))
            }
            [key, rest @ ..] => (false, (*key, rest)),
            [] => return Err(Self::ARITY.into()),
        };
        let (key, [symbol, pairs @ ..]) = argv else {
            return Err(Self::ARITY.into());
        };
        if !pairs.len().is_multiple_of(2) {
            return Err(Self::ARITY.into());
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
        Ok(IngestArgs {
            no_history,
            symbol,
            update,
        })
    }

    const ARITY: &'static str = "ERR wrong number of arguments for 'OPTIONS.INGEST' command";

    /// Where the field/value pairs start in the arguments after the command name.
    fn pairs_at(&self) -> usize {
        if self.no_history {
            3
        } else {
            2
        }
    }
}

/// `OPTIONS.INGEST key [NOHISTORY] symbol field value [field value …]`
pub fn ingest(ctx: &Context, args: &[RedisString]) -> RedisResult {
    let argv = text_args(args)?;
    let parsed = IngestArgs::parse(argv.get(1..).unwrap_or_default()).map_err(err)?;
    let key_name = argv[1];
    let pairs_at = 1 + parsed.pairs_at();
    let IngestArgs {
        no_history,
        symbol,
        mut update,
    } = parsed;
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
    // which is replicated, so replicas and AOF replays take the same samples. A NOHISTORY
    // write (replicated with its flag) never does.
    // Everything that can refuse the command ran before the key was opened, so from here the
    // write is made and replicated whatever happens: a panic while sampling (a bug) costs the
    // sample, never the write or its replication (replicas would panic and skip it too).
    let settings = crate::history::settings();
    if !no_history && chain.history.wants_sample(update.updated_ms, settings) {
        let at = update.updated_ms;
        let sampled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let figures = crate::analytics::compute(
                chain,
                &crate::analytics::Selection::default(),
                at,
                crate::analytics::Extras::default(),
            );
            crate::history::Sample::of(&figures, at)
        }));
        match sampled {
            Ok(sample) => chain.history.push(&sample, settings),
            Err(_) => ctx.log_warning(&format!(
                "options: panic while sampling {key_name} at {at}; the write stands, without its sample"
            )),
        }
    }
    crate::stats::chain_changed(before, chain);
    crate::stats::count_ingest();

    // Replicate with the canonical symbol and the time used, so every copy stores the same row.
    let canonical = symbol.canonical();
    let ts = update.updated_ms.to_string();
    let mut rep: Vec<&[u8]> = Vec::with_capacity(argv.len() + 2);
    rep.push(args[1].as_slice());
    if no_history {
        rep.push(b"NOHISTORY");
    }
    rep.push(canonical.as_bytes());
    rep.extend(argv[pairs_at..].iter().map(|a| a.as_bytes()));
    if !stamped {
        rep.push(b"updated_ms");
        rep.push(ts.as_bytes());
    }
    ctx.replicate("OPTIONS.INGEST", &rep[..]);
    changed(ctx, &args[1], "options.ingest");
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
        assert!(!a.no_history);
        let plain = IngestArgs::parse(&["BTC", "BTC-26DEC25-100000-C"]).unwrap();
        assert_eq!(
            (plain.update.values.len(), plain.update.updated_ms),
            (0, -1)
        );
    }

    #[test]
    fn nohistory_comes_after_the_key_in_any_case() {
        let a = IngestArgs::parse(&["BTC", "nohistory", "BTC-26DEC25-100000-C", "delta", "0.5"])
            .unwrap();
        assert!(a.no_history);
        assert_eq!(a.symbol.canonical(), "BTC-26DEC25-100000-C");
        assert_eq!(a.update.values, [(Field::Delta, 0.5)]);
        assert_eq!(a.pairs_at(), 3);
        // The flag alone is not a symbol, nor is a flag in the pairs' place a flag.
        let e = |argv: &[&str]| IngestArgs::parse(argv).unwrap_err();
        assert!(e(&["BTC", "NOHISTORY"]).contains("wrong number of arguments"));
        assert!(e(&["BTC", "NOHISTORY", "BTC-26DEC25-100000-C", "delta"])
            .contains("wrong number of arguments"));
        assert!(e(&["BTC", "BTC-26DEC25-100000-C", "NOHISTORY", "1"])
            .contains("unknown field 'NOHISTORY'"));
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
