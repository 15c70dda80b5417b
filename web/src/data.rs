//! The data API's endpoints (the seed's port 8000): option objects, filters, ATM, greeks
//! summaries, recent updates, exports. Each is one module query per asset plus arithmetic.

use options_client::cmd as module;
use options_client::reply::Row;
use options_core::python_float;
use serde_json::{json, Map, Value};
use warp::reply::Response;

use crate::api::{object_from_row, OBJECT_FIELDS};
use crate::assets::{asset_config, known_asset};
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Query};
use crate::respond::{json_value, typed};
use crate::state::State;
use crate::stats::data_api_stats;

/// The rows `query` matches, with the option-object fields plus what the endpoints derive
/// from.
async fn rows(st: &State, query: module::Query) -> ApiResult<Vec<Row>> {
    let columns = OBJECT_FIELDS
        .iter()
        .chain(&["strike", "expiry", "type", "updated_ms"]);
    let query = module::Query {
        fields: Some(columns.map(|c| c.to_string()).collect()),
        ..query
    };
    Ok(typed(st, &query).await?.data)
}

/// Every row of `asset`.
async fn all_rows(st: &State, asset: &str) -> ApiResult<Vec<Row>> {
    rows(st, module::Query::new(asset)).await
}

/// The assets "all" means, as in the seed (`KEYS option:*`): every underlying with data,
/// whether or not `config:assets` lists it. Configured assets come first in their order (an
/// empty one adds nothing to a list), then the other chains by name.
pub async fn all_assets(st: &State) -> ApiResult<Vec<String>> {
    let config = asset_config(st).await?;
    let mut out: Vec<String> = config.entries().iter().map(|a| a.symbol.clone()).collect();
    for key in st.redis.chain_keys().await? {
        if !out.contains(&key) {
            out.push(key);
        }
    }
    Ok(out)
}

/// `asset` parameter or every asset.
async fn scope(st: &State, q: &Query) -> ApiResult<(Value, Vec<String>)> {
    match params::filter(q, "asset") {
        Some(a) => {
            let a = params::asset(a)?;
            Ok((json!(a), vec![a]))
        }
        None => Ok((json!("all"), all_assets(st).await?)),
    }
}

/// A float parameter echoed like FastAPI: the default as written (int or float), a given
/// value as a float.
fn echo(q: &Query, name: &'static str, default: Value) -> ApiResult<(f64, Value)> {
    match params::number(q, name)? {
        Some(v) => Ok((v, json!(v))),
        None => Ok((default.as_f64().unwrap_or(0.0), default)),
    }
}

/// `GET /api/assets/{asset}?expiry&min_volume&min_iv`.
pub async fn asset_options(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = params::asset(asset)?;
    let expiry = params::expiry(q, "expiry")?;
    let (min_volume, mv) = echo(q, "min_volume", json!(0))?;
    let (min_iv, mi) = echo(q, "min_iv", json!(0))?;
    let query = module::Query {
        expiries: expiry.into_iter().collect(),
        ..module::Query::new(&asset)
    };
    let data: Vec<Value> = rows(st, query)
        .await?
        .iter()
        .filter(|r| min_volume <= 0.0 || r.number("volume_24h").unwrap_or(0.0) >= min_volume)
        .filter(|r| min_iv <= 0.0 || r.number("mark_iv").unwrap_or(0.0) >= min_iv)
        .map(|r| Value::Object(object_from_row(r)))
        .collect();
    Ok(json_value(&json!({
        "asset": asset,
        "count": data.len(),
        "filters": {"expiry": params::filter(q, "expiry"), "min_volume": mv, "min_iv": mi},
        "data": data,
    })))
}

/// `GET /api/symbols?asset`.
pub async fn symbols(st: &State, q: &Query) -> ApiResult<Response> {
    let (label, assets) = scope(st, q).await?;
    let mut out = Vec::new();
    for a in assets {
        let page = typed(st, &module::Query::new(&a).fields(&["symbol"])).await?;
        out.extend(page.data.iter().map(|r| r.symbol().to_string()));
    }
    Ok(json_value(
        &json!({"count": out.len(), "asset": label, "symbols": out}),
    ))
}

/// `GET /api/atm/{asset}?num_strikes=5`: the `2 × num_strikes` contracts nearest the spot.
pub async fn atm(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = params::asset(asset)?;
    let n = params::count(q, "num_strikes", 1000)?.unwrap_or(5);
    let all = all_rows(st, &asset).await?;
    let spot = nearest_forward(&all);
    let mut data: Vec<(f64, Value)> = match spot {
        None => Vec::new(),
        Some(spot) => all
            .iter()
            .filter_map(|r| {
                let d = (r.number("strike")? - spot).abs();
                let mut o = object_from_row(r);
                o.insert("distance_from_spot".into(), json!(d));
                Some((d, Value::Object(o)))
            })
            .collect(),
    };
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    data.truncate(2 * n);
    let data: Vec<Value> = data.into_iter().map(|(_, v)| v).collect();
    Ok(json_value(
        &json!({"asset": asset, "num_strikes": n, "count": data.len(), "data": data}),
    ))
}

/// The spot `/api/atm` measures distances from: the forward of the nearest expiry, by the
/// median rule of ANALYTICS.md (the median of that expiry's positive underlying prices), so one
/// stale contract cannot move it. The seed took the first contract's price in `KEYS` order.
/// Rows come from `OPTIONS.QUERY` in expiry order.
fn nearest_forward(rows: &[Row]) -> Option<f64> {
    let first = rows.first()?.text("expiry")?;
    let mut prices: Vec<f64> = rows
        .iter()
        .take_while(|r| r.text("expiry") == Some(first))
        .filter_map(|r| r.number("underlying_price"))
        .filter(|p| *p > 0.0)
        .collect();
    if prices.is_empty() {
        return None;
    }
    prices.sort_by(f64::total_cmp);
    let n = prices.len();
    Some(if n % 2 == 1 {
        prices[n / 2]
    } else {
        (prices[n / 2 - 1] + prices[n / 2]) / 2.0
    })
}

pub enum Threshold {
    Volume,
    Iv,
}

/// `GET /api/high-volume?min_volume=100000&asset` and `GET /api/high-iv?min_iv=1.0&asset`.
pub async fn threshold(st: &State, q: &Query, kind: Threshold) -> ApiResult<Response> {
    let (param, field, default) = match kind {
        Threshold::Volume => ("min_volume", "volume_24h", json!(100000)),
        Threshold::Iv => ("min_iv", "mark_iv", json!(1.0)),
    };
    let (min, echoed) = echo(q, param, default)?;
    let (label, assets) = scope(st, q).await?;
    let mut data = Vec::new();
    for a in assets {
        for r in all_rows(st, &a).await? {
            if r.number(field).unwrap_or(0.0) >= min {
                data.push(Value::Object(object_from_row(&r)));
            }
        }
    }
    let mut m = Map::new();
    m.insert(param.into(), echoed);
    m.insert("asset".into(), label);
    m.insert("count".into(), json!(data.len()));
    m.insert("data".into(), json!(data));
    Ok(json_value(&Value::Object(m)))
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// `GET /api/greeks/{asset}`. The sample standard deviation of one value is undefined: it is
/// `null` here (the seed answered 500).
pub async fn greeks(st: &State, asset: &str) -> ApiResult<Response> {
    let asset = params::asset(asset)?;
    let all = all_rows(st, &asset).await?;
    let col = |f: &str| -> Vec<f64> { all.iter().filter_map(|r| r.number(f)).collect() };
    let (delta, gamma, theta, vega) = (col("delta"), col("gamma"), col("theta"), col("vega"));
    if delta.is_empty() {
        return Ok(json_value(&json!({"asset": asset, "summary": {}})));
    }
    let m = mean(&delta);
    let std = (delta.len() > 1).then(|| {
        (delta.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (delta.len() - 1) as f64).sqrt()
    });
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let or_null = |v: &[f64], f: &dyn Fn(&[f64]) -> f64| {
        if v.is_empty() {
            Value::Null
        } else {
            json!(f(v))
        }
    };
    Ok(json_value(&json!({
        "asset": asset,
        "summary": {
            "delta": {"mean": m, "std": std, "min": min(&delta), "max": max(&delta)},
            "gamma": {"mean": or_null(&gamma, &mean), "max": or_null(&gamma, &max)},
            "theta": {"total": theta.iter().sum::<f64>(), "mean": or_null(&theta, &mean)},
            "vega": {"total": vega.iter().sum::<f64>(), "mean": or_null(&vega, &mean)},
        }
    })))
}

/// `GET /api/recent?seconds=60`: contracts updated in the last `seconds`, newest first. (The
/// seed never stored a timestamp and always answered an empty list; the module keeps one.)
pub async fn recent(st: &State, q: &Query) -> ApiResult<Response> {
    let seconds = params::count(q, "seconds", 86_400 * 7)?.unwrap_or(60);
    let data = updated_since(st, crate::now_ms() - seconds as i64 * 1000).await?;
    Ok(json_value(
        &json!({"seconds": seconds, "count": data.len(), "data": data}),
    ))
}

/// Option objects (with `timestamp`) updated at or after `since` (Unix ms), newest first.
pub async fn updated_since(st: &State, since: i64) -> ApiResult<Vec<Value>> {
    let mut data: Vec<(i64, Value)> = Vec::new();
    for a in all_assets(st).await? {
        let newest_first = module::Query {
            sort_by: Some(("updated_ms".into(), true)),
            ..module::Query::new(&a)
        };
        for r in rows(st, newest_first).await? {
            let ms = r.number("updated_ms").unwrap_or(0.0) as i64;
            if ms < since {
                break;
            }
            let mut o = object_from_row(&r);
            o.insert("timestamp".into(), json!(ms as f64 / 1000.0));
            data.push((ms, Value::Object(o)));
        }
    }
    data.sort_by_key(|d| std::cmp::Reverse(d.0));
    Ok(data.into_iter().map(|(_, v)| v).collect())
}

/// `/ws`: every 5 s, if anything changed in the last 5 s, `{"type":"update","timestamp",
/// "count","data":[≤10 option objects]}` (the seed's data API socket). Client messages are
/// read and ignored.
pub async fn websocket(st: std::sync::Arc<State>, ws: warp::ws::WebSocket) {
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut source) = ws.split();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    tick.tick().await;
    // A cursor rather than "the last 5 s": an update made just as a tick fires is neither
    // missed nor sent twice.
    let mut since = crate::now_ms() - 5000;
    loop {
        tokio::select! {
            m = source.next() => match m {
                Some(Ok(_)) => continue,
                _ => return,
            },
            _ = tick.tick() => {
                let now = crate::now_ms();
                let Ok(mut data) = updated_since(&st, since).await else { continue };
                since = now;
                if data.is_empty() {
                    continue;
                }
                let count = data.len();
                data.truncate(10);
                let msg = json!({"type": "update", "timestamp": options_core::clock::now_iso(), "count": count, "data": data});
                if sink.send(warp::ws::Message::text(msg.to_string())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `GET /api/export/csv?asset` and `/api/export/json?asset`, as attachments.
pub async fn export(st: &State, kind: &str, q: &Query) -> ApiResult<Response> {
    if kind != "csv" && kind != "json" {
        return Err(ApiError::NotFound(format!(
            "no export format '{kind}' (csv or json)"
        )));
    }
    let (label, assets) = scope(st, q).await?;
    let mut all = Vec::new();
    for a in &assets {
        for r in all_rows(st, a).await? {
            all.push((a.clone(), r));
        }
    }
    let stamp = options_core::clock::now_iso();
    let stamp: String = stamp
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(14)
        .collect();
    let filename = format!(
        "{}_options_{}_{}.{kind}",
        label.as_str().unwrap_or("all"),
        &stamp[..8.min(stamp.len())],
        &stamp[8.min(stamp.len())..]
    );
    let (body, ctype) = if kind == "json" {
        let objects: Vec<Value> = all
            .iter()
            .map(|(_, r)| Value::Object(object_from_row(r)))
            .collect();
        (
            serde_json::to_string_pretty(&objects).unwrap_or_default(),
            "application/json",
        )
    } else {
        let mut out = String::from("symbol");
        for f in OBJECT_FIELDS {
            out.push(',');
            out.push_str(f);
        }
        out.push_str(",asset,expiry,strike,type\n");
        for (a, r) in &all {
            out.push_str(r.symbol());
            for f in OBJECT_FIELDS {
                out.push(',');
                if let Some(v) = r.number(f) {
                    out.push_str(&python_float(v));
                }
            }
            let kind = if r.text("type") == Some("call") {
                "Call"
            } else {
                "Put"
            };
            let strike = r.number("strike").map(python_float).unwrap_or_default();
            out.push_str(&format!(
                ",{a},{},{strike},{kind}\n",
                r.text("expiry").unwrap_or("")
            ));
        }
        (out, "text/csv; charset=utf-8")
    };
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert("content-type", warp::http::HeaderValue::from_static(ctype));
    if let Ok(v) = warp::http::HeaderValue::from_str(&format!("attachment; filename={filename}")) {
        h.insert("content-disposition", v);
    }
    Ok(resp)
}

/// `POST /api/query?asset&expiry&min_strike&max_strike&option_type&min_volume&min_iv&limit=100`.
pub async fn query(st: &State, q: &Query) -> ApiResult<Response> {
    let (_, assets) = scope(st, q).await?;
    let filters = module::Query {
        expiries: params::expiry(q, "expiry")?.into_iter().collect(),
        strike_min: params::number(q, "min_strike")?,
        strike_max: params::number(q, "max_strike")?,
        kind: params::option_type(q, "option_type")?,
        ..module::Query::default()
    };
    let min_volume = params::number(q, "min_volume")?.unwrap_or(0.0);
    let min_iv = params::number(q, "min_iv")?.unwrap_or(0.0);
    let limit = params::count(q, "limit", 1_000_000)?.unwrap_or(100);
    let mut data = Vec::new();
    'assets: for a in &assets {
        let query = module::Query {
            key: a.clone(),
            ..filters.clone()
        };
        for r in rows(st, query).await? {
            if (min_volume > 0.0 && r.number("volume_24h").unwrap_or(0.0) < min_volume)
                || (min_iv > 0.0 && r.number("mark_iv").unwrap_or(0.0) < min_iv)
            {
                continue;
            }
            data.push(Value::Object(object_from_row(&r)));
            if limit > 0 && data.len() >= limit {
                break 'assets;
            }
        }
    }
    // Echoed as FastAPI did: the text parameters as given, the float ones as floats
    // (`90000.0`), absent ones as null.
    let mut filters = Map::new();
    for k in ["asset", "expiry"] {
        filters.insert(k.into(), json!(q.get(k)));
    }
    for k in ["min_strike", "max_strike"] {
        filters.insert(k.into(), json!(params::number(q, k)?));
    }
    filters.insert("option_type".into(), json!(q.get("option_type")));
    for k in ["min_volume", "min_iv"] {
        filters.insert(k.into(), json!(params::number(q, k)?));
    }
    Ok(json_value(
        &json!({"filters": filters, "count": data.len(), "limit": limit, "data": data}),
    ))
}

/// `GET /api/summary`: totals over the tracked assets, `{"error": "No data available"}` when
/// there is nothing.
pub async fn summary(st: &State) -> ApiResult<Response> {
    // The seed's `assets` always had BTC, ETH and SOL (its client may index them); every other
    // underlying with data follows.
    let mut per_asset = Map::new();
    for a in ["BTC", "ETH", "SOL"] {
        per_asset.insert(a.into(), json!(0));
    }
    let (mut volume, mut oi, mut iv) = (Vec::new(), Vec::new(), Vec::new());
    for a in all_assets(st).await? {
        let r = all_rows(st, &a).await?;
        per_asset.insert(a.clone(), json!(r.len()));
        volume.extend(r.iter().filter_map(|x| x.number("volume_24h")));
        oi.extend(r.iter().filter_map(|x| x.number("open_interest")));
        iv.extend(r.iter().filter_map(|x| x.number("mark_iv")));
    }
    let total: u64 = per_asset.values().filter_map(Value::as_u64).sum();
    if total == 0 {
        return Ok(json_value(&json!({"error": "No data available"})));
    }
    let avg = |v: &[f64]| if v.is_empty() { 0.0 } else { mean(v) };
    Ok(json_value(&json!({
        "total_options": total,
        "assets": per_asset,
        "volume": {"total_24h": volume.iter().sum::<f64>(), "average": avg(&volume)},
        "open_interest": {"total": oi.iter().sum::<f64>(), "average": avg(&oi)},
        "implied_volatility": {
            "mean": avg(&iv),
            "min": iv.iter().copied().fold(f64::INFINITY, f64::min),
            "max": iv.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        },
    })))
}

// ---------------------------------------------------------------------------------------------
// Where the data API and the web app had the same path with different shapes, the data API's
// own port (`--data-api-port`, 8000 like the seed's) answers with these.

/// `GET /` of the data API: what the service is and where its routes are.
pub fn root() -> Response {
    json_value(&json!({
        "service": "Bybit Options Data API",
        "status": "running",
        "endpoints": {
            "health": "/health",
            "docs": "/api/openapi.json",
            "options": "/api/options/{symbol}",
            "assets": "/api/assets/{asset}",
            "export": "/api/export",
        }
    }))
}

/// `GET /api/stats` of the data API.
pub async fn stats(st: &State) -> ApiResult<Response> {
    Ok(json_value(&data_api_stats(&crate::stats::stats(st).await?)))
}

/// `GET /api/expiries/{asset}` of the data API: the symbols' own expiry codes (`3DEC26`, not
/// padded), in string order as the seed sorted them.
pub async fn expiries(st: &State, asset: &str) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let mut list: Vec<String> = crate::api::expiry_list(st, &asset)
        .await?
        .iter()
        .map(|e| e.code())
        .collect();
    list.sort();
    list.dedup();
    Ok(json_value(
        &json!({"asset": asset, "count": list.len(), "expiries": list}),
    ))
}

/// `GET /api/strikes/{asset}?expiry` of the data API: strikes as numbers, ascending, both
/// settle coins merged.
pub async fn strikes(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let strikes = module::Strikes {
        key: asset.clone(),
        expiry: params::expiry(q, "expiry")?,
    };
    let mut list: Vec<f64> = typed(st, &strikes)
        .await?
        .iter()
        .filter_map(|t| options_core::parse_number(t).ok())
        .collect();
    list.sort_by(f64::total_cmp);
    list.dedup();
    Ok(json_value(&json!({
        "asset": asset,
        "expiry": params::filter(q, "expiry"),
        "count": list.len(),
        "strikes": list,
    })))
}

/// `GET /api/options/{symbol}` of the data API: one option object; anything that is not a
/// listed symbol (an asset too) is 404 `Option X not found`.
pub async fn option(st: &State, symbol: &str) -> ApiResult<Response> {
    crate::api::option_object(st, symbol).await
}
