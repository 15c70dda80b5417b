//! `bybit-sim`: a local exchange that speaks Bybit V5's option REST API and public WebSocket,
//! for the demo, the tests and the benchmarks. See `--help`.

mod clock;
mod deribit;
mod deribit_rest;
mod deribit_socket;
mod market;
mod replay;
mod rest;
mod routes;
mod server;
mod socket;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use warp::Filter;

use crate::market::{AssetSpec, Market};
use crate::server::{Faults, Limits, Sim};

/// A local Bybit V5 options exchange: REST `/v5/market/instruments-info` and
/// `/v5/market/tickers`, WebSocket `/v5/public/option` with `tickers.SYMBOL` pushes, and
/// `/sim/*` control endpoints (pause, resume, rate, set, list, delist, fault/*, stats).
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SIM_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// Replay a recording (`options-feeder --record DIR`) instead of simulating: the recorded
    /// listings and tickers over REST, the recorded frames over the WebSocket, starting at the
    /// first subscription. The market flags below are then ignored.
    #[arg(long, env = "SIM_REPLAY")]
    replay: Option<std::path::PathBuf>,
    /// Replay speed: 1 keeps the recorded spacing, 60 plays an hour in a minute, 0 sends as
    /// fast as the clients read.
    #[arg(long, default_value_t = 1.0, requires = "replay")]
    speed: f64,
    /// Replay only frames received from this time (Unix ms or ISO 8601, e.g.
    /// 2026-12-02T03:00:00Z); earlier ones still set the REST answers.
    #[arg(long, value_parser = parse_now, requires = "replay")]
    from: Option<i64>,
    /// Replay only frames received up to this time (Unix ms or ISO 8601).
    #[arg(long, value_parser = parse_now, requires = "replay")]
    to: Option<i64>,
    /// Start the replay again from the beginning when it ends.
    #[arg(long = "loop", requires = "replay")]
    looped: bool,
    /// Port for both REST and WebSocket (0 picks a free one; the chosen address is logged).
    #[arg(long, env = "SIM_PORT", default_value_t = 9100)]
    port: u16,
    /// Seed for listings and price paths: the same seed gives the same market.
    #[arg(long, env = "SIM_SEED", default_value_t = 1)]
    seed: u64,
    /// Underlyings to list, comma-separated (BTC, ETH, SOL, XRP and DOGE have realistic
    /// parameters; others get generic ones).
    #[arg(
        long,
        env = "SIM_ASSETS",
        default_value = "BTC,ETH,SOL,XRP",
        value_delimiter = ','
    )]
    assets: Vec<String>,
    /// Strikes on each side of the money for near expiries (sets the contract count: 14 gives
    /// about 2,500 contracts over the four default assets).
    #[arg(long, env = "SIM_STRIKES", default_value_t = 14)]
    strikes: usize,
    /// Contract updates per second across the whole market (each one pushed to subscribers).
    #[arg(long, env = "SIM_UPDATES_PER_SEC", default_value_t = 5_000)]
    updates_per_sec: u64,
    /// Most topics one WebSocket connection may subscribe (Bybit: 2000).
    #[arg(long, default_value_t = 2000)]
    max_topics: usize,
    /// Most characters of topic text per connection (Bybit: 21000).
    #[arg(long, default_value_t = 21_000)]
    max_topic_chars: usize,
    /// Seconds without any client message before a connection is dropped (Bybit: 600).
    #[arg(long, default_value_t = 600.0)]
    idle_timeout: f64,
    /// Fault: drop every WebSocket connection every N seconds (0 = never).
    #[arg(long, default_value_t = 0.0)]
    drop_every: f64,
    /// Fault: send garbage frames to every connection every N seconds (0 = never).
    #[arg(long, default_value_t = 0.0)]
    garbage_every: f64,
    /// Fault: go silent (no pushes, no pongs, connection kept open) every N seconds...
    #[arg(long, default_value_t = 0.0)]
    silence_every: f64,
    /// ...for this many seconds.
    #[arg(long, default_value_t = 30.0)]
    silence_for: f64,
    /// Fault: reject every subscription.
    #[arg(long)]
    reject_subscriptions: bool,
    /// Fault: probability that a REST call answers HTTP 200 with retCode != 0.
    #[arg(long, default_value_t = 0.0)]
    retcode_rate: f64,
    /// Fault: probability that a REST call answers HTTP 429.
    #[arg(long, default_value_t = 0.0)]
    http429_rate: f64,
    /// Start the exchange's clock at this UTC time instead of now (e.g. 2026-12-31T09:00:00Z,
    /// 2027-02-28 or Unix ms): listings, deliveries and timestamps follow it, and it keeps
    /// running from there. Lets any calendar day (month and year ends, one-digit days) be
    /// simulated today; a Redis module judges expiry by its own clock, so pick a time ahead.
    #[arg(long, env = "SIM_NOW", value_parser = parse_now)]
    now: Option<i64>,
    /// Log filter (error, warn, info, debug, trace or a tracing directive).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(
            args.log_level.to_lowercase(),
        )?)
        .init();
    if let Some(dir) = args.replay.clone() {
        anyhow::ensure!(
            args.speed >= 0.0 && args.speed.is_finite(),
            "--speed must be 0 or more"
        );
        let replay = replay::Replay::open(replay::Settings {
            dir,
            speed: args.speed,
            from: args.from,
            to: args.to,
            looped: args.looped,
        })?;
        let addr: SocketAddr = format!("{}:{}", args.bind, args.port).parse()?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        println!("bybit-sim replaying on http://{local} (ws://{local}/v5/public/option)");
        tokio::spawn(replay.clone().run());
        let serve = warp::serve(routes::exchange(replay))
            .incoming(listener)
            .run();
        tokio::select! {
            _ = serve => {}
            _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
        }
        return Ok(());
    }
    let assets: Vec<AssetSpec> = args
        .assets
        .iter()
        .map(|a| a.trim().to_uppercase())
        .filter(|a| !a.is_empty())
        .map(|a| AssetSpec::named(&a))
        .collect();
    anyhow::ensure!(!assets.is_empty(), "--assets names no asset");
    if let Some(at) = args.now {
        clock::start_at(at);
    }
    let market = Market::new(&assets, args.strikes, args.seed, clock::now_ms());
    let contracts = market.contracts().len();
    let limits = Limits {
        max_topics: args.max_topics,
        max_topic_chars: args.max_topic_chars,
        idle_timeout: Duration::from_secs_f64(args.idle_timeout.max(1.0)),
    };
    let faults = Faults {
        retcode_rate: args.retcode_rate,
        http429_rate: args.http429_rate,
        reject_always: args.reject_subscriptions,
        ..Faults::default()
    };
    let sim = Sim::new(market, limits, faults, args.updates_per_sec);
    let addr: SocketAddr = format!("{}:{}", args.bind, args.port).parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, contracts, seed = args.seed, "bybit-sim listening");
    println!("bybit-sim listening on http://{local} (Bybit: ws://{local}/v5/public/option; Deribit: http://{local}/api/v2, ws://{local}/ws/api/v2), {contracts} contracts");

    tokio::spawn(server::run_updates(sim.clone()));
    tokio::spawn(server::run_maintenance(sim.clone()));
    spawn_scheduled_faults(&sim, &args);

    let routes = routes::exchange(sim.clone())
        .or(rest::control_routes(sim.clone()))
        .unify()
        .or(deribit_rest::routes(sim.clone()))
        .unify();
    let serve = warp::serve(routes).incoming(listener).run();
    tokio::select! {
        _ = serve => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
    }
    Ok(())
}

fn parse_now(text: &str) -> Result<i64, String> {
    options_core::clock::parse_instant_ms(text).map_err(|e| e.to_string())
}

fn spawn_scheduled_faults(sim: &Arc<Sim>, args: &Args) {
    let every = |secs: f64| (secs > 0.0).then(|| Duration::from_secs_f64(secs));
    if let Some(period) = every(args.drop_every) {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                tracing::warn!("fault: dropping all connections");
                sim.fault("drop", 0.0);
            }
        });
    }
    if let Some(period) = every(args.garbage_every) {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                tracing::warn!("fault: sending garbage");
                sim.fault("garbage", 0.0);
            }
        });
    }
    if let Some(period) = every(args.silence_every) {
        let (sim, secs) = (sim.clone(), args.silence_for);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                tracing::warn!(secs, "fault: going silent");
                sim.fault("silence", secs);
            }
        });
    }
}
