//! Accessibility in a real headless Chromium: axe-core on every view, dialog and popover in
//! both themes, and keyboard-only use, against options-web, redis-server + module and the feeder
//! streaming both venues of the sim at its default rate. The checks are in
//! tests/browser/accessibility.mjs.

use std::time::Duration;

use options_tests::browser;
use options_tests::procs::{wait_for_chain, Feeder, Sim, Web};
use options_tests::RedisServer;

#[test]
fn every_view_and_dialog_is_accessible_and_keyboard_usable() {
    browser::chromium();
    assert!(
        browser::workspace()
            .join("web/node_modules/axe-core/axe.min.js")
            .exists(),
        "web/node_modules is missing axe-core: run `make assets` (npm ci in web/)"
    );
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&["--seed", "21", "--assets", "BTC,ETH"]);
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
    browser::run(
        "accessibility.mjs",
        &web,
        &[],
        "all accessibility checks passed",
    );
}
