//! Accessibility in a real headless Chromium: axe-core on every view, dialog and popover in
//! both themes, and keyboard-only use, against options-web, redis-server + module and the feeder
//! streaming both venues of the sim at its default rate. The checks are in
//! tests/browser/accessibility.mjs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::{json, RedisServer};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn every_view_and_dialog_is_accessible_and_keyboard_usable() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `make deps` installs chromium"
    );
    let root = workspace();
    assert!(
        root.join("web/node_modules/axe-core/axe.min.js").exists(),
        "web/node_modules is missing axe-core: run `make assets` (npm ci in web/)"
    );
    let server = RedisServer::start(&[]);
    let sim = Sim::start(&["--seed", "21", "--assets", "BTC,ETH"]);
    let (rest, ws) = (sim.deribit_rest_url(), sim.deribit_ws_url());
    let mut feeder = Feeder::start(
        &sim,
        &server.url(),
        "BTC,ETH",
        &[
            "--venues",
            "bybit,deribit",
            "--deribit-rest-url",
            &rest,
            "--deribit-ws-url",
            &ws,
        ],
    );
    feeder.wait_ready(Duration::from_secs(30));
    let mut con = server.connection();
    wait_for(Duration::from_secs(20), "Deribit's BTC chain", || {
        let n = json(
            &mut con,
            &["OPTIONS.STATS", "deribit:BTC", "FORMAT", "JSON"],
        )["contracts"]
            .as_u64()?;
        (n > 0).then_some(())
    });
    let web = Web::start(
        &server.url(),
        &["--assets", "BTC,ETH", "--bybit-rest-url", &sim.rest_url()],
    );
    let out = Command::new("node")
        .arg(root.join("tests/browser/accessibility.mjs"))
        .env("DASHBOARD_URL", web.url(""))
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("all accessibility checks passed"),
        "browser checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- web log\n{}",
        web.proc.log_text()
    );
}
