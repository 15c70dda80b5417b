//! The tape and `OPTIONS.FLOW` against a real redis-server (issue 30): trades recorded once on
//! the stream `{key}:trades`, readable by any client, and the flow over them computed here from
//! the trades sent with plain loops (premium = size × price signed by the taker's side), never
//! with the module's code. Resent ids, trims and deletions by hand, a reload and a replica.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use options_core::Expiry;
use options_tests::{error, json, text, RedisServer, TempDir};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

#[derive(Debug, Clone)]
struct Sent {
    id: String,
    symbol: String,
    expiry: String,
    strike: f64,
    call: bool,
    buy: bool,
    size: f64,
    price: f64,
    index: Option<f64>,
    block: bool,
    ts: i64,
}

/// `n` trades over the `span_ms` before `end`, in time order with a few late ones, on three
/// expiries and five strikes, a tenth of them blocks.
fn trades(n: usize, end: i64, span_ms: i64, seed: u64) -> Vec<Sent> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = end.div_euclid(86_400_000);
    let expiries: Vec<Expiry> = [9, 23, 86]
        .iter()
        .map(|d| Expiry::from_unix_days(today + d).unwrap())
        .collect();
    let mut out = Vec::new();
    for i in 0..n {
        let e = expiries[rng.random_range(0..3)];
        let strike = 80_000.0 + 10_000.0 * rng.random_range(0..5) as f64;
        let call = rng.random_bool(0.5);
        let mut ts = end - span_ms + (span_ms as f64 * i as f64 / n as f64) as i64;
        if rng.random_bool(0.05) {
            ts -= rng.random_range(1..60_000); // late
        }
        out.push(Sent {
            id: format!("trade-{seed}-{i}"),
            symbol: format!("BTC-{}-{strike}-{}", e.code(), if call { "C" } else { "P" }),
            expiry: e.code(),
            strike,
            call,
            buy: rng.random_bool(0.55),
            size: (rng.random_range(1..200) as f64) / 10.0,
            price: (rng.random_range(50..50_000) as f64) / 10.0,
            index: (!rng.random_bool(0.1)).then(|| 95_000.0 + rng.random_range(0..1000) as f64),
            block: rng.random_bool(0.1),
            ts,
        });
    }
    out
}

fn record(con: &mut redis::Connection, t: &Sent) -> i64 {
    let mut cmd = redis::cmd("OPTIONS.TRADE");
    cmd.arg("BTC")
        .arg(&t.id)
        .arg(&t.symbol)
        .arg(if t.buy { "buy" } else { "sell" })
        .arg(t.size)
        .arg(t.price)
        .arg(t.ts);
    if let Some(i) = t.index {
        cmd.arg("INDEX").arg(i);
    }
    if t.block {
        cmd.arg("BLOCK");
    }
    cmd.query(con).expect("OPTIONS.TRADE")
}

/// The sums of ANALYTICS-style figures over `trades`, as the issue defines them.
fn sums(trades: &[&Sent]) -> BTreeMap<&'static str, f64> {
    let mut m = BTreeMap::new();
    let (mut bv, mut sv, mut bp, mut sp, mut bt, mut bvol) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for t in trades {
        if t.buy {
            bv += t.size;
            bp += t.size * t.price;
        } else {
            sv += t.size;
            sp += t.size * t.price;
        }
        if t.block {
            bt += 1.0;
            bvol += t.size;
        }
    }
    m.insert("trades", trades.len() as f64);
    m.insert("buy_volume", bv);
    m.insert("sell_volume", sv);
    m.insert("net_volume", bv - sv);
    m.insert("buy_premium", bp);
    m.insert("sell_premium", sp);
    m.insert("net_premium", bp - sp);
    m.insert("block_trades", bt);
    m.insert("block_volume", bvol);
    m
}

fn assert_sums(got: &Value, want: &BTreeMap<&'static str, f64>, what: &str) {
    for (k, w) in want {
        let g = got[*k]
            .as_f64()
            .unwrap_or_else(|| panic!("{what}.{k} missing: {got}"));
        assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{what}.{k}: got {g}, want {w}"
        );
    }
}

fn flow(con: &mut redis::Connection, extra: &[&str]) -> Value {
    let mut args = vec!["OPTIONS.FLOW", "BTC"];
    args.extend_from_slice(extra);
    args.extend(["FORMAT", "JSON"]);
    json(con, &args)
}

#[test]
fn flow_sums_the_tape_as_defined() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let now = options_tests::fixture::now_ms();
    let sent = trades(2_000, now, 30 * 3_600_000, 1);
    for t in &sent {
        assert_eq!(record(&mut con, t), 1, "{}", t.id);
    }
    // The tape keeps 24 hours back from its newest entry (an entry's time is its trade's, or
    // the entry before's when the trade is late).
    let mut entry_ms = Vec::new();
    for t in &sent {
        let last = entry_ms.last().copied().unwrap_or(0);
        entry_ms.push(t.ts.max(last));
    }
    let newest = *entry_ms.last().unwrap();
    let kept = entry_ms
        .iter()
        .filter(|ms| **ms >= newest - 86_400_000)
        .count();
    let len: i64 = redis::cmd("XLEN")
        .arg("{BTC}:trades")
        .query(&mut con)
        .unwrap();
    assert_eq!(len, kept as i64);
    assert!(kept < sent.len(), "the first hours are past the retention");
    // A venue resends after a reconnect: the same ids count once (within the retention; one
    // trimmed away is new again, and trimmed again at once).
    for (t, ms) in sent.iter().zip(&entry_ms).skip(1).step_by(50) {
        if *ms >= newest - 86_400_000 {
            assert_eq!(record(&mut con, t), 0, "{} again", t.id);
        }
    }

    // The default window: the 24 hours before NOW.
    let now_s = now.to_string();
    let got = flow(&mut con, &["NOW", &now_s, "BYSTRIKE", "BUCKET", "3600"]);
    let day: Vec<&Sent> = sent
        .iter()
        .filter(|t| t.ts >= now - 86_400_000 && t.ts <= now)
        .collect();
    assert!(day.len() > 1000 && day.len() < sent.len());
    assert_eq!(got["from"], now - 86_400_000);
    assert_eq!(got["to"], now);
    assert_sums(&got, &sums(&day), "totals");
    // Per expiry, chronological.
    let mut expiries: Vec<(&str, Vec<&Sent>)> = Vec::new();
    let mut codes: Vec<&str> = day.iter().map(|t| t.expiry.as_str()).collect();
    codes.sort_by_key(|c| Expiry::parse(c).unwrap());
    codes.dedup();
    for c in codes {
        expiries.push((c, day.iter().copied().filter(|t| t.expiry == c).collect()));
    }
    let got_expiries = got["expiries"].as_array().unwrap();
    assert_eq!(got_expiries.len(), expiries.len());
    for (g, (code, ts)) in got_expiries.iter().zip(&expiries) {
        assert_eq!(g["expiry"], *code);
        assert_sums(g, &sums(ts), code);
    }
    // Per strike: calls' and puts' net premium and volume.
    let strikes = got["strikes"].as_array().unwrap();
    assert_eq!(strikes.len(), 5);
    for s in strikes {
        let k = s["strike"].as_f64().unwrap();
        let net = |call: bool, premium: bool| -> f64 {
            day.iter()
                .filter(|t| t.strike == k && t.call == call)
                .map(|t| {
                    let v = if premium { t.size * t.price } else { t.size };
                    if t.buy {
                        v
                    } else {
                        -v
                    }
                })
                .sum()
        };
        for (field, want) in [
            ("call_net_premium", net(true, true)),
            ("call_net_volume", net(true, false)),
            ("put_net_premium", net(false, true)),
            ("put_net_volume", net(false, false)),
        ] {
            let g = s[field].as_f64().unwrap();
            assert!(
                (g - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{k} {field}: {g} vs {want}"
            );
        }
    }
    // Hourly buckets (aligned to FROM's hour) from the first trade's to the last's: net
    // premium and block volume.
    let buckets = got["buckets"].as_array().unwrap();
    let start = (now - 86_400_000).div_euclid(3_600_000) * 3_600_000;
    let hour_of = |t: &&Sent| (t.ts - start).div_euclid(3_600_000);
    let first = day.iter().map(hour_of).min().unwrap();
    let last = day.iter().map(hour_of).max().unwrap();
    assert_eq!(buckets.len() as i64, last - first + 1);
    for (i, b) in buckets.iter().enumerate() {
        let lo = start + (first + i as i64) * 3_600_000;
        let inside: Vec<&&Sent> = day
            .iter()
            .filter(|t| t.ts >= lo && t.ts < lo + 3_600_000)
            .collect();
        let net: f64 = inside
            .iter()
            .map(|t| {
                if t.buy {
                    t.size * t.price
                } else {
                    -t.size * t.price
                }
            })
            .sum();
        let blocks: f64 = inside.iter().filter(|t| t.block).map(|t| t.size).sum();
        assert_eq!(b[0].as_i64(), Some(lo));
        assert!(
            (b[1].as_f64().unwrap() - net).abs() <= 1e-9 * net.abs().max(1.0),
            "bucket {i}"
        );
        assert!(
            (b[2].as_f64().unwrap() - blocks).abs() <= 1e-9 * blocks.max(1.0),
            "bucket {i}"
        );
    }

    // The typed client decodes the same reply, field for field.
    let typed = options_tests::run(
        &mut con,
        &options_client::cmd::Flow {
            now_ms: Some(now),
            by_strike: true,
            bucket_s: Some(3600),
            ..options_client::cmd::Flow::new("BTC")
        },
    )
    .expect("a flow reply");
    assert_eq!(typed.totals.trades as usize, day.len());
    assert_eq!(typed.expiries.len(), expiries.len());
    assert_eq!(typed.strikes.as_ref().map(Vec::len), Some(5));
    assert_eq!(typed.buckets.as_ref().map(Vec::len), Some(buckets.len()));

    // A window, an expiry and a minimum notional (size × index; no index, no notional).
    let (from, to) = (now - 6 * 3_600_000, now - 3_600_000);
    let code = expiries[1].0;
    let got = flow(
        &mut con,
        &[
            "FROM",
            &from.to_string(),
            "TO",
            &to.to_string(),
            "EXPIRY",
            code,
            "MIN_NOTIONAL",
            "500000",
        ],
    );
    let want: Vec<&Sent> = sent
        .iter()
        .filter(|t| t.ts >= from && t.ts <= to && t.expiry == code)
        .filter(|t| t.index.is_some_and(|i| t.size * i >= 500_000.0))
        .collect();
    assert!(!want.is_empty());
    assert_sums(&got, &sums(&want), "window");

    // The tape is a stream any client reads.
    let first: Value = {
        let r: redis::Value = redis::cmd("XRANGE")
            .arg("{BTC}:trades")
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query(&mut con)
            .unwrap();
        let redis::Value::Array(entries) = r else {
            panic!("{r:?}")
        };
        let redis::Value::Array(pair) = &entries[0] else {
            panic!()
        };
        let redis::Value::Array(fields) = &pair[1] else {
            panic!()
        };
        let mut m = serde_json::Map::new();
        for kv in fields.chunks(2) {
            let s = |v: &redis::Value| match v {
                redis::Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
                other => panic!("{other:?}"),
            };
            m.insert(s(&kv[0]), Value::String(s(&kv[1])));
        }
        Value::Object(m)
    };
    let oldest = &sent[entry_ms
        .iter()
        .position(|ms| *ms >= newest - 86_400_000)
        .unwrap()];
    assert_eq!(first["id"], oldest.id.as_str());
    assert_eq!(first["symbol"], oldest.symbol.as_str());
    assert_eq!(first["ts"], oldest.ts.to_string());
    assert_eq!(first["block"], if oldest.block { "1" } else { "0" });
}

#[test]
fn the_tape_stays_true_to_its_stream() {
    let dir = TempDir::new("flow");
    let mut server = RedisServer::start_in(dir, &["--appendonly", "yes"]);
    let mut con = server.connection();
    let now = options_tests::fixture::now_ms();
    let sent = trades(300, now, 3_600_000, 2);
    for t in &sent {
        record(&mut con, t);
    }
    let all = |con: &mut redis::Connection| flow(con, &["NOW", &now.to_string()]);
    assert_eq!(all(&mut con)["trades"], 300);
    // Trimmed by hand: the flow follows the stream.
    let _: i64 = redis::cmd("XTRIM")
        .arg("{BTC}:trades")
        .arg("MAXLEN")
        .arg(200)
        .query(&mut con)
        .unwrap();
    assert_eq!(all(&mut con)["trades"], 200);
    let kept: Vec<&Sent> = sent[100..].iter().collect();
    assert_sums(&all(&mut con), &sums(&kept), "after XTRIM");
    // An id trimmed away is new again.
    assert_eq!(record(&mut con, &sent[0]), 1);
    assert_eq!(all(&mut con)["trades"], 201);
    // A reload (the module's index is memory; the stream is the record): rebuilt, same figures.
    let before = all(&mut con);
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut con).unwrap();
    assert_eq!(all(&mut con), before);
    // A restart from the AOF.
    // The AOF is fsynced every second: one more second and everything is on disk.
    std::thread::sleep(Duration::from_millis(1100));
    drop(con);
    server.kill();
    server.start_again();
    let mut con = server.connection();
    assert_eq!(all(&mut con), before);
    assert_eq!(
        record(&mut con, &sent[150]),
        0,
        "ids seen before the restart still count once"
    );
    // Deleted by hand: nothing, and no error.
    let _: i64 = redis::cmd("DEL")
        .arg("{BTC}:trades")
        .query(&mut con)
        .unwrap();
    assert_eq!(all(&mut con)["trades"], 0);
    assert_eq!(record(&mut con, &sent[150]), 1);
    // A key of another type where the tape goes: WRONGTYPE, nothing written.
    let _: () = redis::cmd("SET")
        .arg("{ETH}:trades")
        .arg("x")
        .query(&mut con)
        .unwrap();
    let e = error(
        &mut con,
        &[
            "OPTIONS.TRADE",
            "ETH",
            "t",
            "ETH-26DEC27-4000-C",
            "buy",
            "1",
            "10",
            "1",
        ],
    );
    assert!(e.starts_with("WRONGTYPE"), "{e}");
    // Bad arguments: errors naming them, nothing written.
    let len = |con: &mut redis::Connection| -> i64 {
        redis::cmd("XLEN").arg("{BTC}:trades").query(con).unwrap()
    };
    let before = len(&mut con);
    for (args, want) in [
        (
            vec![
                "OPTIONS.TRADE",
                "BTC",
                "x",
                "ETH-26DEC27-4000-C",
                "buy",
                "1",
                "10",
                "1",
            ],
            "belongs to underlying ETH",
        ),
        (
            vec![
                "OPTIONS.TRADE",
                "BTC",
                "x",
                "BTC-26DEC27-4000-C",
                "long",
                "1",
                "10",
                "1",
            ],
            "side must be buy or sell",
        ),
        (
            vec![
                "OPTIONS.TRADE",
                "BTC",
                "x",
                "BTC-26DEC27-4000-C",
                "buy",
                "0",
                "10",
                "1",
            ],
            "size must be above 0",
        ),
        (
            vec![
                "OPTIONS.TRADE",
                "BTC",
                "x",
                "BTC-26DEC27-4000-C",
                "buy",
                "1",
                "10",
                "1",
                "INDEX",
                "0",
            ],
            "INDEX must be above 0",
        ),
        (
            vec!["OPTIONS.FLOW", "BTC", "BUCKET", "0"],
            "BUCKET must be at least 1",
        ),
        (
            vec!["OPTIONS.FLOW", "BTC", "FROM", "9", "TO", "1"],
            "after TO",
        ),
    ] {
        let e = error(&mut con, &args);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    assert_eq!(len(&mut con), before);
}

#[test]
fn a_replica_holds_the_same_tape_and_flow() {
    let master = RedisServer::start(&[]);
    let mut m = master.connection();
    let port = master.port.to_string();
    let replica = RedisServer::start_in(
        TempDir::new("flow-replica"),
        &["--replicaof", "127.0.0.1", &port],
    );
    let mut r = replica.connection();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text(&mut r, &["INFO", "replication"])
        .unwrap()
        .contains("master_link_status:up")
    {
        assert!(Instant::now() < deadline, "the replica never synced");
        std::thread::sleep(Duration::from_millis(50));
    }
    let now = options_tests::fixture::now_ms();
    for t in &trades(500, now, 3_600_000, 3) {
        record(&mut m, t);
    }
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut m).unwrap();
    assert_eq!(acked, 1);
    let args = ["NOW", &now.to_string(), "BYSTRIKE", "BUCKET", "600"].map(String::from);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(flow(&mut r, &refs), flow(&mut m, &refs));
    let ids = |con: &mut redis::Connection| -> Vec<String> {
        let v: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg("{BTC}:trades")
            .arg("-")
            .arg("+")
            .query(con)
            .unwrap();
        v.into_iter().map(|(id, _)| id).collect()
    };
    assert_eq!(ids(&mut r), ids(&mut m), "the same entry ids");
}
