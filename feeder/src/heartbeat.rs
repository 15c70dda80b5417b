//! The feeder's heartbeat in Redis (`feeder:status`, rewritten every second, gone 5 s after the
//! feeder stops): what the web server needs to tell a dashboard *why* data is old — the feeder
//! is not running, cannot reach Bybit, Bybit is quiet, or writes are failing — and whether
//! Telegram delivery is on.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use options_client::reply::FeederStatus;
use options_client::Redis;

use crate::metrics::Metrics;

/// The key, shared with the web server (`options_client::reply::FeederStatus` reads it).
pub const KEY: &str = options_client::reply::FEEDER_STATUS_KEY;

/// Writes the heartbeat every second until the process ends; a failed write is retried on
/// the next beat (the writer, not this, reports Redis outages).
pub async fn run(redis: Redis, metrics: Arc<Metrics>, telegram: bool) {
    let started_ms = crate::now_ms();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let status = FeederStatus {
            ts: crate::now_ms(),
            started_ms,
            last_message_ms: metrics.last_message_ms.load(Ordering::Relaxed),
            ws_wanted: metrics.ws_connections.get(),
            ws_open: metrics.ws_connected.get(),
            redis_up: metrics.redis_up.get(),
            contracts: metrics.contracts.get(),
            telegram,
        };
        let Ok(json) = serde_json::to_string(&status) else {
            continue;
        };
        let mut cmd = redis::cmd("SET");
        cmd.arg(KEY).arg(json).arg("PX").arg(5000);
        let _ =
            tokio::time::timeout(Duration::from_secs(2), redis.query::<redis::Value>(&cmd)).await;
    }
}
