//! `options-web`: the HTTP API, Server-Sent Events and dashboard over the Redis options module.

mod alert_rules;
mod analytics;
mod api;
mod assets;
mod dashboard;
mod data;
mod error;
mod event_gzip;
mod flow;
mod health;
mod history;
mod instruments;
mod params;
mod respond;
mod routes;
mod sse;
mod state;
mod stats;
mod status;
mod venues;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use warp::Filter;

use crate::state::State;

/// Serves the Python system's HTTP API (web app and data API, same paths and JSON), SSE at
/// /api/stream, /api/chain, /metrics and /health — each answered by Redis module commands.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    #[command(flatten)]
    redis: options_client::RedisArgs,
    /// Address to listen on.
    #[arg(long, env = "WEB_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (the seed's web app used 5001).
    #[arg(long, env = "WEB_PORT", default_value_t = 5001)]
    port: u16,
    /// Port of the data API's own listener (the seed's data API used 8000): its routes with its
    /// shapes exactly, where the two old servers had the same path with different answers
    /// (`/`, `/api/expiries`, `/api/strikes`, `/api/stats`, `/api/options/{symbol}`). 0 turns
    /// it off. Listens on the same address as --port.
    #[arg(long, env = "DATA_API_PORT", default_value_t = 8000)]
    data_api_port: u16,
    /// Bearer token required by the endpoints that change the asset list (none: open).
    #[arg(long, env = "API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Allowed CORS origin (`*` for any, as the seed's data API allowed).
    #[arg(long, env = "CORS_ORIGIN", default_value = "*")]
    cors_origin: String,
    /// Bybit REST base URL, used to validate new assets.
    #[arg(long, env = "BYBIT_REST_URL", default_value = "https://api.bybit.com")]
    bybit_rest_url: String,
    /// Assets written to `config:assets` when it is missing.
    #[arg(
        long,
        env = "OPTION_ASSETS",
        default_value = "BTC,ETH,SOL",
        value_delimiter = ','
    )]
    assets: Vec<String>,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive. Connections that
    /// clients drop mid-request are logged from debug up.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Ask Redis for each asset's changes every this many milliseconds instead of waiting in
    /// Redis for them (`OPTIONS.CHANGES … BLOCK`, the default, 0). Only to compare the two:
    /// polling adds up to one interval to every change's way to the screen.
    #[arg(long, env = "CHANGES_POLL_MS", default_value_t = 0)]
    changes_poll_ms: u64,
}

pub use options_core::clock::now_ms;

/// A listener whose connections send each write at once (`TCP_NODELAY`, which Linux hands from
/// the listening socket to every accepted one): an event of a stream is a small write after a
/// small write, which Nagle's algorithm would hold until the client's delayed ACK, up to 40 ms.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// The tracing filter for `--log-level`. warp logs every connection a client drops before
/// finishing a request (browsers' spare pre-connections, closed tabs) as an error; those are
/// not the server's errors, so below debug they are left out.
fn log_directives(level: &str) -> String {
    let level = level.trim().to_lowercase();
    match level.as_str() {
        "error" | "warn" | "info" => format!("{level},warp::server=off"),
        _ => level,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(log_directives(&args.log_level))
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let st = Arc::new(State {
        redis: options_client::Redis::open(&args.redis)?,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        bybit_rest: args.bybit_rest_url.clone(),
        default_assets: args
            .assets
            .iter()
            .map(|a| a.trim().to_uppercase())
            .filter(|a| !a.is_empty())
            .collect(),
        api_token: args.api_token.clone().filter(|t| !t.is_empty()),
        requests: AtomicU64::new(0),
        assets_doc: options_client::AssetsDoc::new(),
        alerts_doc: options_client::SharedDoc::new(options_core::alert_rule::KEY),
        errors: AtomicU64::new(0),
        instruments: Default::default(),
    });
    let poll = (args.changes_poll_ms > 0).then(|| Duration::from_millis(args.changes_poll_ms));
    let hub = Arc::new(sse::Hub::new(poll));
    let cors = if args.cors_origin == "*" {
        warp::cors().allow_any_origin()
    } else {
        warp::cors().allow_origin(args.cors_origin.as_str())
    }
    .allow_methods(vec!["GET", "POST", "DELETE", "OPTIONS"])
    .allow_headers(vec!["content-type", "authorization", "last-event-id"]);
    let board = Arc::new(dashboard::Dashboard::new()?);
    let app = routes::web_app::routes(&st, hub, board).with(cors.clone());
    let addr: SocketAddr = format!("{}:{}", args.bind, args.port).parse()?;
    let listener = listen(addr)?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "options-web listening");
    println!("options-web listening on http://{local}");
    let serve = warp::serve(app).incoming(listener).run();
    let data_api = if args.data_api_port == 0 {
        None
    } else {
        let addr: SocketAddr = format!("{}:{}", args.bind, args.data_api_port).parse()?;
        let listener = listen(addr).map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {addr} for the data API ({e}); choose another --data-api-port, or 0 to turn it off"
            )
        })?;
        let local = listener.local_addr()?;
        tracing::info!(%local, "data API listening");
        println!("data API listening on http://{local}");
        let api = routes::data_api::routes(&st).with(cors);
        Some(warp::serve(api).incoming(listener).run())
    };
    let data_api = async move {
        match data_api {
            Some(serve) => serve.await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = serve => {}
        _ = data_api => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::log_directives;

    #[test]
    fn dropped_client_connections_stay_out_of_ordinary_logs() {
        assert_eq!(log_directives("INFO"), "info,warp::server=off");
        assert_eq!(log_directives("debug"), "debug");
        assert_eq!(log_directives("options_web=trace"), "options_web=trace");
    }
}
