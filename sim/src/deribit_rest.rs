//! Deribit's HTTP side on the live simulation: REST under `/api/v2/public/` (instruments, the
//! book summary, one ticker, in JSON-RPC envelopes) and the route to its WebSocket.

use std::sync::Arc;

use serde_json::Value;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::clock::now_ms;
use crate::deribit::{envelope, error, instrument, listed_under, listing, summary, ticker};
use crate::routes::{Query, Routes};
use crate::server::{lock, Sim};

/// `GET /api/v2/public/<method>`: instruments, the book summary and one ticker.
pub fn rest(sim: &Sim, method: &str, q: &Query) -> Response {
    let us_in = now_ms() * 1000;
    let now = now_ms();
    let market = lock(&sim.market);
    let currency = q.get("currency").map(String::as_str).unwrap_or("");
    let bad_currency = || {
        warp::reply::with_status(
            error(None, -32602, "Invalid params", us_in),
            warp::http::StatusCode::BAD_REQUEST,
        )
        .into_response()
    };
    let ok = |v: Value| {
        warp::reply::with_header(envelope(None, v, us_in), "content-type", "application/json")
            .into_response()
    };
    let known_currency = ["BTC", "ETH", "USDC"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(currency));
    match method {
        "get_instruments" => {
            if !known_currency || q.get("kind").is_some_and(|k| k != "option") {
                return bad_currency();
            }
            let list: Vec<Value> = listed_under(&market, currency)
                .iter()
                .map(|(n, c)| instrument(c, n))
                .collect();
            ok(Value::Array(list))
        }
        "get_book_summary_by_currency" => {
            if !known_currency {
                return bad_currency();
            }
            let list: Vec<Value> = listed_under(&market, currency)
                .iter()
                .map(|(n, c)| summary(c, n, now))
                .collect();
            ok(Value::Array(list))
        }
        "ticker" => {
            let name = q.get("instrument_name").map(String::as_str).unwrap_or("");
            match listing(&market).get(name) {
                Some(&i) => ok(ticker(market.contract(i), name, now)),
                None => warp::reply::with_status(
                    error(None, 10_004, "instrument_not_found", us_in),
                    warp::http::StatusCode::BAD_REQUEST,
                )
                .into_response(),
            }
        }
        _ => warp::reply::with_status(
            error(None, -32601, "Method not found", us_in),
            warp::http::StatusCode::BAD_REQUEST,
        )
        .into_response(),
    }
}

/// Deribit's routes on the live simulation: REST under `/api/v2/public/` and the JSON-RPC
/// WebSocket at `/ws/api/v2`.
pub fn routes(sim: Arc<Sim>) -> Routes {
    let with = warp::any().map(move || sim.clone());
    let rest_route = warp::path!("api" / "v2" / "public" / String)
        .and(warp::get())
        .and(with.clone())
        .and(warp::query::<Query>())
        .map(|method: String, sim: Arc<Sim>, q: Query| rest(&sim, &method, &q));
    let ws = warp::path!("ws" / "api" / "v2")
        .and(warp::ws())
        .and(with)
        .map(|ws: warp::ws::Ws, sim: Arc<Sim>| {
            ws.on_upgrade(move |socket| crate::deribit_socket::serve(sim, socket))
                .into_response()
        });
    rest_route.or(ws).unify().boxed()
}
