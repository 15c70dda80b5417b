//! What every handler shares: the Redis connection, the HTTP client for the exchange, the
//! shared documents and the counters; one `State` behind an `Arc`.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Instant;

use options_client::Redis;
use serde_json::Value;

pub struct State {
    pub redis: Redis,
    pub http: reqwest::Client,
    pub bybit_rest: String,
    pub default_assets: Vec<String>,
    pub api_token: Option<String>,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    /// `/api/instruments` answers, kept for ten minutes.
    pub instruments: AnswerCache,
    /// `config:assets` and `config:alerts`, as last seen: restored to a Redis that lost them.
    pub assets_doc: options_client::AssetsDoc,
    pub alerts_doc: options_client::SharedDoc,
}

/// Answers kept per asset, with when they were made (`/api/instruments`).
#[derive(Default)]
pub struct AnswerCache(pub Mutex<HashMap<String, (Instant, Value)>>);
