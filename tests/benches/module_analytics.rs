//! `OPTIONS.ANALYTICS` on a 2,500-contract chain, measured side by side in one run:
//!
//! 1. idle, and while a second client rewrites every contract (about 10,000 updates/s), against
//!    `GET` of a string as large as the reply, all with redis-benchmark and the same settings;
//! 2. the same figures computed in a client from `OPTIONS.QUERY … FORMAT JSON` (every row over
//!    the wire, parsed, then ANALYTICS.md in `options_tests::analytics_model`), one Rust client.
//!
//! Results replace the `analytics` section of BENCHMARKS.md. Run with `make bench`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_tests::analytics_model::{expected, Row};
use options_tests::bench::{best, rate, redis_benchmark};
use options_tests::fixture;
use options_tests::RedisServer;

const EXPIRIES: usize = 10;
const STRIKES: usize = 125;
/// Contract updates per second the writer aims at while analytics are asked for.
const UPDATES_PER_SEC: u64 = 10_000;

fn main() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::btc_chain(EXPIRIES, STRIKES, 3);
    let n = contracts.len();
    fixture::ingest(&mut con, &contracts);
    let command = ["OPTIONS.ANALYTICS", "BTC", "FORMAT", "JSON"];
    let reply = options_tests::text(&mut con, &command).unwrap();
    let _: () = redis::cmd("SET")
        .arg("blob")
        .arg("x".repeat(reply.len()))
        .query(&mut con)
        .unwrap();

    // 1. idle: analytics and GET interleaved twice
    let (requests, clients) = (4_000, 4);
    let (mut idle, mut get) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        idle.push(redis_benchmark(server.port, requests, clients, &command));
        get.push(redis_benchmark(
            server.port,
            requests * 5,
            clients,
            &["GET", "blob"],
        ));
    }
    let (a_rps, a_p50, a_p99) = best(&idle);
    let (g_rps, g_p50, g_p99) = best(&get);

    // 1b. under writes: a second connection rewrites contracts' marks, pipelined, paced
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written) = (stop.clone(), written.clone());
        let mut wcon = server.connection();
        let symbols: Vec<String> = contracts.iter().map(|c| c.symbol.clone()).collect();
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
                let mut pipe = redis::pipe();
                for _ in 0..batch {
                    let s = &symbols[i % symbols.len()];
                    pipe.cmd("OPTIONS.INGEST")
                        .arg("BTC")
                        .arg(s)
                        .arg("mark_price")
                        .arg(100.0 + (i % 97) as f64)
                        .arg("open_interest")
                        .arg((i % 1000) as f64)
                        .ignore();
                    i += 1;
                }
                pipe.query::<()>(&mut wcon).expect("writer pipeline");
                written.fetch_add(batch, Ordering::Relaxed);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let (w0, t0) = (written.load(Ordering::Relaxed), Instant::now());
    let busy = vec![
        redis_benchmark(server.port, requests, clients, &command),
        redis_benchmark(server.port, requests, clients, &command),
    ];
    let write_rate = (written.load(Ordering::Relaxed) - w0) as f64 / t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let (b_rps, b_p50, b_p99) = best(&busy);

    // 2. the same figures in a client, from every row
    let now = options_core::clock::now_ms();
    let (client_rps, client_n) = rate(5.0, || {
        let text =
            options_tests::text(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap();
        let page: serde_json::Value = serde_json::from_str(&text).unwrap();
        let rows: Vec<Row> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(Row::from_module_json)
            .collect();
        let refs: Vec<&Row> = rows.iter().collect();
        let figures = expected(&refs, now, false);
        assert_eq!(figures["expiries"].as_array().unwrap().len(), EXPIRIES);
    });
    let (module_rps, module_n) = rate(5.0, || {
        let r = options_tests::text(&mut con, &command).unwrap();
        assert!(r.len() > 1000);
    });
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- analytics:begin -->\n\
## Chain analytics (issue #14)\n\n\
Machine: {cores} cores, shared by redis-server and the clients. Chain: {n} BTC contracts ({EXPIRIES} expiries × {STRIKES} strikes × call/put), all fields set. \
Command: `{cmd}` → {bytes} bytes of JSON (every figure of every expiry, tenors, totals). Produced by `make bench` ({bench}).\n\n\
| measurement | `OPTIONS.ANALYTICS` | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| idle, redis-benchmark -c {clients} -n {requests}, vs `GET` of a {bytes}-byte string | {a_rps:.0} calls/s (p50 {a_p50:.3} ms, p99 {a_p99:.3} ms) | {g_rps:.0} req/s (p50 {g_p50:.3} ms, p99 {g_p99:.3} ms) | {r1:.2}× of GET | ≥ 1,000 calls/s {ok1} |\n\
| while a client rewrites contracts ({write_rate:.0} updates/s achieved, aiming at {UPDATES_PER_SEC}) | {b_rps:.0} calls/s (p50 {b_p50:.3} ms, p99 {b_p99:.3} ms) | {a_rps:.0} calls/s idle | {r2:.2}× of idle | ≥ 1,000 calls/s {ok2} |\n\
| the same figures computed in a client from `OPTIONS.QUERY BTC FORMAT JSON` ({n} rows over the wire, parsed, ANALYTICS.md in Rust), one client, 5 s each | {module_rps:.0} calls/s ({module_n} runs) | {client_rps:.1} per s ({client_n} runs) | {r3:.0}× faster in Redis | — |\n\
\n<!-- analytics:end -->",
        cmd = command.join(" "),
        bytes = reply.len(),
        bench = "cargo bench -p options-tests --bench module_analytics",
        r1 = a_rps / g_rps,
        ok1 = met(a_rps >= 1000.0),
        r2 = b_rps / a_rps,
        ok2 = met(b_rps >= 1000.0),
        r3 = module_rps / client_rps,
    );
    println!("{section}");
    options_tests::write_benchmark_section("analytics", &section);
}
