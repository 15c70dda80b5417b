//! Lighthouse 12 (npm, web/package-lock.json) on every dashboard view with its desktop and
//! mobile presets, the median of 3 runs each (tests/browser/lighthouse_bench.mjs), against
//! release builds: redis-server + module, bybit-sim at its default rate speaking Bybit and
//! Deribit, the feeder following both, options-web. The mobile preset simulates slow 4G and a
//! 4× slower CPU.
//!
//! Results replace the `lighthouse` section of BENCHMARKS.md. Run with `make bench`; `RUNS`
//! and `VIEWS` narrow a run by hand.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use options_tests::procs::{wait_for_chain, Feeder, Sim, Web};
use options_tests::RedisServer;
use serde_json::Value;

fn main() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    if !Path::new(&chromium).exists() {
        options_tests::bench::cannot_run(
            "lighthouse",
            &format!("no Chromium at {chromium} (Debian package chromium; `make deps` installs it, or set CHROMIUM)"),
        );
    }
    if !root.join("web/node_modules/lighthouse").exists() {
        options_tests::bench::cannot_run(
            "lighthouse",
            "web/node_modules/lighthouse is missing (`make assets` installs it)",
        );
    }
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&["--assets", "BTC,ETH"]);
    let mut feeder = Feeder::start_venues(&sim, &server.url(), "BTC,ETH", "bybit,deribit", &[]);
    feeder.wait_ready(Duration::from_secs(60));
    wait_for_chain(
        &mut server.connection(),
        "deribit:BTC",
        Duration::from_secs(30),
    );
    let web = Web::start(
        &server.url(),
        &["--assets", "BTC,ETH", "--bybit-rest-url", &sim.rest_url()],
    );
    let runs = std::env::var("RUNS").unwrap_or_else(|_| "3".into());
    let mut node = Command::new("node");
    node.arg(root.join("tests/browser/lighthouse_bench.mjs"))
        .env("DASHBOARD_URL", web.url(""))
        .env("CHROMIUM", &chromium)
        .env("RUNS", &runs);
    if let Ok(v) = std::env::var("VIEWS") {
        node.env("VIEWS", v);
    }
    let out = node.output().expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "lighthouse bench failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON line");
    let results = r["results"].as_array().expect("results");
    let find = |view: &str, preset: &str| {
        results
            .iter()
            .find(|x| x["view"] == view && x["preset"] == preset)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let n = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let met = |ok: bool| if ok { "✅" } else { "❌" };
    let mut rows = String::new();
    let mut all_met = true;
    let mut views: Vec<&str> = results.iter().filter_map(|x| x["view"].as_str()).collect();
    views.dedup();
    for view in &views {
        let (d, m) = (find(view, "desktop"), find(view, "mobile"));
        let scores_ok = |v: &Value| {
            n(v, "performance") >= 90.0
                && n(v, "accessibility") >= 95.0
                && n(v, "bestPractices") >= 95.0
        };
        let ok = scores_ok(&d) && scores_ok(&m) && n(&m, "lcpMs") <= 2500.0 && n(&m, "cls") <= 0.05;
        all_met &= ok;
        rows.push_str(&format!(
            "| {view} | {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} | {:.2} s | {:.3} | {:.0} ms | {} |\n",
            n(&d, "performance"),
            n(&d, "accessibility"),
            n(&d, "bestPractices"),
            n(&m, "performance"),
            n(&m, "accessibility"),
            n(&m, "bestPractices"),
            n(&m, "lcpMs") / 1000.0,
            n(&m, "cls"),
            n(&m, "tbtMs"),
            met(ok),
        ));
    }
    let section = format!(
        "<!-- lighthouse:begin -->\n\
## Lighthouse (issue 32)\n\n\
Lighthouse 12.2.3 (npm, pinned in web/package-lock.json) in headless Chromium, its desktop and mobile presets (mobile: \
simulated slow 4G, 4× slower CPU), performance, accessibility and best practices, the median of {runs} runs per view and \
preset. Stack: release builds, bybit-sim at its default rate speaking Bybit and Deribit (BTC and ETH), the feeder \
following both, options-web; page `/?asset=BTC&view=…`. Each run's figure moves by a few points between runs (the \
live feed never stops).\n\n\
| view | desktop perf / a11y / best practices | mobile perf / a11y / best practices | mobile largest paint | mobile layout shift | mobile blocking time | targets |\n\
|---|---|---|---|---|---|---|\n\
{rows}\n\
Targets: accessibility ≥ 95, performance ≥ 90, best practices ≥ 95 on both presets; on mobile, largest contentful \
paint ≤ 2.5 s and cumulative layout shift ≤ 0.05: {}.\n\n<!-- lighthouse:end -->",
        if all_met { "✅ met on every view" } else { "❌ missed where marked" },
    );
    println!("{r}\n{section}");
    options_tests::write_benchmark_section("lighthouse", "lighthouse", &section);
}
