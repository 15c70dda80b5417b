//! The chain endpoints of the replaced system's web app (port 5001) and data API (port 8000),
//! with their paths and JSON shapes, each answered by one or a few module commands.

use options_client::reply::Row;
use options_client::{cmd as module, Command};
use options_core::{Expiry, OptionType};
use serde_json::{json, Map, Value};
use warp::reply::Response;

use crate::assets::known_chain;
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Query};
use crate::respond::{forward, json_body, json_value, typed};
use crate::state::State;

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

/// `GET /api/options/{x}`: a full symbol gives one option object (data API); an asset gives
/// the web app's row list, sorted by 24 h volume, paged when `limit` is given.
pub async fn options(st: &State, x: &str, q: &Query) -> ApiResult<Response> {
    if x.contains('-') {
        return option_object(st, x).await;
    }
    let venue = params::venue(q.get("venue").map(String::as_str))?;
    let asset = venue.key(&params::asset(x)?);
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
        known_chain(st, x, venue).await?;
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
    let asset = known_chain(
        st,
        asset,
        params::venue(q.get("venue").map(String::as_str))?,
    )
    .await?;
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

/// `GET /api/expiries/{asset}[?venue=]`: zero-padded codes, chronological.
pub async fn expiries(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_chain(
        st,
        asset,
        params::venue(q.get("venue").map(String::as_str))?,
    )
    .await?;
    let list: Vec<String> = expiry_list(st, &asset)
        .await?
        .iter()
        .map(Expiry::padded)
        .collect();
    Ok(json_value(&json!(list)))
}

/// `GET /api/summary/{asset}[?venue=]`.
pub async fn asset_summary(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_chain(
        st,
        asset,
        params::venue(q.get("venue").map(String::as_str))?,
    )
    .await?;
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
    let asset = known_chain(
        st,
        asset,
        params::venue(q.get("venue").map(String::as_str))?,
    )
    .await?;
    let e = Expiry::parse(expiry)
        .map_err(|_| ApiError::bad("expiry", format!("'{expiry}' is not an expiry")))?;
    let mut chain = module::Chain::new(&asset, e);
    if let Some(s) = params::filter(q, "settle") {
        chain.settle = Some(options_core::Settle::parse(s).ok_or_else(|| {
            ApiError::bad(
                "settle",
                format!("'{s}' is not {}", options_core::Settle::NAMES),
            )
        })?);
    }
    Ok(json_body(forward(st, &chain).await?))
}

/// `GET /api/changes/{asset}?since=N`: `OPTIONS.CHANGES` as JSON (the whole chain with
/// `reset` from 0). Unlike the SSE stream it can be gzipped: the dashboard takes its snapshot
/// here, then follows `/api/stream?since=ASSET:seq`.
pub async fn changes(st: &State, asset: &str, q: &Query) -> ApiResult<Response> {
    let asset = known_chain(
        st,
        asset,
        params::venue(q.get("venue").map(String::as_str))?,
    )
    .await?;
    let since = params::count(q, "since", usize::MAX)?.unwrap_or(0);
    let changes = module::Changes::new(&asset, since as u64);
    Ok(json_body(forward(st, &changes).await?))
}
