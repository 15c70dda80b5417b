//! `GET /api/stream`: the seed's stats event every 2 s, plus changed rows per asset from
//! `OPTIONS.CHANGES` (`?assets=BTC,ETH`), resumable with `Last-Event-ID`, and per asset an
//! `analytics` event (`OPTIONS.ANALYTICS`) at most every 2 s, when its chain changed, and a
//! `status` event every 2 s (`status.rs`).
//!
//! One reader per asset is shared by the clients watching it (a large audience by a few,
//! each serving a group at staggered moments: `GROUPS`); it stops when the last one leaves.
//! It waits in Redis for the next change (`OPTIONS.CHANGES … BLOCK`) on a connection of its
//! own, so a change reaches the clients as soon as it is written: nothing on the live path
//! polls (`--changes-poll-ms` brings the old 100 ms poll back, for comparison). Each change is
//! serialised once and shared by every client (for a client of one asset, the dashboard's case,
//! with its `id:` line too). Each client keeps its own cursor per asset, so a resumed client
//! first gets what it missed, then the shared stream.
//!
//! A client's events are made by its response body as hyper asks for them (`Client`), so a
//! change goes from the reader to the socket with one wake-up. A client that takes gzip gets
//! each event deflated on its own and flushed (`event_gzip`): shared events are compressed once
//! for all such clients. The figures sent every 2 s are computed once for all clients (`Memo`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;

use options_client::cmd as module;
use options_client::reply::ChangesHead;
use options_client::tape;
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamMap;
use warp::hyper::body::Bytes;

use crate::event_gzip::{self, Shared};
use crate::respond::forward;
use crate::state::State;
use crate::stats;

/// How long one blocking read waits before the reader checks that someone still listens.
const BLOCK_MS: u64 = 1000;
/// After a failed read (Redis away), the pause before the next.
const RETRY: Duration = Duration::from_millis(100);
/// A change goes out at once, unless the reader's last one went out less than this ago: then
/// the reader waits out the rest and takes everything written meanwhile as one delta. Under a
/// stream of writes that is at most 100 events a second per client and asset (without it,
/// every write was an event: 1,000 clients at 1,000 writes/s meant a million deliveries a
/// second); a quiet asset's change waits for nothing. An audience of more than 800 clients
/// waits longer (`merge_gap`).
const MIN_GAP: Duration = Duration::from_millis(10);
const STATS_EVERY: Duration = Duration::from_secs(2);
/// Changes an asset's reader keeps for clients that have not taken them yet: the one buffer a
/// client has between the reader and its socket (hyper holds a few chunks more), shared by all
/// of them. A client that falls further behind is told it lagged and catches up with one
/// `OPTIONS.CHANGES` from its own cursor, so a slow client costs one query, not a queue. At full
/// rate a change is some tens of KB (10 ms of an asset's writes), so 32 are about 300 ms of
/// slack for a few MB per asset (the soak measured 150 MB a minute of growth with 256 in the
/// days of 100 ms polls, when each change was ten times larger).
const SHARED_CHANGES: usize = 32;

/// One poll's result for one asset, shared by all its clients.
#[derive(Debug)]
pub struct Change {
    /// Sequence before and after this change. After a reset `to` may be below `from`: the key
    /// was recreated or reloaded.
    pub from: u64,
    pub to: u64,
    /// The module answered `reset`: the receiver must replace its chain.
    pub reset: bool,
    /// The event's `event:` and `data:` lines, rendered once and shared by every client (a
    /// `Bytes` clone is a reference count, not a copy), deflated once for those that take
    /// gzip; a client of several assets adds its own `id:`.
    pub lines: Shared,
    /// The whole event for a client of this asset alone: the same lines, then `id:` with the
    /// asset's new sequence, which is that client's whole cursor. The dashboard opens one
    /// stream per asset, so most clients send this one shared chunk per change and format no
    /// `id:` of their own. `lines` is a slice of it: no copy.
    pub whole: Shared,
}

impl Change {
    fn new(asset: &str, from: u64, to: u64, reset: bool, reply: &[u8]) -> Change {
        let mut bytes = change_lines(asset, reply);
        let lines = bytes.len();
        // The `id:` a client following this asset alone says, as `id_line` makes it (once per
        // change, not per client).
        bytes.extend_from_slice(&id_line(&BTreeMap::from([(asset.to_string(), to)])));
        let whole = Bytes::from(bytes);
        Change {
            from,
            to,
            reset,
            lines: Shared::new(whole.slice(..lines)),
            whole: Shared::new(whole),
        }
    }
}

/// The changes a reader sends its clients.
type ChangeFeed = broadcast::Sender<Arc<Change>>;

/// A tape's new trades: one `trades` event's bytes, shared by every client of the chain.
type TradesEvent = Arc<Shared>;

/// Trades events a tape's reader keeps for clients that have not read them (a slow client
/// misses trades rather than holding the reader up; `/api/trades` has them all).
const SHARED_TRADES: usize = 64;

#[derive(Default)]
pub struct Hub {
    /// Each (asset, group)'s reader (`GROUPS`).
    channels: Mutex<HashMap<(String, usize), ChangeFeed>>,
    tapes: Mutex<HashMap<String, broadcast::Sender<TradesEvent>>>,
    /// The seed's stats event.
    stats: Memo<Arc<Shared>>,
    /// Each chain's `analytics` event (none when the chain has no figures).
    analytics: Memo<Option<Arc<Shared>>>,
    /// The feeder's heartbeat (name "") and each chain's status.
    status: Memo<Result<serde_json::Value, String>>,
    /// `Some`: poll every so often instead of waiting in Redis (`--changes-poll-ms`).
    poll: Option<Duration>,
}

impl Hub {
    /// A hub whose readers wait in Redis for changes, or poll every `poll` when given.
    pub fn new(poll: Option<Duration>) -> Hub {
        Hub {
            poll,
            ..Hub::default()
        }
    }

    /// Joins a shared reader of the asset, starting it if needed: the group with the fewest
    /// clients among those the asset's audience fills (`audience_groups`).
    fn subscribe(
        self: &Arc<Self>,
        st: &Arc<State>,
        asset: &str,
        since: u64,
    ) -> broadcast::Receiver<Arc<Change>> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = (asset.to_string(), 0);
        let counts = group_counts(&channels, &mut key);
        key.1 = least_filled(&counts[..audience_groups(counts.iter().sum())]);
        let group = key.1;
        if let Some(tx) = channels.get(&key) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(SHARED_CHANGES);
        channels.insert(key.clone(), tx.clone());
        let (hub, st) = (self.clone(), st.clone());
        tokio::spawn(async move {
            let asset = &key.0;
            let mut seq = since;
            // Its own connection: a read that waits in Redis would hold up a shared one.
            let redis = st.redis.dedicated();
            // The asset's other groups are looked up with this key (`audience`).
            let mut other = key.clone();
            let mut next_read: Option<tokio::time::Instant> = None;
            let mut last_sent: Option<tokio::time::Instant> = None;
            loop {
                match (hub.poll, next_read) {
                    (Some(every), _) => tokio::time::sleep(every).await,
                    (None, Some(at)) => tokio::time::sleep_until(at).await,
                    (None, None) => {}
                }
                if retire(&hub.channels, &key, &tx) {
                    break;
                }
                let read = match hub.poll {
                    Some(_) => module::Changes::new(asset, seq),
                    None => module::Changes::new(asset, seq).block(BLOCK_MS),
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
                    let now = tokio::time::Instant::now();
                    let gap = merge_gap(hub.audience(&mut other));
                    next_read = Some(now + gap_after(group, last_sent.map(|at| now - at), gap));
                    last_sent = Some(now);
                    let _ = tx.send(Arc::new(Change::new(asset, seq, to, head.reset, &bytes)));
                }
                seq = to;
            }
        });
        rx
    }
}

impl Hub {
    /// How many clients follow the asset of `key` (its group is overwritten), over its groups.
    fn audience(&self, key: &mut (String, usize)) -> usize {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        group_counts(&channels, key).iter().sum()
    }
}

/// The clients of each of the asset's groups (`key`'s group is overwritten: one key, not a
/// `String` per group looked up).
fn group_counts(
    channels: &HashMap<(String, usize), ChangeFeed>,
    key: &mut (String, usize),
) -> [usize; GROUPS] {
    std::array::from_fn(|g| {
        key.1 = g;
        channels.get(key).map_or(0, |tx| tx.receiver_count())
    })
}

/// The most groups an asset's clients are split into, and how many clients fill one before
/// the next is opened. Every client of a group gets each of its changes at the same moment;
/// at 1,000 clients that one moment was some 8 ms of writes to sockets (and as much of the
/// clients' reading), so the client served last waited that long on top of the merge gap.
/// Groups take their changes at staggered moments (`gap_after`), each from its own reader, so
/// the same deliveries come as eight small waves in every gap instead of one large one. A
/// group costs one `OPTIONS.CHANGES` per gap: an audience of a few dozen clients, at full
/// rate the common case, stays one group and costs Redis what it did.
const GROUPS: usize = 8;
const CLIENTS_PER_GROUP: usize = 128;

/// How many groups an audience of `clients` fills.
fn audience_groups(clients: usize) -> usize {
    (clients / CLIENTS_PER_GROUP + 1).min(GROUPS)
}

/// The first group of the fewest clients.
fn least_filled(counts: &[usize]) -> usize {
    (0..counts.len()).min_by_key(|&g| counts[g]).unwrap_or(0)
}

/// Deliveries a second an asset's readers aim to stay under in a stream of writes: each is
/// some 9 µs of this server's CPU (and as much of a client's). Up to 800 clients the merge gap
/// is `MIN_GAP` and this is not reached; past that the gap grows with the audience
/// (`merge_gap`): 1,000 clients get an event at most every 12.5 ms. At 1,000 clients and
/// 1,000 writes/s, side by side in four rounds of 3 × 10 s, 10 ms had p99 15–21 ms (median
/// 17.4), p99.9 18–30 (25.6) and the server at 77–88 % of a core; 12.5 ms had p99 17–25
/// (17.1), p99.9 19–32 (21.0) at 67–92 % (median 71): the same p99, a shorter tail past it,
/// less work. 15.6 ms (64,000 a second) held p99 at 19 ms, the gap itself by then most of it.
const DELIVERIES_PER_SEC: u32 = 80_000;

/// The merge gap for an asset followed by `audience` clients: `MIN_GAP`, or longer once every
/// client getting an event each `MIN_GAP` would pass `DELIVERIES_PER_SEC`. A client then gets
/// fewer events, each carrying more changes, and the one it waits for comes sooner than it
/// would from behind a queue.
fn merge_gap(audience: usize) -> Duration {
    let audience = u32::try_from(audience).unwrap_or(u32::MAX);
    MIN_GAP.max(Duration::from_secs(1) * audience / DELIVERIES_PER_SEC)
}

/// How long a group's reader waits, after sending a change, before it reads again. In a
/// stream of writes, `gap` (`merge_gap`). After a quiet moment (nothing sent for two gaps)
/// every group has just sent the same first write at once; group `g` then waits `gap ×
/// (GROUPS − g) / GROUPS`, so while the stream lasts the groups read, and their clients
/// receive, a fraction of a gap apart. Group 0, an asset's only group until its audience passes
/// `CLIENTS_PER_GROUP`, always waits the whole gap.
fn gap_after(group: usize, since_last: Option<Duration>, gap: Duration) -> Duration {
    let quiet = since_last.is_none_or(|d| d > 2 * gap);
    if quiet {
        gap * (GROUPS - group.min(GROUPS - 1)) as u32 / GROUPS as u32
    } else {
        gap
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
                if retire(&hub.tapes, &key, &tx) {
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
                let _ = tx.send(Arc::new(Shared::new(event(Some("trades"), &data))));
            }
        });
        rx
    }
}

/// Whether a reader's last client has left; if so its feed leaves the hub. The count is read
/// under the hub's lock, which a client joining holds too: read outside it, a client could
/// join between the check and the removal and be left with a feed no reader sends on.
fn retire<K: Eq + std::hash::Hash, T>(
    feeds: &Mutex<HashMap<K, broadcast::Sender<T>>>,
    key: &K,
    tx: &broadcast::Sender<T>,
) -> bool {
    let mut feeds = feeds.lock().unwrap_or_else(|p| p.into_inner());
    let unheard = tx.receiver_count() == 0;
    if unheard {
        feeds.remove(key);
    }
    unheard
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
/// JSON holds no raw line break, so the data is one line. Room is left for an `id:` line.
fn change_lines(asset: &str, json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 2 * asset.len() + 80);
    out.extend_from_slice(b"event:changes\ndata:{\"asset\":\"");
    out.extend_from_slice(asset.as_bytes());
    out.extend_from_slice(b"\",\"changes\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    out
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

/// One client's side of the stream: its cursors and the shared feeds it follows. It is the
/// response body itself: each event is produced when hyper asks the body for its next chunk,
/// so a change travels from the asset's reader to the socket with one wake-up (this task's),
/// not through a task and a queue per client.
struct Client {
    st: Arc<State>,
    hub: Arc<Hub>,
    /// Shared, so the event loop can hold an asset's name without copying it.
    assets: Arc<[String]>,
    cursors: BTreeMap<String, u64>,
    /// The cursors as the `id:` line says them; empty when a cursor moved since it was made,
    /// and made again only when an event needs it.
    id: Bytes,
    /// The followed assets' feeds by asset index. A `StreamMap` polls its few streams in
    /// place; `SelectAll` allocated a task node for every item it yielded, which at 1,000
    /// clients was an allocation and a free per client per change.
    changes: StreamMap<usize, BroadcastStream<Arc<Change>>>,
    trades: StreamMap<usize, BroadcastStream<TradesEvent>>,
    stats_tick: tokio::time::Interval,
    /// The chain sequence each asset's last analytics event was computed at.
    analytics_at: BTreeMap<String, u64>,
    /// Chunks ready to go, in order.
    out: VecDeque<Bytes>,
    joined: bool,
    /// The client takes gzip: the stream is deflate blocks after a gzip header.
    gzip: bool,
}

/// The event stream for one client, as chunks of `text/event-stream`.
pub fn stream(
    st: Arc<State>,
    hub: Arc<Hub>,
    assets: Vec<String>,
    last_event_id: Option<String>,
    gzip: bool,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let mut cursors: BTreeMap<String, u64> = assets.iter().map(|a| (a.clone(), 0)).collect();
    if let Some(id) = last_event_id {
        for (a, s) in parse_cursor(&id) {
            if let Some(c) = cursors.get_mut(&a) {
                *c = s;
            }
        }
    }
    let client = Client {
        st,
        hub,
        assets: assets.into(),
        cursors,
        id: Bytes::new(),
        changes: StreamMap::new(),
        trades: StreamMap::new(),
        stats_tick: {
            // A client that stalled gets one stats event when it resumes, not a burst.
            let mut tick = tokio::time::interval(STATS_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick
        },
        analytics_at: BTreeMap::new(),
        out: if gzip {
            VecDeque::from([Bytes::from_static(&event_gzip::HEADER)])
        } else {
            VecDeque::new()
        },
        joined: false,
        gzip,
    };
    // warp wants a `Sync` body; the stream is only ever polled through `&mut`, which is what
    // `SyncStream` relies on. The client is boxed: `unfold` moves its state into each chunk's
    // future and back out, and a pointer moves for less than the struct.
    sync_wrapper::SyncStream::new(futures_util::stream::unfold(
        Box::new(client),
        |mut c| async move {
            loop {
                if let Some(chunk) = c.out.pop_front() {
                    return Some((Ok(chunk), c));
                }
                let more = if c.joined {
                    c.next_events().await
                } else {
                    c.join().await
                };
                if !more {
                    return None;
                }
            }
        },
    ))
}

impl Client {
    /// Catches each asset up from the client's cursor, then joins the shared readers. A reader
    /// this client starts begins at the cursor the catch-up reached, so that a chain deleted in
    /// between still reaches this client as a reset (from any other cursor the reader would see
    /// "nothing since"); one already running may be behind or ahead, which `deliver`
    /// reconciles, starting with one catch-up for the moment in between.
    async fn join(&mut self) -> bool {
        for i in 0..self.assets.len() {
            let a = self.assets[i].clone();
            let since = self.cursors[&a];
            if let Ok(bytes) = forward(&self.st, &module::Changes::new(&a, since)).await {
                if let Some(head) = summarize(&bytes) {
                    self.moved(&a, head.seq);
                    if head.any() {
                        self.push_change(self.own(change_lines(&a, &bytes).into()));
                    }
                }
            }
            let feed = BroadcastStream::new(self.hub.subscribe(&self.st, &a, self.cursors[&a]));
            self.changes.insert(i, feed);
            self.trades
                .insert(i, BroadcastStream::new(self.hub.trades(&self.st, &a)));
        }
        self.joined = true;
        for a in self.assets.clone().iter() {
            self.catch_up(a).await;
        }
        true
    }

    /// Waits for the next thing to send and queues it; false when the stream is over.
    async fn next_events(&mut self) -> bool {
        tokio::select! {
            _ = self.stats_tick.tick() => self.periodic().await,
            Some((_, e)) = self.trades.next() => {
                // A lagging client misses trades rather than holding the reader up;
                // `/api/trades` has them all.
                if let Ok(e) = e {
                    self.push_shared(&e);
                }
            }
            Some((i, change)) = self.changes.next() => {
                let assets = self.assets.clone();
                let asset = &assets[i];
                match change {
                    Ok(c) => self.deliver(asset, &c).await,
                    // Changes were dropped for this client: catch up from its own cursor.
                    Err(BroadcastStreamRecvError::Lagged(_)) => self.catch_up(asset).await,
                }
            }
            else => return false,
        }
        true
    }

    /// A shared change, sent as it is when it starts at this client's cursor.
    async fn deliver(&mut self, asset: &str, change: &Change) {
        let cur = self.cursors.get(asset).copied().unwrap_or(0);
        // Already covered by this client's catch-up. Never a reset: its sequence may be below
        // the cursor because it starts a new history.
        if !change.reset && change.from != cur && change.to <= cur {
            return;
        }
        if change.from != cur {
            // The shared reader started from another cursor: ask for exactly ours.
            self.catch_up(asset).await;
            return;
        }
        self.moved(asset, change.to);
        if self.assets.len() == 1 {
            // Its `id:` is this one asset's new sequence: the shared whole event says it.
            self.out.push_back(change.whole.get(self.gzip));
        } else {
            let lines = change.lines.get(self.gzip);
            self.push_change(lines);
        }
    }

    /// What changed since this client's cursor, in one event (the module answers a reset
    /// where the cursor is unknown).
    async fn catch_up(&mut self, asset: &str) {
        let cur = self.cursors.get(asset).copied().unwrap_or(0);
        let Ok(bytes) = forward(&self.st, &module::Changes::new(asset, cur)).await else {
            return;
        };
        let Some(head) = summarize(&bytes) else {
            return;
        };
        self.moved(asset, head.seq);
        if head.any() {
            self.push_change(self.own(change_lines(asset, &bytes).into()));
        }
    }

    /// The asset's cursor is now `seq`; the `id:` line is made again when an event next needs
    /// it (a client of one asset never needs it on the hot path: the shared event says it).
    fn moved(&mut self, asset: &str, seq: u64) {
        let changed = match self.cursors.get_mut(asset) {
            Some(cur) => std::mem::replace(cur, seq) != seq,
            None => self.cursors.insert(asset.to_string(), seq).is_none(),
        };
        if changed {
            self.id = Bytes::new();
        }
    }

    /// A change's lines (as this client takes them), then this client's `id:` line, which
    /// ends the event.
    fn push_change(&mut self, lines: Bytes) {
        if self.id.is_empty() {
            self.id = self.own(id_line(&self.cursors));
        }
        self.out.push_back(lines);
        self.out.push_back(self.id.clone());
    }

    /// Bytes made for this client alone, as it takes them.
    fn own(&self, plain: Bytes) -> Bytes {
        if self.gzip {
            event_gzip::block(&plain)
        } else {
            plain
        }
    }

    fn push_shared(&mut self, event: &Shared) {
        self.out.push_back(event.get(self.gzip));
    }

    /// Every 2 s: the seed's stats event; for a client following assets, a `status` event
    /// (the feeder's heartbeat, each asset's last write: why data may be old, and by arriving
    /// at all, that this server is alive) and each changed chain's `analytics`. Each figure is
    /// computed once for every client that asks within `FRESH` (clients' ticks fall together:
    /// 50 clients of four chains asked Redis for 200 ANALYTICS at once every 2 s, a pause in
    /// which every change waited).
    async fn periodic(&mut self) {
        let (hub, st) = (self.hub.clone(), self.st.clone());
        let stats = hub
            .stats
            .get("", || async {
                let text = match stats::stats(&st).await {
                    Ok(s) => s.sse_text(),
                    // The seed sent nothing useful here; a client should learn why.
                    Err(e) => serde_json::json!({"error": e.to_string()}).to_string(),
                };
                Arc::new(Shared::new(event(None, &text)))
            })
            .await;
        self.push_shared(&stats);
        if self.assets.is_empty() {
            return;
        }
        let status = status(&hub, &st, &self.assets).await;
        let status = self.own(event(Some("status"), &status.to_string()));
        self.out.push_back(status);
        for a in self.assets.iter() {
            let seq = self.cursors.get(a).copied().unwrap_or(0);
            if self.analytics_at.get(a) == Some(&seq) {
                continue;
            }
            let analytics = hub
                .analytics
                .get(a, || async {
                    let cmd = crate::analytics::AnalyticsQuery::default().command(a);
                    let bytes = forward(&st, &cmd).await.ok()?;
                    let data = format!(
                        "{{\"asset\":\"{a}\",\"analytics\":{}}}",
                        String::from_utf8_lossy(&bytes)
                    );
                    Some(Arc::new(Shared::new(event(Some("analytics"), &data))))
                })
                .await;
            if let Some(e) = analytics {
                self.analytics_at.insert(a.clone(), seq);
                self.out.push_back(e.get(self.gzip));
            }
        }
    }
}

/// The `status` document of a client's chains, from parts shared by every client and the
/// server's clock now.
async fn status(hub: &Hub, st: &State, assets: &[String]) -> serde_json::Value {
    let fail = |e: String| serde_json::json!({"server_ms": crate::now_ms(), "error": e});
    let feeder = hub
        .status
        .get("", || async {
            crate::status::feeder(st).await.map_err(|e| e.to_string())
        })
        .await;
    let feeder = match feeder {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let mut per_asset = serde_json::Map::new();
    for a in assets {
        let asset = hub
            .status
            .get(a, || async {
                crate::status::asset(st, a).await.map_err(|e| e.to_string())
            })
            .await;
        match asset {
            Ok(v) => per_asset.insert(a.clone(), v),
            Err(e) => return fail(e),
        };
    }
    crate::status::compose(feeder, per_asset)
}

/// How long a periodic figure computed for one client serves the others: under the 2 s tick,
/// so each client still gets a figure of this tick, not the last.
const FRESH: Duration = Duration::from_secs(1);

/// Figures by name, each computed by the first client that asks and shared by those that ask
/// within [`FRESH`]; the others wait for the first's answer rather than asking Redis too.
struct Memo<T> {
    slots: Mutex<HashMap<String, Arc<MemoSlot<T>>>>,
}

/// One figure: when it was computed, and its value; locked while it is computed.
type MemoSlot<T> = tokio::sync::Mutex<Option<(tokio::time::Instant, T)>>;

impl<T> Default for Memo<T> {
    fn default() -> Memo<T> {
        Memo {
            slots: Mutex::default(),
        }
    }
}

impl<T: Clone> Memo<T> {
    async fn get<F, Fut>(&self, name: &str, compute: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            // Names are the followed chains', a bounded set; forget the stale ones now and
            // then all the same.
            if slots.len() > 1024 {
                slots.retain(|_, s| {
                    s.try_lock().map_or(true, |v| {
                        v.as_ref().is_some_and(|(at, _)| at.elapsed() < FRESH)
                    })
                });
            }
            slots.entry(name.to_string()).or_default().clone()
        };
        let mut held = slot.lock().await;
        if let Some((at, value)) = held.as_ref() {
            if at.elapsed() < FRESH {
                return value.clone();
            }
        }
        let value = compute().await;
        *held = Some((tokio::time::Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audience_opens_a_group_per_hundred_and_twenty_eight_clients_up_to_eight() {
        assert_eq!(audience_groups(0), 1);
        assert_eq!(audience_groups(127), 1);
        assert_eq!(audience_groups(128), 2);
        assert_eq!(audience_groups(300), 3);
        assert_eq!(audience_groups(1000), 8);
        assert_eq!(audience_groups(100_000), GROUPS);
        // A new client joins the first of the open groups with the fewest clients.
        assert_eq!(least_filled(&[128]), 0);
        assert_eq!(least_filled(&[128, 5, 3, 3]), 2);
        // 1,000 clients joining one by one fill the groups in turn.
        let mut counts = [0usize; GROUPS];
        for _ in 0..1000 {
            let open = audience_groups(counts.iter().sum());
            counts[least_filled(&counts[..open])] += 1;
        }
        assert_eq!(counts, [128, 128, 128, 128, 128, 128, 128, 104]);
    }

    #[test]
    fn groups_wait_a_whole_gap_in_a_stream_and_stagger_after_a_quiet_moment() {
        for gap in [MIN_GAP, Duration::from_micros(12_500)] {
            let streaming = Some(gap + Duration::from_millis(1));
            for g in 0..GROUPS {
                assert_eq!(gap_after(g, streaming, gap), gap);
            }
            // The only group of a small audience never sends sooner than a gap after the last.
            assert_eq!(gap_after(0, None, gap), gap);
            assert_eq!(gap_after(0, Some(gap * 5), gap), gap);
            // After a quiet moment the groups' next reads are spread over one gap, all distinct.
            let next: Vec<Duration> = (0..GROUPS).map(|g| gap_after(g, None, gap)).collect();
            assert!(next.windows(2).all(|w| w[0] > w[1]), "{next:?}");
            assert_eq!(next[GROUPS - 1], gap / GROUPS as u32);
        }
    }

    #[test]
    fn the_merge_gap_grows_with_an_audience_past_what_ten_ms_can_serve() {
        // 80,000 deliveries a second: 800 clients at one event per 10 ms.
        assert_eq!(merge_gap(0), Duration::from_millis(10));
        assert_eq!(merge_gap(50), Duration::from_millis(10));
        assert_eq!(merge_gap(800), Duration::from_millis(10));
        assert_eq!(merge_gap(1000), Duration::from_micros(12_500));
        assert_eq!(merge_gap(8000), Duration::from_millis(100));
        // Never zero or wrapped, however many clients a count reports.
        assert!(merge_gap(usize::MAX) >= Duration::from_secs(60));
    }

    #[test]
    fn a_feed_leaves_the_hub_only_when_no_client_holds_it() {
        let feeds = Mutex::new(HashMap::new());
        let (tx, rx) = broadcast::channel::<u8>(1);
        feeds.lock().unwrap().insert("BTC", tx.clone());
        assert!(!retire(&feeds, &"BTC", &tx));
        assert!(feeds.lock().unwrap().contains_key("BTC"));
        drop(rx);
        assert!(retire(&feeds, &"BTC", &tx));
        assert!(feeds.lock().unwrap().is_empty());
    }

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

    #[test]
    fn a_change_is_its_lines_and_for_a_one_asset_client_the_id_of_its_cursor() {
        let reply = br#"{"seq":7,"reset":false,"data":[{"symbol":"X"}],"removed":[]}"#;
        let c = Change::new("deribit:ETH", 5, 7, false, reply);
        let lines = c.lines.get(false);
        let whole = c.whole.get(false);
        let mut data = b"event:changes\ndata:{\"asset\":\"deribit:ETH\",\"changes\":".to_vec();
        data.extend_from_slice(reply);
        data.extend_from_slice(b"}\n");
        assert_eq!(&lines[..], &data[..]);
        // The `id:` a client of deribit:ETH alone would say for its cursors.
        let cursors = BTreeMap::from([("deribit:ETH".to_string(), 7)]);
        assert_eq!(&whole[lines.len()..], &id_line(&cursors)[..]);
        assert_eq!(&whole[..lines.len()], &lines[..]);
    }

    #[tokio::test]
    async fn a_figure_asked_for_together_is_computed_once() {
        let memo: Arc<Memo<u32>> = Arc::default();
        let computed = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let askers: Vec<_> = (0..20)
            .map(|_| {
                let (memo, computed) = (memo.clone(), computed.clone());
                tokio::spawn(async move {
                    memo.get("BTC", || async {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        computed.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 7
                    })
                    .await
                })
            })
            .collect();
        for a in askers {
            assert_eq!(a.await.unwrap(), 7);
        }
        assert_eq!(computed.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another name is another figure.
        assert_eq!(memo.get("ETH", || async { 9 }).await, 9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_figure_older_than_fresh_is_computed_again() {
        let memo: Memo<u32> = Memo::default();
        assert_eq!(memo.get("BTC", || async { 1 }).await, 1);
        assert_eq!(memo.get("BTC", || async { 2 }).await, 1);
        tokio::time::advance(FRESH + Duration::from_millis(1)).await;
        assert_eq!(memo.get("BTC", || async { 3 }).await, 3);
    }
}
