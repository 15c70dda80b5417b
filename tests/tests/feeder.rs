//! The feeder end to end: real redis-server + module, real `bybit-sim`, real `options-feeder`.
//! Every scenario ends by checking that Redis holds exactly the sim's latest values.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use options_client::cmd;
use options_tests::procs::{wait_for, Feeder, Sim, FAST_RECOVERY};
use options_tests::{run, state, RedisServer};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// Pauses the sim and waits until Redis holds exactly its values: every contract, every field.
fn assert_converges(sim: &Sim, con: &mut redis::Connection, assets: &[&str]) {
    sim.control("pause", &[]);
    let want = state::of_sim(sim, assets);
    assert!(!want.is_empty());
    let deadline = Instant::now() + WAIT;
    loop {
        let got = state::of_redis(con, assets).expect("a query page");
        if got == want {
            break;
        }
        if Instant::now() > deadline {
            let missing: Vec<&String> = want
                .keys()
                .filter(|k| !got.contains_key(*k))
                .take(5)
                .collect();
            let extra: Vec<&String> = got
                .keys()
                .filter(|k| !want.contains_key(*k))
                .take(5)
                .collect();
            let stale: Vec<&String> = want
                .iter()
                .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
                .map(|(k, _)| k)
                .take(5)
                .collect();
            let detail = stale.first().map(|k| {
                let diff: Vec<String> = want[*k]
                    .iter()
                    .filter(|(f, v)| got[*k].get(*f) != Some(*v))
                    .map(|(f, v)| format!("{f}: redis {:?} sim {v}", got[*k].get(*f)))
                    .collect();
                let get = cmd::Get {
                    fields: Some(vec!["updated_ms".into()]),
                    ..cmd::Get::new(k.split('-').next().unwrap(), k)
                };
                let updated = run(con, &get).and_then(|row| row.number("updated_ms"));
                format!(
                    "{k}: {diff:?}, updated_ms {updated:?} (now {})",
                    options_tests::fixture::now_ms()
                )
            });
            panic!(
                "Redis does not match the sim: {} vs {} contracts; missing {missing:?}, extra {extra:?}, stale {stale:?}; {detail:?}",
                got.len(),
                want.len()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    sim.control("resume", &[]);
}

/// Moves one contract's mark price in the sim and waits for Redis to show it; returns how long.
/// The sim is paused meanwhile so that its own next tick cannot overwrite the value first.
fn price_change_latency(
    sim: &Sim,
    con: &mut redis::Connection,
    base: &str,
    value: f64,
) -> Duration {
    let first = cmd::Query {
        limit: Some((0, 1)),
        ..cmd::Query::new(base)
    }
    .fields(&["mark_price"]);
    let symbol = run(con, &first).expect("a page").data[0]
        .symbol()
        .to_string();
    let text = value.to_string();
    sim.control("pause", &[]);
    let start = Instant::now();
    sim.control(
        "set",
        &[
            ("symbol", &symbol),
            ("field", "markPrice"),
            ("value", &text),
        ],
    );
    wait_for(WAIT, "the new price in Redis", || {
        let get = cmd::Get {
            fields: Some(vec!["mark_price".into()]),
            ..cmd::Get::new(base, &symbol)
        };
        let row = run(con, &get).expect("the contract");
        (row.number("mark_price") == Some(value)).then_some(())
    });
    let took = start.elapsed();
    sim.control("resume", &[]);
    took
}

#[test]
fn streams_every_listed_contract_and_prices_arrive_within_a_second() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = Sim::start(&["--seed", "7", "--updates-per-sec", "3000"]);
    let contracts = sim.stats()["contracts"].as_u64().unwrap();
    assert!(contracts >= 2000, "sim lists {contracts}");
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC,ETH,SOL,XRP", &[]);
    feeder.wait_ready(WAIT);

    // The topic-length limit (21,000 characters) needs several connections for ~2,500 topics:
    // a ticker topic per contract and a trade topic (`publicTrade.<BASE>`) per asset.
    assert!(feeder.metric("feeder_ws_connections") >= 3.0);
    assert_eq!(feeder.metric("feeder_ws_topics") as u64, contracts + 4);

    let mut worst = Duration::ZERO;
    for i in 0..5 {
        let d = price_change_latency(
            &sim,
            &mut con,
            ["BTC", "ETH", "SOL", "XRP", "BTC"][i],
            1234.5 + i as f64,
        );
        worst = worst.max(d);
    }
    assert!(
        worst < Duration::from_secs(1),
        "a price change took {worst:?} to reach Redis"
    );
    assert_converges(&sim, &mut con, &["BTC", "ETH", "SOL", "XRP"]);

    let h = feeder.health();
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["redis"], "connected");
    assert!(h["messages_received"].as_u64().unwrap() > 0);
    assert_eq!(feeder.metric("feeder_messages_garbled_total"), 0.0);
}

fn small_sim() -> Sim {
    Sim::start(&[
        "--assets",
        "BTC,ETH",
        "--strikes",
        "3",
        "--updates-per-sec",
        "1000",
        "--seed",
        "3",
    ])
}

#[test]
fn survives_disconnects_silence_and_garbage() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC,ETH", &FAST_RECOVERY);
    feeder.wait_ready(WAIT);

    // dropped connections
    let before = feeder.metric("feeder_ws_reconnects_total");
    sim.control("fault/drop", &[]);
    wait_for(WAIT, "a reconnect after the drop", || {
        (feeder.metric("feeder_ws_reconnects_total") > before).then_some(())
    });
    feeder.wait_ready(WAIT);
    assert!(price_change_latency(&sim, &mut con, "BTC", 777.25) < Duration::from_secs(2));

    // an exchange that goes silent without closing: detected by the silence timeout
    let before = feeder.metric("feeder_ws_reconnects_total");
    sim.control("fault/silence", &[("seconds", "2.5")]);
    wait_for(WAIT, "silence detected", || {
        (feeder.metric("feeder_ws_reconnects_total") > before).then_some(())
    });
    std::thread::sleep(Duration::from_millis(2600));
    feeder.wait_ready(WAIT);
    price_change_latency(&sim, &mut con, "ETH", 31.5);

    // garbage frames are counted and dropped; nothing garbled reaches Redis
    let garbled = feeder.metric("feeder_messages_garbled_total");
    sim.control("fault/garbage", &[]);
    wait_for(WAIT, "garbage counted", || {
        (feeder.metric("feeder_messages_garbled_total") > garbled).then_some(())
    });
    assert!(feeder.proc.is_running());
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);
}

#[test]
fn refused_subscriptions_are_retried_until_accepted() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC,ETH", &FAST_RECOVERY);
    feeder.wait_ready(WAIT);
    sim.control("fault/reject", &[("seconds", "2")]);
    sim.control("fault/drop", &[]);
    wait_for(WAIT, "refused topics", || {
        (feeder.metric("feeder_ws_failed_topics") > 0.0).then_some(())
    });
    wait_for(WAIT, "topics accepted again", || {
        (feeder.metric("feeder_ws_failed_topics") == 0.0).then_some(())
    });
    price_change_latency(&sim, &mut con, "BTC", 4321.0);
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);
}

#[test]
fn rest_rate_limits_and_errors_are_retried() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    sim.control("fault/http429", &[("seconds", "1")]);
    sim.control("fault/retcode", &[("seconds", "2")]);
    let limited = sim.get(
        "/v5/market/instruments-info",
        &[("category", "option"), ("baseCoin", "BTC")],
    );
    assert_eq!(limited.status().as_u16(), 429);
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC,ETH", &[]);
    feeder.wait_ready(Duration::from_secs(40));
    assert!(feeder.metric("feeder_rest_errors_total") >= 2.0);
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);
}

#[test]
fn redis_restart_mid_stream_loses_nothing() {
    let mut redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC,ETH", &[]);
    feeder.wait_ready(WAIT);
    redis.stop();
    // prices keep moving while Redis is away
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(feeder.health()["redis"], "disconnected");
    redis.restart(); // no persistence: it comes back empty
    let mut con2 = redis.connection();
    feeder.wait_ready(WAIT);
    assert!(feeder.metric("feeder_redis_errors_total") >= 1.0);
    assert_converges(&sim, &mut con2, &["BTC", "ETH"]);
    drop(con);
    con = con2;
    price_change_latency(&sim, &mut con, "ETH", 99.5);
}

/// `(time, oi_calls)` of every history sample of `base`.
fn call_oi_samples(con: &mut redis::Connection, base: &str) -> Vec<(i64, f64)> {
    run(con, &cmd::History::new(base, &["oi_calls"]))
        .expect("history")
        .points
        .iter()
        .map(|p| (p[0].unwrap() as i64, p[1].unwrap()))
        .collect()
}

#[test]
fn history_after_an_empty_redis_restart_has_no_partial_chain_and_nothing_from_the_outage() {
    // One sample a second, so a refill in arbitrary order would be caught half-way.
    let mut redis = RedisServer::start_with_module_args(
        options_tests::TempDir::new("redis"),
        &["history-interval", "1"],
        &[],
    );
    let sim = Sim::start(&[
        "--assets",
        "BTC",
        "--strikes",
        "12",
        "--updates-per-sec",
        "2000",
        "--seed",
        "5",
    ]);
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC", &FAST_RECOVERY);
    feeder.wait_ready(WAIT);
    std::thread::sleep(Duration::from_millis(2500));
    // Snapshot and live frames on a fresh Redis: the snapshot took no sample.
    let mut con = redis.connection();
    let first = call_oi_samples(&mut con, "BTC");
    assert!(
        first.len() >= 2,
        "live frames sample every second: {first:?}"
    );
    let live_oi = state::call_oi(&sim.tickers("BTC"));
    for (t, oi) in &first {
        assert!(
            *oi >= 0.99 * live_oi,
            "a sample at {t} of a partial chain: call OI {oi} of {live_oi}"
        );
    }

    let down_from = options_tests::fixture::now_ms();
    redis.stop(); // no persistence: it comes back empty
    std::thread::sleep(Duration::from_millis(1500));
    let down_to = options_tests::fixture::now_ms();
    redis.restart();
    let mut con = redis.connection();
    feeder.wait_ready(WAIT);
    std::thread::sleep(Duration::from_millis(3500));
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_millis(300));
    let live_oi = state::call_oi(&sim.tickers("BTC"));
    let after = call_oi_samples(&mut con, "BTC");
    sim.control("resume", &[]);

    assert!(
        after.len() >= 2,
        "live frames sample again after the refill: {after:?}"
    );
    for (t, oi) in &after {
        assert!(
            !(down_from..=down_to).contains(t),
            "a sample stamped inside the outage ({down_from}..{down_to}): {t}"
        );
        assert!(
            *oi >= 0.99 * live_oi && *oi <= 1.01 * live_oi,
            "a sample at {t} of a partial chain: call OI {oi} against {live_oi} in the sim; all: {after:?}"
        );
    }
    assert_converges(&sim, &mut con, &["BTC"]);
}

/// README's `ACL SETUSER` line for `user`, with `password` in place of `PASSWORD`: the one by
/// the module's ACL category `@options` where the server has module categories (Valkey 8.1),
/// else the one by command names (Redis 7.0).
fn readme_acl_rule(con: &mut redis::Connection, user: &str, password: &str) -> Vec<String> {
    let readme = include_str!("../../README.md");
    let categories: Vec<String> = redis::cmd("ACL").arg("CAT").query(con).unwrap();
    let by_category = categories.iter().any(|c| c == "options");
    let line = readme
        .lines()
        .find(|l| {
            l.starts_with(&format!("ACL SETUSER {user} ")) && l.contains("+@options") == by_category
        })
        .unwrap_or_else(|| {
            panic!("README gives no ACL rule for {user} (by category: {by_category})")
        });
    line.split_whitespace()
        .map(|w| w.replace(">PASSWORD", &format!(">{password}")))
        .collect()
}

#[test]
fn least_privilege_feeder_and_web_server_see_an_empty_restart_and_refill() {
    // The users in an ACL file, as README says, so they come back with the server.
    let dir = options_tests::TempDir::new("redis");
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, "").unwrap();
    let mut redis = RedisServer::start_in(dir, &["--aclfile", acl.to_str().unwrap()]);
    let mut con = redis.connection();
    for user in ["options-feeder", "options-web"] {
        let rule = readme_acl_rule(&mut con, user, "s3cret");
        let mut cmd = redis::cmd(&rule[0]);
        for w in &rule[1..] {
            cmd.arg(w);
        }
        let _: () = cmd.query(&mut con).unwrap();
        // The user really is denied what an operator keeps to himself.
        let url = format!("redis://{user}:s3cret@127.0.0.1:{}/", redis.port);
        let mut as_user = redis::Client::open(url).unwrap().get_connection().unwrap();
        for denied in [
            &["INFO"][..],
            &["KEYS", "*"],
            &["CONFIG", "GET", "maxmemory"],
        ] {
            let mut cmd = redis::cmd(denied[0]);
            for a in &denied[1..] {
                cmd.arg(*a);
            }
            let e = cmd.query::<redis::Value>(&mut as_user).unwrap_err();
            assert!(e.to_string().contains("NOPERM"), "{user} {denied:?}: {e}");
        }
    }
    let _: () = redis::cmd("ACL").arg("SAVE").query(&mut con).unwrap();
    let url = |user: &str| format!("redis://{user}:s3cret@127.0.0.1:{}/", redis.port);
    let sim = small_sim();
    let mut feeder = Feeder::start(&sim, &url("options-feeder"), "BTC,ETH", &FAST_RECOVERY);
    feeder.wait_ready(WAIT);
    let web = options_tests::procs::Web::start(&url("options-web"), &["--assets", "BTC,ETH"]);
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);

    // An empty restart: the feeder tells it by the instance id and refills every chain.
    redis.restart();
    let mut con = redis.connection();
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);
    assert!(
        feeder.metric("feeder_redis_errors_total") + feeder.metric("feeder_redis_restarts_total")
            >= 1.0
    );

    // The web server answers as its user, the seed's stats included (Redis's memory figure
    // falls back to the chains' when INFO is refused). Its connection from before the restart
    // is gone: a 503 until it has made a new one.
    let stats = wait_for(WAIT, "the web server's stats", || {
        let (code, stats) = web.get("/api/stats", &[]);
        (code == 200).then_some(stats)
    });
    assert!(stats["total_symbols"].as_u64().unwrap() > 0, "{stats}");
    assert!(
        !stats["redis_memory"].as_str().unwrap().is_empty(),
        "{stats}"
    );
    for path in [
        "/api/options/BTC",
        "/api/expiries/BTC",
        "/api/analytics/BTC",
        "/api/status",
        "/api/changes/BTC",
    ] {
        let (code, body) = web.get(path, &[]);
        assert_eq!(code, 200, "{path}: {body}");
    }
    // A dashboard edit writes the asset list (and bumps its version) as the same user.
    for _ in 0..2 {
        let (code, body) = web.send(reqwest::Method::POST, "/api/assets/ETH/toggle", None, None);
        assert_eq!(code, 200, "{body}");
    }
}

#[test]
fn starts_before_redis_and_fills_it_when_it_appears() {
    let port = options_tests::free_port();
    let url = format!("redis://127.0.0.1:{port}/");
    let sim = small_sim();
    let mut feeder = Feeder::start(&sim, &url, "BTC,ETH", &[]);
    wait_for(WAIT, "messages while Redis is down", || {
        (feeder.try_metric("feeder_messages_received_total")? > 0.0).then_some(())
    });
    let (code, body) = feeder.endpoint("/ready").unwrap();
    assert_eq!(code, 503);
    assert!(body.contains("redis"), "{body}");
    let redis = RedisServer::start_on(port, &[]);
    let mut con = redis.connection();
    feeder.wait_ready(WAIT);
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);
}

#[test]
fn new_listings_appear_and_delisted_contracts_go() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    let mut feeder = Feeder::start(
        &sim,
        &redis.url(),
        "BTC,ETH",
        &["--refresh-interval", "0.5"],
    );
    feeder.wait_ready(WAIT);
    let symbols = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let listed = symbols(
        &sim.control("list", &[("baseCoin", "ETH"), ("days", "200")]),
        "listed",
    );
    assert!(!listed.is_empty());
    wait_for(WAIT, "new listing in Redis", || {
        listed
            .iter()
            .all(|s| {
                !matches!(
                    options_tests::value(&mut con, &["OPTIONS.GET", "ETH", s]),
                    Ok(redis::Value::Nil)
                )
            })
            .then_some(())
    });
    let removed = symbols(&sim.control("delist", &[("baseCoin", "ETH")]), "removed");
    assert!(!removed.is_empty());
    wait_for(WAIT, "delisted contracts purged", || {
        removed
            .iter()
            .all(|s| {
                matches!(
                    options_tests::value(&mut con, &["OPTIONS.GET", "ETH", s]),
                    Ok(redis::Value::Nil)
                )
            })
            .then_some(())
    });
    assert_converges(&sim, &mut con, &["BTC", "ETH"]);
}

/// BTC, ETH and DOGE, two strikes each: a market where an asset can be added while it runs.
fn three_asset_sim() -> Sim {
    Sim::start(&[
        "--assets",
        "BTC,ETH,DOGE",
        "--strikes",
        "2",
        "--updates-per-sec",
        "500",
    ])
}

#[test]
fn follows_config_assets_live() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = three_asset_sim();
    let mut feeder = Feeder::start(
        &sim,
        &redis.url(),
        "BTC",
        &["--assets-poll-interval", "0.2"],
    );
    feeder.wait_ready(WAIT);
    let doc: String = redis::cmd("GET")
        .arg("config:assets")
        .query(&mut con)
        .unwrap();
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(
        doc["BTC"]["name"], "Bitcoin",
        "seeded in the seed's shape: {doc}"
    );
    let exists: i64 = redis::cmd("EXISTS").arg("DOGE").query(&mut con).unwrap();
    assert_eq!(exists, 0);

    let _: () = redis::cmd("SET")
        .arg("config:assets")
        .arg(r#"{"BTC":{"name":"Bitcoin","enabled":false,"order":1},"DOGE":{"name":"DOGE","enabled":true,"order":2}}"#)
        .query(&mut con)
        .unwrap();
    wait_for(WAIT, "DOGE streamed", || {
        let s = run(&mut con, &cmd::Stats { key: "DOGE".into() }).expect("stats");
        (s.contracts > 0).then_some(())
    });
    let doge = state::of_sim(&sim, &["DOGE"]).len() as f64;
    // DOGE's contracts and its trade topic.
    wait_for(WAIT, "BTC unsubscribed", || {
        (feeder.metric("feeder_ws_topics") == doge + 1.0).then_some(())
    });
    assert_converges(&sim, &mut con, &["DOGE"]);
}

#[test]
fn mirror_hashes_write_the_seed_model() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC", &["--mirror-hashes"]);
    feeder.wait_ready(WAIT);
    sim.control("pause", &[]);
    let state = state::of_sim(&sim, &["BTC"]);
    let (symbol, values) = state.iter().next().unwrap();
    wait_for(WAIT, "the seed hash", || {
        let h: BTreeMap<String, String> = redis::cmd("HGETALL")
            .arg(format!("option:{symbol}"))
            .query(&mut con)
            .unwrap();
        let ok = h.len() == 15
            && h["symbol"] == *symbol
            && ["mark_price", "mark_iv", "delta", "volume_24h"]
                .iter()
                .all(|f| h[*f] == options_core::python_float(values[f]));
        ok.then_some(())
    });
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("option:{symbol}"))
        .query(&mut con)
        .unwrap();
    assert!(ttl > 86_000, "{ttl}");
    let messages: i64 = redis::cmd("HGET")
        .arg("stats:global")
        .arg("messages")
        .query(&mut con)
        .unwrap();
    assert!(messages >= state.len() as i64);
}

#[test]
fn shutdown_flushes_the_last_batch_and_exits_cleanly() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = small_sim();
    let mut feeder = Feeder::start(
        &sim,
        &redis.url(),
        "BTC",
        &["--batch-timeout", "0.5", "--batch-size", "100000"],
    );
    feeder.wait_ready(WAIT);
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_millis(800));
    let first = cmd::Query {
        limit: Some((0, 1)),
        ..cmd::Query::new("BTC")
    };
    let symbol = run(&mut con, &first).expect("a page").data[0]
        .symbol()
        .to_string();
    sim.control(
        "set",
        &[("symbol", &symbol), ("field", "delta"), ("value", "0.123")],
    );
    std::thread::sleep(Duration::from_millis(50)); // received, still inside the 0.5 s batch window
    let status = feeder
        .proc
        .terminate(Duration::from_secs(15))
        .expect("feeder exit status");
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        feeder.proc.log_text()
    );
    let row = run(&mut con, &cmd::Get::new("BTC", &symbol)).expect("the contract");
    assert_eq!(row.number("delta"), Some(0.123));
}

#[test]
fn every_binary_explains_its_flags() {
    for (bin, flags) in [
        (
            "options-feeder",
            &[
                "--redis-url",
                "--rest-url",
                "--ws-url",
                "--batch-size",
                "--batch-timeout",
                "--mirror-hashes",
                "REDIS_HOST",
                "OPTION_ASSETS",
                "--health-port",
            ][..],
        ),
        (
            "bybit-sim",
            &[
                "--port",
                "--seed",
                "--updates-per-sec",
                "--drop-every",
                "--garbage-every",
                "--silence-every",
                "--reject-subscriptions",
                "--http429-rate",
                "--retcode-rate",
            ][..],
        ),
        (
            "options-web",
            &[
                "--port",
                "--data-api-port",
                "DATA_API_PORT",
                "--api-token",
                "--cors-origin",
                "--bybit-rest-url",
            ][..],
        ),
    ] {
        let out = std::process::Command::new(options_tests::procs::binary(bin))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for f in flags {
            assert!(text.contains(f), "{bin} --help lacks {f}");
        }
    }
}

#[test]
fn settings_added_since_start_survive_an_empty_redis_restart() {
    let mut redis = RedisServer::start(&[]);
    let sim = three_asset_sim();
    let mut args = vec!["--assets-poll-interval", "0.2"];
    args.extend(FAST_RECOVERY);
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC", &args);
    feeder.wait_ready(WAIT);
    let web = options_tests::procs::Web::start(
        &redis.url(),
        &["--assets", "BTC", "--bybit-rest-url", &sim.rest_url()],
    );
    // What a trader sets on the dashboard: an asset added, an alert rule.
    let (code, body) = web.send(
        reqwest::Method::POST,
        "/api/assets/add",
        Some(serde_json::json!({"symbol": "DOGE"})),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let rule = serde_json::json!({"name": "doge wakes", "asset": "DOGE", "field": "atm_iv", "tenor": 30, "above": 3});
    let (code, body) = web.send(reqwest::Method::POST, "/api/alerts", Some(rule), None);
    assert_eq!(code, 200, "{body}");
    let rules_before = web.get("/api/alerts", &[]).1;
    let mut con = redis.connection();
    wait_for(WAIT, "DOGE streamed", || {
        let s = run(&mut con, &cmd::Stats { key: "DOGE".into() }).expect("stats");
        (s.contracts > 0).then_some(())
    });

    // Redis comes back empty: the feeder puts back the assets it last saw instead of its
    // OPTION_ASSETS defaults, and refills every tracked chain, DOGE's too.
    redis.restart();
    let mut con = redis.connection();
    let doc = wait_for(WAIT, "config:assets restored", || {
        let doc: Option<String> = redis::cmd("GET")
            .arg("config:assets")
            .query(&mut con)
            .ok()?;
        let doc: Value = serde_json::from_str(&doc?).ok()?;
        doc.get("DOGE").is_some().then_some(doc)
    });
    assert_eq!(doc["BTC"]["name"], "Bitcoin", "{doc}");
    assert_converges(&sim, &mut con, &["BTC", "DOGE"]);
    // The web server puts back the rules it last saw when it reads them again.
    let rules_after = wait_for(WAIT, "the rules", || {
        let (code, rules) = web.get("/api/alerts", &[]);
        (code == 200).then_some(rules)
    });
    assert_eq!(rules_after, rules_before);
    let stored: String = redis::cmd("GET")
        .arg("config:alerts")
        .query(&mut con)
        .unwrap();
    assert!(stored.contains("doge wakes"), "{stored}");

    // A later edit wins over every older copy: the version beside the document moved on.
    let (code, _) = web.send(reqwest::Method::POST, "/api/assets/DOGE/toggle", None, None);
    assert_eq!(code, 200);
    wait_for(WAIT, "DOGE no longer tracked", || {
        (feeder.metric("feeder_ws_topics") == state::of_sim(&sim, &["BTC"]).len() as f64 + 1.0)
            .then_some(())
    });
}
