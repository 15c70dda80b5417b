//! `options-feeder`: streams Bybit option tickers into the Redis options module.

mod alerts;
mod app;
mod bot_commands;
mod config;
mod health;
mod market_alerts;
mod metrics;
mod rest;
mod ticker;
mod writer;
mod ws;

use clap::Parser;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = config::Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(args.log_level.to_lowercase())
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    app::run(args).await
}
