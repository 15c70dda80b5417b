//! The live simulation's REST side: Bybit's market endpoints with their validation and the
//! injected faults, its control routes (`POST /sim/<action>`, `POST /sim/fault/<kind>`), and the
//! `Exchange` the shared routes ask.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_core::bybit::OptionInstrument;
use options_core::{Field, Settle};
use serde_json::{json, Value};
use warp::filters::ws::WebSocket;
use warp::http::StatusCode;
use warp::{Filter, Reply};

use crate::clock::now_ms;
use crate::market::Contract;
use crate::routes::{Exchange, Query, Routes};
use crate::server::{lock, Faults, Sim};
use crate::socket::websocket;
use crate::wire;

fn rest_fault(sim: &Sim) -> Option<warp::reply::Response> {
    let f = lock(&sim.faults);
    let roll = |p: f64| p > 0.0 && rand::random::<f64>() < p;
    if Faults::active(f.http429_until) || roll(f.http429_rate) {
        return Some(
            warp::reply::with_status(
                warp::reply::json(&json!({"retCode": 10006, "retMsg": "Too many visits!"})),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .into_response(),
        );
    }
    if Faults::active(f.retcode_until) || roll(f.retcode_rate) {
        return Some(
            warp::reply::json(&wire::error_envelope(
                10016,
                "Server error (simulated)",
                now_ms(),
            ))
            .into_response(),
        );
    }
    None
}

fn params_error(msg: &str) -> warp::reply::Response {
    warp::reply::json(&wire::error_envelope(10001, msg, now_ms())).into_response()
}

/// The settle coins a request selects: Bybit's option endpoints default to USDC.
fn settle_filter(q: &Query) -> Result<Settle, &'static str> {
    match q.get("settleCoin").map(String::as_str) {
        None | Some("") => Ok(Settle::Usdc),
        Some(s) => Settle::parse(s).ok_or("params error: settleCoin invalid"),
    }
}

/// What every market endpoint does first: injected faults, then `category` and `settleCoin`.
fn check_market_request(sim: &Sim, q: &Query) -> Result<Settle, Box<warp::reply::Response>> {
    if let Some(r) = rest_fault(sim) {
        return Err(Box::new(r));
    }
    if q.get("category").map(String::as_str) != Some("option") {
        return Err(Box::new(params_error(
            "params error: category only support option here",
        )));
    }
    settle_filter(q).map_err(|e| Box::new(params_error(e)))
}

fn instruments_info(sim: &Sim, q: &Query) -> warp::reply::Response {
    let settle = match check_market_request(sim, q) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 500,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => return params_error("params error: limit must be 1-1000"),
    };
    let offset = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match c
            .strip_prefix("page:")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => return params_error("params error: cursor invalid"),
        },
    };
    let market = lock(&sim.market);
    let base = q.get("baseCoin").cloned().unwrap_or_else(|| "BTC".into());
    let symbol = q.get("symbol");
    let all: Vec<&Contract> = market
        .contracts()
        .iter()
        .filter(|c| symbol.is_none_or(|s| &c.symbol == s))
        .filter(|c| c.symbol.split('-').next() == Some(base.as_str()) && c.settle == settle)
        .collect();
    let page: Vec<OptionInstrument> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|c| wire::instrument(c, &base, market.price_tick(c)))
        .collect();
    let next = if offset + limit < all.len() {
        format!("page:{}", offset + limit)
    } else {
        String::new()
    };
    warp::reply::json(&wire::envelope(page, Some(next), now_ms())).into_response()
}

fn tickers(sim: &Sim, q: &Query) -> warp::reply::Response {
    let settle = match check_market_request(sim, q) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let market = lock(&sim.market);
    let list: Vec<Value> = match q.get("symbol") {
        Some(s) => market.get(s).map(wire::rest_ticker).into_iter().collect(),
        None => {
            let base = q.get("baseCoin").cloned().unwrap_or_else(|| "BTC".into());
            market
                .contracts()
                .iter()
                .filter(|c| c.symbol.split('-').next() == Some(base.as_str()) && c.settle == settle)
                .map(wire::rest_ticker)
                .collect()
        }
    };
    warp::reply::json(&wire::envelope(list, None, now_ms())).into_response()
}

fn seconds(q: &Query) -> Duration {
    Duration::from_secs_f64(q.get("seconds").and_then(|s| s.parse().ok()).unwrap_or(5.0))
}

fn control(sim: &Sim, action: &str, q: &Query) -> warp::reply::Response {
    let until = Some(Instant::now() + seconds(q));
    let body = match action {
        "pause" => {
            sim.paused.store(true, Ordering::Relaxed);
            json!({"paused": true})
        }
        "resume" => {
            sim.paused.store(false, Ordering::Relaxed);
            json!({"paused": false})
        }
        "rate" => match q.get("updates_per_sec").and_then(|r| r.parse::<u64>().ok()) {
            Some(r) => {
                sim.updates_per_sec.store(r, Ordering::Relaxed);
                json!({"updates_per_sec": r})
            }
            None => return bad_request("updates_per_sec must be a whole number"),
        },
        "fault/drop" => json!({"dropped": sim.kick_all()}),
        "fault/garbage" => json!({"connections": sim.garbage_all()}),
        "fault/credits" => json!({"connections": sim.spend_all_credits()}),
        "fault/silence" => {
            lock(&sim.faults).silent_until = until;
            json!({"silent_for_s": seconds(q).as_secs_f64()})
        }
        "fault/reject" => {
            lock(&sim.faults).reject_until = until;
            json!({"rejecting_for_s": seconds(q).as_secs_f64()})
        }
        "fault/retcode" => {
            lock(&sim.faults).retcode_until = until;
            json!({"retcode_for_s": seconds(q).as_secs_f64()})
        }
        "fault/http429" => {
            lock(&sim.faults).http429_until = until;
            json!({"http429_for_s": seconds(q).as_secs_f64()})
        }
        "fault/clear" => {
            let mut f = lock(&sim.faults);
            f.silent_until = None;
            f.reject_until = None;
            f.retcode_until = None;
            f.http429_until = None;
            json!({"cleared": true})
        }
        "list" => {
            let (Some(base), Some(days)) = (
                q.get("baseCoin"),
                q.get("days").and_then(|d| d.parse::<i64>().ok()),
            ) else {
                return bad_request("baseCoin and days are required");
            };
            let (listed, _) = sim.relist(|m| (m.list_extra(base, days, now_ms()), Vec::new()));
            json!({"listed": listed})
        }
        "delist" => {
            let Some(base) = q.get("baseCoin") else {
                return bad_request("baseCoin is required");
            };
            let (_, removed) = sim.relist(|m| (Vec::new(), m.delist_nearest(base)));
            json!({"removed": removed})
        }
        "set" => {
            let (Some(symbol), Some(field), Some(value)) =
                (q.get("symbol"), q.get("field"), q.get("value"))
            else {
                return bad_request("symbol, field and value are required");
            };
            let Some(field) = Field::parse(field) else {
                return bad_request("unknown field");
            };
            let Ok(value) = options_core::parse_number(value) else {
                return bad_request("value must be a number");
            };
            match sim.set_value(symbol, field, value) {
                Some(pushed) => pushed,
                None => {
                    return warp::reply::with_status(
                        warp::reply::json(&json!({"error": "unknown symbol"})),
                        StatusCode::NOT_FOUND,
                    )
                    .into_response()
                }
            }
        }
        _ => {
            return warp::reply::with_status(
                warp::reply::json(&json!({"error": "unknown control"})),
                StatusCode::NOT_FOUND,
            )
            .into_response()
        }
    };
    warp::reply::json(&body).into_response()
}

fn bad_request(msg: &str) -> warp::reply::Response {
    warp::reply::with_status(
        warp::reply::json(&json!({"error": msg})),
        StatusCode::BAD_REQUEST,
    )
    .into_response()
}

/// The live simulation's own routes: `POST /sim/<action>` and `POST /sim/fault/<kind>`.
pub fn control_routes(sim: Arc<Sim>) -> Routes {
    let with_sim = warp::any().map(move || sim.clone());
    let control_one = warp::path!("sim" / String)
        .and(warp::post())
        .and(with_sim.clone())
        .and(warp::query::<Query>())
        .map(|action: String, sim: Arc<Sim>, q: Query| control(&sim, &action, &q));
    let control_fault = warp::path!("sim" / "fault" / String)
        .and(warp::post())
        .and(with_sim)
        .and(warp::query::<Query>())
        .map(|kind: String, sim: Arc<Sim>, q: Query| control(&sim, &format!("fault/{kind}"), &q));
    control_fault.or(control_one).unify().boxed()
}

impl Exchange for Sim {
    fn instruments_info(&self, q: &Query) -> warp::reply::Response {
        instruments_info(self, q)
    }
    fn tickers(&self, q: &Query) -> warp::reply::Response {
        tickers(self, q)
    }
    fn stats(&self) -> Value {
        Sim::stats(self)
    }
    fn serve_socket(self: Arc<Self>, ws: WebSocket) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(websocket(self, ws))
    }
}
