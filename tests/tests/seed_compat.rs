//! What a client of the replaced system still relies on (issue 17): each item is asserted
//! against the old system's shape, computed here from the fixture as the seed's code would
//! have answered (SEED-API.md), on both ports: the web app's (5001) and the data API's own
//! (`--data-api-port`, the seed's 8000).

use options_tests::fixture::{self, FixtureContract};
use options_tests::procs::Web;
use options_tests::RedisServer;
use serde_json::{json, Value};

/// The fixture chain; `config:assets` lists BTC, ETH and SOL only, so XRP is an underlying with
/// data that the configuration does not name.
fn setup() -> (RedisServer, redis::Connection, Vec<FixtureContract>, Web) {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(17);
    fixture::ingest(&mut con, &contracts);
    let web = Web::start(&server.url(), &["--assets", "BTC,ETH,SOL"]);
    (server, con, contracts, web)
}

fn symbols_of(rows: &Value) -> Vec<String> {
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .map(|r| r["symbol"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn item1_offset_without_limit_is_the_bare_array_of_every_row() {
    let (_server, _con, contracts, web) = setup();
    let mut want: Vec<String> = fixture::of(&contracts, "BTC")
        .iter()
        .map(|c| c.symbol.clone())
        .collect();
    want.sort();
    for query in [vec![("offset", "5")], vec![("limit", "0"), ("offset", "5")]] {
        let (code, rows) = web.get("/api/options/BTC", &query);
        assert_eq!(code, 200);
        assert!(
            rows.is_array(),
            "{query:?}: the seed wraps only with a limit"
        );
        assert_eq!(symbols_of(&rows), want, "{query:?}: offset is ignored");
    }
    let (_, page) = web.get("/api/options/BTC", &[("limit", "4"), ("offset", "5")]);
    assert_eq!(page["total"], want.len());
    assert_eq!(page["data"].as_array().unwrap().len(), 4);
}

#[test]
fn item2_the_data_api_port_answers_with_the_data_apis_shapes() {
    let (_server, _con, contracts, web) = setup();

    // GET /: the data API's JSON, not the dashboard.
    let (code, root) = web.data_api_get("/", &[]);
    assert_eq!(code, 200);
    assert_eq!(root["service"], "Bybit Options Data API");

    // /api/expiries/{asset}: the symbols' own codes, in string order, wrapped.
    let eth = fixture::of(&contracts, "ETH");
    let mut codes: Vec<String> = eth.iter().map(|c| c.expiry.clone()).collect();
    codes.sort();
    codes.dedup();
    let (code, e) = web.data_api_get("/api/expiries/ETH", &[]);
    assert_eq!(code, 200);
    assert_eq!(
        e,
        json!({"asset": "ETH", "count": codes.len(), "expiries": codes})
    );
    // ... while the web app's port keeps the web app's bare array of padded codes by date.
    let (_, web_app) = web.get("/api/expiries/ETH", &[]);
    assert!(web_app.is_array());

    // /api/strikes/{asset}?expiry: floats ascending, wrapped, the expiry echoed.
    let btc = fixture::of(&contracts, "BTC");
    let e0 = &btc[0].expiry;
    let mut strikes: Vec<f64> = btc
        .iter()
        .filter(|c| &c.expiry == e0)
        .map(|c| c.strike)
        .collect();
    strikes.sort_by(f64::total_cmp);
    strikes.dedup();
    let (_, s) = web.data_api_get("/api/strikes/BTC", &[("expiry", e0)]);
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["asset", "expiry", "count", "strikes"]);
    assert_eq!(s["expiry"], e0.as_str());
    assert_eq!(s["count"], strikes.len());
    let got: Vec<f64> = s["strikes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(got, strikes);
    assert!(s["strikes"][0].is_f64(), "floats, as Python wrote them");
    let (_, web_app) = web.get("/api/strikes/BTC", &[("expiry", e0)]);
    assert!(web_app[0].is_string(), "the web app's strikes stay strings");

    // /api/stats: exactly the data API's fields.
    let (_, st) = web.data_api_get("/api/stats", &[]);
    let keys: Vec<&str> = st.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "total_options",
            "total_keys",
            "btc_options",
            "eth_options",
            "sol_options",
            "messages_processed",
            "last_update"
        ]
    );
    assert_eq!(st["total_options"], contracts.len());

    // /api/options/{x}: a symbol is an option object; an asset is the data API's 404.
    let c = &eth[3];
    let (code, o) = web.data_api_get(&format!("/api/options/{}", c.symbol), &[]);
    assert_eq!((code, o["symbol"].as_str()), (200, Some(c.symbol.as_str())));
    let (code, o) = web.data_api_get("/api/options/ETH", &[]);
    assert_eq!(
        (code, o["detail"].as_str()),
        (404, Some("Option ETH not found"))
    );

    // The routes both ports serve answer the same on each.
    for path in ["/api/symbols", "/api/greeks/ETH", "/health"] {
        let (a, mut x) = web.get(path, &[]);
        let (b, mut y) = web.data_api_get(path, &[]);
        for v in [&mut x, &mut y] {
            if let Some(m) = v.as_object_mut() {
                m.remove("timestamp");
            }
        }
        assert_eq!((a, x), (b, y), "{path}");
    }
}

#[test]
fn item3_a_value_never_received_keeps_its_key_as_0_0() {
    let (_server, mut con, contracts, web) = setup();
    // A contract whose ticker carried only a mark price and an underlying price (Bybit sends
    // "" for the others, and the feeder writes nothing for them).
    let xrp = fixture::of(&contracts, "XRP");
    let base = xrp[0];
    let symbol = base.symbol.replace(&base.strike_text, "9");
    redis::cmd("OPTIONS.INGEST")
        .arg("XRP")
        .arg(&symbol)
        .arg("mark_price")
        .arg("0.5")
        .arg("underlying_price")
        .arg(base.value("underlying_price"))
        .query::<()>(&mut con)
        .unwrap();
    let every_key = fixture::SEED_OBJECT_KEYS;
    let check = |o: &Value, route: &str| {
        let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys[..every_key.len()], every_key, "{route}");
        assert_eq!(o["last_price"], json!(0.0), "{route}");
        assert!(o["last_price"].is_f64(), "{route}");
        assert_eq!(o["mark_price"], json!(0.5), "{route}");
    };
    let (_, o) = web.data_api_get(&format!("/api/options/{symbol}"), &[]);
    check(&o, "/api/options/{symbol}");
    let find = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["symbol"] == symbol.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{symbol} missing"))
    };
    let (_, a) = web.data_api_get("/api/assets/XRP", &[]);
    check(&find(&a["data"]), "/api/assets/XRP");
    let (_, atm) = web.data_api_get("/api/atm/XRP", &[("num_strikes", "1000")]);
    check(&find(&atm["data"]), "/api/atm/XRP");
    let (_, x, _) = web.get_text("/api/export/json", &[("asset", "XRP")]);
    check(
        &find(&serde_json::from_str(&x).unwrap()),
        "/api/export/json",
    );
}

#[test]
fn item4_query_echoes_float_filters_as_floats() {
    let (_server, _con, _contracts, web) = setup();
    let (code, q) = web.send(
        reqwest::Method::POST,
        "/api/query?asset=BTC&min_strike=90000&max_strike=100000.5&min_volume=1&option_type=CALL&limit=3",
        None,
        None,
    );
    assert_eq!(code, 200);
    let f = &q["filters"];
    assert_eq!(
        *f,
        json!({"asset": "BTC", "expiry": null, "min_strike": 90000.0, "max_strike": 100000.5,
               "option_type": "CALL", "min_volume": 1.0, "min_iv": null})
    );
    for k in ["min_strike", "min_volume"] {
        assert!(f[k].is_f64(), "{k} is a float ({})", f[k]);
    }
    let text = f.to_string();
    assert!(text.contains("\"min_strike\":90000.0"), "{text}");
    assert_eq!(q["limit"], 3);
}

#[test]
fn item5_all_means_every_underlying_with_data() {
    let (_server, _con, contracts, web) = setup();
    let mut all: Vec<String> = contracts.iter().map(|c| c.symbol.clone()).collect();
    all.sort();
    let (_, s) = web.get("/api/symbols", &[]);
    assert_eq!(s["asset"], "all");
    let mut got: Vec<String> = s["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, all, "XRP (data, not configured) is listed");

    let (_, hi) = web.get("/api/high-iv", &[("min_iv", "0")]);
    assert_eq!(hi["count"], contracts.len());
    let (_, sum) = web.get("/api/summary", &[]);
    assert_eq!(sum["total_options"], contracts.len());
    assert_eq!(sum["assets"]["XRP"], fixture::of(&contracts, "XRP").len());
    let (_, csv, _) = web.get_text("/api/export/csv", &[]);
    assert_eq!(csv.lines().count() - 1, contracts.len());
    let (_, q) = web.send(reqwest::Method::POST, "/api/query?limit=0", None, None);
    assert_eq!(q["count"], contracts.len());
}

#[test]
fn item7_a_form_body_is_a_400_naming_the_body() {
    let (_server, _con, _contracts, web) = setup();
    let r = reqwest::blocking::Client::new()
        .post(web.url("/api/assets/test"))
        .form(&[("symbol", "BTC")])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["parameter"], "body", "{body}");
}

#[test]
fn atm_spot_is_the_nearest_forward_so_one_stale_contract_cannot_move_it() {
    let (_server, mut con, contracts, web) = setup();
    let (_, before) = web.data_api_get("/api/atm/BTC", &[("num_strikes", "3")]);
    // One far contract of the nearest expiry reports a wild underlying price.
    let btc = fixture::of(&contracts, "BTC");
    let stale = btc
        .iter()
        .find(|c| c.expiry_days == btc[0].expiry_days)
        .unwrap();
    redis::cmd("OPTIONS.INGEST")
        .arg("BTC")
        .arg(&stale.symbol)
        .arg("underlying_price")
        .arg(150_000.0)
        .query::<()>(&mut con)
        .unwrap();
    let (_, after) = web.data_api_get("/api/atm/BTC", &[("num_strikes", "3")]);
    let distances = |v: &Value| -> Vec<f64> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["distance_from_spot"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(distances(&before), distances(&after));
}
