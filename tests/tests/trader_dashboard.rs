//! The dashboard as a trader uses it, in a real headless Chromium: quoting off the chain, one
//! contract with a wrong forward, prices at the exchange's tick for BTC, ETH and XRP, cards, row
//! freshness, a stopped feeder and a stuck server named as such, alerts refused when they could
//! never fire. The checks are in tests/browser/trader.mjs; screenshots land in
//! target/screenshots/trader-*.png.

use std::time::Duration;

use options_tests::browser;
use options_tests::procs::{Feeder, Sim, Web};
use options_tests::RedisServer;

#[test]
fn trader_dashboard_in_a_real_browser() {
    browser::chromium();
    let root = browser::workspace();
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&["--seed", "11", "--assets", "BTC,ETH,XRP"]);
    let mut feeder = Feeder::start(&sim, &server.url(), "BTC,ETH,XRP", &[]);
    feeder.wait_ready(Duration::from_secs(30));
    let web = Web::start(
        &server.url(),
        &[
            "--assets",
            "BTC,ETH,XRP",
            "--bybit-rest-url",
            &sim.rest_url(),
        ],
    );
    let shots = root.join("target/screenshots");
    browser::run(
        "trader.mjs",
        &web,
        &[
            ("SIM_URL", sim.rest_url()),
            ("SCREENSHOT_DIR", shots.display().to_string()),
            ("WEB_PID", web.proc.id().expect("web runs").to_string()),
            (
                "FEEDER_PID",
                feeder.proc.id().expect("feeder runs").to_string(),
            ),
        ],
        "all trader checks passed",
    );
    for asset in ["BTC", "ETH", "XRP"] {
        for width in ["desktop", "phone"] {
            let name = format!("trader-chain-{asset}-{width}.png");
            let bytes = std::fs::read(shots.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
                "{name} is not a real screenshot"
            );
        }
    }
}
