//! WebSocket streaming: a `Stream` per connection (subscribe, ping, detect silence, reconnect
//! with backoff and jitter) and a `StreamPool` that spreads topics over as many connections as
//! Bybit's per-connection limits need.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::metrics::Metrics;
use crate::ticker::{parse_frame, Frame};
use crate::writer::WriterMsg;

const TOPIC_PREFIX: &str = "tickers.";

#[derive(Debug, Clone)]
pub struct StreamSettings {
    pub url: String,
    pub ping_interval: Duration,
    pub silence_timeout: Duration,
    pub reconnect_delay: Duration,
    pub max_reconnect_delay: Duration,
    pub max_topics: usize,
    pub max_topic_chars: usize,
    pub subscribe_chunk: usize,
    /// `--record`: every ticker frame is kept as received.
    pub recorder: Option<Arc<crate::recorder::Recorder>>,
}

enum StreamCmd {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
    Shutdown,
}

/// The prefix of a base coin's trade topic, which the pool carries as its own name (a
/// "symbol" `publicTrade.BTC` is the topic itself).
pub const TRADE_TOPIC_PREFIX: &str = "publicTrade.";

/// The topic of a pool entry: `tickers.<SYMBOL>`, or a trade topic as it is.
fn topic_of(entry: &str) -> String {
    if entry.starts_with(TRADE_TOPIC_PREFIX) {
        entry.to_string()
    } else {
        format!("{TOPIC_PREFIX}{entry}")
    }
}

fn topic_len(entry: &str) -> usize {
    if entry.starts_with(TRADE_TOPIC_PREFIX) {
        entry.len()
    } else {
        TOPIC_PREFIX.len() + entry.len()
    }
}

/// Why a connection ended.
enum Ended {
    Shutdown,
    Lost(String),
}

struct Stream {
    id: usize,
    settings: StreamSettings,
    symbols: HashSet<String>,
    /// Topics the exchange refused; retried periodically.
    refused: HashSet<String>,
    commands: mpsc::UnboundedReceiver<StreamCmd>,
    out: mpsc::UnboundedSender<WriterMsg>,
    metrics: Arc<Metrics>,
}

impl Stream {
    async fn run(mut self) {
        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            match self.connect_and_stream().await {
                Ended::Shutdown => return,
                Ended::Lost(why) => {
                    self.metrics.ws_reconnects.inc();
                    // A connection that worked for a while starts the backoff afresh.
                    if started.elapsed() > Duration::from_secs(30) {
                        attempt = 0;
                    }
                    let delay = backoff(&self.settings, attempt);
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(conn = self.id, reason = %why, retry_in_ms = delay.as_millis() as u64, "WebSocket connection lost");
                    // Commands keep arriving while we wait; apply them so nothing is lost.
                    let wake = tokio::time::sleep(delay);
                    tokio::pin!(wake);
                    loop {
                        tokio::select! {
                            _ = &mut wake => break,
                            cmd = self.commands.recv() => match cmd {
                                None | Some(StreamCmd::Shutdown) => return,
                                Some(StreamCmd::Subscribe(s)) => self.symbols.extend(s),
                                Some(StreamCmd::Unsubscribe(s)) => {
                                    for x in s {
                                        self.symbols.remove(&x);
                                        self.refused.remove(&x);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    async fn connect_and_stream(&mut self) -> Ended {
        let connect = tokio_tungstenite::connect_async(self.settings.url.as_str());
        let ws = match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => return Ended::Lost(format!("connect: {e}")),
            Err(_) => return Ended::Lost("connect timed out".into()),
        };
        let (mut sink, mut source) = ws.split();
        self.metrics.ws_connected.inc();
        let ended = 'conn: {
            let all: Vec<String> = self.symbols.iter().cloned().collect();
            self.refused.clear();
            if let Err(e) =
                send_subscribe(&mut sink, "subscribe", &all, self.settings.subscribe_chunk).await
            {
                break 'conn Ended::Lost(format!("subscribe: {e}"));
            }
            tracing::info!(
                conn = self.id,
                topics = all.len(),
                "WebSocket connected and subscribed"
            );
            let mut ping = tokio::time::interval(self.settings.ping_interval);
            ping.tick().await;
            let mut retry = tokio::time::interval(Duration::from_secs(5));
            retry.tick().await;
            let mut last_frame = Instant::now();
            let mut req = 0u64;
            loop {
                let silence_left = self
                    .settings
                    .silence_timeout
                    .saturating_sub(last_frame.elapsed());
                tokio::select! {
                    frame = source.next() => {
                        last_frame = Instant::now();
                        match frame {
                            None => break 'conn Ended::Lost("closed by the exchange".into()),
                            Some(Err(e)) => break 'conn Ended::Lost(format!("read: {e}")),
                            Some(Ok(Message::Text(t))) => self.handle_text(t.as_str(), last_frame),
                            Some(Ok(Message::Close(_))) => break 'conn Ended::Lost("close frame".into()),
                            Some(Ok(Message::Binary(_))) => {
                                self.metrics.messages_garbled.inc();
                            }
                            Some(Ok(_)) => {}
                        }
                    }
                    _ = tokio::time::sleep(silence_left) => {
                        break 'conn Ended::Lost(format!("silent for {:.0?}", last_frame.elapsed()));
                    }
                    _ = ping.tick() => {
                        req += 1;
                        let msg = json!({"op": "ping", "req_id": format!("ping-{}-{req}", self.id)}).to_string();
                        if let Err(e) = sink.send(Message::text(msg)).await {
                            break 'conn Ended::Lost(format!("ping: {e}"));
                        }
                    }
                    _ = retry.tick(), if !self.refused.is_empty() => {
                        let again: Vec<String> = self.refused.drain().collect();
                        self.metrics.ws_failed_topics.sub(again.len() as i64);
                        tracing::info!(conn = self.id, topics = again.len(), "retrying refused topics");
                        if let Err(e) = send_subscribe(&mut sink, "subscribe", &again, self.settings.subscribe_chunk).await {
                            break 'conn Ended::Lost(format!("subscribe: {e}"));
                        }
                    }
                    cmd = self.commands.recv() => match cmd {
                        None | Some(StreamCmd::Shutdown) => {
                            let _ = sink.send(Message::Close(None)).await;
                            break 'conn Ended::Shutdown;
                        }
                        Some(StreamCmd::Subscribe(s)) => {
                            self.symbols.extend(s.iter().cloned());
                            if let Err(e) = send_subscribe(&mut sink, "subscribe", &s, self.settings.subscribe_chunk).await {
                                break 'conn Ended::Lost(format!("subscribe: {e}"));
                            }
                        }
                        Some(StreamCmd::Unsubscribe(s)) => {
                            for x in &s {
                                self.symbols.remove(x);
                                self.refused.remove(x);
                            }
                            if let Err(e) = send_subscribe(&mut sink, "unsubscribe", &s, self.settings.subscribe_chunk).await {
                                break 'conn Ended::Lost(format!("unsubscribe: {e}"));
                            }
                        }
                    }
                }
            }
        };
        self.metrics.ws_connected.dec();
        self.metrics.ws_failed_topics.sub(self.refused.len() as i64);
        self.refused.clear();
        ended
    }

    fn handle_text(&mut self, text: &str, received: Instant) {
        match parse_frame(text, received) {
            Ok(Frame::Ticker(t)) => {
                if let Some(r) = &self.settings.recorder {
                    r.frame(text, t.exchange_ts);
                }
                if !self.symbols.contains(&t.symbol) {
                    self.metrics.messages_unknown.inc();
                    return;
                }
                self.metrics.messages_received.inc();
                self.metrics.mark_message(crate::now_ms());
                let _ = self.out.send(WriterMsg::Update(t));
            }
            Ok(Frame::Command {
                op,
                success,
                message,
                failed,
            }) => {
                if !success || !failed.is_empty() {
                    let mut newly = 0;
                    for f in failed {
                        if self.symbols.contains(&f) && self.refused.insert(f) {
                            newly += 1;
                        }
                    }
                    self.metrics.ws_failed_topics.add(newly);
                    tracing::warn!(
                        conn = self.id,
                        op,
                        message,
                        refused = self.refused.len(),
                        "exchange refused topics; retrying in 5 s"
                    );
                }
            }
            Ok(Frame::Trades { topic, trades }) => {
                if let Some(r) = &self.settings.recorder {
                    r.frame(text, trades.first().map(|t| t.record.ts));
                }
                if !self.symbols.contains(&topic) {
                    self.metrics.messages_unknown.inc();
                    return;
                }
                self.metrics.trades_received.inc_by(trades.len() as u64);
                for t in trades {
                    let _ = self.out.send(WriterMsg::Trade(t));
                }
            }
            Ok(Frame::Pong | Frame::Other) => {}
            Err(e) => {
                self.metrics.messages_garbled.inc();
                tracing::debug!(conn = self.id, error = %e, "dropped a garbled frame");
            }
        }
    }
}

async fn send_subscribe<S>(
    sink: &mut S,
    op: &str,
    symbols: &[String],
    chunk: usize,
) -> Result<(), String>
where
    S: futures_util::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    for (i, part) in symbols.chunks(chunk.max(1)).enumerate() {
        let args: Vec<String> = part.iter().map(|s| topic_of(s)).collect();
        let msg = json!({"op": op, "req_id": format!("{op}-{i}"), "args": args}).to_string();
        sink.send(Message::text(msg))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Exponential backoff with ±50 % jitter, so that many connections dropped together do not
/// reconnect in lockstep.
fn backoff(s: &StreamSettings, attempt: u32) -> Duration {
    let base = s.reconnect_delay.as_secs_f64() * 2f64.powi(attempt.min(16) as i32);
    let capped = base.min(s.max_reconnect_delay.as_secs_f64());
    Duration::from_secs_f64(capped * rand::rng().random_range(0.5..1.5))
}

struct StreamHandle {
    commands: mpsc::UnboundedSender<StreamCmd>,
    topics: usize,
    chars: usize,
    task: JoinHandle<()>,
}

/// Owns the connections and which connection carries which topic.
pub struct StreamPool {
    settings: StreamSettings,
    streams: Vec<StreamHandle>,
    owner: HashMap<String, usize>,
    out: mpsc::UnboundedSender<WriterMsg>,
    metrics: Arc<Metrics>,
}

impl StreamPool {
    pub fn new(
        settings: StreamSettings,
        out: mpsc::UnboundedSender<WriterMsg>,
        metrics: Arc<Metrics>,
    ) -> Self {
        StreamPool {
            settings,
            streams: Vec::new(),
            owner: HashMap::new(),
            out,
            metrics,
        }
    }

    /// Subscribes exactly `wanted`: unsubscribes what is no longer wanted, places new topics on
    /// connections with room, and opens connections for the rest.
    pub fn set_symbols(&mut self, wanted: &HashSet<String>) {
        let gone: Vec<String> = self
            .owner
            .keys()
            .filter(|s| !wanted.contains(*s))
            .cloned()
            .collect();
        let mut by_stream: HashMap<usize, Vec<String>> = HashMap::new();
        for s in gone {
            if let Some(i) = self.owner.remove(&s) {
                let h = &mut self.streams[i];
                h.topics -= 1;
                h.chars -= topic_len(&s);
                by_stream.entry(i).or_default().push(s);
            }
        }
        for (i, list) in by_stream {
            let _ = self.streams[i].commands.send(StreamCmd::Unsubscribe(list));
        }
        let mut new: Vec<&String> = wanted
            .iter()
            .filter(|s| !self.owner.contains_key(*s))
            .collect();
        new.sort();
        let mut adds: HashMap<usize, Vec<String>> = HashMap::new();
        let (max_topics, max_chars) = (
            self.settings.max_topics.max(1),
            self.settings.max_topic_chars.max(64),
        );
        for s in new {
            let len = topic_len(s);
            let slot = self
                .streams
                .iter()
                .position(|h| h.topics < max_topics && h.chars + len <= max_chars);
            match slot {
                Some(i) => {
                    let h = &mut self.streams[i];
                    h.topics += 1;
                    h.chars += len;
                    self.owner.insert(s.clone(), i);
                    adds.entry(i).or_default().push(s.clone());
                }
                None => {
                    // Open a new connection: spawn it with an empty set, then fill it here so
                    // that later symbols in this loop see its remaining room.
                    let i = self.spawn();
                    let h = &mut self.streams[i];
                    h.topics = 1;
                    h.chars = len;
                    self.owner.insert(s.clone(), i);
                    adds.entry(i).or_default().push(s.clone());
                }
            }
        }
        for (i, list) in adds {
            let _ = self.streams[i].commands.send(StreamCmd::Subscribe(list));
        }
        self.metrics.ws_topics.set(self.owner.len() as i64);
        self.metrics.ws_connections.set(self.streams.len() as i64);
    }

    fn spawn(&mut self) -> usize {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.streams.len();
        let stream = Stream {
            id,
            settings: self.settings.clone(),
            symbols: HashSet::new(),
            refused: HashSet::new(),
            commands: rx,
            out: self.out.clone(),
            metrics: self.metrics.clone(),
        };
        let task = tokio::spawn(stream.run());
        self.streams.push(StreamHandle {
            commands: tx,
            topics: 0,
            chars: 0,
            task,
        });
        id
    }

    pub fn connection_count(&self) -> usize {
        self.streams.len()
    }

    /// Closes every connection and waits for them.
    pub async fn shutdown(self) {
        for h in &self.streams {
            let _ = h.commands.send(StreamCmd::Shutdown);
        }
        for h in self.streams {
            let _ = tokio::time::timeout(Duration::from_secs(3), h.task).await;
        }
    }
}
