//! `options-web`: the HTTP API, Server-Sent Events and dashboard over the Redis options module.

mod alert_rules;
mod analytics;
mod api;
mod dashboard;
mod data;
mod error;
mod history;
mod params;
mod sse;
mod store;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::api::State;
use crate::error::{ApiError, ApiResult};
use crate::params::Query;

/// Serves the Python system's HTTP API (web app and data API, same paths and JSON), SSE at
/// /api/stream, /api/chain, /metrics and /health — each answered by Redis module commands.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Redis URL. Defaults to one built from REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD.
    /// Several comma-separated URLs, or --redis-cluster, connect to a Redis Cluster.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// Treat the Redis URL(s) as the seed nodes of a Redis Cluster.
    #[arg(long, env = "REDIS_CLUSTER")]
    redis_cluster: bool,
    #[command(flatten)]
    redis_tls: options_redis_tls::RedisTlsArgs,
    /// Redis host when --redis-url is not given.
    #[arg(long, env = "REDIS_HOST", default_value = "localhost")]
    redis_host: String,
    /// Redis port when --redis-url is not given.
    #[arg(long, env = "REDIS_PORT", default_value_t = 6379)]
    redis_port: u16,
    /// Redis database when --redis-url is not given.
    #[arg(long, env = "REDIS_DB", default_value_t = 0)]
    redis_db: i64,
    /// Redis password when --redis-url is not given.
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true)]
    redis_password: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "WEB_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (the seed's web app used 5001).
    #[arg(long, env = "WEB_PORT", default_value_t = 5001)]
    port: u16,
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
}

impl Args {
    fn redis_urls(&self) -> Vec<String> {
        options_redis_tls::redis_urls(
            self.redis_url.as_deref(),
            &self.redis_host,
            self.redis_port,
            self.redis_db,
            self.redis_password.as_deref(),
        )
    }
}

pub use options_core::clock::now_ms;

pub fn now_iso() -> String {
    let ms = now_ms();
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let date = options_core::Expiry::from_unix_days(days)
        .map(|e| e.iso())
        .unwrap_or_default();
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

fn finish(st: &State, r: ApiResult<Response>) -> Response {
    st.requests.fetch_add(1, Ordering::Relaxed);
    match r {
        Ok(r) => r,
        Err(e) => {
            st.errors.fetch_add(1, Ordering::Relaxed);
            if matches!(e, ApiError::Internal(_)) {
                tracing::error!(error = %e, "request failed");
            }
            e.into_response()
        }
    }
}

fn authorized(st: &State, header: Option<String>) -> ApiResult<()> {
    match &st.api_token {
        None => Ok(()),
        Some(t) if header.as_deref() == Some(&format!("Bearer {t}")) => Ok(()),
        Some(_) => Err(ApiError::Unauthorized),
    }
}

/// Runs a write handler only for a request with the bearer token (when one is configured).
async fn finish_authorized(
    st: &State,
    header: Option<String>,
    handler: impl std::future::Future<Output = ApiResult<Response>>,
) -> Response {
    let r = match authorized(st, header) {
        Ok(()) => handler.await,
        Err(e) => Err(e),
    };
    finish(st, r)
}

async fn handle_rejection(r: Rejection) -> Result<Response, Infallible> {
    let (code, detail) = if r.is_not_found() {
        (StatusCode::NOT_FOUND, "Not Found".to_string())
    } else if let Some(e) = r.find::<warp::filters::body::BodyDeserializeError>() {
        (StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}"))
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed".to_string(),
        )
    } else if let Some(e) = r.find::<warp::reject::InvalidQuery>() {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid query string: {e}"),
        )
    } else {
        (StatusCode::BAD_REQUEST, format!("{r:?}"))
    };
    Ok(warp::reply::with_status(
        warp::reply::json(&serde_json::json!({"detail": detail})),
        code,
    )
    .into_response())
}

fn routes(
    st: Arc<State>,
    hub: Arc<sse::Hub>,
    board: Arc<dashboard::Dashboard>,
) -> warp::filters::BoxedFilter<(Response,)> {
    let s = {
        let st = st.clone();
        warp::any().map(move || st.clone())
    };
    let q = warp::query::<Query>();
    // HEAD is answered like GET; hyper leaves the body out.
    let read = || warp::get().or(warp::head()).unify();
    macro_rules! get {
        ($path:expr, $handler:expr) => {
            $path
                .and(read())
                .and(s.clone())
                .and(q)
                .then($handler)
                .boxed()
        };
    }
    let options = get!(
        warp::path!("api" / "options" / String),
        |x: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::options(&st, &x, &q).await)
        }
    );
    let strikes = get!(
        warp::path!("api" / "strikes" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::strikes(&st, &a, &q).await)
        }
    );
    let expiries = get!(
        warp::path!("api" / "expiries" / String),
        |a: String, st: Arc<State>, _q: Query| async move { finish(&st, api::expiries(&st, &a).await) }
    );
    let changes = get!(
        warp::path!("api" / "changes" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::changes(&st, &a, &q).await)
        }
    );
    let stats = get!(
        warp::path!("api" / "stats"),
        |st: Arc<State>, _q: Query| async move { finish(&st, api::stats_reply(&st).await) }
    );
    let summary_asset = get!(
        warp::path!("api" / "summary" / String),
        |a: String, st: Arc<State>, _q: Query| async move {
            finish(&st, api::asset_summary(&st, &a).await)
        }
    );
    let summary = get!(
        warp::path!("api" / "summary"),
        |st: Arc<State>, _q: Query| async move { finish(&st, data::summary(&st).await) }
    );
    let chain = get!(
        warp::path!("api" / "chain" / String / String),
        |a: String, e: String, st: Arc<State>, q: Query| async move {
            finish(&st, api::chain(&st, &a, &e, &q).await)
        }
    );
    // Repeatable parameters (`expiry=a&expiry=b`) need the raw query string.
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let analytics = warp::path!("api" / "analytics" / String)
        .and(read())
        .and(s.clone())
        .and(raw_query)
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, analytics::get(&st, &a, &raw).await)
        })
        .boxed();
    let history = warp::path!("api" / "history" / String)
        .and(read())
        .and(s.clone())
        .and(raw_query)
        .then(|a: String, st: Arc<State>, raw: String| async move {
            finish(&st, history::get(&st, &a, &raw).await)
        })
        .boxed();
    let assets = get!(
        warp::path!("api" / "assets"),
        |st: Arc<State>, _q: Query| async move { finish(&st, api::assets_get(&st).await) }
    );
    let asset_data = get!(
        warp::path!("api" / "assets" / String),
        |a: String, st: Arc<State>, q: Query| async move {
            finish(&st, data::asset_options(&st, &a, &q).await)
        }
    );
    let symbols = get!(
        warp::path!("api" / "symbols"),
        |st: Arc<State>, q: Query| async move { finish(&st, data::symbols(&st, &q).await) }
    );
    let atm = get!(
        warp::path!("api" / "atm" / String),
        |a: String, st: Arc<State>, q: Query| async move { finish(&st, data::atm(&st, &a, &q).await) }
    );
    let high_volume = get!(
        warp::path!("api" / "high-volume"),
        |st: Arc<State>, q: Query| async move {
            finish(&st, data::threshold(&st, &q, data::Threshold::Volume).await)
        }
    );
    let high_iv = get!(
        warp::path!("api" / "high-iv"),
        |st: Arc<State>, q: Query| async move {
            finish(&st, data::threshold(&st, &q, data::Threshold::Iv).await)
        }
    );
    let greeks = get!(
        warp::path!("api" / "greeks" / String),
        |a: String, st: Arc<State>, _q: Query| async move { finish(&st, data::greeks(&st, &a).await) }
    );
    let recent = get!(
        warp::path!("api" / "recent"),
        |st: Arc<State>, q: Query| async move { finish(&st, data::recent(&st, &q).await) }
    );
    let export = get!(
        warp::path!("api" / "export" / String),
        |kind: String, st: Arc<State>, q: Query| async move {
            finish(&st, data::export(&st, &kind, &q).await)
        }
    );
    let query = warp::path!("api" / "query")
        .and(warp::post())
        .and(s.clone())
        .and(q)
        .then(|st: Arc<State>, q: Query| async move { finish(&st, data::query(&st, &q).await) })
        .boxed();
    let health = warp::path!("health")
        .and(warp::get())
        .and(s.clone())
        .then(|st: Arc<State>| async move { api::health(&st).await })
        .boxed();
    let ws = warp::path!("ws")
        .and(warp::ws())
        .and(s.clone())
        .map(|ws: warp::ws::Ws, st: Arc<State>| {
            ws.on_upgrade(move |socket| data::websocket(st, socket))
                .into_response()
        })
        .boxed();
    let openapi = warp::path!("api" / "openapi.json")
        .and(warp::get())
        .map(|| api::json_body(include_bytes!("openapi.json").to_vec()))
        .boxed();
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(s.clone())
        .map(|st: Arc<State>| api::metrics(&st))
        .boxed();

    let auth = warp::header::optional::<String>("authorization");
    let body =
        warp::body::content_length_limit(16 * 1024).and(warp::body::json::<api::AssetBody>());
    let assets_test = warp::path!("api" / "assets" / "test")
        .and(warp::post())
        .and(s.clone())
        .and(auth)
        .and(body)
        .then(
            |st: Arc<State>, h: Option<String>, b: api::AssetBody| async move {
                finish_authorized(&st, h, api::assets_test(&st, b)).await
            },
        )
        .boxed();
    let assets_add = warp::path!("api" / "assets" / "add")
        .and(warp::post())
        .and(s.clone())
        .and(auth)
        .and(body)
        .then(
            |st: Arc<State>, h: Option<String>, b: api::AssetBody| async move {
                finish_authorized(&st, h, api::assets_add(&st, b)).await
            },
        )
        .boxed();
    let assets_toggle = warp::path!("api" / "assets" / String / "toggle")
        .and(warp::post())
        .and(s.clone())
        .and(auth)
        .then(
            |sym: String, st: Arc<State>, h: Option<String>| async move {
                finish_authorized(&st, h, api::assets_toggle(&st, &sym)).await
            },
        )
        .boxed();
    // Market alert rules for the feeder (config:alerts), edited from the dashboard.
    let alerts_list = warp::path!("api" / "alerts")
        .and(read())
        .and(s.clone())
        .then(|st: Arc<State>| async move { finish(&st, alert_rules::list(&st).await) })
        .boxed();
    let alerts_add = warp::path!("api" / "alerts")
        .and(warp::post())
        .and(s.clone())
        .and(auth)
        .and(
            warp::body::content_length_limit(16 * 1024)
                .and(warp::body::json::<serde_json::Value>()),
        )
        .then(
            |st: Arc<State>, h: Option<String>, b: serde_json::Value| async move {
                finish_authorized(&st, h, alert_rules::add(&st, b)).await
            },
        )
        .boxed();
    let alerts_remove = warp::path!("api" / "alerts" / String)
        .and(warp::delete())
        .and(s.clone())
        .and(auth)
        .then(
            |name: String, st: Arc<State>, h: Option<String>| async move {
                finish_authorized(&st, h, alert_rules::remove(&st, &name)).await
            },
        )
        .boxed();
    let assets_remove = warp::path!("api" / "assets" / String / "remove")
        .and(warp::delete())
        .and(s.clone())
        .and(auth)
        .then(
            |sym: String, st: Arc<State>, h: Option<String>| async move {
                finish_authorized(&st, h, api::assets_remove(&st, &sym)).await
            },
        )
        .boxed();

    let stream = warp::path!("api" / "stream")
        .and(warp::get())
        .and(s.clone())
        .and(q)
        .and(warp::header::optional::<String>("last-event-id"))
        .map(move |st: Arc<State>, q: Query, last: Option<String>| {
            let (assets, since) = match params::stream_params(&q) {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            };
            // `since=BTC:12,ETH:40` is Last-Event-ID for a client that took its snapshot from
            // /api/changes (gzipped) and cannot set the header on a new EventSource. The
            // header, which the browser sends on its own reconnects, wins.
            let cursor = last.or(since);
            let events = sse::stream(st, hub.clone(), assets, cursor);
            let reply = warp::sse::reply(
                warp::sse::keep_alive()
                    .interval(Duration::from_secs(15))
                    .stream(events),
            );
            let reply = warp::reply::with_header(reply, "cache-control", "no-cache");
            warp::reply::with_header(reply, "connection", "keep-alive").into_response()
        })
        .boxed();

    // The dashboard: `/` (table), `/chain` and `/filter` (the seed's page names), deep-linked
    // with ?asset=&expiry=&view=; its files under /static/.
    let page = |path: warp::filters::BoxedFilter<()>, default_view: &'static str| {
        let board = board.clone();
        path.and(read())
            .and(s.clone())
            .and(q)
            .then(move |st: Arc<State>, q: Query| {
                let board = board.clone();
                async move {
                    let config = api::asset_config(&st).await.map_err(|e| e.to_string());
                    board.page(default_view, &q, config)
                }
            })
            .boxed()
    };
    let index = page(warp::path::end().boxed(), "table");
    let chain_page = page(warp::path!("chain").boxed(), "chain");
    let filter_page = page(warp::path!("filter").boxed(), "table");
    let statics = {
        let board = board.clone();
        warp::path!("static" / String)
            .and(read())
            .and(q)
            .and(warp::header::optional::<String>("if-none-match"))
            .map(move |name: String, q: Query, inm: Option<String>| board.asset(&name, &q, inm))
            .boxed()
    };

    // Grouped by resource and boxed per group: one flat `.or()` chain of every route overflows
    // the compiler's type depth.
    macro_rules! any_of {
        ($first:expr $(, $rest:expr)* $(,)?) => {
            $first$(.or($rest).unify())*.boxed()
        };
    }
    let pages = any_of!(index, chain_page, filter_page, statics);
    let chains = any_of!(options, changes, strikes, expiries, chain, analytics, history);
    let totals = any_of!(stats, summary_asset, summary, health, metrics, openapi);
    let asset_config = any_of!(
        assets_test,
        assets_add,
        assets_toggle,
        assets_remove,
        assets
    );
    let alerts = any_of!(alerts_list, alerts_add, alerts_remove);
    let data_api = any_of!(
        asset_data,
        symbols,
        atm,
        high_volume,
        high_iv,
        greeks,
        recent,
        export,
        query
    );
    let plain = any_of!(pages, chains, totals, asset_config, alerts, data_api);
    // gzip for clients that accept it; never for the streams, which must flush per event.
    let accepts_gzip = warp::header::optional::<String>("accept-encoding")
        .and_then(|h: Option<String>| async move {
            if h.is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip"))) {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one();
    let compressed = accepts_gzip
        .and(plain.clone())
        .with(warp::compression::gzip())
        .map(warp::reply::Reply::into_response);
    stream
        .or(ws)
        .unify()
        .or(compressed)
        .unify()
        .or(plain)
        .unify()
        .boxed()
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
        store: store::Store::new(args.redis_urls(), args.redis_cluster, &args.redis_tls)?,
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
        errors: AtomicU64::new(0),
    });
    let hub = Arc::new(sse::Hub::default());
    let cors = if args.cors_origin == "*" {
        warp::cors().allow_any_origin()
    } else {
        warp::cors().allow_origin(args.cors_origin.as_str())
    }
    .allow_methods(vec!["GET", "POST", "DELETE", "OPTIONS"])
    .allow_headers(vec!["content-type", "authorization", "last-event-id"]);
    let board = Arc::new(dashboard::Dashboard::new()?);
    let app = routes(st, hub, board).recover(handle_rejection).with(cors);
    let addr: SocketAddr = format!("{}:{}", args.bind, args.port).parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "options-web listening");
    println!("options-web listening on http://{local}");
    let serve = warp::serve(app).incoming(listener).run();
    tokio::select! {
        _ = serve => {}
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
