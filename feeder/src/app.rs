//! The feeder's control loop: which assets are tracked, which contracts they list, and keeping
//! the WebSocket subscriptions and the Redis contents in step with both.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use options_client::Redis;
use options_core::Venue;
use tokio::sync::{mpsc, oneshot};

use crate::config::Args;
use crate::metrics::Metrics;
use crate::rest::{Instrument, RestClient};

use crate::writer::{Writer, WriterMsg};
use crate::ws::{StreamPool, StreamSettings};

/// Contracts listed per tracked asset.
type Listings = BTreeMap<String, BTreeMap<String, Instrument>>;

struct App {
    args: Args,
    rest: RestClient,
    control: Redis,
    /// `config:assets` as last seen (restored to a Redis that lost it).
    assets_doc: options_client::AssetsDoc,
    pool: StreamPool,
    writer: mpsc::UnboundedSender<WriterMsg>,
    metrics: Arc<Metrics>,
    listings: Listings,
    /// Assets whose discovery failed; retried on the next quick tick.
    failed: BTreeSet<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new());
    if args.health_port != 0 {
        let addr = format!("{}:{}", args.health_bind, args.health_port).parse()?;
        let m = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::health::serve(addr, m).await {
                tracing::error!(error = %e, "health endpoints failed to start");
            }
        });
    }
    let recorder = match &args.record {
        Some(dir) => {
            let r = crate::recorder::Recorder::start(dir, metrics.clone())?;
            tracing::info!(dir = %dir.display(), "recording what Bybit sends");
            Some(r)
        }
        None => {
            metrics.record_ok.set(-1);
            None
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let sink = Redis::open(&args.redis)?;
    let writer = Writer::new(
        rx,
        sink,
        args.batch_size,
        Args::secs(args.batch_timeout),
        args.mirror_hashes,
        metrics.clone(),
    );
    // On a connection of its own, beside the writer: a write stuck on a hung Redis must not
    // keep the outage off the record.
    let watchdog = crate::watchdog::run(Redis::open(&args.redis)?, metrics.clone());
    // The writer gets its own thread: under a flood of pushes the stream readers must not
    // starve the one task that turns them into Redis writes.
    let writer_task = {
        let (done_tx, done_rx) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("redis-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(async {
                        let watchdog = tokio::spawn(watchdog);
                        writer.run().await;
                        watchdog.abort();
                    }),
                    Err(e) => tracing::error!(error = %e, "cannot start the writer runtime"),
                }
                let _ = done_tx.send(());
            })?;
        done_rx
    };
    let silence_timeout = Args::secs(args.silence_timeout).max(Duration::from_millis(200));
    let settings = StreamSettings {
        url: args.ws_url.clone(),
        // Pongs count as life: ping often enough that a quiet but healthy stream (no price
        // moved) is never taken for a dead one.
        ping_interval: Args::secs(args.ping_interval)
            .min(silence_timeout / 3)
            .max(Duration::from_millis(50)),
        silence_timeout,
        reconnect_delay: Args::secs(args.reconnect_delay),
        max_reconnect_delay: Args::secs(args.max_reconnect_delay),
        max_topics: args.max_topics,
        max_topic_chars: args.max_topic_chars,
        subscribe_chunk: args.subscribe_chunk,
        recorder: recorder.clone(),
    };
    let mut app = App {
        rest: RestClient::new(
            &args.rest_url,
            Args::secs(args.api_timeout),
            metrics.clone(),
            recorder.clone(),
        )?,
        control: Redis::open(&args.redis)?,
        assets_doc: options_client::AssetsDoc::new(),
        pool: StreamPool::new(settings, tx.clone(), metrics.clone()),
        writer: tx,
        metrics: metrics.clone(),
        listings: BTreeMap::new(),
        failed: BTreeSet::new(),
        args,
    };
    tracing::info!(rest = %app.args.rest_url, ws = %app.args.ws_url, redis = ?redacted(&app.args.redis.urls()), "options-feeder starting");

    let notifier = start_alerts(&app.args, &metrics)?;
    tokio::spawn(crate::heartbeat::run(
        Redis::open(&app.args.redis)?,
        metrics.clone(),
        notifier.is_some(),
    ));
    let initial = app.wanted_assets().await;
    let bybit = app.args.venues.contains(&Venue::Bybit);
    // Deribit runs on its own task: its failures and reconnects never stall Bybit's streams.
    let deribit_assets = app.args.venues.contains(&Venue::Deribit).then(|| {
        let (assets_tx, assets_rx) = tokio::sync::watch::channel(initial.clone());
        let settings = crate::deribit::Settings {
            rest_url: app.args.deribit_rest_url.clone(),
            ws_url: app.args.deribit_ws_url.clone(),
            heartbeat: Duration::from_secs(app.args.deribit_heartbeat.max(10)),
            reconnect_delay: Args::secs(app.args.reconnect_delay),
            max_reconnect_delay: Args::secs(app.args.max_reconnect_delay),
            refresh_interval: Args::secs(app.args.refresh_interval),
            api_timeout: Args::secs(app.args.api_timeout),
        };
        tracing::info!(rest = %settings.rest_url, ws = %settings.ws_url, "deribit venue on");
        metrics.deribit_on.store(true, Ordering::Relaxed);
        tokio::spawn(crate::deribit::run(
            settings,
            assets_rx,
            app.writer.clone(),
            metrics.clone(),
        ));
        assets_tx
    });
    if bybit {
        app.follow_assets(&initial).await;
    }
    app.mark_ready_when_written();

    let mut refresh =
        tokio::time::interval(Args::secs(app.args.refresh_interval).max(Duration::from_secs(1)));
    refresh.tick().await;
    let mut assets_poll = tokio::time::interval(
        Args::secs(app.args.assets_poll_interval).max(Duration::from_millis(200)),
    );
    assets_poll.tick().await;
    let mut quick = tokio::time::interval(Duration::from_secs(1));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = refresh.tick(), if bybit => app.refresh_listings().await,
            _ = assets_poll.tick() => {
                let wanted = app.wanted_assets().await;
                if let Some(tx) = &deribit_assets {
                    tx.send_if_modified(|current| {
                        let changed = *current != wanted;
                        if changed {
                            current.clone_from(&wanted);
                        }
                        changed
                    });
                }
                if bybit {
                    app.follow_assets(&wanted).await;
                }
            }
            _ = quick.tick(), if bybit => {
                app.drop_expired();
                if !app.failed.is_empty() {
                    let retry: Vec<String> = app.failed.iter().cloned().collect();
                    for a in retry {
                        app.add_asset(&a).await;
                    }
                    app.resubscribe();
                }
            }
        }
    }

    tracing::info!("shutting down: closing streams and flushing the last batch");
    let App { pool, writer, .. } = app;
    pool.shutdown().await;
    drop(writer);
    if tokio::time::timeout(Duration::from_secs(10), writer_task)
        .await
        .is_err()
    {
        tracing::error!("the writer did not finish within 10 s");
    }
    tracing::info!(written = metrics.updates_written.get(), "stopped");
    if let Some(n) = notifier {
        n.send(
            "⏹ Feeder stopped",
            &format!(
                "Clean shutdown after writing {} updates.",
                metrics.updates_written.get()
            ),
        );
        n.drain(Duration::from_secs(5)).await;
    }
    Ok(())
}

/// Starts the Telegram notifier and the system watch when notifications are configured.
fn start_alerts(
    args: &Args,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Option<Arc<crate::alerts::Notifier>>> {
    // A broken alerts file is a startup error, not a silent lack of alerts.
    let rules = match &args.alerts_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            crate::market_alerts::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    if !args.enable_notifications {
        if !rules.is_empty() {
            tracing::warn!(
                "an alerts file is given but ENABLE_NOTIFICATIONS is off; market alerts are off"
            );
        }
        return Ok(None);
    }
    let (Some(token), Some(chat)) = (
        args.telegram_bot_token.clone().filter(|t| !t.is_empty()),
        args.telegram_chat_id.clone().filter(|c| !c.is_empty()),
    ) else {
        tracing::warn!("ENABLE_NOTIFICATIONS is set but TELEGRAM_BOT_TOKEN or TELEGRAM_CHAT_ID is missing; alerts are off");
        return Ok(None);
    };
    let notifier = crate::alerts::Notifier::new(crate::alerts::AlertSettings {
        token,
        chat,
        api_url: args.telegram_api_url.clone(),
        project: args.project_name.clone(),
        throttle: Args::secs(args.alert_throttle),
        ws_down_after: Args::secs(args.alert_ws_down_after),
        stale_after: Args::secs(args.alert_stale_after),
        queue: 100,
    });
    tokio::spawn(notifier.clone().run());
    tokio::spawn(crate::alerts::SystemWatch::new(notifier.clone(), metrics.clone()).run());
    if args.telegram_commands {
        let sink = Redis::open(&args.redis)?;
        tokio::spawn(crate::bot_commands::run(
            notifier.clone(),
            metrics.clone(),
            sink,
        ));
    }
    // Rules may also arrive later through config:alerts, so the checker always runs.
    {
        tracing::info!(file_rules = rules.len(), "market alerts on");
        let sink = Redis::open(&args.redis)?;
        let every = Args::secs(args.alerts_check_interval).max(Duration::from_millis(100));
        tokio::spawn(crate::market_alerts::run(
            rules,
            sink,
            notifier.clone(),
            every,
        ));
    }
    notifier.send(
        "▶️ Feeder started",
        &format!(
            "Tracking {} from {}.",
            args.default_assets().join(", "),
            args.ws_url
        ),
    );
    Ok(Some(notifier))
}

fn redacted(urls: &[String]) -> Vec<String> {
    urls.iter()
        .map(|u| options_client::tls::redact(u))
        .collect()
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl App {
    /// The enabled assets of `config:assets`; seeds the key from OPTION_ASSETS when it is
    /// missing and was never seen, writes back the last copy seen when Redis lost it (an empty
    /// restart: the assets added since start stay tracked), and keeps the current set when
    /// Redis cannot be read.
    async fn wanted_assets(&mut self) -> Vec<String> {
        let defaults = self.args.default_assets();
        match self.assets_doc.read_or_seed(&self.control, &defaults).await {
            Ok(config) => config.tracked(),
            Err(e) if e.is_unavailable() => {
                tracing::debug!(error = %e, "config:assets unreadable; keeping the current assets");
                self.current_or(defaults)
            }
            Err(e) => {
                tracing::warn!(error = %e, "ignoring config:assets");
                self.current_or(defaults)
            }
        }
    }

    fn current_or(&self, defaults: Vec<String>) -> Vec<String> {
        if self.listings.is_empty() && self.failed.is_empty() {
            defaults
        } else {
            self.listings
                .keys()
                .chain(self.failed.iter())
                .cloned()
                .collect()
        }
    }

    async fn follow_assets(&mut self, wanted: &[String]) {
        let wanted_set: BTreeSet<&String> = wanted.iter().collect();
        let gone: Vec<String> = self
            .listings
            .keys()
            .chain(self.failed.iter())
            .filter(|a| !wanted_set.contains(a))
            .cloned()
            .collect();
        let mut changed = false;
        for a in gone {
            tracing::info!(asset = %a, "asset no longer tracked; unsubscribing");
            self.listings.remove(&a);
            self.failed.remove(&a);
            changed = true;
        }
        for a in wanted {
            if !self.listings.contains_key(a) && !self.failed.contains(a) {
                self.add_asset(a).await;
                changed = true;
            }
        }
        if changed {
            self.resubscribe();
        }
    }

    /// Discovers an asset's contracts and writes its REST snapshot.
    async fn add_asset(&mut self, asset: &str) {
        match self.rest.instruments(asset).await {
            Ok(list) => {
                self.failed.remove(asset);
                let map: BTreeMap<String, Instrument> =
                    list.into_iter().map(|i| (i.symbol.clone(), i)).collect();
                tracing::info!(asset, contracts = map.len(), "discovered");
                let symbols: HashSet<String> = map.keys().cloned().collect();
                self.listings.insert(asset.to_string(), map);
                self.snapshot(asset, Some(&symbols)).await;
            }
            Err(e) => {
                if self.failed.insert(asset.to_string()) {
                    tracing::error!(asset, error = %e, "discovery failed; retrying every second");
                }
            }
        }
    }

    /// Writes REST tickers for `asset` (only `only` symbols when given).
    async fn snapshot(&mut self, asset: &str, only: Option<&HashSet<String>>) {
        match self.rest.tickers(asset).await {
            Ok(tickers) => {
                let mut n = 0;
                for t in tickers {
                    if only.is_none_or(|o| o.contains(&t.symbol)) {
                        n += 1;
                        let _ = self.writer.send(WriterMsg::Snapshot(t));
                    }
                }
                tracing::info!(asset, tickers = n, "REST snapshot queued");
            }
            Err(e) => {
                tracing::warn!(asset, error = %e, "REST snapshot failed; the stream will fill in")
            }
        }
    }

    fn contract_count(&self) -> usize {
        self.listings.values().map(BTreeMap::len).sum()
    }

    fn resubscribe(&mut self) {
        let mut wanted: HashSet<String> = self
            .listings
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect();
        self.metrics.contracts.set(wanted.len() as i64);
        // Every trade of each listed asset's options: one topic per base coin.
        wanted.extend(
            self.listings
                .iter()
                .filter(|(_, m)| !m.is_empty())
                .map(|(asset, _)| format!("{}{asset}", crate::ws::TRADE_TOPIC_PREFIX)),
        );
        self.pool.set_symbols(&wanted);
    }

    /// Re-discovers every tracked asset: new contracts are snapshotted and subscribed, delisted
    /// ones unsubscribed and deleted from Redis.
    async fn refresh_listings(&mut self) {
        let assets: Vec<String> = self.listings.keys().cloned().collect();
        let mut changed = false;
        for asset in assets {
            let fresh = match self.rest.instruments(&asset).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::warn!(asset = %asset, error = %e, "refresh failed; keeping the current listing");
                    continue;
                }
            };
            let fresh: BTreeMap<String, Instrument> =
                fresh.into_iter().map(|i| (i.symbol.clone(), i)).collect();
            let old = self.listings.get(&asset).cloned().unwrap_or_default();
            let added: HashSet<String> = fresh
                .keys()
                .filter(|s| !old.contains_key(*s))
                .cloned()
                .collect();
            let removed: Vec<String> = old
                .keys()
                .filter(|s| !fresh.contains_key(*s))
                .cloned()
                .collect();
            if added.is_empty() && removed.is_empty() {
                continue;
            }
            tracing::info!(asset = %asset, added = added.len(), removed = removed.len(), "listings changed");
            self.listings.insert(asset.clone(), fresh);
            if !removed.is_empty() {
                let _ = self.writer.send(WriterMsg::Delete {
                    base: asset.clone(),
                    symbols: removed,
                });
            }
            if !added.is_empty() {
                self.snapshot(&asset, Some(&added)).await;
            }
            changed = true;
        }
        if changed {
            self.resubscribe();
        }
    }

    /// Stops streaming contracts at their delivery time; the module hides and purges them.
    fn drop_expired(&mut self) {
        let now = crate::now_ms();
        let mut changed = false;
        for (asset, map) in self.listings.iter_mut() {
            let expired: Vec<String> = map
                .values()
                .filter(|i| i.delivery_ms > 0 && i.delivery_ms <= now)
                .map(|i| i.symbol.clone())
                .collect();
            if !expired.is_empty() {
                for s in &expired {
                    map.remove(s);
                }
                tracing::info!(asset = %asset, contracts = expired.len(), "contracts delivered");
                let _ = self.writer.send(WriterMsg::Delete {
                    base: asset.clone(),
                    symbols: expired,
                });
                changed = true;
            }
        }
        if changed {
            self.resubscribe();
        }
    }

    /// Marks the feeder ready once the writer has written the initial snapshot (which waits
    /// for Redis if it is down).
    fn mark_ready_when_written(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(WriterMsg::Flush(tx)).is_err() {
            return;
        }
        let metrics = self.metrics.clone();
        let (contracts, connections) = (self.contract_count(), self.pool.connection_count());
        tokio::spawn(async move {
            if rx.await.is_ok() {
                metrics.snapshot_loaded.store(true, Ordering::Relaxed);
                tracing::info!(contracts, connections, "initial snapshot written");
            }
        });
    }
}
