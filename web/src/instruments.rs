//! `GET /api/instruments/{asset}`: what the exchange says about an asset's contracts that the
//! ticker stream does not carry — the quote step (`priceFilter.tickSize`) per settle coin — so
//! a dashboard writes every price with the exchange's own precision. Asked of Bybit's REST API
//! (`--bybit-rest-url`) and kept for ten minutes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use options_core::bybit::{Envelope, OptionInstrument, Page};
use serde_json::json;
use warp::reply::Response;

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::respond::json_value;
use crate::state::State;

const KEEP: Duration = Duration::from_secs(600);

/// The most common tick per settle coin (an asset's options share one).
fn ticks(instruments: &[OptionInstrument]) -> BTreeMap<String, f64> {
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for i in instruments {
        if i.tick().is_some() {
            *counts
                .entry(i.settle_coin.to_uppercase())
                .or_default()
                .entry(i.price_filter.tick_size.clone())
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter_map(|(settle, by_tick)| {
            let (tick, _) = by_tick.into_iter().max_by_key(|(_, n)| *n)?;
            Some((settle, options_core::parse_number(&tick).ok()?))
        })
        .collect()
}

/// Every listed instrument of `asset` (the default settle coin and USDT, every page).
async fn fetch(st: &State, asset: &str) -> ApiResult<Vec<OptionInstrument>> {
    let url = format!(
        "{}/v5/market/instruments-info",
        st.bybit_rest.trim_end_matches('/')
    );
    let unavailable = |e: String| ApiError::Unavailable(format!("the exchange: {e}"));
    let mut all = Vec::new();
    for settle in [None, Some("USDT")] {
        let mut cursor = String::new();
        for _ in 0..20 {
            let mut query = vec![
                ("category", "option"),
                ("baseCoin", asset),
                ("limit", "1000"),
            ];
            if let Some(s) = settle {
                query.push(("settleCoin", s));
            }
            if !cursor.is_empty() {
                query.push(("cursor", cursor.as_str()));
            }
            let resp = st
                .http
                .get(&url)
                .query(&query)
                .send()
                .await
                .map_err(|e| unavailable(e.to_string()))?;
            let env: Envelope<Page<OptionInstrument>> =
                resp.json().await.map_err(|e| unavailable(e.to_string()))?;
            if env.ret_code != 0 {
                return Err(unavailable(format!(
                    "retCode {}: {}",
                    env.ret_code, env.ret_msg
                )));
            }
            let Some(page) = env.result else { break };
            let next = page.next().map(str::to_string);
            all.extend(page.list);
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
    }
    Ok(all)
}

/// `{"asset","price_tick":{"USDC":5,"USDT":5}}`: 404 when the exchange lists nothing.
pub async fn get(st: &State, raw: &str) -> ApiResult<Response> {
    let asset = params::asset(raw)?;
    if let Some((at, v)) = st
        .instruments
        .0
        .lock()
        .ok()
        .and_then(|c| c.get(&asset).cloned())
    {
        if at.elapsed() < KEEP {
            return Ok(json_value(&v));
        }
    }
    let list = fetch(st, &asset).await?;
    if list.is_empty() {
        return Err(ApiError::NotFound(format!(
            "Bybit lists no {asset} options"
        )));
    }
    let v = json!({"asset": asset, "instruments": list.len(), "price_tick": ticks(&list)});
    if let Ok(mut c) = st.instruments.0.lock() {
        c.insert(asset, (Instant::now(), v.clone()));
    }
    Ok(json_value(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_tick_per_settle_coin() {
        let page: Page<OptionInstrument> = serde_json::from_str(
            r#"{"list":[
                {"symbol":"BTC-26DEC25-100000-C","settleCoin":"USDC","priceFilter":{"minPrice":"5","maxPrice":"10000000","tickSize":"5"}},
                {"symbol":"BTC-26DEC25-110000-C","settleCoin":"USDC","priceFilter":{"tickSize":"5"}},
                {"symbol":"BTC-26DEC25-120000-C","settleCoin":"USDC","priceFilter":{"tickSize":"0.5"}},
                {"symbol":"BTC-26DEC25-100000-C-USDT","settleCoin":"USDT","priceFilter":{"tickSize":"0.1"}},
                {"symbol":"BTC-X","settleCoin":"USDT","priceFilter":{"tickSize":"garbage"}},
                {"symbol":"BTC-Y","settleCoin":"USDT"}
            ],"nextPageCursor":""}"#,
        )
        .unwrap();
        let t = ticks(&page.list);
        assert_eq!(t.get("USDC"), Some(&5.0));
        assert_eq!(t.get("USDT"), Some(&0.1));
    }
}
