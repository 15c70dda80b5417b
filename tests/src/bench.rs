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

/// The run with the median rate, as (req/s, p50 ms, p99 ms): not the best, which would
/// publish the luckiest run as the figure.
pub fn median_run(runs: &[BenchResult]) -> (f64, f64, f64) {
    let mut v: Vec<&BenchResult> = runs.iter().collect();
    assert!(!v.is_empty(), "at least one run");
    v.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let m = v[v.len() / 2];
    (m.rps, m.p50_ms, m.p99_ms)
}

/// Stops a benchmark that cannot run, saying what is missing: `make bench` then fails, and no
/// older figure is left standing as if it were new.
pub fn cannot_run(bench: &str, what: &str) -> ! {
    eprintln!("make bench: the {bench} benchmark cannot run: {what}");
    if let Some(section) = section_of(bench) {
        crate::mark_not_measured(section, bench, what);
    }
    std::process::exit(2)
}

/// The BENCHMARKS.md section each benchmark owns.
fn section_of(bench: &str) -> Option<&'static str> {
    Some(match bench {
        "module_query" => "module",
        "module_analytics" => "analytics",
        "module_history" => "history",
        "module_scale" => "scale",
        "feeder" => "feeder",
        "replay" => "replay",
        "web" => "web",
        "dashboard" => "dashboard",
        "soak" => "soak",
        "chaos" => "chaos",
        "push" => "push",
        "python_client" => "python",
        "module_flow" => "flow",
        "lighthouse" => "lighthouse",
        _ => return None,
    })
}

/// Fails the benchmark unless `program` runs (`program --version` or `-v` exits at all).
pub fn require_tool(bench: &str, program: &str, package: &str) {
    let found = Command::new(program).arg("--version").output().is_ok()
        || Command::new(program).arg("-v").output().is_ok();
    if !found {
        cannot_run(
            bench,
            &format!(
                "`{program}` is not on PATH (Debian package {package}; `make deps` installs it)"
            ),
        );
    }
}

/// Where a section's figures come from: the commit (short hash, and whether the work tree had
/// changes), the date, the machine (cores, CPU model, memory) and the exact command.
pub fn provenance(bench: &str) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=7", "HEAD"]).unwrap_or_else(|| "unknown".into());
    // BENCHMARKS.md itself changes as the benchmarks run: it is not a change to what is measured.
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .map(|s| s.lines().any(|l| !l.ends_with("BENCHMARKS.md")))
        .unwrap_or(false);
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("CPU model unknown")
        .to_string();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "memory unknown".into());
    format!(
        "Run: commit `{commit}`{changes}, {date}; machine: {cores} cores ({cpu}), {mem_gib}; \
command: `OPTIONS_MODULE=target/release/libredis_options.so cargo bench -p options-tests --bench {bench}` (part of `make bench`).",
        changes = if dirty { " with uncommitted changes" } else { "" },
    )
}

/// Percentile `p` (0–100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "a percentile of no samples");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median and the spread (min–max) of repeated runs, as "median (min–max)".
pub fn spread(runs: &[f64], decimals: usize) -> String {
    let mut v = runs.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "{:.*} ({:.*}–{:.*})",
        decimals,
        median(&v),
        decimals,
        v[0],
        decimals,
        v[v.len() - 1]
    )
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    assert!(!sorted.is_empty(), "a median of no runs");
    let m = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[m]
    } else {
        (sorted[m - 1] + sorted[m]) / 2.0
    }
}
