//! The dashboard as a trader uses it, in a real headless Chromium: quoting off the chain, one
//! contract with a wrong forward, prices at the exchange's tick for BTC, ETH and XRP, cards, row
//! freshness, a stopped feeder and a stuck server named as such, alerts refused when they could
//! never fire. The checks are in tests/browser/trader.mjs; screenshots land in
//! target/screenshots/trader-*.png.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use options_tests::procs::{Feeder, Sim, Web};
use options_tests::RedisServer;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn trader_dashboard_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `make deps` installs chromium"
    );
    let root = workspace();
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
    let out = Command::new("node")
        .arg(root.join("tests/browser/trader.mjs"))
        .env("DASHBOARD_URL", web.url(""))
        .env("SIM_URL", sim.rest_url())
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .env("WEB_PID", web.proc.id().expect("web runs").to_string())
        .env(
            "FEEDER_PID",
            feeder.proc.id().expect("feeder runs").to_string(),
        )
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("all trader checks passed"),
        "trader checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- web log\n{}",
        web.proc.log_text()
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
