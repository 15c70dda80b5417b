//! Feeder benchmarks against the real sim and Redis, side by side in one run:
//!
//! 1. Time from start to the full chain in Redis (2,500 contracts).
//! 2. Exchange push → queryable latency: `/sim/set` pushes one value; a client polls
//!    `OPTIONS.GET` until it shows. Includes the HTTP call that triggers the push, so it is an
//!    upper bound; the feeder's own receive → written histogram is reported beside it. Each
//!    sample starts at a random moment (a random pause before it), so a periodic process (the
//!    web server's merge gap, for the SSE samples) is met at every phase, not always at the
//!    same one.
//! 3. Sustained throughput: the sim pushes as fast as it can; messages parsed per second and
//!    contract updates written per second (after conflation), from the feeder's counters.
//! 4. Deribit (issue 29), on a Redis of its own: start → every Deribit instrument of the four
//!    assets in `deribit:*` (instruments, book-summary snapshot, paced subscriptions), and
//!    exchange push → queryable for a Deribit ticker, as in 2.
//!
//! Results replace the `feeder` section of BENCHMARKS.md. Run with `make bench`.

use std::time::{Duration, Instant};

use options_tests::bench::percentile;
use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::{json, RedisServer};
use rand::Rng;

fn total_contracts(con: &mut redis::Connection) -> u64 {
    json(con, &["OPTIONS.STATS", "FORMAT", "JSON"])["contracts"]
        .as_u64()
        .unwrap_or(0)
}

/// A Prometheus histogram's cumulative buckets (upper bound, count).
fn histogram(feeder: &Feeder, name: &str) -> Vec<(f64, f64)> {
    let (_, text) = feeder.endpoint("/metrics").unwrap();
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{name}_bucket{{le=\"")))
        .filter_map(|rest| {
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    buckets
}

/// Quantile of the observations made between two readings (upper bound of its bucket).
/// Fails the benchmark when there were none, or when the quantile is past the last finite
/// bucket: there is no figure to publish then.
fn quantile_between(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> f64 {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .zip(before)
        .map(|(a, b)| (a.0, a.1 - b.1))
        .collect();
    let total = delta.last().map(|b| b.1).unwrap_or(0.0);
    if total <= 0.0 {
        options_tests::bench::cannot_run("feeder", "the feeder observed no writes to time");
    }
    match delta.iter().find(|(_, c)| *c >= q * total) {
        Some((le, _)) if le.is_finite() => *le,
        _ => options_tests::bench::cannot_run(
            "feeder",
            &format!("the {q} quantile of the write latency is beyond the histogram's buckets"),
        ),
    }
}

/// A pause of a random length up to `max_ms`, so the next sample starts at a random moment.
fn random_pause(rng: &mut impl Rng, max_ms: u64) {
    std::thread::sleep(Duration::from_micros(rng.random_range(0..max_ms * 1000)));
}

/// p50, p99 and p99.9 of samples (ms), sorted here.
fn spread(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        percentile(&samples, 99.9),
    )
}

/// Samples of each latency: push → queryable, and push → SSE event.
const QUERYABLE_SAMPLES: usize = 1000;
const SSE_SAMPLES: usize = 300;
const DERIBIT_SAMPLES: usize = 500;

/// Deribit's fill time, instrument count and push → queryable p50/p99/p99.9 (ms): a feeder
/// with `--venues deribit` on a Redis of its own, the sim paused; each sample sets the mark of
/// `symbol` (a USDC-settled ETH contract: Deribit lists it as its inverse twin, same name) and
/// waits for the converted value to change in `deribit:ETH`.
fn deribit(sim: &Sim, symbol: &str, rng: &mut impl Rng) -> (Duration, u64, f64, f64, f64) {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let listed: u64 = ["BTC", "ETH", "USDC"]
        .iter()
        .map(|c| {
            sim.deribit("get_instruments", &[("currency", c), ("kind", "option")])
                .as_array()
                .map_or(0, |a| a.len() as u64)
        })
        .sum();
    let started = Instant::now();
    let _feeder = Feeder::start_venues(sim, &redis.url(), "BTC,ETH,SOL,XRP", "deribit", &[]);
    wait_for(Duration::from_secs(60), "every Deribit instrument", || {
        (total_contracts(&mut con) >= listed).then_some(())
    });
    let fill = started.elapsed();
    // Subscribed too: a push must reach the feeder, not only the snapshot.
    std::thread::sleep(Duration::from_millis(500));
    let mark = |con: &mut redis::Connection| {
        json(
            con,
            &[
                "OPTIONS.GET",
                "deribit:ETH",
                symbol,
                "FIELDS",
                "1",
                "mark_price",
                "FORMAT",
                "JSON",
            ],
        )["mark_price"]
            .as_f64()
    };
    let mut samples = Vec::new();
    for i in 0..DERIBIT_SAMPLES {
        random_pause(rng, 40);
        let before = mark(&mut con);
        let value = format!("{}.5", 2000 + i);
        let t0 = Instant::now();
        sim.control(
            "set",
            &[
                ("symbol", symbol),
                ("field", "markPrice"),
                ("value", &value),
            ],
        );
        while mark(&mut con) == before {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "Deribit update {i} never arrived"
            );
        }
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99, p999) = spread(samples);
    (fill, listed, p50, p99, p999)
}

fn main() {
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();

    // 1. start → full chain
    let sim = Sim::start(&["--seed", "11", "--updates-per-sec", "2000"]);
    let contracts = sim.stats()["contracts"].as_u64().unwrap();
    let started = Instant::now();
    let mut feeder = Feeder::start(&sim, &redis.url(), "BTC,ETH,SOL,XRP", &[]);
    wait_for(Duration::from_secs(60), "the full chain", || {
        (total_contracts(&mut con) >= contracts).then_some(())
    });
    let fill = started.elapsed();
    feeder.wait_ready(Duration::from_secs(30));

    // the feeder's own latency in steady streaming (2,000 pushes/s, as Bybit's 100 ms cadence
    // gives for ~200 active contracts), from its histogram over 3 s
    std::thread::sleep(Duration::from_secs(1));
    let h0 = histogram(&feeder, "feeder_write_latency_seconds");
    std::thread::sleep(Duration::from_secs(3));
    let h1 = histogram(&feeder, "feeder_write_latency_seconds");
    let own_p50 = quantile_between(&h0, &h1, 0.5) * 1000.0;
    let own_p99 = quantile_between(&h0, &h1, 0.99) * 1000.0;

    // 2. push → queryable on a quiet market, each at a random moment
    let mut rng = rand::rng();
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_millis(300));
    // A USDC-settled contract: Deribit lists it too (as its inverse twin, same name).
    let r = json(
        &mut con,
        &[
            "OPTIONS.QUERY",
            "ETH",
            "SETTLE",
            "USDC",
            "LIMIT",
            "0",
            "1",
            "FORMAT",
            "JSON",
        ],
    );
    let symbol = r["data"][0]["symbol"].as_str().unwrap().to_string();
    let mut samples = Vec::new();
    for i in 0..QUERYABLE_SAMPLES {
        random_pause(&mut rng, 40);
        let value = format!("{}.25", 1000 + i);
        let want: f64 = value.parse().unwrap();
        let t0 = Instant::now();
        sim.control(
            "set",
            &[
                ("symbol", &symbol),
                ("field", "markPrice"),
                ("value", &value),
            ],
        );
        loop {
            let row = json(
                &mut con,
                &[
                    "OPTIONS.GET",
                    "ETH",
                    &symbol,
                    "FIELDS",
                    "1",
                    "mark_price",
                    "FORMAT",
                    "JSON",
                ],
            );
            if row["mark_price"].as_f64() == Some(want) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "update {i} never arrived"
            );
        }
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99, p999) = spread(samples);

    // 2b. push → SSE client: the same change, seen by a browser-like client of options-web
    let web = Web::start(&redis.url(), &["--assets", "BTC,ETH,SOL,XRP"]);
    let events = web.sse_events("assets=ETH", None);
    let mut sse = Vec::new();
    for i in 0..SSE_SAMPLES {
        // Up to two poll periods: every phase of the web server's 100 ms poll is met.
        random_pause(&mut rng, 200);
        let value = format!("{}.75", 5000 + i);
        let t0 = Instant::now();
        sim.control(
            "set",
            &[
                ("symbol", &symbol),
                ("field", "markPrice"),
                ("value", &value),
            ],
        );
        loop {
            let left = Duration::from_secs(5).saturating_sub(t0.elapsed());
            let (event, _, data) = events.recv_timeout(left).expect("an SSE change within 5 s");
            if event == "changes" && data.contains(&format!("\"mark_price\":{value}")) {
                break;
            }
        }
        sse.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (sse_p50, sse_p99, sse_p999) = spread(sse);
    // The throughput phase measures the feeder alone.
    drop(events);
    drop(web);

    // 4. Deribit: its own Redis and feeder, the same (paused) market
    let (d_fill, d_listed, d_p50, d_p99, d_p999) = deribit(&sim, &symbol, &mut rng);

    // 3. sustained throughput: the sim pushes as fast as it can for 10 s
    sim.control("rate", &[("updates_per_sec", "400000")]);
    sim.control("resume", &[]);
    std::thread::sleep(Duration::from_secs(2));
    let (r0, w0, p0) = (
        feeder.metric("feeder_messages_received_total"),
        feeder.metric("feeder_updates_written_total"),
        sim.stats()["pushes"].as_f64().unwrap(),
    );
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let secs = t.elapsed().as_secs_f64();
    let received = (feeder.metric("feeder_messages_received_total") - r0) / secs;
    let written = (feeder.metric("feeder_updates_written_total") - w0) / secs;
    let pushed = (sim.stats()["pushes"].as_f64().unwrap() - p0) / secs;
    let garbled = feeder.metric("feeder_messages_garbled_total");
    sim.control("pause", &[]);

    let ok = |b: bool| if b { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- feeder:begin -->\n\
## Feeder (issues #4 and 29)\n\n\
Shared by redis-server, bybit-sim, options-feeder and the benchmark client. \
Market: {contracts} contracts over BTC, ETH, SOL, XRP.\n\n\
| measurement | result | target |\n\
|---|---|---|\n\
| start → every contract in Redis (discovery, REST snapshot, {conns} WebSocket connections) | {fill_ms:.0} ms | ≤ 2,000 ms {ok1} |\n\
| exchange push → queryable with `OPTIONS.GET` ({QUERYABLE_SAMPLES} samples at random moments; includes the HTTP call that makes the sim push) | p50 {p50:.2} ms, p99 {p99:.2} ms, p99.9 {p999:.2} ms | p99 ≤ 5 ms {ok2} |\n\
| exchange push → Redis → SSE `changes` event at a client of options-web ({SSE_SAMPLES} samples at random moments; the web server waits in Redis for changes, `OPTIONS.CHANGES … BLOCK`; p99.9 of {SSE_SAMPLES} is the largest) | p50 {sse_p50:.0} ms, p99 {sse_p99:.0} ms, p99.9 {sse_p999:.0} ms | — |\n\
| the feeder's own part in steady streaming at 2,000 pushes/s: frame received → `OPTIONS.INGEST` acknowledged (histogram bucket bounds, 3 s) | p50 ≤ {own_p50:.1} ms, p99 ≤ {own_p99:.1} ms | — |\n\
| sustained: pushes parsed per second (sim sending {pushed:.0}/s, at its limit) | {received:.0} msg/s ({garbled} garbled) | ≥ 200,000 msg/s {ok3} |\n\
| sustained: contract updates written per second (latest-value conflation merges the rest) | {written:.0} updates/s | — |\n\
| Deribit: start → every instrument in `deribit:*` ({d_listed} of BTC, ETH, SOL, XRP: instruments, book-summary snapshot, subscriptions paced by Deribit's credits) | {d_fill_ms:.0} ms | — |\n\
| Deribit: exchange push → queryable with `OPTIONS.GET deribit:ETH …` ({DERIBIT_SAMPLES} samples at random moments, a coin premium converted to USD) | p50 {d_p50:.2} ms, p99 {d_p99:.2} ms, p99.9 {d_p999:.2} ms | — |\n\
\n<!-- feeder:end -->",
        fill_ms = fill.as_secs_f64() * 1000.0,
        d_fill_ms = d_fill.as_secs_f64() * 1000.0,
        conns = feeder.metric("feeder_ws_connections"),
        ok1 = ok(fill <= Duration::from_secs(2)),
        ok2 = ok(p99 <= 5.0),
        ok3 = ok(received >= 200_000.0),
    );
    println!("{section}");
    options_tests::write_benchmark_section("feeder", "feeder", &section);
}
