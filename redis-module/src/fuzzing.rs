//! Bodies of the module's fuzz targets (`fuzz/fuzz_targets/`). They live here so that
//! `cargo test` replays every stored corpus input through the same code (`make test`), while
//! `make fuzz` explores from those inputs. Each asserts what must hold for any input; a panic
//! is a finding (in Redis it would be an error reply at best, a crashed server at worst).

use options_core::{parse_symbol, Field};

use crate::analytics::{self, Selection};
use crate::chain::{Chain, Update};
use crate::commands::analytics::AnalyticsArgs;
use crate::commands::chain::ChainArgs;
use crate::commands::changes::ChangesArgs;
use crate::commands::del::{parse_del, parse_purge};
use crate::commands::get::GetArgs;
use crate::commands::history::HistoryArgs;
use crate::commands::ingest::IngestArgs;
use crate::commands::lists::StrikesArgs;
use crate::commands::smile::SmileArgs;
use crate::commands::stats::stats_key_position;
use crate::history::Want;
use crate::query::Query;
use crate::rdb::{self, Bytes, ENCODING_VERSION};
use crate::render;
use crate::reply::{BytesSink, Reply};

/// A chain's RDB payload, first byte the encoding version (taken mod 4: 0 and 3 are unknown).
/// A payload is refused with an error or loads into a chain that every reader can use and that
/// saves and loads back to the same contracts.
pub fn rdb_payload(data: &[u8]) {
    let Some((&version, payload)) = data.split_first() else {
        return;
    };
    let Ok(chain) = rdb::load_chain(&mut Bytes(payload), i32::from(version % 4)) else {
        return;
    };
    read_everything(&chain);
    let mut saved = Vec::new();
    rdb::save_chain(&mut saved, &chain);
    let back = rdb::load_chain(&mut Bytes(&saved), ENCODING_VERSION)
        .unwrap_or_else(|e| panic!("a saved chain does not load: {e}"));
    let same = back.len() == chain.len()
        && back.contracts().zip(chain.contracts()).all(|(a, b)| {
            a.symbol == b.symbol
                && a.present == b.present
                && a.values
                    .iter()
                    .zip(&b.values)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
        });
    assert!(same, "a chain changed through save and load");
}

/// A command line, words separated by spaces, parsed as each command's arguments (those that
/// take the key read the first word as it); what parses runs against a small chain and, for
/// reads, is rendered both ways.
pub fn command_args(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let argv: Vec<&str> = text.split(' ').collect();
    let chain = small_chain();
    const NOW: i64 = 1_760_000_000_000;
    if let Ok(q) = Query::parse(&argv) {
        let (total, rows) = q.run(&chain, NOW);
        assert!(rows.len() <= total);
        let mut out = Vec::new();
        render::json_rows(&mut out, &chain, &rows, q.output.fields.as_deref());
        let rows = rows
            .iter()
            .map(|&c| Reply::row(&chain, c, q.output.fields.as_deref()));
        encode_every_way(&Reply::Array(rows.collect()));
    }
    if let Ok(a) = SmileArgs::parse(&argv) {
        if let Some((s, _)) = analytics::smile_of(&chain, a.expiry, a.settle, a.now.unwrap_or(NOW))
        {
            assert!(s.points.iter().all(|p| s.fit_iv(p.1).is_finite()));
        }
    }
    if let Ok(a) = AnalyticsArgs::parse(&argv) {
        let selection = Selection {
            expiries: a.expiries.clone(),
            settle: a.settle,
        };
        let figures = analytics::compute(
            &chain,
            &selection,
            a.now.unwrap_or(NOW),
            analytics::Extras {
                by_strike: a.by_strike,
                rate: a.rate,
                smiles: true,
            },
        );
        encode_every_way(&crate::commands::analytics::reply("BTC", &figures));
    }
    if let Ok(h) = HistoryArgs::parse(&argv) {
        assert!(!h.metrics.is_empty(), "a history request names a metric");
    }
    let _ = crate::history::parse_settings(&argv);
    if let Ok(g) = GetArgs::parse(&argv) {
        let _ = chain.get(&g.symbol);
    }
    if let Ok(c) = ChainArgs::parse(&argv) {
        let _ = chain.expiry_slice(c.expiry);
    }
    if let Ok(s) = StrikesArgs::parse(&argv) {
        let _ = s.expiry.map(|e| chain.expiry_slice(e).len());
    }
    if let Ok(c) = ChangesArgs::parse(&argv) {
        let _ = chain.changes_since(c.since, NOW);
    }
    if let Ok(symbols) = parse_del(&argv) {
        let mut copy = chain.duplicate();
        for s in &symbols {
            copy.remove(s);
        }
    }
    if let Ok(Some(at)) = parse_purge(&argv) {
        let _ = chain.duplicate().purge_expired(at);
    }
    if let Ok(t) = crate::commands::trade::TradeArgs::parse(&argv) {
        assert!(
            t.size > 0.0 && t.price >= 0.0 && t.ts > 0,
            "a parsed trade is whole"
        );
    }
    if let Ok(f) = crate::commands::flow::FlowArgs::parse(&argv) {
        // A selection is either refused or small enough to sum.
        if let Ok(sel) = f.selection(NOW) {
            let tape = crate::flow::Tape::default();
            match crate::flow::flow(&tape, &sel) {
                Ok(out) => assert!(out.buckets.len() as i64 <= crate::flow::MAX_BUCKETS),
                Err(crate::flow::TooManyBuckets(n)) => assert!(n > crate::flow::MAX_BUCKETS),
            }
        }
    }
    if let Ok(w) = IngestArgs::parse(&argv) {
        let mut chain = small_chain();
        chain.upsert(&w.symbol, &w.update);
        assert!(chain.get(&w.symbol).is_some(), "a parsed write lands");
    }
    let mut with_command = vec!["OPTIONS.STATS"];
    with_command.extend(&argv);
    if let Some(i) = stats_key_position(&with_command) {
        assert!(i < with_command.len(), "key position {i} out of range");
    }
}

/// A few contracts of two expiries, both settle coins, calls and puts, with open interest, IVs
/// and greeks, so analytics and every column have something to compute.
fn small_chain() -> Chain {
    let mut chain = Chain::new("BTC", 1);
    for (i, s) in [
        "BTC-26DEC25-90000-C",
        "BTC-26DEC25-90000-P",
        "BTC-26DEC25-100000-C",
        "BTC-26DEC25-100000-P",
        "BTC-26DEC25-100000-C-USDT",
        "BTC-27MAR26-100000-C",
        "BTC-27MAR26-100000-P",
        "BTC-27MAR26-120000-C",
    ]
    .iter()
    .enumerate()
    {
        let x = i as f64;
        let update = Update {
            values: vec![
                (Field::MarkPrice, 1_000.0 + 10.0 * x),
                (Field::MarkIv, 0.5 + 0.01 * x),
                (Field::Delta, 0.5 - 0.05 * x),
                (Field::Gamma, 0.00002),
                (Field::OpenInterest, 10.0 + x),
                (Field::UnderlyingPrice, 97_000.0 + x),
                (Field::IndexPrice, 96_900.0),
            ],
            updated_ms: 1_750_000_000_000,
        };
        if let Ok(symbol) = parse_symbol(s) {
            chain.upsert(&symbol, &update);
        }
    }
    chain
}

/// Everything the commands read from a chain, at a time before and after its expiries.
fn read_everything(chain: &Chain) {
    for now in [0, 1_760_000_000_000, i64::MAX / 2] {
        let _ = chain.changes_since(0, now);
        let _ = chain.expiries(now);
        let a = analytics::compute(
            chain,
            &Selection::default(),
            now,
            analytics::Extras {
                by_strike: true,
                rate: 0.0,
                smiles: true,
            },
        );
        encode_every_way(&crate::commands::analytics::reply(&chain.underlying, &a));
        let (_, rows) = Query::default().run(chain, now);
        let mut out = Vec::new();
        render::json_rows(&mut out, chain, &rows, None);
        for c in &rows {
            render::seed_row(&mut out, c);
        }
    }
    let _ = chain.memory_usage();
    let _ = chain.duplicate();
    let settings = crate::history::settings();
    let some_expiry = chain.contracts().next().map(|c| c.expiry);
    let tenor = Want::Tenor {
        days: 30,
        metrics: [true; 3],
    };
    let wants = [Want::Totals, tenor, Want::All]
        .into_iter()
        .chain(some_expiry.map(Want::Expiry));
    for want in wants {
        let _ = chain.history.samples(i64::MIN, i64::MAX, settings, want);
    }
}

/// JSON, RESP2 and RESP3: none of them may panic.
fn encode_every_way(reply: &Reply) {
    let _ = reply.to_json();
    for resp3 in [false, true] {
        reply.write_resp(&mut BytesSink::new(resp3));
    }
}

#[cfg(test)]
mod tests {
    use options_core::fuzzing::replay_corpus;

    #[test]
    fn rdb_corpus_replays() {
        replay_corpus("rdb_payload", super::rdb_payload);
    }

    #[test]
    fn command_args_corpus_replays() {
        replay_corpus("command_args", super::command_args);
    }
}
