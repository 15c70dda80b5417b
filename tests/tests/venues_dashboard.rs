//! Two venues on one dashboard, in a real headless Chromium: the venue switch and the
//! comparison view against options-web, redis-server + module, the feeder streaming Bybit and
//! Deribit, and the sim speaking both. The checks are in tests/browser/venues.mjs.

use std::time::Duration;

use options_tests::browser;
use options_tests::procs::{wait_for_chain, Feeder, Sim, Web};
use options_tests::RedisServer;

#[test]
fn venue_switch_and_comparison_in_a_real_browser() {
    browser::chromium();
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&[
        "--seed",
        "13",
        "--assets",
        "BTC,ETH",
        "--updates-per-sec",
        "2000",
    ]);
    let mut feeder = Feeder::start_venues(&sim, &server.url(), "BTC,ETH", "bybit,deribit", &[]);
    feeder.wait_ready(Duration::from_secs(30));
    wait_for_chain(
        &mut server.connection(),
        "deribit:BTC",
        Duration::from_secs(20),
    );
    let web = Web::start(
        &server.url(),
        &["--assets", "BTC,ETH", "--bybit-rest-url", &sim.rest_url()],
    );
    let shots = browser::workspace().join("target/screenshots");
    browser::run(
        "venues.mjs",
        &web,
        &[
            ("SIM_URL", sim.rest_url()),
            ("SCREENSHOT_DIR", shots.display().to_string()),
        ],
        "all venue checks passed",
    );
}
