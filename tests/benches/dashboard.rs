//! Dashboard benchmark in a real headless Chromium (tests/browser/dashboard_bench.mjs): a
//! 2,500-contract BTC chain with every row on one table page, the sim pushing 5,000 updates/s,
//! release builds of the sim, feeder, module and web server. Side by side in one run: the
//! dashboard as shipped (rows windowed, cells patched) and the same page with every row in the
//! DOM.
//!
//! Results replace the `dashboard` section of BENCHMARKS.md. Run with `make bench`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use options_tests::procs::{Feeder, Sim, Web};
use options_tests::RedisServer;
use serde_json::Value;

fn main() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    if !Path::new(&chromium).exists() {
        options_tests::bench::cannot_run(
            "dashboard",
            &format!("no Chromium at {chromium} (Debian package chromium; `make deps` installs it, or set CHROMIUM)"),
        );
    }
    if !root.join("web/node_modules/playwright-core").exists() {
        options_tests::bench::cannot_run(
            "dashboard",
            "web/node_modules/playwright-core is missing (`make assets` installs it)",
        );
    }
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&[
        "--assets",
        "BTC",
        "--strikes",
        "50",
        "--updates-per-sec",
        "5000",
    ]);
    let mut feeder = Feeder::start(&sim, &server.url(), "BTC", &[]);
    feeder.wait_ready(Duration::from_secs(30));
    let web = Web::start(&server.url(), &["--assets", "BTC"]);
    let out = Command::new("node")
        .arg(root.join("tests/browser/dashboard_bench.mjs"))
        .env("DASHBOARD_URL", web.url(""))
        .env("CHROMIUM", &chromium)
        .env("SECONDS", "10")
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "dashboard bench failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON line");
    let (w, e) = (&r["windowed"], &r["everyRow"]);
    for side in [w, e] {
        assert_eq!(side["errors"].as_array().map(|e| e.len()), Some(0), "{r}");
    }
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let ratio = |k: &str| f(e, k) / f(w, k);
    let met = |ok: bool| if ok { "✅ met" } else { "❌ missed" };
    let section = format!(
        "<!-- dashboard:begin -->\n\
## Dashboard (issue #6)\n\n\
Shared by headless Chromium, redis-server, bybit-sim (5,000 updates/s, all BTC, so every contract \
changes about twice a second), options-feeder and options-web (release builds). Page: `/?asset=BTC`, all {rows:.0} contracts \
on one table page with all 15 columns (the worst case), {secs:.0} s of live updates per side. Baseline: the same page with \
every row in the DOM (`localStorage.tableWindowing = 'off'`), measured in the same run.\n\n\
| measurement | dashboard (windowed rows, patched cells) | every row in the DOM | ratio | target |\n\
|---|---|---|---|---|\n\
| rows in the DOM | {wr:.0} | {er:.0} | | |\n\
| animation frames while streaming | {wfps:.0} fps | {efps:.0} fps | {rfps:.1}× | ≥ 30 fps {ok1} |\n\
| long tasks (> 50 ms) while streaming | {wl:.0}, {wlt:.0} ms in all, longest {wlm:.0} ms | {el:.0}, {elt:.0} ms in all, longest {elm:.0} ms | | ≤ 1 % of the time {ok2} |\n\
| script per update frame | {wp:.2} ms ({wpf:.1} frames/s, {wrows:.0} rows changed/s, {wcells:.0} cells written/s) | {ep:.2} ms ({epf:.1} frames/s, {ecells:.0} cells written/s) | {rp:.0}× less | ≤ 16 ms {ok3} |\n\
| re-sort by a header click | {wf:.1} ms | {ef:.1} ms | {rf:.0}× less | ≤ 50 ms {ok4} |\n\
| first table paint after connecting | {wfirst:.0} ms (snapshot: {kb:.0} KB of JSON, {wire:.0} KB gzipped on the wire, parsed in {parse:.1} ms) | {efirst:.0} ms | | ≤ 1,000 ms {ok5} |\n\
\n<!-- dashboard:end -->",
        rows = f(w, "rows"),
        secs = f(&r, "seconds"),
        wr = f(w, "rendered"),
        er = f(e, "rendered"),
        wfps = f(w, "fps"),
        efps = f(e, "fps"),
        rfps = f(w, "fps") / f(e, "fps"),
        wlt = f(w, "longTaskMs"),
        wl = f(w, "longTasks"),
        wlm = f(w, "longTaskMaxMs"),
        elt = f(e, "longTaskMs"),
        el = f(e, "longTasks"),
        elm = f(e, "longTaskMaxMs"),
        wp = f(w, "patchMsPerFrame"),
        wpf = f(w, "patchFramesPerSec"),
        wrows = f(w, "rowsChangedPerSec"),
        wcells = f(w, "cellsWrittenPerSec"),
        ep = f(e, "patchMsPerFrame"),
        epf = f(e, "patchFramesPerSec"),
        ecells = f(e, "cellsWrittenPerSec"),
        rp = ratio("patchMsPerFrame"),
        wf = f(w, "fullRenderMs"),
        ef = f(e, "fullRenderMs"),
        rf = ratio("fullRenderMs"),
        wfirst = f(w, "timeToFirstRenderMs"),
        efirst = f(e, "timeToFirstRenderMs"),
        kb = f(w, "snapshotBytes") / 1024.0,
        wire = f(w, "snapshotWireBytes") / 1024.0,
        parse = f(w, "snapshotParseMs"),
        ok1 = met(f(w, "fps") >= 30.0),
        ok2 = met(f(w, "longTaskBusyPct") <= 1.0),
        ok3 = met(f(w, "patchMsPerFrame") <= 16.0),
        ok4 = met(f(w, "fullRenderMs") <= 50.0),
        ok5 = met(f(w, "timeToFirstRenderMs") <= 1000.0),
    );
    println!("{r}\n{section}");
    options_tests::write_benchmark_section("dashboard", "dashboard", &section);
}
