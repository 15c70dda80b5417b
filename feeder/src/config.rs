//! Command-line flags, each also read from an environment variable; the seed's variable names
//! (`REDIS_HOST`, `OPTION_ASSETS`, `BATCH_SIZE`, …) keep working.

use std::time::Duration;

use clap::Parser;

/// Streams Bybit option tickers into the Redis options module (`OPTIONS.INGEST`).
///
/// Discovers every listed option of the tracked assets (all settle coins), loads a REST
/// snapshot, subscribes to `tickers.SYMBOL` over as many WebSocket connections as Bybit's
/// limits need, and writes pipelined batches. Serves /health, /ready and /metrics.
#[derive(Parser, Debug, Clone)]
#[command(version, about, long_about)]
pub struct Args {
    #[command(flatten)]
    pub redis: options_client::RedisArgs,

    /// Bybit REST base URL.
    #[arg(long, env = "BYBIT_REST_URL", default_value = "https://api.bybit.com")]
    pub rest_url: String,
    /// Bybit public option WebSocket URL.
    #[arg(
        long,
        env = "BYBIT_WS_URL",
        default_value = "wss://stream.bybit.com/v5/public/option"
    )]
    pub ws_url: String,

    /// Venues to stream, comma-separated: `bybit`, `deribit` or both. Each venue has its own
    /// connections and reconnects; one that fails never stalls the other. Bybit's chains keep
    /// the keys `<UNDERLYING>`, Deribit's are `deribit:<UNDERLYING>`.
    #[arg(long, env = "VENUES", default_value = "bybit", value_delimiter = ',', value_parser = parse_venue)]
    pub venues: Vec<options_core::Venue>,
    /// Deribit REST base URL (its `public/get_instruments` and `get_book_summary_by_currency`).
    #[arg(
        long,
        env = "DERIBIT_REST_URL",
        default_value = "https://www.deribit.com/api/v2"
    )]
    pub deribit_rest_url: String,
    /// Deribit JSON-RPC WebSocket URL.
    #[arg(
        long,
        env = "DERIBIT_WS_URL",
        default_value = "wss://www.deribit.com/ws/api/v2"
    )]
    pub deribit_ws_url: String,
    /// Seconds between Deribit's heartbeat `test_request`s (`public/set_heartbeat`, at least 10);
    /// each is answered, and a session silent for two periods is reconnected.
    #[arg(long, env = "DERIBIT_HEARTBEAT", default_value_t = 30)]
    pub deribit_heartbeat: u64,

    /// Assets to track when Redis has no `config:assets` yet (comma-separated). The live list
    /// is `config:assets` (the web UI edits it); the feeder follows its enabled entries.
    #[arg(
        long,
        env = "OPTION_ASSETS",
        default_value = "BTC,ETH,SOL",
        value_delimiter = ','
    )]
    pub assets: Vec<String>,
    /// How often to re-read `config:assets`, in seconds.
    #[arg(long, env = "ASSETS_POLL_INTERVAL", default_value_t = 5.0)]
    pub assets_poll_interval: f64,
    /// How often to re-discover listings (new expiries subscribed, expired ones purged), seconds.
    #[arg(long, env = "REFRESH_INTERVAL", default_value_t = 300.0)]
    pub refresh_interval: f64,

    /// Most contract updates written in one pipeline.
    #[arg(long, env = "BATCH_SIZE", default_value_t = 1000)]
    pub batch_size: usize,
    /// Longest time, in seconds, an update may wait for others to share its pipeline. 0 (the
    /// default) writes as soon as nothing else is queued: under load, batches still grow by
    /// themselves while the previous pipeline is in flight.
    #[arg(long, env = "BATCH_TIMEOUT", default_value_t = 0.0)]
    pub batch_timeout: f64,

    /// Seconds between pings on each connection (Bybit asks for 20).
    #[arg(long, env = "WS_PING_INTERVAL", default_value_t = 20.0)]
    pub ping_interval: f64,
    /// Seconds without any frame (pushes or pongs) after which a connection counts as dead.
    #[arg(long, env = "WS_SILENCE_TIMEOUT", default_value_t = 30.0)]
    pub silence_timeout: f64,
    /// First reconnect delay in seconds; doubles per failed attempt, with jitter.
    #[arg(long, env = "WS_RECONNECT_DELAY", default_value_t = 0.5)]
    pub reconnect_delay: f64,
    /// Longest reconnect delay in seconds.
    #[arg(long, env = "WS_MAX_RECONNECT_DELAY", default_value_t = 30.0)]
    pub max_reconnect_delay: f64,
    /// Most topics per WebSocket connection (Bybit: 2000).
    #[arg(long, env = "WS_MAX_TOPICS", default_value_t = 2000)]
    pub max_topics: usize,
    /// Most characters of topic text per connection (Bybit: 21000).
    #[arg(long, env = "WS_MAX_TOPIC_CHARS", default_value_t = 21_000)]
    pub max_topic_chars: usize,
    /// Topics per subscribe request.
    #[arg(long, env = "WS_SUBSCRIPTION_CHUNK_SIZE", default_value_t = 200)]
    pub subscribe_chunk: usize,
    /// REST request timeout in seconds.
    #[arg(long, env = "API_TIMEOUT", default_value_t = 10.0)]
    pub api_timeout: f64,

    /// Address for /health, /ready and /metrics.
    #[arg(long, env = "HEALTH_BIND", default_value = "127.0.0.1")]
    pub health_bind: String,
    /// Port for /health, /ready and /metrics (0 disables them).
    #[arg(long, env = "HEALTH_CHECK_PORT", default_value_t = 8080)]
    pub health_port: u16,

    /// Record every ticker frame received (with its exchange and receive times), and the
    /// listings and REST snapshots used, to hour files in this directory
    /// (`2026-12-02T03.jsonl.zst`), for `bybit-sim --replay DIR`. A full or failing disk never
    /// holds the stream up: frames are dropped and counted, and an alert says so.
    #[arg(long, env = "RECORD_DIR")]
    pub record: Option<std::path::PathBuf>,

    /// Also write the seed's `option:{symbol}` hashes and `stats:global`, so consumers of the
    /// old system keep working during a migration.
    #[arg(long, env = "MIRROR_HASHES")]
    pub mirror_hashes: bool,

    /// Send Telegram alerts (needs TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID).
    #[arg(long, env = "ENABLE_NOTIFICATIONS")]
    pub enable_notifications: bool,
    /// Telegram bot token.
    #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
    pub telegram_bot_token: Option<String>,
    /// Telegram chat to alert: a numeric chat id or an @channel name.
    #[arg(long, env = "TELEGRAM_CHAT_ID")]
    pub telegram_chat_id: Option<String>,
    /// Telegram Bot API base URL (tests point it at a local mock).
    #[arg(
        long,
        env = "TELEGRAM_API_URL",
        default_value = "https://api.telegram.org"
    )]
    pub telegram_api_url: String,
    /// Name shown at the top of every alert.
    #[arg(long, env = "PROJECT_NAME", default_value = "Bybit Options Tracker")]
    pub project_name: String,
    /// Seconds before the same kind of problem is announced again (the seed's 300).
    #[arg(long, env = "ALERT_THROTTLE", default_value_t = 300.0)]
    pub alert_throttle: f64,
    /// Seconds a WebSocket connection may be down before an alert.
    #[arg(long, env = "ALERT_WS_DOWN_AFTER", default_value_t = 60.0)]
    pub alert_ws_down_after: f64,
    /// Seconds without any ticker before a "data stale" alert.
    #[arg(long, env = "ALERT_STALE_AFTER", default_value_t = 120.0)]
    pub alert_stale_after: f64,

    /// Answer /status, /atm ASSET and /mute DURATION from the alert chat.
    #[arg(long, env = "TELEGRAM_COMMANDS")]
    pub telegram_commands: bool,
    /// Market alerts (TOML; see the README): thresholds on a symbol or an asset's ATM call.
    #[arg(long, env = "ALERTS_FILE")]
    pub alerts_file: Option<std::path::PathBuf>,
    /// Seconds between checks of the market alerts.
    #[arg(long, env = "ALERTS_CHECK_INTERVAL", default_value_t = 2.0)]
    pub alerts_check_interval: f64,

    /// Log filter: error, warn, info, debug, trace, or a tracing directive.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl Args {
    pub fn default_assets(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .assets
            .iter()
            .map(|a| a.trim().to_uppercase())
            .filter(|a| !a.is_empty())
            .collect();
        v.dedup();
        v
    }

    pub fn secs(v: f64) -> Duration {
        Duration::from_secs_f64(if v.is_finite() { v.max(0.0) } else { 0.0 })
    }
}

fn parse_venue(text: &str) -> Result<options_core::Venue, String> {
    options_core::Venue::parse(text.trim())
        .ok_or_else(|| format!("unknown venue '{text}' (expected bybit or deribit)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_flags_are_the_clients_and_assets_are_normalised() {
        // The Redis flags are options_client::RedisArgs (tested there); here only that they
        // are flattened into the feeder's command line.
        let a = Args::parse_from(["f", "--redis-url", "redis://a:1, redis://b:2"]);
        assert!(a.redis.cluster());
        let a = Args::parse_from(["f", "--assets", "btc, eth,,SOL"]);
        assert_eq!(a.default_assets(), ["BTC", "ETH", "SOL"]);
    }
}
