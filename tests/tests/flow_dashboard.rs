//! The flow view in a real headless Chromium: the tape, its filters, the module's sums and the
//! live trades, against options-web, redis-server + module and the feeder recording the sim's
//! trades. The checks are in tests/browser/flow.mjs.

use std::time::Duration;

use options_tests::browser;
use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::RedisServer;

#[test]
fn flow_view_in_a_real_browser() {
    browser::chromium();
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&[
        "--seed",
        "17",
        "--assets",
        "BTC",
        "--updates-per-sec",
        "2000",
    ]);
    let mut feeder = Feeder::start(&sim, &server.url(), "BTC", &[]);
    feeder.wait_ready(Duration::from_secs(30));
    let mut con = server.connection();
    wait_for(
        Duration::from_secs(30),
        "trades and a block on the tape",
        || {
            let blocks: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
                .arg("{BTC}:trades")
                .arg("-")
                .arg("+")
                .query(&mut con)
                .ok()?;
            let n = blocks
                .iter()
                .filter(|(_, f)| f.iter().any(|(k, v)| k == "block" && v == "1"))
                .count();
            (blocks.len() >= 50 && n >= 2).then_some(())
        },
    );
    let web = Web::start(
        &server.url(),
        &["--assets", "BTC", "--bybit-rest-url", &sim.rest_url()],
    );
    let shots = browser::workspace().join("target/screenshots");
    browser::run(
        "flow.mjs",
        &web,
        &[
            ("SIM_URL", sim.rest_url()),
            ("SCREENSHOT_DIR", shots.display().to_string()),
        ],
        "all flow checks passed",
    );
}
