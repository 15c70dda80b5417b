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

/// How many random commands the model run sends: a few thousand in `make test`, 100,000 in
/// `make bench` (`MODEL_COMMANDS`).
fn model_commands() -> usize {
    std::env::var("MODEL_COMMANDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4000)
}

#[test]
fn random_writes_agree_with_a_model() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let today = fixture::today_days();
    let mut rng = StdRng::seed_from_u64(99);
    // a small universe so that updates, re-creations, deletions and purges collide often
    let expiries: Vec<options_core::Expiry> = (0..4)
        .map(|i| options_core::Expiry::from_unix_days(today + 1 + i * 7).unwrap())
        .collect();
    let universe: Vec<(String, usize, bool)> = (0..60)
        .map(|i| {
            let e = i % 4;
            let call = i % 2 == 0;
            let sym = format!(
                "ETH-{}-{}-{}",
                expiries[e].code(),
                3000 + 100 * (i / 8),
                if call { "C" } else { "P" }
            );
            (sym, e, call)
        })
        .collect();
    let fields = [
        "mark_price",
        "delta",
        "volume_24h",
        "mark_iv",
        "open_interest",
    ];
    // symbol → (expiry index, call?, fields written)
    type Row = (usize, bool, BTreeMap<&'static str, f64>);
    let mut model: BTreeMap<String, Row> = BTreeMap::new();
    let n = model_commands();
    let (mut queries, mut purges, mut analytics) = (0, 0, 0);
    for step in 0..n {
        let (sym, e, call) = &universe[rng.random_range(0..universe.len())];
        let roll: f64 = rng.random();
        if roll < 0.12 {
            // DEL of one or two symbols (the second may repeat the first)
            let other = &universe[rng.random_range(0..universe.len())].0;
            let both = rng.random_bool(0.3);
            let mut cmd = redis::cmd("OPTIONS.DEL");
            cmd.arg("ETH").arg(sym);
            if both {
                cmd.arg(other);
            }
            let got: i64 = cmd.query(&mut con).unwrap();
            let mut want = i64::from(model.remove(sym).is_some());
            if both && other != sym {
                want += i64::from(model.remove(other).is_some());
            }
            assert_eq!(got, want, "step {step}: DEL");
        } else if roll < 0.14 {
            // PURGE as of the delivery of a random expiry: that expiry and earlier go.
            let at = expiries[rng.random_range(0..expiries.len())].timestamp_ms();
            let got: i64 = redis::cmd("OPTIONS.PURGE")
                .arg("ETH")
                .arg("NOW")
                .arg(at)
                .query(&mut con)
                .unwrap();
            let before = model.len();
            model.retain(|_, (e, _, _)| expiries[*e].timestamp_ms() > at);
            assert_eq!(got as usize, before - model.len(), "step {step}: PURGE");
            purges += 1;
        } else if roll < 0.19 {
            // QUERY of one expiry and side: the same symbols and values as the model.
            let e = rng.random_range(0..expiries.len());
            let call = rng.random_bool(0.5);
            let got = json(
                &mut con,
                &[
                    "OPTIONS.QUERY",
                    "ETH",
                    "EXPIRY",
                    &expiries[e].iso(),
                    "TYPE",
                    if call { "CALL" } else { "PUT" },
                    "FORMAT",
                    "JSON",
                ],
            );
            let rows = got["data"].as_array().unwrap();
            let want: Vec<&String> = model
                .iter()
                .filter(|(_, (me, mc, _))| *me == e && *mc == call)
                .map(|(s, _)| s)
                .collect();
            assert_eq!(rows.len(), want.len(), "step {step}: QUERY count");
            for row in rows {
                let (_, _, vals) = &model[row["symbol"].as_str().unwrap()];
                for f in fields {
                    assert_eq!(
                        row[f].as_f64(),
                        vals.get(f).copied(),
                        "step {step}: {} {f}",
                        row["symbol"]
                    );
                }
            }
            queries += 1;
        } else if roll < 0.21 {
            // ANALYTICS: one row per expiry that holds contracts, open interest by side as the
            // model adds it up (a missing value counts 0).
            let got = json(&mut con, &["OPTIONS.ANALYTICS", "ETH", "FORMAT", "JSON"]);
            let mut by_expiry: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
            for (e, call, vals) in model.values() {
                let oi = vals.get("open_interest").copied().unwrap_or(0.0);
                let slot = by_expiry.entry(*e).or_default();
                if *call {
                    slot.0 += oi;
                } else {
                    slot.1 += oi;
                }
            }
            let rows = got["expiries"].as_array().unwrap();
            assert_eq!(
                rows.len(),
                by_expiry.len(),
                "step {step}: ANALYTICS expiries"
            );
            for (row, (e, (calls, puts))) in rows.iter().zip(&by_expiry) {
                assert_eq!(row["expiry"], expiries[*e].code());
                assert!(
                    (row["oi_calls"].as_f64().unwrap() - calls).abs()
                        <= 1e-6 * calls.abs().max(1.0)
                );
                assert!(
                    (row["oi_puts"].as_f64().unwrap() - puts).abs() <= 1e-6 * puts.abs().max(1.0)
                );
            }
            analytics += 1;
        } else {
            let mut cmd = redis::cmd("OPTIONS.INGEST");
            cmd.arg("ETH").arg(sym);
            let row = model
                .entry(sym.clone())
                .or_insert_with(|| (*e, *call, BTreeMap::new()));
            let mut any = false;
            for f in fields {
                if rng.random_bool(0.5) || (!any && f == "open_interest") {
                    // open interest is never negative; the rest may be
                    let v: f64 = if f == "open_interest" {
                        rng.random_range(0.0..1000.0)
                    } else {
                        rng.random_range(-1000.0..1000.0)
                    };
                    cmd.arg(f).arg(format!("{v:?}"));
                    row.2.insert(f, v);
                    any = true;
                }
            }
            let _: i64 = cmd.query(&mut con).unwrap();
        }
    }
    let got = json(&mut con, &["OPTIONS.QUERY", "ETH", "FORMAT", "JSON"]);
    let rows = got["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    assert_eq!(rows.len(), model.len());
    for row in rows {
        let (_, _, want) = &model[row["symbol"].as_str().unwrap()];
        for f in fields {
            assert_eq!(
                row[f].as_f64(),
                want.get(f).copied(),
                "{} {f}",
                row["symbol"]
            );
        }
    }
    println!("{n} random commands ({queries} queries, {purges} purges, {analytics} analytics checks) agree with the model");
}
