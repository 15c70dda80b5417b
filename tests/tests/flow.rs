//! Option flow end to end: the sim trades on Bybit's `publicTrade.<BASE>` and Deribit's
//! `trades.option.<CURRENCY>.100ms`, the feeder writes every trade with `OPTIONS.TRADE`, and the
//! tapes `{BTC}:trades` and `{deribit:BTC}:trades` hold each venue's trades in the model's units
//! (Deribit's coin prices × index price, contracts × contract size, percent IVs / 100).

use std::collections::BTreeMap;
use std::time::Duration;

use options_tests::procs::{wait_for, Feeder, Sim};
use options_tests::{json, RedisServer};

const WAIT: Duration = Duration::from_secs(20);

/// Every entry of a tape: its fields by name.
fn tape(con: &mut redis::Connection, key: &str) -> Vec<BTreeMap<String, String>> {
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{{{key}}}:trades"))
        .arg("-")
        .arg("+")
        .query(con)
        .unwrap();
    entries
        .into_iter()
        .map(|(_, fields)| fields.into_iter().collect())
        .collect()
}

#[test]
fn every_trade_of_both_venues_reaches_its_tape() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = Sim::start(&[
        "--assets",
        "BTC,XRP",
        "--strikes",
        "3",
        "--updates-per-sec",
        "2000",
        "--seed",
        "17",
    ]);
    let mut feeder = Feeder::start_venues(&sim, &redis.url(), "BTC,XRP", "bybit,deribit", &[]);
    feeder.wait_ready(WAIT);
    // A few hundred trades on each tape.
    wait_for(WAIT, "trades on both tapes", || {
        (tape(&mut con, "BTC").len() > 100 && tape(&mut con, "deribit:BTC").len() > 50)
            .then_some(())
    });
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_millis(500));
    let received = feeder.metric("feeder_trades_received_total");
    let written = feeder.metric("feeder_trades_written_total");
    assert_eq!(received, written, "every trade received is written");
    let bybit = tape(&mut con, "BTC");
    let deribit = tape(&mut con, "deribit:BTC");
    let xrp = tape(&mut con, "deribit:XRP");
    assert_eq!(
        (bybit.len() + deribit.len() + xrp.len() + tape(&mut con, "XRP").len()) as f64,
        written,
        "one entry per trade, none twice"
    );
    // Bybit: its symbols, USD prices, a taker side, blocks tagged.
    for e in &bybit {
        assert!(
            e["symbol"].starts_with("BTC-") && !e["symbol"].contains('_'),
            "{e:?}"
        );
        assert!(e["side"] == "buy" || e["side"] == "sell");
        assert!(e["price"].parse::<f64>().unwrap() >= 0.0);
        assert!(e["size"].parse::<f64>().unwrap() > 0.0);
        assert!(e.contains_key("index") && e.contains_key("iv"), "{e:?}");
    }
    assert!(
        bybit.iter().any(|e| e["block"] == "1"),
        "blocks come through"
    );
    // Deribit: the same market's trade, its own id, the price in USD again (coin × index),
    // 1.5 vol points above Bybit's IV as the sim quotes it.
    let by_time: BTreeMap<(&str, &str), &BTreeMap<String, String>> = bybit
        .iter()
        .map(|e| ((e["symbol"].as_str(), e["ts"].as_str()), e))
        .collect();
    let mut matched = 0;
    for d in &deribit {
        assert!(d["id"].starts_with("DRB-"), "{d:?}");
        if let Some(b) = by_time.get(&(d["symbol"].as_str(), d["ts"].as_str())) {
            matched += 1;
            let (bs, ds): (f64, f64) = (b["size"].parse().unwrap(), d["size"].parse().unwrap());
            assert!((bs - ds).abs() < 1e-9, "sizes in coins: {b:?} {d:?}");
            let (bi, di): (f64, f64) = (b["iv"].parse().unwrap(), d["iv"].parse().unwrap());
            assert!(
                (di - bi - 0.015).abs() < 2e-4,
                "IV fractions 1.5 points apart: {bi} {di}"
            );
            let dp: f64 = d["price"].parse().unwrap();
            assert!(
                dp > 0.0 && dp > b["price"].parse::<f64>().unwrap() * 0.5,
                "USD: {b:?} {d:?}"
            );
        }
    }
    assert!(
        matched > 10,
        "Deribit's trades are the market's trades ({matched})"
    );
    // XRP on Deribit is linear: sizes back in coins (the sim sends contracts of 1,000), the
    // same as the market's trade on Bybit at the same moment.
    let bybit_xrp = tape(&mut con, "XRP");
    // Joined on time, expiry, strike and type (the names differ: XRP-7DEC26-2.2-P-USDT on Bybit,
    // XRP_USDC-7DEC26-2d2-P on Deribit).
    let xrp_sizes: BTreeMap<(String, String), f64> = bybit_xrp
        .iter()
        .map(|e| {
            let contract = e["symbol"].trim_end_matches("-USDT").to_string();
            ((e["ts"].clone(), contract), e["size"].parse().unwrap())
        })
        .collect();
    let mut xrp_matched = 0;
    for x in &xrp {
        assert!(x["symbol"].starts_with("XRP_USDC-"), "{x:?}");
        let contract = x["symbol"].replace("_USDC", "").replace('d', ".");
        if let Some(size) = xrp_sizes.get(&(x["ts"].clone(), contract)) {
            xrp_matched += 1;
            let got: f64 = x["size"].parse().unwrap();
            assert!((got - size).abs() < 1e-9 * size.max(1.0), "{x:?} vs {size}");
        }
    }
    assert!(xrp.is_empty() || xrp_matched > 0);
    // The flow over the tape matches a sum over its entries.
    let flow = json(&mut con, &["OPTIONS.FLOW", "BTC", "FORMAT", "JSON"]);
    let net: f64 = bybit
        .iter()
        .map(|e| {
            let p = e["size"].parse::<f64>().unwrap() * e["price"].parse::<f64>().unwrap();
            if e["side"] == "buy" {
                p
            } else {
                -p
            }
        })
        .sum();
    assert_eq!(flow["trades"].as_u64(), Some(bybit.len() as u64));
    let got = flow["net_premium"].as_f64().unwrap();
    assert!(
        (got - net).abs() <= 1e-6 * net.abs().max(1.0),
        "{got} vs {net}"
    );

    // Over HTTP: the module's figures, each venue's, and the tape page by page.
    let web = options_tests::procs::Web::start(&redis.url(), &["--assets", "BTC,XRP"]);
    let (code, over_http) = web.get("/api/flow/BTC", &[("to", &flow["to"].to_string())]);
    assert_eq!(code, 200, "{over_http}");
    assert_eq!(over_http["trades"], flow["trades"]);
    assert_eq!(over_http["net_premium"], flow["net_premium"]);
    let (code, d) = web.get(
        "/api/flow/BTC",
        &[("venue", "deribit"), ("bystrike", "true"), ("bucket", "60")],
    );
    assert_eq!(code, 200);
    assert_eq!(d["underlying"], "deribit:BTC");
    assert_eq!(d["trades"].as_u64(), Some(deribit.len() as u64));
    assert!(d["strikes"].is_array() && d["buckets"].is_array());
    let (code, newest) = web.get("/api/trades/BTC", &[("limit", "5")]);
    assert_eq!(code, 200);
    let page: Vec<&serde_json::Value> = newest["trades"].as_array().unwrap().iter().collect();
    assert_eq!(page.len(), 5);
    let last = &bybit[bybit.len() - 1];
    assert_eq!(page[4]["trade_id"], last["id"].as_str());
    assert_eq!(page[4]["block"], last["block"] == "1");
    // Paging from the start: every trade once, in order.
    let mut seen = Vec::new();
    let mut since = "0".to_string();
    loop {
        let (code, p) = web.get("/api/trades/BTC", &[("since", &since), ("limit", "100")]);
        assert_eq!(code, 200, "{p}");
        let list = p["trades"].as_array().unwrap();
        if list.is_empty() {
            break;
        }
        seen.extend(
            list.iter()
                .map(|t| t["trade_id"].as_str().unwrap().to_string()),
        );
        since = p["next"].as_str().unwrap().to_string();
    }
    let ids: Vec<String> = bybit.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(seen, ids);
    // Every second since 1970: the series spans the trades, not the window.
    let (code, fine) = web.get("/api/flow/BTC", &[("from", "0"), ("bucket", "1")]);
    assert_eq!(code, 200, "{fine}");
    let series = fine["buckets"].as_array().unwrap();
    let first = series[0][0].as_i64().unwrap();
    let last = series[series.len() - 1][0].as_i64().unwrap();
    assert_eq!((last - first) / 1000 + 1, series.len() as i64);
    assert!(
        first > 0 && series.len() < 100_000,
        "{} buckets",
        series.len()
    );
    for (path, query, param) in [
        ("/api/flow/BTC", vec![("bucket", "0")], "bucket"),
        ("/api/flow/BTC", vec![("from", "9"), ("to", "1")], "from"),
        ("/api/flow/BTC", vec![("expiry", "31FEB26")], "expiry"),
        ("/api/trades/BTC", vec![("limit", "0")], "limit"),
        ("/api/trades/BTC", vec![("since", "abc")], "since"),
        ("/api/trades/BTC", vec![("venue", "okx")], "venue"),
    ] {
        let (code, e) = web.get(path, &query);
        assert_eq!(code, 400, "{path} {query:?}: {e}");
        assert_eq!(e["parameter"], param, "{e}");
    }
    // Trades on the stream as they happen, per venue.
    let bybit_events = web.sse_events("assets=BTC", None);
    let deribit_events = web.sse_events("assets=BTC&venue=deribit", None);
    std::thread::sleep(Duration::from_millis(500));
    sim.control("resume", &[]);
    for (events, key) in [(&bybit_events, "BTC"), (&deribit_events, "deribit:BTC")] {
        let msg = wait_for(WAIT, "a trades event", || {
            let (event, _, data) = events.recv_timeout(Duration::from_secs(5)).ok()?;
            (event == "trades").then(|| serde_json::from_str::<serde_json::Value>(&data).unwrap())
        });
        assert_eq!(msg["asset"], key);
        let first = &msg["trades"][0];
        assert!(
            first["trade_id"].is_string() && first["price"].is_number(),
            "{msg}"
        );
        // Only what happened after the client came: newer than everything paged above.
        let ts = first["ts"].as_i64().unwrap();
        let newest: i64 = if key == "BTC" { &bybit } else { &deribit }
            .iter()
            .map(|e| e["ts"].parse::<i64>().unwrap())
            .max()
            .unwrap();
        assert!(ts >= newest, "{ts} vs {newest}");
    }
}
