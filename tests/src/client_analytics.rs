//! ANALYTICS.md computed in a client the way a competent client would: one `OPTIONS.QUERY` of
//! only the fields the figures need, rows decoded into a typed struct, then sorting and prefix
//! sums, O(n log n) in all. The analytics benchmark's baseline: what `OPTIONS.ANALYTICS` saves a
//! client that does its own work well (`analytics_model` is the tests' brute-force oracle and
//! would flatter the module). Checked against that oracle below.

use serde::Deserialize;
use serde_json::{json, Value};

const YEAR_MS: f64 = 31_536_000_000.0;
const TENORS: [u32; 5] = [7, 30, 60, 90, 180];

/// The columns the figures read.
pub const QUERY_FIELDS: [&str; 11] = [
    "expiry",
    "expiry_ts",
    "strike",
    "type",
    "underlying_price",
    "index_price",
    "mark_iv",
    "delta",
    "gamma",
    "open_interest",
    "volume_24h",
];

/// The query a client sends: `OPTIONS.QUERY key FIELDS n … FORMAT JSON`.
pub fn query(key: &str) -> redis::Cmd {
    use options_client::Command;
    options_client::cmd::Query::new(key)
        .fields(&QUERY_FIELDS)
        .to_cmd()
}

#[derive(Deserialize)]
struct Page {
    data: Vec<In>,
}

#[derive(Deserialize)]
struct In {
    expiry: String,
    expiry_ts: i64,
    strike: f64,
    #[serde(rename = "type")]
    kind: String,
    underlying_price: Option<f64>,
    index_price: Option<f64>,
    mark_iv: Option<f64>,
    delta: Option<f64>,
    gamma: Option<f64>,
    open_interest: Option<f64>,
    volume_24h: Option<f64>,
}

fn median_of(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Linear interpolation at `x` over points sorted by x with distinct x (binary search).
fn interp_sorted(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = points.partition_point(|p| p.0 < x);
    if let Some(p) = points.get(i).filter(|p| p.0 == x) {
        return Some(p.1);
    }
    let (lo, hi) = (points.get(i.checked_sub(1)?)?, points.get(i)?);
    Some(lo.1 + (x - lo.0) / (hi.0 - lo.0) * (hi.1 - lo.1))
}

/// Points sorted by x, equal x merged into their mean y.
fn merge_sorted(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64, usize)> = Vec::with_capacity(points.len());
    for (x, y) in points {
        match out.last_mut() {
            Some(last) if last.0 == x => {
                last.1 += y;
                last.2 += 1;
            }
            _ => out.push((x, y, 1)),
        }
    }
    out.into_iter().map(|(x, s, n)| (x, s / n as f64)).collect()
}

fn expiry_figures(rows: &[In], now: i64) -> Value {
    let c0 = &rows[0];
    let mut prices: Vec<f64> = rows.iter().filter_map(|r| r.underlying_price).collect();
    let forward = median_of(&mut prices);
    // Rows arrive sorted by strike within an expiry; per strike: OI of calls and puts, IVs.
    let mut strikes: Vec<f64> = Vec::new();
    let (mut call_oi, mut put_oi): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut ivs: Vec<(f64, f64)> = Vec::new();
    let mut calls: Vec<(f64, f64)> = Vec::new();
    let mut puts: Vec<(f64, f64)> = Vec::new();
    let (mut oc, mut op, mut vc, mut vp, mut gex, mut notional) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for r in rows {
        if strikes.last() != Some(&r.strike) {
            strikes.push(r.strike);
            call_oi.push(0.0);
            put_oi.push(0.0);
        }
        let call = r.kind == "call";
        let oi = r.open_interest.unwrap_or(0.0);
        let last = strikes.len() - 1;
        if call {
            call_oi[last] += oi;
            oc += oi;
            vc += r.volume_24h.unwrap_or(0.0);
        } else {
            put_oi[last] += oi;
            op += oi;
            vp += r.volume_24h.unwrap_or(0.0);
        }
        if let Some(iv) = r.mark_iv {
            ivs.push((r.strike, iv));
            if let Some(d) = r.delta {
                if call { &mut calls } else { &mut puts }.push((d, iv));
            }
        }
        if let (Some(g), Some(oi), Some(s)) = (r.gamma, r.open_interest, r.underlying_price) {
            gex += if call { 1.0 } else { -1.0 } * g * oi * s * s * 0.01;
        }
        if let (Some(oi), Some(s)) = (r.open_interest, r.underlying_price) {
            notional += oi * s;
        }
    }
    let atm_strike = forward.map(|f| {
        let i = strikes.partition_point(|k| *k < f);
        match (i.checked_sub(1).map(|j| strikes[j]), strikes.get(i)) {
            (Some(lo), Some(&hi)) if (hi - f).abs() < (f - lo).abs() => hi,
            (Some(lo), _) => lo,
            (None, Some(&hi)) => hi,
            (None, None) => f64::NAN,
        }
    });
    let ivs = merge_sorted(ivs);
    let atm_iv = forward.and_then(|f| interp_sorted(&ivs, f));
    let (calls, puts) = (merge_sorted(calls), merge_sorted(puts));
    let c25 = interp_sorted(&calls, 0.25);
    let p25 = interp_sorted(&puts, -0.25);
    let c10 = interp_sorted(&calls, 0.10);
    let p10 = interp_sorted(&puts, -0.10);
    let diff = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
    let fly = |c: Option<f64>, p: Option<f64>| Some((c? + p?) / 2.0 - atm_iv?);
    let ratio = |a: f64, b: f64| (b != 0.0).then(|| a / b);
    // Max pain by prefix sums: pain(K_m) = K_m·ΣC_<m − ΣC·K_<m + ΣP·K_>m − K_m·ΣP_>m.
    let max_pain = (oc + op != 0.0).then(|| {
        let n = strikes.len();
        let mut pain = vec![0.0; n];
        let (mut c, mut ck) = (0.0, 0.0);
        for m in 0..n {
            pain[m] = strikes[m] * c - ck;
            c += call_oi[m];
            ck += call_oi[m] * strikes[m];
        }
        let (mut p, mut pk) = (0.0, 0.0);
        for m in (0..n).rev() {
            pain[m] += pk - strikes[m] * p;
            p += put_oi[m];
            pk += put_oi[m] * strikes[m];
        }
        let least = pain.iter().copied().fold(f64::INFINITY, f64::min);
        let at = pain
            .iter()
            .position(|v| *v <= least + least.abs() * 1e-12)
            .unwrap_or(0);
        strikes[at]
    });
    json!({
        "expiry": c0.expiry, "expiry_ts": c0.expiry_ts,
        "t": (c0.expiry_ts - now) as f64 / YEAR_MS,
        "forward": forward, "atm_strike": atm_strike, "atm_iv": atm_iv,
        "call25_iv": c25, "put25_iv": p25, "call10_iv": c10, "put10_iv": p10,
        "rr25": diff(c25, p25), "bf25": fly(c25, p25), "rr10": diff(c10, p10), "bf10": fly(c10, p10),
        "oi_calls": oc, "oi_puts": op, "volume_calls": vc, "volume_puts": vp,
        "pcr_oi": ratio(op, oc), "pcr_volume": ratio(vp, vc),
        "max_pain": max_pain, "gex": gex, "notional_oi": notional,
    })
}

/// The figures of `OPTIONS.ANALYTICS` (without `BYSTRIKE`) from the reply of `query`.
pub fn compute(reply: &[u8], underlying: &str, now: i64) -> Value {
    let page: Page = serde_json::from_slice(reply).expect("an OPTIONS.QUERY page");
    let mut rows: Vec<In> = page
        .data
        .into_iter()
        .filter(|r| r.expiry_ts > now)
        .collect();
    // The chain's order already is (expiry, strike); sorting keeps this right for any order.
    rows.sort_by(|a, b| {
        a.expiry_ts
            .cmp(&b.expiry_ts)
            .then(a.strike.total_cmp(&b.strike))
    });
    let mut index: Vec<f64> = rows.iter().filter_map(|r| r.index_price).collect();
    let index = median_of(&mut index);
    let expiries: Vec<Value> = rows
        .chunk_by(|a, b| a.expiry_ts == b.expiry_ts)
        .map(|group| expiry_figures(group, now))
        .collect();
    let total = |k: &str| expiries.iter().filter_map(|e| e[k].as_f64()).sum::<f64>();
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
    let (rr, bf) = (series("rr25"), series("bf25"));
    let tenors: Vec<Value> = TENORS
        .iter()
        .map(|&d| {
            let t = f64::from(d) / 365.0;
            json!({
                "days": d,
                "atm_iv": interp_sorted(&w, t).map(|w| (w / t).sqrt()),
                "rr25": interp_sorted(&rr, t),
                "bf25": interp_sorted(&bf, t),
            })
        })
        .collect();
    let (oc, op, vc, vp) = (
        total("oi_calls"),
        total("oi_puts"),
        total("volume_calls"),
        total("volume_puts"),
    );
    json!({
        "underlying": underlying,
        "now": now,
        "index": index,
        "totals": {
            "oi_calls": oc, "oi_puts": op, "volume_calls": vc, "volume_puts": vp,
            "gex": total("gex"), "notional_oi": total("notional_oi"),
            "pcr_oi": (oc != 0.0).then(|| op / oc),
            "pcr_volume": (vc != 0.0).then(|| vp / vc),
        },
        "tenors": tenors,
        "expiries": expiries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics_model::{expected, Row};
    use crate::fixture;

    /// Every number of `got` within a relative 1e-9 (absolute 1e-12) of `want`.
    fn close(got: &Value, want: &Value, path: &str) {
        match (got, want) {
            (Value::Object(g), Value::Object(w)) => {
                for (k, wv) in w {
                    close(&g[k], wv, &format!("{path}.{k}"));
                }
            }
            (Value::Array(g), Value::Array(w)) => {
                assert_eq!(g.len(), w.len(), "{path}");
                for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                    close(gv, wv, &format!("{path}[{i}]"));
                }
            }
            _ => match (got.as_f64(), want.as_f64()) {
                (Some(a), Some(b)) => {
                    assert!(
                        (a - b).abs() <= 1e-12f64.max(1e-9 * b.abs()),
                        "{path}: {a} vs {b}"
                    )
                }
                _ => assert_eq!(got, want, "{path}"),
            },
        }
    }

    #[test]
    fn agrees_with_the_definitions() {
        let now = fixture::now_ms();
        for seed in [1, 2, 3] {
            let contracts: Vec<fixture::FixtureContract> = fixture::btc_chain(6, 40, seed);
            // The rows as the module writes them, with the fields the query names.
            let data: Vec<Value> = contracts
                .iter()
                .map(|c| {
                    let mut row = json!({
                        "symbol": c.symbol, "underlying": c.underlying, "expiry": c.expiry, "expiry_ts": c.expiry_ts(),
                        "strike": c.strike, "type": if c.call { "call" } else { "put" },
                    });
                    for f in QUERY_FIELDS.iter().skip(4) {
                        row[*f] = json!(c.value(f));
                    }
                    row
                })
                .collect();
            let reply = serde_json::to_vec(&json!({ "data": data })).unwrap();
            let rows: Vec<Row> = data.iter().map(Row::from_module_json).collect();
            let refs: Vec<&Row> = rows.iter().collect();
            close(
                &compute(&reply, "BTC", now),
                &expected(&refs, now, false),
                "analytics",
            );
        }
    }
}
