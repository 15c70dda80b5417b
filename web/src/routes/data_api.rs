//! The data API's routes (the seed's `data_api.py`, port 8000).
//!
//! `shared` are the ones whose paths the web app never used: both ports serve them. `routes`
//! adds, for the data API's own port only, the paths both old servers had with different shapes
//! (`/`, `/api/options/{symbol}`, `/api/expiries`, `/api/strikes`, `/api/stats`).

use std::sync::Arc;

use warp::reply::Response;
use warp::{Filter, Reply};

use super::{finish, query, read, with_errors, with_gzip, with_state, Routes};
use crate::data;
use crate::params::Query;
use crate::state::State;
use crate::{health, respond};

/// Option objects of an asset, filtered (`/api/assets/{asset}`) or across assets.
fn option_lists(st: &Arc<State>) -> Routes {
    let asset_data = get!(
        st,
        warp::path!("api" / "assets" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, data::asset_options(&st, &a, &q).await)
        }
    );
    let symbols = get!(
        st,
        warp::path!("api" / "symbols"),
        |st: Arc<State>, q: Query| async move { finish(&st, data::symbols(&st, &q).await) }
    );
    let atm = get!(
        st,
        warp::path!("api" / "atm" / String),
        |a: String, st: Arc<State>, q: Query| async move { finish(&st, data::atm(&st, &a, &q).await) }
    );
    let high_volume = get!(
        st,
        warp::path!("api" / "high-volume"),
        |st: Arc<State>, q: Query| async move {
            finish(&st, data::threshold(&st, &q, data::Threshold::Volume).await)
        }
    );
    let high_iv = get!(
        st,
        warp::path!("api" / "high-iv"),
        |st: Arc<State>, q: Query| async move {
            finish(&st, data::threshold(&st, &q, data::Threshold::Iv).await)
        }
    );
    let recent = get!(
        st,
        warp::path!("api" / "recent"),
        |st: Arc<State>, q: Query| async move { finish(&st, data::recent(&st, &q).await) }
    );
    let query = warp::path!("api" / "query")
        .and(warp::post())
        .and(with_state(st))
        .and(query())
        .then(|st: Arc<State>, q: Query| async move { finish(&st, data::query(&st, &q).await) })
        .boxed();
    any_of!(
        asset_data,
        symbols,
        atm,
        high_volume,
        high_iv,
        recent,
        query
    )
}

/// Aggregates: greeks of an asset, the market summary, exports.
fn aggregates(st: &Arc<State>) -> Routes {
    let greeks = get!(
        st,
        warp::path!("api" / "greeks" / String),
        |a: String, st: Arc<State>, _q: Query| async move { finish(&st, data::greeks(&st, &a).await) }
    );
    let summary = get!(
        st,
        warp::path!("api" / "summary"),
        |st: Arc<State>, _q: Query| async move { finish(&st, data::summary(&st).await) }
    );
    let export = get!(
        st,
        warp::path!("api" / "export" / String),
        |kind: String, st: Arc<State>, q: Query| async move {
            finish(&st, data::export(&st, &kind, &q).await)
        }
    );
    any_of!(greeks, summary, export)
}

/// `/health`: Redis and the totals, in the data API's shape.
fn health(st: &Arc<State>) -> Routes {
    warp::path!("health")
        .and(read())
        .and(with_state(st))
        .then(|st: Arc<State>| async move { health::health(&st).await })
        .boxed()
}

/// `/ws`: recent updates pushed every 5 s. A plain GET (no upgrade) is answered 426 Upgrade
/// Required with `Upgrade: websocket` (RFC 9110 §15.5.22), not with warp's rejection text.
pub fn websocket(st: &Arc<State>) -> Routes {
    let upgrade = warp::path!("ws").and(warp::ws()).and(with_state(st)).map(
        |ws: warp::ws::Ws, st: Arc<State>| {
            ws.on_upgrade(move |socket| data::websocket(st, socket))
                .into_response()
        },
    );
    let plain = warp::path!("ws").and(read()).map(|| {
        let body =
            serde_json::json!({"detail": "a WebSocket endpoint: connect with a WebSocket client"});
        let reply = warp::reply::with_status(
            warp::reply::json(&body),
            warp::http::StatusCode::UPGRADE_REQUIRED,
        );
        warp::reply::with_header(reply, "upgrade", "websocket").into_response()
    });
    upgrade.or(plain).unify().boxed()
}

/// The data-API routes both ports serve.
pub fn shared(st: &Arc<State>) -> Routes {
    any_of!(option_lists(st), aggregates(st), health(st))
}

/// The paths both old servers had, in the data API's shapes.
fn own_shapes(st: &Arc<State>) -> Routes {
    let root = warp::path::end().and(read()).map(data::root).boxed();
    let option = get!(
        st,
        warp::path!("api" / "options" / String),
        |s: String, st: Arc<State>, _q: Query| async move { finish(&st, data::option(&st, &s).await) }
    );
    let expiries = get!(
        st,
        warp::path!("api" / "expiries" / String),
        |a: String, st: Arc<State>, _q: Query| async move { finish(&st, data::expiries(&st, &a).await) }
    );
    let strikes = get!(
        st,
        warp::path!("api" / "strikes" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, data::strikes(&st, &a, &q).await)
        }
    );
    let stats = get!(
        st,
        warp::path!("api" / "stats"),
        |st: Arc<State>, _q: Query| async move { finish(&st, data::stats(&st).await) }
    );
    let openapi = warp::path!("api" / "openapi.json")
        .and(read())
        .map(|| respond::json_body(include_bytes!("../openapi.json").to_vec()))
        .boxed();
    any_of!(root, option, expiries, strikes, stats, openapi)
}

/// Everything the data API's port serves, errors included.
pub fn routes(st: &Arc<State>) -> warp::filters::BoxedFilter<(Response,)> {
    with_errors(with_gzip(
        websocket(st),
        any_of!(own_shapes(st), shared(st)),
    ))
}
