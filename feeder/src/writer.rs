//! The Redis side: latest-value conflation and pipelined `OPTIONS.INGEST` batches.
//!
//! Updates are merged per contract until they are written, so a burst, or a Redis outage of any
//! length, costs one write per contract with its newest values: nothing older is replayed and
//! nothing newer is lost. The writer flushes as soon as nothing else is queued, so under light
//! load an update is written at once and under heavy load batches grow by themselves.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_core::Field;
use redis::aio::ConnectionLike;
use redis::{Pipeline, RedisResult, Value};
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::ticker::TickerUpdate;

pub enum WriterMsg {
    Update(TickerUpdate),
    /// Remove contracts that are no longer listed.
    Delete {
        base: String,
        symbols: Vec<String>,
    },
    /// Answered once everything received before it has been written.
    Flush(oneshot::Sender<()>),
}

enum Conn {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Conn {
    async fn run(&mut self, pipe: &Pipeline, n: usize) -> RedisResult<Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipe, 0, n).await,
            Conn::Cluster(c) => c.req_packed_commands(pipe, 0, n).await,
        }
    }
}

/// Connects to Redis standalone or Cluster, and reconnects after errors.
pub struct RedisSink {
    urls: Vec<String>,
    cluster: bool,
    /// For rediss:// URLs with a private CA or a client certificate.
    certs: Option<redis::TlsCertificates>,
    conn: Option<Conn>,
}

impl RedisSink {
    /// The sink the command line asks for; TLS files are read (and checked) here.
    pub fn from_args(args: &crate::config::Args) -> Result<RedisSink, options_redis_tls::TlsError> {
        let urls = args.redis_urls();
        let certs = args.redis_tls.certificates(&urls)?;
        Ok(RedisSink {
            certs,
            ..RedisSink::new(urls, args.cluster())
        })
    }

    pub fn new(urls: Vec<String>, cluster: bool) -> RedisSink {
        RedisSink {
            urls,
            cluster,
            certs: None,
            conn: None,
        }
    }

    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    async fn connect(&mut self) -> RedisResult<&mut Conn> {
        if self.conn.is_none() {
            let conn = if self.cluster {
                let client = options_redis_tls::cluster_client(&self.urls, self.certs.as_ref())?;
                Conn::Cluster(client.get_async_connection().await?)
            } else {
                let url = self.urls.first().cloned().unwrap_or_default();
                let client = options_redis_tls::client(&url, self.certs.as_ref())?;
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Duration::from_secs(5))
                    .set_response_timeout(Duration::from_secs(10));
                Conn::Single(
                    client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?,
                )
            };
            self.conn = Some(conn);
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c),
            None => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "not connected",
            ))),
        }
    }

    /// Runs a pipeline; per-command errors come back as `Value::ServerError`, a transport
    /// failure as `Err` (and the connection is dropped so the next call reconnects).
    pub async fn run(&mut self, pipe: &Pipeline, n: usize) -> RedisResult<Vec<Value>> {
        let result = match self.connect().await {
            Ok(conn) => conn.run(pipe, n).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            if !matches!(
                e.kind(),
                redis::ErrorKind::ResponseError | redis::ErrorKind::ExtensionError
            ) {
                self.conn = None;
            }
        }
        result
    }

    /// Which Redis process answers: `run_id` from `INFO server` (of every master, in a
    /// Cluster). It changes whenever a server restarts, whether it comes back empty or from an
    /// old snapshot, and however quickly: the writer then rewrites every contract. Also the
    /// writer's liveness probe.
    pub async fn identity(&mut self) -> RedisResult<String> {
        let mut info = redis::cmd("INFO");
        info.arg("server");
        let reply = match self.connect().await {
            Ok(Conn::Single(c)) => info.query_async::<String>(c).await,
            Ok(Conn::Cluster(c)) => {
                use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};
                c.route_command(
                    &info,
                    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                )
                .await
                .and_then(|v| {
                    let mut nodes: Vec<(String, String)> = redis::from_redis_value(&v)?;
                    nodes.sort();
                    Ok(nodes
                        .iter()
                        .map(|(addr, text)| format!("{addr}={}", run_id(text)))
                        .collect::<Vec<_>>()
                        .join(","))
                })
            }
            Err(e) => Err(e),
        };
        match reply {
            Ok(text) if self.cluster => Ok(text),
            Ok(text) => Ok(run_id(&text).to_string()),
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }

    /// A module command answered with `FORMAT JSON`, decoded; `None` on any error.
    pub async fn module_json(&mut self, args: &[&str]) -> Option<serde_json::Value> {
        let mut c = redis::cmd(args.first()?);
        for a in &args[1..] {
            c.arg(*a);
        }
        match self.query(c).await {
            Ok(Value::BulkString(b)) => serde_json::from_slice(&b).ok(),
            _ => None,
        }
    }

    /// `OPTIONS.ANALYTICS asset FORMAT JSON`, typed; `None` when Redis cannot answer.
    pub async fn analytics(&mut self, asset: &str) -> Option<options_core::reply::Analytics> {
        let v = self
            .module_json(&["OPTIONS.ANALYTICS", asset, "FORMAT", "JSON"])
            .await?;
        match serde_json::from_value(v) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = %e, "OPTIONS.ANALYTICS reply not understood");
                None
            }
        }
    }

    /// The chain of `asset`'s nearest expiry with the `fields` asked for, typed: what `/atm`
    /// and an asset's ATM alert rules read. `Ok(None)` when nothing is listed, `Err` when Redis
    /// cannot answer (or answers what this build does not understand).
    pub async fn nearest_chain(
        &mut self,
        asset: &str,
        fields: &[&str],
    ) -> Result<Option<options_core::reply::Chain>, ()> {
        self.chain_of(asset, None, fields).await
    }

    /// `OPTIONS.CHAIN` of `expiry`, or of the nearest expiry; `Ok(None)` when the asset has
    /// no such (or no) expiry.
    pub async fn chain_of(
        &mut self,
        asset: &str,
        expiry: Option<&str>,
        fields: &[&str],
    ) -> Result<Option<options_core::reply::Chain>, ()> {
        let expiries: Vec<String> = self
            .module_json(&["OPTIONS.EXPIRIES", asset, "FORMAT", "JSON"])
            .await
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or(())?;
        let wanted = expiry.and_then(|e| options_core::Expiry::parse(e).ok());
        let pick = match wanted {
            None => expiries.into_iter().next(),
            Some(w) => expiries
                .into_iter()
                .find(|e| options_core::Expiry::parse(e).ok() == Some(w)),
        };
        let Some(nearest) = pick else {
            return Ok(None);
        };
        let count = fields.len().to_string();
        let mut args = vec!["OPTIONS.CHAIN", asset, &nearest];
        if !fields.is_empty() {
            args.extend(["FIELDS", count.as_str()]);
            args.extend_from_slice(fields);
        }
        args.extend(["FORMAT", "JSON"]);
        match serde_json::from_value(self.module_json(&args).await.ok_or(())?) {
            Ok(chain) => Ok(Some(chain)),
            Err(e) => {
                tracing::warn!(error = %e, "OPTIONS.CHAIN reply not understood");
                Err(())
            }
        }
    }

    /// `OPTIONS.HISTORY asset [TENOR d] METRIC m FROM from FORMAT JSON`, typed.
    pub async fn history(
        &mut self,
        asset: &str,
        metric: &str,
        tenor: Option<u32>,
        from_ms: i64,
    ) -> Option<options_core::reply::History> {
        let from = from_ms.max(0).to_string();
        let days = tenor.map(|d| d.to_string());
        let mut args = vec!["OPTIONS.HISTORY", asset];
        if let Some(d) = &days {
            args.extend(["TENOR", d.as_str()]);
        }
        args.extend(["METRIC", metric, "FROM", &from, "FORMAT", "JSON"]);
        serde_json::from_value(self.module_json(&args).await?).ok()
    }

    /// One command.
    pub async fn query(&mut self, cmd: redis::Cmd) -> RedisResult<Value> {
        let mut pipe = redis::pipe();
        pipe.add_command(cmd);
        let mut v = self.run(&pipe, 1).await?;
        match v.pop() {
            Some(Value::ServerError(e)) => Err(e.into()),
            Some(v) => Ok(v),
            None => Ok(Value::Nil),
        }
    }
}

/// Error codes a Redis answers while it cannot serve yet (loading a snapshot, a Cluster shard
/// without its slots, a replica without its master): retried like an outage, never counted as
/// a refused update.
fn transient(code: &str) -> bool {
    matches!(
        code,
        "LOADING" | "CLUSTERDOWN" | "TRYAGAIN" | "MASTERDOWN" | "BUSY"
    )
}

/// `run_id` of an `INFO server` reply (empty when absent).
fn run_id(info: &str) -> &str {
    info.lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .map(str::trim)
        .unwrap_or("")
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
    sink: RedisSink,
    pending: HashMap<String, TickerUpdate>,
    /// Every contract's latest written values. After an outage all of it is written again: a
    /// Redis that restarted empty (or from an old snapshot) is whole again at once.
    known: HashMap<String, TickerUpdate>,
    /// Redis failed since the last successful flush.
    outage: bool,
    /// The Redis process last seen (`RedisSink::identity`), and when it was last asked.
    identity: Option<String>,
    probed: Instant,
    deletes: Vec<(String, Vec<String>)>,
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
        sink: RedisSink,
        batch_size: usize,
        batch_timeout: Duration,
        mirror_hashes: bool,
        metrics: Arc<Metrics>,
    ) -> Writer {
        Writer {
            rx,
            sink,
            pending: HashMap::new(),
            known: HashMap::new(),
            outage: false,
            identity: None,
            probed: Instant::now(),
            deletes: Vec::new(),
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
            WriterMsg::Update(u) => match self.pending.get_mut(&u.symbol) {
                Some(existing) => {
                    existing.merge(u);
                    self.metrics.updates_conflated.inc();
                }
                None => {
                    self.pending.insert(u.symbol.clone(), u);
                }
            },
            WriterMsg::Delete { base, symbols } => {
                for s in &symbols {
                    self.pending.remove(s);
                    self.known.remove(s);
                }
                self.deletes.push((base, symbols));
            }
            WriterMsg::Flush(tx) => self.waiters.push(tx),
        }
        self.metrics.pending.set(self.pending.len() as i64);
    }

    fn has_work(&self) -> bool {
        !self.pending.is_empty() || !self.deletes.is_empty() || !self.waiters.is_empty()
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
            if open && !self.batch_timeout.is_zero() && self.pending.len() < self.batch_size {
                let deadline = tokio::time::Instant::now() + self.batch_timeout;
                while self.pending.len() < self.batch_size {
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
                if !self.pending.is_empty() {
                    tracing::error!(
                        pending = self.pending.len(),
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
        match self.sink.identity().await {
            Err(e) => self.redis_failed(e),
            Ok(id) => {
                let restarted = self.identity.as_ref().is_some_and(|old| *old != id);
                self.identity = Some(id);
                if restarted && !self.outage {
                    tracing::warn!(
                        contracts = self.known.len(),
                        "Redis restarted (new run_id); rewriting the latest state of every contract"
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

    /// Queues every contract's latest written state, under anything newer still pending.
    fn requeue_known(&mut self) {
        for (symbol, k) in &self.known {
            let mut full = k.clone();
            if let Some(newer) = self.pending.remove(symbol) {
                full.merge(newer);
            }
            self.pending.insert(symbol.clone(), full);
        }
        self.metrics.pending.set(self.pending.len() as i64);
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
            // by itself, so only the run_id tells that its contracts are gone.
            return false;
        }
        while let Some((base, symbols)) = self.deletes.first().cloned() {
            let mut cmd = redis::cmd("OPTIONS.DEL");
            cmd.arg(&base).arg(&symbols);
            let mut purge = redis::cmd("OPTIONS.PURGE");
            purge.arg(&base);
            let mut pipe = redis::pipe();
            pipe.add_command(cmd).add_command(purge);
            match self.sink.run(&pipe, 2).await {
                Ok(_) => {
                    self.deletes.remove(0);
                }
                Err(e) => return self.redis_failed(e),
            }
        }
        while !self.pending.is_empty() {
            let take: Vec<String> = self.pending.keys().take(self.batch_size).cloned().collect();
            let batch: Vec<TickerUpdate> =
                take.iter().filter_map(|s| self.pending.remove(s)).collect();
            if let Err(e) = self.write_batch(&batch).await {
                // Put them back under anything newer (nothing newer can have arrived: the
                // channel is not read during a flush).
                for u in batch {
                    self.pending.insert(u.symbol.clone(), u);
                }
                self.metrics.pending.set(self.pending.len() as i64);
                return self.redis_failed(e);
            }
            for u in batch {
                match self.known.get_mut(&u.symbol) {
                    Some(k) => k.merge(u),
                    None => {
                        self.known.insert(u.symbol.clone(), u);
                    }
                }
            }
            self.metrics.pending.set(self.pending.len() as i64);
        }
        self.metrics.redis_up.set(1);
        for w in self.waiters.drain(..) {
            let _ = w.send(());
        }
        true
    }

    fn redis_failed(&mut self, e: redis::RedisError) -> bool {
        if self.metrics.redis_up.get() != 0 {
            tracing::error!(error = %e, pending = self.pending.len(), "Redis write failed; keeping the latest values until it is back");
        }
        self.metrics.redis_up.set(0);
        self.metrics.redis_errors.inc();
        self.outage = true;
        false
    }

    async fn write_batch(&mut self, batch: &[TickerUpdate]) -> RedisResult<()> {
        // Cluster: one pipeline per underlying, as every command in it must map to one slot.
        let groups: Vec<Vec<&TickerUpdate>> = if self.sink.is_cluster() {
            let mut by_base: HashMap<&str, Vec<&TickerUpdate>> = HashMap::new();
            for u in batch {
                by_base.entry(u.base()).or_default().push(u);
            }
            by_base.into_values().collect()
        } else {
            vec![batch.iter().collect()]
        };
        for group in groups {
            let mut pipe = redis::pipe();
            for u in &group {
                let mut cmd = redis::cmd("OPTIONS.INGEST");
                cmd.arg(u.base()).arg(&u.symbol);
                for (f, v) in &u.fields {
                    cmd.arg(f.name()).arg(v);
                }
                // Market time: the chain, and the history it samples, follow the exchange's
                // clock (live or replayed), not this machine's.
                if let Some(ts) = u.exchange_ts.filter(|ts| *ts > 0) {
                    cmd.arg("updated_ms").arg(ts);
                }
                pipe.add_command(cmd);
            }
            let replies = self.sink.run(&pipe, group.len()).await?;
            // A server that is loading, or a shard not serving its slots yet, refuses for now,
            // not for good: the whole batch stays pending (INGEST is idempotent per values).
            if let Some(Value::ServerError(e)) = replies
                .iter()
                .find(|r| matches!(r, Value::ServerError(e) if transient(e.code())))
            {
                return Err(redis::RedisError::from((
                    redis::ErrorKind::IoError,
                    "Redis is not serving yet",
                    format!("{} {}", e.code(), e.details().unwrap_or("")),
                )));
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
    async fn write_seed_hashes(&mut self, batch: &[TickerUpdate]) -> RedisResult<()> {
        let mut cmds = Vec::with_capacity(batch.len() * 2 + 2);
        for u in batch {
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
        if self.sink.is_cluster() {
            for c in cmds {
                self.sink.query(c).await?;
            }
        } else {
            let mut pipe = redis::pipe();
            let n = cmds.len();
            for c in cmds {
                pipe.add_command(c);
            }
            self.sink.run(&pipe, n).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{run_id, transient};

    #[test]
    fn run_id_is_read_from_info_server() {
        let info = "# Server\r\nredis_version:7.0.15\r\nrun_id:4f1c0e2b9a\r\ntcp_port:6379\r\n";
        assert_eq!(run_id(info), "4f1c0e2b9a");
        assert_eq!(run_id("# Server\r\n"), "");
    }

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
