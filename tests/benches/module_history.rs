//! The chain's history, measured side by side in one run:
//!
//! 1. memory: 30 days of 1-minute samples of a 2,500-contract chain with 12 expiries, where every
//!    minute the market moves (near-the-money contracts of every expiry get a new IV, delta,
//!    forward and open interest, so every figure changes), against the same chain on a server
//!    with history off; as `MEMORY USAGE` reports it;
//! 2. what sampling costs `OPTIONS.INGEST`: pipelined writes on a server with history on and
//!    one with it off, at the real rate (a sample per 600,000 writes: 10,000 updates/s) and at a
//!    sample every 1,000 writes.
//!
//! Results replace the `history` section of BENCHMARKS.md. Run with `make bench`.

use std::time::Instant;

use options_tests::fixture::{self, FixtureContract};
use options_tests::{RedisServer, TempDir};

const EXPIRIES: usize = 12;
const STRIKES: usize = 104;
const MINUTE: i64 = 60_000;
const DAYS: i64 = 30;

fn usage(con: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg("0")
        .query(con)
        .unwrap()
}

/// 30 days of minutes; each minute moves five contracts around the money of every expiry.
fn simulate(con: &mut redis::Connection, contracts: &[FixtureContract], start: i64) {
    let per_expiry = contracts.len() / EXPIRIES;
    let mut pipe = redis::pipe();
    let mut queued = 0;
    for minute in 0..DAYS * 24 * 60 {
        let w = start + minute * MINUTE;
        let drift = (minute as f64 / 97.0).sin();
        for e in 0..EXPIRIES {
            for k in 0..5 {
                let i = e * per_expiry + per_expiry / 2 - 4 + 2 * k + (minute as usize % 2);
                let c = &contracts[i];
                let wiggle = ((minute * 7 + i as i64) % 13) as f64 / 13.0;
                pipe.cmd("OPTIONS.INGEST")
                    .arg("BTC")
                    .arg(&c.symbol)
                    .arg("mark_iv")
                    .arg(c.value("mark_iv") * (1.0 + 0.02 * drift + 0.001 * wiggle))
                    .arg("delta")
                    .arg(c.value("delta") * (1.0 + 0.01 * wiggle))
                    .arg("underlying_price")
                    .arg(c.value("underlying_price") * (1.0 + 0.01 * drift))
                    .arg("open_interest")
                    .arg(c.value("open_interest") + (minute % 50) as f64)
                    .arg("updated_ms")
                    .arg(w + k as i64)
                    .ignore();
                queued += 1;
            }
        }
        if queued >= 2_000 {
            pipe.query::<()>(con).expect("history pipeline");
            pipe = redis::pipe();
            queued = 0;
        }
    }
    pipe.query::<()>(con).expect("history pipeline");
}

/// Pipelined INGESTs per second, `updated_ms` advancing so that one in `per_sample` crosses a
/// minute.
fn ingest_rate(
    con: &mut redis::Connection,
    contracts: &[FixtureContract],
    per_sample: i64,
    start: i64,
) -> f64 {
    let n = 200_000i64;
    let step = (MINUTE / per_sample).max(1) as f64;
    let t0 = Instant::now();
    let mut pipe = redis::pipe();
    for i in 0..n {
        let c = &contracts[i as usize % contracts.len()];
        pipe.cmd("OPTIONS.INGEST")
            .arg("BTC")
            .arg(&c.symbol)
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

fn main() {
    let contracts = fixture::btc_chain(EXPIRIES, STRIKES, 5);
    let n = contracts.len();
    let start = (fixture::now_ms() / MINUTE + 1) * MINUTE;

    // 1. memory: history on (default settings) vs off, same writes
    let on = RedisServer::start(&[]);
    let off = RedisServer::start_with_module_args(
        TempDir::new("redis"),
        &["history-retention", "0"],
        &[],
    );
    let (mut con_on, mut con_off) = (on.connection(), off.connection());
    let t0 = Instant::now();
    for con in [&mut con_on, &mut con_off] {
        fixture::ingest(con, &contracts);
        simulate(con, &contracts, start);
    }
    let simulated = t0.elapsed().as_secs_f64();
    let samples: Vec<serde_json::Value> = {
        let t = options_tests::text(
            &mut con_on,
            &[
                "OPTIONS.HISTORY",
                "BTC",
                "METRIC",
                "index",
                "FORMAT",
                "JSON",
            ],
        )
        .unwrap();
        serde_json::from_str::<serde_json::Value>(&t).unwrap()["points"]
            .as_array()
            .unwrap()
            .clone()
    };
    let mem_on = usage(&mut con_on, "BTC");
    let mem_off = usage(&mut con_off, "BTC");
    let history_bytes = (mem_on - mem_off) as f64;
    let per_sample = history_bytes / samples.len() as f64;
    let mib = mem_on as f64 / (1024.0 * 1024.0);
    let t = Instant::now();
    let q = options_tests::text(
        &mut con_on,
        &[
            "OPTIONS.HISTORY",
            "BTC",
            "TENOR",
            "30",
            "METRIC",
            "atm_iv",
            "rr25",
            "bf25",
            "FORMAT",
            "JSON",
        ],
    )
    .unwrap();
    let read_ms = t.elapsed().as_secs_f64() * 1000.0;
    // A day of one metric, as a chart asks for it: the best of 20 reads.
    let last_day = (start + (DAYS - 1) * 86_400_000).to_string();
    let mut day_ms = f64::MAX;
    let mut day_points = 0;
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut con_on)
        .unwrap();
    for _ in 0..20 {
        let t = Instant::now();
        let d = options_tests::text(
            &mut con_on,
            &[
                "OPTIONS.HISTORY",
                "BTC",
                "TENOR",
                "30",
                "METRIC",
                "atm_iv",
                "FROM",
                &last_day,
                "FORMAT",
                "JSON",
            ],
        )
        .unwrap();
        day_ms = day_ms.min(t.elapsed().as_secs_f64() * 1000.0);
        day_points = d.matches("],[").count() + 1;
    }
    // The server's own time per call (INFO commandstats), without the network and the client.
    let stats = options_tests::text(&mut con_on, &["INFO", "commandstats"]).unwrap();
    let server_us: f64 = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_options.history:"))
        .and_then(|l| l.split("usec_per_call=").nth(1))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);

    // 2. INGEST with and without sampling, side by side, twice each
    let later = start + 40 * 86_400_000;
    let (mut real_on, mut real_off, mut hot_on, mut hot_off) = (0f64, 0f64, 0f64, 0f64);
    // Alternating which goes first, best of four each: the machine's noise is larger than the
    // cost being measured.
    for round in 0..4 {
        let base = later + round * 10 * 86_400_000;
        let hot = base + 86_400_000 * 5;
        if round % 2 == 0 {
            real_off = real_off.max(ingest_rate(&mut con_off, &contracts, 600_000, base));
            real_on = real_on.max(ingest_rate(&mut con_on, &contracts, 600_000, base));
            hot_off = hot_off.max(ingest_rate(&mut con_off, &contracts, 1_000, hot));
            hot_on = hot_on.max(ingest_rate(&mut con_on, &contracts, 1_000, hot));
        } else {
            real_on = real_on.max(ingest_rate(&mut con_on, &contracts, 600_000, base));
            real_off = real_off.max(ingest_rate(&mut con_off, &contracts, 600_000, base));
            hot_on = hot_on.max(ingest_rate(&mut con_on, &contracts, 1_000, hot));
            hot_off = hot_off.max(ingest_rate(&mut con_off, &contracts, 1_000, hot));
        }
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- history:begin -->\n\
## Chain history (issue #15)\n\n\
Machine: {cores} cores. Chain: {n} BTC contracts ({EXPIRIES} expiries × {STRIKES} strikes × call/put); {DAYS} days of 1-minute samples written in {simulated:.0} s \
(every minute five contracts around the money of every expiry get a new IV, delta, forward and open interest, so every figure moves). Produced by `make bench` ({bench}).\n\n\
| measurement | result | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| `MEMORY USAGE BTC` with {count} samples | {mib:.2} MiB ({per_sample:.0} bytes per sample, {history_mib:.2} MiB of history) | {off_mib:.2} MiB with history off | — | ≤ 16 MiB {ok1} |\n\
| a day of one metric: `OPTIONS.HISTORY BTC TENOR 30 METRIC atm_iv FROM <a day ago>` ({day_points} points): time in the server (`INFO commandstats`), and one client's round trip | {server_ms:.2} ms in Redis; {day_ms:.2} ms round trip | — | — | ≤ 1 ms in Redis {ok3} |\n\
| `OPTIONS.HISTORY BTC TENOR 30 METRIC atm_iv rr25 bf25` over all {count} samples | {read_ms:.1} ms, {bytes} bytes of JSON | — | — | — |\n\
| pipelined `OPTIONS.INGEST`, a sample per 600,000 writes (1 per minute at 10,000 updates/s) | {real_on:.0} writes/s | {real_off:.0} writes/s with history off | {r2:.3}× | ≥ 0.95× {ok2} |\n\
| the same, a sample every 1,000 writes (60× the real rate of samples) | {hot_on:.0} writes/s | {hot_off:.0} writes/s with history off | {r3:.3}× | — |\n\
\n<!-- history:end -->",
        bench = "cargo bench -p options-tests --bench module_history",
        count = samples.len(),
        history_mib = history_bytes / (1024.0 * 1024.0),
        off_mib = mem_off as f64 / (1024.0 * 1024.0),
        ok1 = met(mib <= 16.0),
        bytes = q.len(),
        r2 = real_on / real_off,
        ok2 = met(real_on / real_off >= 0.95),
        r3 = hot_on / hot_off,
        server_ms = server_us / 1000.0,
        ok3 = met(server_us <= 1000.0),
    );
    println!("{section}");
    options_tests::write_benchmark_section("history", &section);
}
