//! RDB, DEBUG RELOAD, AOF (plain and rewritten) and replication keep every field bit-exact.

use std::time::{Duration, Instant};

use options_tests::fixture::{self, FixtureContract};
use options_tests::{error, text, RedisServer, TempDir};

const ASSETS: [&str; 4] = ["BTC", "ETH", "SOL", "XRP"];

/// Every chain in full as the module answers it, plus the expiry and strike lists.
fn snapshot(con: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for a in ASSETS {
        out.push(text(con, &["OPTIONS.QUERY", a, "FORMAT", "JSON"]).unwrap());
        out.push(text(con, &["OPTIONS.EXPIRIES", a, "FORMAT", "JSON"]).unwrap());
        out.push(text(con, &["OPTIONS.STRIKES", a, "FORMAT", "JSON"]).unwrap());
    }
    out
}

/// The counters RDB keeps (an AOF replay recounts them). Memory is left out: a loaded chain is
/// allocated to its exact size, a live one has room to grow. The sequence is left out too:
/// `cursors_from_before_a_load_reset` says what a load does to it.
fn counters(con: &mut redis::Connection) -> Vec<serde_json::Value> {
    ASSETS
        .iter()
        .map(|a| {
            let mut s = options_tests::json(con, &["OPTIONS.STATS", a, "FORMAT", "JSON"]);
            s.as_object_mut().unwrap().remove("memory_bytes");
            s.as_object_mut().unwrap().remove("seq");
            s
        })
        .collect()
}

/// Each chain's sequence: the cursor a CHANGES client holds.
fn cursors(con: &mut redis::Connection) -> Vec<u64> {
    ASSETS
        .iter()
        .map(|a| {
            options_tests::json(con, &["OPTIONS.STATS", a, "FORMAT", "JSON"])["seq"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// A client that followed the chains up to `before` asks for what changed since: the loaded
/// chains cannot tell whether the writes it saw last survived (an AOF fsynced every second loses
/// up to a second of them), so each answers a reset, with a sequence above the cursor, and a
/// write after the load continues from there.
fn assert_cursors_reset(con: &mut redis::Connection, before: &[u64], what: &str) {
    for (a, cursor) in ASSETS.iter().zip(before) {
        let c = options_tests::json(
            con,
            &["OPTIONS.CHANGES", a, &cursor.to_string(), "FORMAT", "JSON"],
        );
        assert_eq!(c["reset"], true, "{what}: {a} since {cursor}");
        let seq = c["seq"].as_u64().unwrap();
        assert!(seq > *cursor, "{what}: {a} moved from {cursor} to {seq}");
        let again = options_tests::json(
            con,
            &["OPTIONS.CHANGES", a, &seq.to_string(), "FORMAT", "JSON"],
        );
        assert_eq!(
            (
                again["reset"].clone(),
                again["data"].as_array().unwrap().len()
            ),
            (serde_json::json!(false), 0),
            "{what}: {a} follows on from its new sequence"
        );
    }
}

/// Ingests the fixture, then partial updates without timestamps (the server stamps them) and a
/// deletion, so persistence has to carry server-chosen values too.
fn populate(con: &mut redis::Connection) -> Vec<FixtureContract> {
    let contracts = fixture::chain(11);
    fixture::ingest(con, &contracts);
    for c in contracts.iter().step_by(13) {
        let _: i64 = redis::cmd("OPTIONS.INGEST")
            .arg(&c.underlying)
            .arg(&c.symbol)
            .arg("mark_price")
            .arg("0.1")
            .arg("delta")
            .arg("0.30000000000000004")
            .query(con)
            .unwrap();
    }
    let gone = &contracts[3];
    let _: i64 = redis::cmd("OPTIONS.DEL")
        .arg(&gone.underlying)
        .arg(&gone.symbol)
        .query(con)
        .unwrap();
    contracts
}

#[test]
fn rdb_save_restart_and_debug_reload_are_exact() {
    let mut server = RedisServer::start(&[]);
    let mut con = server.connection();
    populate(&mut con);
    let before = snapshot(&mut con);
    let counted = counters(&mut con);
    let at = cursors(&mut con);

    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut con).unwrap();
    assert_eq!(snapshot(&mut con), before, "DEBUG RELOAD");
    assert_eq!(
        counters(&mut con),
        counted,
        "DEBUG RELOAD keeps the counters"
    );
    assert_cursors_reset(&mut con, &at, "DEBUG RELOAD");

    let at = cursors(&mut con);
    let _: () = redis::cmd("SAVE").query(&mut con).unwrap();
    server.restart();
    let mut con = server.connection();
    assert_eq!(snapshot(&mut con), before, "restart from RDB");
    assert_eq!(counters(&mut con), counted);
    assert_cursors_reset(&mut con, &at, "restart from RDB");
    let types: String = redis::cmd("TYPE").arg("BTC").query(&mut con).unwrap();
    assert_eq!(types, "optchain1");
}

fn wait_for_rewrite(con: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = text(con, &["INFO", "persistence"]).unwrap();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "AOF rewrite did not finish: {info}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn aof_replay_and_rewrite_are_exact() {
    let mut server = RedisServer::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut con = server.connection();
    populate(&mut con);
    let before = snapshot(&mut con);
    let at = cursors(&mut con);

    server.restart();
    let mut con = server.connection();
    assert_eq!(snapshot(&mut con), before, "replay of the command log");
    assert_cursors_reset(&mut con, &at, "replay of the command log");

    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_for_rewrite(&mut con);
    // The rewritten base file holds one OPTIONS.INGEST per contract, not an RDB preamble of
    // our type only: prove it by reading it.
    let base = aof_base(server.dir.path());
    assert!(
        !base.is_empty(),
        "a rewritten AOF in {:?}",
        server.dir.path()
    );

    server.restart();
    let mut con = server.connection();
    assert_eq!(snapshot(&mut con), before, "restart after AOF rewrite");
}

#[test]
fn aof_rewrite_without_rdb_preamble_emits_commands() {
    let mut server = RedisServer::start(&["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]);
    let mut con = server.connection();
    populate(&mut con);
    let before = snapshot(&mut con);
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_for_rewrite(&mut con);
    let base = String::from_utf8_lossy(&aof_base(server.dir.path())).into_owned();
    let ingests = base.matches("OPTIONS.INGEST").count();
    let live: i64 = ASSETS
        .iter()
        .map(|a| {
            let s = options_tests::json(&mut con, &["OPTIONS.STATS", a, "FORMAT", "JSON"]);
            s["contracts"].as_i64().unwrap()
        })
        .sum();
    assert_eq!(
        ingests as i64, live,
        "one OPTIONS.INGEST per contract in the rewritten AOF"
    );
    server.restart();
    let mut con = server.connection();
    assert_eq!(snapshot(&mut con), before);
}

fn wait_replica_synced(replica: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = text(replica, &["INFO", "replication"]).unwrap();
        if info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0") {
            return;
        }
        assert!(Instant::now() < deadline, "replica did not sync: {info}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn replica_answers_the_same() {
    let master = RedisServer::start(&[]);
    let mut m = master.connection();
    // part of the data goes by full sync (RDB transfer), the rest by the command stream
    let contracts = populate(&mut m);
    let port = master.port.to_string();
    let replica = RedisServer::start_in(
        TempDir::new("replica"),
        &["--replicaof", "127.0.0.1", &port],
    );
    let mut r = replica.connection();
    wait_replica_synced(&mut r);

    for c in contracts.iter().step_by(7) {
        let _: i64 = redis::cmd("OPTIONS.INGEST")
            .arg(&c.underlying)
            .arg(&c.symbol)
            .arg("bidIv")
            .arg("0.123456789")
            .query(&mut m)
            .unwrap();
    }
    let _: i64 = redis::cmd("OPTIONS.DEL")
        .arg("XRP")
        .arg(
            &contracts
                .iter()
                .find(|c| c.underlying == "XRP")
                .unwrap()
                .symbol,
        )
        .query(&mut m)
        .unwrap();
    let far_future = (fixture::today_days() + 3) * 86_400_000;
    let purged: i64 = redis::cmd("OPTIONS.PURGE")
        .arg("SOL")
        .arg("NOW")
        .arg(far_future)
        .query(&mut m)
        .unwrap();
    assert!(purged > 0, "the SOL expiries within three days are purged");
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut m).unwrap();
    assert_eq!(acked, 1);

    assert_eq!(
        snapshot(&mut r),
        snapshot(&mut m),
        "replica answers like the master"
    );
    let e = error(
        &mut r,
        &["OPTIONS.INGEST", "BTC", &contracts[0].symbol, "delta", "1"],
    );
    assert!(e.to_lowercase().contains("read only"), "{e}");
}

#[test]
fn copy_and_rename_keep_the_chain() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    populate(&mut con);
    let btc = text(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap();
    let n: i64 = redis::cmd("COPY")
        .arg("BTC")
        .arg("BTC_BACKUP")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        text(&mut con, &["OPTIONS.QUERY", "BTC_BACKUP", "FORMAT", "JSON"]).unwrap(),
        btc
    );
    let _: () = redis::cmd("RENAME")
        .arg("BTC_BACKUP")
        .arg("BTC_OLD")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        text(&mut con, &["OPTIONS.QUERY", "BTC_OLD", "FORMAT", "JSON"]).unwrap(),
        btc
    );
    let g = options_tests::json(&mut con, &["OPTIONS.STATS", "FORMAT", "JSON"]);
    assert_eq!(g["keys"], 5);
}

/// The rewritten AOF's base: `appendonlydir/*.base.*` from Redis 7 on, `appendonly.aof` before.
fn aof_base(dir: &std::path::Path) -> Vec<u8> {
    let multi = dir.join("appendonlydir");
    if multi.is_dir() {
        return std::fs::read_dir(&multi)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".base."))
            .flat_map(|e| std::fs::read(e.path()).unwrap())
            .collect();
    }
    std::fs::read(dir.join("appendonly.aof")).unwrap_or_default()
}
