//! The chain's history (ANALYTICS.md, History) against a real redis-server: one sample per
//! write that crosses an interval boundary and none for later writes of that interval or older
//! ones; each sample's values equal an independent computation of the analytics at its time over
//! the contracts written until then; retention; `DEBUG RELOAD`, AOF rewrite, a replica and `COPY`
//! hold the same history; an RDB written before history existed still loads.

use std::time::{Duration, Instant};

use options_tests::analytics_model::{cboe_index, cboe_variance, expected, Row};
use options_tests::fixture::{self, FixtureContract};
use options_tests::{error, json, text, RedisServer, TempDir};
use serde_json::Value;

const MINUTE: i64 = 60_000;

/// Writes every field of `c` with the given `updated_ms`.
fn ingest_at(con: &mut redis::Connection, c: &FixtureContract, at: i64) {
    let mut args = c.ingest_args();
    let n = args.len();
    args[n - 1] = at.to_string();
    let mut cmd = redis::cmd(&args[0]);
    for a in &args[1..] {
        cmd.arg(a);
    }
    let _: i64 = cmd.query(con).unwrap();
}

fn row(c: &FixtureContract) -> Row {
    c.model_row(
        options_core::FIELDS
            .iter()
            .map(|f| (f.name().to_string(), c.value(f.name()))),
    )
}

fn history(con: &mut redis::Connection, args: &[&str]) -> Value {
    let mut all = vec!["OPTIONS.HISTORY"];
    all.extend_from_slice(args);
    all.extend(["FORMAT", "JSON"]);
    json(con, &all)
}

fn times(h: &Value) -> Vec<i64> {
    h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_i64().unwrap())
        .collect()
}

fn close(got: &Value, want: &Value, what: &str) {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= 1e-12_f64.max(1e-9 * w.abs()),
            "{what}: got {g}, want {w}"
        ),
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// A minute boundary a little after now (samples are stamped with the writes' times).
fn base() -> i64 {
    (fixture::now_ms() / MINUTE + 1) * MINUTE
}

#[test]
fn one_sample_per_crossing_write_with_the_analytics_of_its_time() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(13);
    let btc: Vec<&FixtureContract> = fixture::of(&contracts, "BTC");
    let b = base() + 5_000;

    // Minute 0: the first write takes a sample, of a chain of one contract.
    ingest_at(&mut con, btc[0], b);
    for c in &btc[1..] {
        ingest_at(&mut con, c, b + 1_000);
    }
    let h = history(&mut con, &["BTC", "METRIC", "oi_calls", "oi_puts", "index"]);
    assert_eq!(times(&h), [b], "one sample in the first interval");
    let first = expected(&[&row(btc[0])], b, false);
    close(
        &h["points"][0][1],
        &first["totals"]["oi_calls"],
        "first sample oi_calls",
    );
    close(
        &h["points"][0][2],
        &first["totals"]["oi_puts"],
        "first sample oi_puts",
    );

    // Later writes of the same interval and writes older than the newest sample take none.
    ingest_at(&mut con, btc[1], b + 50_000);
    ingest_at(&mut con, btc[2], b - 3 * MINUTE);
    assert_eq!(times(&history(&mut con, &["BTC", "METRIC", "index"])), [b]);

    // Minute 1: a new sample over the whole chain at its write's time.
    let w = b + MINUTE + 7_000;
    ingest_at(&mut con, btc[3], w);
    let rows: Vec<Row> = btc.iter().map(|c| row(c)).collect();
    let refs: Vec<&Row> = rows.iter().collect();
    let want = expected(&refs, w, false);
    let totals = history(
        &mut con,
        &[
            "BTC",
            "METRIC",
            "index",
            "oi_calls",
            "oi_puts",
            "volume_calls",
            "volume_puts",
            "gex",
            "notional_oi",
            "pcr_oi",
            "pcr_volume",
            "vol_index",
        ],
    );
    assert_eq!(times(&totals), [b, w]);
    let p = &totals["points"][1];
    close(&p[1], &want["index"], "index");
    // The volatility index of the whole chain at the sample's time, with r = 0 (ANALYTICS.md).
    let by_expiry = {
        let mut dates: Vec<i64> = refs.iter().map(|r| r.expiry_ts).collect();
        dates.sort();
        dates.dedup();
        dates
            .into_iter()
            .filter_map(|ts| {
                let of: Vec<&Row> = refs.iter().copied().filter(|r| r.expiry_ts == ts).collect();
                let t = (ts - w) as f64 / 31_536_000_000.0;
                Some((t, cboe_variance(&of, t, 0.0)?))
            })
            .collect::<Vec<_>>()
    };
    let vol_index = cboe_index(&by_expiry);
    assert!(
        vol_index.is_some(),
        "the fixture has expiries around 30 days"
    );
    close(&p[10], &serde_json::json!(vol_index), "vol_index");
    for (i, k) in [
        "oi_calls",
        "oi_puts",
        "volume_calls",
        "volume_puts",
        "gex",
        "notional_oi",
        "pcr_oi",
        "pcr_volume",
    ]
    .iter()
    .enumerate()
    {
        close(&p[i + 2], &want["totals"][k], k);
    }
    for tenor in want["tenors"].as_array().unwrap() {
        let days = tenor["days"].to_string();
        let h = history(
            &mut con,
            &["BTC", "TENOR", &days, "METRIC", "atm_iv", "rr25", "bf25"],
        );
        for (i, k) in ["atm_iv", "rr25", "bf25"].iter().enumerate() {
            close(
                &h["points"][1][i + 1],
                &tenor[k],
                &format!("{days}-day {k}"),
            );
        }
    }
    for e in want["expiries"].as_array().unwrap() {
        let code = e["expiry"].as_str().unwrap();
        let metrics = [
            "forward", "atm_iv", "rr25", "bf25", "pcr_oi", "max_pain", "gex",
        ];
        let mut args = vec!["BTC", "EXPIRY", code, "METRIC"];
        args.extend(metrics);
        let h = history(&mut con, &args);
        for (i, k) in metrics.iter().enumerate() {
            close(&h["points"][1][i + 1], &e[*k], &format!("{code} {k}"));
        }
    }
    assert!(
        want["tenors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["atm_iv"].is_number()),
        "the fixture has figures at some tenor: {want}"
    );

    // FROM/TO are inclusive; an expiry not listed at a sample's time is null there.
    assert_eq!(
        times(&history(
            &mut con,
            &["BTC", "METRIC", "index", "FROM", &w.to_string()]
        )),
        [w]
    );
    assert_eq!(
        times(&history(
            &mut con,
            &["BTC", "METRIC", "index", "TO", &b.to_string()]
        )),
        [b]
    );
    let later = btc
        .iter()
        .rev()
        .find(|c| c.expiry != btc[0].expiry)
        .unwrap();
    let h = history(
        &mut con,
        &["BTC", "EXPIRY", &later.expiry, "METRIC", "forward"],
    );
    assert!(
        h["points"][0][1].is_null(),
        "not listed at the first sample: {h}"
    );
    assert_eq!(h["underlying"], "BTC");
    assert_eq!(h["metrics"], serde_json::json!(["forward"]));

    // Errors name what is wrong and change nothing; a key without a chain has no points.
    for (args, want) in [
        (vec!["OPTIONS.HISTORY", "BTC"], "at least one METRIC"),
        (
            vec!["OPTIONS.HISTORY", "BTC", "METRIC", "atm_iv"],
            "needs TENOR or EXPIRY",
        ),
        (
            vec!["OPTIONS.HISTORY", "BTC", "METRIC", "nope"],
            "unknown metric 'nope'",
        ),
        (
            vec!["OPTIONS.HISTORY", "BTC", "TENOR", "14", "METRIC", "atm_iv"],
            "TENOR must be",
        ),
        (
            vec!["OPTIONS.HISTORY", "BTC", "METRIC", "index", "FROM", "x"],
            "FROM must be an integer",
        ),
        (
            vec![
                "OPTIONS.HISTORY",
                "BTC",
                "METRIC",
                "index",
                "FROM",
                "5",
                "TO",
                "4",
            ],
            "after TO",
        ),
    ] {
        let e = error(&mut con, &args);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    assert_eq!(
        history(&mut con, &["NOPE", "METRIC", "index"])["points"],
        serde_json::json!([])
    );
    let resp = text(&mut con, &["TYPE", "BTC"]).unwrap();
    assert_eq!(resp, "optchain1");
}

#[test]
fn retention_drops_what_is_older_than_it() {
    let server = RedisServer::start_with_module_args(
        TempDir::new("redis"),
        &["history-interval", "60", "history-retention", "600"],
        &[],
    );
    let mut con = server.connection();
    let contracts = fixture::chain(3);
    let eth = fixture::of(&contracts, "ETH");
    let b = base();
    for m in 0..25 {
        ingest_at(&mut con, eth[m % eth.len()], b + m as i64 * MINUTE);
    }
    let got = times(&history(&mut con, &["ETH", "METRIC", "index"]));
    let newest = b + 24 * MINUTE;
    assert_eq!(got.first(), Some(&(newest - 10 * MINUTE)), "{got:?}");
    assert_eq!(got.len(), 11);

    // history-retention 0 turns history off; a bad module argument stops the load.
    let off = RedisServer::start_with_module_args(
        TempDir::new("redis"),
        &["history-retention", "0"],
        &[],
    );
    let mut c = off.connection();
    ingest_at(&mut c, eth[0], b);
    assert_eq!(
        history(&mut c, &["ETH", "METRIC", "index"])["points"],
        serde_json::json!([])
    );
}

#[test]
fn a_bad_module_argument_stops_the_load_with_a_reason() {
    let dir = TempDir::new("redis");
    let log = dir.path().join("redis.log");
    let out = std::process::Command::new("redis-server")
        .args([
            "--port",
            &options_tests::free_port().to_string(),
            "--loadmodule",
            &options_tests::module_path().display().to_string(),
            "history-interval",
            "0",
            "--logfile",
            &log.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("history-interval must be at least 1 second"),
        "{text}"
    );
}

/// Every history series of every key, as text: what two servers must agree on.
fn all_history(con: &mut redis::Connection, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for k in keys {
        out.push(
            text(
                con,
                &[
                    "OPTIONS.HISTORY",
                    k,
                    "METRIC",
                    "index",
                    "gex",
                    "pcr_oi",
                    "FORMAT",
                    "JSON",
                ],
            )
            .unwrap(),
        );
        out.push(
            text(
                con,
                &[
                    "OPTIONS.HISTORY",
                    k,
                    "TENOR",
                    "30",
                    "METRIC",
                    "atm_iv",
                    "rr25",
                    "FORMAT",
                    "JSON",
                ],
            )
            .unwrap(),
        );
    }
    out
}

fn populate_over_minutes(con: &mut redis::Connection, contracts: &[FixtureContract], b: i64) {
    for (i, c) in contracts.iter().enumerate() {
        ingest_at(con, c, b + (i as i64 / 40) * MINUTE + (i as i64 % 40) * 100);
    }
}

fn wait_until(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn reload_aof_rewrite_replica_and_copy_hold_the_same_history() {
    let mut master = RedisServer::start(&["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]);
    let mut m = master.connection();
    let port = master.port.to_string();
    let replica = RedisServer::start_in(
        TempDir::new("replica"),
        &["--replicaof", "127.0.0.1", &port],
    );
    let mut r = replica.connection();
    let contracts = fixture::chain(29);
    let b = base();
    populate_over_minutes(&mut m, &contracts, b);
    let keys = ["BTC", "ETH", "SOL", "XRP"];
    let before = all_history(&mut m, &keys);
    let samples = history(&mut m, &["BTC", "METRIC", "index"])["points"]
        .as_array()
        .unwrap()
        .len();
    assert!(samples > 5, "{samples} BTC samples");

    // replica, by the command stream
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut m).unwrap();
    assert_eq!(acked, 1);
    assert_eq!(all_history(&mut r, &keys), before, "replica");

    // COPY
    let copied: i64 = redis::cmd("COPY")
        .arg("BTC")
        .arg("BTC2")
        .query(&mut m)
        .unwrap();
    assert_eq!(copied, 1);
    assert_eq!(
        text(
            &mut m,
            &[
                "OPTIONS.HISTORY",
                "BTC2",
                "METRIC",
                "index",
                "gex",
                "FORMAT",
                "JSON"
            ]
        )
        .unwrap(),
        text(
            &mut m,
            &[
                "OPTIONS.HISTORY",
                "BTC",
                "METRIC",
                "index",
                "gex",
                "FORMAT",
                "JSON"
            ]
        )
        .unwrap()
        .replace("\"BTC\"", "\"BTC2\""),
        "COPY"
    );
    let _: i64 = redis::cmd("DEL").arg("BTC2").query(&mut m).unwrap();

    // DEBUG RELOAD (RDB, encoding version 2)
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut m).unwrap();
    assert_eq!(all_history(&mut m, &keys), before, "DEBUG RELOAD");

    // AOF rewrite (commands, no RDB preamble), then a restart from it
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut m).unwrap();
    wait_until(Duration::from_secs(30), "the AOF rewrite", || {
        let info = text(&mut m, &["INFO", "persistence"]).unwrap();
        info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
    });
    master.restart();
    let mut m = master.connection();
    assert_eq!(all_history(&mut m, &keys), before, "AOF rewrite and replay");

    // A restore with corrupt chunks is refused and changes nothing.
    let e = error(&mut m, &["OPTIONS.HISTORYRESTORE", "BTC", "3", "garbage"]);
    assert!(e.contains("history: unknown tag"), "{e}");
    assert_eq!(
        all_history(&mut m, &keys),
        before,
        "after a refused restore"
    );
}

#[test]
fn memory_usage_counts_the_history() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(31);
    let sol = fixture::of(&contracts, "SOL");
    let b = base();
    for c in &sol {
        ingest_at(&mut con, c, b);
    }
    let usage = |con: &mut redis::Connection| -> i64 {
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("SOL")
            .arg("SAMPLES")
            .arg("0")
            .query(con)
            .unwrap()
    };
    let one_sample = usage(&mut con);
    // 200 more minutes, each moving one contract's IV: 200 samples.
    for k in 1..=200i64 {
        let c = sol[k as usize % sol.len()];
        let _: i64 = redis::cmd("OPTIONS.INGEST")
            .arg("SOL")
            .arg(&c.symbol)
            .arg("mark_iv")
            .arg(0.5 + k as f64 * 1e-4)
            .arg("updated_ms")
            .arg(b + k * MINUTE)
            .query(&mut con)
            .unwrap();
    }
    let grown = usage(&mut con);
    let points = history(&mut con, &["SOL", "METRIC", "index"]);
    assert_eq!(points["points"].as_array().unwrap().len(), 201);
    assert!(
        grown - one_sample >= 200 * 20,
        "200 samples add {} bytes to MEMORY USAGE",
        grown - one_sample
    );
}

#[test]
fn an_rdb_from_before_history_still_loads() {
    // The fixture was saved by Redis 7.0 (RDB format 10), which Redis 6.2 cannot read at all.
    if options_tests::server_major_version() < 7 {
        println!("skipped: this server cannot read the Redis 7 RDB fixture");
        return;
    }
    let dir = TempDir::new("redis");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/chain-v1.rdb"),
        dir.path().join("dump.rdb"),
    )
    .unwrap();
    let server = RedisServer::start_in(dir, &["--dbfilename", "dump.rdb"]);
    let mut con = server.connection();
    let rows = json(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]);
    assert_eq!(rows["total"], 3, "{rows}");
    let call = json(
        &mut con,
        &[
            "OPTIONS.GET",
            "BTC",
            "BTC-25DEC99-100000-C",
            "FORMAT",
            "JSON",
        ],
    );
    assert_eq!(call["mark_price"], 5120.5);
    assert_eq!(call["updated_ms"], 4_000_000_000_000i64);
    assert_eq!(
        history(&mut con, &["BTC", "METRIC", "index"])["points"],
        serde_json::json!([])
    );
    // and it keeps working: the next write takes the first sample
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("BTC")
        .arg("BTC-25DEC99-100000-C")
        .arg("mark_price")
        .arg("5200")
        .arg("updated_ms")
        .arg(4_000_000_100_000i64)
        .query(&mut con)
        .unwrap();
    assert_eq!(
        times(&history(&mut con, &["BTC", "METRIC", "index"])),
        [4_000_000_100_000]
    );
}

/// `args` with `NOHISTORY` after the key (`OPTIONS.INGEST key NOHISTORY symbol …`).
fn ingest_rewrite_at(con: &mut redis::Connection, c: &FixtureContract, at: i64) {
    let mut args = c.ingest_args();
    let n = args.len();
    args[n - 1] = at.to_string();
    args.insert(2, "NOHISTORY".into());
    let mut cmd = redis::cmd(&args[0]);
    for a in &args[1..] {
        cmd.arg(a);
    }
    let _: i64 = cmd.query(con).unwrap();
}

#[test]
fn nohistory_writes_take_no_sample_on_the_master_or_its_replica() {
    let master = RedisServer::start(&[]);
    let mut m = master.connection();
    let port = master.port.to_string();
    let replica = RedisServer::start_in(
        TempDir::new("replica"),
        &["--replicaof", "127.0.0.1", &port],
    );
    let mut r = replica.connection();
    // Synced before the writes, so they reach the replica as commands, not in its first RDB.
    wait_until(Duration::from_secs(30), "the replica's link", || {
        let info = text(&mut r, &["INFO", "replication"]).unwrap();
        info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0")
    });
    let contracts = fixture::chain(31);
    let btc: Vec<&FixtureContract> = fixture::of(&contracts, "BTC");
    let b = base() + 2_000;

    // A rebuilt chain (a feeder's snapshot, or its refill after an outage): no sample at all,
    // although the first write into an empty chain would otherwise take one.
    for c in &btc {
        ingest_rewrite_at(&mut m, c, b);
    }
    assert_eq!(
        times(&history(&mut m, &["BTC", "METRIC", "index"])),
        [0i64; 0]
    );

    // The first live write samples the whole chain, at its own time.
    let w = b + 1_500;
    ingest_at(&mut m, btc[0], w);
    let rows: Vec<Row> = btc.iter().map(|c| row(c)).collect();
    let refs: Vec<&Row> = rows.iter().collect();
    let want = expected(&refs, w, false);
    let h = history(&mut m, &["BTC", "METRIC", "oi_calls", "oi_puts"]);
    assert_eq!(times(&h), [w]);
    close(
        &h["points"][0][1],
        &want["totals"]["oi_calls"],
        "oi_calls of the whole chain",
    );
    close(
        &h["points"][0][2],
        &want["totals"]["oi_puts"],
        "oi_puts of the whole chain",
    );

    // A rewrite in a later interval adds none; the next live write does.
    ingest_rewrite_at(&mut m, btc[1], b + 2 * MINUTE);
    assert_eq!(times(&history(&mut m, &["BTC", "METRIC", "index"])), [w]);
    ingest_at(&mut m, btc[2], b + 2 * MINUTE + 10);
    let want_times = [w, b + 2 * MINUTE + 10];
    assert_eq!(
        times(&history(&mut m, &["BTC", "METRIC", "index"])),
        want_times
    );

    // The replica got the flag with the write: the same samples, and the rewritten row.
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut m).unwrap();
    assert_eq!(acked, 1);
    assert_eq!(
        times(&history(&mut r, &["BTC", "METRIC", "index"])),
        want_times,
        "replica"
    );
    let get = |con: &mut redis::Connection| {
        json(
            con,
            &["OPTIONS.GET", "BTC", &btc[1].symbol, "FORMAT", "JSON"],
        )["updated_ms"]
            .clone()
    };
    assert_eq!(get(&mut r), serde_json::json!(b + 2 * MINUTE));
    assert_eq!(get(&mut r), get(&mut m));

    // The flag is a word of its own: anywhere else it is an unknown field or a bad symbol.
    let e = error(&mut m, &["OPTIONS.INGEST", "BTC", "NOHISTORY"]);
    assert!(e.contains("wrong number of arguments"), "{e}");
    let e = error(
        &mut m,
        &["OPTIONS.INGEST", "BTC", &btc[0].symbol, "NOHISTORY", "1"],
    );
    assert!(e.contains("unknown field 'NOHISTORY'"), "{e}");
}

#[test]
fn an_aof_rewrite_replayed_with_history_on_takes_no_sample() {
    // Written with history off: the chain has no samples, so its AOF rewrite is INGESTs alone.
    let aof = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let mut off = RedisServer::start_with_module_args(
        TempDir::new("redis"),
        &["history-retention", "0"],
        &aof,
    );
    let mut c = off.connection();
    let contracts = fixture::chain(37);
    let b = base();
    for x in fixture::of(&contracts, "ETH") {
        ingest_at(&mut c, x, b);
    }
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_until(Duration::from_secs(30), "the AOF rewrite", || {
        let info = text(&mut c, &["INFO", "persistence"]).unwrap();
        info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
    });
    off.stop();
    let dir = std::mem::replace(&mut off.dir, TempDir::new("unused"));

    // Replayed with history on: every contract back, and no sample of a half-loaded chain.
    let on = RedisServer::start_in(dir, &aof);
    let mut c = on.connection();
    let listed = json(&mut c, &["OPTIONS.STATS", "ETH", "FORMAT", "JSON"]);
    assert_eq!(
        listed["contracts"].as_u64().unwrap() as usize,
        fixture::of(&contracts, "ETH").len(),
        "{listed}"
    );
    assert_eq!(
        times(&history(&mut c, &["ETH", "METRIC", "index"])),
        [0i64; 0]
    );
}
