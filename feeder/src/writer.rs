//! The Redis side: latest-value conflation and pipelined `OPTIONS.INGEST` batches.
//!
//! Updates are merged per contract until they are written, so a burst, or a Redis outage of any
//! length, costs one write per contract with its newest values: nothing older is replayed and
//! nothing newer is lost. The writer flushes as soon as nothing else is queued, so under light
//! load an update is written at once and under heavy load batches grow by themselves.
//!
//! Two queues, because only live frames may make history (ANALYTICS.md, "Writes that take no
//! sample"): `rewrite` holds old values being written again (the REST snapshot, every contract
//! after an outage or a restarted Redis, with what arrived during the outage folded in) and is
//! written `NOHISTORY`; `pending` holds live frames, and waits while a rewrite is queued, so no
//! live write can sample a half-rebuilt chain.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_client::cmd::{self, WriteKind};
use options_client::{ClientError, ClientResult, Redis};
use options_core::Field;
use redis::Value;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::ticker::TickerUpdate;

pub enum WriterMsg {
    /// A live exchange frame.
    Update(TickerUpdate),
    /// A REST snapshot row: old news by the time it is written, so it takes no history sample.
    Snapshot(TickerUpdate),
    /// Remove contracts that are no longer listed from the chain under `base` (a Redis key).
    Delete { base: String, symbols: Vec<String> },
    /// Answered once everything received before it has been written.
    Flush(oneshot::Sender<()>),
    /// A trade: never conflated, written in order with `OPTIONS.TRADE` (the module keeps a
    /// resent id once).
    Trade(crate::ticker::TradeUpdate),
}

/// Trades held while Redis is away; past this the oldest go (counted in the log).
const MAX_HELD_TRADES: usize = 200_000;

/// Error codes a Redis answers while it cannot serve yet (loading a snapshot, a Cluster shard
/// without its slots, a replica without its master): retried like an outage, never counted as
/// a refused update.
fn transient(code: &str) -> bool {
    matches!(
        code,
        "LOADING" | "CLUSTERDOWN" | "TRYAGAIN" | "MASTERDOWN" | "BUSY"
    )
}

/// The seed's hash fields, in its order (`mark_iv` is the seed's `iv`).
const SEED_FIELDS: [Field; 14] = [
    Field::BidIv,
    Field::AskIv,
    Field::LastPrice,
    Field::MarkPrice,
    Field::IndexPrice,
    Field::MarkIv,
    Field::UnderlyingPrice,
    Field::OpenInterest,
    Field::Delta,
    Field::Gamma,
    Field::Vega,
    Field::Theta,
    Field::Volume24h,
    Field::Turnover24h,
];

/// How often Redis is asked which process it is (and whether it is up) when nothing else tells.
const PROBE_EVERY: Duration = Duration::from_millis(500);

pub struct Writer {
    rx: mpsc::UnboundedReceiver<WriterMsg>,
    redis: Redis,
    /// Live frames not yet written, merged per contract.
    pending: HashMap<String, TickerUpdate>,
    /// Old values to write again (`NOHISTORY`) before any of `pending`.
    rewrite: HashMap<String, TickerUpdate>,
    /// Every contract's latest written values. After an outage all of it is written again: a
    /// Redis that restarted empty (or from an old snapshot) is whole again at once.
    known: HashMap<String, TickerUpdate>,
    /// Redis failed since the last successful flush.
    outage: bool,
    /// The Redis process last seen (`Redis::identity`), and when it was last asked.
    identity: Option<String>,
    probed: Instant,
    deletes: Vec<(String, Vec<String>)>,
    trades: std::collections::VecDeque<crate::ticker::TradeUpdate>,
    trades_dropped: u64,
    waiters: Vec<oneshot::Sender<()>>,
    batch_size: usize,
    batch_timeout: Duration,
    mirror_hashes: bool,
    metrics: Arc<Metrics>,
    rejected_logged: Instant,
}

impl Writer {
    pub fn new(
        rx: mpsc::UnboundedReceiver<WriterMsg>,
        redis: Redis,
        batch_size: usize,
        batch_timeout: Duration,
        mirror_hashes: bool,
        metrics: Arc<Metrics>,
    ) -> Writer {
        Writer {
            rx,
            redis,
            pending: HashMap::new(),
            rewrite: HashMap::new(),
            known: HashMap::new(),
            outage: false,
            identity: None,
            probed: Instant::now(),
            deletes: Vec::new(),
            trades: std::collections::VecDeque::new(),
            trades_dropped: 0,
            waiters: Vec::new(),
            batch_size: batch_size.max(1),
            batch_timeout,
            mirror_hashes,
            metrics,
            rejected_logged: Instant::now() - Duration::from_secs(60),
        }
    }

    fn absorb(&mut self, msg: WriterMsg) {
        match msg {
            WriterMsg::Update(u) => {
                if merge_into(&mut self.pending, u) {
                    self.metrics.updates_conflated.inc();
                }
            }
            WriterMsg::Snapshot(u) => {
                merge_into(&mut self.rewrite, u);
            }
            WriterMsg::Delete { base, symbols } => {
                let venue = options_core::Venue::of_key(&base).0;
                for s in &symbols {
                    let slot = crate::ticker::slot_of(venue, s);
                    self.pending.remove(&slot);
                    self.rewrite.remove(&slot);
                    self.known.remove(&slot);
                }
                self.deletes.push((base, symbols));
            }
            WriterMsg::Flush(tx) => self.waiters.push(tx),
            WriterMsg::Trade(t) => {
                if self.trades.len() >= MAX_HELD_TRADES {
                    self.trades.pop_front();
                    self.trades_dropped += 1;
                    if self.trades_dropped.is_power_of_two() {
                        tracing::warn!(
                            dropped = self.trades_dropped,
                            "Redis away too long: the oldest held trades were dropped"
                        );
                    }
                }
                self.trades.push_back(t);
            }
        }
        self.count_queued();
    }

    fn queued(&self) -> usize {
        self.pending.len() + self.rewrite.len()
    }

    fn count_queued(&self) {
        self.metrics.pending.set(self.queued() as i64);
    }

    fn has_work(&self) -> bool {
        self.queued() > 0
            || !self.deletes.is_empty()
            || !self.waiters.is_empty()
            || !self.trades.is_empty()
    }

    /// Takes everything already queued without waiting. Returns false once all senders are gone.
    fn drain_ready(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(m) => self.absorb(m),
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Runs until every sender is dropped, then writes what is left (trying for a few seconds
    /// if Redis is down) and returns.
    pub async fn run(mut self) {
        let mut retry_delay = Duration::from_millis(100);
        let mut open = true;
        while open || self.has_work() {
            if !self.has_work() {
                // A quiet market writes nothing, so Redis is probed instead: an outage or a
                // restart is seen within PROBE_EVERY whether or not anything ticks.
                let wait = PROBE_EVERY.saturating_sub(self.probed.elapsed());
                match tokio::time::timeout(wait, self.rx.recv()).await {
                    Ok(Some(m)) => self.absorb(m),
                    Ok(None) => break,
                    Err(_) => {
                        // During an outage the flush below probes, and rewrites on success.
                        if !self.outage {
                            self.probe().await;
                        }
                        if !self.outage && !self.has_work() {
                            continue;
                        }
                    }
                }
            }
            open = self.drain_ready();
            if open && !self.batch_timeout.is_zero() && self.queued() < self.batch_size {
                let deadline = tokio::time::Instant::now() + self.batch_timeout;
                while self.queued() < self.batch_size {
                    match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                        Ok(Some(m)) => self.absorb(m),
                        Ok(None) => {
                            open = false;
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
            if self.flush().await {
                retry_delay = Duration::from_millis(100);
            } else if open {
                // Redis is down: keep conflating while waiting to retry.
                let wake = tokio::time::sleep(retry_delay);
                tokio::pin!(wake);
                loop {
                    tokio::select! {
                        _ = &mut wake => break,
                        m = self.rx.recv() => match m {
                            Some(m) => self.absorb(m),
                            None => { open = false; break; }
                        }
                    }
                }
                // At most PROBE_EVERY apart, so the end of an outage is seen as quickly as
                // its start (a refused connection costs Redis nothing).
                retry_delay = (retry_delay * 2).min(PROBE_EVERY);
            } else {
                // Shutting down with Redis unavailable: give it a few more tries, then report.
                for _ in 0..20 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    if self.flush().await {
                        break;
                    }
                }
                if self.queued() > 0 {
                    tracing::error!(
                        pending = self.queued(),
                        "exiting with updates Redis never accepted"
                    );
                }
                break;
            }
        }
        for w in self.waiters.drain(..) {
            let _ = w.send(());
        }
    }

    /// Asks Redis which process it is. A failure starts an outage; a different process (a
    /// restart, however brief, even one no write noticed) queues every known contract's
    /// latest state for rewriting. Returns whether Redis answered.
    async fn probe(&mut self) -> bool {
        self.probed = Instant::now();
        // The probe's own deadline, far below the write timeout: a hung Redis is an outage
        // within a second, not after a reply timeout.
        let answer =
            match tokio::time::timeout(crate::watchdog::DEADLINE, self.redis.identity()).await {
                Ok(answer) => answer,
                Err(_) => Err(ClientError::Unavailable(redis::RedisError::from((
                    redis::ErrorKind::IoError,
                    "Redis did not answer the probe in time",
                    format!("{} ms", crate::watchdog::DEADLINE.as_millis()),
                )))),
            };
        match answer {
            Err(e) => self.redis_failed(e),
            Ok(id) => {
                let restarted = self.identity.as_ref().is_some_and(|old| *old != id);
                self.identity = Some(id);
                if restarted && !self.outage {
                    tracing::warn!(
                        contracts = self.known.len(),
                        "Redis restarted (a new module instance); rewriting the latest state of every contract"
                    );
                    self.metrics.redis_restarts.inc();
                    self.requeue_known();
                }
                if !self.outage {
                    self.metrics.redis_up.set(1);
                }
                true
            }
        }
    }

    /// Queues every contract's latest written state for a rewrite, with everything received
    /// since folded in: what arrived while Redis was away (or restarting) is part of the
    /// refill, not live news, so no sample is stamped inside the outage.
    fn requeue_known(&mut self) {
        for (symbol, k) in &self.known {
            merge_into(&mut self.rewrite, k.clone());
            if let Some(newer) = self.pending.remove(symbol) {
                merge_into(&mut self.rewrite, newer);
            }
        }
        for (_, newer) in self.pending.drain() {
            merge_into(&mut self.rewrite, newer);
        }
        self.count_queued();
    }

    /// Writes deletions and then pending updates in batches. Returns false if Redis failed
    /// (whatever was not written stays pending).
    async fn flush(&mut self) -> bool {
        if self.outage {
            // Probe first, then rewrite everything known: what Redis has may be gone or old.
            if !self.probe().await {
                return false;
            }
            tracing::info!(
                contracts = self.known.len(),
                "Redis is back; rewriting the latest state of every contract"
            );
            self.requeue_known();
            self.outage = false;
        } else if self.probed.elapsed() >= PROBE_EVERY && !self.probe().await {
            // A busy market is probed too: a Cluster connection reconnects to a restarted node
            // by itself, so only the instance id tells that its contracts are gone.
            return false;
        }
        while let Some((base, symbols)) = self.deletes.first().cloned() {
            let mut pipe = redis::pipe();
            pipe.add_command(cmd::del(&base, &symbols))
                .add_command(cmd::purge(&base));
            match self.redis.pipeline(&pipe, 2).await {
                Ok(_) => {
                    self.deletes.remove(0);
                }
                Err(e) => return self.redis_failed(e),
            }
        }
        // Trades, in the order they came (a trade's chain need not exist yet).
        while !self.trades.is_empty() {
            let mut n = self.trades.len().min(self.batch_size);
            if self.redis.is_cluster() {
                // Every command of a Cluster pipeline must map to one slot: this batch is the
                // run of trades on the first one's chain (order per chain is what matters).
                let first = self.trades[0].key();
                n = self
                    .trades
                    .iter()
                    .take(n)
                    .take_while(|t| t.key() == first)
                    .count();
            }
            let mut pipe = redis::pipe();
            for t in self.trades.iter().take(n) {
                pipe.add_command(cmd::trade(&t.key(), &t.record));
            }
            match self.redis.pipeline(&pipe, n).await {
                Ok(replies) => {
                    // Not serving yet (loading, a shard without its slots): all of them wait.
                    if let Some(Value::ServerError(e)) = replies
                        .iter()
                        .find(|r| matches!(r, Value::ServerError(e) if transient(e.code())))
                    {
                        return self.redis_failed(ClientError::Unavailable(
                            redis::RedisError::from((
                                redis::ErrorKind::IoError,
                                "Redis is not serving yet",
                                format!("{} {}", e.code(), e.details().unwrap_or("")),
                            )),
                        ));
                    }
                    for (t, r) in self.trades.iter().zip(&replies) {
                        if let Value::ServerError(e) = r {
                            self.metrics.updates_rejected.inc();
                            tracing::warn!(id = %t.record.id, symbol = %t.record.symbol, error = ?e, "Redis refused a trade");
                        }
                    }
                    self.trades.drain(..n);
                    self.metrics.trades_written.inc_by(n as u64);
                }
                Err(e) => return self.redis_failed(e),
            }
        }
        // The whole rewrite first: live frames wait until every contract is back.
        for kind in [WriteKind::Rewrite, WriteKind::Live] {
            while let Some(batch) = self.take_batch(kind) {
                if let Err(e) = self.write_batch(&batch, kind).await {
                    // Put them back (nothing newer can have arrived: the channel is not read
                    // during a flush).
                    let queue = self.queue(kind);
                    for u in batch {
                        queue.insert(u.slot(), u);
                    }
                    self.count_queued();
                    return self.redis_failed(e);
                }
                for u in batch {
                    merge_into(&mut self.known, u);
                }
                self.count_queued();
            }
        }
        self.metrics.redis_up.set(1);
        for w in self.waiters.drain(..) {
            let _ = w.send(());
        }
        true
    }

    fn redis_failed(&mut self, e: ClientError) -> bool {
        if self.metrics.redis_up.get() != 0 {
            tracing::error!(error = %e, pending = self.queued(), "Redis write failed; keeping the latest values until it is back");
        }
        self.metrics.redis_up.set(0);
        self.metrics.redis_errors.inc();
        self.outage = true;
        false
    }

    fn queue(&mut self, kind: WriteKind) -> &mut HashMap<String, TickerUpdate> {
        match kind {
            WriteKind::Rewrite => &mut self.rewrite,
            WriteKind::Live => &mut self.pending,
        }
    }

    /// Up to `batch_size` queued updates of `kind`, or None when that queue is empty.
    fn take_batch(&mut self, kind: WriteKind) -> Option<Vec<TickerUpdate>> {
        let size = self.batch_size;
        let queue = self.queue(kind);
        if queue.is_empty() {
            return None;
        }
        let take: Vec<String> = queue.keys().take(size).cloned().collect();
        Some(take.iter().filter_map(|s| queue.remove(s)).collect())
    }

    async fn write_batch(&mut self, batch: &[TickerUpdate], kind: WriteKind) -> ClientResult<()> {
        // Cluster: one pipeline per underlying, as every command in it must map to one slot.
        let groups: Vec<Vec<&TickerUpdate>> = if self.redis.is_cluster() {
            let mut by_base: HashMap<String, Vec<&TickerUpdate>> = HashMap::new();
            for u in batch {
                by_base.entry(u.base().into_owned()).or_default().push(u);
            }
            by_base.into_values().collect()
        } else {
            vec![batch.iter().collect()]
        };
        for group in groups {
            let mut pipe = redis::pipe();
            for u in &group {
                let values = u.fields.iter().map(|(f, v)| (*f, v.as_str()));
                let mut ingest = cmd::ingest(&u.base(), kind, &u.symbol, values);
                // Market time: the chain, and the history it samples, follow the exchange's
                // clock (live or replayed), not this machine's.
                if let Some(ts) = u.exchange_ts.filter(|ts| *ts > 0) {
                    ingest.arg("updated_ms").arg(ts);
                }
                pipe.add_command(ingest);
            }
            let replies = self.redis.pipeline(&pipe, group.len()).await?;
            // A server that is loading, or a shard not serving its slots yet, refuses for now,
            // not for good: the whole batch stays pending (INGEST is idempotent per values).
            if let Some(Value::ServerError(e)) = replies
                .iter()
                .find(|r| matches!(r, Value::ServerError(e) if transient(e.code())))
            {
                return Err(ClientError::Unavailable(redis::RedisError::from((
                    redis::ErrorKind::IoError,
                    "Redis is not serving yet",
                    format!("{} {}", e.code(), e.details().unwrap_or("")),
                ))));
            }
            let now = Instant::now();
            let now_ms = crate::now_ms();
            for (u, r) in group.iter().zip(&replies) {
                if let Value::ServerError(e) = r {
                    self.metrics.updates_rejected.inc();
                    if self.rejected_logged.elapsed() > Duration::from_secs(10) {
                        self.rejected_logged = now;
                        tracing::warn!(symbol = %u.symbol, error = ?e, "Redis refused an update (logged once per 10 s)");
                    }
                    continue;
                }
                self.metrics
                    .write_latency
                    .observe(now.duration_since(u.received).as_secs_f64());
                if let Some(ts) = u.exchange_ts {
                    self.metrics
                        .exchange_lag
                        .observe(((now_ms - ts).max(0)) as f64 / 1000.0);
                }
            }
            self.metrics.updates_written.inc_by(group.len() as u64);
            self.metrics.batch_size.observe(group.len() as f64);
        }
        if self.mirror_hashes {
            self.write_seed_hashes(batch).await?;
        }
        Ok(())
    }

    /// The seed's model: `option:{symbol}` hashes with Python float text, 24 h TTL, and
    /// `stats:global` counters.
    async fn write_seed_hashes(&mut self, batch: &[TickerUpdate]) -> ClientResult<()> {
        let mut cmds = Vec::with_capacity(batch.len() * 2 + 2);
        // The seed knew Bybit only; its hashes stay Bybit's.
        for u in batch
            .iter()
            .filter(|u| u.venue == options_core::Venue::Bybit)
        {
            let key = format!("option:{}", u.symbol);
            let mut hset = redis::cmd("HSET");
            hset.arg(&key).arg("symbol").arg(&u.symbol);
            for f in SEED_FIELDS {
                if let Some((_, v)) = u.fields.iter().find(|(g, _)| *g == f) {
                    let text = options_core::parse_number(v)
                        .map(options_core::python_float)
                        .unwrap_or_default();
                    hset.arg(f.name()).arg(text);
                }
            }
            let mut expire = redis::cmd("EXPIRE");
            expire.arg(&key).arg(86_400);
            cmds.push(hset);
            cmds.push(expire);
        }
        let mut incr = redis::cmd("HINCRBY");
        incr.arg("stats:global").arg("messages").arg(batch.len());
        let mut last = redis::cmd("HSET");
        let secs = crate::now_ms() as f64 / 1000.0;
        last.arg("stats:global")
            .arg("last_update")
            .arg(format!("{secs:.6}"));
        cmds.push(incr);
        cmds.push(last);
        if self.redis.is_cluster() {
            for c in cmds {
                self.redis.query::<Value>(&c).await?;
            }
        } else {
            let mut pipe = redis::pipe();
            let n = cmds.len();
            for c in cmds {
                pipe.add_command(c);
            }
            self.redis.pipeline(&pipe, n).await?;
        }
        Ok(())
    }
}

/// Merges `u` into its contract's entry of `queue` (newer values win). Returns whether the
/// contract was already there (an update conflated).
fn merge_into(queue: &mut HashMap<String, TickerUpdate>, u: TickerUpdate) -> bool {
    let slot = u.slot();
    match queue.get_mut(&slot) {
        Some(existing) => {
            existing.merge(u);
            true
        }
        None => {
            queue.insert(slot, u);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::transient;

    #[test]
    fn only_not_yet_serving_errors_are_retried() {
        for code in ["LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "BUSY"] {
            assert!(transient(code), "{code}");
        }
        for code in ["ERR", "WRONGTYPE", "NOSCRIPT"] {
            assert!(!transient(code), "{code}");
        }
    }
}
