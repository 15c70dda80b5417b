//! Test support: real `redis-server` processes with the module loaded, and a realistic option
//! chain fixture whose expected answers the tests compute on their own.

pub mod analytics_model;
pub mod bench;
pub mod browser;
pub mod chaos;
pub mod client_analytics;
pub mod fixture;
pub mod follow;
pub mod market;
pub mod procs;
pub mod proxy;
pub mod sse_clients;
pub mod state;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The built module. `OPTIONS_MODULE` overrides; otherwise the workspace's release build if it
/// is newer than the debug one.
pub fn module_path() -> PathBuf {
    if let Ok(p) = std::env::var("OPTIONS_MODULE") {
        return PathBuf::from(p);
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let candidates = ["release", "debug"].map(|p| target.join(p).join("libredis_options.so"));
    let newest = candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p.clone());
    let path = newest.unwrap_or_else(|| {
        panic!("libredis_options.so not found under {target:?}: run `make build` (or cargo build -p redis-options) first")
    });
    path.canonicalize().unwrap_or(path)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A scratch directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "options-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server binary the tests start: `REDIS_SERVER` (another Redis or Valkey build, for
/// `make test-compat`) or `redis-server` from PATH.
pub fn server_binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// The major version of that server (`redis-server --version`: `v=7.0.15`), 0 if unknown.
pub fn server_major_version() -> u32 {
    static VERSION: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *VERSION.get_or_init(|| {
        let out = Command::new(server_binary()).arg("--version").output();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        text.split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    })
}

/// A `redis-server` child process with the module loaded, killed on drop.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    args: Vec<String>,
    pub dir: TempDir,
}

impl RedisServer {
    /// Starts a server with persistence off; `extra` are further `--option value` words.
    pub fn start(extra: &[&str]) -> RedisServer {
        Self::start_in(TempDir::new("redis"), extra)
    }

    pub fn start_in(dir: TempDir, extra: &[&str]) -> RedisServer {
        let mut server = Self::configure(free_port(), dir, extra);
        server.spawn_on_a_free_port();
        server
    }

    /// Starts a server on a given port (e.g. one a client is already trying to reach).
    pub fn start_on(port: u16, extra: &[&str]) -> RedisServer {
        Self::start_with(port, TempDir::new("redis"), extra)
    }

    /// Starts a server in `dir` whose module gets `module_args` (`history-interval 60 …`).
    pub fn start_with_module_args(
        dir: TempDir,
        module_args: &[&str],
        extra: &[&str],
    ) -> RedisServer {
        let mut server = Self::configure(free_port(), dir, extra);
        let at = server
            .args
            .iter()
            .position(|a| a == "--loadmodule")
            .expect("loadmodule")
            + 2;
        for (i, a) in module_args.iter().enumerate() {
            server.args.insert(at + i, a.to_string());
        }
        server.spawn_on_a_free_port();
        server
    }

    fn start_with(port: u16, dir: TempDir, extra: &[&str]) -> RedisServer {
        let mut server = Self::configure(port, dir, extra);
        server.spawn();
        server
    }

    fn configure(port: u16, dir: TempDir, extra: &[&str]) -> RedisServer {
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            dir.path().display().to_string(),
            "--loadmodule".into(),
            module_path().display().to_string(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--logfile".into(),
            "redis.log".into(),
        ];
        // DEBUG (RELOAD, …) is off by default from 7.0 and the option does not exist before.
        if server_major_version() >= 7 {
            args.extend(["--enable-debug-command".into(), "yes".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        RedisServer {
            port,
            child: None,
            args,
            dir,
        }
    }

    fn spawn(&mut self) {
        if let Err(e) = self.try_spawn() {
            panic!("{e}");
        }
    }

    /// A first start: a port that `free_port` found free can be taken by a parallel test
    /// before this server binds it, so a bind failure moves to another free port.
    fn spawn_on_a_free_port(&mut self) {
        for _ in 0..4 {
            match self.try_spawn() {
                Err(e) if e.contains("Address already in use") => {
                    self.port = free_port();
                    if let Some(i) = self.args.iter().position(|a| a == "--port") {
                        self.args[i + 1] = self.port.to_string();
                    }
                }
                Err(e) => panic!("{e}"),
                Ok(()) => return,
            }
        }
        self.spawn();
    }

    fn try_spawn(&mut self) -> Result<(), String> {
        let child = Command::new(server_binary())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (make test installs it)");
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut c) = self.try_connection() {
                let pong: redis::RedisResult<String> = redis::cmd("PING").query(&mut c);
                if pong.is_ok() {
                    return Ok(());
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "redis-server exited with {status}; log:\n{}",
                    self.log()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!("redis-server did not start; log:\n{}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn try_connection(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(self.url())?;
        client.get_connection_with_timeout(Duration::from_secs(5))
    }

    /// A connection, or `None` while the server is down or starting.
    pub fn connection_opt(&self) -> Option<redis::Connection> {
        self.try_connection().ok()
    }

    pub fn connection(&self) -> redis::Connection {
        self.try_connection().expect("connect to redis-server")
    }

    /// Stops the server (SHUTDOWN, which saves if persistence is configured) and starts it
    /// again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// `SHUTDOWN` and wait for the process to exit.
    pub fn stop(&mut self) {
        if let Ok(mut c) = self.try_connection() {
            let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut c);
        }
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGKILL: no SHUTDOWN, no save; what the AOF holds (fsynced every second by default) is
    /// what a restart finds.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again (after `stop` or `kill`) on the same port and directory.
    pub fn start_again(&mut self) {
        self.spawn();
    }

    /// Deletes the server's RDB and AOF files (the log stays), so the next start is empty.
    pub fn forget_data(&self) {
        for name in ["dump.rdb", "appendonly.aof", "appendonlydir"] {
            let p = self.dir.path().join(name);
            let _ = std::fs::remove_dir_all(&p);
            let _ = std::fs::remove_file(&p);
        }
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs a command and returns its reply as a string (bulk or simple).
pub fn text(con: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<String> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con)
}

/// Runs a module command built by the typed client and decodes its reply into the client's
/// type (`None` for nil): what the feeder and web server read, read the same way here.
pub fn run<C: options_client::Command>(
    con: &mut redis::Connection,
    command: &C,
) -> Option<C::Reply> {
    try_run(con, command).unwrap_or_else(|e| panic!("{e}"))
}

/// `run` for a server that may be down, loading or refusing: the error instead of a panic.
pub fn try_run<C: options_client::Command>(
    con: &mut redis::Connection,
    command: &C,
) -> Result<Option<C::Reply>, String> {
    let bytes: Option<Vec<u8>> = command
        .to_cmd()
        .query(con)
        .map_err(|e| format!("{}: {e}", C::NAME))?;
    bytes
        .map(|b| C::decode(&b).map_err(|e| e.to_string()))
        .transpose()
}

/// Runs a command returning a JSON bulk string and parses it.
pub fn json(con: &mut redis::Connection, args: &[&str]) -> serde_json::Value {
    let t = text(con, args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{args:?} returned invalid JSON ({e}): {t}"))
}

pub fn value(con: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con)
}

/// The error text of a command expected to fail.
pub fn error(con: &mut redis::Connection, args: &[&str]) -> String {
    match value(con, args) {
        Ok(v) => panic!("{args:?} should fail, replied {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Replaces the figures of the `name` section of BENCHMARKS.md with why they could not be
/// measured on this commit (its heading stays): an older figure must not pass for a new one.
pub fn mark_not_measured(name: &str, bench: &str, why: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let begin = format!("<!-- {name}:begin -->");
    let heading = current
        .find(&begin)
        .and_then(|at| current[at..].lines().find(|l| l.starts_with("## ")))
        .map(|h| h.trim_end_matches(" — not measured").to_string())
        .unwrap_or_else(|| format!("## {name}"));
    let section = format!(
        "{begin}\n{heading} — not measured\n\nThe benchmark could not run: {why}\n\n<!-- {name}:end -->"
    );
    write_benchmark_section(name, bench, &section);
}

/// Replaces the `<!-- name:begin -->…<!-- name:end -->` section of BENCHMARKS.md (appending
/// it when absent), keeping everything else; `section` includes its own markers, then its
/// `##` heading, under which where the figures come from is added (`bench::provenance` of
/// `bench`). A section with a NaN or an infinite figure is refused: a benchmark that could not measure something
/// must fail, not publish it.
pub fn write_benchmark_section(name: &str, bench: &str, section: &str) {
    for bad in ["NaN", " inf ", "inf ms", "-inf"] {
        assert!(
            !section.contains(bad),
            "the {name} section holds a figure that is not a number ({bad:?}); nothing written:\n{section}"
        );
    }
    let provenance = bench::provenance(bench);
    let section = match section.find("\n## ") {
        Some(at) => {
            let heading_end = section[at + 1..]
                .find('\n')
                .map(|i| at + 1 + i)
                .unwrap_or(section.len());
            format!(
                "{}\n\n{provenance}{}",
                &section[..heading_end],
                &section[heading_end..]
            )
        }
        None => panic!("the {name} section has no `## ` heading"),
    };
    let section = section.as_str();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let current = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".to_string());
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let updated = match (current.find(&begin), current.find(&end)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{}{}", &current[..a], section, &current[b + end.len()..])
        }
        _ => format!("{}\n\n{}\n", current.trim_end(), section),
    };
    std::fs::write(&path, updated).expect("write BENCHMARKS.md");
}
