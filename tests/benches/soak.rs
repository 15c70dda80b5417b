//! Soak: the whole system at full rate for `SOAK_SECONDS` (default 600), release builds.
//!
//! - bybit-sim lists four underlyings (about 2,500 contracts) and pushes 25,000 updates/s:
//!   every contract every 100 ms;
//! - the feeder writes them into Redis, trades included (the tapes keep 60 s of them:
//!   `FLOW_RETENTION_S`); options-web serves 50 SSE clients following all four underlyings
//!   (tasks on one two-thread runtime, `sse_clients`; one of them, a thread of its own, reads
//!   slowly: 1 KiB every 200 ms) and wrk asks `/api/options/BTC?limit=50` with 4 connections
//!   throughout;
//! - every 10 s: resident memory of redis-server, the feeder and the web server;
//! - five of the SSE clients time every row they receive: push → SSE is the client's clock at
//!   receipt minus the row's `updated_ms` (the sim's push time; one machine, one clock).
//!
//! Checked: memory flat after two minutes of warm-up (≤ 5 % growth from the mean of minute 2–3
//! to the last three samples; the feeder's allocator takes about 110 s to reach its working
//! set at this rate, then stays within 2 %), no errors (feeder counters, wrk non-2xx and socket errors, SSE
//! clients cut off), push → SSE p99 of the last minute within 1.5× of the first full minute.
//! Results replace the `soak` section of BENCHMARKS.md. Run with `make bench`.

use std::io::Read;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use options_core::clock::now_ms;
use options_tests::procs::{Feeder, Sim, Web};
use options_tests::sse_clients::{self, follow, OnData, PushTimes, Stop};
use options_tests::RedisServer;

const ASSETS: &str = "BTC,ETH,SOL,XRP";
const CLIENTS: usize = 50;
const TIMED_CLIENTS: usize = 5;
/// Seconds of trades the tapes keep (module argument `flow-retention`).
const FLOW_RETENTION_S: u64 = 60;
/// Latency histogram resolution: 1 ms buckets up to 20 s.
const BUCKETS: usize = 20_001;

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Per-minute latency histograms, shared by the timed clients.
struct Latency {
    start: Instant,
    minutes: Mutex<Vec<Vec<u32>>>,
}

impl Latency {
    fn record(&self, ms: i64) {
        let minute = (self.start.elapsed().as_secs() / 60) as usize;
        let mut m = self.minutes.lock().unwrap();
        while m.len() <= minute {
            m.push(vec![0; BUCKETS]);
        }
        m[minute][ms.clamp(0, BUCKETS as i64 - 1) as usize] += 1;
    }

    fn quantile(hist: &[u32], q: f64) -> Option<f64> {
        let total: u64 = hist.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return None;
        }
        let want = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (ms, &c) in hist.iter().enumerate() {
            seen += u64::from(c);
            if seen >= want {
                return Some(ms as f64);
            }
        }
        None
    }
}

/// The slow client until `stop`: reads 1 KiB every 200 ms on a thread of its own (a blocking
/// reader is what a slow consumer is). Returns how many times its stream ended early (and was
/// reopened).
fn slow_client(url: String, stop: Arc<AtomicBool>, bytes: Arc<AtomicU64>) -> u64 {
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .expect("client");
    let mut cut_off = 0;
    while !stop.load(Relaxed) {
        let Ok(mut resp) = client.get(&url).send() else {
            cut_off += 1;
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let mut buf = [0u8; 1024];
        loop {
            if stop.load(Relaxed) {
                return cut_off;
            }
            match resp.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.fetch_add(n as u64, Relaxed),
            };
            std::thread::sleep(Duration::from_millis(200));
        }
        if !stop.load(Relaxed) {
            cut_off += 1;
        }
    }
    cut_off
}

/// wrk for the whole run; (requests/s, non-2xx responses, socket errors).
fn wrk(url: &str, seconds: u64) -> (f64, u64, u64) {
    let out = Command::new("wrk")
        .args(["-t1", "-c4", &format!("-d{seconds}s"), url])
        .output()
        .expect("wrk (make deps installs it)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let non2xx = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let socket: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|v| {
            v.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    (rps, non2xx, socket)
}

fn feeder_errors(feeder: &Feeder) -> f64 {
    [
        "feeder_messages_garbled_total",
        "feeder_rest_errors_total",
        "feeder_redis_errors_total",
        "feeder_updates_rejected_total",
        "feeder_ws_reconnects_total",
    ]
    .iter()
    .map(|m| feeder.try_metric(m).unwrap_or(0.0))
    .sum()
}

fn main() {
    options_tests::bench::require_tool("soak", "wrk", "wrk");
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    // The sim makes a trade of one update in twenty, 1,250 a second at this rate, a thousand
    // times a real venue's: with the default day of retention the tapes (and the module's
    // index of them) would grow through the whole run, by design, and hide any leak. A minute
    // of trades reaches its steady size well inside the warm-up (with two minutes, Redis's
    // resident memory still rose until the fourth), and trimming runs all along.
    let redis = RedisServer::start_with_module_args(
        options_tests::TempDir::new("soak"),
        &["flow-retention", &FLOW_RETENTION_S.to_string()],
        &[],
    );
    let sim = Sim::start(&["--assets", ASSETS, "--updates-per-sec", "25000"]);
    let mut feeder = Feeder::start(&sim, &redis.url(), ASSETS, &[]);
    feeder.wait_ready(Duration::from_secs(60));
    let web = Web::start(&redis.url(), &["--assets", ASSETS]);
    let mut con = redis.connection();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut con)
        .expect("INFO");
    let redis_pid: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("process_id");
    let contracts = options_tests::json(&mut con, &["OPTIONS.STATS", "FORMAT", "JSON"])
        ["contracts"]
        .as_u64()
        .unwrap_or(0);
    let pids = [
        ("redis-server", redis_pid),
        ("options-feeder", feeder.proc.id().expect("feeder pid")),
        ("options-web", web.proc.id().expect("web pid")),
    ];
    let errors_before = feeder_errors(&feeder);
    let written_before = feeder
        .try_metric("feeder_updates_written_total")
        .unwrap_or(0.0);

    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let latency = Arc::new(Latency {
        start,
        minutes: Mutex::new(Vec::new()),
    });
    let events = Arc::new(AtomicU64::new(0));
    let web_port = web.port;
    let path = format!("/api/stream?assets={ASSETS}");
    // The fast clients: tasks on the shared two-thread runtime (`sse_clients`); a cut stream is
    // counted and opened again.
    let rt = sse_clients::runtime();
    let ends = Stop::new();
    let fast: Vec<_> = (0..CLIENTS - 1)
        .map(|i| {
            let (path, stop, ends, events) =
                (path.clone(), stop.clone(), ends.clone(), events.clone());
            let lat = (i < TIMED_CLIENTS).then(|| latency.clone());
            rt.spawn(async move {
                let push_times = PushTimes::default();
                // Only the timed clients look inside: parsing 50 streams would make the
                // benchmark itself the machine's main load.
                let mut on_data = |data: &[u8]| {
                    let Some(lat) = &lat else { return };
                    let now = now_ms();
                    for t in push_times.of(data) {
                        lat.record(now - t as i64);
                    }
                };
                let mut cut_off = 0u64;
                loop {
                    let timed = lat.is_some().then_some(&mut on_data as &mut OnData<'_>);
                    let read = follow(web_port, path.clone(), ends.clone(), false, timed).await;
                    events.fetch_add(read, Relaxed);
                    if stop.load(Relaxed) {
                        return cut_off;
                    }
                    cut_off += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        })
        .collect();
    let slow = {
        let (url, stop, events) = (web.url(&path), stop.clone(), events.clone());
        std::thread::spawn(move || slow_client(url, stop, events))
    };
    let wrk_url = web.url("/api/options/BTC?limit=50");
    let wrk_thread = std::thread::spawn(move || wrk(&wrk_url, seconds));

    let mut samples: Vec<(u64, [u64; 3])> = Vec::new();
    while start.elapsed().as_secs() < seconds {
        std::thread::sleep(Duration::from_secs(10));
        let rss = pids.map(|(_, pid)| rss_kib(pid).unwrap_or(0));
        let t = start.elapsed().as_secs();
        eprintln!(
            "soak {t:>4} s: RSS redis {} MiB, feeder {} MiB, web {} MiB",
            rss[0] / 1024,
            rss[1] / 1024,
            rss[2] / 1024
        );
        samples.push((t, rss));
    }
    stop.store(true, Relaxed);
    ends.now();
    let (rps, non2xx, socket) = wrk_thread.join().expect("wrk thread");
    let cut_off: u64 = rt.block_on(async {
        let mut cut_off = 0;
        for c in fast {
            cut_off += c.await.unwrap_or(1);
        }
        cut_off
    }) + slow.join().unwrap_or(1);
    let errors = feeder_errors(&feeder) - errors_before;
    let written = feeder
        .try_metric("feeder_updates_written_total")
        .unwrap_or(0.0)
        - written_before;
    let elapsed = start.elapsed().as_secs_f64();

    // Memory: the mean of 120–180 s against the mean of the last three samples. A run shorter
    // than five minutes (SOAK_SECONDS, for a quick look) takes its middle third as warm.
    let (warm_from, warm_to) = if seconds >= 300 {
        (120, 180)
    } else {
        (seconds / 3, 2 * seconds / 3)
    };
    let mean = |from_s: u64, to_s: u64, i: usize| -> f64 {
        let v: Vec<f64> = samples
            .iter()
            .filter(|s| (from_s..=to_s).contains(&s.0))
            .map(|s| s.1[i] as f64)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let last_from = samples.len().saturating_sub(3);
    let last_t = samples.get(last_from).map_or(0, |s| s.0);
    let mut mem_rows = String::new();
    let mut worst_growth = f64::NEG_INFINITY;
    for (i, (name, _)) in pids.iter().enumerate() {
        let warm = mean(warm_from, warm_to, i);
        let end = mean(last_t, u64::MAX, i);
        let peak = samples.iter().map(|s| s.1[i]).max().unwrap_or(0) as f64;
        let growth = end / warm - 1.0;
        worst_growth = worst_growth.max(growth);
        let by_minute: Vec<String> = samples
            .iter()
            .filter(|s| s.0 % 60 == 0)
            .map(|s| format!("{:.0}", s.1[i] as f64 / 1024.0))
            .collect();
        mem_rows.push_str(&format!(
            "| {name} | {warm:.1} MiB | {end:.1} MiB | {peak:.1} MiB | {g:+.1} % | {m} |\n",
            warm = warm / 1024.0,
            end = end / 1024.0,
            peak = peak / 1024.0,
            g = growth * 100.0,
            m = by_minute.join(", "),
        ));
    }
    let minutes = latency.minutes.lock().unwrap().clone();
    let full: Vec<&Vec<u32>> = minutes.iter().take(seconds as usize / 60).collect();
    let q =
        |h: Option<&&Vec<u32>>, p: f64| h.and_then(|h| Latency::quantile(h, p)).unwrap_or(f64::NAN);
    let (first, last) = (full.first(), full.last());
    let per_minute: Vec<String> = full
        .iter()
        .map(|h| format!("{:.0}", Latency::quantile(h, 0.99).unwrap_or(f64::NAN)))
        .collect();
    let steady = q(last, 0.99) <= 1.5 * q(first, 0.99).max(1.0);
    let flat = worst_growth <= 0.05;
    let clean = errors == 0.0 && non2xx == 0 && socket == 0 && cut_off == 0;
    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- soak:begin -->\n\
## Soak (issue 19)\n\n\
Shared by everything below. {elapsed:.0} s at full rate, release builds: bybit-sim with {contracts} contracts of {ASSETS} \
pushing 25,000 updates/s (every contract every 100 ms); the feeder wrote {written_rate:.0} updates/s after conflation; \
trades kept {FLOW_RETENTION_S} s on the tapes; \
{CLIENTS} SSE clients following all four (one reading 1 KiB every 200 ms), {mib:.0} MiB of events read; wrk on `/api/options/BTC?limit=50` \
(4 connections) at {rps:.0} requests/s throughout.\n\n\
| process | resident, {warm_from}–{warm_to} s | resident, last 30 s | peak | growth | MiB at each minute |\n\
|---|---|---|---|---|---|\n\
{mem_rows}\n\
| check | result | target |\n\
|---|---|---|\n\
| memory after warm-up | worst growth {wg:+.1} % | ≤ 5 % {m1} |\n\
| errors: feeder (garbled, REST, Redis, refused, reconnects), wrk non-2xx and socket errors, SSE streams cut | {errors:.0}, {non2xx}, {socket}, {cut_off} | all 0 {m2} |\n\
| push → SSE p50 / p99, first minute | {p50a:.0} ms / {p99a:.0} ms | — |\n\
| push → SSE p50 / p99, last minute | {p50b:.0} ms / {p99b:.0} ms | p99 ≤ 1.5× the first minute's {m3} |\n\
| push → SSE p99 by minute (ms) | {pm} | — |\n\
\n<!-- soak:end -->",
        written_rate = written / elapsed,
        mib = events.load(Relaxed) as f64 / (1024.0 * 1024.0),
        wg = worst_growth * 100.0,
        m1 = met(flat),
        m2 = met(clean),
        p50a = q(first, 0.5),
        p99a = q(first, 0.99),
        p50b = q(last, 0.5),
        p99b = q(last, 0.99),
        m3 = met(steady),
        pm = per_minute.join(", "),
    );
    println!("{section}");
    options_tests::write_benchmark_section("soak", "soak", &section);
}
