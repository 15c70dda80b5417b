//! Deribit end to end: real redis-server + module, the simulator's Deribit side, the feeder
//! with `--venues bybit,deribit`. Redis must hold every Deribit instrument of the tracked assets
//! under `deribit:<UNDERLYING>` with the venue's names, in the contract model's units, computed
//! here from the simulator's own Deribit tickers (coin premiums × index price, percent IVs / 100,
//! linear contracts × contract size), beside Bybit's untouched chains.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use options_tests::procs::{wait_for, Feeder, Sim};
use options_tests::{json, RedisServer};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

fn sim() -> Sim {
    Sim::start(&[
        "--assets",
        "BTC,XRP",
        "--strikes",
        "3",
        "--updates-per-sec",
        "1000",
        "--seed",
        "5",
    ])
}

fn feeder(sim: &Sim, redis: &RedisServer, extra: &[&str]) -> Feeder {
    Feeder::start_venues(sim, &redis.url(), "BTC,XRP", "bybit,deribit", extra)
}

type Rows = BTreeMap<String, BTreeMap<String, f64>>;

/// What Redis must hold for every Deribit instrument of BTC and XRP, from the sim's tickers.
fn expected(sim: &Sim) -> Rows {
    let mut out = Rows::new();
    for (currency, base) in [("BTC", "BTC"), ("USDC", "XRP")] {
        let instruments = sim.deribit(
            "get_instruments",
            &[("currency", currency), ("kind", "option")],
        );
        for inst in instruments.as_array().unwrap() {
            if inst["base_currency"] != base {
                continue;
            }
            let name = inst["instrument_name"].as_str().unwrap();
            let t = sim.deribit("ticker", &[("instrument_name", name)]);
            let num = |v: &Value| v.as_f64();
            let inverse = !name.contains('_');
            let usd = if inverse {
                num(&t["index_price"]).unwrap()
            } else {
                1.0
            };
            let size = if inverse {
                1.0
            } else {
                num(&inst["contract_size"]).unwrap()
            };
            let mut row = BTreeMap::new();
            let bid = num(&t["best_bid_price"]).filter(|p| *p > 0.0);
            let ask = num(&t["best_ask_price"]).filter(|p| *p > 0.0);
            row.insert("bid_price".into(), bid.map_or(0.0, |p| p * usd));
            row.insert("ask_price".into(), ask.map_or(0.0, |p| p * usd));
            row.insert(
                "bid_size".into(),
                bid.and(num(&t["best_bid_amount"]))
                    .map_or(0.0, |a| a * size),
            );
            row.insert(
                "ask_size".into(),
                ask.and(num(&t["best_ask_amount"]))
                    .map_or(0.0, |a| a * size),
            );
            if let Some(iv) = bid.and(num(&t["bid_iv"])).filter(|v| *v > 0.0) {
                row.insert("bid_iv".into(), iv / 100.0);
            }
            row.insert("mark_price".into(), num(&t["mark_price"]).unwrap() * usd);
            row.insert("mark_iv".into(), num(&t["mark_iv"]).unwrap() / 100.0);
            row.insert("index_price".into(), num(&t["index_price"]).unwrap());
            row.insert(
                "underlying_price".into(),
                num(&t["underlying_price"]).unwrap(),
            );
            row.insert(
                "open_interest".into(),
                num(&t["open_interest"]).unwrap() * size,
            );
            for g in ["delta", "gamma", "vega", "theta"] {
                row.insert(g.into(), num(&t["greeks"][g]).unwrap());
            }
            row.insert(
                "volume_24h".into(),
                num(&t["stats"]["volume"]).unwrap() * size,
            );
            out.insert(format!("deribit:{base} {name}"), row);
        }
    }
    out
}

/// What Redis holds in the Deribit chains, the fields `expected` names.
fn held(con: &mut redis::Connection, want: &Rows) -> Rows {
    let mut out = Rows::new();
    for key in ["deribit:BTC", "deribit:XRP"] {
        let page = json(con, &["OPTIONS.QUERY", key, "FORMAT", "JSON"]);
        for row in page["data"].as_array().unwrap() {
            let id = format!("{key} {}", row["symbol"].as_str().unwrap());
            let fields = want.get(&id).map(|w| w.keys().cloned().collect::<Vec<_>>());
            let mut got = BTreeMap::new();
            for f in fields.unwrap_or_default() {
                if let Some(v) = row[&f].as_f64() {
                    got.insert(f, v);
                }
            }
            out.insert(id, got);
        }
    }
    out
}

fn same(got: &Rows, want: &Rows) -> bool {
    got.len() == want.len()
        && want.iter().all(|(k, w)| {
            got.get(k).is_some_and(|g| {
                g.len() == w.len()
                    && w.iter().all(|(f, v)| {
                        g.get(f)
                            .is_some_and(|x| (x - v).abs() <= 1e-12 * v.abs().max(1e-9))
                    })
            })
        })
}

/// Pauses the sim and waits until the Deribit chains hold exactly its Deribit quotes.
fn assert_converges(sim: &Sim, con: &mut redis::Connection) {
    sim.control("pause", &[]);
    let want = expected(sim);
    assert!(want.len() > 20, "the sim lists Deribit instruments");
    let deadline = Instant::now() + WAIT;
    loop {
        let got = held(con, &want);
        if same(&got, &want) {
            break;
        }
        if Instant::now() > deadline {
            let missing: Vec<&String> = want
                .keys()
                .filter(|k| !got.contains_key(*k))
                .take(3)
                .collect();
            let extra: Vec<&String> = got
                .keys()
                .filter(|k| !want.contains_key(*k))
                .take(3)
                .collect();
            let stale: Vec<String> = want
                .iter()
                .filter_map(|(k, w)| {
                    let g = got.get(k)?;
                    (g != w).then(|| format!("{k}: redis {g:?} sim {w:?}"))
                })
                .take(2)
                .collect();
            panic!("Deribit chains differ from the sim ({} vs {}): missing {missing:?}, extra {extra:?}, stale {stale:?}", got.len(), want.len());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    sim.control("resume", &[]);
}

#[test]
fn deribit_chains_hold_the_venues_quotes_in_the_models_units_beside_bybits() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = sim();
    let mut feeder = feeder(&sim, &redis, &[]);
    feeder.wait_ready(WAIT);
    wait_for(WAIT, "Deribit chains filled", || {
        let mut n =
            |k: &str| json(&mut con, &["OPTIONS.STATS", k, "FORMAT", "JSON"])["contracts"].as_u64();
        (n("deribit:BTC")? > 0 && n("deribit:XRP")? > 0).then_some(())
    });
    assert_converges(&sim, &mut con);

    // Deribit's own names, settle coins and the key's venue.
    let xrp = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "deribit:XRP",
            "LIMIT",
            "0",
            "1",
            "FORMAT",
            "JSON",
        ],
    );
    let row = &xrp["data"][0];
    let symbol = row["symbol"].as_str().unwrap();
    assert!(
        symbol.starts_with("XRP_USDC-") && symbol.contains('d'),
        "{symbol}"
    );
    assert_eq!(row["settle"], "USDC");
    let btc = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "deribit:BTC",
            "SETTLE",
            "BTC",
            "FORMAT",
            "JSON",
        ],
    );
    let all = json(
        &mut con,
        &["OPTIONS.QUERY", "deribit:BTC", "FORMAT", "JSON"],
    );
    assert_eq!(
        btc["total"], all["total"],
        "every Deribit BTC option settles in BTC"
    );
    // Bybit's chains are Bybit's: the same count as the sim's Bybit tickers, Bybit's names.
    let bybit_btc = sim.tickers("BTC").len() as u64;
    let stats = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    assert_eq!(stats["contracts"].as_u64(), Some(bybit_btc));
    // Analytics and the volatility index read the Deribit chain as they read Bybit's.
    let figures = json(
        &mut con,
        &["OPTIONS.ANALYTICS", "deribit:BTC", "FORMAT", "JSON"],
    );
    assert!(!figures["expiries"].as_array().unwrap().is_empty());
    assert!(
        figures["expiries"][0]["atm_iv"].as_f64().is_some(),
        "{figures}"
    );

    assert!(feeder.metric("feeder_venue_messages_received_total{venue=\"deribit\"}") > 0.0);
    assert_eq!(
        feeder
            .try_metric("feeder_venue_messages_garbled_total{venue=\"deribit\"}")
            .unwrap_or(0.0),
        0.0
    );
    assert_eq!(
        feeder.metric("feeder_venue_connected{venue=\"deribit\"}"),
        1.0
    );
}

#[test]
fn settled_instruments_leave_at_once_and_created_ones_arrive() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = sim();
    // Listings refresh only every 10 minutes: what happens here is instrument.state's doing.
    let mut feeder = feeder(&sim, &redis, &["--refresh-interval", "600"]);
    feeder.wait_ready(WAIT);
    let deribit_names = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .filter(|s| !s.ends_with("-USDT"))
            .map(String::from)
            .collect()
    };
    let present = |con: &mut redis::Connection, name: &str| {
        !matches!(
            options_tests::value(con, &["OPTIONS.GET", "deribit:BTC", name]),
            Ok(redis::Value::Nil)
        )
    };
    wait_for(WAIT, "Deribit BTC chain filled", || {
        let n = json(
            &mut con,
            &["OPTIONS.STATS", "deribit:BTC", "FORMAT", "JSON"],
        )["contracts"]
            .as_u64()?;
        (n > 0).then_some(())
    });
    let removed = deribit_names(&sim.control("delist", &[("baseCoin", "BTC")]), "removed");
    assert!(!removed.is_empty());
    wait_for(WAIT, "settled instruments removed", || {
        removed.iter().all(|s| !present(&mut con, s)).then_some(())
    });
    let listed = deribit_names(
        &sim.control("list", &[("baseCoin", "BTC"), ("days", "200")]),
        "listed",
    );
    assert!(!listed.is_empty());
    wait_for(WAIT, "created instruments streamed", || {
        listed.iter().all(|s| present(&mut con, s)).then_some(())
    });
    assert_converges(&sim, &mut con);
}

#[test]
fn heartbeats_are_answered_credits_respected_and_10028_backs_off() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    // The sim's four assets: about 2,300 Deribit instruments, ten subscribe messages, more than
    // the credit pool's burst.
    let sim = Sim::start(&["--updates-per-sec", "1000", "--seed", "9"]);
    let mut feeder = Feeder::start_venues(
        &sim,
        &redis.url(),
        "BTC,ETH,SOL,XRP,DOGE",
        "deribit",
        &["--deribit-heartbeat", "10", "--max-reconnect-delay", "1"],
    );
    feeder.wait_ready(WAIT);
    let listed: usize = ["BTC", "ETH", "USDC"]
        .iter()
        .map(|c| {
            sim.deribit("get_instruments", &[("currency", c), ("kind", "option")])
                .as_array()
                .unwrap()
                .len()
        })
        .sum();
    assert!(listed > 2_000, "{listed} instruments");
    let deribit = || sim.stats()["deribit"].clone();
    // Every ticker channel and per currency the instrument.state and trades channels, without
    // spending the pool.
    wait_for(WAIT, "every channel subscribed", || {
        (deribit()["channels"].as_u64()? == listed as u64 + 6).then_some(())
    });
    assert_eq!(deribit()["credit_closes"], 0, "subscriptions paced");
    // /health says what Deribit streams, and which tracked asset it does not list.
    let health = wait_for(WAIT, "/health with every channel", || {
        let h = feeder.health();
        (h["venues"]["deribit"]["channels"].as_u64()? == listed as u64 + 6).then_some(h)
    });
    let venue = &health["venues"]["deribit"];
    assert_eq!(venue["connected"], true, "{health}");
    assert_eq!(venue["refused_channels"], 0);
    assert_eq!(venue["assets_not_listed"], serde_json::json!(["DOGE"]));
    // Only Deribit: Bybit's keys stay empty.
    assert_eq!(
        json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"])["contracts"],
        0
    );
    // The first test_request comes 10 s after set_heartbeat; unanswered, the next would close.
    wait_for(Duration::from_secs(15), "a test_request answered", || {
        (deribit()["tests_answered"].as_u64()? >= 1).then_some(())
    });
    let reconnects = |f: &Feeder| {
        f.try_metric("feeder_venue_reconnects_total{venue=\"deribit\"}")
            .unwrap_or(0.0)
    };
    assert_eq!(reconnects(&feeder), 0.0, "the session stayed up");

    // 10028: the session ends; the feeder waits (5 s at least) instead of reconnecting in a loop.
    let t0 = Instant::now();
    sim.control("fault/credits", &[]);
    wait_for(WAIT, "the session ended", || {
        (reconnects(&feeder) == 1.0).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(reconnects(&feeder), 1.0, "no reconnect loop");
    assert_eq!(deribit()["connections"], 0, "still backing off");
    wait_for(WAIT, "back after the back-off", || {
        (deribit()["channels"].as_u64()? == listed as u64 + 6).then_some(())
    });
    assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(
        feeder.metric("feeder_venue_connected{venue=\"deribit\"}"),
        1.0
    );
}

#[test]
fn every_chain_endpoint_answers_per_venue() {
    use options_tests::procs::Web;
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = sim();
    let mut feeder = feeder(&sim, &redis, &[]);
    feeder.wait_ready(WAIT);
    wait_for(WAIT, "Deribit BTC chain filled", || {
        let n = json(
            &mut con,
            &["OPTIONS.STATS", "deribit:BTC", "FORMAT", "JSON"],
        )["contracts"]
            .as_u64()?;
        (n > 0).then_some(())
    });
    let web = Web::start(&redis.url(), &["--assets", "BTC,XRP"]);
    let keys = |venue: &str| {
        let stats = json(
            &mut redis.connection(),
            &["OPTIONS.EXPIRIES", &format!("{venue}BTC"), "FORMAT", "JSON"],
        );
        stats.as_array().unwrap().len()
    };
    // Expiries of each venue's chain; the default is Bybit's.
    let (code, bybit) = web.get("/api/expiries/BTC", &[]);
    assert_eq!(code, 200);
    let (code, deribit) = web.get("/api/expiries/btc", &[("venue", "Deribit")]);
    assert_eq!(code, 200);
    assert_eq!(bybit.as_array().unwrap().len(), keys(""));
    assert_eq!(deribit.as_array().unwrap().len(), keys("deribit:"));
    let expiry = deribit[0].as_str().unwrap().to_string();
    // The chain of one expiry: Deribit's names and settle coin.
    let (code, chain) = web.get(&format!("/api/chain/BTC/{expiry}"), &[("venue", "deribit")]);
    assert_eq!(code, 200, "{chain}");
    let text = chain.to_string();
    assert!(text.contains("\"settle\":\"BTC\""), "{text:.300}");
    // Analytics, the smile and the rows read the Deribit chain.
    let (code, figures) = web.get("/api/analytics/BTC", &[("venue", "deribit")]);
    assert_eq!(code, 200);
    assert_eq!(figures["underlying"], "deribit:BTC");
    let (code, rows) = web.get("/api/options/XRP", &[("venue", "deribit"), ("limit", "1")]);
    assert_eq!(code, 200);
    assert!(
        rows["data"][0]["symbol"]
            .as_str()
            .unwrap()
            .starts_with("XRP_USDC-"),
        "{rows}"
    );
    let (code, changes) = web.get("/api/changes/BTC", &[("venue", "deribit")]);
    assert_eq!(code, 200);
    assert_eq!(changes["reset"], true);
    // Venues: both, with each tracked asset's key and contracts.
    let (code, venues) = web.get("/api/venues", &[]);
    assert_eq!(code, 200);
    let names: Vec<&str> = venues["venues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["venue"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bybit", "deribit"]);
    let deribit_btc = &venues["venues"][1]["chains"][0];
    assert_eq!(deribit_btc["key"], "deribit:BTC");
    assert!(deribit_btc["contracts"].as_u64().unwrap() > 0);
    // A bad venue is a 400 naming the parameter; an asset the venue does not hold is a 404.
    let (code, err) = web.get("/api/expiries/BTC", &[("venue", "okx")]);
    assert_eq!(code, 400);
    assert_eq!(err["parameter"], "venue");
    let (code, _) = web.get("/api/expiries/DOGE", &[("venue", "deribit")]);
    assert_eq!(code, 404);
    // The stream follows Deribit's chain: events name its key.
    let rx = web.sse_events("assets=BTC&venue=deribit", None);
    let first = wait_for(WAIT, "a changes event", || {
        let (event, _, data) = rx.recv_timeout(Duration::from_secs(5)).ok()?;
        (event == "changes").then(|| serde_json::from_str::<Value>(&data).unwrap())
    });
    assert_eq!(first["asset"], "deribit:BTC");
    assert_eq!(first["changes"]["reset"], true);
}
