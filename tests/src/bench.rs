//! Helpers of the benchmarks (`tests/benches/`): redis-benchmark runs and client-side rates.

use std::process::Command;
use std::time::Instant;

/// One redis-benchmark run: requests per second and latency percentiles.
pub struct BenchResult {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// `redis-benchmark --csv` of one command against a local server.
pub fn redis_benchmark(port: u16, requests: usize, clients: usize, args: &[&str]) -> BenchResult {
    let out = Command::new("redis-benchmark")
        .args([
            "-p",
            &port.to_string(),
            "-n",
            &requests.to_string(),
            "-c",
            &clients.to_string(),
            "--csv",
        ])
        .args(args)
        .output()
        .expect("redis-benchmark (make deps installs redis-tools)");
    let csv = String::from_utf8_lossy(&out.stdout);
    let line = csv
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("redis-benchmark printed: {csv}"));
    let cols: Vec<f64> = line
        .split("\",\"")
        .skip(1)
        .map(|c| c.trim_matches('"').parse().unwrap_or(f64::NAN))
        .collect();
    BenchResult {
        rps: cols[0],
        p50_ms: cols[3],
        p99_ms: cols[5],
    }
}

/// Requests per second of `f` over `seconds`, single client.
pub fn rate(seconds: f64, mut f: impl FnMut()) -> (f64, usize) {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_secs_f64() < seconds {
        f();
        n += 1;
    }
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

/// The run with the highest rate, as (req/s, p50 ms, p99 ms).
pub fn best(runs: &[BenchResult]) -> (f64, f64, f64) {
    runs.iter()
        .max_by(|a, b| a.rps.total_cmp(&b.rps))
        .map(|b| (b.rps, b.p50_ms, b.p99_ms))
        .expect("at least one run")
}
