//! The live simulation's state: the market, the open connections and their topics, the faults
//! switched on; the update and maintenance loops that push to subscribers. Its REST side
//! (market endpoints, `/sim/*` controls) is `rest.rs`, its WebSocket protocol `socket.rs`, the
//! routes both modes share `routes.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use options_core::Field;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use crate::clock::now_ms;
use crate::market::Market;
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
    pub(crate) fn active(until: Option<Instant>) -> bool {
        until.is_some_and(|u| Instant::now() < u)
    }
}

/// Frames queued per connection. A client that falls this far behind is disconnected, as an
/// exchange does with slow consumers (and memory stays bounded).
pub(crate) const SEND_QUEUE: usize = 200_000;

pub(crate) struct Conn {
    pub(crate) tx: mpsc::Sender<String>,
    /// Drops the connection without a close frame, as a network failure would.
    pub(crate) kick: Arc<Notify>,
    pub(crate) topics: HashSet<String>,
    pub(crate) topic_chars: usize,
}

#[derive(Default)]
pub(crate) struct Subs {
    pub(crate) by_symbol: HashMap<String, Vec<u64>>,
    pub(crate) conns: HashMap<u64, Conn>,
}

impl Subs {
    /// Stops delivering `symbol` to connection `id`.
    pub(crate) fn forget(&mut self, symbol: &str, id: u64) {
        if let Some(v) = self.by_symbol.get_mut(symbol) {
            v.retain(|x| *x != id);
            if v.is_empty() {
                self.by_symbol.remove(symbol);
            }
        }
    }
}

/// One Deribit connection: its send queue and the channels it subscribed.
pub(crate) struct DeribitConn {
    pub(crate) tx: mpsc::Sender<String>,
    pub(crate) kick: Arc<Notify>,
    pub(crate) channels: HashSet<String>,
}

/// Deribit subscriptions: ticker channels by the market's (Bybit) symbol they follow, and the
/// `instrument.state` channels.
#[derive(Default)]
pub(crate) struct DeribitSubs {
    pub(crate) by_symbol: HashMap<String, Vec<(u64, String)>>,
    pub(crate) symbol_of: HashMap<String, String>,
    pub(crate) states: Vec<(u64, String)>,
    /// `trades.option.<CURRENCY>.100ms`: (connection, channel, currency in lower case).
    pub(crate) trades: Vec<(u64, String, String)>,
    pub(crate) conns: HashMap<u64, DeribitConn>,
}

impl DeribitSubs {
    /// Adds `channel` for `conn`; `symbol` is the market contract a ticker channel follows.
    pub(crate) fn add(&mut self, channel: &str, conn: u64, symbol: Option<&str>) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.channels.insert(channel.to_string()) {
            return;
        }
        match symbol {
            Some(sym) => {
                self.symbol_of.insert(channel.to_string(), sym.to_string());
                self.by_symbol
                    .entry(sym.to_string())
                    .or_default()
                    .push((conn, channel.to_string()));
            }
            None => self.states.push((conn, channel.to_string())),
        }
    }

    pub(crate) fn forget(&mut self, channel: &str, conn: u64) {
        self.states
            .retain(|(id, ch)| !(*id == conn && ch == channel));
        self.trades
            .retain(|(id, ch, _)| !(*id == conn && ch == channel));
        if let Some(sym) = self.symbol_of.get(channel).cloned() {
            if let Some(v) = self.by_symbol.get_mut(&sym) {
                v.retain(|(id, _)| *id != conn);
                if v.is_empty() {
                    self.by_symbol.remove(&sym);
                    self.symbol_of.remove(channel);
                }
            }
        }
    }
}

pub struct Sim {
    pub(crate) market: Mutex<Market>,
    pub(crate) subs: Mutex<Subs>,
    pub(crate) deribit: Mutex<DeribitSubs>,
    pub faults: Mutex<Faults>,
    pub paused: AtomicBool,
    pub updates_per_sec: AtomicU64,
    pub(crate) pushes: AtomicU64,
    /// Deribit heartbeat `test_request`s answered with `public/test`, and sessions ended by
    /// 10028 (credits spent).
    pub(crate) deribit_tests_answered: AtomicU64,
    pub(crate) deribit_credit_closes: AtomicU64,
    pub(crate) next_conn: AtomicU64,
    pub(crate) limits: Limits,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked holder leaves consistent data here (every mutation is a single assignment).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sim {
    pub fn new(market: Market, limits: Limits, faults: Faults, updates_per_sec: u64) -> Arc<Sim> {
        Arc::new(Sim {
            market: Mutex::new(market),
            subs: Mutex::new(Subs::default()),
            deribit: Mutex::new(DeribitSubs::default()),
            faults: Mutex::new(faults),
            paused: AtomicBool::new(false),
            updates_per_sec: AtomicU64::new(updates_per_sec),
            pushes: AtomicU64::new(0),
            deribit_tests_answered: AtomicU64::new(0),
            deribit_credit_closes: AtomicU64::new(0),
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
            .iter()
            .filter_map(|&i| {
                let c = market.contract(i);
                subs.by_symbol.contains_key(&c.symbol).then(|| {
                    let seq = self.pushes.fetch_add(1, Ordering::Relaxed);
                    (c.symbol.clone(), wire::ws_push(c, now, seq))
                })
            })
            .collect();
        Self::deliver(&subs, frames);
        self.deliver_deribit(&market, &updated, now);
        let trades = market.take_trades();
        if !trades.is_empty() {
            self.deliver_trades(&market, &subs, &trades, now);
        }
    }

    /// Pushes the market's trades: Bybit's `publicTrade.<BASE>` (one frame per base coin) and
    /// Deribit's `trades.option.<CURRENCY>.100ms` (one notification per currency and channel).
    fn deliver_trades(
        &self,
        market: &Market,
        subs: &Subs,
        trades: &[crate::market::MarketTrade],
        now: i64,
    ) {
        let mut by_base: HashMap<
            &str,
            Vec<(&crate::market::MarketTrade, &crate::market::Contract)>,
        > = HashMap::new();
        for t in trades {
            let c = market.contract(t.contract);
            let base = c.symbol.split('-').next().unwrap_or("");
            by_base.entry(base).or_default().push((t, c));
        }
        let mut frames = Vec::new();
        for (base, list) in &by_base {
            let topic = format!("publicTrade.{base}");
            if subs.by_symbol.contains_key(&topic) {
                frames.push((topic, wire::trade_push(base, list, now)));
            }
        }
        Self::deliver(subs, frames);
        let deribit = lock(&self.deribit);
        if deribit.trades.is_empty() {
            return;
        }
        let mut by_currency: HashMap<&str, Vec<Value>> = HashMap::new();
        for (base, list) in &by_base {
            for (t, c) in list {
                if let Some(name) = crate::deribit::name_of(market, c) {
                    by_currency
                        .entry(crate::deribit::currency_of(base))
                        .or_default()
                        .push(crate::deribit::trade(t, c, &name));
                }
            }
        }
        for (id, channel, currency) in &deribit.trades {
            let items: Vec<Value> = by_currency
                .iter()
                .filter(|(c, _)| currency == "any" || c.eq_ignore_ascii_case(currency))
                .flat_map(|(_, v)| v.iter().cloned())
                .collect();
            if items.is_empty() {
                continue;
            }
            if let Some(conn) = deribit.conns.get(id) {
                let frame = crate::deribit::notification(channel, Value::Array(items));
                if conn.tx.try_send(frame).is_err() {
                    conn.kick.notify_one();
                }
            }
        }
    }

    /// Pushes the contracts at `indices` to their Deribit ticker subscribers, one frame per
    /// channel.
    fn deliver_deribit(&self, market: &Market, indices: &[usize], now: i64) {
        let deribit = lock(&self.deribit);
        if deribit.by_symbol.is_empty() {
            return;
        }
        for &i in indices {
            let c = market.contract(i);
            let Some(list) = deribit.by_symbol.get(&c.symbol) else {
                continue;
            };
            let mut frame: Option<(&str, String)> = None;
            for (id, channel) in list {
                if frame.as_ref().is_none_or(|(ch, _)| ch != channel) {
                    let name = channel
                        .strip_prefix("ticker.")
                        .and_then(|r| r.strip_suffix(".100ms"))
                        .unwrap_or("");
                    let data = crate::deribit::ticker(c, name, now);
                    frame = Some((channel, crate::deribit::notification(channel, data)));
                }
                if let (Some(conn), Some((_, f))) = (deribit.conns.get(id), frame.as_ref()) {
                    if conn.tx.try_send(f.clone()).is_err() {
                        conn.kick.notify_one();
                    }
                }
            }
        }
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
        let (listed, removed) = self.relist(|market| market.maintain(now_ms()));
        if !listed.is_empty() || !removed.is_empty() {
            tracing::info!(
                listed = listed.len(),
                removed = removed.len(),
                "listings changed"
            );
        }
    }

    pub(crate) fn set_value(&self, symbol: &str, field: Field, value: f64) -> Option<Value> {
        let now = now_ms();
        let mut market = lock(&self.market);
        let i = market.set_value(symbol, field, value)?;
        let seq = self.pushes.fetch_add(1, Ordering::Relaxed);
        let frame = wire::ws_push(market.contract(i), now, seq);
        let pushed: Value = serde_json::from_str(&frame).unwrap_or(Value::Null);
        Self::deliver(&lock(&self.subs), vec![(symbol.to_string(), frame)]);
        self.deliver_deribit(&market, &[i], now);
        Some(pushed)
    }

    /// Changes the listings with `change` (which answers the listed and removed Bybit
    /// symbols) and tells Deribit's `instrument.state` subscribers of every instrument created
    /// or settled by it, as Deribit does at 08:00 UTC.
    pub(crate) fn relist(
        &self,
        change: impl FnOnce(&mut Market) -> (Vec<String>, Vec<String>),
    ) -> (Vec<String>, Vec<String>) {
        let now = now_ms();
        let mut market = lock(&self.market);
        let before = crate::deribit::listing(&market);
        let (listed, removed) = change(&mut market);
        if listed.is_empty() && removed.is_empty() {
            return (listed, removed);
        }
        let after = crate::deribit::listing(&market);
        let deribit = lock(&self.deribit);
        let settled = before.keys().filter(|n| !after.contains_key(*n));
        let created = after.keys().filter(|n| !before.contains_key(*n));
        let events = settled
            .map(|n| (n, "settled"))
            .chain(created.map(|n| (n, "created")));
        for (name, state) in events {
            let currency = if name.contains("_USDC") {
                "usdc"
            } else {
                name.split('-').next().unwrap_or("")
            };
            for (id, channel) in &deribit.states {
                let wants = channel.rsplit('.').next().is_some_and(|c| {
                    c.eq_ignore_ascii_case(currency) || c.eq_ignore_ascii_case("any")
                });
                if let (true, Some(conn)) = (wants, deribit.conns.get(id)) {
                    let data = json!({"instrument_name": name, "state": state, "timestamp": now});
                    let _ = conn
                        .tx
                        .try_send(crate::deribit::notification(channel, data));
                }
            }
        }
        (listed, removed)
    }

    pub(crate) fn kick_all(&self) -> usize {
        let subs = lock(&self.subs);
        for c in subs.conns.values() {
            c.kick.notify_one();
        }
        let deribit = lock(&self.deribit);
        for c in deribit.conns.values() {
            c.kick.notify_one();
        }
        subs.conns.len() + deribit.conns.len()
    }

    /// Empties every Deribit session's credits: each hears 10028 and is closed, as Deribit
    /// does when a client spends more than its pool.
    pub(crate) fn spend_all_credits(&self) -> usize {
        let deribit = lock(&self.deribit);
        let us = now_ms() * 1000;
        for c in deribit.conns.values() {
            let _ =
                c.tx.try_send(crate::deribit::error(None, 10_028, "too_many_requests", us));
            self.deribit_credit_closes.fetch_add(1, Ordering::Relaxed);
        }
        // The writer sends what is queued before it sees the kick only if it runs first: give
        // the frames a moment.
        for c in deribit.conns.values() {
            let kick = c.kick.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                kick.notify_one();
            });
        }
        deribit.conns.len()
    }

    pub(crate) fn garbage_all(&self) -> usize {
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

    pub(crate) fn stats(&self) -> Value {
        let market = lock(&self.market);
        let subs = lock(&self.subs);
        let deribit = lock(&self.deribit);
        json!({
            "contracts": market.contracts().len(),
            "assets": market.asset_names(),
            "connections": subs.conns.len(),
            "subscriptions": subs.conns.values().map(|c| c.topics.len()).sum::<usize>(),
            "pushes": self.pushes.load(Ordering::Relaxed),
            "updates": market.updates,
            "paused": self.paused.load(Ordering::Relaxed),
            "updates_per_sec": self.updates_per_sec.load(Ordering::Relaxed),
            "deribit": {
                "connections": deribit.conns.len(),
                "channels": deribit.conns.values().map(|c| c.channels.len()).sum::<usize>(),
                "tests_answered": self.deribit_tests_answered.load(Ordering::Relaxed),
                "credit_closes": self.deribit_credit_closes.load(Ordering::Relaxed),
            },
        })
    }
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
