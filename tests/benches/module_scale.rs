//! What a chain's size costs, measured side by side in one run: chains of 2,500, 25,000 and
//! 100,000 BTC contracts (125 strikes × call/put per expiry, as Bybit lists them), each loaded
//! into its own server with the contracts listed in random order (an exchange adding an expiry,
//! an AOF replay, a feeder's first snapshot). For each size:
//!
//! - load rate: pipelined `OPTIONS.INGEST` of contracts the chain does not hold yet, every field;
//! - update rate: pipelined `OPTIONS.INGEST` of one field of contracts it holds, random order;
//! - query rate: one client asking `OPTIONS.QUERY BTC EXPIRY <one expiry> FORMAT JSON`;
//! - bytes per contract: `MEMORY USAGE` of the key ÷ contracts.
//!
//! The ratios against the smallest chain are the point: listing must not cost more per contract
//! as the chain grows. Results replace the `scale` section of BENCHMARKS.md. Run with `make bench`.

use std::time::Instant;

use options_tests::bench::rate;
use options_tests::fixture::{self, FixtureContract};
use options_tests::RedisServer;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const STRIKES: usize = 125;
const SIZES: [usize; 3] = [10, 100, 400];
const BATCH: usize = 1_000;
const UPDATES: usize = 200_000;

struct Figures {
    contracts: usize,
    expiries: usize,
    load_per_s: f64,
    load_s: f64,
    update_per_s: f64,
    query_per_s: f64,
    query_rows: usize,
    bytes_per_contract: f64,
}

/// Pipelines of full INGESTs, built before the clock starts so only the server is timed.
fn listing_pipelines(contracts: &[&FixtureContract]) -> Vec<redis::Pipeline> {
    contracts
        .chunks(BATCH)
        .map(|chunk| fixture::ingest_pipeline(chunk.iter().copied()))
        .collect()
}

fn update_pipelines(contracts: &[FixtureContract], rng: &mut StdRng) -> Vec<redis::Pipeline> {
    (0..UPDATES / BATCH)
        .map(|_| {
            let mut pipe = redis::pipe();
            for _ in 0..BATCH {
                let c = &contracts[rng.random_range(0..contracts.len())];
                pipe.cmd("OPTIONS.INGEST")
                    .arg("BTC")
                    .arg(&c.symbol)
                    .arg("mark_price")
                    .arg(c.value("mark_price") * rng.random_range(0.9..1.1))
                    .ignore();
            }
            pipe
        })
        .collect()
}

fn run_pipelines(con: &mut redis::Connection, pipes: &[redis::Pipeline]) -> f64 {
    let t0 = Instant::now();
    for p in pipes {
        p.query::<()>(con).expect("pipeline");
    }
    t0.elapsed().as_secs_f64()
}

fn measure(expiries: usize) -> Figures {
    let contracts = fixture::btc_chain(expiries, STRIKES, 7);
    let n = contracts.len();
    let mut rng = StdRng::seed_from_u64(expiries as u64);
    let mut order: Vec<&FixtureContract> = contracts.iter().collect();
    order.shuffle(&mut rng);
    let listing = listing_pipelines(&order);
    let updates = update_pipelines(&contracts, &mut rng);

    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let load_s = run_pipelines(&mut con, &listing);
    let stats = options_tests::text(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"])
        .expect("OPTIONS.STATS");
    let held = serde_json::from_str::<serde_json::Value>(&stats).expect("JSON")["contracts"]
        .as_u64()
        .unwrap_or(0) as usize;
    assert_eq!(held, n, "every contract listed");
    let update_s = run_pipelines(&mut con, &updates);
    let bytes: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("BTC")
        .arg("SAMPLES")
        .arg("0")
        .query(&mut con)
        .expect("MEMORY USAGE");

    // An expiry in the middle of the chain: its rows sit between blocks on both sides.
    let expiry = contracts[n / 2].expiry.clone();
    let query = ["OPTIONS.QUERY", "BTC", "EXPIRY", &expiry, "FORMAT", "JSON"];
    let reply = options_tests::text(&mut con, &query).expect("query");
    let query_rows = serde_json::from_str::<serde_json::Value>(&reply).expect("JSON")["total"]
        .as_u64()
        .unwrap_or(0) as usize;
    assert_eq!(query_rows, 2 * STRIKES, "one expiry's contracts");
    let (query_per_s, _) = rate(3.0, || {
        options_tests::text(&mut con, &query).expect("query");
    });
    Figures {
        contracts: held,
        expiries,
        load_per_s: n as f64 / load_s,
        load_s,
        update_per_s: UPDATES as f64 / update_s,
        query_per_s,
        query_rows,
        bytes_per_contract: bytes as f64 / n as f64,
    }
}

fn main() {
    let figures: Vec<Figures> = SIZES.iter().map(|&e| measure(e)).collect();
    let base = &figures[0];
    let mut rows = String::new();
    for f in &figures {
        rows.push_str(&format!(
            "| {contracts} ({expiries} expiries) | {load:.0}/s ({load_s:.2} s) | {lr:.2}× | {upd:.0}/s | {ur:.2}× | {q:.0}/s | {qr:.2}× | {b:.0} |\n",
            contracts = f.contracts,
            expiries = f.expiries,
            load = f.load_per_s,
            load_s = f.load_s,
            lr = f.load_per_s / base.load_per_s,
            upd = f.update_per_s,
            ur = f.update_per_s / base.update_per_s,
            q = f.query_per_s,
            qr = f.query_per_s / base.query_per_s,
            b = f.bytes_per_contract,
        ));
    }
    let worst = figures
        .iter()
        .map(|f| f.load_per_s / base.load_per_s)
        .fold(f64::INFINITY, f64::min);
    let met = if worst >= 0.5 {
        "✅ met"
    } else {
        "❌ missed"
    };
    let section = format!(
        "<!-- scale:begin -->\n\
## Chain size (issue 19)\n\n\
Chains of BTC contracts, {STRIKES} strikes × call/put per expiry, each in its own redis-server; \
contracts listed in random order with every field, in pipelines of {BATCH}; then {UPDATES} one-field updates of random contracts; \
then one client querying one expiry ({rows} rows, JSON) for 3 s.\n\n\
| contracts | load (new contracts) | vs 2,500 | updates | vs 2,500 | one-expiry `QUERY` | vs 2,500 | bytes per contract |\n\
|---|---|---|---|---|---|---|---|\n\
{rows_md}\n\
Target: listing a contract costs O(log n + size of its expiry), so the load rate of the largest chain stays within 2× of the smallest: {met} (worst {worst:.2}×).\n\n\
<!-- scale:end -->",
        rows = base.query_rows,
        rows_md = rows,
    );
    println!("{section}");
    options_tests::write_benchmark_section("scale", "module_scale", &section);
}
