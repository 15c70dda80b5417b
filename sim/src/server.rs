//! HTTP and WebSocket: Bybit's REST endpoints and `/v5/public/option`, plus `/sim/*` control
//! endpoints that tests and the demo use to move prices and inject faults.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use options_core::bybit::OptionInstrument;
use options_core::{Field, Settle};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use warp::filters::ws::{Message, WebSocket};
use warp::http::StatusCode;
use warp::{Filter, Reply};

use crate::clock::now_ms;
use crate::market::{Contract, Market};
use crate::wire;

/// Limits and behaviour that Bybit documents for the option stream.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_topics: usize,
    pub max_topic_chars: usize,
    pub idle_timeout: Duration,
}

/// Faults switched on for a while (`until`) or with a probability per REST call.
#[derive(Debug, Default)]
pub struct Faults {
    pub silent_until: Option<Instant>,
    pub reject_until: Option<Instant>,
    pub retcode_until: Option<Instant>,
    pub http429_until: Option<Instant>,
    pub retcode_rate: f64,
    pub http429_rate: f64,
    pub reject_always: bool,
}

impl Faults {
    fn active(until: Option<Instant>) -> bool {
        until.is_some_and(|u| Instant::now() < u)
    }
}

/// Frames queued per connection. A client that falls this far behind is disconnected, as an
/// exchange does with slow consumers (and memory stays bounded).
const SEND_QUEUE: usize = 200_000;

struct Conn {
    tx: mpsc::Sender<String>,
    /// Drops the connection without a close frame, as a network failure would.
    kick: Arc<Notify>,
    topics: HashSet<String>,
    topic_chars: usize,
}

#[derive(Default)]
struct Subs {
    by_symbol: HashMap<String, Vec<u64>>,
    conns: HashMap<u64, Conn>,
}

impl Subs {
    /// Stops delivering `symbol` to connection `id`.
    fn forget(&mut self, symbol: &str, id: u64) {
        if let Some(v) = self.by_symbol.get_mut(symbol) {
            v.retain(|x| *x != id);
            if v.is_empty() {
                self.by_symbol.remove(symbol);
            }
        }
    }
}

pub struct Sim {
    market: Mutex<Market>,
    subs: Mutex<Subs>,
    pub faults: Mutex<Faults>,
    pub paused: AtomicBool,
    pub updates_per_sec: AtomicU64,
    pushes: AtomicU64,
    next_conn: AtomicU64,
    limits: Limits,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked holder leaves consistent data here (every mutation is a single assignment).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sim {
    pub fn new(market: Market, limits: Limits, faults: Faults, updates_per_sec: u64) -> Arc<Sim> {
        Arc::new(Sim {
            market: Mutex::new(market),
            subs: Mutex::new(Subs::default()),
            faults: Mutex::new(faults),
            paused: AtomicBool::new(false),
            updates_per_sec: AtomicU64::new(updates_per_sec),
            pushes: AtomicU64::new(0),
            next_conn: AtomicU64::new(1),
            limits,
        })
    }

    /// Applies `n` updates and pushes each to its subscribers. Frames are queued while the
    /// market lock is held, so every client sees a contract's values in the order they were
    /// made (a set, a tick and a subscribe snapshot cannot overtake one another).
    pub fn tick(&self, n: usize) {
        let now = now_ms();
        let mut market = lock(&self.market);
        let updated = market.step(n, now);
        let subs = lock(&self.subs);
        let frames: Vec<(String, String)> = updated
            .into_iter()
            .filter_map(|i| {
                let c = market.contract(i);
                subs.by_symbol.contains_key(&c.symbol).then(|| {
                    let seq = self.pushes.fetch_add(1, Ordering::Relaxed);
                    (c.symbol.clone(), wire::ws_push(c, now, seq))
                })
            })
            .collect();
        Self::deliver(&subs, frames);
    }

    fn deliver(subs: &Subs, frames: Vec<(String, String)>) {
        for (symbol, frame) in frames {
            if let Some(ids) = subs.by_symbol.get(&symbol) {
                for id in ids {
                    if let Some(conn) = subs.conns.get(id) {
                        if conn.tx.try_send(frame.clone()).is_err() {
                            // Full: the client cannot keep up.
                            conn.kick.notify_one();
                        }
                    }
                }
            }
        }
    }

    /// Lists and delists by the calendar; runs every second.
    pub fn maintain(&self) {
        let (listed, removed) = lock(&self.market).maintain(now_ms());
        if !listed.is_empty() || !removed.is_empty() {
            tracing::info!(
                listed = listed.len(),
                removed = removed.len(),
                "listings changed"
            );
        }
    }

    fn set_value(&self, symbol: &str, field: Field, value: f64) -> Option<Value> {
        let now = now_ms();
        let mut market = lock(&self.market);
        let i = market.set_value(symbol, field, value)?;
        let seq = self.pushes.fetch_add(1, Ordering::Relaxed);
        let frame = wire::ws_push(market.contract(i), now, seq);
        let pushed: Value = serde_json::from_str(&frame).unwrap_or(Value::Null);
        Self::deliver(&lock(&self.subs), vec![(symbol.to_string(), frame)]);
        Some(pushed)
    }

    fn kick_all(&self) -> usize {
        let subs = lock(&self.subs);
        for c in subs.conns.values() {
            c.kick.notify_one();
        }
        subs.conns.len()
    }

    fn garbage_all(&self) -> usize {
        let symbol = lock(&self.market)
            .contracts()
            .first()
            .map(|c| c.symbol.clone())
            .unwrap_or_default();
        let subs = lock(&self.subs);
        for c in subs.conns.values() {
            for g in wire::garbage_frames(&symbol) {
                let _ = c.tx.try_send(g);
            }
        }
        subs.conns.len()
    }

    /// Triggers a fault by name, as the `/sim/fault/*` endpoints do.
    pub fn fault(&self, kind: &str, secs: f64) {
        let until = Some(Instant::now() + Duration::from_secs_f64(secs.max(0.0)));
        match kind {
            "drop" => {
                self.kick_all();
            }
            "garbage" => {
                self.garbage_all();
            }
            "silence" => lock(&self.faults).silent_until = until,
            _ => {}
        }
    }

    fn stats(&self) -> Value {
        let market = lock(&self.market);
        let subs = lock(&self.subs);
        json!({
            "contracts": market.contracts().len(),
            "assets": market.asset_names(),
            "connections": subs.conns.len(),
            "subscriptions": subs.conns.values().map(|c| c.topics.len()).sum::<usize>(),
            "pushes": self.pushes.load(Ordering::Relaxed),
            "updates": market.updates,
            "paused": self.paused.load(Ordering::Relaxed),
            "updates_per_sec": self.updates_per_sec.load(Ordering::Relaxed),
        })
    }
}

type Query = HashMap<String, String>;

fn rest_fault(sim: &Sim) -> Option<warp::reply::Response> {
    let f = lock(&sim.faults);
    let roll = |p: f64| p > 0.0 && rand::random::<f64>() < p;
    if Faults::active(f.http429_until) || roll(f.http429_rate) {
        return Some(
            warp::reply::with_status(
                warp::reply::json(&json!({"retCode": 10006, "retMsg": "Too many visits!"})),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .into_response(),
        );
    }
    if Faults::active(f.retcode_until) || roll(f.retcode_rate) {
        return Some(
            warp::reply::json(&wire::error_envelope(
                10016,
                "Server error (simulated)",
                now_ms(),
            ))
            .into_response(),
        );
    }
    None
}

fn params_error(msg: &str) -> warp::reply::Response {
    warp::reply::json(&wire::error_envelope(10001, msg, now_ms())).into_response()
}

/// The settle coins a request selects: Bybit's option endpoints default to USDC.
fn settle_filter(q: &Query) -> Result<Settle, &'static str> {
    match q.get("settleCoin").map(String::as_str) {
        None | Some("") => Ok(Settle::Usdc),
        Some(s) => Settle::parse(s).ok_or("params error: settleCoin invalid"),
    }
}

/// What every market endpoint does first: injected faults, then `category` and `settleCoin`.
fn check_market_request(sim: &Sim, q: &Query) -> Result<Settle, Box<warp::reply::Response>> {
    if let Some(r) = rest_fault(sim) {
        return Err(Box::new(r));
    }
    if q.get("category").map(String::as_str) != Some("option") {
        return Err(Box::new(params_error(
            "params error: category only support option here",
        )));
    }
    settle_filter(q).map_err(|e| Box::new(params_error(e)))
}

fn instruments_info(sim: &Sim, q: &Query) -> warp::reply::Response {
    let settle = match check_market_request(sim, q) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 500,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => return params_error("params error: limit must be 1-1000"),
    };
    let offset = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match c
            .strip_prefix("page:")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => return params_error("params error: cursor invalid"),
        },
    };
    let market = lock(&sim.market);
    let base = q.get("baseCoin").cloned().unwrap_or_else(|| "BTC".into());
    let symbol = q.get("symbol");
    let all: Vec<&Contract> = market
        .contracts()
        .iter()
        .filter(|c| symbol.is_none_or(|s| &c.symbol == s))
        .filter(|c| c.symbol.split('-').next() == Some(base.as_str()) && c.settle == settle)
        .collect();
    let page: Vec<OptionInstrument> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|c| wire::instrument(c, &base, market.price_tick(c)))
        .collect();
    let next = if offset + limit < all.len() {
        format!("page:{}", offset + limit)
    } else {
        String::new()
    };
    warp::reply::json(&wire::envelope(page, Some(next), now_ms())).into_response()
}

fn tickers(sim: &Sim, q: &Query) -> warp::reply::Response {
    let settle = match check_market_request(sim, q) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let market = lock(&sim.market);
    let list: Vec<Value> = match q.get("symbol") {
        Some(s) => market.get(s).map(wire::rest_ticker).into_iter().collect(),
        None => {
            let base = q.get("baseCoin").cloned().unwrap_or_else(|| "BTC".into());
            market
                .contracts()
                .iter()
                .filter(|c| c.symbol.split('-').next() == Some(base.as_str()) && c.settle == settle)
                .map(wire::rest_ticker)
                .collect()
        }
    };
    warp::reply::json(&wire::envelope(list, None, now_ms())).into_response()
}

async fn websocket(sim: Arc<Sim>, ws: WebSocket) {
    let id = sim.next_conn.fetch_add(1, Ordering::Relaxed);
    let conn_id = format!("sim-{id}");
    let (tx, mut rx) = mpsc::channel::<String>(SEND_QUEUE);
    let kick = Arc::new(Notify::new());
    lock(&sim.subs).conns.insert(
        id,
        Conn {
            tx: tx.clone(),
            kick: kick.clone(),
            topics: HashSet::new(),
            topic_chars: 0,
        },
    );
    let (mut sink, mut stream) = ws.split();
    let writer_sim = sim.clone();
    let writer = tokio::spawn(async move {
        loop {
            let first = tokio::select! {
                _ = kick.notified() => break,
                t = rx.recv() => match t {
                    Some(t) => t,
                    None => break,
                },
            };
            if Faults::active(lock(&writer_sim.faults).silent_until) {
                continue;
            }
            // Queue everything already waiting and flush once: a syscall per frame would cap
            // the sim far below the rates it must be able to push.
            let mut batch = vec![first];
            while batch.len() < 1024 {
                match rx.try_recv() {
                    Ok(t) => batch.push(t),
                    Err(_) => break,
                }
            }
            let mut failed = false;
            for t in batch {
                if sink.feed(Message::text(t)).await.is_err() {
                    failed = true;
                    break;
                }
            }
            if failed || sink.flush().await.is_err() {
                break;
            }
        }
    });
    let idle = sim.limits.idle_timeout;
    let mut writer = writer;
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            // The writer ends on a kick or a dead socket: close the whole connection now, so
            // the client sees the drop at once.
            _ = &mut writer => break,
            _ = tokio::time::sleep(idle) => {
                tracing::info!(conn_id, "idle connection dropped");
                break;
            }
        };
        let Some(Ok(msg)) = msg else { break };
        let Ok(text) = msg.to_str() else { continue };
        let reply = handle_request(&sim, id, &conn_id, text);
        for r in reply {
            let _ = tx.send(r).await;
        }
    }
    writer.abort();
    let mut subs = lock(&sim.subs);
    if let Some(conn) = subs.conns.remove(&id) {
        for t in conn.topics {
            subs.forget(&t, id);
        }
    }
}

/// One client request; returns the frames to send back.
fn handle_request(sim: &Sim, id: u64, conn_id: &str, text: &str) -> Vec<String> {
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return vec![json!({"success": false, "ret_msg": "error:invalid json", "conn_id": conn_id, "op": ""}).to_string()];
    };
    let op = req["op"].as_str().unwrap_or("");
    let req_id = req["req_id"].as_str().unwrap_or("");
    match op {
        "ping" => vec![wire::pong(req_id, conn_id, now_ms())],
        "subscribe" | "unsubscribe" => {
            let args: Vec<String> = req["args"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                .unwrap_or_default();
            let reply = |ok: &[String], failed: &[String]| wire::command_reply(op, req_id, conn_id, ok, failed);
            if op == "subscribe" {
                subscribe(sim, id, &args, reply);
                Vec::new()
            } else {
                let ok = unsubscribe(sim, id, &args);
                vec![reply(&ok, &[])]
            }
        }
        _ => vec![json!({"success": false, "ret_msg": format!("error:unknown op {op}"), "conn_id": conn_id, "req_id": req_id, "op": op}).to_string()],
    }
}

/// Registers topics and queues the reply and one snapshot per new topic. Both are queued
/// before the locks are released: an update pushed in between would otherwise reach the client
/// before the (older) snapshot and leave it with stale values.
fn subscribe(
    sim: &Sim,
    id: u64,
    topics: &[String],
    reply: impl Fn(&[String], &[String]) -> String,
) {
    let reject = {
        let f = lock(&sim.faults);
        f.reject_always || Faults::active(f.reject_until)
    };
    let now = now_ms();
    let market = lock(&sim.market);
    let mut subs = lock(&sim.subs);
    let (mut ok, mut failed, mut snaps) = (Vec::new(), Vec::new(), Vec::new());
    for t in topics {
        let symbol = t.strip_prefix("tickers.").unwrap_or("");
        let known = market.get(symbol);
        let Some(conn) = subs.conns.get_mut(&id) else {
            break;
        };
        let fits = conn.topics.len() < sim.limits.max_topics
            && conn.topic_chars + t.len() <= sim.limits.max_topic_chars;
        match known {
            Some(c) if !reject && fits => {
                if conn.topics.insert(symbol.to_string()) {
                    conn.topic_chars += t.len();
                    subs.by_symbol
                        .entry(symbol.to_string())
                        .or_default()
                        .push(id);
                }
                let seq = sim.pushes.fetch_add(1, Ordering::Relaxed);
                snaps.push(wire::ws_push(c, now, seq));
                ok.push(t.clone());
            }
            _ => failed.push(t.clone()),
        }
    }
    if let Some(conn) = subs.conns.get(&id) {
        let _ = conn.tx.try_send(reply(&ok, &failed));
        for s in snaps {
            let _ = conn.tx.try_send(s);
        }
    }
}

fn unsubscribe(sim: &Sim, id: u64, topics: &[String]) -> Vec<String> {
    let mut subs = lock(&sim.subs);
    let mut ok = Vec::new();
    for t in topics {
        let symbol = t.strip_prefix("tickers.").unwrap_or("");
        let removed = subs.conns.get_mut(&id).is_some_and(|c| {
            let had = c.topics.remove(symbol);
            if had {
                c.topic_chars -= t.len();
            }
            had
        });
        if removed {
            subs.forget(symbol, id);
            ok.push(t.clone());
        }
    }
    ok
}

fn seconds(q: &Query) -> Duration {
    Duration::from_secs_f64(q.get("seconds").and_then(|s| s.parse().ok()).unwrap_or(5.0))
}

fn control(sim: &Sim, action: &str, q: &Query) -> warp::reply::Response {
    let until = Some(Instant::now() + seconds(q));
    let body = match action {
        "pause" => {
            sim.paused.store(true, Ordering::Relaxed);
            json!({"paused": true})
        }
        "resume" => {
            sim.paused.store(false, Ordering::Relaxed);
            json!({"paused": false})
        }
        "rate" => match q.get("updates_per_sec").and_then(|r| r.parse::<u64>().ok()) {
            Some(r) => {
                sim.updates_per_sec.store(r, Ordering::Relaxed);
                json!({"updates_per_sec": r})
            }
            None => return bad_request("updates_per_sec must be a whole number"),
        },
        "fault/drop" => json!({"dropped": sim.kick_all()}),
        "fault/garbage" => json!({"connections": sim.garbage_all()}),
        "fault/silence" => {
            lock(&sim.faults).silent_until = until;
            json!({"silent_for_s": seconds(q).as_secs_f64()})
        }
        "fault/reject" => {
            lock(&sim.faults).reject_until = until;
            json!({"rejecting_for_s": seconds(q).as_secs_f64()})
        }
        "fault/retcode" => {
            lock(&sim.faults).retcode_until = until;
            json!({"retcode_for_s": seconds(q).as_secs_f64()})
        }
        "fault/http429" => {
            lock(&sim.faults).http429_until = until;
            json!({"http429_for_s": seconds(q).as_secs_f64()})
        }
        "fault/clear" => {
            let mut f = lock(&sim.faults);
            f.silent_until = None;
            f.reject_until = None;
            f.retcode_until = None;
            f.http429_until = None;
            json!({"cleared": true})
        }
        "list" => {
            let (Some(base), Some(days)) = (
                q.get("baseCoin"),
                q.get("days").and_then(|d| d.parse::<i64>().ok()),
            ) else {
                return bad_request("baseCoin and days are required");
            };
            json!({"listed": lock(&sim.market).list_extra(base, days, now_ms())})
        }
        "delist" => {
            let Some(base) = q.get("baseCoin") else {
                return bad_request("baseCoin is required");
            };
            json!({"removed": lock(&sim.market).delist_nearest(base)})
        }
        "set" => {
            let (Some(symbol), Some(field), Some(value)) =
                (q.get("symbol"), q.get("field"), q.get("value"))
            else {
                return bad_request("symbol, field and value are required");
            };
            let Some(field) = Field::parse(field) else {
                return bad_request("unknown field");
            };
            let Ok(value) = options_core::parse_number(value) else {
                return bad_request("value must be a number");
            };
            match sim.set_value(symbol, field, value) {
                Some(pushed) => pushed,
                None => {
                    return warp::reply::with_status(
                        warp::reply::json(&json!({"error": "unknown symbol"})),
                        StatusCode::NOT_FOUND,
                    )
                    .into_response()
                }
            }
        }
        _ => {
            return warp::reply::with_status(
                warp::reply::json(&json!({"error": "unknown control"})),
                StatusCode::NOT_FOUND,
            )
            .into_response()
        }
    };
    warp::reply::json(&body).into_response()
}

fn bad_request(msg: &str) -> warp::reply::Response {
    warp::reply::with_status(
        warp::reply::json(&json!({"error": msg})),
        StatusCode::BAD_REQUEST,
    )
    .into_response()
}

pub fn routes(
    sim: Arc<Sim>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let with_sim = {
        let sim = sim.clone();
        warp::any().map(move || sim.clone())
    };
    let instruments = warp::path!("v5" / "market" / "instruments-info")
        .and(warp::get())
        .and(with_sim.clone())
        .and(warp::query::<Query>())
        .map(|sim: Arc<Sim>, q: Query| instruments_info(&sim, &q));
    let tickers = warp::path!("v5" / "market" / "tickers")
        .and(warp::get())
        .and(with_sim.clone())
        .and(warp::query::<Query>())
        .map(|sim: Arc<Sim>, q: Query| tickers(&sim, &q));
    let ws = warp::path!("v5" / "public" / "option")
        .and(warp::ws())
        .and(with_sim.clone())
        .map(|ws: warp::ws::Ws, sim: Arc<Sim>| {
            ws.on_upgrade(move |socket| websocket(sim, socket))
                .into_response()
        });
    let stats = warp::path!("sim" / "stats")
        .and(warp::get())
        .and(with_sim.clone())
        .map(|sim: Arc<Sim>| warp::reply::json(&sim.stats()).into_response());
    let control_one = warp::path!("sim" / String)
        .and(warp::post())
        .and(with_sim.clone())
        .and(warp::query::<Query>())
        .map(|action: String, sim: Arc<Sim>, q: Query| control(&sim, &action, &q));
    let control_fault = warp::path!("sim" / "fault" / String)
        .and(warp::post())
        .and(with_sim)
        .and(warp::query::<Query>())
        .map(|kind: String, sim: Arc<Sim>, q: Query| control(&sim, &format!("fault/{kind}"), &q));
    instruments
        .or(tickers)
        .unify()
        .or(ws)
        .unify()
        .or(stats)
        .unify()
        .or(control_fault)
        .unify()
        .or(control_one)
        .unify()
}

/// Runs the update loop: `updates_per_sec` contract updates spread over 10 ms ticks.
pub async fn run_updates(sim: Arc<Sim>) {
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = Instant::now();
    let mut carry = 0.0f64;
    loop {
        interval.tick().await;
        let now = Instant::now();
        let dt = now.duration_since(last).as_secs_f64();
        last = now;
        if sim.paused.load(Ordering::Relaxed) {
            carry = 0.0;
            continue;
        }
        let rate = sim.updates_per_sec.load(Ordering::Relaxed) as f64;
        // When ticks fall behind (the rate is above what this machine can generate), skip
        // the backlog instead of building ever larger ticks that hold the market lock.
        carry = (carry + dt * rate).min(rate * 0.02 + 1.0);
        let n = carry.floor() as usize;
        carry -= n as f64;
        if n > 0 {
            sim.tick(n);
        }
    }
}

pub async fn run_maintenance(sim: Arc<Sim>) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        interval.tick().await;
        sim.maintain();
    }
}
