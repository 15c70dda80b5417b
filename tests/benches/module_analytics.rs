//! `OPTIONS.ANALYTICS` on a 2,500-contract chain of a moving market (`options_tests::market`:
//! index, forwards, smiles, open interest and volume random-walk; greeks from Black-76, so
//! deltas follow strikes), measured side by side in one run:
//!
//! 1. idle, and while a second client moves the market and rewrites contracts (about 10,000
//!    updates/s), against `GET` of a string as large as the reply, all with redis-benchmark and
//!    the same settings;
//! 2. the same figures computed by a competent client (`options_tests::client_analytics`: one
//!    `OPTIONS.QUERY` of the 11 fields needed, typed decoding, sorting and prefix sums), one
//!    client each.
//!
//! 3. `OPTIONS.SMILE` of one expiry (issue 28), idle (the fit kept since the chain last changed)
//!    against `GET` of a string as large as its reply, and under the same writes (every call
//!    refits: the expiry's contracts changed since the last).
//!
//! 4. Both again on the simulator's chain while the simulator's full feed (25,000 updates/s over
//!    4 underlyings, as the push benchmark) flows through the feeder into a Redis of its own:
//!    the machine's two cores shared by sim, feeder, Redis and redis-benchmark, as in a demo.
//!
//! Every rate is the median of interleaved rounds, with their range. Results replace the
//! `analytics` section of BENCHMARKS.md. Run with `make bench`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_tests::bench::{median_run, rate, redis_benchmark, spread, BenchResult};
use options_tests::client_analytics;
use options_tests::market::MovingMarket;
use options_tests::procs::{Feeder, Sim};
use options_tests::RedisServer;

const EXPIRIES: usize = 10;
const STRIKES: usize = 125;
const ROUNDS: usize = 3;
/// Contract updates per second the writer aims at while analytics are asked for.
const UPDATES_PER_SEC: u64 = 10_000;
/// The simulator's full feed, over BTC, ETH, SOL and XRP.
const SIM_UPDATES_PER_SEC: u64 = 25_000;

fn rates(runs: &[BenchResult]) -> Vec<f64> {
    runs.iter().map(|r| r.rps).collect()
}

fn main() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let mut clock = options_core::clock::now_ms();
    let mut market = MovingMarket::new(7, EXPIRIES, STRIKES, clock);
    let n = market.len();
    market
        .ingest_pipeline(clock)
        .query::<()>(&mut con)
        .expect("the chain");
    let command = ["OPTIONS.ANALYTICS", "BTC", "FORMAT", "JSON"];
    let reply = options_tests::text(&mut con, &command).unwrap();
    let _: () = redis::cmd("SET")
        .arg("blob")
        .arg("x".repeat(reply.len()))
        .query(&mut con)
        .unwrap();
    // The smile of a fitted expiry in the middle of the chain, and a string of its size.
    let figures: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let fitted: Vec<&serde_json::Value> = figures["expiries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["svi"].is_object())
        .collect();
    assert!(!fitted.is_empty(), "the market's smiles are fitted");
    let smile_expiry = fitted[fitted.len() / 2]["expiry"]
        .as_str()
        .unwrap()
        .to_string();
    let smile_cmd = [
        "OPTIONS.SMILE",
        "BTC",
        smile_expiry.as_str(),
        "FORMAT",
        "JSON",
    ];
    let smile_reply = options_tests::text(&mut con, &smile_cmd).unwrap();
    let _: () = redis::cmd("SET")
        .arg("smileblob")
        .arg("x".repeat(smile_reply.len()))
        .query(&mut con)
        .unwrap();

    // 1. idle: analytics and GET interleaved
    let (requests, clients) = (4_000, 4);
    let (mut idle, mut get) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        idle.push(redis_benchmark(server.port, requests, clients, &command));
        get.push(redis_benchmark(
            server.port,
            requests * 5,
            clients,
            &["GET", "blob"],
        ));
    }
    let (a_rps, a_p50, a_p99) = median_run(&idle);
    let (g_rps, g_p50, g_p99) = median_run(&get);

    // 3. the smile, idle, against GET of its size, interleaved
    let (mut smile_idle, mut smile_get) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        smile_idle.push(redis_benchmark(
            server.port,
            requests * 5,
            clients,
            &smile_cmd,
        ));
        smile_get.push(redis_benchmark(
            server.port,
            requests * 5,
            clients,
            &["GET", "smileblob"],
        ));
    }
    let (s_rps, s_p50, s_p99) = median_run(&smile_idle);
    let (sg_rps, _, _) = median_run(&smile_get);

    // 2. the same figures in a competent client, and in Redis, one client each, alternating
    let now = options_core::clock::now_ms();
    let (mut client_runs, mut module_runs) = (Vec::new(), Vec::new());
    let query = client_analytics::query("BTC");
    for _ in 0..ROUNDS {
        let (client_rps, _) = rate(3.0, || {
            let bytes: Vec<u8> = query.query(&mut con).unwrap();
            let figures = client_analytics::compute(&bytes, "BTC", now);
            assert_eq!(figures["expiries"].as_array().unwrap().len(), EXPIRIES);
        });
        let (module_rps, _) = rate(3.0, || {
            let r = options_tests::text(&mut con, &command).unwrap();
            assert!(r.len() > 1000);
        });
        client_runs.push(client_rps);
        module_runs.push(module_rps);
    }
    let ratios: Vec<f64> = module_runs
        .iter()
        .zip(&client_runs)
        .map(|(m, c)| m / c)
        .collect();

    // 1b. under writes: a second connection moves the market and rewrites its contracts in
    // turn, pipelined, paced (the market steps a second per 10,000 updates)
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written) = (stop.clone(), written.clone());
        let mut wcon = server.connection();
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let due = (start.elapsed().as_secs_f64() * UPDATES_PER_SEC as f64) as u64;
                let done = written.load(Ordering::Relaxed);
                if done >= due {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                let batch = (due - done).min(500);
                let step_ms = (1000 * batch / UPDATES_PER_SEC).max(1);
                market.step(step_ms as f64 / 1000.0);
                clock += step_ms as i64;
                let mut pipe = redis::pipe();
                for _ in 0..batch {
                    if let Some(q) = market.quote(i % n, clock) {
                        let cmd = pipe.cmd("OPTIONS.INGEST").arg("BTC").arg(&q.symbol);
                        for (f, v) in &q.values {
                            cmd.arg(f.name()).arg(*v);
                        }
                        cmd.arg("updated_ms").arg(clock).ignore();
                    }
                    i += 1;
                }
                pipe.query::<()>(&mut wcon).expect("writer pipeline");
                written.fetch_add(batch, Ordering::Relaxed);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let (w0, t0) = (written.load(Ordering::Relaxed), Instant::now());
    let (mut busy, mut smile_busy) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        busy.push(redis_benchmark(server.port, requests, clients, &command));
        smile_busy.push(redis_benchmark(server.port, requests, clients, &smile_cmd));
    }
    let write_rate = (written.load(Ordering::Relaxed) - w0) as f64 / t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let (b_rps, b_p50, b_p99) = median_run(&busy);
    let (sb_rps, sb_p50, sb_p99) = median_run(&smile_busy);
    drop(con);
    drop(server);

    // 4. the simulator's full feed, through the feeder, into a Redis of its own
    let fed = RedisServer::start(&[]);
    let sim_rate = SIM_UPDATES_PER_SEC.to_string();
    let sim = Sim::start(&[
        "--assets",
        "BTC,ETH,SOL,XRP",
        "--updates-per-sec",
        &sim_rate,
    ]);
    let mut feeder = Feeder::start(&sim, &fed.url(), "BTC,ETH,SOL,XRP", &[]);
    feeder.wait_ready(Duration::from_secs(60));
    let mut fcon = fed.connection();
    let stats = options_tests::json(&mut fcon, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
    let sim_contracts = stats["contracts"].as_u64().expect("contracts");
    let sim_figures =
        options_tests::json(&mut fcon, &["OPTIONS.ANALYTICS", "BTC", "FORMAT", "JSON"]);
    let sim_fitted: Vec<&serde_json::Value> = sim_figures["expiries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["svi"].is_object())
        .collect();
    assert!(!sim_fitted.is_empty(), "the simulator's smiles are fitted");
    let sim_expiry = sim_fitted[sim_fitted.len() / 2]["expiry"]
        .as_str()
        .unwrap()
        .to_string();
    let sim_smile = [
        "OPTIONS.SMILE",
        "BTC",
        sim_expiry.as_str(),
        "FORMAT",
        "JSON",
    ];
    let ingests = |con: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("commandstats").query(con).unwrap();
        info.lines()
            // Redis names module commands in lower case here.
            .find_map(|l| l.strip_prefix("cmdstat_options.ingest:calls="))
            .and_then(|rest| rest.split(',').next())
            .and_then(|calls| calls.parse().ok())
            .unwrap_or(0)
    };
    let (i0, t0) = (ingests(&mut fcon), Instant::now());
    let (mut fed_analytics, mut fed_smile) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        fed_analytics.push(redis_benchmark(
            fed.port,
            requests,
            clients,
            &["OPTIONS.ANALYTICS", "BTC", "FORMAT", "JSON"],
        ));
        fed_smile.push(redis_benchmark(fed.port, requests, clients, &sim_smile));
    }
    let feed_rate = (ingests(&mut fcon) - i0) as f64 / t0.elapsed().as_secs_f64();
    drop(feeder);
    drop(sim);
    let (fa_rps, fa_p50, fa_p99) = median_run(&fed_analytics);
    let (fs_rps, fs_p50, fs_p99) = median_run(&fed_smile);

    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- analytics:begin -->\n\
## Chain analytics (issues #14 and 28)\n\n\
Shared by redis-server and the clients. Chain: {n} BTC contracts ({EXPIRIES} expiries × {STRIKES} strikes × call/put) of a moving \
market (index, forwards, smiles, open interest and volume random-walk; greeks from Black-76). Command: `{cmd}` → {bytes} bytes \
of JSON (every figure of every expiry with its variance, expected move and SVI fit, tenors, totals, the volatility index). \
`OPTIONS.SMILE` of {smile_expiry}: {smile_bytes} bytes. Rates: the median of {ROUNDS} interleaved rounds, their range in brackets; \
latencies from the median round. The writer of the rows \"while … moves\" is this benchmark's own (a moving market, every \
contract rewritten in turn); the two rows \"under the simulator's full feed\" run on a Redis of their own fed by bybit-sim and \
options-feeder, all on the same two cores.\n\n\
| measurement | `OPTIONS.ANALYTICS` | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| idle, redis-benchmark -c {clients} -n {requests}, vs `GET` of a {bytes}-byte string | {a_s} calls/s (p50 {a_p50:.3} ms, p99 {a_p99:.3} ms) | {g_s} req/s (p50 {g_p50:.3} ms, p99 {g_p99:.3} ms) | {r1:.2}× of GET | ≥ 1,000 calls/s {ok1} |\n\
| while a client moves the market and rewrites contracts ({write_rate:.0} updates/s achieved, aiming at {UPDATES_PER_SEC}) | {b_s} calls/s (p50 {b_p50:.3} ms, p99 {b_p99:.3} ms) | {a_rps:.0} calls/s idle | {r2:.2}× of idle | ≥ 1,000 calls/s {ok2} |\n\
| `OPTIONS.SMILE BTC {smile_expiry}` idle (the fit kept since the chain last changed), redis-benchmark -c {clients} -n {sn}, vs `GET` of a {smile_bytes}-byte string | {s_s} calls/s (p50 {s_p50:.3} ms, p99 {s_p99:.3} ms) | {sg_s} req/s | {r4:.2}× of GET | ≥ 10,000 calls/s {ok4} |\n\
| `OPTIONS.SMILE` while the market moves (every call refits) | {sb_s} calls/s (p50 {sb_p50:.3} ms, p99 {sb_p99:.3} ms) | {s_rps:.0} calls/s idle | {r5:.2}× of idle | ≥ 1,000 calls/s {ok5} |\n\
| `OPTIONS.ANALYTICS BTC` on the simulator's BTC chain ({sim_contracts} contracts) under the simulator's full feed: sim at {SIM_UPDATES_PER_SEC} updates/s over BTC, ETH, SOL and XRP → feeder → Redis ({feed_rate:.0} `OPTIONS.INGEST`/s achieved while measuring, every underlying: the feeder keeps a contract's latest value within a batch, so it writes less often than the sim updates) | {fa_s} calls/s (p50 {fa_p50:.3} ms, p99 {fa_p99:.3} ms) | — | — | ≥ 1,000 calls/s {ok6} |\n\
| `OPTIONS.SMILE BTC {sim_expiry}` on the same chain under the same feed | {fs_s} calls/s (p50 {fs_p50:.3} ms, p99 {fs_p99:.3} ms) | — | — | ≥ 1,000 calls/s {ok7} |\n\
| the same figures computed by a competent client: one `OPTIONS.QUERY BTC FIELDS {nf} … FORMAT JSON` ({n} rows of {nf} fields), typed decoding, sorting and prefix sums (O(n log n)); one client each, 3 s per round | {m_s} calls/s | {c_s} per s | {r3:.1}× faster in Redis ({r3_s}) | — |\n\
\n<!-- analytics:end -->",
        cmd = command.join(" "),
        bytes = reply.len(),
        a_s = spread(&rates(&idle), 0),
        g_s = spread(&rates(&get), 0),
        b_s = spread(&rates(&busy), 0),
        m_s = spread(&module_runs, 0),
        c_s = spread(&client_runs, 1),
        nf = client_analytics::QUERY_FIELDS.len(),
        r1 = a_rps / g_rps,
        ok1 = met(a_rps >= 1000.0),
        r2 = b_rps / a_rps,
        ok2 = met(b_rps >= 1000.0),
        r3 = {
            let mut r = ratios.clone();
            r.sort_by(f64::total_cmp);
            options_tests::bench::median(&r)
        },
        r3_s = spread(&ratios, 1),
        smile_bytes = smile_reply.len(),
        sn = requests * 5,
        s_s = spread(&rates(&smile_idle), 0),
        sg_s = spread(&rates(&smile_get), 0),
        sb_s = spread(&rates(&smile_busy), 0),
        r4 = s_rps / sg_rps,
        ok4 = met(s_rps >= 10_000.0),
        r5 = sb_rps / s_rps,
        ok5 = met(sb_rps >= 1000.0),
        fa_s = spread(&rates(&fed_analytics), 0),
        fs_s = spread(&rates(&fed_smile), 0),
        ok6 = met(fa_rps >= 1000.0),
        ok7 = met(fs_rps >= 1000.0),
    );
    println!("{section}");
    options_tests::write_benchmark_section("analytics", "module_analytics", &section);
}
