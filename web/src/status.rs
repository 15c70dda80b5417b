//! `GET /api/status` and the stream's `status` event: what a dashboard needs to say why data is
//! old — the feeder's heartbeat (`feeder:status`: running, connected to Bybit, receiving,
//! writing, Telegram on), each asset's last write, and the server's clock (a client that stops
//! receiving these knows the server itself is gone or frozen).

use options_client::cmd as module;
use options_client::reply::{FeederStatus, FEEDER_STATUS_KEY};
use serde_json::{json, Map, Value};
use warp::reply::Response;

use crate::error::ApiResult;
use crate::params::{self, Query};
use crate::respond::{cmd, json_value, typed};
use crate::state::State;

/// The status of `assets` (their chains' contracts and last write).
pub async fn of(st: &State, assets: &[String]) -> ApiResult<Value> {
    let feeder = feeder(st).await?;
    let mut per_asset = Map::new();
    for a in assets {
        per_asset.insert(a.clone(), asset(st, a).await?);
    }
    Ok(compose(feeder, per_asset))
}

/// The status document of its parts, stamped with the server's clock now (clients read their
/// clock's offset from it, so it is never taken from a cache).
pub fn compose(feeder: Value, assets: Map<String, Value>) -> Value {
    json!({
        "server_ms": crate::now_ms(),
        "feeder": feeder,
        "assets": assets,
    })
}

/// The feeder's heartbeat. A heartbeat that does not parse is a feeder of another version:
/// shown as unknown, not as absent.
pub async fn feeder(st: &State) -> ApiResult<Value> {
    let heartbeat: Option<String> = st.redis.query(&cmd("GET", &[FEEDER_STATUS_KEY])).await?;
    Ok(match heartbeat {
        None => Value::Null,
        Some(text) => match serde_json::from_str::<FeederStatus>(&text) {
            Ok(f) => json!(f),
            Err(_) => json!({"unreadable": text}),
        },
    })
}

/// One chain's contracts and last write.
pub async fn asset(st: &State, key: &str) -> ApiResult<Value> {
    let s = typed(
        st,
        &module::Stats {
            key: key.to_string(),
        },
    )
    .await?;
    Ok(json!({"contracts": s.contracts, "last_update_ms": s.last_update_ms}))
}

/// `GET /api/status?assets=BTC,ETH` (default: every asset with data or configured).
pub async fn get(st: &State, q: &Query) -> ApiResult<Response> {
    let (assets, _) = params::stream_params(q)?;
    let assets = if assets.is_empty() {
        crate::data::all_assets(st).await?
    } else {
        assets
    };
    Ok(json_value(&of(st, &assets).await?))
}
