//! Module benchmarks, measured side by side in one run on one machine (ratios, not absolutes):
//!
//! 1. `OPTIONS.QUERY` of one expiry on a 2,500-contract chain vs `GET` of a string as large as
//!    the query's reply, both driven by `redis-benchmark` with the same settings.
//! 2. The same question answered the seed's way (`KEYS option:BTC-*` + `HGETALL` per contract,
//!    filtered in the client) vs `OPTIONS.QUERY`, from one Rust client.
//! 3. Memory per contract: module (all 24 fields) vs the seed's hash per contract (15 fields).
//!
//! Results replace the `module` section of BENCHMARKS.md. Run with `make bench`.

use options_tests::bench::{best, rate, redis_benchmark};
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

    // 1. same client (redis-benchmark), same settings, interleaved twice to even out noise
    let (requests, clients) = (20_000, 4);
    let (mut q, mut g, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..2 {
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
    let (q_rps, q_p50, q_p99) = best(&q);
    let (g_rps, g_p50, g_p99) = best(&g);
    let (c_rps, c_p50, c_p99) = best(&c);

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

    // 2. the seed's read path vs the module, one Rust client, same question
    let padded_expiry = contracts[n / 2].expiry_padded.clone();
    let (seed_rps, seed_n) = rate(5.0, || {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("option:BTC-*")
            .query(&mut con)
            .unwrap();
        let mut pipe = redis::pipe();
        for k in &keys {
            pipe.cmd("HGETALL").arg(k);
        }
        let rows: Vec<std::collections::HashMap<String, String>> = pipe.query(&mut con).unwrap();
        let kept = rows
            .iter()
            .filter(|r| {
                r.get("symbol")
                    .is_some_and(|s| s.split('-').nth(1).is_some_and(|e| pad(e) == padded_expiry))
            })
            .count();
        assert_eq!(kept as u64, rows_expected(&contracts, &expiry));
    });
    let (mod_rps, mod_n) = rate(5.0, || {
        let r = options_tests::text(&mut con, &query).unwrap();
        assert_eq!(r.len(), reply.len());
    });
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    let section = format!(
        "<!-- module:begin -->\n\
## Redis module (issue #3)\n\n\
Machine: {cores} cores. Chain: {n} BTC contracts ({CONTRACTS_EXPIRIES} expiries × {CONTRACTS_STRIKES} strikes × call/put), all 24 fields set. \
Query: `{q}` → {rows} rows, {bytes} bytes of JSON. Produced by `make bench` ({bench}).\n\n\
| measurement | module | baseline | ratio | target |\n\
|---|---|---|---|---|\n\
| `OPTIONS.QUERY` (1 expiry, JSON, rows cached since the last change) vs `GET` of a {bytes}-byte string, redis-benchmark -c {clients} -n {requests} | {q_rps:.0} req/s (p50 {q_p50:.3} ms, p99 {q_p99:.3} ms) | {g_rps:.0} req/s (p50 {g_p50:.3} ms, p99 {g_p99:.3} ms) | {r1:.2}× of GET | ≥ 0.5× {ok1} |\n\
| same reply rendered afresh (every column named in `FIELDS`, no cache: a chain that changed since the last query) vs `GET` | {c_rps:.0} req/s (p50 {c_p50:.3} ms, p99 {c_p99:.3} ms) | {g_rps:.0} req/s | {r4:.2}× of GET | ≥ 0.5× {ok4} |\n\
| same question, seed's model (`KEYS option:BTC-*` + pipelined `HGETALL` × {n}, filtered in client) vs `OPTIONS.QUERY`, one Rust client, 5 s each | {mod_rps:.0} req/s ({mod_n} runs) | {seed_rps:.1} req/s ({seed_n} runs) | {r2:.0}× faster | — |\n\
| memory per contract (`MEMORY USAGE`) | {module_per:.0} B (24 fields as doubles; {module_warm:.0} B once every row's JSON is cached by a read) | {seed_per:.0} B (seed hash, 15 fields as text, `option:{{symbol}}`) | {r3:.2}× of seed | < 433 B {ok3} |\n\
\n<!-- module:end -->",
        q = query.join(" "),
        bytes = reply.len(),
        bench = "cargo bench -p options-tests --bench module_query",
        r1 = q_rps / g_rps,
        ok1 = if q_rps / g_rps >= 0.5 { "✅ met" } else { "❌ missed" },
        r4 = c_rps / g_rps,
        ok4 = if c_rps / g_rps >= 0.5 { "✅ met" } else { "❌ missed" },
        r2 = mod_rps / seed_rps,
        r3 = module_per / seed_per,
        ok3 = if module_per < 433.0 { "✅ met" } else { "❌ missed" },
    );
    println!("{section}");
    options_tests::write_benchmark_section("module", &section);
}

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
