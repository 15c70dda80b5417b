//! Every OPTIONS.* command against a real redis-server with the module, checked against answers
//! computed from the fixture.

use options_core::FIELDS;
use options_tests::fixture::{self, FixtureContract};
use options_tests::{error, json, text, value, RedisServer};
use serde_json::Value;

fn loaded() -> (RedisServer, redis::Connection, Vec<FixtureContract>) {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::chain(7);
    assert!(
        contracts.len() >= 2000,
        "fixture has {} contracts",
        contracts.len()
    );
    fixture::ingest(&mut con, &contracts);
    (server, con, contracts)
}

/// Asserts a JSON row equals the fixture contract in every column.
fn assert_row(row: &Value, c: &FixtureContract) {
    assert_eq!(row["symbol"], c.symbol.as_str());
    assert_eq!(row["underlying"], c.underlying.as_str());
    assert_eq!(row["expiry"], c.expiry.as_str());
    assert_eq!(
        row["expiry_ts"].as_i64(),
        Some(c.expiry_ts()),
        "{}",
        c.symbol
    );
    assert_eq!(row["strike"].as_f64(), Some(c.strike), "{}", c.symbol);
    assert_eq!(row["type"], c.type_name());
    assert_eq!(row["settle"], c.settle());
    for (f, v) in FIELDS.iter().zip(c.values) {
        let got = row[f.name()]
            .as_f64()
            .unwrap_or_else(|| panic!("{} {}: {}", c.symbol, f.name(), row));
        assert_eq!(
            got.to_bits(),
            v.to_bits(),
            "{} {}: {got} != {v}",
            c.symbol,
            f.name()
        );
    }
    assert_eq!(row["updated_ms"].as_i64(), Some(c.updated_ms));
    assert_eq!(
        row.as_object().map(|o| o.len()),
        Some(32),
        "a full row has 32 columns"
    );
}

fn symbols(rows: &Value) -> Vec<String> {
    rows.as_array()
        .expect("array")
        .iter()
        .map(|r| r["symbol"].as_str().expect("symbol").to_string())
        .collect()
}

fn expected_symbols<'a>(it: impl IntoIterator<Item = &'a &'a FixtureContract>) -> Vec<String> {
    it.into_iter().map(|c| c.symbol.clone()).collect()
}

#[test]
fn query_filters_match_independent_computation() {
    let (_server, mut con, contracts) = loaded();
    for asset in ["BTC", "ETH", "SOL", "XRP"] {
        let all = fixture::of(&contracts, asset);
        let reply = json(&mut con, &["OPTIONS.QUERY", asset, "FORMAT", "JSON"]);
        assert_eq!(reply["total"].as_u64(), Some(all.len() as u64));
        assert_eq!(reply["offset"], 0);
        assert!(reply["limit"].is_null());
        assert_eq!(
            symbols(&reply["data"]),
            expected_symbols(&all),
            "{asset} chain order"
        );
        for (row, c) in reply["data"].as_array().unwrap().iter().zip(&all) {
            assert_row(row, c);
        }

        // one expiry, in all three spellings
        let e = &all[all.len() / 2];
        let want: Vec<&FixtureContract> = all
            .iter()
            .copied()
            .filter(|c| c.expiry == e.expiry)
            .collect();
        for spelling in [
            &e.expiry,
            &e.expiry_padded,
            &e.expiry_iso,
            &e.expiry.to_lowercase(),
        ] {
            let r = json(
                &mut con,
                &["OPTIONS.QUERY", asset, "EXPIRY", spelling, "FORMAT", "JSON"],
            );
            assert_eq!(
                symbols(&r["data"]),
                expected_symbols(&want),
                "EXPIRY {spelling}"
            );
        }

        // several expiries, type, strike range, settle
        let e2 = &all[0];
        let (lo, hi) = (e.strike * 0.95, e.strike * 1.05);
        let want: Vec<&FixtureContract> = all
            .iter()
            .copied()
            .filter(|c| {
                (c.expiry == e.expiry || c.expiry == e2.expiry)
                    && !c.call
                    && c.strike >= lo
                    && c.strike <= hi
            })
            .collect();
        let (lo_s, hi_s) = (lo.to_string(), hi.to_string());
        let r = json(
            &mut con,
            &[
                "OPTIONS.QUERY",
                asset,
                "EXPIRY",
                &e.expiry,
                &e2.expiry,
                "TYPE",
                "put",
                "STRIKE_MIN",
                &lo_s,
                "STRIKE_MAX",
                &hi_s,
                "FORMAT",
                "JSON",
            ],
        );
        assert_eq!(symbols(&r["data"]), expected_symbols(&want));
        assert!(!want.is_empty());

        let want: Vec<&FixtureContract> = all
            .iter()
            .copied()
            .filter(|c| c.strike == e.strike)
            .collect();
        let r = json(
            &mut con,
            &[
                "OPTIONS.QUERY",
                asset,
                "STRIKE",
                &e.strike_text,
                "FORMAT",
                "JSON",
            ],
        );
        assert_eq!(symbols(&r["data"]), expected_symbols(&want));

        for settle in ["USDC", "USDT"] {
            let want: Vec<&FixtureContract> = all
                .iter()
                .copied()
                .filter(|c| c.settle() == settle)
                .collect();
            let r = json(
                &mut con,
                &["OPTIONS.QUERY", asset, "SETTLE", settle, "FORMAT", "JSON"],
            );
            assert_eq!(
                symbols(&r["data"]),
                expected_symbols(&want),
                "{asset} SETTLE {settle}"
            );
        }
    }
}

#[test]
fn sort_limit_and_fields() {
    let (_server, mut con, contracts) = loaded();
    let all = fixture::of(&contracts, "BTC");
    // volume desc with ties kept in chain order (stable sort)
    let mut want = all.clone();
    want.sort_by(|a, b| b.value("volume_24h").total_cmp(&a.value("volume_24h")));
    let r = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "SORTBY",
            "volume_24h",
            "DESC",
            "LIMIT",
            "10",
            "25",
            "FORMAT",
            "JSON",
        ],
    );
    assert_eq!(r["total"].as_u64(), Some(all.len() as u64));
    assert_eq!(
        (r["offset"].as_u64(), r["limit"].as_u64()),
        (Some(10), Some(25))
    );
    assert_eq!(symbols(&r["data"]), expected_symbols(&want[10..35]));

    let mut want = all.clone();
    want.sort_by(|a, b| a.value("mark_iv").total_cmp(&b.value("mark_iv")));
    let r = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "sortby",
            "MARKPRICEIV",
            "asc",
            "FORMAT",
            "JSON",
        ],
    );
    assert_eq!(
        symbols(&r["data"]),
        expected_symbols(&want),
        "wire name accepted for SORTBY"
    );

    // a page past the end is empty but still counts the total
    let r = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "LIMIT",
            "100000",
            "10",
            "FORMAT",
            "JSON",
        ],
    );
    assert_eq!(r["data"].as_array().map(Vec::len), Some(0));
    assert_eq!(r["total"].as_u64(), Some(all.len() as u64));

    // FIELDS: symbol first, then exactly the requested columns
    let r = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "LIMIT",
            "0",
            "3",
            "FIELDS",
            "3",
            "delta",
            "strike",
            "expiry",
            "FORMAT",
            "JSON",
        ],
    );
    for (row, c) in r["data"].as_array().unwrap().iter().zip(&all) {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["symbol", "delta", "strike", "expiry"]);
        assert_eq!(row["delta"].as_f64(), Some(c.value("delta")));
    }

    // RESP form carries the same data
    let v = value(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "LIMIT",
            "0",
            "2",
            "FIELDS",
            "1",
            "mark_price",
        ],
    )
    .unwrap();
    let redis::Value::Array(items) = v else {
        panic!("array expected")
    };
    assert_eq!(items.len(), 8);
    assert_eq!(items[1], redis::Value::Int(all.len() as i64));
    let redis::Value::Array(rows) = &items[7] else {
        panic!("rows")
    };
    assert_eq!(rows.len(), 2);
    let redis::Value::Array(cells) = &rows[0] else {
        panic!("row")
    };
    let cell_text: Vec<String> = cells
        .iter()
        .map(|c| redis::from_redis_value(c).unwrap())
        .collect();
    assert_eq!(cell_text[1], all[0].symbol);
    assert_eq!(
        cell_text[3].parse::<f64>().unwrap(),
        all[0].value("mark_price")
    );
}

#[test]
fn expiries_strikes_get() {
    let (_server, mut con, contracts) = loaded();
    for asset in ["BTC", "ETH", "SOL", "XRP"] {
        let all = fixture::of(&contracts, asset);
        let mut want: Vec<(i64, String)> = all
            .iter()
            .map(|c| (c.expiry_days, c.expiry.clone()))
            .collect();
        want.dedup();
        let got: Vec<String> = redis::cmd("options.expiries")
            .arg(asset)
            .query(&mut con)
            .unwrap();
        assert_eq!(
            got,
            want.iter().map(|w| w.1.clone()).collect::<Vec<_>>(),
            "{asset} expiries chronological"
        );

        let e = &all[0];
        let mut strikes: Vec<(f64, String)> = all
            .iter()
            .filter(|c| c.expiry == e.expiry)
            .map(|c| (c.strike, c.strike_text.clone()))
            .collect();
        strikes.sort_by(|a, b| a.0.total_cmp(&b.0));
        strikes.dedup_by(|a, b| a.0 == b.0);
        let got: Vec<String> = redis::cmd("OPTIONS.STRIKES")
            .arg(asset)
            .arg("EXPIRY")
            .arg(&e.expiry_padded)
            .query(&mut con)
            .unwrap();
        assert_eq!(got, strikes.iter().map(|s| s.1.clone()).collect::<Vec<_>>());
        let j = json(
            &mut con,
            &[
                "OPTIONS.STRIKES",
                asset,
                "EXPIRY",
                &e.expiry,
                "FORMAT",
                "JSON",
            ],
        );
        assert_eq!(j.as_array().map(Vec::len), Some(strikes.len()));

        for c in all.iter().step_by(37) {
            let row = json(
                &mut con,
                &["OPTIONS.GET", asset, &c.symbol, "FORMAT", "JSON"],
            );
            assert_row(&row, c);
            // lower case and padded expiry name the same contract
            let alt = c
                .symbol
                .replacen(&c.expiry, &c.expiry_padded, 1)
                .to_lowercase();
            let row = json(&mut con, &["options.get", asset, &alt, "format", "json"]);
            assert_eq!(row["symbol"], c.symbol.as_str());
        }
    }
    assert_eq!(
        value(&mut con, &["OPTIONS.GET", "BTC", "BTC-1JAN99-1-C"]).unwrap(),
        redis::Value::Nil
    );
    assert_eq!(
        value(&mut con, &["OPTIONS.GET", "DOGE", "DOGE-1JAN99-1-C"]).unwrap(),
        redis::Value::Nil
    );
    let empty: Vec<String> = redis::cmd("OPTIONS.EXPIRIES")
        .arg("DOGE")
        .query(&mut con)
        .unwrap();
    assert!(empty.is_empty());
}

#[test]
fn chain_puts_calls_side_by_side_with_atm() {
    let (_server, mut con, contracts) = loaded();
    let all = fixture::of(&contracts, "BTC");
    let e = all[0].clone(); // the first expiry has USDC and USDT contracts
    let r = json(
        &mut con,
        &[
            "OPTIONS.CHAIN",
            "BTC",
            &e.expiry,
            "SETTLE",
            "USDC",
            "FORMAT",
            "JSON",
        ],
    );
    let these: Vec<&FixtureContract> = all
        .iter()
        .copied()
        .filter(|c| c.expiry == e.expiry && !c.usdt)
        .collect();
    let lines = r["strikes"].as_array().unwrap();
    assert_eq!(lines.len(), these.len() / 2);
    for line in lines {
        let k = line["strike"].as_f64().unwrap();
        let call = these.iter().find(|c| c.strike == k && c.call).unwrap();
        let put = these.iter().find(|c| c.strike == k && !c.call).unwrap();
        assert_row(&line["call"], call);
        assert_row(&line["put"], put);
    }
    // ATM (ANALYTICS.md): the strike nearest the forward, the median underlying price
    let mut prices: Vec<f64> = these.iter().map(|c| c.value("underlying_price")).collect();
    prices.sort_by(f64::total_cmp);
    let n = prices.len();
    let spot = if n % 2 == 1 {
        prices[n / 2]
    } else {
        (prices[n / 2 - 1] + prices[n / 2]) / 2.0
    };
    let atm = these
        .iter()
        .map(|c| c.strike)
        .min_by(|a, b| {
            (a - spot)
                .abs()
                .total_cmp(&(b - spot).abs())
                .then(a.total_cmp(b))
        })
        .unwrap();
    assert_eq!(r["underlying_price"].as_f64(), Some(spot));
    assert_eq!(r["atm_strike"].as_f64(), Some(atm));
    assert_eq!(r["expiry_ts"].as_i64(), Some(e.expiry_ts()));

    // without SETTLE both coins appear, USDC first on each strike
    let r = json(
        &mut con,
        &["OPTIONS.CHAIN", "BTC", &e.expiry_iso, "FORMAT", "JSON"],
    );
    let lines = r["strikes"].as_array().unwrap();
    assert_eq!(
        lines.len(),
        all.iter().filter(|c| c.expiry == e.expiry).count() / 2
    );
    assert_eq!(lines[0]["settle"], "USDC");
    assert_eq!(lines[1]["settle"], "USDT");
    assert_eq!(lines[0]["strike"], lines[1]["strike"]);

    // an expiry without contracts is an empty chain, not an error
    let r = json(
        &mut con,
        &["OPTIONS.CHAIN", "BTC", "1JAN99", "FORMAT", "JSON"],
    );
    assert_eq!(r["strikes"].as_array().map(Vec::len), Some(0));
    assert!(r["atm_strike"].is_null());
}

/// `n` changes of one contract's mark price, pipelined: `n` steps of the chain's sequence.
fn churn(con: &mut redis::Connection, key: &str, symbol: &str, n: usize) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("OPTIONS.INGEST")
            .arg(key)
            .arg(symbol)
            .arg("mark_price")
            .arg(1.0 + i as f64)
            .ignore();
    }
    let () = pipe.query(con).unwrap();
}

#[test]
fn a_cursor_of_a_deleted_chain_gets_a_reset_from_the_key_written_again() {
    // A busy chain's sequence runs far ahead of the clock in ms: 20,000 changes within a few
    // ms. The key deleted and written again, then changed more times than the old one was, must
    // still tell an old cursor to reset rather than answer a delta of another history.
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let symbol = "BTC-26DEC30-100000-C";
    churn(&mut con, "BTC", symbol, 20_000);
    let old = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"])["seq"]
        .as_u64()
        .unwrap();
    let _: i64 = redis::cmd("DEL").arg("BTC").query(&mut con).unwrap();
    churn(&mut con, "BTC", "BTC-26DEC30-90000-P", 30_000);
    let c = json(
        &mut con,
        &["OPTIONS.CHANGES", "BTC", &old.to_string(), "FORMAT", "JSON"],
    );
    assert_eq!(c["reset"], true, "cursor {old} of the deleted chain: {c}");
    let rows: Vec<&str> = c["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["BTC-26DEC30-90000-P"]);
    assert!(c["seq"].as_u64().unwrap() > old);
}

#[test]
fn partial_updates_merge_and_changes_track_them() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let all = fixture::chain(3);
    let eth: Vec<FixtureContract> = all.into_iter().filter(|c| c.underlying == "ETH").collect();
    fixture::ingest(&mut con, &eth);

    let start = json(&mut con, &["OPTIONS.CHANGES", "ETH", "0", "FORMAT", "JSON"]);
    assert_eq!(start["reset"], true, "cursor 0 is before the chain existed");
    assert_eq!(start["data"].as_array().map(Vec::len), Some(eth.len()));
    let seq = start["seq"].as_u64().unwrap();
    let seq_s = seq.to_string();

    let nothing = json(
        &mut con,
        &["OPTIONS.CHANGES", "ETH", &seq_s, "FORMAT", "JSON"],
    );
    assert_eq!(nothing["reset"], false);
    assert_eq!(nothing["data"].as_array().map(Vec::len), Some(0));

    // a partial update with WebSocket names: only mark_price and mark_iv change
    let c = &eth[10];
    let n: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&c.symbol)
        .arg("markPrice")
        .arg("12.5")
        .arg("markPriceIv")
        .arg("0.77")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 0, "existing contract");
    // an identical value is not a change
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("ETH")
        .arg(&eth[11].symbol)
        .arg("delta")
        .arg(format!("{:?}", eth[11].value("delta")))
        .query(&mut con)
        .unwrap();
    let row = json(
        &mut con,
        &["OPTIONS.GET", "ETH", &c.symbol, "FORMAT", "JSON"],
    );
    assert_eq!(row["mark_price"].as_f64(), Some(12.5));
    assert_eq!(row["mark_iv"].as_f64(), Some(0.77));
    assert_eq!(
        row["delta"].as_f64(),
        Some(c.value("delta")),
        "untouched fields kept"
    );
    let now = options_core::clock::now_ms();
    assert!(
        (row["updated_ms"].as_i64().unwrap() - now).abs() < 5000,
        "stamped with the server's time"
    );

    let ch = json(
        &mut con,
        &[
            "OPTIONS.CHANGES",
            "ETH",
            &seq_s,
            "FIELDS",
            "1",
            "mark_price",
            "FORMAT",
            "JSON",
        ],
    );
    assert_eq!(ch["reset"], false);
    assert_eq!(symbols(&ch["data"]), vec![c.symbol.as_str()]);
    assert_eq!(ch["seq"].as_u64(), Some(seq + 1));

    // deletion is reported as removed
    let seq2 = ch["seq"].as_u64().unwrap().to_string();
    let n: i64 = redis::cmd("OPTIONS.DEL")
        .arg("ETH")
        .arg(&eth[0].symbol)
        .arg(&eth[1].symbol)
        .arg("ETH-1JAN99-1-C")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 2);
    let ch = json(
        &mut con,
        &["OPTIONS.CHANGES", "ETH", &seq2, "FORMAT", "JSON"],
    );
    assert_eq!(
        ch["removed"],
        serde_json::json!([eth[0].symbol, eth[1].symbol])
    );
    assert_eq!(ch["data"].as_array().map(Vec::len), Some(0));

    // a cursor from the future (e.g. a recreated key) resets
    let ch = json(
        &mut con,
        &[
            "OPTIONS.CHANGES",
            "ETH",
            "18446744073709551615",
            "FORMAT",
            "JSON",
        ],
    );
    assert_eq!(ch["reset"], true);
}

#[test]
fn del_and_purge_and_empty_keys_vanish() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let today = fixture::today_days();
    let near = options_core::Expiry::from_unix_days(today + 1).unwrap();
    let far = options_core::Expiry::from_unix_days(today + 30).unwrap();
    let s1 = format!("SOL-{}-200-C-USDT", near.code());
    let s2 = format!("SOL-{}-200-P-USDT", far.code());
    for s in [&s1, &s2] {
        let _: i64 = redis::cmd("OPTIONS.INGEST")
            .arg("SOL")
            .arg(s)
            .arg("mark_price")
            .arg("1")
            .query(&mut con)
            .unwrap();
    }
    // PURGE with an explicit time past the near expiry drops only that contract
    let after_near = (near.timestamp_ms() + 1).to_string();
    let n: i64 = redis::cmd("OPTIONS.PURGE")
        .arg("SOL")
        .arg("NOW")
        .arg(&after_near)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    let left: Vec<String> = redis::cmd("OPTIONS.EXPIRIES")
        .arg("SOL")
        .query(&mut con)
        .unwrap();
    assert_eq!(left, [far.code()]);
    // PURGE at the current time removes nothing live
    let n: i64 = redis::cmd("OPTIONS.PURGE")
        .arg("SOL")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 0);
    let n: i64 = redis::cmd("OPTIONS.DEL")
        .arg("SOL")
        .arg(&s2)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    let exists: i64 = redis::cmd("EXISTS").arg("SOL").query(&mut con).unwrap();
    assert_eq!(exists, 0, "an empty chain is deleted like an empty hash");
    let n: i64 = redis::cmd("OPTIONS.DEL")
        .arg("SOL")
        .arg(&s2)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 0);

    // an already expired contract is refused
    let past = options_core::Expiry::from_unix_days(today - 1).unwrap();
    let e = error(
        &mut con,
        &[
            "OPTIONS.INGEST",
            "SOL",
            &format!("SOL-{}-200-C-USDT", past.code()),
            "mark_price",
            "1",
        ],
    );
    assert!(e.contains("expired"), "{e}");
}

#[test]
fn stats_per_key_and_global_and_info() {
    let (_server, mut con, contracts) = loaded();
    let btc = fixture::of(&contracts, "BTC");
    let s = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    assert_eq!(s["key"], "BTC");
    assert_eq!(s["contracts"].as_u64(), Some(btc.len() as u64));
    assert_eq!(s["updates"].as_u64(), Some(btc.len() as u64));
    assert_eq!(s["expiries"].as_u64(), Some(8));
    assert_eq!(
        s["last_update_ms"].as_i64(),
        btc.iter().map(|c| c.updated_ms).max()
    );
    let mem: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("BTC")
        .query(&mut con)
        .unwrap();
    let reported = s["memory_bytes"].as_i64().unwrap();
    assert!(
        reported <= mem && mem - reported < 200,
        "STATS {reported} vs MEMORY USAGE {mem}"
    );

    let g = json(&mut con, &["OPTIONS.STATS", "FORMAT", "JSON"]);
    assert_eq!(g["keys"], 4);
    assert_eq!(g["contracts"].as_u64(), Some(contracts.len() as u64));
    assert_eq!(g["updates"].as_u64(), Some(contracts.len() as u64));
    let info = text(&mut con, &["INFO", "options"]).unwrap();
    assert!(
        info.contains(&format!("contracts:{}", contracts.len())),
        "{info}"
    );
    assert!(info.contains("keys:4"), "{info}");

    // Redis knows where the key is (Cluster routing, ACL key patterns): nowhere in the keyless
    // form.
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("OPTIONS.STATS")
        .arg("BTC")
        .arg("FORMAT")
        .arg("JSON")
        .query(&mut con)
        .unwrap();
    assert_eq!(keys, ["BTC"]);
    let keyless = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("OPTIONS.STATS")
        .arg("FORMAT")
        .arg("JSON")
        .query::<Vec<String>>(&mut con);
    assert!(
        keyless.as_ref().map_or(true, |k| k.is_empty()),
        "the keyless form names no key: {keyless:?}"
    );

    // COMMAND DOCS describes every command: summary, complexity, arguments (Redis 7 and
    // later: 6.2 has no COMMAND DOCS).
    let docs_names: &[&str] = if options_tests::server_major_version() >= 7 {
        &[
            "options.ingest",
            "options.query",
            "options.get",
            "options.chain",
            "options.expiries",
            "options.strikes",
            "options.changes",
            "options.stats",
            "options.del",
            "options.purge",
            "options.analytics",
            "options.history",
        ]
    } else {
        &[]
    };
    for name in docs_names {
        let docs = text_value(&mut con, name);
        assert!(
            docs.contains("summary") && docs.contains("complexity") && docs.contains("arguments"),
            "{name}: {docs}"
        );
    }
    if !docs_names.is_empty() {
        assert!(text_value(&mut con, "options.query").contains("STRIKE_MIN"));
    }

    // deleting a key gives its contracts back in the totals
    let _: i64 = redis::cmd("DEL").arg("BTC").query(&mut con).unwrap();
    let g = json(&mut con, &["OPTIONS.STATS", "FORMAT", "JSON"]);
    assert_eq!(g["keys"], 3);
    assert_eq!(
        g["contracts"].as_u64(),
        Some((contracts.len() - btc.len()) as u64)
    );
}

#[test]
fn memory_is_real_and_below_the_seed_per_contract() {
    let (_server, mut con, contracts) = loaded();
    let before: i64 = info_field(&mut con, "used_memory");
    let mut total = 0i64;
    for asset in ["BTC", "ETH", "SOL", "XRP"] {
        let mem: i64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(asset)
            .query(&mut con)
            .unwrap();
        total += mem;
    }
    let per = total as f64 / contracts.len() as f64;
    assert!(
        per < 433.0,
        "{per:.0} bytes per contract with all 24 fields"
    );
    assert!(
        per > 200.0,
        "{per:.0} bytes per contract is less than the numbers alone"
    );
    // MEMORY USAGE is truthful: dropping the keys frees about that much from used_memory
    let _: i64 = redis::cmd("DEL")
        .arg("BTC")
        .arg("ETH")
        .arg("SOL")
        .arg("XRP")
        .query(&mut con)
        .unwrap();
    // Servers that free in the background (Valkey 8's lazy user DEL) give it back a moment later.
    let mut freed = 0;
    for _ in 0..50 {
        freed = before - info_field(&mut con, "used_memory");
        if (freed - total).abs() < total / 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        (freed - total).abs() < total / 5,
        "MEMORY USAGE says {total}, deleting freed {freed}"
    );
}

fn info_field(con: &mut redis::Connection, name: &str) -> i64 {
    let info = text(con, &["INFO", "memory"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in INFO"))
}

#[test]
fn bad_input_errors_and_changes_nothing() {
    let (_server, mut con, contracts) = loaded();
    let sym = fixture::of(&contracts, "BTC")[5].symbol.clone();
    let snapshot = |con: &mut redis::Connection| {
        text(con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap()
    };
    let before = snapshot(&mut con);
    let _: () = redis::cmd("SET")
        .arg("PLAIN")
        .arg("x")
        .query(&mut con)
        .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["OPTIONS.INGEST", "BTC"], "wrong number of arguments"),
        (
            vec!["OPTIONS.INGEST", "BTC", &sym, "mark_price"],
            "wrong number of arguments",
        ),
        (
            vec!["OPTIONS.INGEST", "BTC", &sym, "mark_price", "abc"],
            "invalid number 'abc'",
        ),
        (
            vec!["OPTIONS.INGEST", "BTC", &sym, "mark_price", "nan"],
            "invalid number",
        ),
        (
            vec![
                "OPTIONS.INGEST",
                "BTC",
                &sym,
                "mark_price",
                "1",
                "colour",
                "2",
            ],
            "unknown field 'colour'",
        ),
        (
            vec![
                "OPTIONS.INGEST",
                "BTC",
                "BTC-26DEC25-100000-X",
                "mark_price",
                "1",
            ],
            "invalid symbol",
        ),
        (
            vec![
                "OPTIONS.INGEST",
                "BTC",
                "ETH-26DEC30-4000-C",
                "mark_price",
                "1",
            ],
            "belongs to underlying ETH",
        ),
        (
            vec!["OPTIONS.INGEST", "BTC", &sym, "updated_ms", "-5"],
            "updated_ms",
        ),
        (
            vec![
                "OPTIONS.INGEST",
                "PLAIN",
                "PLAIN-26DEC30-1-C",
                "mark_price",
                "1",
            ],
            "WRONGTYPE",
        ),
        (vec!["OPTIONS.QUERY"], "wrong number of arguments"),
        (vec!["OPTIONS.QUERY", "BTC", "EXPIRY"], "EXPIRY needs"),
        (
            vec!["OPTIONS.QUERY", "BTC", "EXPIRY", "31FEB26"],
            "invalid expiry '31FEB26'",
        ),
        (
            vec!["OPTIONS.QUERY", "BTC", "TYPE", "both"],
            "TYPE must be CALL or PUT",
        ),
        (
            vec!["OPTIONS.QUERY", "BTC", "STRIKE", "x"],
            "STRIKE must be a number",
        ),
        (vec!["OPTIONS.QUERY", "BTC", "LIMIT", "0"], "LIMIT needs"),
        (
            vec!["OPTIONS.QUERY", "BTC", "LIMIT", "0", "-1"],
            "LIMIT count must be",
        ),
        (
            vec!["OPTIONS.QUERY", "BTC", "SORTBY", "nope"],
            "unknown field 'nope'",
        ),
        (
            vec!["OPTIONS.QUERY", "BTC", "FORMAT", "XML"],
            "FORMAT must be RESP or JSON",
        ),
        (
            vec!["OPTIONS.QUERY", "BTC", "WHERE"],
            "unknown argument 'WHERE'",
        ),
        (vec!["OPTIONS.QUERY", "PLAIN"], "WRONGTYPE"),
        (vec!["OPTIONS.GET", "BTC"], "wrong number of arguments"),
        (vec!["OPTIONS.GET", "BTC", "garbage"], "invalid symbol"),
        // non-ASCII arguments come back escaped, never as broken UTF-8
        (
            vec!["OPTIONS.GET", "BTC", "BTC-\u{e9}"],
            "invalid symbol 'BTC-\\xc3\\xa9'",
        ),
        (
            vec!["OPTIONS.GET", "PLAIN", "PLAIN-26DEC30-1-C"],
            "WRONGTYPE",
        ),
        (vec!["OPTIONS.CHAIN", "BTC"], "wrong number of arguments"),
        (vec!["OPTIONS.CHAIN", "BTC", "someday"], "invalid expiry"),
        (
            vec!["OPTIONS.CHAIN", "BTC", "3SEP25", "SETTLE", "EUR"],
            "SETTLE must be USDC, USDT, BTC or ETH",
        ),
        (vec!["OPTIONS.STRIKES", "BTC", "EXPIRY"], "EXPIRY needs"),
        (
            vec!["OPTIONS.STRIKES", "BTC", "FIELDS", "1", "delta"],
            "unknown argument 'FIELDS'",
        ),
        (
            vec!["OPTIONS.EXPIRIES", "BTC", "junk"],
            "unknown argument 'junk'",
        ),
        (vec!["OPTIONS.EXPIRIES", "PLAIN"], "WRONGTYPE"),
        (vec!["OPTIONS.CHANGES", "BTC"], "wrong number of arguments"),
        (vec!["OPTIONS.CHANGES", "BTC", "-1"], "since-seq must be"),
        (vec!["OPTIONS.DEL", "BTC"], "wrong number of arguments"),
        (
            vec!["OPTIONS.DEL", "BTC", &sym, "not-a-symbol"],
            "invalid symbol",
        ),
        (
            vec!["OPTIONS.DEL", "PLAIN", "PLAIN-26DEC30-1-C"],
            "WRONGTYPE",
        ),
        (
            vec!["OPTIONS.PURGE", "BTC", "NOW"],
            "wrong number of arguments",
        ),
        (
            vec!["OPTIONS.PURGE", "BTC", "NOW", "soon"],
            "NOW must be an integer",
        ),
        (
            vec!["OPTIONS.PURGE", "BTC", "THEN", "1"],
            "unknown argument 'THEN'",
        ),
        (vec!["OPTIONS.PURGE", "PLAIN"], "WRONGTYPE"),
        (vec!["OPTIONS.STATS", "PLAIN"], "WRONGTYPE"),
        (vec!["OPTIONS.STATS", "BTC", "FORMAT"], "FORMAT needs"),
    ];
    for (args, want) in cases {
        let e = error(&mut con, &args);
        assert!(e.contains(want), "{args:?}: got {e:?}, want {want:?}");
    }
    assert_eq!(
        snapshot(&mut con),
        before,
        "no failed command changed the chain"
    );
    let plain: String = redis::cmd("GET").arg("PLAIN").query(&mut con).unwrap();
    assert_eq!(plain, "x");
}

#[test]
fn commands_declare_flags_and_keys() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    // COMMAND GETKEYS is what Cluster routing and ACL key patterns use
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("OPTIONS.QUERY")
        .arg("BTC")
        .arg("EXPIRY")
        .arg("3SEP25")
        .query(&mut con)
        .unwrap();
    assert_eq!(keys, ["BTC"]);
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("OPTIONS.INGEST")
        .arg("ETH")
        .arg("ETH-3SEP25-4000-C")
        .arg("delta")
        .arg("1")
        .query(&mut con)
        .unwrap();
    assert_eq!(keys, ["ETH"]);
    let info = value(
        &mut con,
        &[
            "COMMAND",
            "INFO",
            "OPTIONS.INGEST",
            "OPTIONS.QUERY",
            "OPTIONS.GET",
        ],
    )
    .unwrap();
    let flat = format!("{info:?}");
    let ingest_at = flat.find("options.ingest").unwrap();
    let query_at = flat.find("options.query").unwrap();
    assert!(flat[ingest_at..query_at].contains("write"), "{flat}");
    assert!(flat[ingest_at..query_at].contains("denyoom"), "{flat}");
    assert!(flat[query_at..].contains("readonly"), "{flat}");
    let modules = format!("{:?}", value(&mut con, &["MODULE", "LIST"]).unwrap());
    assert!(modules.contains("options"), "{modules}");

    // a read-only ACL user can query but not ingest
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("reader")
        .arg("on")
        .arg("nopass")
        .arg("~*")
        .arg("+options.query")
        .arg("+options.get")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("AUTH")
        .arg("reader")
        .arg("any")
        .query(&mut con)
        .unwrap();
    assert!(value(&mut con, &["OPTIONS.QUERY", "BTC"]).is_ok());
    let e = error(
        &mut con,
        &["OPTIONS.INGEST", "BTC", "BTC-26DEC30-1-C", "delta", "1"],
    );
    assert!(e.contains("NOPERM") || e.contains("permission"), "{e}");
}

/// Every string of a reply, depth first: `COMMAND INFO` as words.
fn words(v: &redis::Value) -> Vec<String> {
    match v {
        redis::Value::BulkString(b) => vec![String::from_utf8_lossy(b).to_string()],
        redis::Value::SimpleString(s) => vec![s.clone()],
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().flat_map(words).collect()
        }
        redis::Value::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| words(k).into_iter().chain(words(v)))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_command_says_what_it_does_to_its_key() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    // (command, its flags, the flags it must not have, its key spec's flags; none: no spec)
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<&'a [&'a str]>);
    let read = Some(&["RO", "access"][..]);
    let cases: &[Case] = &[
        (
            "options.ingest",
            &["write", "denyoom", "fast"],
            &["readonly"],
            Some(&["RW", "update"]),
        ),
        (
            "options.del",
            &["write"],
            &["readonly", "denyoom"],
            Some(&["RW", "delete"]),
        ),
        (
            "options.purge",
            &["write"],
            &["readonly", "denyoom"],
            Some(&["RW", "delete"]),
        ),
        (
            "options.historyrestore",
            &["write", "denyoom"],
            &["readonly"],
            Some(&["RW", "update"]),
        ),
        ("options.query", &["readonly"], &["write", "denyoom"], read),
        (
            "options.expiries",
            &["readonly"],
            &["write", "denyoom"],
            read,
        ),
        (
            "options.strikes",
            &["readonly"],
            &["write", "denyoom"],
            read,
        ),
        (
            "options.get",
            &["readonly", "fast"],
            &["write", "denyoom"],
            read,
        ),
        ("options.chain", &["readonly"], &["write", "denyoom"], read),
        (
            "options.changes",
            &["readonly"],
            &["write", "denyoom"],
            read,
        ),
        (
            "options.analytics",
            &["readonly"],
            &["write", "denyoom"],
            read,
        ),
        (
            "options.history",
            &["readonly"],
            &["write", "denyoom"],
            read,
        ),
        (
            "options.stats",
            &["readonly", "movablekeys"],
            &["write"],
            None,
        ),
    ];
    let with_specs = options_tests::server_major_version() >= 7;
    for (name, flags, not, key) in cases {
        let info = value(&mut con, &["COMMAND", "INFO", name]).unwrap();
        let w = words(&info);
        assert_eq!(w.first().map(String::as_str), Some(*name), "{w:?}");
        // The flags come before the key specs' own words.
        let specs_at = w.iter().position(|x| x == "flags").unwrap_or(w.len());
        let (head, spec) = w.split_at(specs_at);
        for f in *flags {
            assert!(head.iter().any(|x| x == f), "{name} lacks {f}: {w:?}");
        }
        for f in *not {
            assert!(!head.iter().any(|x| x == f), "{name} has {f}: {w:?}");
        }
        // Only CHANGES waits (`BLOCK ms`); 6.2 has no `blocking` flag to give.
        let blocks = *name == "options.changes" && with_specs;
        assert_eq!(
            head.iter().any(|x| x == "blocking"),
            blocks,
            "{name}'s blocking flag: {w:?}"
        );
        if !with_specs {
            continue;
        }
        match key {
            Some(want) => {
                for f in *want {
                    assert!(
                        spec.iter().any(|x| x == f),
                        "{name}'s key spec lacks {f}: {w:?}"
                    );
                }
                let other = if want.contains(&"RO") { "RW" } else { "RO" };
                assert!(
                    !spec.iter().any(|x| x == other),
                    "{name}'s key spec says {other}: {w:?}"
                );
            }
            None => assert!(spec.is_empty(), "{name} has a key spec: {w:?}"),
        }
    }
}

#[test]
fn cached_rows_follow_every_change() {
    let (_server, mut con, contracts) = loaded();
    let btc = fixture::of(&contracts, "BTC");
    let cold: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("BTC")
        .query(&mut con)
        .unwrap();
    let first = json(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]);
    let warm: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("BTC")
        .query(&mut con)
        .unwrap();
    assert!(
        warm > cold + 500 * btc.len() as i64,
        "cached rows are counted: {cold} -> {warm}"
    );

    let c = btc[17];
    let _: i64 = redis::cmd("OPTIONS.INGEST")
        .arg("BTC")
        .arg(&c.symbol)
        .arg("mark_price")
        .arg("4242.25")
        .query(&mut con)
        .unwrap();
    let second = json(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]);
    assert_eq!(second["data"][17]["mark_price"].as_f64(), Some(4242.25));
    assert_eq!(first["data"][16], second["data"][16]);
    let chain = json(
        &mut con,
        &["OPTIONS.CHAIN", "BTC", &c.expiry, "FORMAT", "JSON"],
    );
    let line = chain["strikes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["strike"].as_f64() == Some(c.strike) && l["settle"] == c.settle())
        .unwrap();
    assert_eq!(line[c.type_name()]["mark_price"].as_f64(), Some(4242.25));

    // FIELDS naming every column renders afresh and gives the same bytes as the cache
    let all: Vec<&str> = options_core::Column::all()
        .skip(1)
        .map(|c| c.name())
        .collect();
    let n = all.len().to_string();
    let mut args = vec!["OPTIONS.QUERY", "BTC", "FIELDS", n.as_str()];
    args.extend(all.iter().copied());
    args.extend(["FORMAT", "JSON"]);
    assert_eq!(
        text(&mut con, &args).unwrap(),
        text(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap()
    );

    // module-wide memory equals the sum over keys, caches included
    let total: i64 = ["BTC", "ETH", "SOL", "XRP"]
        .iter()
        .map(|k| {
            json(&mut con, &["OPTIONS.STATS", k, "FORMAT", "JSON"])["memory_bytes"]
                .as_i64()
                .unwrap()
        })
        .sum();
    assert_eq!(
        json(&mut con, &["OPTIONS.STATS", "FORMAT", "JSON"])["memory_bytes"].as_i64(),
        Some(total)
    );
}

#[test]
fn seed_format_rows_match_the_python_system() {
    let (_server, mut con, contracts) = loaded();
    let btc = fixture::of(&contracts, "BTC");
    let e = btc[0].clone();
    let mut want: Vec<&FixtureContract> = btc
        .iter()
        .copied()
        .filter(|c| c.expiry == e.expiry && c.call)
        .collect();
    want.sort_by(|a, b| b.value("volume_24h").total_cmp(&a.value("volume_24h")));
    let py = options_core::python_float;
    let row_text = |c: &FixtureContract| {
        format!(
            r#"{{"symbol":"{}","expiry":"{}","strike":"{}","type":"{}","last_price":{},"mark_price":{},"volume_24h":{},"open_interest":{},"delta":{},"gamma":{},"theta":{},"vega":{},"iv":{},"underlying":{},"index_price":{}}}"#,
            c.symbol,
            c.expiry_padded,
            c.strike_text,
            if c.call { "Call" } else { "Put" },
            py(c.value("last_price")),
            py(c.value("mark_price")),
            py(c.value("volume_24h")),
            py(c.value("open_interest")),
            py(c.value("delta")),
            py(c.value("gamma")),
            py(c.value("theta")),
            py(c.value("vega")),
            py(c.value("mark_iv")),
            py(c.value("underlying_price")),
            py(c.value("index_price")),
        )
    };
    let page = text(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "EXPIRY",
            &e.expiry_padded,
            "TYPE",
            "CALL",
            "SORTBY",
            "volume_24h",
            "DESC",
            "LIMIT",
            "2",
            "3",
            "FORMAT",
            "SEED",
        ],
    )
    .unwrap();
    let rows: Vec<String> = want[2..5].iter().map(|c| row_text(c)).collect();
    assert_eq!(
        page,
        format!(
            r#"{{"total":{},"limit":3,"offset":2,"data":[{}]}}"#,
            want.len(),
            rows.join(",")
        )
    );
    let all = text(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "BTC",
            "EXPIRY",
            &e.expiry,
            "TYPE",
            "CALL",
            "SORTBY",
            "volume_24h",
            "DESC",
            "FORMAT",
            "SEED",
        ],
    )
    .unwrap();
    let rows: Vec<String> = want.iter().map(|c| row_text(c)).collect();
    assert_eq!(
        all,
        format!("[{}]", rows.join(",")),
        "without LIMIT: a bare array"
    );
    // SEED is a QUERY format only
    let e = error(
        &mut con,
        &["OPTIONS.GET", "BTC", &btc[0].symbol, "FORMAT", "SEED"],
    );
    assert!(e.contains("FORMAT must be RESP or JSON"), "{e}");
}

#[test]
fn commands_carry_their_acl_categories_where_redis_has_them() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let info: String = redis::cmd("INFO").arg("server").query(&mut con).unwrap();
    let version: Vec<u32> = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap()
        .trim()
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let categories = |con: &mut redis::Connection, cmd: &str| -> String {
        let info: redis::Value = redis::cmd("COMMAND")
            .arg("INFO")
            .arg(cmd)
            .query(con)
            .unwrap();
        format!("{info:?}")
    };
    // Redis 7.4 added module ACL categories; Valkey 8 reports version 7.2.4 but has them too.
    let has_categories = (version[0], version[1]) >= (7, 4)
        || !server
            .log()
            .contains("does not support adding new ACL categories");
    if has_categories {
        // Module categories: every command in @options, reads in @read, writes in @write.
        let analytics = categories(&mut con, "options.analytics");
        assert!(
            analytics.contains("@options") && analytics.contains("@read"),
            "{analytics}"
        );
        let ingest = categories(&mut con, "options.ingest");
        assert!(
            ingest.contains("@write") && ingest.contains("@fast"),
            "{ingest}"
        );
        let listed: Vec<String> = redis::cmd("ACL")
            .arg("CAT")
            .arg("options")
            .query(&mut con)
            .unwrap();
        assert_eq!(listed.len(), 13, "{listed:?}");
        let _: () = redis::cmd("ACL")
            .arg("SETUSER")
            .arg("analyst")
            .arg("on")
            .arg(">pw")
            .arg("~*")
            .arg("+@options")
            .arg("-@write")
            .query(&mut con)
            .unwrap();
    } else {
        // Older servers load the module without categories and say why; ACL rules name commands.
        assert!(
            server
                .log()
                .contains("does not support adding new ACL categories"),
            "{}",
            server.log()
        );
        let _: () = redis::cmd("ACL")
            .arg("SETUSER")
            .arg("analyst")
            .arg("on")
            .arg(">pw")
            .arg("~*")
            .arg("+options.analytics")
            .arg("+options.query")
            .query(&mut con)
            .unwrap();
    }
    let _: () = redis::cmd("AUTH")
        .arg("analyst")
        .arg("pw")
        .query(&mut con)
        .unwrap();
    assert!(options_tests::value(&mut con, &["OPTIONS.ANALYTICS", "BTC"]).is_ok());
    let e = options_tests::error(
        &mut con,
        &["OPTIONS.INGEST", "BTC", "BTC-26DEC99-1-C", "delta", "0.5"],
    );
    assert!(e.contains("NOPERM"), "{e}");
}

/// `COMMAND DOCS name` flattened to text, to look for what it says.
fn text_value(con: &mut redis::Connection, name: &str) -> String {
    let v: redis::Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg(name)
        .query(con)
        .unwrap();
    fn flat(v: &redis::Value, out: &mut String) {
        match v {
            redis::Value::BulkString(b) => out.push_str(&String::from_utf8_lossy(b)),
            redis::Value::SimpleString(s) => out.push_str(s),
            redis::Value::Int(i) => out.push_str(&i.to_string()),
            redis::Value::Array(a) | redis::Value::Set(a) => a.iter().for_each(|x| flat(x, out)),
            redis::Value::Map(m) => m.iter().for_each(|(k, x)| {
                flat(k, out);
                flat(x, out)
            }),
            _ => {}
        }
        out.push(' ');
    }
    let mut out = String::new();
    flat(&v, &mut out);
    out
}

#[test]
fn the_module_instance_is_new_at_every_start() {
    let mut server = RedisServer::start(&[]);
    let mut con = server.connection();
    let instance = |con: &mut redis::Connection| {
        json(con, &["OPTIONS.STATS", "FORMAT", "JSON"])["instance"]
            .as_str()
            .expect("the keyless form names its instance")
            .to_string()
    };
    let first = instance(&mut con);
    assert_eq!(first.len(), 16, "{first}");
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    assert_eq!(instance(&mut con), first, "the same load answers the same");
    // Of one chain: its own figures, no instance.
    let keyed = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    assert!(keyed.get("instance").is_none(), "{keyed}");
    // RESP carries it too.
    let resp = format!("{:?}", value(&mut con, &["OPTIONS.STATS"]).unwrap());
    assert!(resp.contains(&first), "{resp}");
    server.restart();
    let mut con = server.connection();
    assert_ne!(
        instance(&mut con),
        first,
        "a restarted server is another instance"
    );
}
