//! `options-web` over real HTTP against a real redis-server + module holding the fixture chain.
//! Expected answers are computed from the fixture, as the seed's code would have.

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use options_tests::fixture::{self, FixtureContract};
use options_tests::follow;
use options_tests::procs::{Sim, Web};

use options_tests::RedisServer;
use serde_json::{json, Value};

fn setup() -> (RedisServer, redis::Connection, Vec<FixtureContract>, Web) {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(21);
    fixture::ingest(&mut con, &contracts);
    let web = Web::start(&server.url(), &["--assets", "BTC,ETH,SOL,XRP"]);
    (server, con, contracts, web)
}

/// A Redis holding `contracts` (BTC's), and a web server of BTC alone.
fn btc_setup(contracts: &[FixtureContract]) -> (RedisServer, redis::Connection, Web) {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    fixture::ingest(&mut con, contracts);
    let web = Web::start(&server.url(), &["--assets", "BTC"]);
    (server, con, web)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn web_app_endpoints_answer_like_the_seed() {
    let (_server, _con, contracts, web) = setup();
    let btc = fixture::of(&contracts, "BTC");
    let e = btc[0].clone();

    // /api/options/{asset}: seed rows, calls of one expiry, by 24 h volume descending
    let mut want: Vec<&FixtureContract> = btc
        .iter()
        .copied()
        .filter(|c| c.expiry == e.expiry && c.call)
        .collect();
    want.sort_by(|a, b| b.value("volume_24h").total_cmp(&a.value("volume_24h")));
    let (code, rows) = web.get(
        "/api/options/BTC",
        &[("expiry", &e.expiry_padded), ("type", "call")],
    );
    assert_eq!(code, 200);
    let rows = rows.as_array().unwrap().clone();
    assert_eq!(rows.len(), want.len());
    for (row, c) in rows.iter().zip(&want) {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "symbol",
                "expiry",
                "strike",
                "type",
                "last_price",
                "mark_price",
                "volume_24h",
                "open_interest",
                "delta",
                "gamma",
                "theta",
                "vega",
                "iv",
                "underlying",
                "index_price"
            ]
        );
        assert_eq!(row["symbol"], c.symbol.as_str());
        assert_eq!(row["expiry"], c.expiry_padded.as_str());
        assert_eq!(row["strike"], c.strike_text.as_str());
        assert_eq!(row["type"], "Call");
        assert_eq!(f(&row["iv"]), c.value("mark_iv"));
        assert_eq!(f(&row["underlying"]), c.value("underlying_price"));
        assert_eq!(f(&row["theta"]), c.value("theta"));
    }
    // paging: {total, limit, offset, data}
    let (_, page) = web.get(
        "/api/options/BTC",
        &[
            ("expiry", &e.expiry),
            ("type", "call"),
            ("limit", "3"),
            ("offset", "2"),
        ],
    );
    assert_eq!(page["total"], want.len());
    assert_eq!(
        (page["limit"].clone(), page["offset"].clone()),
        (json!(3), json!(2))
    );
    let syms: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        syms,
        want[2..5]
            .iter()
            .map(|c| c.symbol.as_str())
            .collect::<Vec<_>>()
    );

    // /api/strikes: strings in numeric order
    let xrp = fixture::of(&contracts, "XRP");
    let mut strikes: Vec<(f64, String)> = xrp
        .iter()
        .filter(|c| c.expiry == xrp[0].expiry)
        .map(|c| (c.strike, c.strike_text.clone()))
        .collect();
    strikes.sort_by(|a, b| a.0.total_cmp(&b.0));
    strikes.dedup_by(|a, b| a.0 == b.0);
    let (_, got) = web.get("/api/strikes/XRP", &[("expiry", &xrp[0].expiry_iso)]);
    assert_eq!(
        got,
        json!(strikes.iter().map(|s| s.1.clone()).collect::<Vec<_>>())
    );

    // /api/expiries: padded, chronological
    let eth = fixture::of(&contracts, "ETH");
    let mut exp: Vec<(i64, String)> = eth
        .iter()
        .map(|c| (c.expiry_days, c.expiry_padded.clone()))
        .collect();
    exp.dedup();
    let (_, got) = web.get("/api/expiries/ETH", &[]);
    assert_eq!(
        got,
        json!(exp.iter().map(|e| e.1.clone()).collect::<Vec<_>>())
    );

    // /api/summary/{asset}
    let sol = fixture::of(&contracts, "SOL");
    let (_, s) = web.get("/api/summary/SOL", &[]);
    let calls = sol.iter().filter(|c| c.call).count();
    assert_eq!(s["asset"], "SOL");
    assert_eq!(s["total_options"], sol.len());
    assert_eq!(
        (s["calls"].clone(), s["puts"].clone()),
        (json!(calls), json!(sol.len() - calls))
    );
    assert_eq!(s["expiry_count"], s["expiries"].as_array().unwrap().len());
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "asset",
            "total_options",
            "calls",
            "puts",
            "expiries",
            "expiry_count"
        ]
    );

    // /api/stats: the web app's four fields here; the data API's on its own port
    let (_, st) = web.get("/api/stats", &[]);
    let keys: Vec<&str> = st.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "total_symbols",
            "messages_processed",
            "last_update",
            "redis_memory"
        ]
    );
    assert_eq!(st["total_symbols"], contracts.len());
    assert_eq!(st["messages_processed"], contracts.len());
    let (_, data_st) = web.data_api_get("/api/stats", &[]);
    assert_eq!(data_st["total_options"], contracts.len());
    assert_eq!(data_st["btc_options"], btc.len());
    assert_eq!(data_st["eth_options"], eth.len());
    assert_eq!(data_st["sol_options"], sol.len());
    assert!(st["redis_memory"]
        .as_str()
        .unwrap()
        .ends_with(['K', 'M', 'G', 'B']));
    let last = btc
        .iter()
        .chain(&eth)
        .map(|c| c.updated_ms)
        .max()
        .unwrap()
        .max(contracts.iter().map(|c| c.updated_ms).max().unwrap());
    assert_eq!(st["last_update"], format!("{:.6}", last as f64 / 1000.0));

    // /api/options/{symbol}: the data API's option object
    let c = &eth[7];
    let (code, o) = web.get(&format!("/api/options/{}", c.symbol), &[]);
    assert_eq!(code, 200);
    let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, fixture::SEED_OBJECT_KEYS);
    for k in &keys[1..] {
        assert_eq!(f(&o[*k]), c.value(k), "{k}");
    }

    // /api/chain: the module's chain, forwarded
    let (code, ch) = web.get(
        &format!("/api/chain/BTC/{}", e.expiry_padded),
        &[("settle", "usdc")],
    );
    assert_eq!(code, 200);
    assert_eq!(
        ch["strikes"].as_array().unwrap().len(),
        btc.iter()
            .filter(|c| c.expiry == e.expiry && !c.usdt)
            .count()
            / 2
    );
}

#[test]
fn data_api_endpoints_compute_what_the_seed_computed() {
    let (_server, _con, contracts, web) = setup();
    let eth = fixture::of(&contracts, "ETH");

    // ATM: spot = the nearest expiry's forward (the median of its contracts' underlying
    // prices), 2 × num_strikes nearest contracts
    let nearest = eth.iter().map(|c| c.expiry_days).min().unwrap();
    let mut prices: Vec<f64> = eth
        .iter()
        .filter(|c| c.expiry_days == nearest)
        .map(|c| c.value("underlying_price"))
        .filter(|p| *p > 0.0)
        .collect();
    prices.sort_by(f64::total_cmp);
    let n = prices.len();
    let spot = if n % 2 == 1 {
        prices[n / 2]
    } else {
        (prices[n / 2 - 1] + prices[n / 2]) / 2.0
    };
    let mut by_distance: Vec<(f64, &FixtureContract)> =
        eth.iter().map(|c| ((c.strike - spot).abs(), *c)).collect();
    by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (_, atm) = web.get("/api/atm/ETH", &[("num_strikes", "3")]);
    assert_eq!(atm["count"], 6);
    assert_eq!(atm["num_strikes"], 3);
    for (item, (d, _)) in atm["data"].as_array().unwrap().iter().zip(&by_distance) {
        assert_eq!(f(&item["distance_from_spot"]), *d);
    }

    // greeks: mean, sample std, min, max of delta; totals of theta and vega
    let deltas: Vec<f64> = eth.iter().map(|c| c.value("delta")).collect();
    let mean = deltas.iter().sum::<f64>() / deltas.len() as f64;
    let std =
        (deltas.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (deltas.len() - 1) as f64).sqrt();
    let (_, g) = web.get("/api/greeks/ETH", &[]);
    assert!((f(&g["summary"]["delta"]["mean"]) - mean).abs() < 1e-12);
    assert!((f(&g["summary"]["delta"]["std"]) - std).abs() < 1e-12);
    let theta: f64 = eth.iter().map(|c| c.value("theta")).sum();
    assert!((f(&g["summary"]["theta"]["total"]) - theta).abs() < 1e-6);

    // thresholds
    let (_, hv) = web.get("/api/high-volume", &[("min_volume", "5000")]);
    assert_eq!(
        hv["count"],
        contracts
            .iter()
            .filter(|c| c.value("volume_24h") >= 5000.0)
            .count()
    );
    assert_eq!(hv["asset"], "all");
    let (_, hv) = web.get("/api/high-volume", &[]);
    assert_eq!(
        hv["min_volume"],
        json!(100000),
        "an int default echoes as an int"
    );
    let (_, hi) = web.get("/api/high-iv", &[("asset", "XRP"), ("min_iv", "0.6")]);
    assert_eq!(
        hi["count"],
        contracts
            .iter()
            .filter(|c| c.underlying == "XRP" && c.value("mark_iv") >= 0.6)
            .count()
    );

    // symbols, filtered asset list, query
    let (_, sy) = web.get("/api/symbols", &[("asset", "SOL")]);
    assert_eq!(sy["count"], fixture::of(&contracts, "SOL").len());
    let (_, a) = web.get(
        "/api/assets/ETH",
        &[("expiry", &eth[0].expiry), ("min_volume", "100")],
    );
    let want = eth
        .iter()
        .filter(|c| c.expiry == eth[0].expiry && c.value("volume_24h") >= 100.0)
        .count();
    assert_eq!(a["count"], want);
    assert_eq!(a["filters"]["min_volume"], json!(100.0));
    let (code, q) = web.send(
        reqwest::Method::POST,
        "/api/query?asset=ETH&option_type=put&min_strike=3500&max_strike=3700&limit=0",
        None,
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(
        q["count"],
        eth.iter()
            .filter(|c| !c.call && c.strike >= 3500.0 && c.strike <= 3700.0)
            .count()
    );

    // exports
    let (code, csv, headers) = web.get_text("/api/export/csv", &[("asset", "XRP")]);
    assert_eq!(code, 200);
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=XRP_options_") && cd.ends_with(".csv"),
        "{cd}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "symbol,last_price,mark_price,index_price,mark_iv,underlying_price,open_interest,volume_24h,turnover_24h,delta,gamma,theta,vega,bid_iv,ask_iv,asset,expiry,strike,type");
    assert_eq!(lines.len() - 1, fixture::of(&contracts, "XRP").len());
    let (_, json_export, _) = web.get_text("/api/export/json", &[("asset", "XRP")]);
    assert!(json_export.starts_with("[\n  {"), "indent-2 JSON array");

    // global summary
    let (_, s) = web.get("/api/summary", &[]);
    assert_eq!(s["total_options"], contracts.len());
    let total_vol: f64 = contracts.iter().map(|c| c.value("volume_24h")).sum();
    assert!((f(&s["volume"]["total_24h"]) - total_vol).abs() < 1e-6 * total_vol);
}

#[test]
fn bad_parameters_are_400_unknown_things_404() {
    let (_server, _con, _contracts, web) = setup();
    for (path, query, param) in [
        ("/api/options/BTC", vec![("expiry", "someday")], "expiry"),
        ("/api/options/BTC", vec![("type", "straddle")], "type"),
        ("/api/options/BTC", vec![("strike", "abc")], "strike"),
        ("/api/options/BTC", vec![("limit", "-3")], "limit"),
        ("/api/options/BTC", vec![("offset", "x")], "offset"),
        ("/api/strikes/BTC", vec![("expiry", "31FEB26")], "expiry"),
        ("/api/atm/BTC", vec![("num_strikes", "many")], "num_strikes"),
        (
            "/api/high-volume",
            vec![("min_volume", "lots")],
            "min_volume",
        ),
        ("/api/options/B_C", vec![], "asset"),
    ] {
        let (code, body) = web.get(path, &query);
        assert_eq!(code, 400, "{path} {query:?}: {body}");
        assert_eq!(body["parameter"], param, "{body}");
        assert!(body["detail"].as_str().unwrap().contains(param), "{body}");
    }
    for path in [
        "/api/options/DOGE",
        "/api/expiries/DOGE",
        "/api/options/BTC-1JAN30-1-C",
        "/api/nothing-here",
    ] {
        let (code, body) = web.get(path, &[]);
        assert_eq!(code, 404, "{path}: {body}");
        assert!(body["detail"].is_string());
    }
}

#[test]
fn asset_list_is_managed_and_validated_on_the_exchange() {
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&[
        "--assets",
        "BTC,DOGE",
        "--strikes",
        "2",
        "--updates-per-sec",
        "10",
    ]);
    let web = Web::start(
        &server.url(),
        &["--bybit-rest-url", &sim.rest_url(), "--api-token", "s3cret"],
    );
    let (_, a) = web.get("/api/assets", &[]);
    assert_eq!(
        a,
        json!({"BTC": {"name": "Bitcoin", "enabled": true, "order": 1}, "ETH": {"name": "Ethereum", "enabled": true, "order": 2}, "SOL": {"name": "Solana", "enabled": true, "order": 3}})
    );
    let post = |path: &str, body: Value, token: Option<&str>| {
        web.send(reqwest::Method::POST, path, Some(body), token)
    };
    assert_eq!(
        post("/api/assets/add", json!({"symbol": "doge"}), None).0,
        401,
        "writes need the token"
    );
    let (code, r) = post(
        "/api/assets/test",
        json!({"symbol": "doge"}),
        Some("s3cret"),
    );
    assert_eq!(
        (code, r["success"].clone(), r["symbol"].clone()),
        (200, json!(true), json!("DOGE"))
    );
    assert_eq!(r["message"], "DOGE has options available");
    let (_, r) = post("/api/assets/test", json!({"symbol": "ZZZ"}), Some("s3cret"));
    assert_eq!(r["message"], "No options found for ZZZ");
    let (code, r) = post("/api/assets/test", json!({"symbol": ""}), Some("s3cret"));
    assert_eq!(
        (code, r["detail"].clone()),
        (400, json!("invalid symbol: Symbol required"))
    );
    let (code, r) = post(
        "/api/assets/add",
        json!({"symbol": "doge", "name": "Dogecoin"}),
        Some("s3cret"),
    );
    assert_eq!(
        (code, r),
        (
            200,
            json!({"success": true, "message": "Added DOGE permanently to config"})
        )
    );
    let (code, r) = post("/api/assets/add", json!({"symbol": "DOGE"}), Some("s3cret"));
    assert_eq!(
        (code, r["detail"].clone()),
        (400, json!("Asset DOGE already exists"))
    );
    let (code, r) = post("/api/assets/add", json!({"symbol": "ZZZ"}), Some("s3cret"));
    assert_eq!(
        (code, r["detail"].clone()),
        (400, json!("No options found for ZZZ on Bybit"))
    );
    let (_, a) = web.get("/api/assets", &[]);
    assert_eq!(a["DOGE"]["name"], "Dogecoin");
    assert_eq!(a["DOGE"]["order"], 4);
    let (_, r) = web.send(
        reqwest::Method::POST,
        "/api/assets/DOGE/toggle",
        None,
        Some("s3cret"),
    );
    assert_eq!(r["success"], true);
    let (_, a) = web.get("/api/assets", &[]);
    assert_eq!(a["DOGE"]["enabled"], false);
    let (_, r) = web.send(
        reqwest::Method::POST,
        "/api/assets/NOPE/toggle",
        None,
        Some("s3cret"),
    );
    assert_eq!(r, json!({"success": false}));
    let (code, _) = web.send(
        reqwest::Method::DELETE,
        "/api/assets/BTC/remove",
        None,
        Some("s3cret"),
    );
    assert_eq!(code, 400, "a default asset stays");
    let (code, r) = web.send(
        reqwest::Method::DELETE,
        "/api/assets/DOGE/remove",
        None,
        Some("s3cret"),
    );
    assert_eq!((code, r), (200, json!({"success": true})));
}

/// The next `changes` event's id and data, as sent.
fn next_change_text(
    rx: &mpsc::Receiver<(String, String, String)>,
    limit: Duration,
) -> (String, String) {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (event, id, data) = rx.recv_timeout(left).expect("a changes event in time");
        if event == "changes" {
            return (id, data);
        }
    }
}

fn next_change(rx: &mpsc::Receiver<(String, String, String)>, limit: Duration) -> (String, Value) {
    let (id, data) = next_change_text(rx, limit);
    (id, serde_json::from_str(&data).unwrap())
}

#[test]
fn sse_sends_stats_and_changes_within_a_second_and_resumes() {
    let (_server, mut con, contracts, web) = setup();
    let (code, _, headers) = {
        let r = reqwest::blocking::Client::new()
            .get(web.url("/api/stream"))
            .send()
            .unwrap();
        (r.status().as_u16(), (), r.headers().clone())
    };
    assert_eq!(code, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert_eq!(headers["cache-control"], "no-cache");

    let rx = web.sse_events("assets=ETH", None);
    // the seed's stats event: plain data, Python separators
    let (event, _, data) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let first_change = if event.is_empty() {
        assert!(data.starts_with("{\"total_symbols\": "), "{data}");
        next_change(&rx, Duration::from_secs(5))
    } else {
        let (_, _, stats) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(stats.contains("\"total_symbols\": "), "{stats}");
        (String::new(), serde_json::from_str(&data).unwrap())
    };
    assert_eq!(first_change.1["asset"], "ETH");
    assert_eq!(
        first_change.1["changes"]["reset"], true,
        "a new client gets the whole chain first"
    );

    let eth = fixture::of(&contracts, "ETH");
    let sent = Instant::now();
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[3].symbol)
        .arg("mark_price")
        .arg("321.5")
        .query(&mut con)
        .unwrap();
    let (id, ev) = next_change(&rx, Duration::from_secs(1));
    assert!(sent.elapsed() < Duration::from_secs(1));
    assert_eq!(ev["changes"]["reset"], false);
    assert_eq!(ev["changes"]["data"][0]["symbol"], eth[3].symbol.as_str());
    assert_eq!(ev["changes"]["data"][0]["mark_price"], 321.5);
    assert!(id.starts_with("ETH:"), "{id}");
    drop(rx);

    // resume: only what happened after the last seen id
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[4].symbol)
        .arg("delta")
        .arg("0.25")
        .query(&mut con)
        .unwrap();
    let rx = web.sse_events("assets=ETH", Some(&id));
    let (_, ev) = next_change(&rx, Duration::from_secs(2));
    assert_eq!(ev["changes"]["reset"], false);
    let syms: Vec<&str> = ev["changes"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(syms, [eth[4].symbol.as_str()]);
}

#[test]
fn a_chain_deleted_or_reloaded_reaches_every_follower_as_a_reset() {
    let (_server, mut con, contracts, web) = setup();
    let rx = web.sse_events("assets=ETH", None);
    let (_, first) = next_change(&rx, Duration::from_secs(5));
    assert_eq!(first["changes"]["reset"], true);

    // The key goes: followers are told at once (a reset with no rows), not when it returns.
    let _: i64 = redis::cmd("DEL").arg("ETH").query(&mut con).unwrap();
    let (_, gone) = next_change(&rx, Duration::from_secs(2));
    assert_eq!(gone["changes"]["reset"], true, "{gone}");
    assert_eq!(gone["changes"]["data"], json!([]), "{gone}");

    // It comes back with one contract: that is the whole chain.
    let eth = fixture::of(&contracts, "ETH");
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[0].symbol)
        .arg("mark_price")
        .arg("10")
        .query(&mut con)
        .unwrap();
    let (_, back) = next_change(&rx, Duration::from_secs(2));
    let symbols: Vec<&str> = back["changes"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, [eth[0].symbol.as_str()], "{back}");

    // A reload (as after a restart) resets followers too, then changes flow on from there.
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut con).unwrap();
    let (_, reloaded) = next_change(&rx, Duration::from_secs(2));
    assert_eq!(reloaded["changes"]["reset"], true, "{reloaded}");
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[0].symbol)
        .arg("mark_price")
        .arg("11")
        .query(&mut con)
        .unwrap();
    let (_, next) = next_change(&rx, Duration::from_secs(2));
    assert_eq!(next["changes"]["reset"], false, "{next}");
    assert_eq!(next["changes"]["data"][0]["mark_price"], 11.0);
}

/// A follower's copy of a chain: mark price and delta by symbol.
type MarkAndDelta = std::collections::BTreeMap<String, (f64, f64)>;

/// A `changes` event's data applied to a follower's copy of the chain.
fn apply_change(chain: &mut MarkAndDelta, data: &str) {
    let ev: follow::ChangesEvent = serde_json::from_str(data).expect("a changes event");
    follow::apply(chain, &ev.changes, |row| {
        let row: Value = serde_json::from_str(row.get()).unwrap();
        (f(&row["mark_price"]), f(&row["delta"]))
    })
    .unwrap();
}

/// The number in a `changes` event's `id:` (`BTC:12` → 12).
fn cursor_of(id: &str) -> u64 {
    id.strip_prefix("BTC:")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a BTC cursor: {id}"))
}

/// A follower that stops reading falls behind the changes its asset's reader keeps for
/// clients; when it reads again it gets the rest from its own cursor, in one event. At the end
/// it holds exactly the chain, as a follower that kept up does, having been sent far fewer
/// events. Each write also marks one contract of its own that no later write touches, so a
/// follower that skipped a change (rather than catching up over it) ends with a wrong delta.
#[test]
fn a_follower_that_stops_reading_catches_up_from_its_cursor() {
    use std::io::{Read, Write};
    // Every write below changes 940 of the 1,000 contracts: some hundreds of KB per event, so
    // a few events fill the slow follower's socket buffers and the rest wait in the server.
    let contracts = fixture::btc_chain(10, 50, 7);
    let (_server, mut con, web) = btc_setup(&contracts);

    let fast = web.sse_events("assets=BTC", None);
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", web.port)).unwrap();
    slow.write_all(b"GET /api/stream?assets=BTC HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let (_, first) = next_change_text(&fast, Duration::from_secs(5));
    let snapshot: follow::ChangesEvent = serde_json::from_str(&first).unwrap();
    assert!(snapshot.changes.reset, "the first event is the whole chain");
    // The slow follower's first bytes (its snapshot) are on their way; it reads nothing more.
    let mut head = [0u8; 64];
    slow.read_exact(&mut head).unwrap();
    assert!(
        head.starts_with(b"HTTP/1."),
        "{}",
        String::from_utf8_lossy(&head)
    );

    const WRITES: u64 = 60;
    let marked = |k: u64| &contracts[k as usize - 1].symbol;
    let delta_of = |k: u64| k as f64 / 1000.0;
    let bulk = &contracts[WRITES as usize..];
    for k in 1..=WRITES {
        let mut pipe = redis::pipe();
        for c in bulk {
            pipe.cmd("OPTIONS.INGEST")
                .arg("BTC")
                .arg(&c.symbol)
                .arg("mark_price")
                .arg(k)
                .ignore();
        }
        pipe.cmd("OPTIONS.INGEST")
            .arg("BTC")
            .arg(marked(k))
            .arg("delta")
            .arg(delta_of(k))
            .ignore();
        pipe.query::<()>(&mut con).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let done = |chain: &MarkAndDelta| {
        chain.len() == contracts.len()
            && bulk.iter().all(|c| chain[&c.symbol].0 == WRITES as f64)
            && chain[marked(WRITES)].1 == delta_of(WRITES)
    };

    // The follower that kept up: every event, applied in order.
    let mut fast_chain = MarkAndDelta::new();
    apply_change(&mut fast_chain, &first);
    let mut fast_events = 0;
    while !done(&fast_chain) {
        let (_, ev) = next_change_text(&fast, Duration::from_secs(20));
        apply_change(&mut fast_chain, &ev);
        fast_events += 1;
    }

    // The slow one reads now, from where its first bytes ended.
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reader = std::io::BufReader::new((&head[..]).chain(slow));
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim_end().is_empty() {
            break; // the end of the response's head
        }
    }
    let mut events = options_tests::procs::SseEvents::default();
    let mut slow_chain = MarkAndDelta::new();
    let mut slow_events = 0;
    let mut last_cursor = 0;
    while !done(&slow_chain) {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended");
        let Some((event, id, data)) = events.line(line.trim_end_matches(['\r', '\n'])) else {
            continue;
        };
        if event != "changes" {
            continue;
        }
        let cursor = cursor_of(&id);
        assert!(cursor > last_cursor, "cursor {cursor} after {last_cursor}");
        last_cursor = cursor;
        apply_change(&mut slow_chain, &data);
        slow_events += 1;
    }
    for k in 1..=WRITES {
        assert_eq!(slow_chain[marked(k)].1, delta_of(k), "write {k}'s mark");
    }
    assert_eq!(slow_chain, fast_chain);
    // The first event was the snapshot; each event moved the cursor. The slow one was sent
    // what its buffers held, then the rest as one catch-up.
    assert!(
        slow_events * 2 < fast_events,
        "a slow follower got {slow_events} events, one that kept up {fast_events}"
    );
}

/// A large audience of one asset is served in groups that take their changes at different
/// moments: under a stream of writes, followers are not all sent the same events, each is
/// sent at most about one event per merge gap (10 ms), and every one ends holding exactly the
/// chain, its cursors rising. Each write marks a contract of its own, so a follower that
/// skipped a change, rather than getting it merged into a later one, ends with a wrong mark.
#[test]
fn a_large_audience_is_served_in_staggered_groups_and_every_follower_holds_the_chain() {
    use std::io::{BufReader, Write};
    let contracts = fixture::btc_chain(2, 40, 7);
    let (_server, mut con, web) = btc_setup(&contracts);

    // 300 followers (three groups of at most 128), each a socket read by a thread of its own.
    const FOLLOWERS: usize = 300;
    const WRITES: u64 = 60;
    let marked = |k: u64| contracts[k as usize - 1].symbol.clone();
    let delta_of = |k: u64| k as f64 / 1000.0;
    let (tx, rx) = mpsc::channel();
    for _ in 0..FOLLOWERS {
        let (tx, port, last) = (tx.clone(), web.port, marked(WRITES));
        std::thread::spawn(move || {
            let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            sock.write_all(b"GET /api/stream?assets=BTC HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut reader = BufReader::new(sock);
            let mut events = options_tests::procs::SseEvents::default();
            let mut chain = MarkAndDelta::new();
            let mut cursors = Vec::new();
            let mut line = String::new();
            while chain.get(&last).is_none_or(|m| m.1 != delta_of(WRITES)) {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some((event, id, data)) = events.line(line.trim_end()) {
                    if event == "changes" {
                        apply_change(&mut chain, &data);
                        cursors.push(cursor_of(&id));
                        // The snapshot is in: the writes may start.
                        if cursors.len() == 1 {
                            tx.send(None).unwrap();
                        }
                    }
                }
            }
            tx.send(Some((chain, cursors))).unwrap();
        });
    }
    for _ in 0..FOLLOWERS {
        assert!(rx.recv_timeout(Duration::from_secs(30)).unwrap().is_none());
    }
    let began = Instant::now();
    for k in 1..=WRITES {
        let _: i64 = redis::cmd("OPTIONS.INGEST")
            .arg("BTC")
            .arg(marked(k))
            .arg("delta")
            .arg(delta_of(k))
            .query(&mut con)
            .unwrap();
        std::thread::sleep(Duration::from_millis(3));
    }
    let writing = began.elapsed();
    let mut sequences = std::collections::HashSet::new();
    for _ in 0..FOLLOWERS {
        let (chain, cursors) = rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap();
        assert_eq!(chain.len(), contracts.len());
        for k in 1..=WRITES {
            assert_eq!(chain[&marked(k)].1, delta_of(k), "write {k}'s mark");
        }
        assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
        // At most one event per 10 ms gap, and the one a quiet moment's first write makes.
        let most = writing.as_millis() as usize / 10 + 3;
        assert!(
            cursors.len() - 1 <= most,
            "{} events in {writing:?}",
            cursors.len() - 1
        );
        sequences.insert(cursors[1..].to_vec());
    }
    assert!(
        sequences.len() >= 2,
        "every follower was sent the same events: one group"
    );
}

#[test]
fn redis_outage_is_503_and_recovers() {
    let (mut server, _con, _contracts, web) = setup();
    let (code, _) = web.get("/api/options/BTC", &[("limit", "1")]);
    assert_eq!(code, 200);
    server.stop();
    let (code, body) = web.get("/api/options/BTC", &[("limit", "1")]);
    assert_eq!(code, 503, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Redis"));
    let (code, h) = web.get("/health", &[]);
    assert_eq!(
        (code, h["status"].clone(), h["redis"].clone()),
        (200, json!("unhealthy"), json!("disconnected"))
    );
    server.restart();
    let mut con = server.connection();
    let c = fixture::chain(21);
    fixture::ingest(&mut con, &c);
    let (code, _) = web.get("/api/options/BTC", &[("limit", "1")]);
    assert_eq!(code, 200, "recovered without a restart of options-web");
}

#[test]
fn websocket_pushes_recent_updates_and_openapi_lists_the_routes() {
    let (_server, mut con, contracts, web) = setup();
    let (mut socket, _) =
        tungstenite::connect(format!("ws://127.0.0.1:{}/ws", web.port)).expect("ws connect");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = socket.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(12))).unwrap();
    }
    socket
        .send(tungstenite::Message::text("hello (ignored)"))
        .unwrap();
    let sym = &fixture::of(&contracts, "SOL")[2].symbol;
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("SOL")
        .arg(sym)
        .arg("mark_price")
        .arg("9.75")
        .query(&mut con)
        .unwrap();
    let msg = loop {
        let m = socket.read().expect("a message within 12 s");
        if let tungstenite::Message::Text(t) = m {
            break serde_json::from_str::<Value>(t.as_str()).unwrap();
        }
    };
    assert_eq!(msg["type"], "update");
    assert!(msg["count"].as_u64() >= Some(1));
    assert!(
        msg["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["symbol"] == sym.as_str()),
        "{msg}"
    );

    let (code, doc) = web.get("/api/openapi.json", &[]);
    assert_eq!(code, 200);
    for path in [
        "/api/options/{x}",
        "/api/chain/{asset}/{expiry}",
        "/api/stream",
        "/api/query",
        "/ws",
        "/health",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[test]
fn gzip_only_for_clients_that_ask_streams_included_each_event_flushed() {
    let (_server, _con, _contracts, web) = setup();
    let client = reqwest::blocking::Client::new();
    let r = client
        .get(web.url("/api/options/BTC"))
        .header("accept-encoding", "gzip, deflate")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let body = r.bytes().unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");
    let r = client.get(web.url("/api/options/BTC")).send().unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.text().unwrap().starts_with("[{\"symbol\""));
    // The event stream: gzip too when asked, and each event readable as soon as it is sent
    // (the stream never ends, so this reads only what one event needs), the same events a
    // plain client gets.
    let first_events = |gzip: bool| {
        let mut req = client.get(web.url("/api/stream?assets=BTC"));
        if gzip {
            req = req.header("accept-encoding", "gzip, deflate");
        }
        let r = req.send().unwrap();
        assert_eq!(r.status(), 200);
        let encoding = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(r.headers()["vary"], "accept-encoding");
        let reader: Box<dyn std::io::Read> = if gzip {
            Box::new(flate2::read::GzDecoder::new(r))
        } else {
            Box::new(r)
        };
        // The snapshot of BTC (`changes`, ended by its id line), then the seed's stats event.
        let mut lines = std::io::BufReader::new(reader).lines();
        let mut text = Vec::new();
        while !text
            .iter()
            .any(|l: &String| l.starts_with("data:{\"total_symbols\""))
        {
            text.push(lines.next().expect("the stream goes on").expect("readable"));
        }
        (encoding, text)
    };
    let (plain_encoding, plain) = first_events(false);
    let (gzip_encoding, gzipped) = first_events(true);
    assert_eq!(plain_encoding, None);
    assert_eq!(gzip_encoding.as_deref(), Some("gzip"));
    assert!(plain[0].starts_with("event:changes"), "{:?}", &plain[..1]);
    assert_eq!(
        plain[..3],
        gzipped[..3],
        "the snapshot and its id, the same either way"
    );
    assert!(
        gzipped[1].len() > 10_000,
        "a snapshot of every BTC contract"
    );
    // A client that refuses gzip gets none.
    let r = client
        .get(web.url("/api/stream"))
        .header("accept-encoding", "gzip;q=0, identity")
        .send()
        .unwrap();
    assert!(r.headers().get("content-encoding").is_none());
}

#[test]
fn dashboard_pages_and_static_files() {
    let (_server, _con, _contracts, web) = setup();
    // `/` opens the table on the first enabled asset; the tabs and boot data come from
    // config:assets; a strict CSP forbids inline scripts.
    let (code, html, headers) = web.get_text("/", &[]);
    assert_eq!(code, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(html.contains(r#"<body data-view="table">"#));
    for a in ["BTC", "ETH", "SOL", "XRP"] {
        assert!(html.contains(&format!(r#"data-asset="{a}""#)), "tab {a}");
    }
    assert!(html.contains(
        r#"class="tab active" type="button" role="tab" aria-selected="true" data-asset="BTC""#
    ));
    assert!(html.contains(r#"aria-selected="false" data-asset="ETH""#));
    assert!(
        !html.contains("cdn") && !html.contains("https://"),
        "no external assets"
    );

    // The seed's page names, and deep links (a bad view falls back to the page's own).
    let (_, chain, _) = web.get_text("/chain", &[("asset", "eth")]);
    assert!(chain.contains(r#"<body data-view="chain">"#));
    assert!(chain.contains(
        r#"class="tab active" type="button" role="tab" aria-selected="true" data-asset="ETH""#
    ));
    let (_, filter, _) = web.get_text("/filter", &[("view", "bogus")]);
    assert!(filter.contains(r#"<body data-view="table">"#));
    let (_, linked, _) = web.get_text(
        "/",
        &[
            ("view", "charts"),
            ("expiry", "</script><b>"),
            ("asset", "BTC"),
        ],
    );
    assert!(linked.contains(r#"<body data-view="charts">"#));
    assert!(!linked.contains("</script><b>"), "boot JSON escaped");
    assert!(linked.contains(r#"\u003c/script\u003e\u003cb\u003e"#));

    // Every static file the page names is served, versioned and immutable.
    let version = html
        .split("/static/app.js?v=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("versioned app.js")
        .to_string();
    // uPlot's script is not linked: app.js fetches it, beside itself and with its own version
    // query, when a view first draws a chart.
    assert!(
        !html.contains("uPlot.iife.min.js"),
        "uPlot loaded by every page"
    );
    let (_, bundle, _) = web.get_text("/static/app.js", &[("v", &version)]);
    assert!(bundle.contains("uPlot.iife.min.js"), "app.js loads uPlot");
    for (file, ctype, linked) in [
        ("app.js", "text/javascript", true),
        ("app.css", "text/css", true),
        ("theme.js", "text/javascript", true),
        ("favicon.svg", "image/svg+xml", true),
        ("uPlot.iife.min.js", "text/javascript", false),
        ("uPlot.min.css", "text/css", true),
    ] {
        assert_eq!(
            html.contains(&format!("/static/{file}?v={version}")),
            linked,
            "{file} linked"
        );
        let (code, body, h) = web.get_text(&format!("/static/{file}"), &[("v", &version)]);
        assert_eq!(code, 200, "{file}");
        assert!(body.len() > 100, "{file}");
        assert!(
            h["content-type"].to_str().unwrap().starts_with(ctype),
            "{file}"
        );
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    }
    // Without the current version: revalidated by ETag.
    let (_, _, h) = web.get_text("/static/app.js", &[]);
    assert_eq!(h["cache-control"], "no-cache");
    let etag = h["etag"].to_str().unwrap().to_string();
    let r = reqwest::blocking::Client::new()
        .get(web.url("/static/app.js"))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    // HEAD answers like GET, without the body.
    for path in ["/", "/static/app.js", "/api/options/BTC"] {
        let r = reqwest::blocking::Client::new()
            .head(web.url(path))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "HEAD {path}");
        assert!(r.text().unwrap().is_empty(), "HEAD {path} has no body");
    }
    let (code, body) = web.get("/static/../Cargo.toml", &[]);
    assert_eq!(code, 404, "{body}");
    let (code, body) = web.get("/static/nope.js", &[]);
    assert_eq!(code, 404);
    assert_eq!(body["detail"], "No static file nope.js");
}

#[test]
fn changes_snapshot_then_stream_from_its_sequence() {
    let (_server, mut con, contracts, web) = setup();
    let eth = fixture::of(&contracts, "ETH");
    // The whole chain, gzipped for a client that accepts it.
    let (code, snap) = web.get("/api/changes/eth", &[("since", "0")]);
    assert_eq!(code, 200, "{snap}");
    assert_eq!(snap["reset"], true);
    assert_eq!(snap["data"].as_array().unwrap().len(), eth.len());
    let seq = snap["seq"].as_u64().unwrap();
    let r = reqwest::blocking::Client::new()
        .get(web.url("/api/changes/ETH"))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let (code, none) = web.get("/api/changes/ETH", &[("since", &seq.to_string())]);
    assert_eq!(code, 200);
    assert_eq!(none["data"], json!([]));
    assert_eq!(none["seq"].as_u64(), Some(seq));
    let (code, bad) = web.get("/api/changes/ETH", &[("since", "-1")]);
    assert_eq!((code, bad["parameter"].as_str()), (400, Some("since")));
    let (code, _) = web.get("/api/changes/NOPE", &[]);
    assert_eq!(code, 404);
    // A malformed cursor or asset list is refused, not streamed as something else.
    for query in [("since", "ETH:soon"), ("assets", "ETH,E TH")] {
        let (code, body) = web.get("/api/stream", &[("assets", "ETH"), query]);
        assert_eq!(
            (code, body["parameter"].as_str()),
            (400, Some(query.0)),
            "{body}"
        );
    }

    // The stream picks up after the snapshot: its first changes event is the next write, not
    // the chain again.
    let rx = web.sse_events(&format!("assets=ETH&since=ETH:{seq}"), None);
    std::thread::sleep(Duration::from_millis(300));
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[2].symbol)
        .arg("mark_price")
        .arg("77.25")
        .query(&mut con)
        .unwrap();
    let (_, ev) = next_change(&rx, Duration::from_secs(3));
    assert_eq!(ev["changes"]["reset"], false, "{ev}");
    let rows = ev["changes"]["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{ev}");
    assert_eq!(rows[0]["symbol"], eth[2].symbol.as_str());
    assert_eq!(rows[0]["mark_price"], 77.25);
}

/// The figures of an analytics reply that do not move with the clock (`now`, `t` and the
/// tenors, interpolated in `t`, do).
/// An analytics reply without what moves with the clock between two calls (`t` and what
/// scales with it: the variances and the index, the expected moves, the fits' `a` and `b`).
fn timeless(v: &Value) -> Value {
    let mut v = v.clone();
    let obj = v.as_object_mut().unwrap();
    obj.remove("now");
    obj.remove("tenors");
    obj.remove("vol_index");
    for e in obj["expiries"].as_array_mut().unwrap() {
        let e = e.as_object_mut().unwrap();
        for k in ["t", "variance", "expected_move", "svi", "svi_rmse"] {
            e.remove(k);
        }
    }
    v
}

#[test]
fn analytics_over_http_and_sse() {
    let (_server, mut con, contracts, web) = setup();
    let btc = fixture::of(&contracts, "BTC");
    let (e1, e2) = (btc[0].clone(), btc[btc.len() - 1]);
    let mut module = |args: &[&str]| -> Value {
        let mut c = redis::cmd("OPTIONS.ANALYTICS");
        c.arg("BTC");
        for a in args {
            c.arg(*a);
        }
        let text: String = c.arg("FORMAT").arg("JSON").query(&mut con).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (code, all) = web.get("/api/analytics/BTC", &[]);
    assert_eq!(code, 200, "{all}");
    assert_eq!(timeless(&all), timeless(&module(&[])));
    assert_eq!(
        all["tenors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["days"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [7, 30, 60, 90, 180]
    );
    // expiry repeated (in two spellings), settle, bystrike
    let (code, some) = web.get(
        "/api/analytics/btc",
        &[
            ("expiry", e1.expiry_padded.as_str()),
            ("expiry", e2.expiry_iso.as_str()),
            ("settle", "usdc"),
            ("bystrike", "true"),
        ],
    );
    assert_eq!(code, 200, "{some}");
    let want = module(&[
        "EXPIRY", &e1.expiry, &e2.expiry, "SETTLE", "USDC", "BYSTRIKE",
    ]);
    assert_eq!(timeless(&some), timeless(&want));
    assert_eq!(some["expiries"].as_array().unwrap().len(), 2);
    assert!(some["strikes"].as_array().is_some_and(|s| !s.is_empty()));

    for (query, param) in [
        (vec![("expiry", "31FEB26")], "expiry"),
        (vec![("settle", "EUR")], "settle"),
        (vec![("bystrike", "perhaps")], "bystrike"),
    ] {
        let (code, body) = web.get("/api/analytics/BTC", &query);
        assert_eq!(code, 400, "{query:?}: {body}");
        assert_eq!(body["parameter"], param);
    }
    let (code, body) = web.get("/api/analytics/NOPE", &[]);
    assert_eq!(code, 404, "{body}");
    let (code, body) = web.get("/api/analytics/B%20C", &[]);
    assert_eq!(code, 400, "{body}");
    let (_, spec) = web.get("/api/openapi.json", &[]);
    assert!(spec["paths"]["/api/analytics/{asset}"]["get"].is_object());
    assert!(spec["paths"]["/api/smile/{asset}"]["get"].is_object());

    // The volatility index and the rate.
    let (code, body) = web.get("/api/analytics/BTC", &[("rate", "0.05")]);
    assert_eq!(code, 200, "{body}");
    assert!(body["vol_index"].is_number(), "{}", body["vol_index"]);
    let (code, body) = web.get("/api/analytics/BTC", &[("rate", "2")]);
    assert_eq!(
        (code, body["parameter"].as_str()),
        (400, Some("rate")),
        "{body}"
    );

    // One expiry's fit, as the module answers it (t and what scales with it aside).
    let fitted = all["expiries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["svi"].is_object())
        .expect("the fixture has a fitted expiry");
    let code_text = fitted["expiry"].as_str().unwrap();
    let (code, smile) = web.get("/api/smile/BTC", &[("expiry", code_text)]);
    assert_eq!(code, 200, "{smile}");
    let direct: String = redis::cmd("OPTIONS.SMILE")
        .arg("BTC")
        .arg(code_text)
        .arg("FORMAT")
        .arg("JSON")
        .query(&mut con)
        .unwrap();
    let direct: Value = serde_json::from_str(&direct).unwrap();
    for k in [
        "underlying",
        "expiry",
        "forward",
        "butterfly_arb",
        "calendar_arb",
    ] {
        assert_eq!(smile[k], direct[k], "{k}");
    }
    for k in ["rho", "m", "sigma"] {
        assert_eq!(smile["svi"][k], direct["svi"][k], "svi {k}");
    }
    let strikes = |v: &Value| -> Vec<(Value, Value, Value)> {
        v["strikes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["strike"].clone(), s["k"].clone(), s["iv"].clone()))
            .collect()
    };
    assert_eq!(strikes(&smile), strikes(&direct));
    for (query, code_want, param) in [
        (vec![], 400, Some("expiry")),
        (vec![("expiry", "soon")], 400, Some("expiry")),
        (
            vec![("expiry", code_text), ("rate", "x")],
            400,
            Some("rate"),
        ),
        (
            vec![("expiry", code_text), ("settle", "EUR")],
            400,
            Some("settle"),
        ),
        (vec![("expiry", "1JAN30")], 404, None),
    ] {
        let (code, body) = web.get("/api/smile/BTC", &query);
        assert_eq!(code, code_want, "{query:?}: {body}");
        assert_eq!(body["parameter"].as_str(), param, "{query:?}: {body}");
    }
    let (code, body) = web.get("/api/smile/NOPE", &[("expiry", code_text)]);
    assert_eq!(code, 404, "{body}");

    // SSE: an analytics event per subscribed asset, again after its chain changes.
    let rx = web.sse_events("assets=ETH", None);
    let next_analytics = |limit: Duration| -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (event, _, data) = rx.recv_timeout(left).expect("an analytics event in time");
            if event == "analytics" {
                return serde_json::from_str(&data).unwrap();
            }
        }
    };
    let first = next_analytics(Duration::from_secs(5));
    assert_eq!(first["asset"], "ETH");
    assert_eq!(first["analytics"]["underlying"], "ETH");
    let eth = fixture::of(&contracts, "ETH");
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[0].symbol)
        .arg("open_interest")
        .arg("123456")
        .query(&mut con)
        .unwrap();
    let second = next_analytics(Duration::from_secs(5));
    assert_ne!(
        second["analytics"]["totals"]["oi_calls"], first["analytics"]["totals"]["oi_calls"],
        "the change shows in the next analytics event"
    );
}

#[test]
fn history_over_http_as_json_and_csv() {
    let (_server, mut con, contracts, web) = setup();
    // Two samples: the fixture's writes took the first; a write a minute later takes another.
    let eth = fixture::of(&contracts, "ETH");
    let later = eth.iter().map(|c| c.updated_ms).max().unwrap() + 120_000;
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[0].symbol)
        .arg("mark_iv")
        .arg("0.61")
        .arg("updated_ms")
        .arg(later)
        .query(&mut con)
        .unwrap();
    let module: String = redis::cmd("OPTIONS.HISTORY")
        .arg("ETH")
        .arg("TENOR")
        .arg("30")
        .arg("METRIC")
        .arg("atm_iv")
        .arg("rr25")
        .arg("FORMAT")
        .arg("JSON")
        .query(&mut con)
        .unwrap();
    let module: Value = serde_json::from_str(&module).unwrap();
    let (code, body) = web.get(
        "/api/history/eth",
        &[("metric", "atm_iv"), ("metric", "rr25"), ("tenor", "30")],
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, module);
    let points = body["points"].as_array().unwrap();
    assert!(points.len() >= 2, "{body}");
    assert_eq!(points.last().unwrap()[0], later);

    let (code, csv, headers) = web.get_text(
        "/api/history/ETH",
        &[("metric", "index,gex"), ("format", "csv")],
    );
    assert_eq!(code, 200, "{csv}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "ts,index,gex");
    assert_eq!(lines.len(), points.len() + 1);
    assert!(
        lines.last().unwrap().starts_with(&format!("{later},")),
        "{csv}"
    );

    let from = later.to_string();
    let (_, one) = web.get("/api/history/ETH", &[("metric", "index"), ("from", &from)]);
    assert_eq!(one["points"].as_array().unwrap().len(), 1);

    for (query, param) in [
        (vec![("tenor", "30")], "metric"),
        (vec![("metric", "nope")], "metric"),
        (vec![("metric", "atm_iv")], "metric"),
        (vec![("metric", "atm_iv"), ("tenor", "45")], "tenor"),
        (vec![("metric", "index"), ("from", "x")], "from"),
        (vec![("metric", "index"), ("format", "xml")], "format"),
    ] {
        let (code, body) = web.get("/api/history/ETH", &query);
        assert_eq!(code, 400, "{query:?}: {body}");
        assert_eq!(body["parameter"], param, "{query:?}: {body}");
    }
    let (code, _) = web.get("/api/history/NOPE", &[("metric", "index")]);
    assert_eq!(code, 404);
    let (_, spec) = web.get("/api/openapi.json", &[]);
    assert!(spec["paths"]["/api/history/{asset}"]["get"].is_object());
}

#[test]
fn status_and_instruments_tell_a_dashboard_why_and_how_precise() {
    let (server, mut con, contracts, web) = setup();
    // No feeder: no heartbeat, said as null; each asset's contracts and last write.
    let (code, st) = web.get("/api/status", &[("assets", "BTC,XRP")]);
    assert_eq!(code, 200, "{st}");
    assert!(st["feeder"].is_null(), "{st}");
    let btc = fixture::of(&contracts, "BTC");
    assert_eq!(st["assets"]["BTC"]["contracts"], btc.len());
    assert_eq!(
        st["assets"]["BTC"]["last_update_ms"].as_i64(),
        btc.iter().map(|c| c.updated_ms).max()
    );
    assert!(st["server_ms"].as_i64().unwrap() > 0);
    // A feeder's heartbeat is passed on as it wrote it.
    let beat = json!({"ts": 1, "started_ms": 0, "last_message_ms": 1, "ws_wanted": 2, "ws_open": 1,
                      "redis_up": 1, "contracts": 5, "telegram": true});
    let _: () = redis::cmd("SET")
        .arg("feeder:status")
        .arg(beat.to_string())
        .query(&mut con)
        .unwrap();
    let (_, st) = web.get("/api/status", &[("assets", "BTC")]);
    assert_eq!(st["feeder"], beat);
    let (code, _) = web.get("/api/status", &[("assets", "B_C")]);
    assert_eq!(code, 400);
    drop(server);

    // Tick sizes come from the exchange's listing, per settle coin.
    let sim = Sim::start(&["--assets", "BTC,XRP", "--strikes", "2"]);
    let redis = RedisServer::start(&[]);
    let web = Web::start(&redis.url(), &["--bybit-rest-url", &sim.rest_url()]);
    let (code, i) = web.get("/api/instruments/XRP", &[]);
    assert_eq!(code, 200, "{i}");
    let listed: Vec<Value> = sim
        .get(
            "/v5/market/instruments-info",
            &[
                ("category", "option"),
                ("baseCoin", "XRP"),
                ("settleCoin", "USDT"),
            ],
        )
        .json::<Value>()
        .unwrap()["result"]["list"]
        .as_array()
        .unwrap()
        .clone();
    let tick: f64 = listed[0]["priceFilter"]["tickSize"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(i["price_tick"]["USDT"].as_f64(), Some(tick));
    let (_, b) = web.get("/api/instruments/btc", &[]);
    assert_eq!(b["asset"], "BTC");
    assert!(b["price_tick"]["USDC"].as_f64().unwrap() > 0.0);
    let (code, _) = web.get("/api/instruments/DOGE", &[]);
    assert_eq!(code, 404, "Bybit lists no DOGE options");
}
