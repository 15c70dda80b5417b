//! Random argument vectors at every command of a live server: it must stay up and answer each
//! with a value or an error. Then a model-based check: random writes, compared with a model kept
//! in the test.

use std::collections::BTreeMap;

use options_tests::{fixture, json, RedisServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const COMMANDS: [&str; 13] = [
    "OPTIONS.INGEST",
    "OPTIONS.QUERY",
    "OPTIONS.EXPIRIES",
    "OPTIONS.STRIKES",
    "OPTIONS.GET",
    "OPTIONS.CHAIN",
    "OPTIONS.STATS",
    "OPTIONS.CHANGES",
    "OPTIONS.DEL",
    "OPTIONS.PURGE",
    "OPTIONS.ANALYTICS",
    "OPTIONS.HISTORY",
    "OPTIONS.HISTORYRESTORE",
];

/// Tokens that reach deep into the parsers, mixed with raw garbage.
fn token(rng: &mut StdRng, symbols: &[String]) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "BTC",
        "ETH",
        "PLAIN",
        "NOPE",
        "EXPIRY",
        "TYPE",
        "STRIKE",
        "STRIKE_MIN",
        "STRIKE_MAX",
        "SETTLE",
        "SORTBY",
        "LIMIT",
        "FIELDS",
        "FORMAT",
        "JSON",
        "RESP",
        "ASC",
        "DESC",
        "CALL",
        "PUT",
        "USDC",
        "USDT",
        "NOW",
        "BYSTRIKE",
        "METRIC",
        "TENOR",
        "FROM",
        "TO",
        "atm_iv",
        "index",
        "30",
        "updated_ms",
        "mark_price",
        "markPriceIv",
        "bid1Price",
        "delta",
        "strike",
        "symbol",
        "expiry",
        "3SEP25",
        "03SEP25",
        "2025-09-03",
        "29FEB25",
        "0",
        "1",
        "-1",
        "2",
        "64",
        "65",
        "1e308",
        "-1e308",
        "nan",
        "inf",
        "",
        " ",
        "0.1",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999999",
        "BTC-",
        "BTC--C",
        "BTC-1JAN30-1-C-USDT-X",
        "10000000",
    ];
    match rng.random_range(0..10) {
        0..=5 => WORDS[rng.random_range(0..WORDS.len())].as_bytes().to_vec(),
        6 | 7 => symbols[rng.random_range(0..symbols.len())]
            .as_bytes()
            .to_vec(),
        8 => {
            let n = rng.random_range(0..40);
            (0..n).map(|_| rng.random::<u8>()).collect()
        }
        _ => rng.random_range(-1e6..1e6f64).to_string().into_bytes(),
    }
}

fn lower_sometimes(rng: &mut StdRng, s: &str) -> String {
    if rng.random_bool(0.3) {
        s.to_lowercase()
    } else {
        s.to_string()
    }
}

#[test]
fn random_argument_vectors_never_hurt_the_server() {
    let mut server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(5);
    let small: Vec<_> = contracts.iter().step_by(10).cloned().collect();
    fixture::ingest(&mut con, &small);
    let _: () = redis::cmd("SET")
        .arg("PLAIN")
        .arg("x")
        .query(&mut con)
        .unwrap();
    let symbols: Vec<String> = small.iter().map(|c| c.symbol.clone()).collect();

    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_251_124);
    let iterations: usize = std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut ok, mut errors) = (0, 0);
    for i in 0..iterations {
        let pick = COMMANDS[rng.random_range(0..COMMANDS.len())];
        let name = lower_sometimes(&mut rng, pick);
        let mut cmd = redis::cmd(&name);
        let argc = rng.random_range(0..14);
        let mut shown = vec![name.clone()];
        for _ in 0..argc {
            let t = token(&mut rng, &symbols);
            shown.push(String::from_utf8_lossy(&t).into_owned());
            cmd.arg(t);
        }
        match cmd.query::<redis::Value>(&mut con) {
            Ok(_) => ok += 1,
            Err(e)
                if e.kind() == redis::ErrorKind::IoError
                    || e.kind() == redis::ErrorKind::ParseError
                    || e.is_connection_dropped() =>
            {
                panic!(
                    "seed {seed}, iteration {i}: {shown:?} broke the connection: {e}\n{}",
                    server.log()
                )
            }
            Err(_) => errors += 1,
        }
    }
    assert!(
        server.is_alive(),
        "redis-server died; log:\n{}",
        server.log()
    );
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    assert!(
        ok > 100 && errors > 100,
        "the vectors exercised both paths: {ok} ok, {errors} errors"
    );

    // whatever the fuzzing left behind is consistent and persists
    let g = json(&mut con, &["OPTIONS.STATS", "FORMAT", "JSON"]);
    let per_key: i64 = ["BTC", "ETH", "SOL", "XRP", "NOPE"]
        .iter()
        .map(|k| {
            json(&mut con, &["OPTIONS.STATS", k, "FORMAT", "JSON"])["contracts"]
                .as_i64()
                .unwrap()
        })
        .sum();
    assert_eq!(
        g["contracts"].as_i64(),
        Some(per_key),
        "global totals match the keys"
    );
    let before =
        options_tests::text(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap();
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut con).unwrap();
    assert_eq!(
        options_tests::text(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap(),
        before
    );
}

#[test]
fn random_writes_agree_with_a_model() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let today = fixture::today_days();
    let mut rng = StdRng::seed_from_u64(99);
    // a small universe so that updates, re-creations and deletions collide often
    let universe: Vec<String> = (0..60)
        .map(|i| {
            let e = options_core::Expiry::from_unix_days(today + 1 + (i % 4) as i64 * 7).unwrap();
            format!(
                "ETH-{}-{}-{}",
                e.code(),
                3000 + 100 * (i / 8),
                if i % 2 == 0 { "C" } else { "P" }
            )
        })
        .collect();
    let fields = ["mark_price", "delta", "volume_24h", "mark_iv"];
    let mut model: BTreeMap<String, BTreeMap<&str, f64>> = BTreeMap::new();
    for _ in 0..3000 {
        let sym = &universe[rng.random_range(0..universe.len())];
        if rng.random_bool(0.15) {
            let n: i64 = redis::cmd("OPTIONS.DEL")
                .arg("ETH")
                .arg(sym)
                .query(&mut con)
                .unwrap();
            assert_eq!(n, i64::from(model.remove(sym).is_some()));
        } else {
            let mut cmd = redis::cmd("OPTIONS.INGEST");
            cmd.arg("ETH").arg(sym);
            let row = model.entry(sym.clone()).or_default();
            for f in fields {
                if rng.random_bool(0.5) {
                    let v: f64 = rng.random_range(-1000.0..1000.0);
                    cmd.arg(f).arg(format!("{v:?}"));
                    row.insert(f, v);
                }
            }
            let _: i64 = cmd.query(&mut con).unwrap();
        }
    }
    let got = json(&mut con, &["OPTIONS.QUERY", "ETH", "FORMAT", "JSON"]);
    let rows = got["data"].as_array().unwrap();
    assert_eq!(rows.len(), model.len());
    for row in rows {
        let want = &model[row["symbol"].as_str().unwrap()];
        for f in fields {
            assert_eq!(
                row[f].as_f64(),
                want.get(f).copied(),
                "{} {f}",
                row["symbol"]
            );
        }
    }
}
