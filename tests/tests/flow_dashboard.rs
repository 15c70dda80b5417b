//! The flow view in a real headless Chromium: the tape, its filters, the module's sums and the
//! live trades, against options-web, redis-server + module and the feeder recording the sim's
//! trades. The checks are in tests/browser/flow.mjs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::RedisServer;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn flow_view_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `make deps` installs chromium"
    );
    let root = workspace();
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
    let shots = root.join("target/screenshots");
    let out = Command::new("node")
        .arg(root.join("tests/browser/flow.mjs"))
        .env("DASHBOARD_URL", web.url(""))
        .env("SIM_URL", sim.rest_url())
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("all flow checks passed"),
        "browser checks failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- web log\n{}",
        web.proc.log_text()
    );
}
