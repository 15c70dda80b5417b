//! ANALYTICS.md computed from plain rows with plain loops: the expectation of the analytics
//! tests and the client-side baseline of the analytics benchmark. Deliberately written apart
//! from the module's code (brute-force scans, no shared helpers), so the two check each other.

use serde_json::Value;

const YEAR_MS: f64 = 31_536_000_000.0;

/// One contract as a client sees it: identity plus the fields that are present.
#[derive(Debug, Clone)]
pub struct Row {
    pub underlying: String,
    /// Bybit code, e.g. `3DEC26`.
    pub expiry: String,
    pub expiry_ts: i64,
    pub strike: f64,
    pub call: bool,
    pub fields: Vec<(String, f64)>,
}

impl Row {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// A module JSON row (`OPTIONS.QUERY … FORMAT JSON`); `null` fields are absent.
    pub fn from_module_json(v: &Value) -> Row {
        let fields = options_core::FIELDS
            .iter()
            .filter_map(|f| Some((f.name().to_string(), v[f.name()].as_f64()?)))
            .collect();
        Row {
            underlying: v["underlying"].as_str().unwrap_or("").to_string(),
            expiry: v["expiry"].as_str().unwrap_or("").to_string(),
            expiry_ts: v["expiry_ts"].as_i64().unwrap_or(0),
            strike: v["strike"].as_f64().unwrap_or(f64::NAN),
            call: v["type"] == "call",
            fields,
        }
    }
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
pub fn expected_expiry(rows: &[&Row], now: i64) -> Value {
    let c0 = rows[0];
    let forward = median(
        rows.iter()
            .filter_map(|r| r.get("underlying_price"))
            .collect(),
    );
    let mut strikes: Vec<f64> = rows.iter().map(|r| r.strike).collect();
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
            .filter_map(|r| Some((r.strike, r.get("mark_iv")?)))
            .collect(),
    );
    let atm_iv = forward.and_then(|f| interp(&ivs, f));
    let wing = |call: bool, target: f64| {
        let pts = merged(
            rows.iter()
                .filter(|r| r.call == call)
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
            .filter(|r| r.call == call)
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
                if r.call {
                    oi * (at - r.strike).max(0.0)
                } else {
                    oi * (r.strike - at).max(0.0)
                }
            })
            .sum()
    };
    let max_pain = if oc + op == 0.0 {
        None
    } else {
        // ANALYTICS.md: the lower strike on a tie; payouts within a relative 1e-12 are a tie
        // (they differ by rounding alone, ARCHITECTURE.md).
        let least = strikes
            .iter()
            .map(|&k| pain(k))
            .fold(f64::INFINITY, f64::min);
        strikes
            .iter()
            .copied()
            .find(|&k| pain(k) <= least + least.abs() * 1e-12)
    };
    let gex: f64 = rows
        .iter()
        .filter_map(|r| {
            let (g, oi, s) = (
                r.get("gamma")?,
                r.get("open_interest")?,
                r.get("underlying_price")?,
            );
            Some(if r.call { 1.0 } else { -1.0 } * g * oi * s * s * 0.01)
        })
        .sum();
    let notional: f64 = rows
        .iter()
        .filter_map(|r| Some(r.get("open_interest")? * r.get("underlying_price")?))
        .sum();
    serde_json::json!({
        "expiry": c0.expiry, "expiry_ts": c0.expiry_ts,
        "t": (c0.expiry_ts - now) as f64 / YEAR_MS,
        "forward": forward, "atm_strike": atm_strike, "atm_iv": atm_iv,
        "call25_iv": c25, "put25_iv": p25, "call10_iv": c10, "put10_iv": p10,
        "rr25": sub(c25, p25), "bf25": bf(c25, p25), "rr10": sub(c10, p10), "bf10": bf(c10, p10),
        "oi_calls": oc, "oi_puts": op, "volume_calls": vc, "volume_puts": vp,
        "pcr_oi": div(op, oc), "pcr_volume": div(vp, vc),
        "max_pain": max_pain, "gex": gex, "notional_oi": notional,
    })
}

/// The whole `OPTIONS.ANALYTICS` JSON reply for the selected rows at `now`, from the definitions.
pub fn expected(selected: &[&Row], now: i64, by_strike: bool) -> Value {
    let mut dates: Vec<i64> = selected.iter().map(|r| r.expiry_ts).collect();
    dates.sort();
    dates.dedup();
    let expiries: Vec<Value> = dates
        .iter()
        .map(|d| {
            let rows: Vec<&Row> = selected
                .iter()
                .copied()
                .filter(|r| r.expiry_ts == *d)
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
        "underlying": selected.first().map(|r| r.underlying.as_str()).unwrap_or("BTC"),
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
        let mut ks: Vec<f64> = selected.iter().map(|r| r.strike).collect();
        ks.sort_by(f64::total_cmp);
        ks.dedup();
        out["strikes"] = ks
            .iter()
            .map(|&k| {
                let at: Vec<&&Row> = selected.iter().filter(|r| r.strike == k).collect();
                let oi = |call: bool| at.iter().filter(|r| r.call == call).map(|r| r.get("open_interest").unwrap_or(0.0)).sum::<f64>();
                let gex: f64 = at
                    .iter()
                    .filter_map(|r| {
                        let (g, oi, s) = (r.get("gamma")?, r.get("open_interest")?, r.get("underlying_price")?);
                        Some(if r.call { 1.0 } else { -1.0 } * g * oi * s * s * 0.01)
                    })
                    .sum();
                serde_json::json!({"strike": k, "oi_calls": oi(true), "oi_puts": oi(false), "gex": gex})
            })
            .collect();
    }
    out
}
