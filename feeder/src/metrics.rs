//! Counters and gauges for /metrics (Prometheus text) and /health.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub started: Instant,
    pub messages_received: IntCounter,
    pub messages_garbled: IntCounter,
    pub messages_unknown: IntCounter,
    /// Trades received (every venue) and written with `OPTIONS.TRADE` (a resent one counts
    /// when written; the module keeps it once).
    pub trades_received: IntCounter,
    pub trades_written: IntCounter,
    pub updates_written: IntCounter,
    pub updates_conflated: IntCounter,
    pub updates_rejected: IntCounter,
    pub redis_errors: IntCounter,
    pub redis_up: IntGauge,
    /// Redis restarts seen by the writer's probe (a new module instance), each followed by a rewrite.
    pub redis_restarts: IntCounter,
    /// `--record`: entries written, dropped (queue full), write errors; 1 while writing works.
    pub record_frames: IntCounter,
    pub record_dropped: IntCounter,
    pub record_errors: IntCounter,
    pub record_ok: IntGauge,
    pub ws_reconnects: IntCounter,
    pub ws_connections: IntGauge,
    pub ws_connected: IntGauge,
    pub ws_topics: IntGauge,
    pub ws_failed_topics: IntGauge,
    pub rest_errors: IntCounter,
    pub pending: IntGauge,
    pub contracts: IntGauge,
    pub batch_size: Histogram,
    /// Exchange timestamp → written to Redis.
    pub exchange_lag: Histogram,
    /// Frame received → written to Redis (this process's own latency).
    pub write_latency: Histogram,
    /// Unix ms of the last ticker received (0: none yet).
    pub last_message_ms: AtomicI64,
    pub snapshot_loaded: AtomicBool,
    /// Per venue beyond Bybit (label `venue`); Bybit's own keep the names above.
    pub venue_received: IntCounterVec,
    pub venue_garbled: IntCounterVec,
    pub venue_reconnects: IntCounterVec,
    pub venue_rest_errors: IntCounterVec,
    pub venue_connected: IntGaugeVec,
    pub venue_channels: IntGaugeVec,
    pub venue_refused_channels: IntGaugeVec,
    pub venue_contracts: IntGaugeVec,
    pub venue_unlisted_assets: IntGaugeVec,
    /// Deribit is streamed (`--venues` names it), and the tracked assets it lists no options
    /// for, for /health and the system alerts.
    pub deribit_on: AtomicBool,
    pub deribit_unlisted: std::sync::Mutex<Vec<String>>,
}

fn counter_vec(r: &Registry, name: &str, help: &str) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), &["venue"])
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = r.register(Box::new(c.clone()));
    c
}

fn gauge_vec(r: &Registry, name: &str, help: &str) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), &["venue"])
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = r.register(Box::new(g.clone()));
    g
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = r.register(Box::new(c.clone()));
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = r.register(Box::new(g.clone()));
    g
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = r.register(Box::new(h.clone()));
    h
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let secs = vec![
            0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
        ];
        Metrics {
            started: Instant::now(),
            messages_received: counter(
                &r,
                "feeder_messages_received_total",
                "Ticker pushes received and parsed",
            ),
            messages_garbled: counter(
                &r,
                "feeder_messages_garbled_total",
                "Frames that were not valid Bybit messages (dropped)",
            ),
            trades_received: counter(
                &r,
                "feeder_trades_received_total",
                "Trades received from the venues",
            ),
            trades_written: counter(
                &r,
                "feeder_trades_written_total",
                "Trades written with OPTIONS.TRADE",
            ),
            messages_unknown: counter(
                &r,
                "feeder_messages_unknown_symbol_total",
                "Pushes for symbols not subscribed on that connection (dropped)",
            ),
            updates_written: counter(
                &r,
                "feeder_updates_written_total",
                "Contract updates written with OPTIONS.INGEST",
            ),
            updates_conflated: counter(
                &r,
                "feeder_updates_conflated_total",
                "Updates merged into a newer one before writing",
            ),
            updates_rejected: counter(
                &r,
                "feeder_updates_rejected_total",
                "Updates Redis refused (e.g. contract already expired)",
            ),
            redis_errors: counter(&r, "feeder_redis_errors_total", "Failed Redis round trips"),
            redis_up: gauge(&r, "feeder_redis_up", "1 while Redis answers"),
            redis_restarts: counter(
                &r,
                "feeder_redis_restarts_total",
                "Redis restarts seen (a new module instance), each followed by a rewrite of every contract",
            ),
            record_frames: counter(
                &r,
                "feeder_record_entries_total",
                "Entries written to the recording",
            ),
            record_dropped: counter(
                &r,
                "feeder_record_dropped_total",
                "Frames not recorded because the recording queue was full",
            ),
            record_errors: counter(
                &r,
                "feeder_record_errors_total",
                "Failed writes to the recording",
            ),
            record_ok: gauge(
                &r,
                "feeder_record_ok",
                "1 while recording works, 0 when writes fail, -1 when not recording",
            ),
            ws_reconnects: counter(&r, "feeder_ws_reconnects_total", "WebSocket reconnects"),
            ws_connections: gauge(&r, "feeder_ws_connections", "WebSocket connections wanted"),
            ws_connected: gauge(&r, "feeder_ws_connected", "WebSocket connections open"),
            ws_topics: gauge(&r, "feeder_ws_topics", "Topics subscribed"),
            ws_failed_topics: gauge(
                &r,
                "feeder_ws_failed_topics",
                "Topics the exchange refused (retried)",
            ),
            rest_errors: counter(
                &r,
                "feeder_rest_errors_total",
                "Failed REST calls (retried)",
            ),
            pending: gauge(
                &r,
                "feeder_pending_updates",
                "Contracts with updates waiting for Redis",
            ),
            contracts: gauge(
                &r,
                "feeder_contracts",
                "Contracts listed for the tracked assets",
            ),
            batch_size: histogram(
                &r,
                "feeder_batch_size",
                "Contract updates per pipeline",
                vec![1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0],
            ),
            exchange_lag: histogram(
                &r,
                "feeder_exchange_lag_seconds",
                "Exchange timestamp to written in Redis",
                secs.clone(),
            ),
            write_latency: histogram(
                &r,
                "feeder_write_latency_seconds",
                "Frame received to written in Redis",
                secs,
            ),
            venue_received: counter_vec(&r, "feeder_venue_messages_received_total", "Ticker notifications received and converted"),
            venue_garbled: counter_vec(&r, "feeder_venue_messages_garbled_total", "Frames, tickers or instruments not understood (skipped)"),
            venue_reconnects: counter_vec(&r, "feeder_venue_reconnects_total", "WebSocket sessions ended and started again"),
            venue_rest_errors: counter_vec(&r, "feeder_venue_rest_errors_total", "Failed REST calls (retried)"),
            venue_connected: gauge_vec(&r, "feeder_venue_connected", "1 while the venue's WebSocket is subscribed"),
            venue_channels: gauge_vec(&r, "feeder_venue_channels", "Channels the venue accepted"),
            venue_refused_channels: gauge_vec(&r, "feeder_venue_refused_channels", "Channels asked for and not accepted (asked again)"),
            venue_contracts: gauge_vec(&r, "feeder_venue_contracts", "Contracts listed for the tracked assets"),
            venue_unlisted_assets: gauge_vec(&r, "feeder_venue_unlisted_assets", "Tracked assets the venue lists no options for"),
            deribit_on: AtomicBool::new(false),
            deribit_unlisted: std::sync::Mutex::new(Vec::new()),
            registry: r,
            last_message_ms: AtomicI64::new(0),
            snapshot_loaded: AtomicBool::new(false),
        }
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    pub fn mark_message(&self, now_ms: i64) {
        self.last_message_ms.store(now_ms, Ordering::Relaxed);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
