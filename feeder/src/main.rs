//! `options-feeder`: streams Bybit's (and Deribit's) option tickers into the Redis options
//! module.

mod alerts;
mod app;
mod bot_commands;
mod config;
mod deribit;
mod health;
mod heartbeat;
mod market_alerts;
mod metrics;
mod recorder;
mod rest;
mod trade_alerts;
mod watchdog;
mod writer;
mod ws;

use clap::Parser;
use options_feeder::ticker;

pub use options_core::clock::now_ms;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = config::Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(args.log_level.to_lowercase())
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    app::run(args).await
}
