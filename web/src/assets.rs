//! `config:assets` over HTTP: the document, whether an asset is known, and the web app's
//! asset management (`/api/assets`: read, test on the exchange, add, toggle, remove).

use options_client::cmd as module;
use options_core::assets::{self, Asset, AssetConfig};
use options_core::bybit::{Envelope, Page};
use serde_json::json;
use warp::reply::Response;

use options_core::Venue;

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::respond::{json_body, json_value, typed};
use crate::state::State;

/// The asset document; written from OPTION_ASSETS when missing and never seen (as the seed's
/// web app did), the last copy seen when Redis lost it (`AssetsDoc`).
pub async fn asset_config(st: &State) -> ApiResult<AssetConfig> {
    Ok(st
        .assets_doc
        .read_or_seed(&st.redis, &st.default_assets)
        .await?)
}

/// Contracts in the module for `asset` (0 when there is no key).
pub async fn contracts(st: &State, asset: &str) -> ApiResult<u64> {
    let stats = module::Stats {
        key: asset.to_string(),
    };
    Ok(typed(st, &stats).await?.contracts)
}

/// 404 for an asset that is neither configured nor holds data.
pub async fn known_asset(st: &State, raw: &str) -> ApiResult<String> {
    known_chain(st, raw, Venue::Bybit).await
}

/// The Redis key of `raw`'s chain on `venue` (`BTC`, `deribit:BTC`); 404 for an asset that is
/// neither configured nor holds data there.
pub async fn known_chain(st: &State, raw: &str, venue: Venue) -> ApiResult<String> {
    let asset = params::asset(raw)?;
    let key = venue.key(&asset);
    if contracts(st, &key).await? > 0 || asset_config(st).await?.contains(&asset) {
        Ok(key)
    } else if venue == Venue::Bybit {
        Err(ApiError::NotFound(format!("Unknown asset {asset}")))
    } else {
        Err(ApiError::NotFound(format!(
            "Unknown asset {asset} on {}",
            venue.as_str()
        )))
    }
}

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
        .insert("added_date".into(), json!(options_core::clock::now_iso()));
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
