//! `bybit-sim --replay DIR`: a recording (`options-feeder --record`) played back as if it were
//! Bybit. REST answers with the recorded listings and the tickers as of the replay position;
//! the option WebSocket sends the recorded frames, byte for byte, to every subscriber of each
//! topic, with their original spacing divided by `--speed` (0: as fast as clients read).
//! The replay clock starts at the first subscription, so a feeder started after the sim sees
//! the whole recording.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use options_core::bybit::{Envelope, Page};
use options_core::recording::{self, Entry};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use warp::ws::{Message, WebSocket};
use warp::Reply;

use crate::clock::now_ms;
use crate::routes::{Exchange, Query};
use crate::wire;

/// What to replay and how fast.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dir: PathBuf,
    /// 1: real time; 60: an hour in a minute; 0: as fast as the clients read.
    pub speed: f64,
    /// Only frames received in [from, to] (Unix ms); earlier ones still set the REST state.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Start again from the beginning when the recording ends.
    pub looped: bool,
}

/// A subscriber's queue: bounded, so `--speed 0` goes as fast as the slowest client reads.
const QUEUE: usize = 10_000;

#[derive(Default)]
struct State {
    /// Per base coin: the latest listing and REST snapshot items, by symbol.
    listings: BTreeMap<String, BTreeMap<String, Value>>,
    /// Per symbol: the latest ticker (a REST item, or a frame's `data`).
    tickers: BTreeMap<String, Value>,
}

#[derive(Default)]
struct Subs {
    conns: HashMap<u64, mpsc::Sender<String>>,
    topics: HashMap<String, HashSet<u64>>,
}

pub struct Replay {
    settings: Settings,
    state: Mutex<State>,
    subs: Mutex<Subs>,
    next_conn: AtomicU64,
    subscribed: Notify,
    any_subscriber: AtomicBool,
    frames_sent: AtomicU64,
    frames_total: AtomicU64,
    position_ms: AtomicI64,
    done: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn settle_of(symbol: &str) -> &'static str {
    if symbol.ends_with("-USDT") {
        "USDT"
    } else {
        "USDC"
    }
}

impl Replay {
    /// Reads the recording once: how many frames it holds and the REST state at its start.
    pub fn open(settings: Settings) -> anyhow::Result<Arc<Replay>> {
        let files = recording::files(&settings.dir)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", settings.dir.display()))?;
        anyhow::ensure!(
            !files.is_empty(),
            "{} holds no recording (*.jsonl.zst)",
            settings.dir.display()
        );
        let replay = Arc::new(Replay {
            settings,
            state: Mutex::new(State::default()),
            subs: Mutex::new(Subs::default()),
            next_conn: AtomicU64::new(0),
            subscribed: Notify::new(),
            any_subscriber: AtomicBool::new(false),
            frames_sent: AtomicU64::new(0),
            frames_total: AtomicU64::new(0),
            position_ms: AtomicI64::new(0),
            done: AtomicBool::new(false),
        });
        let mut frames = 0u64;
        let mut started = false;
        for e in recording::entries(&replay.settings.dir)? {
            let in_range = replay.in_range(e.recv_ms());
            if let Entry::Frame { .. } = e {
                if in_range {
                    frames += 1;
                    started = true;
                }
            }
            // The REST state at the start: everything received before the first replayed frame.
            if !started {
                replay.apply(&e);
            }
        }
        replay.frames_total.store(frames, Ordering::Relaxed);
        Ok(replay)
    }

    fn in_range(&self, ms: i64) -> bool {
        self.settings.from.is_none_or(|f| ms >= f) && self.settings.to.is_none_or(|t| ms <= t)
    }

    /// Updates the REST state with an entry.
    fn apply(&self, e: &Entry) {
        let mut st = lock(&self.state);
        match e {
            Entry::Instruments { base, items, .. } => {
                let list = items
                    .iter()
                    .filter_map(|i| Some((i["symbol"].as_str()?.to_string(), i.clone())))
                    .collect();
                st.listings.insert(base.clone(), list);
            }
            Entry::Tickers { items, .. } => {
                for i in items {
                    if let Some(s) = i["symbol"].as_str() {
                        st.tickers.insert(s.to_string(), i.clone());
                    }
                }
            }
            Entry::Frame { text, .. } => {
                if let Ok(v) = serde_json::from_str::<Value>(text) {
                    Self::apply_frame(&mut st, v);
                }
            }
        }
    }

    /// A parsed frame's ticker becomes the symbol's REST answer.
    fn apply_frame(st: &mut State, mut frame: Value) {
        if let Some(s) = frame["data"]["symbol"].as_str().map(String::from) {
            st.tickers.insert(s, frame["data"].take());
        }
    }

    /// Plays the recording: waits for the first subscriber, then sends each frame at its time.
    pub async fn run(self: Arc<Self>) {
        loop {
            if !self.any_subscriber.load(Ordering::Relaxed) {
                self.subscribed.notified().await;
            }
            tracing::info!(
                frames = self.frames_total.load(Ordering::Relaxed),
                speed = self.settings.speed,
                "replay starts"
            );
            let entries = match recording::entries(&self.settings.dir) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the recording");
                    return;
                }
            };
            let mut clock: Option<(tokio::time::Instant, i64)> = None;
            for e in entries {
                let ms = e.recv_ms();
                if self.settings.to.is_some_and(|t| ms > t) {
                    break;
                }
                let Entry::Frame { text, .. } = &e else {
                    self.apply(&e);
                    continue;
                };
                if !self.in_range(ms) {
                    self.apply(&e);
                    continue;
                }
                // Never faster than asked: each frame waits for its time on the replay clock.
                let (start, t0) = *clock.get_or_insert((tokio::time::Instant::now(), ms));
                if self.settings.speed > 0.0 {
                    let offset = ((ms - t0).max(0) as f64 / self.settings.speed) / 1000.0;
                    tokio::time::sleep_until(start + Duration::from_secs_f64(offset)).await;
                }
                // Parsed once: its topic picks the subscribers, its data the REST answer.
                let parsed = serde_json::from_str::<Value>(text).ok();
                let topic = parsed
                    .as_ref()
                    .and_then(|v| v["topic"].as_str().map(String::from));
                if let Some(v) = parsed {
                    Self::apply_frame(&mut lock(&self.state), v);
                }
                self.position_ms.store(ms, Ordering::Relaxed);
                if let Some(topic) = topic {
                    self.deliver(&topic, text).await;
                }
                self.frames_sent.fetch_add(1, Ordering::Relaxed);
            }
            tracing::info!(
                sent = self.frames_sent.load(Ordering::Relaxed),
                "replay finished"
            );
            if !self.settings.looped {
                self.done.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    /// Sends a frame to every subscriber of its topic.
    async fn deliver(&self, topic: &str, text: &str) {
        let targets: Vec<mpsc::Sender<String>> = {
            let subs = lock(&self.subs);
            subs.topics
                .get(topic)
                .into_iter()
                .flatten()
                .filter_map(|id| subs.conns.get(id).cloned())
                .collect()
        };
        for tx in targets {
            let _ = tx.send(text.to_string()).await;
        }
    }

    fn stats(&self) -> Value {
        json!({
            "mode": "replay",
            "frames_total": self.frames_total.load(Ordering::Relaxed),
            "frames_sent": self.frames_sent.load(Ordering::Relaxed),
            "position_ms": self.position_ms.load(Ordering::Relaxed),
            "done": self.done.load(Ordering::Relaxed),
            "contracts": lock(&self.state).tickers.len(),
        })
    }
}

fn page(q: &Query, items: Vec<Value>) -> Envelope<Page<Value>> {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(500)
        .clamp(1, 1000);
    let offset = q
        .get("cursor")
        .and_then(|c| c.strip_prefix("page:"))
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let next = if offset + limit < items.len() {
        format!("page:{}", offset + limit)
    } else {
        String::new()
    };
    let list: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    wire::envelope(list, Some(next), now_ms())
}

/// Items of `base` and the asked settle coin (USDC when none is asked, as the sim answers).
fn select<'a>(items: impl Iterator<Item = (&'a String, &'a Value)>, q: &Query) -> Vec<Value> {
    let base = q.get("baseCoin").cloned().unwrap_or_else(|| "BTC".into());
    let settle = q
        .get("settleCoin")
        .map(|s| s.to_uppercase())
        .unwrap_or_else(|| "USDC".into());
    items
        .filter(|(s, _)| s.split('-').next() == Some(base.as_str()) && settle_of(s) == settle)
        .map(|(_, v)| v.clone())
        .collect()
}

async fn websocket(replay: Arc<Replay>, ws: WebSocket) {
    let id = replay.next_conn.fetch_add(1, Ordering::Relaxed);
    let conn_id = format!("replay-{id}");
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    lock(&replay.subs).conns.insert(id, tx.clone());
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        while let Some(t) = rx.recv().await {
            if sink.send(Message::text(t)).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        let Ok(text) = msg.to_str() else { continue };
        let Ok(req) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let op = req["op"].as_str().unwrap_or("");
        let req_id = req["req_id"].as_str().unwrap_or("");
        let reply = match op {
            "ping" => wire::pong(req_id, &conn_id, now_ms()),
            "subscribe" | "unsubscribe" => {
                let topics: Vec<String> = req["args"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                {
                    let mut subs = lock(&replay.subs);
                    for t in &topics {
                        let set = subs.topics.entry(t.clone()).or_default();
                        if op == "subscribe" {
                            set.insert(id);
                        } else {
                            set.remove(&id);
                        }
                    }
                }
                if op == "subscribe" && !replay.any_subscriber.swap(true, Ordering::Relaxed) {
                    replay.subscribed.notify_one();
                }
                wire::command_reply(op, req_id, &conn_id, &topics, &[])
            }
            _ => json!({"success": false, "ret_msg": format!("error:unknown op {op}"), "conn_id": conn_id, "op": op}).to_string(),
        };
        if tx.send(reply).await.is_err() {
            break;
        }
    }
    writer.abort();
    let mut subs = lock(&replay.subs);
    subs.conns.remove(&id);
    for set in subs.topics.values_mut() {
        set.remove(&id);
    }
}

impl Exchange for Replay {
    fn instruments_info(&self, q: &Query) -> warp::reply::Response {
        let st = lock(&self.state);
        let base = q.get("baseCoin").cloned().unwrap_or_else(|| "BTC".into());
        let items = st
            .listings
            .get(&base)
            .map(|l| select(l.iter(), q))
            .unwrap_or_default();
        warp::reply::json(&page(q, items)).into_response()
    }
    fn tickers(&self, q: &Query) -> warp::reply::Response {
        let st = lock(&self.state);
        let list = select(st.tickers.iter(), q);
        warp::reply::json(&wire::envelope(list, None, now_ms())).into_response()
    }
    fn stats(&self) -> Value {
        Replay::stats(self)
    }
    fn serve_socket(self: Arc<Self>, ws: WebSocket) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(websocket(self, ws))
    }
}
