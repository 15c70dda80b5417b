//! The live simulation's public WebSocket: Bybit's option stream protocol (subscribe,
//! unsubscribe, ping, the topic limits), a bounded send queue per connection, snapshots queued
//! before the locks are released.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use warp::filters::ws::{Message, WebSocket};

use crate::clock::now_ms;
use crate::server::{lock, Conn, Faults, Sim, SEND_QUEUE};
use crate::wire;

pub(crate) async fn websocket(sim: Arc<Sim>, ws: WebSocket) {
    let id = sim.next_conn.fetch_add(1, Ordering::Relaxed);
    let conn_id = format!("sim-{id}");
    let (tx, rx) = mpsc::channel::<String>(SEND_QUEUE);
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
    let (sink, mut stream) = ws.split();
    let mut writer = spawn_frame_writer(sim.clone(), sink, rx, kick);
    let idle = sim.limits.idle_timeout;
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
        let Some(conn) = subs.conns.get_mut(&id) else {
            break;
        };
        let fits = conn.topics.len() < sim.limits.max_topics
            && conn.topic_chars + t.len() <= sim.limits.max_topic_chars;
        // `publicTrade.<BASE>`: every trade of the base coin's options, no snapshot.
        if let Some(base) = t.strip_prefix("publicTrade.") {
            if market.asset_names().iter().any(|a| a == base) && !reject && fits {
                if conn.topics.insert(t.clone()) {
                    conn.topic_chars += t.len();
                    subs.by_symbol.entry(t.clone()).or_default().push(id);
                }
                ok.push(t.clone());
            } else {
                failed.push(t.clone());
            }
            continue;
        }
        let symbol = t.strip_prefix("tickers.").unwrap_or("");
        let known = market.get(symbol);
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
        let symbol = if t.starts_with("publicTrade.") {
            t.as_str()
        } else {
            t.strip_prefix("tickers.").unwrap_or("")
        };
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

/// The task that writes a connection's queued frames to its socket until the queue closes, the
/// connection is kicked or a write fails; frames are dropped while a `silent` fault is on. Both
/// venues' sockets use it.
pub(crate) fn spawn_frame_writer(
    sim: Arc<Sim>,
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<String>,
    kick: Arc<Notify>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let first = tokio::select! {
                _ = kick.notified() => break,
                t = rx.recv() => match t {
                    Some(t) => t,
                    None => break,
                },
            };
            if Faults::active(lock(&sim.faults).silent_until) {
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
    })
}
