//! `GET /api/stream`: the seed's stats event every 2 s, plus changed rows per asset from
//! `OPTIONS.CHANGES` (`?assets=BTC,ETH`), resumable with `Last-Event-ID`, and per asset an
//! `analytics` event (`OPTIONS.ANALYTICS`) at most every 2 s, when its chain changed, and a
//! `status` event every 2 s (`status.rs`).
//!
//! One reader per asset is shared by every client watching it; it stops when the last one
//! leaves. It waits in Redis for the next change (`OPTIONS.CHANGES … BLOCK`) on a connection of
//! its own, so a change reaches the clients as soon as it is written: nothing on the live path
//! polls (`--changes-poll-ms` brings the old 100 ms poll back, for comparison). Each change is
//! serialised once and shared by every client. Each client keeps its own cursor per asset, so a
//! resumed client first gets what it missed, then the shared stream.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use options_client::cmd as module;
use options_client::reply::ChangesHead;
use options_client::tape;
use tokio::sync::{broadcast, mpsc};
use warp::hyper::body::Bytes;

use crate::respond::forward;
use crate::state::State;
use crate::stats;

/// How long one blocking read waits before the reader checks that someone still listens.
const BLOCK_MS: u64 = 1000;
/// After a failed read (Redis away), the pause before the next.
const RETRY: Duration = Duration::from_millis(100);
/// A change goes out at once, unless the asset's last one went out less than this ago: then the
/// reader waits out the rest and takes everything written meanwhile as one delta. Under a
/// stream of writes that is at most 100 events a second per asset, each sent to every client
/// (without it, every write was an event: 1,000 clients at 1,000 writes/s meant a million
/// deliveries a second); a quiet asset's change waits for nothing.
const MIN_GAP: Duration = Duration::from_millis(10);
const STATS_EVERY: Duration = Duration::from_secs(2);
/// Changes an asset's poller keeps for receivers that have not read them. Small on purpose: at
/// full rate one change is hundreds of KB, and a receiver that falls further behind is told it
/// lagged and catches up with one `OPTIONS.CHANGES` from its own cursor, so a slow client costs
/// one query, not a queue (the soak measured 150 MB a minute of growth with 256).
const SHARED_CHANGES: usize = 8;
/// Chunks of events (a change is two: its shared lines, then the client's id), and shared
/// changes, queued per client before its reader must catch up.
const CLIENT_QUEUE: usize = 8;

/// One poll's result for one asset, shared by all its clients.
#[derive(Debug)]
pub struct Change {
    pub asset: String,
    /// Sequence before and after this change. After a reset `to` may be below `from`: the key
    /// was recreated or reloaded.
    pub from: u64,
    pub to: u64,
    /// The module answered `reset`: the receiver must replace its chain.
    pub reset: bool,
    /// The event's `event:` and `data:` lines, rendered once and shared by every client (a
    /// `Bytes` clone is a reference count, not a copy); each client adds its own `id:`.
    pub lines: Bytes,
}

/// A tape's new trades: one `trades` event's bytes, shared by every client of the chain.
type TradesEvent = Bytes;

/// Trades events a tape's reader keeps for clients that have not read them (a slow client
/// misses trades rather than holding the reader up; `/api/trades` has them all).
const SHARED_TRADES: usize = 64;

#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Change>>>>,
    tapes: Mutex<HashMap<String, broadcast::Sender<TradesEvent>>>,
    /// `Some`: poll every so often instead of waiting in Redis (`--changes-poll-ms`).
    poll: Option<Duration>,
}

impl Hub {
    /// A hub whose readers wait in Redis for changes, or poll every `poll` when given.
    pub fn new(poll: Option<Duration>) -> Hub {
        Hub {
            channels: Mutex::default(),
            tapes: Mutex::default(),
            poll,
        }
    }

    /// Joins the asset's shared reader, starting it if needed.
    fn subscribe(
        self: &Arc<Self>,
        st: &Arc<State>,
        asset: &str,
        since: u64,
    ) -> broadcast::Receiver<Arc<Change>> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = channels.get(asset) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(SHARED_CHANGES);
        channels.insert(asset.to_string(), tx.clone());
        let (hub, st, asset) = (self.clone(), st.clone(), asset.to_string());
        tokio::spawn(async move {
            let mut seq = since;
            // Its own connection: a read that waits in Redis would hold up a shared one.
            let redis = st.redis.dedicated();
            let mut last_sent: Option<tokio::time::Instant> = None;
            loop {
                match (hub.poll, last_sent) {
                    (Some(every), _) => tokio::time::sleep(every).await,
                    (None, Some(at)) => tokio::time::sleep_until(at + MIN_GAP).await,
                    (None, None) => {}
                }
                if tx.receiver_count() == 0 {
                    break;
                }
                let read = match hub.poll {
                    Some(_) => module::Changes::new(&asset, seq),
                    None => module::Changes::new(&asset, seq).block(BLOCK_MS),
                };
                let bytes = match redis.json(&read).await {
                    Ok(Some(bytes)) => bytes,
                    // Nothing in BLOCK_MS: look whether anyone still listens, and wait again.
                    Ok(None) => continue,
                    Err(_) => {
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                };
                let Some(head) = summarize(&bytes) else {
                    continue;
                };
                let to = head.seq;
                if head.any() {
                    last_sent = Some(tokio::time::Instant::now());
                    let _ = tx.send(Arc::new(Change {
                        asset: asset.clone(),
                        from: seq,
                        to,
                        reset: head.reset,
                        lines: change_lines(&asset, &bytes),
                    }));
                }
                seq = to;
            }
            hub.channels
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&asset);
        });
        rx
    }
}

impl Hub {
    /// Joins the chain's tape reader (`XREAD BLOCK` on `{key}:trades` from the moment it
    /// starts), starting it if needed: each batch of new trades is one `trades` event
    /// `{"asset":<key>,"trades":[…]}`, rendered once for every client.
    fn trades(self: &Arc<Self>, st: &Arc<State>, key: &str) -> broadcast::Receiver<TradesEvent> {
        let mut tapes = self.tapes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = tapes.get(key) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(SHARED_TRADES);
        tapes.insert(key.to_string(), tx.clone());
        let (hub, st, key) = (self.clone(), st.clone(), key.to_string());
        tokio::spawn(async move {
            let redis = st.redis.dedicated();
            let stream = options_core::tape_key(&key);
            // From the newest entry when the reader starts (a `$` cursor repeated after a
            // timeout would skip what came between two reads).
            let mut last: Option<String> = None;
            loop {
                if tx.receiver_count() == 0 {
                    break;
                }
                let after = match &last {
                    Some(id) => id.clone(),
                    None => match tape::newest_id(&redis, &stream).await {
                        Ok(id) => {
                            last = Some(id.clone());
                            id
                        }
                        Err(_) => {
                            tokio::time::sleep(RETRY).await;
                            continue;
                        }
                    },
                };
                let entries = match tape::read_after(&redis, &stream, &after, BLOCK_MS).await {
                    Ok(entries) => entries,
                    Err(_) => {
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                };
                let Some((id, _)) = entries.last() else {
                    continue;
                };
                last = Some(id.clone());
                let trades: Vec<serde_json::Value> = entries
                    .into_iter()
                    .map(|(id, fields)| crate::flow::trade_json(id, fields))
                    .collect();
                let data = serde_json::json!({"asset": key, "trades": trades}).to_string();
                let _ = tx.send(event(Some("trades"), &data));
            }
            hub.tapes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        });
        rx
    }
}

/// The new sequence, the reset flag and the counts, read without building the rows.
fn summarize(bytes: &[u8]) -> Option<ChangesHead> {
    serde_json::from_slice(bytes).ok()
}

/// `BTC:12,deribit:ETH:40` ↔ per-chain cursors.
pub fn parse_cursor(id: &str) -> BTreeMap<String, u64> {
    id.split(',')
        .filter_map(|p| {
            let (k, s) = p.rsplit_once(':')?;
            Some((crate::params::chain_key(k)?, s.trim().parse().ok()?))
        })
        .collect()
}

fn format_cursor(c: &BTreeMap<String, u64>) -> String {
    c.iter()
        .map(|(a, s)| format!("{a}:{s}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A `changes` event's `event:` and `data:` lines: `{"asset","changes":<the module's reply>}`.
/// JSON holds no raw line break, so the data is one line.
fn change_lines(asset: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + asset.len() + 48);
    out.extend_from_slice(b"event:changes\ndata:{\"asset\":\"");
    out.extend_from_slice(asset.as_bytes());
    out.extend_from_slice(b"\",\"changes\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// The client's `id:` line (its cursors), which ends an event.
fn id_line(cursors: &BTreeMap<String, u64>) -> Bytes {
    Bytes::from(format!("id:{}\n\n", format_cursor(cursors)))
}

/// A whole event of one line of data, named unless `name` is `None` (the seed's stats event).
fn event(name: Option<&str>, data: &str) -> Bytes {
    let named = name.map(|n| format!("event:{n}\n")).unwrap_or_default();
    Bytes::from(format!("{named}data:{data}\n\n"))
}

/// The event stream for one client, as chunks of `text/event-stream`.
pub fn stream(
    st: Arc<State>,
    hub: Arc<Hub>,
    assets: Vec<String>,
    last_event_id: Option<String>,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let (tx, rx) = mpsc::channel::<Bytes>(CLIENT_QUEUE);
    tokio::spawn(async move {
        let mut cursors: BTreeMap<String, u64> = assets.iter().map(|a| (a.clone(), 0)).collect();
        if let Some(id) = last_event_id {
            for (a, s) in parse_cursor(&id) {
                if let Some(c) = cursors.get_mut(&a) {
                    *c = s;
                }
            }
        }
        // Catch up each asset from the client's cursor, then follow the shared poller. A poller
        // this client starts begins at the cursor the catch-up reached, so that a chain deleted
        // in between still reaches this client as a reset (from any other cursor the poller
        // would see "nothing since"); one already running may be behind or ahead, which the
        // loop below reconciles, starting with one catch-up for the moment in between.
        let mut feeds = Vec::new();
        for a in &assets {
            let since = cursors[a];
            if let Ok(bytes) = forward(&st, &module::Changes::new(a, since)).await {
                if let Some(head) = summarize(&bytes) {
                    cursors.insert(a.clone(), head.seq);
                    if head.any()
                        && (tx.send(change_lines(a, &bytes)).await.is_err()
                            || tx.send(id_line(&cursors)).await.is_err())
                    {
                        return;
                    }
                }
            }
            feeds.push(hub.subscribe(&st, a, cursors[a]));
        }
        let (merged_tx, mut merged) = mpsc::channel::<Arc<Change>>(CLIENT_QUEUE);
        for (asset, mut rx) in assets.iter().cloned().zip(feeds) {
            let merged_tx = merged_tx.clone();
            tokio::spawn(async move {
                // A change from nowhere makes the client catch up from its own cursor at once,
                // in one event: first for what changed between its catch-up and joining the
                // poller, then whenever changes were dropped for it.
                let from_nowhere = || {
                    Arc::new(Change {
                        asset: asset.clone(),
                        from: u64::MAX,
                        to: u64::MAX,
                        reset: false,
                        lines: Bytes::new(),
                    })
                };
                if merged_tx.send(from_nowhere()).await.is_err() {
                    return;
                }
                loop {
                    let c = match rx.recv().await {
                        Ok(c) => c,
                        Err(broadcast::error::RecvError::Lagged(_)) => from_nowhere(),
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if merged_tx.send(c).await.is_err() {
                        return;
                    }
                }
            });
        }
        drop(merged_tx);
        // Trades as they happen, every followed chain's into one queue.
        let (trades_tx, mut trades) = mpsc::channel::<TradesEvent>(CLIENT_QUEUE);
        for a in &assets {
            let mut rx = hub.trades(&st, a);
            let trades_tx = trades_tx.clone();
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(e) => {
                            if trades_tx.send(e).await.is_err() {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
        }
        drop(trades_tx);
        let mut stats_tick = tokio::time::interval(STATS_EVERY);
        // The chain sequence each asset's last analytics event was computed at.
        let mut analytics_at: BTreeMap<String, u64> = BTreeMap::new();
        loop {
            tokio::select! {
                _ = stats_tick.tick() => {
                    let text = match stats::stats(&st).await {
                        Ok(s) => s.sse_text(),
                        // The seed sent nothing useful here; a client should learn why.
                        Err(e) => serde_json::json!({"error": e.to_string()}).to_string(),
                    };
                    if tx.send(event(None, &text)).await.is_err() {
                        return;
                    }
                    // A client following assets also learns why data may be old (the feeder's
                    // heartbeat, each asset's last write) and, by these arriving at all, that
                    // this server is alive.
                    if !assets.is_empty() {
                        let status = match crate::status::of(&st, &assets).await {
                            Ok(v) => v,
                            Err(e) => serde_json::json!({"server_ms": crate::now_ms(), "error": e.to_string()}),
                        };
                        if tx.send(event(Some("status"), &status.to_string())).await.is_err() {
                            return;
                        }
                    }
                    for a in &assets {
                        let seq = cursors.get(a).copied().unwrap_or(0);
                        if analytics_at.get(a) == Some(&seq) {
                            continue;
                        }
                        let cmd = crate::analytics::AnalyticsQuery::default().command(a);
                        let Ok(bytes) = forward(&st, &cmd).await else { continue };
                        analytics_at.insert(a.clone(), seq);
                        let data = format!(
                            "{{\"asset\":\"{a}\",\"analytics\":{}}}",
                            String::from_utf8_lossy(&bytes)
                        );
                        if tx.send(event(Some("analytics"), &data)).await.is_err() {
                            return;
                        }
                    }
                }
                Some(e) = trades.recv() => {
                    if tx.send(e).await.is_err() {
                        return;
                    }
                }
                Some(change) = merged.recv() => {
                    let cur = cursors.get(&change.asset).copied().unwrap_or(0);
                    // Already covered by this client's catch-up. Never a reset: its sequence
                    // may be below the cursor because it starts a new history.
                    if !change.reset && change.from != cur && change.to <= cur {
                        continue;
                    }
                    if change.from != cur {
                        // The shared poller started from another cursor, or this client lagged:
                        // ask for exactly ours (the module answers a reset where ours is unknown).
                        let changes = module::Changes::new(&change.asset, cur);
                        let Ok(bytes) = forward(&st, &changes).await else { continue };
                        let Some(head) = summarize(&bytes) else { continue };
                        cursors.insert(change.asset.clone(), head.seq);
                        if !head.any() {
                            continue;
                        }
                        if tx.send(change_lines(&change.asset, &bytes)).await.is_err()
                            || tx.send(id_line(&cursors)).await.is_err()
                        {
                            return;
                        }
                        continue;
                    }
                    cursors.insert(change.asset.clone(), change.to);
                    if tx.send(change.lines.clone()).await.is_err()
                        || tx.send(id_line(&cursors)).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    // Whatever is queued goes out in one write: under load, when events come faster than a
    // client's socket takes them, one system call carries several (a lone event is not copied).
    futures_util::stream::unfold(rx, |mut rx| async move {
        let mut queued = Vec::with_capacity(CLIENT_QUEUE);
        if rx.recv_many(&mut queued, CLIENT_QUEUE).await == 0 {
            return None;
        }
        let chunk = if queued.len() == 1 {
            queued.pop().unwrap_or_default()
        } else {
            Bytes::from(queued.concat())
        };
        Some((Ok(chunk), rx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = parse_cursor("BTC:12, eth:40,bad,SOL:x");
        assert_eq!(c.len(), 2);
        assert_eq!(format_cursor(&c), "BTC:12,ETH:40");
        let quiet = summarize(br#"{"seq":5,"reset":false,"data":[],"removed":[]}"#).unwrap();
        assert_eq!((quiet.seq, quiet.any()), (5, false));
        let moved = summarize(br#"{"seq":6,"reset":false,"data":[{}],"removed":[]}"#).unwrap();
        assert_eq!((moved.seq, moved.any()), (6, true));
        let reset = summarize(br#"{"seq":2,"reset":true,"data":[],"removed":[]}"#).unwrap();
        assert!(reset.reset && reset.any());
    }
}
