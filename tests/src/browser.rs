//! Running a browser script of tests/browser/ against a started stack: Debian's Chromium, the
//! script's environment, and its verdict (the line it prints when every check passed).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::procs::Web;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Chromium's path (`CHROMIUM`, else Debian's), which must exist.
pub fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "{path} is missing: the browser tests need Debian's chromium (`make deps` installs it)"
    );
    path
}

/// Runs `tests/browser/<script>` with `DASHBOARD_URL` (the web server), `CHROMIUM` and `env`,
/// and fails unless it exits 0 having printed `passed` (its last line of checks): its output,
/// its errors and the web server's log are in the failure. Returns what it printed.
pub fn run(script: &str, web: &Web, env: &[(&str, String)], passed: &str) -> String {
    let mut node = Command::new("node");
    node.arg(workspace().join("tests/browser").join(script))
        .env("DASHBOARD_URL", web.url(""))
        .env("CHROMIUM", chromium());
    for (k, v) in env {
        node.env(k, v);
    }
    let out = node
        .output()
        .expect("run node (is Node.js installed? `make deps` installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains(passed),
        "{script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- web log\n{}",
        web.proc.log_text()
    );
    stdout
}
