//! Module benchmarks, measured side by side in one run on one machine (ratios, not absolutes):
//!
//! 1. `OPTIONS.QUERY` of one expiry on a 2,500-contract chain vs `GET` of a string as large as
//!    the query's reply, both driven by `redis-benchmark` with the same settings.
//! 2. The same question answered the seed's way (`KEYS option:BTC-*` + `HGETALL` per contract,
//!    filtered in the client) vs `OPTIONS.QUERY`, from one Rust client.
//! 3. Memory per contract: module (all 24 fields) vs the seed's hash per contract (15 fields).
//!
//! Results replace the `module` section of BENCHMARKS.md. Run with `make bench`.

use options_tests::bench::{median_run, rate, redis_benchmark, spread, BenchResult};
use options_tests::fixture::{self, FixtureContract};
use options_tests::RedisServer;

const CONTRACTS_EXPIRIES: usize = 10;
const CONTRACTS_STRIKES: usize = 125;

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let contracts = fixture::btc_chain(CONTRACTS_EXPIRIES, CONTRACTS_STRIKES, 1);
    let n = contracts.len();
    fixture::ingest(&mut con, &contracts);
    let mem_usage = |con: &mut redis::Connection| -> i64 {
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("BTC")
            .arg("SAMPLES")
            .arg("0")
            .query(con)
            .unwrap()
    };
    let module_mem = mem_usage(&mut con);
    let expiry = contracts[n / 2].expiry.clone();
    let query = [
        "OPTIONS.QUERY",
        "BTC",
        "EXPIRY",
        expiry.as_str(),
        "FORMAT",
        "JSON",
    ];
    let reply = options_tests::text(&mut con, &query).unwrap();
    let rows = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["total"]
        .as_u64()
        .unwrap();
    let blob = "x".repeat(reply.len());
    let _: () = redis::cmd("SET")
        .arg("blob")
        .arg(&blob)
        .query(&mut con)
        .unwrap();

    // The same reply rendered afresh every time: naming every column with FIELDS bypasses the
    // per-row cache (what a chain that changes between two queries costs).
    let all_columns: Vec<&str> = options_core::Column::all()
        .skip(1)
        .map(|c| c.name())
        .collect();
    let count = all_columns.len().to_string();
    let mut cold_query: Vec<&str> = query[..4].to_vec();
    cold_query.extend(["FIELDS", count.as_str()]);
    cold_query.extend(all_columns.iter().copied());
    cold_query.extend(["FORMAT", "JSON"]);
    assert_eq!(
        options_tests::text(&mut con, &cold_query).unwrap(),
        reply,
        "same bytes either way"
    );

    // 1. same client (redis-benchmark), same settings, interleaved rounds; the median round is
    // published with the range of all of them (the noise)
    let (requests, clients) = (20_000, 4);
    let (mut q, mut g, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        q.push(redis_benchmark(server.port, requests, clients, &query));
        g.push(redis_benchmark(
            server.port,
            requests,
            clients,
            &["GET", "blob"],
        ));
        c.push(redis_benchmark(
            server.port,
            requests / 4,
            clients,
            &cold_query,
        ));
    }
    let (q_rps, q_p50, q_p99) = median_run(&q);
    let (g_rps, g_p50, g_p99) = median_run(&g);
    let (c_rps, c_p50, c_p99) = median_run(&c);
    let rps_of = |runs: &[BenchResult]| spread(&runs.iter().map(|r| r.rps).collect::<Vec<_>>(), 0);
    let (q_s, g_s, c_s) = (rps_of(&q), rps_of(&g), rps_of(&c));

    // 3. memory per contract, same chain: as ingested, and with every row's JSON cached
    let _ = options_tests::text(&mut con, &["OPTIONS.QUERY", "BTC", "FORMAT", "JSON"]).unwrap();
    let module_warm = mem_usage(&mut con) as f64 / n as f64;
    fixture::write_seed_hashes(&mut con, &contracts);
    let mut seed_mem = 0i64;
    for c in &contracts {
        let m: i64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(format!("option:{}", c.symbol))
            .arg("SAMPLES")
            .arg("0")
            .query(&mut con)
            .unwrap();
        seed_mem += m;
    }
    let module_per = module_mem as f64 / n as f64;
    let seed_per = seed_mem as f64 / n as f64;

    // 2. the seed's read path vs the module, one Rust client each, same question, alternating
    let padded_expiry = contracts[n / 2].expiry_padded.clone();
    let (mut seed_runs, mut mod_runs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (seed_rps, _) = rate(5.0, || {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("option:BTC-*")
                .query(&mut con)
                .unwrap();
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("HGETALL").arg(k);
            }
            let rows: Vec<std::collections::HashMap<String, String>> =
                pipe.query(&mut con).unwrap();
            let kept = rows
                .iter()
                .filter(|r| {
                    r.get("symbol").is_some_and(|s| {
                        s.split('-').nth(1).is_some_and(|e| pad(e) == padded_expiry)
                    })
                })
                .count();
            assert_eq!(kept as u64, rows_expected(&contracts, &expiry));
        });
        let (mod_rps, _) = rate(5.0, || {
            let r = options_tests::text(&mut con, &query).unwrap();
            assert_eq!(r.len(), reply.len());
        });
        seed_runs.push(seed_rps);
        mod_runs.push(mod_rps);
    }
    let ratios: Vec<f64> = mod_runs
        .iter()
        .zip(&seed_runs)
        .map(|(m, s)| m / s)
        .collect();

    let section = format!(
        "<!-- module:begin -->\n\
## Redis module (issue #3)\n\n\
Chain: {n} BTC contracts ({CONTRACTS_EXPIRIES} expiries × {CONTRACTS_STRIKES} strikes × call/put), all 24 fields set. \
Query: `{q}` → {rows} rows, {bytes} bytes of JSON. Rates: the median of {ROUNDS} interleaved rounds, the range of the rounds in brackets \
(latencies are the median round's).\n\n\
| measurement | module | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| `OPTIONS.QUERY` (1 expiry, JSON, rows cached since the last change) vs `GET` of a {bytes}-byte string, redis-benchmark -c {clients} -n {requests} | {q_s} req/s (p50 {q_p50:.3} ms, p99 {q_p99:.3} ms) | {g_s} req/s (p50 {g_p50:.3} ms, p99 {g_p99:.3} ms) | {r1:.2}× of GET | ≥ 0.5× {ok1} |\n\
| same reply rendered afresh (every column named in `FIELDS`, no cache: a chain that changed since the last query) vs `GET` | {c_s} req/s (p50 {c_p50:.3} ms, p99 {c_p99:.3} ms) | {g_rps:.0} req/s | {r4:.2}× of GET | ≥ 0.5× {ok4} |\n\
| same question, seed's model (`KEYS option:BTC-*` + all {n} `HGETALL` in one pipeline, filtered in client) vs `OPTIONS.QUERY`, one Rust client each (the same concurrency and pipelining), 5 s per round | {mod_s} req/s | {seed_s} req/s | {r2:.0}× faster ({ratio_s}) | — |\n\
| memory per contract (`MEMORY USAGE`), as written, before any read | {module_per:.0} B (24 fields as doubles) | {seed_per:.0} B (seed hash, 15 fields as text, `option:{{symbol}}`) | {r3:.2}× of seed | < 433 B {ok3} |\n\
| memory per contract after a read of every row (what a chain that options-web reads all day holds: each row's JSON cached) | {module_warm:.0} B | {seed_per:.0} B | {r5:.2}× of seed | < 433 B {ok5} |\n\
\n<!-- module:end -->",
        q = query.join(" "),
        bytes = reply.len(),
        r1 = q_rps / g_rps,
        ok1 = if q_rps / g_rps >= 0.5 { "✅ met" } else { "❌ missed" },
        r4 = c_rps / g_rps,
        ok4 = if c_rps / g_rps >= 0.5 { "✅ met" } else { "❌ missed" },
        mod_s = spread(&mod_runs, 0),
        seed_s = spread(&seed_runs, 1),
        ratio_s = spread(&ratios, 0),
        r2 = {
            let mut r = ratios.clone();
            r.sort_by(f64::total_cmp);
            options_tests::bench::median(&r)
        },
        r3 = module_per / seed_per,
        ok3 = if module_per < 433.0 { "✅ met" } else { "❌ missed" },
        r5 = module_warm / seed_per,
        ok5 = if module_warm < 433.0 { "✅ met" } else { "❌ missed" },
    );
    println!("{section}");
    options_tests::write_benchmark_section("module", "module_query", &section);
}

const ROUNDS: usize = 3;

fn pad(e: &str) -> String {
    if e.len() == 6 {
        format!("0{e}")
    } else {
        e.to_string()
    }
}

fn rows_expected(contracts: &[FixtureContract], expiry: &str) -> u64 {
    contracts.iter().filter(|c| c.expiry == expiry).count() as u64
}
