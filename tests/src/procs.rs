//! The project's own binaries as child processes: `bybit-sim` and `options-feeder`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{free_port, TempDir};

/// A workspace binary: from `OPTIONS_BIN_DIR`, else from the directory of `OPTIONS_MODULE`
/// (so benchmarks of a release module run release binaries), else the newest build.
pub fn binary(name: &str) -> PathBuf {
    let dir = std::env::var("OPTIONS_BIN_DIR")
        .ok()
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("OPTIONS_MODULE")
                .ok()
                .and_then(|m| Path::new(&m).parent().map(Path::to_path_buf))
        });
    if let Some(dir) = dir {
        let p = dir.join(name);
        assert!(
            p.exists(),
            "{p:?} not built: run `make build` (or `make release`) first"
        );
        return p;
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let candidates = ["debug", "release"].map(|p| target.join(p).join(name));
    candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| panic!("{name} not built under {target:?}: run `make build` first"))
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

/// Polls `check` every 20 ms until it returns `Some`, or panics with `what` after `limit`.
/// Waits until the chain `key` (`deribit:BTC`) holds contracts; their count.
pub fn wait_for_chain(con: &mut redis::Connection, key: &str, limit: Duration) -> u64 {
    wait_for(limit, &format!("the {key} chain"), || {
        let n =
            crate::json(con, &["OPTIONS.STATS", key, "FORMAT", "JSON"])["contracts"].as_u64()?;
        (n > 0).then_some(n)
    })
}

pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed on drop, with its output in a log file.
pub struct Proc {
    child: Option<Child>,
    pub log: PathBuf,
    _dir: TempDir,
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Proc {
    fn spawn(name: &str, args: &[String], env: &[(&str, &str)]) -> Proc {
        let dir = TempDir::new(name);
        let log = dir.path().join(format!("{name}.log"));
        let mut proc = Proc {
            child: None,
            log,
            _dir: dir,
            name: name.to_string(),
            args: args.to_vec(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        proc.respawn();
        proc
    }

    /// Starts the command again (after `kill`), its output appended to the same log.
    pub fn respawn(&mut self) {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = Command::new(binary(&self.name));
        cmd.args(&self.args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        // Only what the test sets: an inherited REDIS_URL or OPTION_ASSETS must not leak in.
        for var in [
            "REDIS_URL",
            "REDIS_HOST",
            "REDIS_PORT",
            "OPTION_ASSETS",
            "BYBIT_REST_URL",
            "BYBIT_WS_URL",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("LOG_LEVEL", "info");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.name));
        self.child = Some(child);
    }

    /// SIGKILL, as a crash or the OOM killer would end it; waits for the exit.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The OS process id while the process runs.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// SIGTERM, then the exit status (SIGKILL after `limit`).
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `bybit-sim` on a free port.
pub struct Sim {
    pub port: u16,
    pub proc: Proc,
    http: reqwest::blocking::Client,
}

impl Sim {
    pub fn start(extra: &[&str]) -> Sim {
        Sim::start_on(free_port(), extra)
    }

    /// On a given port: a sim started again where a stopped one was.
    pub fn start_on(port: u16, extra: &[&str]) -> Sim {
        let mut args = vec!["--port".to_string(), port.to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let proc = Proc::spawn("bybit-sim", &args, &[]);
        let sim = Sim {
            port,
            proc,
            http: http(),
        };
        wait_for(Duration::from_secs(20), "bybit-sim to listen", || {
            sim.stats_opt()
        });
        sim
    }

    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/v5/public/option", self.port)
    }

    /// Deribit's REST base on this sim (`…/api/v2`).
    pub fn deribit_rest_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v2", self.port)
    }

    /// Deribit's JSON-RPC WebSocket on this sim.
    pub fn deribit_ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws/api/v2", self.port)
    }

    /// A feeder's flags for `venues` (`bybit,deribit`, `deribit`), Deribit's side on this sim.
    pub fn venue_args(&self, venues: &str) -> Vec<String> {
        [
            "--venues",
            venues,
            "--deribit-rest-url",
            &self.deribit_rest_url(),
            "--deribit-ws-url",
            &self.deribit_ws_url(),
        ]
        .map(String::from)
        .to_vec()
    }

    /// A Deribit `public/<method>` answer's `result`.
    pub fn deribit(&self, method: &str, query: &[(&str, &str)]) -> Value {
        let body: Value = self
            .get(&format!("/api/v2/public/{method}"), query)
            .json()
            .unwrap_or_else(|e| panic!("deribit {method}: {e}"));
        body["result"].clone()
    }

    fn stats_opt(&self) -> Option<Value> {
        self.http
            .get(format!("{}/sim/stats", self.rest_url()))
            .send()
            .ok()?
            .json()
            .ok()
    }

    pub fn stats(&self) -> Value {
        self.stats_opt().expect("sim stats")
    }

    /// POST /sim/{action}?{query}.
    pub fn control(&self, action: &str, query: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .post(format!("{}/sim/{action}", self.rest_url()))
            .query(query)
            .send()
            .unwrap_or_else(|e| panic!("sim {action}: {e}"));
        assert!(
            r.status().is_success(),
            "sim {action} answered {}",
            r.status()
        );
        r.json().expect("sim control JSON")
    }

    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.rest_url()))
            .query(query)
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Every ticker the sim has for `base` (both settle coins), REST names, values as text.
    pub fn tickers(&self, base: &str) -> Vec<Value> {
        tickers_at(&self.http, &self.rest_url(), base)
    }
}

/// Every ticker a sim at `rest_url` has for `base` (both settle coins): what `Sim::tickers`
/// gives, for a thread that does not own the sim.
pub fn tickers_at(http: &reqwest::blocking::Client, rest_url: &str, base: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for settle in ["USDC", "USDT"] {
        let body: Value = http
            .get(format!("{rest_url}/v5/market/tickers"))
            .query(&[
                ("category", "option"),
                ("baseCoin", base),
                ("settleCoin", settle),
            ])
            .send()
            .unwrap_or_else(|e| panic!("sim tickers: {e}"))
            .json()
            .expect("tickers JSON");
        assert_eq!(body["retCode"], 0, "{body}");
        out.extend(
            body["result"]["list"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    out
}

/// `options-feeder` pointed at a sim and a Redis, with health endpoints on a free port.
pub struct Feeder {
    pub health_port: u16,
    pub proc: Proc,
    http: reqwest::blocking::Client,
}

impl Feeder {
    /// A feeder of `venues` (`bybit,deribit`, `deribit`), Deribit's side on this sim too.
    pub fn start_venues(
        sim: &Sim,
        redis_url: &str,
        assets: &str,
        venues: &str,
        extra: &[&str],
    ) -> Feeder {
        let venue_args = sim.venue_args(venues);
        let mut args: Vec<&str> = venue_args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        Feeder::start(sim, redis_url, assets, &args)
    }

    pub fn start(sim: &Sim, redis_url: &str, assets: &str, extra: &[&str]) -> Feeder {
        let health_port = free_port();
        let mut args: Vec<String> = [
            "--redis-url",
            redis_url,
            "--rest-url",
            &sim.rest_url(),
            "--ws-url",
            &sim.ws_url(),
            "--assets",
            assets,
            "--health-port",
            &health_port.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let proc = Proc::spawn("options-feeder", &args, &[]);
        Feeder {
            health_port,
            proc,
            http: http(),
        }
    }

    pub fn endpoint(&self, path: &str) -> Option<(u16, String)> {
        let r = self
            .http
            .get(format!("http://127.0.0.1:{}{path}", self.health_port))
            .send()
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().ok()?))
    }

    pub fn health(&self) -> Value {
        let (_, body) = self.endpoint("/health").expect("feeder /health");
        serde_json::from_str(&body).expect("health JSON")
    }

    /// Kills the feeder (SIGKILL) and starts it again with the same flags and health port.
    pub fn crash_and_restart(&mut self) {
        self.proc.kill();
        self.proc.respawn();
    }

    /// Waits for /ready to answer 200.
    pub fn wait_ready(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some((200, _)) = self.endpoint("/ready") {
                return;
            }
            assert!(
                self.proc.is_running(),
                "feeder exited; log:\n{}",
                self.proc.log_text()
            );
            assert!(
                Instant::now() < deadline,
                "feeder not ready after {limit:?}; log:\n{}",
                self.proc.log_text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A Prometheus counter or gauge value.
    pub fn metric(&self, name: &str) -> f64 {
        self.try_metric(name)
            .unwrap_or_else(|| panic!("metric {name} not in /metrics"))
    }

    /// The same, `None` while the endpoint is not up yet.
    pub fn try_metric(&self, name: &str) -> Option<f64> {
        let (_, text) = self.endpoint("/metrics")?;
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
    }
}

/// The feeder's flags for tests that break its connections: notice silence within a second,
/// reconnect at once.
pub const FAST_RECOVERY: [&str; 6] = [
    "--silence-timeout",
    "1",
    "--reconnect-delay",
    "0.05",
    "--max-reconnect-delay",
    "0.5",
];

/// Assembles Server-Sent Events from a stream's lines: `line` answers (event name, id, data)
/// when a blank line ends an event that had data.
#[derive(Default)]
pub struct SseEvents {
    event: String,
    id: String,
    data: String,
}

impl SseEvents {
    pub fn line(&mut self, line: &str) -> Option<(String, String, String)> {
        if line.is_empty() {
            let ev = (
                std::mem::take(&mut self.event),
                std::mem::take(&mut self.id),
                std::mem::take(&mut self.data),
            );
            return (!ev.2.is_empty()).then_some(ev);
        }
        if let Some(v) = line.strip_prefix("event:") {
            self.event = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("id:") {
            self.id = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            self.data.push_str(v.trim_start());
        }
        None
    }
}

/// `options-web` on a free port.
pub struct Web {
    pub port: u16,
    /// The data API's own listener (`--data-api-port`).
    pub data_port: u16,
    pub proc: Proc,
    http: reqwest::blocking::Client,
}

impl Web {
    pub fn start(redis_url: &str, extra: &[&str]) -> Web {
        let port = free_port();
        let data_port = free_port();
        let mut args: Vec<String> = vec![
            "--redis-url".into(),
            redis_url.into(),
            "--port".into(),
            port.to_string(),
            "--data-api-port".into(),
            data_port.to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let proc = Proc::spawn("options-web", &args, &[]);
        let web = Web {
            port,
            data_port,
            proc,
            http: http(),
        };
        wait_for(Duration::from_secs(20), "options-web to listen", || {
            web.try_get("/health", &[]).map(|_| ())
        });
        web
    }

    /// Kills the server (SIGKILL) and starts it again on the same ports; returns once it listens.
    pub fn crash_and_restart(&mut self) {
        self.proc.kill();
        self.proc.respawn();
        wait_for(
            Duration::from_secs(20),
            "options-web to listen again",
            || self.try_get("/health", &[]).map(|_| ()),
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn try_get(&self, path: &str, query: &[(&str, &str)]) -> Option<reqwest::blocking::Response> {
        self.http.get(self.url(path)).query(query).send().ok()
    }

    /// GET → (status, JSON body).
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .try_get(path, query)
            .unwrap_or_else(|| panic!("GET {path}"));
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {text}")),
        )
    }

    /// GET on the data API's port → (status, JSON body).
    pub fn data_api_get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let url = format!("http://127.0.0.1:{}{path}", self.data_port);
        let r = self
            .http
            .get(url)
            .query(query)
            .send()
            .unwrap_or_else(|e| panic!("GET {path} (data API): {e}"));
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("GET {path} (data API): not JSON ({e}): {text}")),
        )
    }

    pub fn get_text(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self
            .try_get(path, query)
            .unwrap_or_else(|| panic!("GET {path}"));
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.text().unwrap_or_default(), headers)
    }

    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// Reads SSE events (event name, id, data) from a live response on a thread.
    pub fn sse_events(
        &self,
        query: &str,
        last_id: Option<&str>,
    ) -> std::sync::mpsc::Receiver<(String, String, String)> {
        let (tx, rx) = std::sync::mpsc::channel();
        let url = self.url(&format!("/api/stream?{query}"));
        let last_id = last_id.map(String::from);
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .timeout(None)
                .build()
                .unwrap();
            let mut req = client.get(url);
            if let Some(id) = last_id {
                req = req.header("Last-Event-ID", id);
            }
            let Ok(resp) = req.send() else { return };
            let mut events = SseEvents::default();
            for line in std::io::BufRead::lines(std::io::BufReader::new(resp)) {
                let Ok(line) = line else { return };
                if let Some(ev) = events.line(&line) {
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }
}
