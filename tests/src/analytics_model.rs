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
    /// Settled in USDT (else USDC).
    pub usdt: bool,
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
            usdt: v["settle"] == "USDT",
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

// ---------------------------------------------------------------------------------------------
// The volatility index and the smile figures (ANALYTICS.md, "Volatility index", "Fitted smiles")

/// A contract's mid by the index's rule: a bid above zero and an ask not below it.
fn mid(r: &Row) -> Option<f64> {
    let (bid, ask) = (r.get("bid_price")?, r.get("ask_price")?);
    (bid > 0.0 && ask >= bid).then_some((bid + ask) / 2.0)
}

fn has_bid(r: Option<&Row>) -> bool {
    r.and_then(|r| r.get("bid_price")).is_some_and(|b| b > 0.0)
}

/// The CBOE variance of one expiry's rows (both settle coins may be among them), by a plain
/// reading of the definition.
pub fn cboe_variance(rows: &[&Row], t: f64, rate: f64) -> Option<f64> {
    if t <= 0.0 {
        return None;
    }
    let settle_of = |r: &Row| if r.usdt { "USDT" } else { "USDC" };
    // The coin with more strikes where the call and the put both have a bid; USDC on a tie.
    let count = |coin: &str| -> usize {
        let mut ks: Vec<f64> = rows
            .iter()
            .filter(|r| settle_of(r) == coin)
            .map(|r| r.strike)
            .collect();
        ks.sort_by(f64::total_cmp);
        ks.dedup();
        ks.iter()
            .filter(|&&k| {
                let side = |call: bool| {
                    rows.iter()
                        .find(|r| settle_of(r) == coin && r.strike == k && r.call == call)
                };
                has_bid(side(true).copied()) && has_bid(side(false).copied())
            })
            .count()
    };
    let coin = if count("USDT") > count("USDC") {
        "USDT"
    } else {
        "USDC"
    };
    let of: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| settle_of(r) == coin)
        .collect();
    let mut ks: Vec<f64> = of.iter().map(|r| r.strike).collect();
    ks.sort_by(f64::total_cmp);
    ks.dedup();
    let side = |k: f64, call: bool| of.iter().copied().find(|r| r.strike == k && r.call == call);
    let mid_at = |k: f64, call: bool| side(k, call).and_then(mid);
    // K*: least |C − P| among strikes with both mids, the lower on a tie.
    let mut k_star: Option<(f64, f64)> = None;
    for &k in &ks {
        if let (Some(c), Some(p)) = (mid_at(k, true), mid_at(k, false)) {
            if k_star.is_none_or(|(_, d)| (c - p).abs() < d.abs()) {
                k_star = Some((k, c - p));
            }
        }
    }
    let (k_star, diff) = k_star?;
    let f = k_star + (rate * t).exp() * diff;
    let k0 = ks
        .iter()
        .copied()
        .filter(|&k| k <= f)
        .fold(f64::NAN, f64::max);
    if k0.is_nan() {
        return None;
    }
    let mut used: Vec<(f64, f64)> = Vec::new();
    for call in [false, true] {
        let beyond: Vec<f64> = if call {
            ks.iter().copied().filter(|&k| k > k0).collect()
        } else {
            ks.iter().copied().filter(|&k| k < k0).rev().collect()
        };
        let mut zeros = 0;
        let mut got = 0;
        for k in beyond {
            let r = side(k, call);
            if has_bid(r) {
                zeros = 0;
                if let Some(m) = r.and_then(mid) {
                    used.push((k, m));
                    got += 1;
                }
            } else {
                zeros += 1;
                if zeros == 2 {
                    break;
                }
            }
        }
        if got == 0 {
            return None;
        }
    }
    let q0 = match (mid_at(k0, true), mid_at(k0, false)) {
        (Some(c), Some(p)) => Some((c + p) / 2.0),
        (c, p) => c.or(p),
    };
    if let Some(q) = q0 {
        used.push((k0, q));
    }
    used.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut sum = 0.0;
    for i in 0..used.len() {
        let dk = if i == 0 {
            used[1].0 - used[0].0
        } else if i == used.len() - 1 {
            used[i].0 - used[i - 1].0
        } else {
            (used[i + 1].0 - used[i - 1].0) / 2.0
        };
        sum += dk / used[i].0.powi(2) * (rate * t).exp() * used[i].1;
    }
    Some(2.0 / t * sum - (f / k0 - 1.0).powi(2) / t)
}

/// The index from every expiry's `(t, variance)`.
pub fn cboe_index(points: &[(f64, f64)]) -> Option<f64> {
    let n30 = 30.0 / 365.0;
    let near = points
        .iter()
        .filter(|p| p.0 <= n30)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let next = points
        .iter()
        .filter(|p| p.0 > n30)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let total = match (near, next) {
        (Some(&(t1, v1)), _) if t1 == n30 => t1 * v1,
        (Some(&(t1, v1)), Some(&(t2, v2))) => {
            t1 * v1 * (t2 - n30) / (t2 - t1) + t2 * v2 * (n30 - t1) / (t2 - t1)
        }
        _ => return None,
    };
    Some(100.0 * (total * 365.0 / 30.0).sqrt())
}

fn svi_w(s: &Value, k: f64) -> f64 {
    let p = |n: &str| s[n].as_f64().unwrap();
    let x = k - p("m");
    p("a") + p("b") * (p("rho") * x + (x * x + p("sigma") * p("sigma")).sqrt())
}

/// Gatheral's density factor from the parameters, derivatives taken by hand.
fn svi_density(s: &Value, k: f64) -> f64 {
    let p = |n: &str| s[n].as_f64().unwrap();
    let (b, rho, m, sig) = (p("b"), p("rho"), p("m"), p("sigma"));
    let root = ((k - m).powi(2) + sig * sig).sqrt();
    let w = svi_w(s, k);
    if w <= 0.0 {
        return -1.0;
    }
    let d1 = b * (rho + (k - m) / root);
    let d2 = b * sig * sig / root.powi(3);
    (1.0 - k * d1 / (2.0 * w)).powi(2) - d1 * d1 / 4.0 * (1.0 / w + 0.25) + d2 / 2.0
}

/// The smile points of an expiry as the definition takes them: `(k, iv)` of each strike with
/// an IV (the mean of its contracts'), `k = ln(K/forward)`.
pub fn smile_points(rows: &[&Row], forward: f64) -> Vec<(f64, f64)> {
    merged(
        rows.iter()
            .filter_map(|r| Some((r.strike, r.get("mark_iv")?)))
            .collect(),
    )
    .into_iter()
    .filter(|&(k, iv)| k > 0.0 && iv > 0.0)
    .map(|(k, iv)| ((k / forward).ln(), iv))
    .collect()
}

/// What the definitions say of a fit the module returned: its IV error, and the butterfly and
/// calendar flags on the 201-point grid (`previous`: the chain's previous fitted expiry).
pub fn smile_figures(
    svi: &Value,
    points: &[(f64, f64)],
    t: f64,
    previous: Option<&Value>,
) -> (f64, bool, bool) {
    let n = points.len() as f64;
    let rmse = (points
        .iter()
        .map(|&(k, iv)| (iv - (svi_w(svi, k) / t).max(0.0).sqrt()).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let (lo, hi) = (points[0].0 - 0.5, points[points.len() - 1].0 + 0.5);
    let grid: Vec<f64> = (0..201)
        .map(|i| lo + (hi - lo) * i as f64 / 200.0)
        .collect();
    let butterfly = grid.iter().any(|&k| {
        let g = svi_density(svi, k);
        g.is_nan() || g < 0.0
    });
    let calendar = previous.is_some_and(|p| grid.iter().any(|&k| svi_w(svi, k) < svi_w(p, k)));
    (rmse, butterfly, calendar)
}

/// The least sum of squared errors in `w` that raw SVI reaches on `points` (`(k, w)`), found
/// by a generic search written apart from the module's fit: a coarse grid over `(ρ, m, σ)`
/// with `(a, b)` by least squares, then a compass search on all five parameters, the
/// constraints as penalties.
pub fn svi_best_sse(points: &[(f64, f64)]) -> f64 {
    let cost = |p: [f64; 5]| -> f64 {
        let [a, b, rho, m, sig] = p;
        if b < 0.0
            || rho.abs() > 0.999
            || sig < 1e-4
            || a + b * sig * (1.0 - rho * rho).sqrt() < 0.0
        {
            return f64::INFINITY;
        }
        points
            .iter()
            .map(|&(k, w)| {
                (a + b * (rho * (k - m) + ((k - m).powi(2) + sig * sig).sqrt()) - w).powi(2)
            })
            .sum()
    };
    let kmin = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let kmax = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let mut starts: Vec<(f64, [f64; 5])> = Vec::new();
    for i in 0..=10 {
        let rho = -0.95 + 0.19 * i as f64;
        for j in 0..=10 {
            let m = kmin - 0.2 + (kmax - kmin + 0.4) * j as f64 / 10.0;
            for s in 0..8 {
                let sig = 0.005 * 2f64.powi(s);
                let g: Vec<f64> = points
                    .iter()
                    .map(|&(k, _)| rho * (k - m) + ((k - m).powi(2) + sig * sig).sqrt())
                    .collect();
                let n = points.len() as f64;
                let (sg, sgg) = (g.iter().sum::<f64>(), g.iter().map(|x| x * x).sum::<f64>());
                let sw: f64 = points.iter().map(|p| p.1).sum();
                let sgw: f64 = points.iter().zip(&g).map(|(p, x)| p.1 * x).sum();
                let det = n * sgg - sg * sg;
                if det.abs() < 1e-300 {
                    continue;
                }
                let b = ((n * sgw - sg * sw) / det).max(0.0);
                let a = ((sw - b * sg) / n).max(-b * sig * (1.0 - rho * rho).sqrt());
                let p = [a, b, rho, m, sig];
                starts.push((cost(p), p));
            }
        }
    }
    starts.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut best = f64::INFINITY;
    for &(_, start) in starts.iter().take(6) {
        let mut p = start;
        let mut f = cost(p);
        let mut step = [0.01, 0.01, 0.05, 0.05, 0.05];
        for _ in 0..20_000 {
            let mut moved = false;
            for i in 0..5 {
                for dir in [1.0, -1.0] {
                    let mut q = p;
                    q[i] += dir * step[i];
                    let fq = cost(q);
                    if fq < f {
                        (p, f, moved) = (q, fq, true);
                    }
                }
            }
            if !moved {
                for s in &mut step {
                    *s /= 2.0;
                }
                if step.iter().all(|s| *s < 1e-12) {
                    break;
                }
            }
        }
        best = best.min(f);
    }
    best
}

/// `expected`'s reply with the volatility figures the definitions add, in the reply's order:
/// `vol_index` after `index` (from every expiry in `scope`, all live rows of the settle coins
/// asked), and per expiry `variance`, `expected_move` and the smile figures of the module's own
/// fit (`fits`: `svi` by expiry code, from a reply of every expiry of the same coins), its IV
/// error and flags recomputed here.
pub fn with_volatility(
    want: Value,
    scope: &[&Row],
    now: i64,
    rate: f64,
    fits: &std::collections::BTreeMap<String, Value>,
) -> Value {
    let mut dates: Vec<(i64, String)> = scope
        .iter()
        .map(|r| (r.expiry_ts, r.expiry.clone()))
        .collect();
    dates.sort();
    dates.dedup();
    let of = |ts: i64| -> Vec<&Row> {
        scope
            .iter()
            .copied()
            .filter(|r| r.expiry_ts == ts)
            .collect()
    };
    let t_of = |ts: i64| (ts - now) as f64 / YEAR_MS;
    let variances: Vec<(f64, f64)> = dates
        .iter()
        .filter_map(|(ts, _)| Some((t_of(*ts), cboe_variance(&of(*ts), t_of(*ts), rate)?)))
        .collect();
    let Value::Object(top) = want else {
        return want;
    };
    let mut out = serde_json::Map::new();
    for (k, v) in top {
        let is_index = k == "index";
        if k == "expiries" {
            let list: Vec<Value> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let ts = e["expiry_ts"].as_i64().unwrap();
                    let t = t_of(ts);
                    let rows = of(ts);
                    let mut e = e.clone();
                    e["variance"] = serde_json::json!(cboe_variance(&rows, t, rate));
                    e["expected_move"] = match (e["forward"].as_f64(), e["atm_iv"].as_f64()) {
                        (Some(f), Some(iv)) => serde_json::json!(f * iv * t.sqrt()),
                        _ => Value::Null,
                    };
                    let code = e["expiry"].as_str().unwrap().to_string();
                    let previous = dates
                        .iter()
                        .filter(|(d, _)| *d < ts)
                        .rev()
                        .find_map(|(_, c)| fits.get(c).filter(|s| !s.is_null()));
                    match (
                        fits.get(&code).filter(|s| !s.is_null()),
                        e["forward"].as_f64(),
                    ) {
                        (Some(svi), Some(f)) => {
                            let (rmse, butterfly, calendar) =
                                smile_figures(svi, &smile_points(&rows, f), t, previous);
                            e["svi"] = svi.clone();
                            e["svi_rmse"] = serde_json::json!(rmse);
                            e["butterfly_arb"] = serde_json::json!(butterfly);
                            e["calendar_arb"] = serde_json::json!(calendar);
                        }
                        _ => {
                            for k in ["svi", "svi_rmse", "butterfly_arb", "calendar_arb"] {
                                e[k] = Value::Null;
                            }
                        }
                    }
                    e
                })
                .collect();
            out.insert(k, Value::Array(list));
        } else {
            out.insert(k, v);
        }
        if is_index {
            out.insert(
                "vol_index".into(),
                serde_json::json!(cboe_index(&variances)),
            );
        }
    }
    Value::Object(out)
}

/// `svi` by expiry code of a module reply.
pub fn fits_of(reply: &Value) -> std::collections::BTreeMap<String, Value> {
    reply["expiries"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    (
                        e["expiry"].as_str().unwrap_or("").to_string(),
                        e["svi"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
