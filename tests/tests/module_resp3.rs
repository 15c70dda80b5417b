//! Every data reply in its three forms against a real server: JSON (`FORMAT JSON`), RESP2 and
//! RESP3 (`HELLO 3`). The three must say the same thing, field for field and in the same order,
//! and RESP3 must be typed: maps where JSON has objects (Redis 7.0 and later: 6.2 has no map
//! reply for modules), doubles or integers where JSON has numbers, booleans where it has
//! `true`/`false`. RESP2 keeps its flat `name value …` arrays of bulk strings. (Redis 6.2 does not
//! tell a module which protocol its client speaks, so there a RESP3 client gets the RESP2 reply.)

use options_tests::{json, server_major_version, value, RedisServer};
use redis::Value;
use serde_json::Value as Json;

fn ingest(con: &mut redis::Connection, symbol: &str, fields: &[(&str, f64)]) {
    let mut cmd = redis::cmd("OPTIONS.INGEST");
    cmd.arg("BTC").arg(symbol);
    for (name, v) in fields {
        cmd.arg(*name).arg(format!("{v:?}"));
    }
    let _: i64 = cmd.query(con).unwrap();
}

fn load(con: &mut redis::Connection) {
    for (i, strike) in [90_000, 100_000, 110_000, 120_000, 130_000]
        .into_iter()
        .enumerate()
    {
        for (kind, delta) in [("C", 0.55), ("P", -0.45)] {
            let i = i as f64;
            let mut fields = vec![
                ("bid_price", 100.0 + i),
                ("ask_price", 110.5 + i),
                ("mark_price", 105.1 + i / 3.0),
                ("mark_iv", 0.51 + i / 100.0),
                ("delta", delta - i / 10.0),
                ("gamma", 0.000_012_3),
                ("open_interest", 10.0 + i),
                ("volume_24h", 3.0 * i),
                ("underlying_price", 100_123.5),
                ("index_price", 100_000.25),
            ];
            // Some contracts lack fields: nulls must line up in every form.
            if strike == 110_000 {
                fields.truncate(4);
            }
            ingest(con, &format!("BTC-25DEC26-{strike}-{kind}-USDT"), &fields);
            ingest(con, &format!("BTC-26MAR27-{strike}-{kind}-USDT"), &fields);
        }
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn same_number(a: f64, j: &Json) -> bool {
    j.as_f64() == Some(a)
}

/// Checks a RESP2 reply against the JSON one: objects are flat `name value` arrays, numbers
/// bulk strings (or integers) of the same value, booleans 0/1.
fn check_resp2(path: &str, v: &Value, j: &Json) {
    let ok = match (v, j) {
        (Value::Nil, Json::Null) => true,
        (Value::Int(i), Json::Number(_)) => same_number(*i as f64, j),
        (Value::Int(i), Json::Bool(b)) => *i == i64::from(*b),
        (Value::BulkString(_), Json::Number(_)) => text_of(v)
            .and_then(|t| t.parse::<f64>().ok())
            .is_some_and(|x| same_number(x, j)),
        (Value::BulkString(_) | Value::SimpleString(_), Json::String(s)) => {
            text_of(v).as_ref() == Some(s)
        }
        (Value::Array(items), Json::Array(js)) => {
            assert_eq!(items.len(), js.len(), "{path}: lengths");
            for (k, (a, b)) in items.iter().zip(js).enumerate() {
                check_resp2(&format!("{path}[{k}]"), a, b);
            }
            true
        }
        (Value::Array(items), Json::Object(fields)) => {
            assert_eq!(items.len(), 2 * fields.len(), "{path}: flat pairs");
            for (pair, (name, field)) in items.chunks(2).zip(fields) {
                assert_eq!(
                    text_of(&pair[0]).as_ref(),
                    Some(name),
                    "{path}: field order"
                );
                check_resp2(&format!("{path}.{name}"), &pair[1], field);
            }
            true
        }
        _ => false,
    };
    assert!(ok, "{path}: RESP2 {v:?} against JSON {j}");
}

/// Checks a RESP3 reply against the JSON one: objects are maps in the same order, numbers are
/// doubles or integers (never text), booleans are booleans.
fn check_resp3(path: &str, v: &Value, j: &Json) {
    let ok = match (v, j) {
        (Value::Nil, Json::Null) => true,
        (Value::Int(i), Json::Number(_)) => same_number(*i as f64, j),
        (Value::Double(d), Json::Number(_)) => same_number(*d, j),
        (Value::Boolean(b), Json::Bool(c)) => b == c,
        (Value::BulkString(_) | Value::SimpleString(_), Json::String(s)) => {
            text_of(v).as_ref() == Some(s)
        }
        (Value::Array(items), Json::Array(js)) => {
            assert_eq!(items.len(), js.len(), "{path}: lengths");
            for (k, (a, b)) in items.iter().zip(js).enumerate() {
                check_resp3(&format!("{path}[{k}]"), a, b);
            }
            true
        }
        (Value::Map(pairs), Json::Object(fields)) => {
            assert_eq!(pairs.len(), fields.len(), "{path}: fields");
            for ((k, val), (name, field)) in pairs.iter().zip(fields) {
                assert_eq!(text_of(k).as_ref(), Some(name), "{path}: field order");
                check_resp3(&format!("{path}.{name}"), val, field);
            }
            true
        }
        _ => false,
    };
    assert!(ok, "{path}: RESP3 {v:?} against JSON {j}");
}

#[test]
fn every_data_reply_says_the_same_in_json_resp2_and_resp3() {
    let server = RedisServer::start(&[]);
    let mut con2 = server.connection();
    load(&mut con2);
    let mut con3 = redis::Client::open(format!("{}?protocol=resp3", server.url()))
        .unwrap()
        .get_connection()
        .unwrap();
    let hello: Value = redis::cmd("HELLO").arg(3).query(&mut con3).unwrap();
    assert!(
        matches!(hello, Value::Map(_)),
        "the connection speaks RESP3"
    );

    let now = "1796000000000";
    let commands: &[&[&str]] = &[
        &["OPTIONS.GET", "BTC", "BTC-25DEC26-100000-C-USDT"],
        &[
            "OPTIONS.GET",
            "BTC",
            "BTC-25DEC26-110000-P-USDT",
            "FIELDS",
            "3",
            "strike",
            "delta",
            "updated_ms",
        ],
        &["OPTIONS.QUERY", "BTC"],
        &[
            "OPTIONS.QUERY",
            "BTC",
            "TYPE",
            "PUT",
            "SORTBY",
            "strike",
            "DESC",
            "LIMIT",
            "1",
            "2",
        ],
        &["OPTIONS.QUERY", "NOSUCH"],
        &["OPTIONS.CHAIN", "BTC", "25DEC26"],
        &[
            "OPTIONS.CHAIN",
            "BTC",
            "26MAR27",
            "FIELDS",
            "2",
            "mark_iv",
            "open_interest",
        ],
        &["OPTIONS.CHANGES", "BTC", "0"],
        &["OPTIONS.CHANGES", "BTC", "0", "FIELDS", "1", "mark_price"],
        &["OPTIONS.STATS", "BTC"],
        &["OPTIONS.STATS", "NOSUCH"],
        &["OPTIONS.EXPIRIES", "BTC"],
        &["OPTIONS.STRIKES", "BTC", "EXPIRY", "25DEC26"],
        &["OPTIONS.ANALYTICS", "BTC", "NOW", now],
        &["OPTIONS.ANALYTICS", "BTC", "NOW", now, "BYSTRIKE"],
        &["OPTIONS.SMILE", "BTC", "25DEC26", "NOW", now],
        &["OPTIONS.HISTORY", "BTC", "METRIC", "pcr_oi", "FROM", "0"],
    ];
    for args in commands {
        let name = args.join(" ");
        let mut with_json = args.to_vec();
        with_json.extend(["FORMAT", "JSON"]);
        let j = json(&mut con2, &with_json);
        let v2 = value(&mut con2, args).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v3 = value(&mut con3, args).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_resp2(&name, &v2, &j);
        if server_major_version() >= 7 {
            check_resp3(&name, &v3, &j);
        } else {
            assert_eq!(
                v3, v2,
                "{name}: Redis 6.2 answers RESP3 clients as RESP2 ones"
            );
        }
    }

    // Typed, not only equal: a row's numbers are doubles, its times integers.
    let row = value(
        &mut con3,
        &["OPTIONS.GET", "BTC", "BTC-25DEC26-100000-C-USDT"],
    )
    .unwrap();
    if server_major_version() >= 7 {
        let Value::Map(cells) = row else {
            panic!("a row is a map: {row:?}")
        };
        let cell = |name: &str| {
            cells
                .iter()
                .find(|(k, _)| text_of(k).as_deref() == Some(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(cell("mark_price"), Value::Double(105.1 + 1.0 / 3.0));
        assert_eq!(cell("strike"), Value::Double(100_000.0));
        assert!(matches!(cell("expiry_ts"), Value::Int(_)));
        assert_eq!(cell("bid_iv"), Value::Nil);
    }
    // A missing contract is nil in both protocols.
    for con in [&mut con2, &mut con3] {
        let v = value(con, &["OPTIONS.GET", "BTC", "BTC-25DEC26-150000-C-USDT"]).unwrap();
        assert_eq!(v, Value::Nil);
    }
}

/// A blocked `OPTIONS.CHANGES` is answered later, from Redis's reply callback: the same typed
/// reply as the immediate one.
#[test]
fn a_blocked_read_answers_in_the_clients_protocol() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    load(&mut con);
    let seq = json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"])["seq"]
        .as_u64()
        .unwrap();
    let url = format!("{}?protocol=resp3", server.url());
    let reader = std::thread::spawn(move || {
        let mut con3 = redis::Client::open(url).unwrap().get_connection().unwrap();
        let args = ["OPTIONS.CHANGES", "BTC", &seq.to_string(), "BLOCK", "10000"];
        value(&mut con3, &args).unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    ingest(
        &mut con,
        "BTC-25DEC26-90000-C-USDT",
        &[("mark_price", 7.25)],
    );
    let reply = reader.join().unwrap();
    if server_major_version() < 7 {
        assert!(matches!(reply, Value::Array(_)), "{reply:?}");
        return;
    }
    let Value::Map(fields) = reply else {
        panic!("a map: {reply:?}")
    };
    let names: Vec<_> = fields.iter().filter_map(|(k, _)| text_of(k)).collect();
    assert_eq!(names, ["seq", "reset", "data", "removed"]);
    assert_eq!(fields[1].1, Value::Boolean(false));
    let Value::Array(rows) = &fields[2].1 else {
        panic!("rows: {:?}", fields[2].1)
    };
    assert_eq!(rows.len(), 1);
    let Value::Map(cells) = &rows[0] else {
        panic!("a row is a map: {:?}", rows[0])
    };
    let mark = cells
        .iter()
        .find(|(k, _)| text_of(k).as_deref() == Some("mark_price"))
        .map(|(_, v)| v.clone());
    assert_eq!(mark, Some(Value::Double(7.25)));
}
