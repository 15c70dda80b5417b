//! `OPTIONS.ANALYTICS` against a real redis-server, on the fixture chain with holes in it
//! (contracts without delta, IV, OI, gamma, index or underlying price, and forwards that differ
//! by contract). Every figure is recomputed here from ANALYTICS.md's definitions with plain
//! loops over the fixture, never with the module's code.

use options_tests::fixture::{self, FixtureContract};
use options_tests::{error, json, value, RedisServer};
use serde_json::Value;

const YEAR_MS: f64 = 31_536_000_000.0;

/// A fixture contract as stored: the fields that were sent, by name.
struct Stored<'a> {
    c: &'a FixtureContract,
    fields: Vec<(&'static str, f64)>,
}

impl Stored<'_> {
    fn get(&self, name: &str) -> Option<f64> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
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

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Linear interpolation at x between the nearest points at or below and at or above,
/// by scanning every point (points with equal x were already merged).
fn interp(points: &[(f64, f64)], x: f64) -> Option<f64> {
    if let Some(p) = points.iter().find(|p| p.0 == x) {
        return Some(p.1);
    }
    let below = points
        .iter()
        .filter(|p| p.0 < x)
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    let above = points
        .iter()
        .filter(|p| p.0 > x)
        .min_by(|a, b| a.0.total_cmp(&b.0))?;
    Some(below.1 + (x - below.0) / (above.0 - below.0) * (above.1 - below.1))
}

/// Merges points with the same x into one with the mean y.
fn merged(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.into_iter()
        .map(|x| {
            let ys: Vec<f64> = points.iter().filter(|p| p.0 == x).map(|p| p.1).collect();
            (x, ys.iter().sum::<f64>() / ys.len() as f64)
        })
        .collect()
}

fn sub(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

fn div(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 {
        None
    } else {
        Some(a / b)
    }
}

/// ANALYTICS.md's per-expiry figures, as a JSON object with the reply's field names.
fn expected_expiry(rows: &[&Stored], now: i64) -> Value {
    let c0 = rows[0].c;
    let forward = median(
        rows.iter()
            .filter_map(|r| r.get("underlying_price"))
            .collect(),
    );
    let mut strikes: Vec<f64> = rows.iter().map(|r| r.c.strike).collect();
    strikes.sort_by(f64::total_cmp);
    strikes.dedup();
    let atm_strike = forward.map(|f| {
        let mut best = strikes[0];
        for &k in &strikes {
            if (k - f).abs() < (best - f).abs() {
                best = k;
            }
        }
        best
    });
    let ivs = merged(
        rows.iter()
            .filter_map(|r| Some((r.c.strike, r.get("mark_iv")?)))
            .collect(),
    );
    let atm_iv = forward.and_then(|f| interp(&ivs, f));
    let wing = |call: bool, target: f64| {
        let pts = merged(
            rows.iter()
                .filter(|r| r.c.call == call)
                .filter_map(|r| Some((r.get("delta")?, r.get("mark_iv")?)))
                .collect(),
        );
        interp(&pts, target)
    };
    let (c25, p25, c10, p10) = (
        wing(true, 0.25),
        wing(false, -0.25),
        wing(true, 0.10),
        wing(false, -0.10),
    );
    let bf = |c: Option<f64>, p: Option<f64>| Some((c? + p?) / 2.0 - atm_iv?);
    let sum = |call: bool, f: &str| -> f64 {
        rows.iter()
            .filter(|r| r.c.call == call)
            .map(|r| r.get(f).unwrap_or(0.0))
            .sum()
    };
    let (oc, op, vc, vp) = (
        sum(true, "open_interest"),
        sum(false, "open_interest"),
        sum(true, "volume_24h"),
        sum(false, "volume_24h"),
    );
    let pain = |at: f64| -> f64 {
        rows.iter()
            .map(|r| {
                let oi = r.get("open_interest").unwrap_or(0.0);
                if r.c.call {
                    oi * (at - r.c.strike).max(0.0)
                } else {
                    oi * (r.c.strike - at).max(0.0)
                }
            })
            .sum()
    };
    let max_pain = if oc + op == 0.0 {
        None
    } else {
        let mut best = strikes[0];
        for &k in &strikes {
            if pain(k) < pain(best) {
                best = k;
            }
        }
        Some(best)
    };
    let gex: f64 = rows
        .iter()
        .filter_map(|r| {
            let (g, oi, s) = (
                r.get("gamma")?,
                r.get("open_interest")?,
                r.get("underlying_price")?,
            );
            Some(if r.c.call { 1.0 } else { -1.0 } * g * oi * s * s * 0.01)
        })
        .sum();
    let notional: f64 = rows
        .iter()
        .filter_map(|r| Some(r.get("open_interest")? * r.get("underlying_price")?))
        .sum();
    serde_json::json!({
        "expiry": c0.expiry, "expiry_ts": c0.expiry_ts(),
        "t": (c0.expiry_ts() - now) as f64 / YEAR_MS,
        "forward": forward, "atm_strike": atm_strike, "atm_iv": atm_iv,
        "call25_iv": c25, "put25_iv": p25, "call10_iv": c10, "put10_iv": p10,
        "rr25": sub(c25, p25), "bf25": bf(c25, p25), "rr10": sub(c10, p10), "bf10": bf(c10, p10),
        "oi_calls": oc, "oi_puts": op, "volume_calls": vc, "volume_puts": vp,
        "pcr_oi": div(op, oc), "pcr_volume": div(vp, vc),
        "max_pain": max_pain, "gex": gex, "notional_oi": notional,
    })
}

/// The whole reply, from the definitions.
fn expected(selected: &[&Stored], now: i64, by_strike: bool) -> Value {
    let mut dates: Vec<i64> = selected.iter().map(|r| r.c.expiry_days).collect();
    dates.sort();
    dates.dedup();
    let expiries: Vec<Value> = dates
        .iter()
        .map(|d| {
            let rows: Vec<&Stored> = selected
                .iter()
                .copied()
                .filter(|r| r.c.expiry_days == *d)
                .collect();
            expected_expiry(&rows, now)
        })
        .collect();
    let total = |k: &str| expiries.iter().map(|e| e[k].as_f64().unwrap()).sum::<f64>();
    let series = |k: &str| -> Vec<(f64, f64)> {
        expiries
            .iter()
            .filter_map(|e| Some((e["t"].as_f64()?, e[k].as_f64()?)))
            .collect()
    };
    let w: Vec<(f64, f64)> = series("atm_iv")
        .into_iter()
        .map(|(t, iv)| (t, iv * iv * t))
        .collect();
    let tenors: Vec<Value> = [7u32, 30, 60, 90, 180]
        .iter()
        .map(|&d| {
            let t = f64::from(d) / 365.0;
            serde_json::json!({
                "days": d,
                "atm_iv": interp(&w, t).map(|w| (w / t).sqrt()),
                "rr25": interp(&series("rr25"), t),
                "bf25": interp(&series("bf25"), t),
            })
        })
        .collect();
    let mut out = serde_json::json!({
        "underlying": selected.first().map(|r| r.c.underlying.as_str()).unwrap_or("BTC"),
        "now": now,
        "index": median(selected.iter().filter_map(|r| r.get("index_price")).collect()),
        "totals": {
            "oi_calls": total("oi_calls"), "oi_puts": total("oi_puts"),
            "volume_calls": total("volume_calls"), "volume_puts": total("volume_puts"),
            "gex": total("gex"), "notional_oi": total("notional_oi"),
            "pcr_oi": div(total("oi_puts"), total("oi_calls")),
            "pcr_volume": div(total("volume_puts"), total("volume_calls")),
        },
        "tenors": tenors,
        "expiries": expiries,
    });
    if by_strike {
        let mut ks: Vec<f64> = selected.iter().map(|r| r.c.strike).collect();
        ks.sort_by(f64::total_cmp);
        ks.dedup();
        out["strikes"] = ks
            .iter()
            .map(|&k| {
                let at: Vec<&&Stored> = selected.iter().filter(|r| r.c.strike == k).collect();
                let oi = |call: bool| at.iter().filter(|r| r.c.call == call).map(|r| r.get("open_interest").unwrap_or(0.0)).sum::<f64>();
                let gex: f64 = at
                    .iter()
                    .filter_map(|r| {
                        let (g, oi, s) = (r.get("gamma")?, r.get("open_interest")?, r.get("underlying_price")?);
                        Some(if r.c.call { 1.0 } else { -1.0 } * g * oi * s * s * 0.01)
                    })
                    .sum();
                serde_json::json!({"strike": k, "oi_calls": oi(true), "oi_puts": oi(false), "gex": gex})
            })
            .collect();
    }
    out
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
        .map(|(i, fields)| Stored {
            c: &contracts[i],
            fields,
        })
        .collect();
    let btc: Vec<&Stored> = stored.iter().filter(|s| s.c.underlying == "BTC").collect();
    let now = fixture::now_ms();
    let now_s = now.to_string();

    // Everything, by strike.
    let got = analytics(&mut con, &["NOW", &now_s, "BYSTRIKE"]);
    let want = expected(&btc, now, true);
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
        &["SETTLE", "USDT", "EXPIRY", e[0], &second_iso, "NOW", &now_s],
    );
    let picked: Vec<&Stored> = usdt
        .iter()
        .copied()
        .filter(|s| &s.c.expiry == e[0] || &s.c.expiry == e[1])
        .collect();
    assert_close(&got, &expected(&picked, now, false), "USDT, two expiries");
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
    assert_close(
        &got,
        &expected(&live, later, false),
        "after the first expiry",
    );

    // An expiry filter naming no live expiry: empty expiries, null figures.
    let got = analytics(&mut con, &["EXPIRY", "1JAN99", "NOW", &now_s]);
    assert_eq!(got["expiries"], serde_json::json!([]));
    assert!(got["index"].is_null() && got["totals"]["pcr_oi"].is_null());
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
        ["underlying", "now", "index", "totals", "tenors", "expiries"]
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
            vec!["OPTIONS.ANALYTICS", "BTC", "SETTLE", "BTC"],
            "SETTLE must be USDC or USDT",
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
}
