//! The web app's routes (the seed's `app_fastapi.py`, port 5001): its API and stream, the
//! dashboard, the chain resources this project adds (chain, changes, analytics, history), the
//! asset list and alert rules, and the data API's routes whose paths the web app did not use.

use std::sync::Arc;

use warp::reply::Response;
use warp::{Filter, Reply};

use super::{
    finish, json_body, query, raw_query, read, with_errors, with_gzip, with_state, writer, Routes,
    Writer,
};
use crate::api::{self};
use crate::error::ApiResult;
use crate::params::{self, Query};
use crate::state::State;
use crate::{alert_rules, analytics, dashboard, history, sse};
use crate::{assets, health, respond, stats};

/// Rows and lists of one asset's chain.
fn chains(st: &Arc<State>) -> Routes {
    let options = get!(
        st,
        warp::path!("api" / "options" / String),
        |x: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::options(&st, &x, &q).await)
        }
    );
    let strikes = get!(
        st,
        warp::path!("api" / "strikes" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::strikes(&st, &a, &q).await)
        }
    );
    let expiries = get!(
        st,
        warp::path!("api" / "expiries" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::expiries(&st, &a, &q).await)
        }
    );
    let changes = get!(
        st,
        warp::path!("api" / "changes" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::changes(&st, &a, &q).await)
        }
    );
    let chain = get!(
        st,
        warp::path!("api" / "chain" / String / String),
        |a: String, e: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::chain(&st, &a, &e, &q).await)
        }
    );
    let instruments = get!(
        st,
        warp::path!("api" / "instruments" / String),
        |a: String, st: Arc<State>, _q: Query| async move {
            finish(&st, crate::instruments::get(&st, &a).await)
        }
    );
    any_of!(options, strikes, expiries, changes, chain, instruments)
}

/// Analytics and their history (repeatable parameters, so the raw query string).
fn analytics(st: &Arc<State>) -> Routes {
    let now = warp::path!("api" / "analytics" / String)
        .and(read())
        .and(with_state(st))
        .and(raw_query())
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, analytics::get(&st, &a, &raw).await)
        })
        .boxed();
    let smile = warp::path!("api" / "smile" / String)
        .and(read())
        .and(with_state(st))
        .and(raw_query())
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, analytics::smile(&st, &a, &raw).await)
        })
        .boxed();
    let past = warp::path!("api" / "history" / String)
        .and(read())
        .and(with_state(st))
        .and(raw_query())
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, history::get(&st, &a, &raw).await)
        })
        .boxed();
    // The tape: flow sums and the trades page by page.
    let flow = warp::path!("api" / "flow" / String)
        .and(read())
        .and(with_state(st))
        .and(raw_query())
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, crate::flow::flow(&st, &a, &raw).await)
        })
        .boxed();
    let trades = warp::path!("api" / "trades" / String)
        .and(read())
        .and(with_state(st))
        .and(raw_query())
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, crate::flow::trades(&st, &a, &raw).await)
        })
        .boxed();
    any_of!(now, smile, past, flow, trades)
}

/// Totals, the OpenAPI document and Prometheus metrics.
fn totals(st: &Arc<State>) -> Routes {
    let stats = get!(
        st,
        warp::path!("api" / "stats"),
        |st: Arc<State>, _q: Query| async move { finish(&st, stats::stats_reply(&st).await) }
    );
    let summary_asset = get!(
        st,
        warp::path!("api" / "summary" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::asset_summary(&st, &a, &q).await)
        }
    );
    let venues = get!(
        st,
        warp::path!("api" / "venues"),
        |st: Arc<State>, _q: Query| async move { finish(&st, crate::venues::list(&st).await) }
    );
    let status = get!(
        st,
        warp::path!("api" / "status"),
        |st: Arc<State>, q: Query| async move { finish(&st, crate::status::get(&st, &q).await) }
    );
    let openapi = warp::path!("api" / "openapi.json")
        .and(read())
        .map(|| respond::json_body(include_bytes!("../openapi.json").to_vec()))
        .boxed();
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_state(st))
        .map(|st: Arc<State>| health::metrics(&st))
        .boxed();
    any_of!(stats, summary_asset, venues, status, openapi, metrics)
}

/// `config:assets`: read, test on the exchange, add, toggle, remove.
fn asset_config(st: &Arc<State>) -> Routes {
    let list = get!(
        st,
        warp::path!("api" / "assets"),
        |st: Arc<State>, _q: Query| async move { finish(&st, assets::assets_get(&st).await) }
    );
    let test = warp::path!("api" / "assets" / "test")
        .and(warp::post())
        .and(writer(st))
        .and(json_body::<assets::AssetBody>())
        .then(|w: Writer, b: ApiResult<assets::AssetBody>| {
            w.answer(|st| async move { assets::assets_test(&st, b?).await })
        })
        .boxed();
    let add = warp::path!("api" / "assets" / "add")
        .and(warp::post())
        .and(writer(st))
        .and(json_body::<assets::AssetBody>())
        .then(|w: Writer, b: ApiResult<assets::AssetBody>| {
            w.answer(|st| async move { assets::assets_add(&st, b?).await })
        })
        .boxed();
    let toggle = warp::path!("api" / "assets" / String / "toggle")
        .and(warp::post())
        .and(writer(st))
        .then(|sym: String, w: Writer| {
            w.answer(|st| async move { assets::assets_toggle(&st, &sym).await })
        })
        .boxed();
    let remove = warp::path!("api" / "assets" / String / "remove")
        .and(warp::delete())
        .and(writer(st))
        .then(|sym: String, w: Writer| {
            w.answer(|st| async move { assets::assets_remove(&st, &sym).await })
        })
        .boxed();
    any_of!(test, add, toggle, remove, list)
}

/// Market alert rules for the feeder (`config:alerts`), edited from the dashboard.
fn alerts(st: &Arc<State>) -> Routes {
    let list = warp::path!("api" / "alerts")
        .and(read())
        .and(with_state(st))
        .then(|st: Arc<State>| async move { finish(&st, alert_rules::list(&st).await) })
        .boxed();
    let add = warp::path!("api" / "alerts")
        .and(warp::post())
        .and(writer(st))
        .and(json_body::<serde_json::Value>())
        .then(|w: Writer, b: ApiResult<serde_json::Value>| {
            w.answer(|st| async move { alert_rules::add(&st, b?).await })
        })
        .boxed();
    let remove = warp::path!("api" / "alerts" / String)
        .and(warp::delete())
        .and(writer(st))
        .then(|name: String, w: Writer| {
            w.answer(|st| async move { alert_rules::remove(&st, &name).await })
        })
        .boxed();
    any_of!(list, add, remove)
}

/// `/api/stream`: the seed's stats event every 2 s, plus `changes` and `analytics` events of
/// the subscribed assets, resumable with `Last-Event-ID` (or `since`).
fn stream(st: &Arc<State>, hub: Arc<sse::Hub>) -> Routes {
    warp::path!("api" / "stream")
        .and(warp::get())
        .and(with_state(st))
        .and(query())
        .and(warp::header::optional::<String>("last-event-id"))
        .and(warp::header::optional::<String>("accept-encoding"))
        .map(
            move |st: Arc<State>, q: Query, last: Option<String>, accept: Option<String>| {
                let (assets, since) = match params::stream_params(&q) {
                    Ok(p) => p,
                    Err(e) => return e.into_response(),
                };
                // `since=BTC:12,ETH:40` is Last-Event-ID for a client that took its snapshot from
                // /api/changes (gzipped) and cannot set the header on a new EventSource. The
                // header, which the browser sends on its own reconnects, wins.
                let cursor = last.or(since);
                // Events as chunks: a change's lines are rendered once and shared by every client
                // (warp's `sse` reply would render each event again per client). A stats event
                // every 2 s keeps an idle stream alive.
                // Compressed for a client that takes gzip, each event flushed as it goes (a full
                // chain's snapshot is hundreds of KB of JSON; a browser takes gzip).
                let gzip = crate::event_gzip::accepts_gzip(accept.as_deref());
                let events = sse::stream(st, hub.clone(), assets, cursor, gzip);
                let reply = warp::reply::stream(events);
                let reply = warp::reply::with_header(reply, "content-type", "text/event-stream");
                let reply = warp::reply::with_header(reply, "cache-control", "no-cache");
                let reply = warp::reply::with_header(reply, "vary", "accept-encoding");
                let mut response =
                    warp::reply::with_header(reply, "connection", "keep-alive").into_response();
                if gzip {
                    response.headers_mut().insert(
                        "content-encoding",
                        warp::http::HeaderValue::from_static("gzip"),
                    );
                }
                response
            },
        )
        .boxed()
}

/// The dashboard: `/` (table), `/chain` and `/filter` (the seed's page names), deep-linked
/// with ?asset=&expiry=&view=; its files under /static/.
fn pages(st: &Arc<State>, board: Arc<dashboard::Dashboard>) -> Routes {
    let page = |path: warp::filters::BoxedFilter<()>, default_view: &'static str| {
        let board = board.clone();
        path.and(read())
            .and(with_state(st))
            .and(query())
            .then(move |st: Arc<State>, q: Query| {
                let board = board.clone();
                async move {
                    let config = assets::asset_config(&st).await.map_err(|e| e.to_string());
                    board.page(default_view, &q, config)
                }
            })
            .boxed()
    };
    let index = page(warp::path::end().boxed(), "table");
    let chain = page(warp::path!("chain").boxed(), "chain");
    let filter = page(warp::path!("filter").boxed(), "table");
    let statics = warp::path!("static" / String)
        .and(read())
        .and(query())
        .and(warp::header::optional::<String>("if-none-match"))
        .map(move |name: String, q: Query, inm: Option<String>| board.asset(&name, &q, inm))
        .boxed();
    any_of!(index, chain, filter, statics)
}

/// Everything the web app's port serves, errors included.
pub fn routes(
    st: &Arc<State>,
    hub: Arc<sse::Hub>,
    board: Arc<dashboard::Dashboard>,
) -> warp::filters::BoxedFilter<(Response,)> {
    let plain = any_of!(
        pages(st, board),
        chains(st),
        analytics(st),
        totals(st),
        asset_config(st),
        alerts(st),
        super::data_api::shared(st)
    );
    let streams = any_of!(stream(st, hub), super::data_api::websocket(st));
    with_errors(with_gzip(streams, plain))
}
