//! `OPTIONS.FLOW` over a day of 50,000 trades (issue 30), side by side in one run:
//!
//! 1. the default call (the 24 hours before now, totals and per expiry) with redis-benchmark,
//!    against `GET` of a string as large as its reply; and with `BYSTRIKE BUCKET 3600`, what a
//!    dashboard's flow view asks;
//! 2. recording: pipelined `OPTIONS.TRADE` (dedupe, append, trim) against pipelined `XADD` of
//!    the same fields into a plain stream, alternating rounds;
//! 3. the same on a full tape, whose 24-hour window slides with every trade (each trims one),
//!    against `XADD … MINID` trimming a plain stream the same way.
//!
//! Results replace the `flow` section of BENCHMARKS.md. Run with `make bench`.

use std::time::Instant;

use options_tests::bench::{median, median_run, redis_benchmark, spread, BenchResult};
use options_tests::RedisServer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TRADES: usize = 50_000;
const ROUNDS: usize = 3;
const PIPELINE: usize = 1_000;
const WRITES_PER_ROUND: usize = 20_000;
const DAY_MS: i64 = 86_400_000;
/// The spacing of a day of `TRADES` trades.
const STEP_MS: i64 = DAY_MS / TRADES as i64;

/// One trade's arguments after the key: id symbol side size price ts INDEX px [BLOCK].
fn trade_args(rng: &mut StdRng, i: usize, ts: i64, expiries: &[String]) -> Vec<String> {
    let e = &expiries[rng.random_range(0..expiries.len())];
    let strike = 60_000 + 5_000 * rng.random_range(0..16);
    let kind = if rng.random_bool(0.5) { "C" } else { "P" };
    let mut a = vec![
        format!("b{i}"),
        format!("BTC-{e}-{strike}-{kind}"),
        if rng.random_bool(0.5) { "buy" } else { "sell" }.to_string(),
        format!("{}", rng.random_range(1..100) as f64 / 10.0),
        format!("{}", rng.random_range(10..20_000)),
        ts.to_string(),
        "INDEX".into(),
        format!("{}", 97_000 + rng.random_range(0..500)),
    ];
    if rng.random_bool(0.05) {
        a.push("BLOCK".into());
    }
    a
}

fn rates(runs: &[BenchResult]) -> Vec<f64> {
    runs.iter().map(|r| r.rps).collect()
}

fn main() {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let now = options_core::clock::now_ms();
    let today = now.div_euclid(86_400_000);
    let expiries: Vec<String> = [1, 2, 3, 9, 16, 30, 58, 86, 177, 268]
        .iter()
        .map(|d| {
            options_core::Expiry::from_unix_days(today + d)
                .unwrap()
                .code()
        })
        .collect();
    let mut rng = StdRng::seed_from_u64(30);
    let mut pipe = redis::pipe();
    for i in 0..TRADES {
        let ts = now - 86_400_000 + (86_400_000 * i / TRADES) as i64;
        let mut cmd = redis::cmd("OPTIONS.TRADE");
        cmd.arg("BTC").arg(trade_args(&mut rng, i, ts, &expiries));
        pipe.add_command(cmd).ignore();
        if (i + 1) % PIPELINE == 0 {
            pipe.query::<()>(&mut con).expect("trades");
            pipe = redis::pipe();
        }
    }
    let len: usize = redis::cmd("XLEN")
        .arg("{BTC}:trades")
        .query(&mut con)
        .unwrap();
    assert_eq!(len, TRADES);
    let default_cmd = ["OPTIONS.FLOW", "BTC", "FORMAT", "JSON"];
    let view_cmd = [
        "OPTIONS.FLOW",
        "BTC",
        "BYSTRIKE",
        "BUCKET",
        "3600",
        "FORMAT",
        "JSON",
    ];
    let reply = options_tests::text(&mut con, &default_cmd).unwrap();
    let view_reply = options_tests::text(&mut con, &view_cmd).unwrap();
    let _: () = redis::cmd("SET")
        .arg("blob")
        .arg("x".repeat(reply.len()))
        .query(&mut con)
        .unwrap();

    // 1. the flow, interleaved with GET of its size
    let (requests, clients) = (4_000, 4);
    let (mut flows, mut views, mut gets) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        flows.push(redis_benchmark(
            server.port,
            requests,
            clients,
            &default_cmd,
        ));
        views.push(redis_benchmark(server.port, requests, clients, &view_cmd));
        gets.push(redis_benchmark(
            server.port,
            requests * 10,
            clients,
            &["GET", "blob"],
        ));
    }
    let (f_rps, f_p50, f_p99) = median_run(&flows);
    let (v_rps, v_p50, v_p99) = median_run(&views);
    let (g_rps, _, _) = median_run(&gets);

    // 2. recording, pipelined, alternating with XADD of the same fields into a plain stream
    let (mut trade_rates, mut xadd_rates) = (Vec::new(), Vec::new());
    let mut next = TRADES;
    for round in 0..ROUNDS {
        let batch: Vec<Vec<String>> = (0..WRITES_PER_ROUND)
            .map(|j| {
                let i = next + j;
                trade_args(&mut rng, i, now + i as i64, &expiries)
            })
            .collect();
        next += WRITES_PER_ROUND;
        let args: Vec<&[String]> = batch.iter().map(Vec::as_slice).collect();
        trade_rates.push(record_rate(&mut con, &args));
        let t0 = Instant::now();
        for chunk in batch.chunks(PIPELINE) {
            let mut pipe = redis::pipe();
            for a in chunk {
                plain_xadd(&mut pipe, &format!("plain{round}"), a, None);
            }
            pipe.query::<()>(&mut con).expect("xadd");
        }
        xadd_rates.push(WRITES_PER_ROUND as f64 / t0.elapsed().as_secs_f64());
    }
    let ratios: Vec<f64> = trade_rates
        .iter()
        .zip(&xadd_rates)
        .map(|(t, x)| t / x)
        .collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);

    // 3. a full tape: a day of trades, evenly spaced, and each new one a spacing later, so
    //    every trade pushes the oldest out of the 24 hours kept (a tape's steady state).
    let (slide_rates, slide_xadd_rates) = sliding_window(now, &expiries, &mut rng);
    let slide_ratios: Vec<f64> = slide_rates
        .iter()
        .zip(&slide_xadd_rates)
        .map(|(t, x)| t / x)
        .collect();

    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- flow:begin -->\n\
## Option flow (issue 30)\n\n\
Shared by redis-server and the clients. A day of {TRADES} BTC trades (10 expiries, 16 strikes, calls and puts, \
both sides, 5 % blocks) recorded with `OPTIONS.TRADE` on the tape `{{BTC}}:trades`. Rates: the median of {ROUNDS} \
interleaved rounds, their range in brackets; latencies from the median round.\n\n\
| measurement | result | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| `OPTIONS.FLOW BTC FORMAT JSON` (the 24 hours before now: totals and per expiry, {bytes} bytes), redis-benchmark -c {clients} -n {requests} | {f_s} calls/s (p50 {f_p50:.3} ms, p99 {f_p99:.3} ms) | `GET` of a {bytes}-byte string: {g_s} req/s | {r1:.3}× of GET | ≥ 500 calls/s {ok1} |\n\
| `OPTIONS.FLOW BTC BYSTRIKE BUCKET 3600 FORMAT JSON` (the dashboard's view: per strike and hourly too, {vbytes} bytes) | {v_s} calls/s (p50 {v_p50:.3} ms, p99 {v_p99:.3} ms) | {f_rps:.0} calls/s for the default call | {r2:.2}× | — |\n\
| recording: pipelined `OPTIONS.TRADE` ({PIPELINE} a pipeline; dedupe, append, trim), {WRITES_PER_ROUND} a round | {t_s} trades/s | pipelined `XADD` of the same fields to a plain stream: {x_s} entries/s | {r3:.2}× ({r3_s}) | — |\n\
| recording on a full tape (a day of {TRADES} trades; each new trade {STEP_MS} ms after the last, so each pushes the oldest out), {WRITES_PER_ROUND} a round | {s_s} trades/s | pipelined `XADD … MINID` (the same trim) of the same fields: {sx_s} entries/s | {r4:.2}× ({r4_s}) | — |\n\
\n<!-- flow:end -->",
        bytes = reply.len(),
        vbytes = view_reply.len(),
        f_s = spread(&rates(&flows), 0),
        v_s = spread(&rates(&views), 0),
        g_s = spread(&rates(&gets), 0),
        r1 = f_rps / g_rps,
        ok1 = met(f_rps >= 500.0),
        r2 = v_rps / f_rps,
        t_s = spread(&trade_rates, 0),
        x_s = spread(&xadd_rates, 0),
        r3 = median(&sorted),
        r3_s = spread(&ratios, 2),
        s_s = spread(&slide_rates, 0),
        sx_s = spread(&slide_xadd_rates, 0),
        r4 = median(&slide_ratios),
        r4_s = spread(&slide_ratios, 2),
    );
    println!("{section}");
    options_tests::write_benchmark_section("flow", "module_flow", &section);
}

/// Part 3 on a server of its own: a day of `TRADES` trades `STEP_MS` apart up to `now`, then
/// rounds of trades `STEP_MS` apart after it, alternating with `XADD … MINID` of the same
/// fields into a plain stream of the same day. Rates of each round: (OPTIONS.TRADE, XADD).
fn sliding_window(now: i64, expiries: &[String], rng: &mut StdRng) -> (Vec<f64>, Vec<f64>) {
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let at = |i: usize| now - DAY_MS + STEP_MS * (i as i64 + 1);
    for chunk in (0..TRADES).collect::<Vec<_>>().chunks(PIPELINE) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            let a = trade_args(rng, i, at(i), expiries);
            pipe.cmd("OPTIONS.TRADE").arg("BTC").arg(&a).ignore();
            plain_xadd(&mut pipe, "plain", &a, Some(at(i)));
        }
        pipe.query::<()>(&mut con).expect("a day of trades");
    }
    let (mut trades, mut xadds) = (Vec::new(), Vec::new());
    let mut next = TRADES;
    for _ in 0..ROUNDS {
        let batch: Vec<(i64, Vec<String>)> = (next..next + WRITES_PER_ROUND)
            .map(|i| (at(i), trade_args(rng, i, at(i), expiries)))
            .collect();
        next += WRITES_PER_ROUND;
        let args: Vec<&[String]> = batch.iter().map(|(_, a)| a.as_slice()).collect();
        trades.push(record_rate(&mut con, &args));
        let t0 = Instant::now();
        for chunk in batch.chunks(PIPELINE) {
            let mut pipe = redis::pipe();
            for (ts, a) in chunk {
                plain_xadd(&mut pipe, "plain", a, Some(*ts));
            }
            pipe.query::<()>(&mut con).expect("xadd");
        }
        xadds.push(WRITES_PER_ROUND as f64 / t0.elapsed().as_secs_f64());
    }
    // Both stayed a day long: each write pushed one out.
    for stream in ["{BTC}:trades", "plain"] {
        let len: usize = redis::cmd("XLEN").arg(stream).query(&mut con).unwrap();
        assert!(
            (TRADES - 1..=TRADES + 1).contains(&len),
            "{stream} holds {len} entries, not a day's {TRADES}"
        );
    }
    (trades, xadds)
}

/// `XADD` of the fields a tape's entry holds, from a trade's arguments, to a plain stream: at
/// the next id, or with `at` at that time's id, trimming a day back from it (`MINID`), as a
/// full tape trims.
fn plain_xadd(pipe: &mut redis::Pipeline, stream: &str, a: &[String], at: Option<i64>) {
    let block = if a.len() > 8 { "1" } else { "0" };
    let cmd = pipe.cmd("XADD").arg(stream);
    match at {
        Some(ts) => cmd.arg("MINID").arg(ts - DAY_MS).arg(format!("{ts}-0")),
        None => cmd.arg("*"),
    };
    cmd.arg(&[
        "id", &a[0], "symbol", &a[1], "side", &a[2], "size", &a[3], "price", &a[4], "index", &a[7],
        "block", block, "ts", &a[5],
    ])
    .ignore();
}

/// Records `trades` (each one's arguments after the key) on BTC's tape, `PIPELINE` to a
/// pipeline; trades a second.
fn record_rate(con: &mut redis::Connection, trades: &[&[String]]) -> f64 {
    let t0 = Instant::now();
    for chunk in trades.chunks(PIPELINE) {
        let mut pipe = redis::pipe();
        for a in chunk {
            pipe.cmd("OPTIONS.TRADE").arg("BTC").arg(*a).ignore();
        }
        pipe.query::<()>(con).expect("trades");
    }
    trades.len() as f64 / t0.elapsed().as_secs_f64()
}
