//! `/health`, `/ready` and `/metrics` for orchestrators and Prometheus.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;
use warp::http::StatusCode;
use warp::Filter;

use crate::metrics::Metrics;

/// Seconds without a ticker after which /health reports unhealthy (the seed's 60 s).
const STALE_AFTER_S: i64 = 60;

fn health(m: &Metrics) -> (StatusCode, serde_json::Value) {
    let now = crate::now_ms();
    let last = m.last_message_ms.load(Ordering::Relaxed);
    let uptime = m.started.elapsed().as_secs();
    let idle_s = if last > 0 {
        (now - last) / 1000
    } else {
        uptime as i64
    };
    let stale = idle_s > STALE_AFTER_S;
    let mut body = json!({
        "status": if stale { "unhealthy" } else { "healthy" },
        "uptime": format!("{}:{:02}:{:02}", uptime / 3600, uptime / 60 % 60, uptime % 60),
        "uptime_seconds": uptime,
        "messages_received": m.messages_received.get(),
        "messages_processed": m.updates_written.get(),
        "messages_dropped": m.messages_garbled.get() + m.messages_unknown.get(),
        "redis_errors": m.redis_errors.get(),
        "ws_reconnects": m.ws_reconnects.get(),
        "last_message": if last > 0 { json!(last) } else { json!("None") },
        "queue_size": m.pending.get(),
        "redis": if m.redis_up.get() == 1 { "connected" } else { "disconnected" },
        "connections": {"wanted": m.ws_connections.get(), "open": m.ws_connected.get()},
        "topics": m.ws_topics.get(),
        "contracts": m.contracts.get(),
    });
    if m.deribit_on.load(Ordering::Relaxed) {
        let g = |v: &prometheus::IntGaugeVec| v.with_label_values(&["deribit"]).get();
        let unlisted = m
            .deribit_unlisted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        body["venues"] = json!({"deribit": {
            "connected": g(&m.venue_connected) == 1,
            "channels": g(&m.venue_channels),
            "refused_channels": g(&m.venue_refused_channels),
            "contracts": g(&m.venue_contracts),
            "messages_received": m.venue_received.with_label_values(&["deribit"]).get(),
            "reconnects": m.venue_reconnects.with_label_values(&["deribit"]).get(),
            "assets_not_listed": unlisted,
        }});
    }
    if stale {
        body["error"] = json!(format!("No messages for {idle_s} seconds"));
    }
    (
        if stale {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        },
        body,
    )
}

fn ready(m: &Metrics) -> (StatusCode, serde_json::Value) {
    let mut waiting = Vec::new();
    if !m.snapshot_loaded.load(Ordering::Relaxed) {
        waiting.push("initial snapshot");
    }
    if m.redis_up.get() != 1 {
        waiting.push("redis");
    }
    if m.ws_connected.get() < m.ws_connections.get() {
        waiting.push("websocket connections");
    }
    let ok = waiting.is_empty();
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({"ready": ok, "waiting_for": waiting}),
    )
}

pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> anyhow::Result<()> {
    let m = metrics.clone();
    let health_route = warp::path!("health").and(warp::get()).map(move || {
        let (code, body) = health(&m);
        warp::reply::with_status(warp::reply::json(&body), code)
    });
    let m = metrics.clone();
    let ready_route = warp::path!("ready").and(warp::get()).map(move || {
        let (code, body) = ready(&m);
        warp::reply::with_status(warp::reply::json(&body), code)
    });
    let m = metrics;
    let metrics_route = warp::path!("metrics").and(warp::get()).map(move || {
        warp::reply::with_header(m.render(), "content-type", "text/plain; version=0.0.4")
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "health endpoints listening");
    warp::serve(health_route.or(ready_route).or(metrics_route))
        .incoming(listener)
        .run()
        .await;
    Ok(())
}
