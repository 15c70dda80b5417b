//! The dashboard in a real headless Chromium (Debian's `chromium`, driven by `playwright-core`
//! from web/package-lock.json) against real options-web, redis-server + module, feeder and sim.
//! The checks themselves are in tests/browser/dashboard.mjs; screenshots land in
//! target/screenshots/.

use std::time::Duration;

use options_tests::browser;
use options_tests::procs::{Feeder, Sim, Web};
use options_tests::RedisServer;

#[test]
fn dashboard_in_a_real_browser() {
    let root = browser::workspace();
    assert!(
        root.join("web/node_modules/playwright-core").exists(),
        "web/node_modules is missing: run `make assets` (npm ci in web/)"
    );
    // Samples every 5 s, so the History view can be seen growing within the test.
    let server = RedisServer::start_with_module_args(
        options_tests::TempDir::new("redis"),
        &["history-interval", "5"],
        &[],
    );
    let sim = Sim::start(&["--seed", "7"]);
    let mut feeder = Feeder::start(
        &sim,
        &server.url(),
        "BTC,ETH",
        &["--assets-poll-interval", "0.5"],
    );
    feeder.wait_ready(Duration::from_secs(30));
    let web = Web::start(
        &server.url(),
        &["--assets", "BTC,ETH", "--bybit-rest-url", &sim.rest_url()],
    );
    let shots = root.join("target/screenshots");
    browser::run(
        "dashboard.mjs",
        &web,
        &[
            ("SIM_URL", sim.rest_url()),
            ("SCREENSHOT_DIR", shots.display().to_string()),
            ("WEB_PID", web.proc.id().expect("web runs").to_string()),
            ("REDIS_PORT", server.port.to_string()),
        ],
        "all dashboard checks passed",
    );
    for name in [
        "table-desktop.png",
        "chain-desktop.png",
        "chain-desktop-light.png",
        "charts-desktop.png",
        "table-phone.png",
        "chain-phone.png",
        "charts-phone.png",
    ] {
        let bytes = std::fs::read(shots.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{name} is not a real screenshot ({} bytes)",
            bytes.len()
        );
    }
}
