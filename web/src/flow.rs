//! `GET /api/flow/{asset}` (`OPTIONS.FLOW` over HTTP, the module's JSON forwarded) and
//! `GET /api/trades/{asset}` (the tape `{key}:trades`, page by page, read with `XRANGE`).

use options_client::cmd as module;
use serde_json::{json, Map, Value};
use warp::reply::Response;

use crate::assets::known_chain;
use crate::error::{ApiError, ApiResult};
use crate::params::{expiry_list, flag, raw_pairs, refuse_repeats, venue_in_raw};
use crate::respond::{forward, json_body, json_value};
use crate::state::State;

fn ms(name: &'static str, v: &str) -> ApiResult<i64> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|x| *x >= 0)
        .ok_or_else(|| ApiError::bad(name, format!("'{v}' is not a time in Unix milliseconds")))
}

/// The query of `/api/flow`: `expiry` (repeatable or comma-separated), `from`, `to` (Unix ms),
/// `bystrike`, `bucket` (seconds), `min_notional` (USD), `venue`.
pub fn flow_command(key: &str, raw: &str) -> ApiResult<module::Flow> {
    let pairs = raw_pairs(raw)?;
    refuse_repeats(
        &pairs,
        &["from", "to", "bystrike", "bucket", "min_notional", "venue"],
    )?;
    let mut f = module::Flow::new(key);
    for (name, value) in &pairs {
        let value = value.trim();
        match name.as_str() {
            "expiry" => expiry_list("expiry", value, &mut f.expiries)?,
            "from" if !value.is_empty() => f.from_ms = Some(ms("from", value)?),
            "to" if !value.is_empty() => f.to_ms = Some(ms("to", value)?),
            "bystrike" => f.by_strike = flag("bystrike", value)?,
            "bucket" if !value.is_empty() => {
                f.bucket_s = Some(
                    value
                        .parse::<i64>()
                        .ok()
                        .filter(|s| (1..=86_400 * 31).contains(s))
                        .ok_or_else(|| {
                            ApiError::bad(
                                "bucket",
                                format!("'{value}' is not seconds from 1 to 31 days"),
                            )
                        })?,
                )
            }
            "min_notional" if !value.is_empty() => {
                f.min_notional = Some(
                    options_core::parse_number(value)
                        .ok()
                        .filter(|v| *v >= 0.0)
                        .ok_or_else(|| {
                            ApiError::bad(
                                "min_notional",
                                format!("'{value}' is not an amount in USD"),
                            )
                        })?,
                )
            }
            _ => {}
        }
    }
    // The window as the module will take it (to: now; from: a day before to), checked here so
    // that what the module would refuse is a 400 naming the parameter.
    let to = f.to_ms.unwrap_or_else(crate::now_ms);
    let from = f.from_ms.unwrap_or(to.saturating_sub(86_400_000));
    if from > to {
        return Err(ApiError::bad(
            "from",
            format!("from ({from}) is after to ({to})"),
        ));
    }
    Ok(f)
}

/// `GET /api/flow/{asset}`.
pub async fn flow(st: &State, asset: &str, raw: &str) -> ApiResult<Response> {
    let venue = venue_in_raw(raw)?;
    let key = known_chain(st, asset, venue).await?;
    let cmd = flow_command(&key, raw)?;
    Ok(json_body(forward(st, &cmd).await?))
}

/// Most trades one page of `/api/trades` holds.
const MAX_PAGE: usize = 1000;

/// `GET /api/trades/{asset}?since=<entry id>&limit=N[&venue=]`: the tape after `since` (oldest
/// first), or without `since` its newest `limit` trades; `next` is the id to ask from for the
/// following page.
pub async fn trades(st: &State, asset: &str, raw: &str) -> ApiResult<Response> {
    let pairs = raw_pairs(raw)?;
    refuse_repeats(&pairs, &["since", "limit", "venue"])?;
    let get = |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let venue = venue_in_raw(raw)?;
    let limit = match get("limit") {
        None => 100,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad(
                    "limit",
                    format!("'{v}' is not a count from 1 to {MAX_PAGE}"),
                )
            })?,
    };
    let since = match get("since") {
        None => None,
        Some(v) => {
            let ok = v
                .split_once('-')
                .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok())
                || v.parse::<u64>().is_ok();
            if !ok {
                return Err(ApiError::bad(
                    "since",
                    format!("'{v}' is not a tape entry id (e.g. 1796000000000-0)"),
                ));
            }
            Some(v.to_string())
        }
    };
    let key = known_chain(st, asset, venue).await?;
    let stream = options_core::tape_key(&key);
    let mut cmd;
    match &since {
        Some(s) => {
            cmd = redis::cmd("XRANGE");
            cmd.arg(&stream)
                .arg(format!("({s}"))
                .arg("+")
                .arg("COUNT")
                .arg(limit);
        }
        None => {
            cmd = redis::cmd("XREVRANGE");
            cmd.arg(&stream).arg("+").arg("-").arg("COUNT").arg(limit);
        }
    }
    let mut entries: Vec<options_client::tape::TapeEntry> = st.redis.query(&cmd).await?;
    if since.is_none() {
        entries.reverse();
    }
    let next = entries.last().map(|(id, _)| id.clone()).or(since);
    let list: Vec<Value> = entries
        .into_iter()
        .map(|(id, fields)| trade_json(id, fields))
        .collect();
    Ok(json_value(
        &json!({"asset": asset.to_uppercase(), "key": key, "trades": list, "next": next}),
    ))
}

/// A tape entry as JSON: numbers as numbers, `block` a boolean, the entry id as `entry`.
pub(crate) fn trade_json(entry: String, fields: Vec<(String, String)>) -> Value {
    let mut m = Map::new();
    m.insert("entry".into(), Value::String(entry));
    for (k, v) in fields {
        let value = match k.as_str() {
            "size" | "price" | "iv" | "index" => options_core::parse_number(&v)
                .ok()
                .and_then(|x| serde_json::Number::from_f64(x).map(Value::Number))
                .unwrap_or(Value::Null),
            "ts" => v.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
            "block" => Value::Bool(v == "1"),
            "id" => {
                m.insert("trade_id".into(), Value::String(v));
                continue;
            }
            _ => Value::String(v),
        };
        m.insert(k, value);
    }
    Value::Object(m)
}
