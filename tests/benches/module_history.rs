//! The chain's history, measured side by side in one run:
//!
//! 1. memory: 30 days of 1-minute samples of a moving market (`options_tests::market`: index,
//!    forwards, smiles, open interest and volume random-walk every minute; greeks from Black-76,
//!    so deltas follow strikes; expiries roll weekly, so 12 stay listed), every contract
//!    rewritten every minute, against the same chain on a server with history off, as
//!    `MEMORY USAGE` reports it; then a day of one metric read from the full history;
//! 2. what sampling costs `OPTIONS.INGEST`: pipelined writes on a server with history on and
//!    one with it off, at the real rate (a sample per 600,000 writes: one a minute at 10,000
//!    updates/s) and at a sample every 1,000 writes.
//!
//! Results replace the `history` section of BENCHMARKS.md. Run with `make bench`.

use std::collections::HashMap;
use std::time::Instant;

use options_client::{cmd, Command};
use options_core::Field;
use options_tests::bench::spread;
use options_tests::market::MovingMarket;
use options_tests::{RedisServer, TempDir};

const EXPIRIES: usize = 12;
const STRIKES: usize = 20;
const MINUTE: i64 = 60_000;
const DAYS: i64 = 30;
/// Alternating rounds of the INGEST comparison.
const ROUNDS: i64 = 6;
/// What the analytics read; the history bench writes only these (the rest cannot move them).
const MOVING: [Field; 7] = [
    Field::UnderlyingPrice,
    Field::IndexPrice,
    Field::MarkIv,
    Field::Delta,
    Field::Gamma,
    Field::OpenInterest,
    Field::Volume24h,
];

fn usage(con: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg("0")
        .query(con)
        .unwrap()
}

/// One INGEST of `values` at `at` into `pipe`.
fn ingest(pipe: &mut redis::Pipeline, symbol: &str, values: &[(Field, f64)], at: i64) {
    let cmd = pipe.cmd("OPTIONS.INGEST").arg("BTC").arg(symbol);
    for (f, v) in values {
        if MOVING.contains(f) {
            cmd.arg(f.name()).arg(*v);
        }
    }
    cmd.arg("updated_ms").arg(at).ignore();
}

/// 30 days of minutes: the market moves a minute, then every live contract is written at that
/// minute's time. Returns every contract's last values (what a server with history off holds).
fn simulate(
    con: &mut redis::Connection,
    market: &mut MovingMarket,
    start: i64,
) -> HashMap<String, (Vec<(Field, f64)>, i64)> {
    let mut last = HashMap::new();
    let mut pipe = redis::pipe();
    let mut queued = 0;
    for minute in 0..DAYS * 24 * 60 {
        let w = start + minute * MINUTE;
        market.step(60.0);
        market.roll(w);
        for q in market.quotes(w) {
            ingest(&mut pipe, &q.symbol, &q.values, w);
            last.insert(q.symbol, (q.values, w));
            queued += 1;
        }
        if queued >= 2_000 {
            pipe.query::<()>(con).expect("history pipeline");
            pipe = redis::pipe();
            queued = 0;
        }
    }
    pipe.query::<()>(con).expect("history pipeline");
    last
}

/// Pipelined INGESTs per second, `updated_ms` advancing so that one write in `per_sample`
/// crosses a minute.
fn ingest_rate(
    con: &mut redis::Connection,
    market: &MovingMarket,
    per_sample: i64,
    start: i64,
) -> f64 {
    let n = 400_000i64;
    let quotes = market.quotes(start);
    let step = MINUTE as f64 / per_sample as f64;
    let t0 = Instant::now();
    let mut pipe = redis::pipe();
    for i in 0..n {
        let q = &quotes[i as usize % quotes.len()];
        pipe.cmd("OPTIONS.INGEST")
            .arg("BTC")
            .arg(&q.symbol)
            .arg("mark_price")
            .arg(100.0 + (i % 89) as f64)
            .arg("updated_ms")
            .arg(start + (i as f64 * step) as i64)
            .ignore();
        if i % 1000 == 999 {
            pipe.query::<()>(con).expect("ingest pipeline");
            pipe = redis::pipe();
        }
    }
    pipe.query::<()>(con).expect("ingest pipeline");
    n as f64 / t0.elapsed().as_secs_f64()
}

/// `usec_per_call` of a command in `INFO commandstats`.
fn server_usec_per_call(con: &mut redis::Connection, command: &str) -> f64 {
    let stats = options_tests::text(con, &["INFO", "commandstats"]).unwrap();
    stats
        .lines()
        .find(|l| l.starts_with(&format!("cmdstat_{command}:")))
        .and_then(|l| l.split("usec_per_call=").nth(1))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            options_tests::bench::cannot_run(
                "module_history",
                &format!("no {command} in INFO commandstats"),
            )
        })
}

fn main() {
    let start = (options_tests::fixture::now_ms() / MINUTE + 1) * MINUTE;
    let mut market = MovingMarket::new(5, EXPIRIES, STRIKES, start);

    // 1. memory: history on (default settings) over 30 days of minutes, against the same
    // chain's last state on a server with history off
    let on = RedisServer::start(&[]);
    let off = RedisServer::start_with_module_args(
        TempDir::new("redis"),
        &["history-retention", "0"],
        &[],
    );
    let (mut con_on, mut con_off) = (on.connection(), off.connection());
    let t0 = Instant::now();
    let last = simulate(&mut con_on, &mut market, start);
    let simulated = t0.elapsed().as_secs_f64();
    let mut pipe = redis::pipe();
    for (symbol, (values, at)) in &last {
        ingest(&mut pipe, symbol, values, *at);
    }
    pipe.query::<()>(&mut con_off)
        .expect("the chain, history off");
    let listed = last.len();
    let samples = options_tests::json(
        &mut con_on,
        &[
            "OPTIONS.HISTORY",
            "BTC",
            "METRIC",
            "index",
            "FORMAT",
            "JSON",
        ],
    )["points"]
        .as_array()
        .unwrap()
        .len();
    let mem_on = usage(&mut con_on, "BTC");
    let mem_off = usage(&mut con_off, "BTC");
    let history_bytes = (mem_on - mem_off) as f64;
    let per_sample = history_bytes / samples as f64;
    let history_mib = history_bytes / (1024.0 * 1024.0);
    // Every sample of a tenor's three figures, then a day of one, as a chart asks for it.
    let all_cmd = cmd::History {
        tenor_days: Some(30),
        ..cmd::History::new("BTC", &["atm_iv", "rr25", "bf25"])
    };
    let t = Instant::now();
    let all: Vec<u8> = all_cmd.to_cmd().query(&mut con_on).unwrap();
    let read_ms = t.elapsed().as_secs_f64() * 1000.0;
    // A day of one metric: 50 reads, the server's own time per call (INFO commandstats), and
    // the client's round trips.
    let day = cmd::History {
        tenor_days: Some(30),
        from_ms: Some(start + (DAYS - 1) * 86_400_000),
        ..cmd::History::new("BTC", &["atm_iv"])
    };
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut con_on)
        .unwrap();
    let mut trips = Vec::new();
    let mut day_points = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let d = options_tests::run(&mut con_on, &day).expect("a day of history");
        trips.push(t.elapsed().as_secs_f64() * 1000.0);
        day_points = d.points.len();
    }
    let server_us = server_usec_per_call(&mut con_on, "options.history");

    // 2. INGEST with and without sampling, side by side, alternating which goes first
    let later = start + 40 * 86_400_000;
    market.roll(later);
    let (mut real_on, mut real_off, mut hot_on, mut hot_off) = (vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let base = later + round * 10 * 86_400_000;
        let hot = base + 86_400_000 * 5;
        let mut pair = |per: i64, at: i64, on: &mut Vec<f64>, off: &mut Vec<f64>| {
            if round % 2 == 0 {
                off.push(ingest_rate(&mut con_off, &market, per, at));
                on.push(ingest_rate(&mut con_on, &market, per, at));
            } else {
                on.push(ingest_rate(&mut con_on, &market, per, at));
                off.push(ingest_rate(&mut con_off, &market, per, at));
            }
        };
        pair(600_000, base, &mut real_on, &mut real_off);
        pair(1_000, hot, &mut hot_on, &mut hot_off);
    }
    let ratio =
        |on: &[f64], off: &[f64]| -> Vec<f64> { on.iter().zip(off).map(|(a, b)| a / b).collect() };
    let med = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        options_tests::bench::median(&v)
    };
    let (r_real, r_hot) = (ratio(&real_on, &real_off), ratio(&hot_on, &hot_off));
    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- history:begin -->\n\
## Chain history (issue #15)\n\n\
A moving market: index, forwards, smiles, open interest and volume random-walk every minute; greeks from Black-76, so deltas follow \
strikes; {EXPIRIES} weekly expiries of up to {STRIKES} strikes × call/put stay listed (expired ones roll into new ones: {listed} contracts \
listed over the run). {DAYS} days of minutes, every live contract rewritten every minute, written in {simulated:.0} s. Values kept to \
7 significant digits at least (docs/ANALYTICS.md). Rates: the median of {ROUNDS} alternating rounds of 400,000 writes, their range in brackets.\n\n\
| measurement | result | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| history in `MEMORY USAGE BTC` with {samples} samples (30 days of minutes) | {history_mib:.2} MiB ({per_sample:.0} bytes per sample) | {off_mib:.2} MiB: the same chain with history off | — | ≤ 8 MiB {ok1} |\n\
| a day of one metric: `OPTIONS.HISTORY BTC TENOR 30 METRIC atm_iv FROM <a day ago>` ({day_points} points), 50 calls: time in the server per call (`INFO commandstats`), and the client's round trip | {server_ms:.3} ms in Redis; round trip {trip_s} ms | — | — | ≤ 0.5 ms in Redis {ok3} |\n\
| `OPTIONS.HISTORY BTC TENOR 30 METRIC atm_iv rr25 bf25` over all {samples} samples, one call | {read_ms:.1} ms, {bytes} bytes of JSON | — | — | — |\n\
| pipelined `OPTIONS.INGEST`, a sample per 600,000 writes (one a minute at 10,000 updates/s) | {real_on_s} writes/s | {real_off_s} writes/s with history off | {r2:.3}× ({r2_s}) | ≥ 0.95× {ok2} |\n\
| the same, a sample every 1,000 writes (600× the real rate of samples) | {hot_on_s} writes/s | {hot_off_s} writes/s with history off | {r3:.3}× ({r3_s}) | — |\n\
\n<!-- history:end -->",
        off_mib = mem_off as f64 / (1024.0 * 1024.0),
        ok1 = met(history_mib <= 8.0),
        trip_s = spread(&trips, 2),
        bytes = all.len(),
        server_ms = server_us / 1000.0,
        ok3 = met(server_us <= 500.0),
        real_on_s = spread(&real_on, 0),
        real_off_s = spread(&real_off, 0),
        hot_on_s = spread(&hot_on, 0),
        hot_off_s = spread(&hot_off, 0),
        r2 = med(&r_real),
        r2_s = spread(&r_real, 3),
        ok2 = met(med(&r_real) >= 0.95),
        r3 = med(&r_hot),
        r3_s = spread(&r_hot, 3),
    );
    println!("{section}");
    options_tests::write_benchmark_section("history", "module_history", &section);
}
