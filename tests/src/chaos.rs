//! Chaos: the whole system (bybit-sim → options-feeder → Redis with the module → options-web →
//! SSE clients) while its processes are killed and its network stalls, then checked against
//! the simulator. Shared by the short run in `make test` (`tests/tests/chaos.rs`) and the
//! ten-minute one in `make bench` (`benches/chaos.rs`).
//!
//! Faults, one at a time at random moments, each kind in turn in a shuffled order:
//! - Redis killed with SIGKILL and started again from its AOF (fsynced every second, so up to a
//!   second of writes is lost), or started empty (its files deleted);
//! - the feeder or the web server killed with SIGKILL and started again;
//! - the network between Redis and both binaries stalled (a TCP proxy stops moving bytes and
//!   closes nothing) for 0.5–3 s.
//!
//! After each fault the run waits for recovery: the feeder ready, every chain in Redis holding
//! all of the sim's contracts with a write newer than the fault's end, and the web server
//! answering from Redis. At the end, with the simulator paused:
//! - every chain equals the simulator's state, every field of every contract;
//! - no history sample describes a partial chain (its calls' open interest is within 1 % of the
//!   simulator's at that moment, which the run records every second);
//! - every SSE client, each following every asset from its cursor (`Last-Event-ID` when it
//!   reconnects), holds exactly the chain Redis holds, and its cursor never went back without a
//!   reset.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use options_client::cmd;
use options_core::clock::now_ms;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::value::RawValue;

use crate::follow::{self, Changes, ChangesEvent};
use crate::procs::{http, tickers_at, Feeder, Sim, SseEvents, Web, FAST_RECOVERY};
use crate::proxy::Proxy;
use crate::{state, try_run, RedisServer, TempDir};

/// What to run.
pub struct Plan {
    pub seconds: u64,
    /// Comma-separated underlyings, as the sim and the feeder take them.
    pub assets: &'static str,
    /// Further `bybit-sim` flags (strikes, rate, seed).
    pub sim_args: Vec<String>,
    pub clients: usize,
    /// Quiet seconds between a recovery and the next fault, drawn uniformly.
    pub between: (f64, f64),
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    RedisKilledRestartedFromAof,
    RedisKilledRestartedEmpty,
    FeederKilled,
    WebServerKilled,
    NetworkStalled,
}

impl Fault {
    const ALL: [Fault; 5] = [
        Fault::RedisKilledRestartedFromAof,
        Fault::RedisKilledRestartedEmpty,
        Fault::FeederKilled,
        Fault::WebServerKilled,
        Fault::NetworkStalled,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Fault::RedisKilledRestartedFromAof => "Redis killed (SIGKILL), restarted from its AOF",
            Fault::RedisKilledRestartedEmpty => "Redis killed (SIGKILL), restarted empty",
            Fault::FeederKilled => "feeder killed (SIGKILL), restarted",
            Fault::WebServerKilled => "web server killed (SIGKILL), restarted",
            Fault::NetworkStalled => "network to Redis stalled 0.5–3 s",
        }
    }
}

/// One fault: when, how long the system was without the part, and how long it took to recover
/// once the part was back (`None`: it did not within the limit).
#[derive(Debug, Clone)]
pub struct FaultRecord {
    pub fault: Fault,
    pub at_s: f64,
    pub outage_ms: f64,
    pub recovery_ms: Option<f64>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub seconds: f64,
    pub contracts: usize,
    pub faults: Vec<FaultRecord>,
    /// Every check that failed, in words.
    pub failures: Vec<String>,
    pub sse_events: u64,
    pub sse_resets: u64,
    pub sse_reconnects: u64,
    pub history_samples: usize,
    /// From pausing the sim to Redis holding its state.
    pub converge_ms: f64,
}

/// How long one recovery may take before it counts as a failure.
const RECOVERY_LIMIT: Duration = Duration::from_secs(60);

/// One SSE client's view: per asset, symbol → hash of the row's JSON text.
#[derive(Default)]
struct Follower {
    chains: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
    events: AtomicU64,
    resets: AtomicU64,
    reconnects: AtomicU64,
    faults: Mutex<Vec<String>>,
}

fn row_hash(row: &RawValue) -> u64 {
    let mut h = DefaultHasher::new();
    row.get().hash(&mut h);
    h.finish()
}

impl Follower {
    /// Follows `url` until `stop`, reopening the stream from its last event id whenever it ends.
    fn follow(&self, url: &str, stop: &AtomicBool) {
        let client = reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .expect("client");
        let mut last_id: Option<String> = None;
        let mut seqs: BTreeMap<String, u64> = BTreeMap::new();
        let mut first = true;
        while !stop.load(Relaxed) {
            if !first {
                self.reconnects.fetch_add(1, Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
            first = false;
            let mut req = client.get(url);
            if let Some(id) = &last_id {
                req = req.header("Last-Event-ID", id);
            }
            let Ok(resp) = req.send() else { continue };
            if !resp.status().is_success() {
                continue;
            }
            let mut events = SseEvents::default();
            for line in BufReader::with_capacity(256 * 1024, resp).lines() {
                if stop.load(Relaxed) {
                    return;
                }
                let Ok(line) = line else { break };
                if let Some((event, id, data)) = events.line(&line) {
                    if event == "changes" {
                        self.on_changes(&data, &mut seqs);
                        last_id = Some(id);
                    }
                }
            }
        }
    }

    fn on_changes(&self, data: &str, seqs: &mut BTreeMap<String, u64>) {
        self.events.fetch_add(1, Relaxed);
        let ev: ChangesEvent = match serde_json::from_str(data) {
            Ok(ev) => ev,
            Err(e) => {
                self.fault(format!("an unreadable changes event ({e})"));
                return;
            }
        };
        let ch = &ev.changes;
        if ch.reset {
            self.resets.fetch_add(1, Relaxed);
        } else if let Some(&before) = seqs.get(&ev.asset) {
            if ch.seq < before {
                self.fault(format!(
                    "{}: the cursor went back from {before} to {} without a reset",
                    ev.asset, ch.seq
                ));
            }
        }
        seqs.insert(ev.asset.clone(), ch.seq);
        let mut chains = self.chains.lock().unwrap();
        if let Err(e) = follow::apply(chains.entry(ev.asset.clone()).or_default(), ch, row_hash) {
            drop(chains);
            self.fault(format!("{}: {e}", ev.asset));
        }
    }

    fn fault(&self, what: String) {
        let mut f = self.faults.lock().unwrap();
        if f.len() < 5 {
            f.push(what);
        }
    }
}

/// The chain Redis holds for `asset`, as a follower keeps it.
fn redis_chain(con: &mut redis::Connection, asset: &str) -> Option<BTreeMap<String, u64>> {
    let text: String = redis::cmd("OPTIONS.CHANGES")
        .arg(asset)
        .arg(0)
        .arg("FORMAT")
        .arg("JSON")
        .query(con)
        .ok()?;
    let changes: Changes = serde_json::from_str(&text).ok()?;
    let mut chain = BTreeMap::new();
    follow::apply(&mut chain, &changes, row_hash).ok()?;
    Some(chain)
}

/// Per asset, `(time, the sim's call open interest)` every second.
type OiRecord = BTreeMap<&'static str, Vec<(i64, f64)>>;

/// The system under test: processes, the proxy between them and Redis, and what to compare.
struct System {
    redis: RedisServer,
    proxy: Proxy,
    sim: Sim,
    feeder: Feeder,
    web: Web,
    assets: Vec<&'static str>,
    /// Contracts per asset, as the sim lists them.
    contracts: BTreeMap<&'static str, u64>,
}

impl System {
    /// Whether the system is whole again after a fault that ended at `since_ms`.
    fn recovered(&mut self, since_ms: i64) -> bool {
        if !matches!(self.feeder.endpoint("/ready"), Some((200, _))) {
            return false;
        }
        let Some(mut con) = self.redis.connection_opt() else {
            return false;
        };
        for a in &self.assets {
            let Ok(Some(stats)) = try_run(&mut con, &cmd::Stats { key: a.to_string() }) else {
                return false;
            };
            if stats.contracts != self.contracts[a] || stats.last_update_ms < since_ms {
                return false;
            }
        }
        let r = http()
            .get(self.web.url(&format!("/api/options/{}", self.assets[0])))
            .query(&[("limit", "1")])
            .send();
        r.is_ok_and(|r| r.status().is_success())
    }

    fn inject(&mut self, fault: Fault, rng: &mut StdRng) {
        match fault {
            Fault::RedisKilledRestartedFromAof => {
                self.redis.kill();
                self.redis.start_again();
            }
            Fault::RedisKilledRestartedEmpty => {
                self.redis.kill();
                self.redis.forget_data();
                self.redis.start_again();
            }
            Fault::FeederKilled => self.feeder.crash_and_restart(),
            Fault::WebServerKilled => self.web.crash_and_restart(),
            Fault::NetworkStalled => {
                self.proxy.stall(true);
                std::thread::sleep(Duration::from_secs_f64(rng.random_range(0.5..3.0)));
                self.proxy.stall(false);
            }
        }
    }

    /// Processes that ended on their own (a crash the run did not cause).
    fn crashed(&mut self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.redis.is_alive() {
            out.push("redis-server");
        }
        if !self.feeder.proc.is_running() {
            out.push("options-feeder");
        }
        if !self.web.proc.is_running() {
            out.push("options-web");
        }
        out
    }
}

/// Runs the plan and reports what happened; the caller asserts on `failures`.
pub fn run(plan: &Plan) -> Report {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let assets: Vec<&'static str> = plan.assets.split(',').collect();
    let redis = RedisServer::start_with_module_args(
        TempDir::new("chaos-redis"),
        &["history-interval", "1"],
        &["--appendonly", "yes", "--appendfsync", "everysec"],
    );
    let proxy = Proxy::start(redis.port);
    let mut sim_args: Vec<&str> = vec!["--assets", plan.assets];
    sim_args.extend(plan.sim_args.iter().map(String::as_str));
    let sim = Sim::start(&sim_args);
    let contracts: BTreeMap<&'static str, u64> = assets
        .iter()
        .map(|a| (*a, sim.tickers(a).len() as u64))
        .collect();
    let mut feeder = Feeder::start(&sim, &proxy.url(), plan.assets, &FAST_RECOVERY);
    feeder.wait_ready(Duration::from_secs(60));
    let web = Web::start(&proxy.url(), &["--assets", plan.assets]);
    let mut sys = System {
        redis,
        proxy,
        sim,
        feeder,
        web,
        assets: assets.clone(),
        contracts,
    };
    let mut report = Report {
        contracts: sys.contracts.values().sum::<u64>() as usize,
        ..Report::default()
    };

    let stop = Arc::new(AtomicBool::new(false));
    let url = sys.web.url(&format!("/api/stream?assets={}", plan.assets));
    let followers: Vec<Arc<Follower>> = (0..plan.clients)
        .map(|_| Arc::new(Follower::default()))
        .collect();
    let threads: Vec<_> = followers
        .iter()
        .map(|f| {
            let (f, stop, url) = (f.clone(), stop.clone(), url.clone());
            std::thread::spawn(move || f.follow(&url, &stop))
        })
        .collect();
    // The sim's call open interest every second, for the history check.
    let oi_record: Arc<Mutex<OiRecord>> = Arc::default();
    let recorder = {
        let (oi_record, stop, assets) = (oi_record.clone(), stop.clone(), assets.clone());
        let rest_url = sys.sim.rest_url();
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                for a in &assets {
                    let t = now_ms();
                    let oi = state::call_oi(&tickers_at(&http(), &rest_url, a));
                    oi_record
                        .lock()
                        .unwrap()
                        .entry(*a)
                        .or_default()
                        .push((t, oi));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };

    let start = Instant::now();
    let mut schedule: Vec<Fault> = Vec::new();
    while start.elapsed().as_secs() < plan.seconds {
        std::thread::sleep(Duration::from_secs_f64(
            rng.random_range(plan.between.0..plan.between.1),
        ));
        if start.elapsed().as_secs() >= plan.seconds {
            break;
        }
        if schedule.is_empty() {
            schedule = Fault::ALL.to_vec();
            schedule.shuffle(&mut rng);
        }
        let fault = schedule.pop().expect("a fault");
        let at_s = start.elapsed().as_secs_f64();
        let began = Instant::now();
        sys.inject(fault, &mut rng);
        let outage_ms = began.elapsed().as_secs_f64() * 1e3;
        let ended_ms = now_ms();
        let back = Instant::now();
        let mut recovery_ms = None;
        while back.elapsed() < RECOVERY_LIMIT {
            if sys.recovered(ended_ms) {
                recovery_ms = Some(back.elapsed().as_secs_f64() * 1e3);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "chaos {at_s:>6.1} s: {} — out {outage_ms:.0} ms, recovered {}",
            fault.describe(),
            recovery_ms.map_or("never".to_string(), |r| format!("in {r:.0} ms"))
        );
        if recovery_ms.is_none() {
            report.failures.push(format!(
                "no recovery within {RECOVERY_LIMIT:?} after: {} at {at_s:.1} s",
                fault.describe()
            ));
        }
        let crashed = sys.crashed();
        if !crashed.is_empty() {
            report
                .failures
                .push(format!("{crashed:?} exited on their own at {at_s:.1} s"));
            break;
        }
        report.faults.push(FaultRecord {
            fault,
            at_s,
            outage_ms,
            recovery_ms,
        });
    }
    report.seconds = start.elapsed().as_secs_f64();

    // The end: the sim paused, Redis must hold exactly its state.
    sys.sim.control("pause", &[]);
    let paused = Instant::now();
    let want = state::of_sim(&sys.sim, &assets);
    let mut con = sys.redis.connection();
    let mut got = None;
    while paused.elapsed() < Duration::from_secs(30) {
        got = state::of_redis(&mut con, &assets);
        if got.as_ref() == Some(&want) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    report.converge_ms = paused.elapsed().as_secs_f64() * 1e3;
    match &got {
        Some(got) if *got == want => {}
        Some(got) => {
            let differ: Vec<&String> = want
                .iter()
                .filter(|(k, v)| got.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .take(5)
                .collect();
            report.failures.push(format!(
                "Redis does not hold the sim's state 30 s after the pause: {} contracts against the sim's {}, differing {differ:?}",
                got.len(),
                want.len()
            ));
        }
        None => report
            .failures
            .push("Redis did not answer at the end".to_string()),
    }

    // Every follower holds what Redis holds.
    let chains: BTreeMap<&str, BTreeMap<String, u64>> = assets
        .iter()
        .filter_map(|a| Some((*a, redis_chain(&mut con, a)?)))
        .collect();
    let caught_up = |f: &Follower| {
        let held = f.chains.lock().unwrap();
        assets.iter().all(|a| held.get(*a) == chains.get(a))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !followers.iter().all(|f| caught_up(f)) {
        std::thread::sleep(Duration::from_millis(100));
    }
    for (i, f) in followers.iter().enumerate() {
        if !caught_up(f) {
            let held = f.chains.lock().unwrap();
            let detail: Vec<String> = assets
                .iter()
                .map(|a| {
                    let (h, r) = (held.get(*a), chains.get(a));
                    let differ = r.map_or(0, |r| {
                        r.iter()
                            .filter(|(k, v)| h.and_then(|h| h.get(*k)) != Some(*v))
                            .count()
                    });
                    format!(
                        "{a}: holds {} rows, Redis {}, {differ} differ",
                        h.map_or(0, |h| h.len()),
                        r.map_or(0, |r| r.len())
                    )
                })
                .collect();
            report.failures.push(format!(
                "SSE client {i} does not hold Redis's chains 20 s after the pause: {}",
                detail.join("; ")
            ));
        }
        for what in f.faults.lock().unwrap().iter() {
            report.failures.push(format!("SSE client {i}: {what}"));
        }
        report.sse_events += f.events.load(Relaxed);
        report.sse_resets += f.resets.load(Relaxed);
        report.sse_reconnects += f.reconnects.load(Relaxed);
    }
    stop.store(true, Relaxed);

    // No history sample of a partial chain.
    let record = oi_record.lock().unwrap().clone();
    for a in &assets {
        let Ok(Some(history)) = try_run(&mut con, &cmd::History::new(a, &["oi_calls"])) else {
            report.failures.push(format!("{a}: no history"));
            continue;
        };
        let points: Vec<(i64, f64)> = history
            .points
            .iter()
            .filter_map(|p| Some((p.first().copied()?? as i64, p.get(1).copied()??)))
            .collect();
        report.history_samples += points.len();
        let Some(sim_oi) = record.get(a) else {
            continue;
        };
        for (t, oi) in &points {
            let Some(&(at, want)) = sim_oi.iter().min_by_key(|(at, _)| (at - t).abs()) else {
                continue;
            };
            if (at - t).abs() > 1_500 {
                continue;
            }
            if (oi - want).abs() > 0.01 * want {
                report.failures.push(format!(
                    "{a}: the history sample at {t} has call OI {oi}, the sim had {want} at {at}: a partial chain"
                ));
                break;
            }
        }
    }
    sys.sim.control("resume", &[]);
    for t in threads {
        // A follower blocked in a read ends with the stream's next event (a stats event every
        // 2 s) or when the web server goes with `sys`.
        drop(t);
    }
    let _ = recorder.join();
    report
}

impl Report {
    /// The BENCHMARKS.md table: per kind of fault, how many and how long recovery took.
    pub fn markdown_rows(&self) -> String {
        let mut by_kind: BTreeMap<Fault, Vec<&FaultRecord>> = BTreeMap::new();
        for r in &self.faults {
            by_kind.entry(r.fault).or_default().push(r);
        }
        let mut out = String::new();
        for (fault, records) in by_kind {
            let mut rec: Vec<f64> = records.iter().filter_map(|r| r.recovery_ms).collect();
            rec.sort_by(f64::total_cmp);
            let outage: f64 =
                records.iter().map(|r| r.outage_ms).sum::<f64>() / records.len() as f64;
            let ms = |v: Option<&f64>| v.map_or("—".to_string(), |v| format!("{v:.0} ms"));
            out.push_str(&format!(
                "| {} | {} | {outage:.0} ms | {} | {} | {} |\n",
                fault.describe(),
                records.len(),
                ms(rec.get(rec.len() / 2)),
                ms(rec.last()),
                records.len() - rec.len(),
            ));
        }
        out
    }
}
