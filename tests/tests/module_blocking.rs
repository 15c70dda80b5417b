//! `OPTIONS.CHANGES … BLOCK ms` against a real server: every cause that wakes a parked reader
//! (a write, the key deleted, a flush, a replica applying its master's write), the timeout,
//! `BLOCK 0` with `CLIENT UNBLOCK`, MULTI and scripts (never blocking), many readers on one key.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use options_tests::{json, RedisServer, TempDir};
use serde_json::Value;

const SYMBOL: &str = "BTC-26DEC30-100000-C";

fn ingest(con: &mut redis::Connection, symbol: &str, mark: f64) {
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("BTC")
        .arg(symbol)
        .arg("mark_price")
        .arg(mark)
        .query(con)
        .unwrap();
}

fn seq(con: &mut redis::Connection) -> u64 {
    json(con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"])["seq"]
        .as_u64()
        .unwrap()
}

/// Sends `OPTIONS.CHANGES BTC since BLOCK ms FORMAT JSON` on a connection of its own; the reply
/// (`None` for nil) arrives on the channel. Returns the connection's client id too.
fn blocked_read(server: &RedisServer, since: u64, ms: u64) -> (i64, mpsc::Receiver<Option<Value>>) {
    let mut con = server.connection();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let reply: Option<String> = redis::cmd("OPTIONS.CHANGES")
            .arg("BTC")
            .arg(since)
            .arg("BLOCK")
            .arg(ms)
            .arg("FORMAT")
            .arg("JSON")
            .query(&mut con)
            .unwrap();
        let _ = tx.send(reply.map(|t| serde_json::from_str(&t).unwrap()));
    });
    (id, rx)
}

/// The reader is still waiting after `ms`.
fn still_waiting(rx: &mpsc::Receiver<Option<Value>>, ms: u64) {
    match rx.recv_timeout(Duration::from_millis(ms)) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        other => panic!("the reader should still wait, got {other:?}"),
    }
}

fn answer(rx: &mpsc::Receiver<Option<Value>>) -> Option<Value> {
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the parked reader answered")
}

fn symbols(v: &Value) -> Vec<&str> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect()
}

#[test]
fn a_write_wakes_the_reader_with_exactly_what_changed() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    ingest(&mut con, SYMBOL, 1.0);
    let at = seq(&mut con);
    let (_, rx) = blocked_read(&server, at, 0);
    still_waiting(&rx, 300);
    // A write that changes nothing (the same value) wakes nobody.
    ingest(&mut con, SYMBOL, 1.0);
    still_waiting(&rx, 200);
    ingest(&mut con, SYMBOL, 2.0);
    let got = answer(&rx).expect("a reply, not nil");
    assert_eq!(got["reset"], false);
    assert_eq!(got["seq"].as_u64(), Some(at + 1));
    assert_eq!(symbols(&got), [SYMBOL]);
    assert_eq!(got["data"][0]["mark_price"], 2.0);
    // The same read without BLOCK answers the same.
    let plain = json(
        &mut con,
        &["OPTIONS.CHANGES", "BTC", &at.to_string(), "FORMAT", "JSON"],
    );
    assert_eq!(plain, got);
}

#[test]
fn a_reader_behind_answers_at_once_and_a_quiet_one_times_out_with_nil() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    ingest(&mut con, SYMBOL, 1.0);
    let at = seq(&mut con);
    let (_, behind) = blocked_read(&server, at - 1, 0);
    assert_eq!(symbols(&answer(&behind).unwrap()), [SYMBOL]);
    let (_, quiet) = blocked_read(&server, at, 150);
    assert_eq!(answer(&quiet), None, "nil on timeout, as XREAD");
    // A cursor the chain never issued: reset at once.
    let (_, ahead) = blocked_read(&server, at + 1000, 0);
    assert_eq!(answer(&ahead).unwrap()["reset"], true);
}

#[test]
fn a_missing_key_answers_reset_to_a_cursor_and_is_awaited_from_zero() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let (_, old_cursor) = blocked_read(&server, 5, 0);
    let got = answer(&old_cursor).unwrap();
    assert_eq!(
        (got["reset"].clone(), got["seq"].clone()),
        (Value::Bool(true), 0.into())
    );
    let (_, from_zero) = blocked_read(&server, 0, 0);
    still_waiting(&from_zero, 300);
    ingest(&mut con, SYMBOL, 1.0);
    let got = answer(&from_zero).unwrap();
    assert_eq!(got["reset"], true);
    assert_eq!(symbols(&got), [SYMBOL]);
}

#[test]
fn deletion_and_flush_wake_readers_with_a_reset() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    ingest(&mut con, SYMBOL, 1.0);
    let at = seq(&mut con);
    let (_, rx) = blocked_read(&server, at, 0);
    still_waiting(&rx, 200);
    let _: i64 = redis::cmd("DEL").arg("BTC").query(&mut con).unwrap();
    let got = answer(&rx).unwrap();
    assert_eq!(
        (got["reset"].clone(), got["data"].clone()),
        (Value::Bool(true), Value::Array(vec![]))
    );

    ingest(&mut con, SYMBOL, 1.0);
    let at = seq(&mut con);
    let (_, rx) = blocked_read(&server, at, 0);
    still_waiting(&rx, 200);
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    assert_eq!(answer(&rx).unwrap()["reset"], true);
}

#[test]
fn client_unblock_answers_nil_and_multi_and_scripts_never_block() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    ingest(&mut con, SYMBOL, 1.0);
    let at = seq(&mut con);
    let (id, rx) = blocked_read(&server, at, 0);
    still_waiting(&rx, 200);
    let n: i64 = redis::cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(id)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(answer(&rx), None);

    let at_s = at.to_string();
    let (in_multi,): (String,) = redis::pipe()
        .atomic()
        .cmd("OPTIONS.CHANGES")
        .arg("BTC")
        .arg(&at_s)
        .arg("BLOCK")
        .arg(0)
        .arg("FORMAT")
        .arg("JSON")
        .query(&mut con)
        .unwrap();
    let v: Value = serde_json::from_str(&in_multi).unwrap();
    assert_eq!(
        (v["reset"].clone(), v["data"].clone()),
        (Value::Bool(false), Value::Array(vec![]))
    );
    let scripted: String = redis::cmd("EVAL")
        .arg("return redis.call('OPTIONS.CHANGES', KEYS[1], ARGV[1], 'BLOCK', '0', 'FORMAT', 'JSON')")
        .arg(1)
        .arg("BTC")
        .arg(&at_s)
        .query(&mut con)
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&scripted).unwrap(), v);
}

#[test]
fn many_readers_on_one_key_all_get_the_write() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    ingest(&mut con, SYMBOL, 1.0);
    let at = seq(&mut con);
    let readers: Vec<_> = (0..50).map(|_| blocked_read(&server, at, 0).1).collect();
    thread::sleep(Duration::from_millis(300));
    ingest(&mut con, SYMBOL, 3.0);
    let first = answer(&readers[0]).unwrap();
    assert_eq!(first["data"][0]["mark_price"], 3.0);
    for rx in &readers[1..] {
        assert_eq!(answer(rx).unwrap(), first);
    }
}

#[test]
fn a_replica_wakes_its_readers_as_it_applies_the_masters_writes() {
    let master = RedisServer::start(&[]);
    let mut m = master.connection();
    ingest(&mut m, SYMBOL, 1.0);
    let port = master.port.to_string();
    let replica = RedisServer::start_in(
        TempDir::new("replica"),
        &["--replicaof", "127.0.0.1", &port],
    );
    let mut r = replica.connection();
    // Synced: the replica holds the chain.
    let at = options_tests::procs::wait_for(Duration::from_secs(10), "the replica's sync", || {
        let s: Option<String> = redis::cmd("OPTIONS.STATS")
            .arg("BTC")
            .arg("FORMAT")
            .arg("JSON")
            .query(&mut r)
            .ok();
        let v: Value = serde_json::from_str(&s?).ok()?;
        (v["contracts"] == 1).then(|| v["seq"].as_u64()).flatten()
    });
    let (_, rx) = blocked_read(&replica, at, 0);
    still_waiting(&rx, 200);
    ingest(&mut m, SYMBOL, 4.0);
    let got = answer(&rx).unwrap();
    assert_eq!(got["data"][0]["mark_price"], 4.0);
}

#[test]
fn a_reload_or_a_rename_wakes_readers_with_a_reset() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    ingest(&mut con, SYMBOL, 1.0);
    let (_, rx) = blocked_read(&server, seq(&mut con), 0);
    still_waiting(&rx, 200);
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut con).unwrap();
    let got = answer(&rx).unwrap();
    assert_eq!(got["reset"], true, "{got}");
    assert_eq!(symbols(&got), [SYMBOL]);

    let (_, rx) = blocked_read(&server, seq(&mut con), 0);
    still_waiting(&rx, 200);
    let _: () = redis::cmd("RENAME")
        .arg("BTC")
        .arg("BTC_OLD")
        .query(&mut con)
        .unwrap();
    let got = answer(&rx).unwrap();
    assert_eq!(
        (got["reset"].clone(), got["data"].clone()),
        (Value::Bool(true), Value::Array(vec![]))
    );
}

#[test]
fn a_reader_following_its_cursor_through_a_storm_of_writes_holds_the_chain() {
    use rand::{Rng, SeedableRng};
    let server = RedisServer::start(&[]);
    let mut writer = server.connection();
    let symbols_: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "BTC-26DEC30-{}-{}",
                50_000 + 1_000 * (i / 2),
                if i % 2 == 0 { "C" } else { "P" }
            )
        })
        .collect();
    let storm = thread::spawn(move || {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for i in 0..6_000 {
            let s = &symbols_[rng.random_range(0..symbols_.len())];
            if rng.random_range(0..10) == 0 {
                let _: i64 = redis::cmd("OPTIONS.DEL")
                    .arg("BTC")
                    .arg(s)
                    .query(&mut writer)
                    .unwrap();
            } else {
                ingest(&mut writer, s, 1.0 + f64::from(i));
            }
        }
    });
    let mut con = server.connection();
    let mut held: std::collections::BTreeMap<String, Value> = Default::default();
    let (mut cursor, mut resets, mut reads) = (0u64, 0, 0);
    loop {
        let reply: Option<String> = redis::cmd("OPTIONS.CHANGES")
            .arg("BTC")
            .arg(cursor)
            .arg("BLOCK")
            .arg(300)
            .arg("FORMAT")
            .arg("JSON")
            .query(&mut con)
            .unwrap();
        let Some(text) = reply else {
            if storm.is_finished() {
                break; // quiet for 300 ms after the last write
            }
            continue;
        };
        reads += 1;
        let c: Value = serde_json::from_str(&text).unwrap();
        let seq = c["seq"].as_u64().unwrap();
        if c["reset"] == true {
            resets += 1;
            held.clear();
        } else {
            assert!(
                seq > cursor,
                "a delta moves the cursor on: {cursor} → {seq}"
            );
        }
        for row in c["data"].as_array().unwrap() {
            held.insert(row["symbol"].as_str().unwrap().to_string(), row.clone());
        }
        for s in c["removed"].as_array().unwrap() {
            held.remove(s.as_str().unwrap());
        }
        cursor = seq;
    }
    storm.join().unwrap();
    let whole = json(&mut con, &["OPTIONS.CHANGES", "BTC", "0", "FORMAT", "JSON"]);
    let want: std::collections::BTreeMap<String, Value> = whole["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["symbol"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(held, want, "after {reads} reads and {resets} resets");
    assert_eq!(cursor, whole["seq"].as_u64().unwrap());
    assert_eq!(resets, 1, "only the first read (cursor 0) is a reset");
    assert!(
        reads > 10,
        "the reader followed the storm in steps: {reads}"
    );
}
