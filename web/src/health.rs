//! `/health` and `/metrics`.

use std::sync::atomic::Ordering;

use serde_json::json;
use warp::reply::Response;
use warp::Reply;

use crate::respond::json_value;
use crate::state::State;
use crate::stats::{data_api_stats, stats};

pub async fn health(st: &State) -> Response {
    let (status, redis, stats) = match stats(st).await {
        Ok(s) => ("healthy", "connected", data_api_stats(&s)),
        Err(_) => ("unhealthy", "disconnected", json!({})),
    };
    json_value(
        &json!({"status": status, "redis": redis, "timestamp": options_core::clock::now_iso(), "stats": stats}),
    )
}

pub fn metrics(st: &State) -> Response {
    let body = format!(
        "# HELP web_requests_total HTTP requests served\n# TYPE web_requests_total counter\nweb_requests_total {}\n\
# HELP web_errors_total HTTP requests answered with an error\n# TYPE web_errors_total counter\nweb_errors_total {}\n",
        st.requests.load(Ordering::Relaxed),
        st.errors.load(Ordering::Relaxed)
    );
    warp::reply::with_header(body, "content-type", "text/plain; version=0.0.4").into_response()
}
