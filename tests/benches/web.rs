//! Web benchmark, side by side in one run: `GET /api/options/BTC?expiry=…` from `options-web`
//! (wrk, 16 connections, 10 s) against the same answer computed the seed's way — `KEYS
//! option:BTC-*`, then every contract's `HGETALL` in one pipeline, filter, sort by volume and
//! encode — over the seed's hashes of the same 2,500-contract chain, by 16 clients at once (the
//! same concurrency as wrk's; pipelined, as options-web's own Redis connection is). The seed's
//! way is timed in Rust without HTTP or Python, so the ratio understates the real gap. Three
//! alternating rounds; each figure is their median with the range beside it.
//!
//! Results replace the `web` section of BENCHMARKS.md. Run with `make bench`.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use options_tests::bench::{median, spread};
use options_tests::fixture;
use options_tests::procs::Web;
use options_tests::RedisServer;

/// Concurrent clients on each side.
const CLIENTS: usize = 16;
const ROUNDS: usize = 3;
const SECONDS: u64 = 10;

fn wrk(url: &str) -> (f64, f64, f64) {
    let out = Command::new("wrk")
        .args([
            "-t2".to_string(),
            format!("-c{CLIENTS}"),
            format!("-d{SECONDS}s"),
            "--latency".to_string(),
            url.to_string(),
        ])
        .output()
        .unwrap_or_else(|e| options_tests::bench::cannot_run("web", &format!("wrk: {e}")));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let parsed = || -> Option<(f64, f64, f64)> {
        let rps = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))?
            .trim()
            .parse()
            .ok()?;
        let ms = |label: &str| -> Option<f64> {
            let v = text
                .lines()
                .find_map(|l| l.trim().strip_prefix(label))?
                .trim()
                .to_string();
            let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
            let n: f64 = num.parse().ok()?;
            Some(match unit {
                "us" => n / 1000.0,
                "ms" => n,
                "s" => n * 1000.0,
                _ => return None,
            })
        };
        if text.contains("Non-2xx") {
            return None;
        }
        Some((rps, ms("50%")?, ms("99%")?))
    };
    parsed().unwrap_or_else(|| {
        options_tests::bench::cannot_run(
            "web",
            &format!("wrk's output not understood (or non-2xx answers):\n{text}"),
        )
    })
}

/// The seed's read path for one request: `KEYS`, one pipeline of `HGETALL`, filter by expiry,
/// sort by volume, JSON. Returns the rows answered.
fn seed_request(con: &mut redis::Connection, expiry: &str) -> usize {
    let keys: Vec<String> = redis::cmd("KEYS").arg("option:BTC-*").query(con).unwrap();
    let mut pipe = redis::pipe();
    for k in &keys {
        pipe.cmd("HGETALL").arg(k);
    }
    let hashes: Vec<HashMap<String, String>> = pipe.query(con).unwrap();
    let mut out: Vec<HashMap<String, String>> = hashes
        .into_iter()
        .filter(|h| {
            let sym = h.get("symbol").map(String::as_str).unwrap_or_default();
            let e = sym.split('-').nth(1).unwrap_or("");
            let padded = if e.len() == 6 {
                format!("0{e}")
            } else {
                e.to_string()
            };
            padded == expiry
        })
        .collect();
    out.sort_by(|a, b| {
        let v = |h: &HashMap<String, String>| {
            h.get("volume_24h")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        v(b).total_cmp(&v(a))
    });
    let body = serde_json::to_string(&out).unwrap();
    assert!(!body.is_empty());
    out.len()
}

/// Requests per second of the seed's way with `CLIENTS` clients for `SECONDS`.
fn seed_rate(url: &str, expiry: &str, rows: usize) -> f64 {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(SECONDS);
    let done: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(move || {
                    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        assert_eq!(seed_request(&mut con, expiry), rows);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    options_tests::bench::require_tool("web", "wrk", "wrk");
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let contracts = fixture::btc_chain(10, 125, 3);
    fixture::ingest(&mut con, &contracts);
    fixture::write_seed_hashes(&mut con, &contracts);
    let expiry = contracts[contracts.len() / 2].expiry_padded.clone();
    let web = Web::start(&redis.url(), &["--assets", "BTC"]);
    let url = web.url(&format!("/api/options/BTC?expiry={expiry}"));
    let (code, body) = web.get("/api/options/BTC", &[("expiry", &expiry)]);
    assert_eq!(code, 200, "{body}");
    let rows = body.as_array().unwrap().len();
    assert_eq!(
        seed_request(&mut con, &expiry),
        rows,
        "both ways answer the same rows"
    );

    let (mut ours, mut p50s, mut p99s, mut seed) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let (rps, p50, p99) = wrk(&url);
        ours.push(rps);
        p50s.push(p50);
        p99s.push(p99);
        seed.push(seed_rate(&redis.url(), &expiry, rows));
    }
    let med = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        median(&v)
    };
    let (rps, p99, seed_rps) = (med(&ours), med(&p99s), med(&seed));
    let ratio = rps / seed_rps;
    let ratios: Vec<f64> = ours.iter().zip(&seed).map(|(a, b)| a / b).collect();
    let section = format!(
        "<!-- web:begin -->\n\
## Web server (issue #5)\n\n\
Shared by redis-server, options-web, wrk and the seed-style clients. Chain: {n} BTC contracts; request \
`GET /api/options/BTC?expiry={expiry}` ({rows} rows). Both sides run {CLIENTS} clients at once for {SECONDS} s, \
in {ROUNDS} alternating rounds: each figure is the median, with the range of the rounds in brackets.\n\n\
| measurement | options-web | baseline (the seed's way) | ratio | target |\n\
|---|---|---|---|---|\n\
| requests/s, {CLIENTS} clients | {ours_s} req/s (wrk -t2 -c{CLIENTS}); p50 {p50_s} ms, p99 {p99_s} ms | {seed_s} req/s ({CLIENTS} Rust clients, each: `KEYS`, {n} `HGETALL` in one pipeline, filter, sort, JSON; no HTTP, no Python) | {ratio:.0}× ({ratio_s}) | ≥ 1,000× (issue 5) {ok1}; p99 ≤ 5 ms {ok2} |\n\
\n<!-- web:end -->",
        n = contracts.len(),
        ours_s = spread(&ours, 0),
        p50_s = spread(&p50s, 2),
        p99_s = spread(&p99s, 2),
        seed_s = spread(&seed, 1),
        ratio_s = spread(&ratios, 0),
        ok1 = if ratio >= 1000.0 { "✅ met" } else { "❌ missed" },
        ok2 = if p99 <= 5.0 { "✅ met" } else { "❌ missed" },
    );
    println!("{section}");
    options_tests::write_benchmark_section("web", "web", &section);
}
