//! Running a browser script of tests/browser/ against a started stack: Debian's Chromium, the
//! script's environment, and its verdict (the line it prints when every check passed).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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

/// How long a browser script may run before it is taken for hung (`BROWSER_TIMEOUT_S` to
/// change it): the longest takes about a minute on 2 cores. Without a limit a Chromium that
/// never answers held `make test` until CI's own 90 minutes ran out, with nothing to show.
const LIMIT: Duration = Duration::from_secs(300);

/// Runs `tests/browser/<script>` with `DASHBOARD_URL` (the web server), `CHROMIUM` and `env`,
/// and fails unless it exits 0 having printed `passed` (its last line of checks), within
/// `LIMIT`: its output, its errors and the web server's log are in the failure. Returns what
/// it printed.
pub fn run(script: &str, web: &Web, env: &[(&str, String)], passed: &str) -> String {
    let mut node = Command::new("node");
    node.arg(workspace().join("tests/browser").join(script))
        .env("DASHBOARD_URL", web.url(""))
        .env("CHROMIUM", chromium());
    for (k, v) in env {
        node.env(k, v);
    }
    let limit = std::env::var("BROWSER_TIMEOUT_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(LIMIT, Duration::from_secs);
    let out = run_within(node, limit);
    println!("{}", out.stdout);
    let verdict = match out.status {
        None => format!("did not end within {} s (killed)", limit.as_secs()),
        Some(s) if !s.success() => format!("failed ({s})"),
        Some(_) if !out.stdout.contains(passed) => format!("ended without printing {passed:?}"),
        Some(_) => return out.stdout,
    };
    panic!(
        "{script} {verdict}\n--- stdout\n{}\n--- stderr\n{}\n--- web log\n{}",
        out.stdout,
        out.stderr,
        web.proc.log_text()
    );
}

/// What a command printed, and how it ended: `None` when it was killed at its time limit.
#[derive(Debug)]
pub struct Ran {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` (in a process group of its own), reading its output as it comes; past `limit`
/// the whole group is killed and what it printed until then is kept, to show where it hung.
pub fn run_within(mut cmd: Command, limit: Duration) -> Ran {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run {:?} (`make deps` installs it): {e}",
            cmd.get_program()
        )
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            kill_group(&mut child);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ran {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Kills the child's process group: not the child alone, as a process it started that still
/// holds the pipes would keep the readers (and so the test) waiting. Through kill(2), not the
/// `kill` program: procps-ng 4.0.2's, this machine's, reads `kill -KILL -123456` as
/// kill(-1, SIGKILL), every process the user may signal (strace shows it).
fn kill_group(child: &mut Child) {
    match libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes no pointers. A negative pid names the process group of that
        // id, which is the child's own (`process_group(0)`); pids 0 and 1 are never a child
        // of this process, so the call cannot reach this process's group or every process.
        Ok(pid) if pid > 1 => unsafe {
            libc::kill(-pid, libc::SIGKILL);
        },
        _ => {
            let _ = child.kill();
        }
    }
}

/// Reads a pipe to its end on a thread of its own (two pipes read in turn could each wait on
/// the other's full buffer).
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(script: &str) -> Command {
        let mut cmd = Command::new("node");
        cmd.arg("-e").arg(script);
        cmd
    }

    #[test]
    fn a_script_that_hangs_is_killed_at_its_limit_with_what_it_printed() {
        let began = Instant::now();
        // A child of its own that inherits the pipes and outlives a killed parent unless the
        // group goes too.
        let ran = run_within(
            node(
                "require('child_process').spawn('sleep', ['600'], {stdio: 'inherit'}); \
                 console.log('started'); setInterval(() => {}, 1000);",
            ),
            Duration::from_secs(2),
        );
        assert!(ran.status.is_none(), "{ran:?}");
        assert_eq!(ran.stdout.trim(), "started");
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "{:?}",
            began.elapsed()
        );
    }

    #[test]
    fn a_script_that_ends_gives_its_status_and_both_outputs() {
        let ran = run_within(
            node("console.log('out'); console.error('err'); process.exit(3)"),
            Duration::from_secs(60),
        );
        assert_eq!(ran.status.and_then(|s| s.code()), Some(3));
        assert_eq!((ran.stdout.trim(), ran.stderr.trim()), ("out", "err"));
    }
}
