//! The HTTP side of the bundled exchange, declared once for both modes: Bybit's REST market
//! endpoints (`/v5/market/instruments-info`, `/v5/market/tickers`), its public option WebSocket
//! (`/v5/public/option`) and `/sim/stats`, answered by a live simulation (`server::Sim`) or a
//! replayed recording (`replay::Replay`) through [`Exchange`]. The live simulation adds its
//! control routes (`server::control_routes`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use warp::filters::ws::WebSocket;
use warp::reply::Response;
use warp::{Filter, Reply};

/// A request's query string.
pub type Query = HashMap<String, String>;

/// Routes with their answers boxed, so the two modes' route sets have one type.
pub type Routes = warp::filters::BoxedFilter<(Response,)>;

/// What the bundled exchange answers, live or replayed.
pub trait Exchange: Send + Sync + 'static {
    /// `GET /v5/market/instruments-info`.
    fn instruments_info(&self, q: &Query) -> Response;
    /// `GET /v5/market/tickers`.
    fn tickers(&self, q: &Query) -> Response;
    /// `GET /sim/stats`: what the exchange has served.
    fn stats(&self) -> Value;
    /// Serves one public WebSocket connection until it closes.
    fn serve_socket(self: Arc<Self>, ws: WebSocket) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The routes every mode answers.
pub fn exchange<E: Exchange>(ex: Arc<E>) -> Routes {
    let with = warp::any().map(move || ex.clone());
    let instruments = warp::path!("v5" / "market" / "instruments-info")
        .and(warp::get())
        .and(with.clone())
        .and(warp::query::<Query>())
        .map(|ex: Arc<E>, q: Query| ex.instruments_info(&q));
    let tickers = warp::path!("v5" / "market" / "tickers")
        .and(warp::get())
        .and(with.clone())
        .and(warp::query::<Query>())
        .map(|ex: Arc<E>, q: Query| ex.tickers(&q));
    let ws = warp::path!("v5" / "public" / "option")
        .and(warp::ws())
        .and(with.clone())
        .map(|ws: warp::ws::Ws, ex: Arc<E>| {
            ws.on_upgrade(move |socket| ex.serve_socket(socket))
                .into_response()
        });
    let stats = warp::path!("sim" / "stats")
        .and(warp::get())
        .and(with)
        .map(|ex: Arc<E>| warp::reply::json(&ex.stats()).into_response());
    instruments
        .or(tickers)
        .unify()
        .or(ws)
        .unify()
        .or(stats)
        .unify()
        .boxed()
}
