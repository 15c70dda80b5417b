//! Deribit's JSON-RPC WebSocket on the live simulation (`/ws/api/v2`), with the behaviour that
//! trips connectors up (../shared/VENUES.md): `public/subscribe` answers only the channels it
//! accepted (unknown ones are left out without an error), `raw` ticker channels are refused
//! without authentication (13778), a message of more than 500 channels is refused (-32600),
//! `public/set_heartbeat` sends `test_request`s that close the socket when a `public/test` does
//! not answer them before the next, and requests spend credits (a subscribe 3,000 of a 30,000
//! pool refilled at 10,000 a second): an empty pool answers 10028 and ends the session.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use warp::filters::ws::WebSocket;

use crate::clock::now_ms;
use crate::deribit;
use crate::server::{lock, DeribitConn, Sim, SEND_QUEUE};
use crate::socket::spawn_frame_writer;

const MAX_CHANNELS: usize = 500;
const CREDIT_POOL: f64 = 30_000.0;
const CREDIT_REFILL_PER_SEC: f64 = 10_000.0;
const SUBSCRIBE_COST: f64 = 3_000.0;
const REQUEST_COST: f64 = 500.0;

struct Session {
    id: u64,
    credits: f64,
    refilled: Instant,
    heartbeat: Option<Duration>,
    next_beat: Option<tokio::time::Instant>,
    awaiting_test: bool,
}

impl Session {
    fn spend(&mut self, cost: f64) -> bool {
        let now = Instant::now();
        let dt = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.credits = (self.credits + dt * CREDIT_REFILL_PER_SEC).min(CREDIT_POOL);
        if self.credits < cost {
            return false;
        }
        self.credits -= cost;
        true
    }
}

pub(crate) async fn serve(sim: Arc<Sim>, ws: WebSocket) {
    let id = sim.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel::<String>(SEND_QUEUE);
    let kick = Arc::new(Notify::new());
    lock(&sim.deribit).conns.insert(
        id,
        DeribitConn {
            tx: tx.clone(),
            kick: kick.clone(),
            channels: HashSet::new(),
        },
    );
    let (sink, mut stream) = ws.split();
    let mut writer = spawn_frame_writer(sim.clone(), sink, rx, kick);
    let mut session = Session {
        id,
        credits: CREDIT_POOL,
        refilled: Instant::now(),
        heartbeat: None,
        next_beat: None,
        awaiting_test: false,
    };
    let idle = sim.limits.idle_timeout;
    loop {
        let beat = session.next_beat;
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = &mut writer => break,
            _ = async { tokio::time::sleep_until(beat.unwrap()).await }, if beat.is_some() => {
                if session.awaiting_test {
                    tracing::info!(id, "deribit: test_request unanswered, closing");
                    break;
                }
                session.awaiting_test = true;
                session.next_beat = session.heartbeat.map(|d| tokio::time::Instant::now() + d);
                let _ = tx
                    .send(json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}).to_string())
                    .await;
                continue;
            }
            _ = tokio::time::sleep(idle), if session.heartbeat.is_none() => break,
        };
        let Some(Ok(msg)) = msg else { break };
        let Ok(text) = msg.to_str() else { continue };
        let (replies, close) = handle(&sim, &mut session, text);
        for r in replies {
            let _ = tx.send(r).await;
        }
        if close {
            // Let the writer flush the error before the socket goes.
            tokio::time::sleep(Duration::from_millis(50)).await;
            break;
        }
    }
    writer.abort();
    let mut subs = lock(&sim.deribit);
    if let Some(conn) = subs.conns.remove(&id) {
        for ch in conn.channels {
            subs.forget(&ch, id);
        }
    }
}

/// One request: the frames to send back, and whether the session ends.
fn handle(sim: &Sim, session: &mut Session, text: &str) -> (Vec<String>, bool) {
    let us_in = now_ms() * 1000;
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return (
            vec![deribit::error(None, -32700, "Parse error", us_in)],
            false,
        );
    };
    let id = req.get("id");
    let method = req["method"].as_str().unwrap_or("");
    let cost = if method == "public/subscribe" {
        SUBSCRIBE_COST
    } else {
        REQUEST_COST
    };
    if !session.spend(cost) {
        sim.deribit_credit_closes.fetch_add(1, Ordering::Relaxed);
        return (
            vec![deribit::error(id, 10_028, "too_many_requests", us_in)],
            true,
        );
    }
    let channels = || -> Vec<String> {
        req["params"]["channels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    match method {
        "public/test" => {
            if session.awaiting_test {
                sim.deribit_tests_answered.fetch_add(1, Ordering::Relaxed);
            }
            session.awaiting_test = false;
            (
                vec![deribit::envelope(id, json!({"version": "1.2.26"}), us_in)],
                false,
            )
        }
        "public/set_heartbeat" => match req["params"]["interval"].as_f64() {
            Some(s) if s >= 10.0 => {
                let d = Duration::from_secs_f64(s);
                session.heartbeat = Some(d);
                session.awaiting_test = false;
                session.next_beat = Some(tokio::time::Instant::now() + d);
                (vec![deribit::envelope(id, json!("ok"), us_in)], false)
            }
            _ => (
                vec![deribit::error(id, -32602, "Invalid params", us_in)],
                false,
            ),
        },
        "public/disable_heartbeat" => {
            session.heartbeat = None;
            session.next_beat = None;
            (vec![deribit::envelope(id, json!("ok"), us_in)], false)
        }
        "public/subscribe" => {
            let asked = channels();
            if asked.len() > MAX_CHANNELS {
                return (
                    vec![deribit::error(
                        id,
                        -32600,
                        "request entity too large",
                        us_in,
                    )],
                    false,
                );
            }
            if asked.iter().any(|c| c.ends_with(".raw")) {
                return (
                    vec![deribit::error(
                        id,
                        13_778,
                        "raw_subscriptions_not_available_for_unauthorized",
                        us_in,
                    )],
                    false,
                );
            }
            (subscribe(sim, session.id, id, &asked, us_in), false)
        }
        "public/unsubscribe" => {
            let asked = channels();
            let mut subs = lock(&sim.deribit);
            let mut done = Vec::new();
            for ch in asked {
                let had = subs
                    .conns
                    .get_mut(&session.id)
                    .is_some_and(|c| c.channels.remove(&ch));
                if had {
                    subs.forget(&ch, session.id);
                    done.push(ch);
                }
            }
            (vec![deribit::envelope(id, json!(done), us_in)], false)
        }
        _ => (
            vec![deribit::error(id, -32601, "Method not found", us_in)],
            false,
        ),
    }
}

/// Registers the channels that exist and answers with exactly those; a first notification of
/// each ticker follows the answer (queued before the locks are released, so no update can
/// overtake it).
fn subscribe(
    sim: &Sim,
    conn: u64,
    id: Option<&Value>,
    asked: &[String],
    us_in: i64,
) -> Vec<String> {
    let now = now_ms();
    let market = lock(&sim.market);
    let listing = deribit::listing(&market);
    let mut subs = lock(&sim.deribit);
    let mut accepted = Vec::new();
    let mut first = Vec::new();
    for ch in asked {
        if let Some(name) = ch
            .strip_prefix("ticker.")
            .and_then(|r| r.strip_suffix(".100ms"))
        {
            let Some(&i) = listing.get(name) else {
                continue;
            };
            let c = market.contract(i);
            subs.add(ch, conn, Some(&c.symbol));
            first.push(deribit::notification(ch, deribit::ticker(c, name, now)));
            accepted.push(ch.clone());
        } else if let Some(cur) = ch
            .strip_prefix("trades.option.")
            .and_then(|r| r.strip_suffix(".100ms"))
        {
            let cur = cur.to_ascii_lowercase();
            if ["btc", "eth", "usdc", "any"].contains(&cur.as_str()) {
                if let Some(c) = subs.conns.get_mut(&conn) {
                    if c.channels.insert(ch.clone()) {
                        subs.trades.push((conn, ch.clone(), cur));
                    }
                }
                accepted.push(ch.clone());
            }
        } else if let Some(cur) = ch.strip_prefix("instrument.state.option.") {
            if ["btc", "eth", "usdc", "any"].contains(&cur.to_ascii_lowercase().as_str()) {
                subs.add(ch, conn, None);
                accepted.push(ch.clone());
            }
        }
    }
    let mut out = vec![deribit::envelope(id, json!(accepted), us_in)];
    if let Some(c) = subs.conns.get(&conn) {
        for frame in out.drain(..).chain(first) {
            let _ = c.tx.try_send(frame);
        }
    }
    out
}
