//! `OPTIONS.ANALYTICS` against a real redis-server, on the fixture chain with holes in it
//! (contracts without delta, IV, OI, gamma, index or underlying price, and forwards that differ
//! by contract). Every figure is recomputed from ANALYTICS.md's definitions with plain loops
//! over the fixture (`options_tests::analytics_model`), never with the module's code.

use options_core::Expiry;
use options_tests::analytics_model::{
    expected, fits_of, smile_points, svi_best_sse, with_volatility, Row,
};
use options_tests::fixture::{self, FixtureContract};
use options_tests::{error, json, value, RedisServer};
use serde_json::Value;

/// A fixture contract as stored: the fields that were sent.
struct Stored<'a> {
    c: &'a FixtureContract,
    row: Row,
}

/// The rows of stored contracts, for the model.
fn rows<'a>(stored: &[&'a Stored]) -> Vec<&'a Row> {
    stored.iter().map(|s| &s.row).collect()
}

/// Which fields contract `i` lacks, and its own underlying price (forwards differ).
fn with_holes(i: usize, c: &FixtureContract) -> Vec<(&'static str, f64)> {
    let skip = |name: &str| match name {
        "delta" => i.is_multiple_of(7),
        "mark_iv" => i.is_multiple_of(11),
        "open_interest" => i.is_multiple_of(13),
        "underlying_price" => i.is_multiple_of(5),
        "gamma" => i.is_multiple_of(17),
        "index_price" => !i.is_multiple_of(3),
        _ => false,
    };
    options_core::FIELDS
        .iter()
        .filter(|f| !skip(f.name()))
        .map(|f| {
            let v = match f.name() {
                "underlying_price" => {
                    c.value("underlying_price") * (1.0 + 0.0007 * ((i % 9) as f64 - 4.0))
                }
                "index_price" => c.value("index_price") + (i % 4) as f64,
                _ => c.value(f.name()),
            };
            (f.name(), v)
        })
        .collect()
}

fn load(
    con: &mut redis::Connection,
    contracts: &[FixtureContract],
) -> Vec<(usize, Vec<(&'static str, f64)>)> {
    let mut stored = Vec::new();
    let mut pipe = redis::pipe();
    for (i, c) in contracts.iter().enumerate() {
        let fields = with_holes(i, c);
        let mut cmd = redis::cmd("OPTIONS.INGEST");
        cmd.arg(&c.underlying).arg(&c.symbol);
        for (n, v) in &fields {
            cmd.arg(*n).arg(format!("{v:?}"));
        }
        cmd.arg("updated_ms").arg(c.updated_ms);
        pipe.add_command(cmd).ignore();
        stored.push((i, fields));
    }
    pipe.query::<()>(con).expect("ingest");
    stored
}

/// Equal in shape; numbers within a relative 1e-9 (absolute 1e-12 near zero).
fn assert_close(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!(
                (g - w).abs() <= 1e-12_f64.max(1e-9 * w.abs()),
                "{path}: got {g}, want {w}"
            );
        }
        (Value::Object(g), Value::Object(w)) => {
            let gk: Vec<&String> = g.keys().collect();
            let wk: Vec<&String> = w.keys().collect();
            assert_eq!(gk, wk, "{path}: fields");
            for (k, v) in w {
                assert_close(&g[k], v, &format!("{path}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{path}: length");
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                assert_close(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

fn analytics(con: &mut redis::Connection, extra: &[&str]) -> Value {
    let mut args = vec!["OPTIONS.ANALYTICS", "BTC"];
    args.extend_from_slice(extra);
    args.extend(["FORMAT", "JSON"]);
    json(con, &args)
}

#[test]
fn analytics_match_the_definitions_on_a_chain_with_holes() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(5);
    let fields = load(&mut con, &contracts);
    let stored: Vec<Stored> = fields
        .into_iter()
        .map(|(i, fields)| {
            let c = &contracts[i];
            Stored {
                c,
                row: c.model_row(fields.iter().map(|(n, v)| (n.to_string(), *v))),
            }
        })
        .collect();
    let btc: Vec<&Stored> = stored.iter().filter(|s| s.c.underlying == "BTC").collect();
    let now = fixture::now_ms();
    let now_s = now.to_string();

    // Everything, by strike.
    let got = analytics(&mut con, &["NOW", &now_s, "BYSTRIKE"]);
    let all_fits = fits_of(&got);
    let want = with_volatility(
        expected(&rows(&btc), now, true),
        &rows(&btc),
        now,
        0.0,
        &all_fits,
    );
    assert!(want["expiries"].as_array().unwrap().len() >= 8);
    assert!(
        want["expiries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["atm_iv"].is_number())
            && want["tenors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["atm_iv"].is_number())
            && want["tenors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["atm_iv"].is_null()),
        "the fixture exercises present and missing figures: {want}"
    );
    assert_close(&got, &want, "all");

    // One settle coin and two expiries (spelled two ways), without strikes.
    let e: Vec<&String> = {
        let mut v: Vec<&String> = btc.iter().map(|s| &s.c.expiry).collect();
        v.dedup();
        v
    };
    let usdt: Vec<&Stored> = btc.iter().copied().filter(|s| s.c.usdt).collect();
    assert!(!usdt.is_empty());
    let second_iso = btc
        .iter()
        .find(|s| &s.c.expiry == e[1])
        .unwrap()
        .c
        .expiry_iso
        .clone();
    let got = analytics(
        &mut con,
        &[
            "SETTLE",
            "USDT",
            "EXPIRY",
            e[0],
            &second_iso,
            "NOW",
            &now_s,
            "RATE",
            "0.05",
        ],
    );
    let usdt_fits = fits_of(&analytics(&mut con, &["SETTLE", "USDT", "NOW", &now_s]));
    let picked: Vec<&Stored> = usdt
        .iter()
        .copied()
        .filter(|s| &s.c.expiry == e[0] || &s.c.expiry == e[1])
        .collect();
    assert_close(
        &got,
        &with_volatility(
            expected(&rows(&picked), now, false),
            &rows(&usdt),
            now,
            0.05,
            &usdt_fits,
        ),
        "USDT, two expiries",
    );
    assert!(got.get("strikes").is_none(), "strikes only with BYSTRIKE");

    // After the first expiry's delivery, it no longer counts.
    let first = btc[0].c.expiry_ts();
    let later = first + 1;
    let live: Vec<&Stored> = btc
        .iter()
        .copied()
        .filter(|s| s.c.expiry_ts() > later)
        .collect();
    let got = analytics(&mut con, &["NOW", &later.to_string()]);
    let live_fits = fits_of(&got);
    assert_close(
        &got,
        &with_volatility(
            expected(&rows(&live), later, false),
            &rows(&live),
            later,
            0.0,
            &live_fits,
        ),
        "after the first expiry",
    );

    // An expiry filter naming no live expiry: empty expiries, null figures.
    let got = analytics(&mut con, &["EXPIRY", "1JAN99", "NOW", &now_s]);
    assert_eq!(got["expiries"], serde_json::json!([]));
    assert!(got["index"].is_null() && got["totals"]["pcr_oi"].is_null());
}

/// Each expiry's fit is the least-squares minimum of its smile: no worse than a generic search
/// written in the test (`svi_best_sse`) finds, by more than 0.1 %.
#[test]
fn every_fit_is_the_least_squares_minimum_of_its_smile() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(5);
    let fields = load(&mut con, &contracts);
    let btc: Vec<Row> = fields
        .into_iter()
        .filter(|(i, _)| contracts[*i].underlying == "BTC")
        .map(|(i, fields)| {
            let c = &contracts[i];
            c.model_row(fields.iter().map(|(n, v)| (n.to_string(), *v)))
        })
        .collect();
    let now = fixture::now_ms().to_string();
    let got = analytics(&mut con, &["NOW", &now]);
    let mut fitted = 0;
    for e in got["expiries"].as_array().unwrap() {
        let svi = &e["svi"];
        if svi.is_null() {
            continue;
        }
        fitted += 1;
        let t = e["t"].as_f64().unwrap();
        let ts = e["expiry_ts"].as_i64().unwrap();
        let rows: Vec<&Row> = btc.iter().filter(|r| r.expiry_ts == ts).collect();
        let points: Vec<(f64, f64)> = smile_points(&rows, e["forward"].as_f64().unwrap())
            .into_iter()
            .map(|(k, iv)| (k, iv * iv * t))
            .collect();
        let p = |n: &str| svi[n].as_f64().unwrap();
        let module_sse: f64 = points
            .iter()
            .map(|&(k, w)| {
                let x = k - p("m");
                (p("a") + p("b") * (p("rho") * x + (x * x + p("sigma").powi(2)).sqrt()) - w).powi(2)
            })
            .sum();
        let generic = svi_best_sse(&points);
        assert!(
            module_sse <= generic * 1.001 + 1e-15,
            "{}: module {module_sse:e}, generic search {generic:e}; svi {svi}; points {points:?}",
            e["expiry"]
        );
    }
    assert!(fitted >= 5, "the fixture has smiles to fit: {fitted}");
}

/// `OPTIONS.SMILE` answers the fit `OPTIONS.ANALYTICS` reports for the expiry, with each
/// strike's market IV (the mean of its contracts'), `k`, the fitted IV and the residual, all
/// recomputed here from the parameters; nil without a fit; bad arguments change nothing.
#[test]
fn the_smile_of_an_expiry_is_its_fit_with_every_strike() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(5);
    let fields = load(&mut con, &contracts);
    let now = fixture::now_ms().to_string();
    let a = analytics(&mut con, &["NOW", &now]);
    let fitted: Vec<&Value> = a["expiries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["svi"].is_null())
        .collect();
    assert!(fitted.len() >= 2);
    for e in fitted {
        let code = e["expiry"].as_str().unwrap();
        let s = json(
            &mut con,
            &["OPTIONS.SMILE", "BTC", code, "NOW", &now, "FORMAT", "JSON"],
        );
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "underlying",
                "expiry",
                "t",
                "forward",
                "svi",
                "svi_rmse",
                "butterfly_arb",
                "calendar_arb",
                "strikes"
            ]
        );
        for k in ["t", "forward", "svi", "butterfly_arb", "calendar_arb"] {
            assert_eq!(s[k], e[k], "{code} {k}");
        }
        assert_close(&s["svi_rmse"], &e["svi_rmse"], code);
        let (t, f) = (e["t"].as_f64().unwrap(), e["forward"].as_f64().unwrap());
        let p = |n: &str| s["svi"][n].as_f64().unwrap();
        let w = |k: f64| {
            p("a")
                + p("b")
                    * (p("rho") * (k - p("m")) + ((k - p("m")).powi(2) + p("sigma").powi(2)).sqrt())
        };
        // The market IV of each strike: the mean of its BTC contracts' `mark_iv` of this expiry.
        let ts = e["expiry_ts"].as_i64().unwrap();
        let mut want: Vec<(f64, f64)> = Vec::new();
        for (i, fields) in &fields {
            let c = &contracts[*i];
            if c.underlying != "BTC" || c.expiry_ts() != ts {
                continue;
            }
            if let Some((_, iv)) = fields.iter().find(|(n, _)| *n == "mark_iv") {
                want.push((c.strike, *iv));
            }
        }
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut by_strike: Vec<(f64, f64)> = Vec::new();
        for chunk in want.chunk_by(|a, b| a.0 == b.0) {
            by_strike.push((
                chunk[0].0,
                chunk.iter().map(|x| x.1).sum::<f64>() / chunk.len() as f64,
            ));
        }
        let strikes = s["strikes"].as_array().unwrap();
        assert_eq!(
            strikes.len(),
            by_strike.len(),
            "{code}: every strike with an IV"
        );
        for (row, (strike, iv)) in strikes.iter().zip(&by_strike) {
            let k = (strike / f).ln();
            let fit = (w(k) / t).sqrt();
            let want = serde_json::json!({"strike": strike, "k": k, "iv": iv, "fit_iv": fit, "residual": iv - fit});
            assert_close(row, &want, &format!("{code} {strike}"));
        }
    }
    // No fit: an expiry the chain does not list, a key that does not exist.
    for args in [
        &["OPTIONS.SMILE", "BTC", "1JAN99", "NOW", now.as_str()][..],
        &["OPTIONS.SMILE", "NOSUCH", "26DEC26"],
    ] {
        assert_eq!(
            value(&mut con, args).unwrap(),
            redis::Value::Nil,
            "{args:?}"
        );
    }
    let before = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    for (args, want) in [
        (&["OPTIONS.SMILE", "BTC"][..], "wrong number of arguments"),
        (
            &["OPTIONS.SMILE", "BTC", "26DEC26", "RATE", "2"],
            "RATE must be an annual rate",
        ),
        (&["OPTIONS.SMILE", "BTC", "soon"], "soon"),
        (&["OPTIONS.SMILE", "BTC", "26DEC26", "BYSTRIKE"], "BYSTRIKE"),
    ] {
        let e = error(&mut con, args);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    assert_eq!(
        json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]),
        before
    );
}

#[test]
fn resp_carries_the_same_figures_and_bad_arguments_change_nothing() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(9);
    fixture::ingest(&mut con, &contracts);
    let now = fixture::now_ms().to_string();
    let j = analytics(&mut con, &["NOW", &now]);
    let redis::Value::Array(top) =
        value(&mut con, &["OPTIONS.ANALYTICS", "BTC", "now", &now]).unwrap()
    else {
        panic!("RESP reply is an array")
    };
    let names: Vec<String> = top
        .iter()
        .step_by(2)
        .map(|v| match v {
            redis::Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "underlying",
            "now",
            "index",
            "vol_index",
            "totals",
            "tenors",
            "expiries"
        ]
    );
    let redis::Value::BulkString(index) = &top[5] else {
        panic!("index {:?}", top[5])
    };
    let index: f64 = String::from_utf8_lossy(index).parse().unwrap();
    assert_eq!(Some(index), j["index"].as_f64());

    let before = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    for (args, want) in [
        (vec!["OPTIONS.ANALYTICS"], "wrong number of arguments"),
        (vec!["OPTIONS.ANALYTICS", "BTC", "EXPIRY"], "EXPIRY needs"),
        (
            vec!["OPTIONS.ANALYTICS", "BTC", "EXPIRY", "31FEB26"],
            "invalid expiry",
        ),
        (
            vec!["OPTIONS.ANALYTICS", "BTC", "SETTLE", "EUR"],
            "SETTLE must be USDC, USDT, BTC or ETH",
        ),
        (
            vec!["OPTIONS.ANALYTICS", "BTC", "NOW", "x"],
            "NOW must be an integer",
        ),
        (
            vec!["OPTIONS.ANALYTICS", "BTC", "FORMAT", "CSV"],
            "FORMAT must be RESP or JSON",
        ),
        (
            vec!["OPTIONS.ANALYTICS", "BTC", "LIMIT", "1", "2"],
            "unknown argument 'LIMIT'",
        ),
    ] {
        let e = error(&mut con, &args);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    redis::cmd("SET")
        .arg("plain")
        .arg("x")
        .query::<()>(&mut con)
        .unwrap();
    assert!(error(&mut con, &["OPTIONS.ANALYTICS", "plain"]).starts_with("WRONGTYPE"));
    let after = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    assert_eq!(before["updates"], after["updates"]);
    // A key with no chain answers like OPTIONS.QUERY does: nothing listed, not an error.
    let empty = json(&mut con, &["OPTIONS.ANALYTICS", "NOPE", "FORMAT", "JSON"]);
    assert_eq!(empty["expiries"], serde_json::json!([]));
    assert_eq!(empty["underlying"], "NOPE");
    // Totals of nothing are 0, not -0 (a float sum of no terms is -0.0).
    let text =
        options_tests::text(&mut con, &["OPTIONS.ANALYTICS", "NOPE", "FORMAT", "JSON"]).unwrap();
    assert!(
        text.contains(r#""oi_calls":0,"#) && !text.contains("-0"),
        "{text}"
    );
}

/// The CBOE VIX white paper's worked example (2009 edition, Appendix 1): its S&P 500 quotes with
/// 9 and 37 days to expiration ingested as one chain, `RATE 0.0038` for both terms as the paper
/// uses. Each term's σ² to seven decimals and the index to two. The expected numbers are the
/// paper's steps worked on its table outside this code base (a short script following the paper
/// line by line); a public replication of the paper (khrapovs/vix) prints the same σ² to its six
/// decimals and an index of 61.217999.
#[test]
fn the_cboe_white_paper_example_reproduces() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let table = include_str!("../data/cboe-vix-2009.csv");
    // The paper's quotes are of January 2009, and a server refuses expired contracts: the two
    // expiries move to 9 and 37 days after a 08:00 UTC that is still to come, which keeps what
    // the method reads (the quotes and the time to each expiry) as printed.
    let today = fixture::now_ms().div_euclid(86_400_000);
    let near = Expiry::from_unix_days(today + 10).unwrap();
    let next = Expiry::from_unix_days(today + 38).unwrap();
    let now = (near.timestamp_ms() - 9 * 86_400_000).to_string();
    let mut pipe = redis::pipe();
    let mut contracts = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let [expiration, _days, strike, call_bid, call_ask, put_bid, put_ask] = cols[..] else {
            panic!("row {line}")
        };
        let expiry = match expiration {
            "20090110" => near.code(),
            "20090207" => next.code(),
            other => panic!("expiration {other}"),
        };
        for (kind, bid, ask) in [("C", call_bid, call_ask), ("P", put_bid, put_ask)] {
            pipe.cmd("OPTIONS.INGEST")
                .arg("SPX")
                .arg(format!("SPX-{expiry}-{strike}-{kind}"))
                .arg("bid_price")
                .arg(bid)
                .arg("ask_price")
                .arg(ask)
                .ignore();
            contracts += 1;
        }
    }
    pipe.query::<()>(&mut con).expect("ingest");
    assert_eq!(contracts, 2 * 368);
    // Both expiries (08:00 UTC) exactly 9 and 37 days away: the paper's T1 = 9/365, T2 = 37/365.
    let got = json(
        &mut con,
        &[
            "OPTIONS.ANALYTICS",
            "SPX",
            "RATE",
            "0.0038",
            "NOW",
            &now,
            "FORMAT",
            "JSON",
        ],
    );
    let expiries = got["expiries"].as_array().expect("expiries");
    let terms: Vec<(&str, f64, f64)> = expiries
        .iter()
        .map(|e| {
            (
                e["expiry"].as_str().unwrap(),
                e["t"].as_f64().unwrap(),
                e["variance"].as_f64().expect("variance"),
            )
        })
        .collect();
    assert_eq!(terms.len(), 2, "{got}");
    assert_eq!(
        (terms[0].0, terms[1].0),
        (near.code().as_str(), next.code().as_str())
    );
    assert!((terms[0].1 - 9.0 / 365.0).abs() < 1e-15);
    assert!((terms[1].1 - 37.0 / 365.0).abs() < 1e-15);
    // Near term: F = 920 + e^{RT}(37.15 − 36.65) = 920.50005, K0 = 920, puts down to 400 and
    // calls up to 1220 (each walk stopped by two zero bids). Next term: F = 921.00039, K0 = 920,
    // puts down to 200, calls up to 1160.
    let rounded = |v: f64, places: i32| (v * 10f64.powi(places)).round() / 10f64.powi(places);
    assert_eq!(rounded(terms[0].2, 7), 0.4727672, "near-term σ²");
    assert_eq!(rounded(terms[1].2, 7), 0.3668182, "next-term σ²");
    let index = got["vol_index"].as_f64().expect("vol_index");
    assert_eq!(rounded(index, 2), 61.22, "index {index}");
}
