//! The HTTP API: every endpoint of the replaced system's web app (port 5001) and data API
//! (port 8000) with their paths and JSON shapes, each answered by one or a few module commands.

use std::sync::atomic::{AtomicU64, Ordering};

use options_client::reply::Row;
use options_client::{cmd as module, Command, Redis};
use options_core::bybit::{Envelope, Page};
use options_core::assets::{self, Asset, AssetConfig};
use options_core::{Expiry, OptionType};
use serde_json::{json, Map, Value};
use warp::reply::Response;
use warp::Reply;

use crate::error::{ApiError, ApiResult};
use crate::params::{self, Query};

pub struct State {
    pub redis: Redis,
    pub http: reqwest::Client,
    pub bybit_rest: String,
    pub default_assets: Vec<String>,
    pub api_token: Option<String>,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    /// `/api/instruments` answers, kept for ten minutes.
    pub instruments: crate::instruments::Cache,
    /// `config:assets` and `config:alerts`, as last seen: restored to a Redis that lost them.
    pub assets_doc: options_client::AssetsDoc,
    pub alerts_doc: options_client::SharedDoc,
}

/// The data API's option object fields, in its order (present ones only).
pub const OBJECT_FIELDS: [&str; 14] = [
    "last_price",
    "mark_price",
    "index_price",
    "mark_iv",
    "underlying_price",
    "open_interest",
    "volume_24h",
    "turnover_24h",
    "delta",
    "gamma",
    "theta",
    "vega",
    "bid_iv",
    "ask_iv",
];

pub fn json_body(bytes: Vec<u8>) -> Response {
    let mut r = Response::new(bytes.into());
    r.headers_mut().insert(
        "content-type",
        warp::http::HeaderValue::from_static("application/json"),
    );
    r
}

pub fn json_value(v: &Value) -> Response {
    warp::reply::json(v).into_response()
}

/// A module reply to forward as it is; nil (no such contract) is a 404.
pub async fn forward<C: Command>(st: &State, command: &C) -> ApiResult<Vec<u8>> {
    st.redis
        .json(command)
        .await?
        .ok_or_else(|| ApiError::NotFound("not found".into()))
}

/// A module reply, typed; nil (no such contract) is a 404.
pub async fn typed<C: Command>(st: &State, command: &C) -> ApiResult<C::Reply> {
    st.redis
        .run(command)
        .await?
        .ok_or_else(|| ApiError::NotFound("not found".into()))
}

pub fn cmd(name: &str, args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(name);
    for a in args {
        c.arg(*a);
    }
    c
}

// ---------------------------------------------------------------------------------------------
// config:assets

/// The asset document; written from OPTION_ASSETS when missing and never seen (as the seed's
/// web app did), the last copy seen when Redis lost it (`AssetsDoc`).
pub async fn asset_config(st: &State) -> ApiResult<AssetConfig> {
    Ok(st.assets_doc.read_or_seed(&st.redis, &st.default_assets).await?)
}

/// Contracts in the module for `asset` (0 when there is no key).
async fn contracts(st: &State, asset: &str) -> ApiResult<u64> {
    let stats = module::Stats {
        key: asset.to_string(),
    };
    Ok(typed(st, &stats).await?.contracts)
}

/// 404 for an asset that is neither configured nor holds data.
pub async fn known_asset(st: &State, raw: &str) -> ApiResult<String> {
    let asset = params::asset(raw)?;
    if contracts(st, &asset).await? > 0 || asset_config(st).await?.contains(&asset) {
        Ok(asset)
    } else {
        Err(ApiError::NotFound(format!("Unknown asset {asset}")))
    }
}

// ---------------------------------------------------------------------------------------------
// the web app's endpoints

/// `GET /api/options/{x}`: a full symbol gives one option object (data API); an asset gives
/// the web app's row list, sorted by 24 h volume, paged when `limit` is given.
pub async fn options(st: &State, x: &str, q: &Query) -> ApiResult<Response> {
    if x.contains('-') {
        return option_object(st, x).await;
    }
    let asset = params::asset(x)?;
    let mut query = module::Query {
        expiries: params::expiry(q, "expiry")?.into_iter().collect(),
        kind: params::option_type(q, "type")?,
        strike: params::strike(q, "strike")?,
        sort_by: Some(("volume_24h".into(), true)),
        ..module::Query::new(&asset)
    };
    // The seed pages only when `limit` is truthy: without it (or with `limit=0`) the answer is
    // the bare array of every row and `offset` is ignored (still checked, so a typo is a 400).
    let limit = params::count(q, "limit", 100_000)?.filter(|l| *l > 0);
    let offset = params::count(q, "offset", 10_000_000)?.unwrap_or(0);
    query.limit = limit.map(|l| (offset, l));
    let bytes = st
        .redis
        .bytes(module::Query::NAME, &query.to_seed_cmd())
        .await?
        .unwrap_or_default();
    // Only an empty answer needs to know whether the asset exists (404 or an empty list):
    // the common case stays one round trip.
    if bytes == b"[]" || bytes.starts_with(b"{\"total\":0,") {
        known_asset(st, &asset).await?;
    }
    Ok(json_body(bytes))
}

/// One contract as the data API's option object.
pub async fn option_object(st: &State, symbol: &str) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound(format!("Option {symbol} not found"));
    let parsed = options_core::parse_symbol(symbol).map_err(|_| not_found())?;
    match typed(st, &module::Get::new(&parsed.base, &parsed.canonical())).await {
        Ok(row) => Ok(json_value(&Value::Object(object_from_row(&row)))),
        Err(ApiError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e),
    }
}

/// A module row as the data API's option object: `symbol`, then every field. The seed's
/// tracker wrote all fifteen hash fields on every tick (`""` for a value Bybit left out) and its
/// API read `""` as `0.0`, so a field the module never received is `0.0` here too: a client
/// reading `row["last_price"]` finds the key, as it always did.
pub fn object_from_row(row: &Row) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("symbol".into(), json!(row.symbol()));
    for f in OBJECT_FIELDS {
        m.insert(f.into(), json!(row.number(f).unwrap_or(0.0)));
    }
    m
}

/// `GET /api/strikes/{asset}?expiry`: strike strings in numeric order.
pub async fn strikes(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let strikes = module::Strikes {
        key: asset,
        expiry: params::expiry(q, "expiry")?,
    };
    Ok(json_body(forward(st, &strikes).await?))
}

/// The chain's expiries, chronological (codes that do not parse are left out).
pub async fn expiry_list(st: &State, asset: &str) -> ApiResult<Vec<Expiry>> {
    Ok(typed(st, &module::Expiries::new(asset))
        .await?
        .iter()
        .filter_map(|e| Expiry::parse(e).ok())
        .collect())
}

/// `GET /api/expiries/{asset}`: zero-padded codes, chronological.
pub async fn expiries(st: &State, asset: &str) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let list: Vec<String> = expiry_list(st, &asset)
        .await?
        .iter()
        .map(Expiry::padded)
        .collect();
    Ok(json_value(&json!(list)))
}

/// `GET /api/summary/{asset}`.
pub async fn asset_summary(st: &State, asset: &str) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let total = |kind| module::Query {
        kind: Some(kind),
        ..module::Query::new(&asset).count_only()
    };
    let calls = typed(st, &total(OptionType::Call)).await?.total;
    let puts = typed(st, &total(OptionType::Put)).await?.total;
    let exp: Vec<String> = expiry_list(st, &asset)
        .await?
        .iter()
        .map(Expiry::padded)
        .collect();
    let count = exp.len();
    Ok(json_value(&json!({
        "asset": asset,
        "total_options": calls + puts,
        "calls": calls,
        "puts": puts,
        "expiries": exp,
        "expiry_count": count,
    })))
}

/// `GET /api/chain/{asset}/{expiry}`: calls and puts side by side (module JSON, forwarded).
pub async fn chain(st: &State, asset: &str, expiry: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let e = Expiry::parse(expiry)
        .map_err(|_| ApiError::bad("expiry", format!("'{expiry}' is not an expiry")))?;
    let mut chain = module::Chain::new(&asset, e);
    if let Some(s) = params::filter(q, "settle") {
        chain.settle = Some(
            options_core::Settle::parse(s)
                .ok_or_else(|| ApiError::bad("settle", format!("'{s}' is not USDC or USDT")))?,
        );
    }
    Ok(json_body(forward(st, &chain).await?))
}

/// `GET /api/changes/{asset}?since=N`: `OPTIONS.CHANGES` as JSON (the whole chain with
/// `reset` from 0). Unlike the SSE stream it can be gzipped: the dashboard takes its snapshot
/// here, then follows `/api/stream?since=ASSET:seq`.
pub async fn changes(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_asset(st, asset).await?;
    let since = params::count(q, "since", usize::MAX)?.unwrap_or(0);
    let changes = module::Changes::new(&asset, since as u64);
    Ok(json_body(forward(st, &changes).await?))
}

/// Totals for `/api/stats`, `/health` and the SSE stats event.
pub struct Stats {
    pub contracts: u64,
    pub messages: u64,
    pub last_update_ms: i64,
    pub memory_human: String,
    pub dbsize: u64,
    pub per_asset: Vec<(String, u64)>,
}

impl Stats {
    /// The seed's `str(time.time())` text, or "N/A".
    pub fn last_update_text(&self) -> String {
        if self.last_update_ms > 0 {
            format!("{:.6}", self.last_update_ms as f64 / 1000.0)
        } else {
            "N/A".into()
        }
    }

    /// The web app's stats object with Python's spaced separators (the SSE payload).
    pub fn sse_text(&self) -> String {
        format!(
            "{{\"total_symbols\": {}, \"messages_processed\": {}, \"last_update\": {}, \"redis_memory\": {}}}",
            self.contracts,
            self.messages,
            json!(self.last_update_text()),
            json!(self.memory_human)
        )
    }
}

pub async fn stats(st: &State) -> ApiResult<Stats> {
    // One command at a time rather than a pipeline: in a Cluster each may live on another shard.
    let g = st.redis.module_stats().await?;
    // A Cluster client asks every master and answers a map of node → text. A least-privilege
    // user may not run INFO (`@dangerous`): Redis refuses it, and the figure falls back to the
    // memory the option chains hold, which the module reports to anyone.
    let memory_human = match st
        .redis
        .query::<redis::Value>(&cmd("INFO", &["memory"]))
        .await
    {
        Ok(info) => memory_human(&info),
        Err(options_client::ClientError::Refused(_)) => human_bytes(g.memory_bytes as f64),
        Err(e) => return Err(e.into()),
    };
    let dbsize: u64 = st.redis.query(&redis::cmd("DBSIZE")).await?;
    let mut per_asset = Vec::new();
    for a in ["BTC", "ETH", "SOL"] {
        per_asset.push((a.to_lowercase(), contracts(st, a).await?));
    }
    Ok(Stats {
        contracts: u64::try_from(g.contracts).unwrap_or(0),
        messages: u64::try_from(g.updates).unwrap_or(0),
        last_update_ms: g.last_update_ms,
        memory_human,
        dbsize,
        per_asset,
    })
}

/// `used_memory_human` of one server; of a Cluster, the masters' `used_memory` added up and
/// written as Redis writes it (`2.35M`).
fn memory_human(info: &redis::Value) -> String {
    let field = |text: &str, name: &str| -> Option<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    if let Ok(text) = redis::from_redis_value::<String>(info) {
        return field(&text, "used_memory_human:").unwrap_or_default();
    }
    let nodes: Vec<(String, String)> = redis::from_redis_value(info).unwrap_or_default();
    let bytes: f64 = nodes
        .iter()
        .filter_map(|(_, text)| field(text, "used_memory:")?.parse::<f64>().ok())
        .sum();
    human_bytes(bytes)
}

/// Redis's `bytesToHuman`: B below 1 KiB, then K, M, G, T with two decimals.
fn human_bytes(b: f64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (1024f64 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024f64 * 1024.0 * 1024.0, "G"),
        (1024f64 * 1024.0, "M"),
        (1024f64, "K"),
    ];
    for (size, unit) in UNITS {
        if b >= size {
            return format!("{:.2}{unit}", b / size);
        }
    }
    format!("{b}B")
}

/// `GET /api/stats` of the web app (port 5001): its four fields, in its order.
pub async fn stats_reply(st: &State) -> ApiResult<Response> {
    let s = stats(st).await?;
    Ok(json_value(&json!({
        "total_symbols": s.contracts,
        "messages_processed": s.messages,
        "last_update": s.last_update_text(),
        "redis_memory": s.memory_human,
    })))
}

/// The data API's stats object (its `/api/stats` and the `stats` of `/health`).
pub fn data_api_stats(s: &Stats) -> Value {
    let mut m = Map::new();
    m.insert("total_options".into(), json!(s.contracts));
    m.insert("total_keys".into(), json!(s.dbsize));
    for (a, n) in &s.per_asset {
        m.insert(format!("{a}_options"), json!(n));
    }
    m.insert("messages_processed".into(), json!(s.messages));
    m.insert("last_update".into(), json!(s.last_update_text()));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// assets management

#[derive(serde::Deserialize)]
pub struct AssetBody {
    pub symbol: Option<String>,
    pub name: Option<String>,
}

fn body_symbol(b: &AssetBody) -> ApiResult<String> {
    let s = b.symbol.as_deref().unwrap_or("").trim().to_uppercase();
    if s.is_empty() {
        return Err(ApiError::bad("symbol", "Symbol required"));
    }
    if !assets::valid_symbol(&s) {
        return Err(ApiError::bad(
            "symbol",
            format!("'{s}' is not an asset symbol"),
        ));
    }
    Ok(s)
}

/// The seed's validation: Bybit lists at least five options for the asset. Asked per settle
/// coin too, since an asset may have only USDT-settled options (the default answers USDC).
async fn listed_on_exchange(st: &State, asset: &str) -> bool {
    let url = format!(
        "{}/v5/market/instruments-info",
        st.bybit_rest.trim_end_matches('/')
    );
    for settle in [None, Some("USDT")] {
        let mut query = vec![("category", "option"), ("baseCoin", asset), ("limit", "10")];
        if let Some(s) = settle {
            query.push(("settleCoin", s));
        }
        let Ok(resp) = st.http.get(&url).query(&query).send().await else {
            return false;
        };
        let Ok(body) = resp.json::<Envelope<Page<serde::de::IgnoredAny>>>().await else {
            continue;
        };
        if body.ret_code == 0 && body.result.is_some_and(|page| page.list.len() >= 5) {
            return true;
        }
    }
    false
}

pub async fn assets_get(st: &State) -> ApiResult<Response> {
    Ok(json_body(asset_config(st).await?.to_json().into_bytes()))
}

pub async fn assets_test(st: &State, b: AssetBody) -> ApiResult<Response> {
    let s = body_symbol(&b)?;
    let ok = listed_on_exchange(st, &s).await;
    let message = if ok {
        format!("{s} has options available")
    } else {
        format!("No options found for {s}")
    };
    Ok(json_value(
        &json!({"success": ok, "message": message, "symbol": s}),
    ))
}

pub async fn assets_add(st: &State, b: AssetBody) -> ApiResult<Response> {
    let s = body_symbol(&b)?;
    let mut cfg = asset_config(st).await?;
    if cfg.contains(&s) {
        return Err(ApiError::Conflict(format!("Asset {s} already exists")));
    }
    if !listed_on_exchange(st, &s).await {
        return Err(ApiError::Conflict(format!(
            "No options found for {s} on Bybit"
        )));
    }
    let name = b.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let mut asset = Asset::new(&s, name.unwrap_or(&s), cfg.len() as i64 + 1);
    asset
        .extra
        .insert("added_date".into(), json!(crate::now_iso()));
    cfg.add(asset);
    st.assets_doc.write(&st.redis, &cfg).await?;
    Ok(json_value(
        &json!({"success": true, "message": format!("Added {s} permanently to config")}),
    ))
}

pub async fn assets_toggle(st: &State, symbol: &str) -> ApiResult<Response> {
    let mut cfg = asset_config(st).await?;
    let Some(enabled) = cfg.toggle(symbol) else {
        return Ok(json_value(&json!({"success": false})));
    };
    st.assets_doc.write(&st.redis, &cfg).await?;
    Ok(json_value(&json!({"success": true, "enabled": enabled})))
}

pub async fn assets_remove(st: &State, symbol: &str) -> ApiResult<Response> {
    let mut cfg = asset_config(st).await?;
    if !cfg.contains(symbol) || st.default_assets.iter().any(|a| a == symbol) {
        return Err(ApiError::Conflict("Cannot remove default asset".into()));
    }
    cfg.remove(symbol);
    st.assets_doc.write(&st.redis, &cfg).await?;
    Ok(json_value(&json!({"success": true})))
}

// ---------------------------------------------------------------------------------------------
// health

pub async fn health(st: &State) -> Response {
    let (status, redis, stats) = match stats(st).await {
        Ok(s) => ("healthy", "connected", data_api_stats(&s)),
        Err(_) => ("unhealthy", "disconnected", json!({})),
    };
    json_value(
        &json!({"status": status, "redis": redis, "timestamp": crate::now_iso(), "stats": stats}),
    )
}

pub fn metrics(st: &State) -> Response {
    let body = format!(
        "# HELP web_requests_total HTTP requests served\n# TYPE web_requests_total counter\nweb_requests_total {}\n\
# HELP web_errors_total HTTP requests answered with an error\n# TYPE web_errors_total counter\nweb_errors_total {}\n",
        st.requests.load(Ordering::Relaxed),
        st.errors.load(Ordering::Relaxed)
    );
    warp::reply::with_header(body, "content-type", "text/plain; version=0.0.4").into_response()
}

#[cfg(test)]
mod tests {
    use super::{human_bytes, memory_human};

    #[test]
    fn memory_of_one_server_or_a_cluster() {
        let one = redis::Value::BulkString(
            b"# Memory\r\nused_memory:2463008\r\nused_memory_human:2.35M\r\n".to_vec(),
        );
        assert_eq!(memory_human(&one), "2.35M");
        let node = |mem: &str| {
            redis::Value::BulkString(format!("# Memory\r\nused_memory:{mem}\r\n").into_bytes())
        };
        let cluster = redis::Value::Map(vec![
            (redis::Value::BulkString(b"a:1".to_vec()), node("1048576")),
            (redis::Value::BulkString(b"b:2".to_vec()), node("2097152")),
        ]);
        assert_eq!(memory_human(&cluster), "3.00M");
        assert_eq!(human_bytes(512.0), "512B");
        assert_eq!(human_bytes(1536.0), "1.50K");
    }
}
