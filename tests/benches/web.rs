//! Web benchmark, side by side in one run: `GET /api/options/BTC?expiry=…` from `options-web`
//! (wrk, 16 connections, 10 s) against the same answer computed the seed's way — `KEYS
//! option:BTC-*`, one `HGETALL` per contract, filter, sort by volume and encode in the client —
//! over the seed's hashes of the same 2,500-contract chain. The seed's way is timed without
//! HTTP or Python, so the ratio understates the real gap.
//!
//! Results replace the `web` section of BENCHMARKS.md. Run with `make bench`.

use std::collections::HashMap;
use std::process::Command;
use std::time::Instant;

use options_tests::fixture;
use options_tests::procs::Web;
use options_tests::RedisServer;

fn wrk(url: &str) -> Option<(f64, f64, f64)> {
    let out = Command::new("wrk")
        .args(["-t2", "-c16", "-d10s", "--latency", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
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
    Some((rps, ms("50%")?, ms("99%")?))
}

fn main() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
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

    let Some((rps, p50, p99)) = wrk(&url) else {
        eprintln!("wrk is not installed (make deps installs it); web benchmark skipped");
        return;
    };

    // The seed's read path, one client, 10 s.
    let start = Instant::now();
    let mut runs = 0;
    while start.elapsed().as_secs_f64() < 10.0 {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("option:BTC-*")
            .query(&mut con)
            .unwrap();
        let mut out: Vec<HashMap<String, String>> = Vec::new();
        for k in &keys {
            let h: HashMap<String, String> = redis::cmd("HGETALL").arg(k).query(&mut con).unwrap();
            let sym = h.get("symbol").cloned().unwrap_or_default();
            let e = sym.split('-').nth(1).unwrap_or("");
            let padded = if e.len() == 6 {
                format!("0{e}")
            } else {
                e.to_string()
            };
            if padded == expiry {
                out.push(h);
            }
        }
        out.sort_by(|a, b| {
            let v = |h: &HashMap<String, String>| {
                h.get("volume_24h")
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            v(b).total_cmp(&v(a))
        });
        let body = serde_json::to_string(&out).unwrap();
        assert_eq!(out.len(), rows);
        assert!(!body.is_empty());
        runs += 1;
    }
    let seed_rps = runs as f64 / start.elapsed().as_secs_f64();
    let ratio = rps / seed_rps;
    let section = format!(
        "<!-- web:begin -->\n\
## Web server (issue #5)\n\n\
Machine: {cores} cores, shared by redis-server, options-web, wrk and the client. Chain: {n} BTC contracts; request \
`GET /api/options/BTC?expiry={expiry}` ({rows} rows). Produced by `make bench` (cargo bench -p options-tests --bench web).\n\n\
| measurement | result | baseline (the seed's way) | ratio | target |\n\
|---|---|---|---|---|\n\
| requests/s, wrk -t2 -c16 -d10s | {rps:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms | {seed_rps:.1} req/s (`KEYS` + {n} × `HGETALL`, filter, sort, JSON in a Rust client; no HTTP, no Python) | {ratio:.0}× | ≥ 1,000× {ok1}; p99 ≤ 5 ms {ok2} |\n\
\n<!-- web:end -->",
        n = contracts.len(),
        ok1 = if ratio >= 1000.0 { "✅ met" } else { "❌ missed" },
        ok2 = if p99 <= 5.0 { "✅ met" } else { "❌ missed" },
    );
    println!("{section}");
    options_tests::write_benchmark_section("web", &section);
}
