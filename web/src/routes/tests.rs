//! In-process tests of routing, parameter validation and error mapping (`warp::test`): no
//! network listener; Redis is a closed port, so anything that reaches it is a 503, and a 400 or
//! 404 proves the request was refused before any Redis command.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde_json::Value;

use crate::state::State;
use crate::{dashboard, sse};

fn state() -> Arc<State> {
    // Port 1 refuses connections at once.
    let redis = options_client::Redis::standalone("redis://127.0.0.1:1/")
        .expect("a client for a valid URL");
    Arc::new(State {
        redis,
        http: reqwest::Client::new(),
        bybit_rest: "http://127.0.0.1:1".into(),
        default_assets: vec!["BTC".into()],
        api_token: Some("secret".into()),
        requests: AtomicU64::new(0),
        assets_doc: options_client::AssetsDoc::new(),
        alerts_doc: options_client::SharedDoc::new(options_core::alert_rule::KEY),
        errors: AtomicU64::new(0),
        instruments: Default::default(),
    })
}

fn web_app() -> super::Routes {
    super::web_app::routes(
        &state(),
        Arc::new(sse::Hub::default()),
        Arc::new(dashboard::Dashboard::new().expect("templates compile")),
    )
}

fn data_api() -> super::Routes {
    super::data_api::routes(&state())
}

async fn answer(routes: &super::Routes, req: warp::test::RequestBuilder) -> (u16, Value) {
    let r = req.reply(routes).await;
    let body = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
    (r.status().as_u16(), body)
}

#[tokio::test]
async fn bad_parameters_are_400s_naming_the_parameter_before_redis_is_asked() {
    let app = web_app();
    for (path, param) in [
        ("/api/options/BTC?type=straddle", "type"),
        ("/api/options/BTC?limit=-1", "limit"),
        ("/api/options/BTC?offset=x", "offset"),
        ("/api/options/BTC?expiry=31FEB26", "expiry"),
        ("/api/options/BTC?strike=abc", "strike"),
        ("/api/options/B%20C", "asset"),
        ("/api/stream?since=BTC", "since"),
    ] {
        let (code, body) = answer(&app, warp::test::request().path(path)).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert_eq!(body["parameter"], param, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_redis_outage_is_a_503_on_both_ports() {
    let (code, body) = answer(&web_app(), warp::test::request().path("/api/stats")).await;
    assert_eq!(code, 503, "{body}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Redis is unavailable"));
    let (code, _) = answer(&data_api(), warp::test::request().path("/api/stats")).await;
    assert_eq!(code, 503);
    // /health answers 200 with the seed's "unhealthy" body rather than failing.
    let (code, body) = answer(&data_api(), warp::test::request().path("/health")).await;
    assert_eq!((code, body["redis"].as_str()), (200, Some("disconnected")));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let app = web_app();
    let (code, body) = answer(&app, warp::test::request().path("/api/nothing")).await;
    assert_eq!((code, body["detail"].as_str()), (404, Some("Not Found")));
    let (code, _) = answer(
        &app,
        warp::test::request().method("DELETE").path("/api/stats"),
    )
    .await;
    assert_eq!(code, 405);
}

#[tokio::test]
async fn a_405_names_the_methods_of_the_path() {
    let app = web_app();
    for (method, path, allow) in [
        ("DELETE", "/api/stats", "GET"),
        ("TRACE", "/api/alerts", "GET, POST"),
        ("PUT", "/api/alerts/cheap-calls", "DELETE"),
        ("GET", "/api/assets/ETH/remove", "DELETE"),
        ("OPTIONS", "/api/assets/add", "POST"),
        ("PUT", "/api/assets/ETH", "GET"),
        ("POST", "/static/app.js", "GET"),
    ] {
        let r = warp::test::request()
            .method(method)
            .path(path)
            .reply(&app)
            .await;
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(
            r.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_not_a_405() {
    let app = web_app();
    let (code, body) = answer(
        &app,
        warp::test::request()
            .method("POST")
            .path("/api/assets/test")
            .header("authorization", "Bearer secret")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("symbol=BTC"),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["parameter"], "body");
    // The token is checked first: without it the body is never read.
    let (code, _) = answer(
        &app,
        warp::test::request()
            .method("POST")
            .path("/api/assets/test")
            .body("symbol=BTC"),
    )
    .await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn the_data_api_port_has_its_own_root_and_no_dashboard() {
    let api = data_api();
    let (code, body) = answer(&api, warp::test::request().path("/")).await;
    assert_eq!(code, 200);
    assert_eq!(body["service"], "Bybit Options Data API");
    assert_eq!(body["endpoints"]["options"], "/api/options/{symbol}");
    for path in ["/chain", "/api/analytics/BTC", "/api/stream", "/api/assets"] {
        let (code, _) = answer(&api, warp::test::request().path(path)).await;
        assert_eq!(code, 404, "{path} is the web app's");
    }
    // An asset is not a symbol: the data API's own 404, without asking Redis.
    let (code, body) = answer(&api, warp::test::request().path("/api/options/BTC")).await;
    assert_eq!(
        (code, body["detail"].as_str()),
        (404, Some("Option BTC not found"))
    );
}
