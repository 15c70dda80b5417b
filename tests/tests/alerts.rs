//! Telegram alerts from the feeder, against a local mock of the Bot API started by the test:
//! the exact requests (chat id, parse mode, text), `retry_after` honoured, and a Redis outage
//! producing one alert and one resolution.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::proxy::Proxy;
use options_tests::RedisServer;
use serde_json::Value;

#[derive(Debug, Clone)]
struct Request {
    path: String,
    body: Value,
    at: Instant,
}

/// A Bot API that records every request; the first `rate_limited` answers are HTTP 429 with
/// `retry_after: 1`.
fn mock_bot_api(rate_limited: usize) -> (u16, Arc<Mutex<Vec<Request>>>) {
    let (port, seen, _) = mock_bot_api_with_updates(rate_limited);
    (port, seen)
}

type Inbox = Arc<Mutex<Vec<(i64, &'static str)>>>;

/// The same, answering `getUpdates` with the chat messages (`chat id`, text) put in the inbox.
fn mock_bot_api_with_updates(rate_limited: usize) -> (u16, Arc<Mutex<Vec<Request>>>, Inbox) {
    let inbox: Inbox = Arc::new(Mutex::new(Vec::new()));
    let messages = inbox.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut limited = rate_limited;
        let mut next_id = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            log.lock().unwrap().push(Request {
                path,
                body,
                at: Instant::now(),
            });
            let polling = log
                .lock()
                .unwrap()
                .last()
                .is_some_and(|r| r.path.to_lowercase().contains("getupdates"));
            let (status, reply) = if polling {
                let updates: Vec<String> = messages
                    .lock()
                    .unwrap()
                    .drain(..)
                    .map(|(chat, text)| {
                        next_id += 1;
                        format!(
                            r#"{{"update_id":{next_id},"message":{{"message_id":{next_id},"date":1700000000,"chat":{{"id":{chat},"type":"private","first_name":"ops"}},"from":{{"id":1,"is_bot":false,"first_name":"ops"}},"text":"{text}"}}}}"#
                        )
                    })
                    .collect();
                (
                    "200 OK",
                    format!(r#"{{"ok":true,"result":[{}]}}"#, updates.join(",")),
                )
            } else if limited > 0 {
                limited -= 1;
                ("429 Too Many Requests", r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#.to_string())
            } else {
                ("200 OK", r#"{"ok":true,"result":{"message_id":1,"date":1700000000,"chat":{"id":4242,"type":"private","first_name":"ops"},"text":"ok"}}"#.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (port, seen, inbox)
}

fn texts(seen: &Arc<Mutex<Vec<Request>>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|r| r.body["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A small BTC market: enough to stream, quiet enough for exact message counts.
fn quiet_sim() -> Sim {
    Sim::start(&[
        "--assets",
        "BTC",
        "--strikes",
        "2",
        "--updates-per-sec",
        "200",
    ])
}

fn count(seen: &Arc<Mutex<Vec<Request>>>, needle: &str) -> usize {
    texts(seen).iter().filter(|t| t.contains(needle)).count()
}

#[test]
fn system_alerts_reach_telegram_once_per_problem_and_resolution() {
    let (port, seen) = mock_bot_api(1);
    let mut redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let mut feeder = telegram_feeder(&sim, &redis.url(), port, &[]);

    // The start message: first refused with 429, sent again after the second Telegram asked for.
    wait_for(Duration::from_secs(10), "the start message", || {
        (count(&seen, "Feeder started") >= 2).then_some(())
    });
    {
        let reqs = seen.lock().unwrap();
        assert!(
            reqs[1].at.duration_since(reqs[0].at) >= Duration::from_millis(950),
            "retry_after honoured"
        );
        let r = &reqs[1];
        assert!(
            r.path.starts_with("/bot123:abc/") && r.path.to_lowercase().ends_with("sendmessage"),
            "{}",
            r.path
        );
        assert_eq!(r.body["chat_id"], 4242);
        assert_eq!(r.body["parse_mode"], "HTML");
        let text = r.body["text"].as_str().unwrap();
        assert!(text.starts_with("<b>Bybit Options Tracker</b>"), "{text}");
        assert!(text.contains("Tracking BTC"), "{text}");
    }

    // Redis outage: one alert, one resolution, however long it lasts.
    redis.stop();
    wait_for(Duration::from_secs(20), "the Redis alert", || {
        (count(&seen, "Redis problem") == 1).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        count(&seen, "Redis problem"),
        1,
        "no flood while Redis stays down"
    );
    redis.restart();
    wait_for(Duration::from_secs(20), "the Redis resolution", || {
        (count(&seen, "Redis resolved") == 1).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(count(&seen, "Redis resolved"), 1);
    assert_eq!(count(&seen, "Redis problem"), 1);

    // Clean shutdown is announced before the process exits.
    let status = feeder.proc.terminate(Duration::from_secs(15)).unwrap();
    assert!(status.success());
    assert_eq!(count(&seen, "Feeder stopped"), 1, "{:?}", texts(&seen));
}

#[test]
fn telegram_down_never_blocks_the_feeder() {
    // Nothing listens here: every send fails, the feeder carries on.
    let dead = options_tests::free_port();
    let redis = RedisServer::start(&[]);
    let mut con = redis.connection();
    let sim = quiet_sim();
    let mut feeder = telegram_feeder(&sim, &redis.url(), dead, &[]);
    let listed = sim.tickers("BTC").len() as u64;
    wait_for(Duration::from_secs(10), "the chain in Redis", || {
        let s = options_tests::json(&mut con, &["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]);
        (s["contracts"].as_u64() == Some(listed)).then_some(())
    });
    let status = feeder.proc.terminate(Duration::from_secs(15)).unwrap();
    assert!(
        status.success(),
        "shutdown is not held up by an unreachable Telegram"
    );
}

/// A BTC contract of the quiet sim and a mark price no contract reaches by itself.
fn watched_contract(sim: &Sim, i: usize) -> (String, f64) {
    let tickers = sim.tickers("BTC");
    let symbol = tickers[i]["symbol"].as_str().unwrap().to_string();
    let highest = tickers
        .iter()
        .map(|t| t["markPrice"].as_str().unwrap().parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    (symbol, (highest * 10.0).ceil())
}

/// A ready feeder on the Redis at `redis_url` whose Telegram is the mock Bot API on `port`
/// (bot `123:abc`, chat 4242), with `extra` flags: every test here starts its feeder this way.
fn telegram_feeder(sim: &Sim, redis_url: &str, port: u16, extra: &[&str]) -> Feeder {
    let api = format!("http://127.0.0.1:{port}/");
    let mut args = vec![
        "--enable-notifications",
        "--telegram-bot-token",
        "123:abc",
        "--telegram-chat-id",
        "4242",
        "--telegram-api-url",
        &api,
    ];
    args.extend_from_slice(extra);
    let mut feeder = Feeder::start(sim, redis_url, "BTC", &args);
    feeder.wait_ready(Duration::from_secs(20));
    feeder
}

/// `telegram_feeder` checking market rules every 0.2 s.
fn alerting_feeder(sim: &Sim, redis_url: &str, port: u16, extra: &[&str]) -> Feeder {
    let mut args = vec!["--alerts-check-interval", "0.2"];
    args.extend_from_slice(extra);
    telegram_feeder(sim, redis_url, port, &args)
}

/// Freezes the sim and pushes `symbol`'s mark price to `value`.
fn push_mark_price(sim: &Sim, symbol: &str, value: f64) {
    sim.control("pause", &[]);
    let value = format!("{value}");
    sim.control(
        "set",
        &[
            ("symbol", symbol),
            ("field", "markPrice"),
            ("value", &value),
        ],
    );
}

#[test]
fn a_price_crossing_its_threshold_sends_one_market_alert() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let (symbol, threshold) = watched_contract(&sim, 0);
    let dir = options_tests::TempDir::new("alerts");
    let file = dir.path().join("alerts.toml");
    std::fs::write(
        &file,
        format!(
            "[[alert]]\nname = \"watched call\"\nsymbol = \"{symbol}\"\nfield = \"mark_price\"\nabove = {threshold}\n\n\
             [[alert]]\nasset = \"BTC\"\nfield = \"mark_iv\"\nabove = 50\n"
        ),
    )
    .unwrap();
    let path = file.display().to_string();
    let _feeder = alerting_feeder(&sim, &redis.url(), port, &["--alerts-file", &path]);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        count(&seen, "watched call"),
        0,
        "below the threshold: quiet"
    );
    push_mark_price(&sim, &symbol, threshold * 2.0);
    wait_for(Duration::from_secs(10), "the market alert", || {
        (count(&seen, "watched call") == 1).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(count(&seen, "watched call"), 1, "one alert per crossing");
    let text = texts(&seen)
        .into_iter()
        .find(|t| t.contains("watched call"))
        .unwrap();
    assert!(
        text.contains(&symbol) && text.contains(&format!("above {threshold}")),
        "{text}"
    );
    assert_eq!(count(&seen, "ATM mark_iv"), 0);

    // a broken alerts file stops the feeder at start with a clear message
    std::fs::write(
        &file,
        "[[alert]]\nasset = \"BTC\"\nfield = \"colour\"\nabove = 1\n",
    )
    .unwrap();
    let mut bad = Feeder::start(
        &sim,
        &redis.url(),
        "BTC",
        &["--enable-notifications", "--alerts-file", &path],
    );
    wait_for(
        Duration::from_secs(10),
        "the feeder to refuse the file",
        || (!bad.proc.is_running()).then_some(()),
    );
    assert!(
        bad.proc.log_text().contains("unknown field 'colour'"),
        "{}",
        bad.proc.log_text()
    );
}

#[test]
fn bot_commands_answer_the_alert_chat_only() {
    let (port, seen, inbox) = mock_bot_api_with_updates(0);
    let mut redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let _feeder = telegram_feeder(&sim, &redis.url(), port, &["--telegram-commands"]);
    inbox.lock().unwrap().extend([
        (4242, "/status"),
        (999, "/status"),
        (4242, "/atm btc"),
        (4242, "/mute 1h"),
    ]);
    wait_for(Duration::from_secs(15), "the command replies", || {
        (count(&seen, "Alerts muted for 1h") == 1).then_some(())
    });
    assert_eq!(
        count(&seen, "<b>Status</b>"),
        1,
        "the other chat's /status is ignored: {:?}",
        texts(&seen)
    );
    let status = texts(&seen)
        .into_iter()
        .find(|t| t.contains("<b>Status</b>"))
        .unwrap();
    assert!(
        status.contains("Contracts: ") && status.contains("Redis: up"),
        "{status}"
    );
    let atm = texts(&seen)
        .into_iter()
        .find(|t| t.contains(" ATM "))
        .expect("an /atm reply");
    assert!(
        atm.starts_with("<b>BTC ") && atm.contains("-C: mark") && atm.contains("-P: mark"),
        "{atm}"
    );
    // muted: a Redis outage raises no alert
    redis.stop();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(count(&seen, "Redis problem"), 0, "alerts are muted");
}

#[test]
fn rules_added_through_the_web_server_reach_telegram() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let (symbol, threshold) = watched_contract(&sim, 1);
    let _feeder = alerting_feeder(&sim, &redis.url(), port, &[]);
    let web = Web::start(&redis.url(), &["--assets", "BTC"]);
    let post = |body: Value| web.send(reqwest::Method::POST, "/api/alerts", Some(body), None);

    // Bad rules are refused with the reason, and nothing is stored.
    for (bad, want) in [
        (
            serde_json::json!({"field": "mark_price", "above": 1}),
            "exactly one of symbol and asset",
        ),
        (
            serde_json::json!({"asset": "BTC", "field": "colour", "above": 1}),
            "unknown field 'colour'",
        ),
        (
            serde_json::json!({"asset": "BTC", "field": "delta"}),
            "above, below and/or rise",
        ),
        (
            serde_json::json!({"asset": "BTC", "field": "delta", "above": 1, "cooldown": -1}),
            "cooldown",
        ),
        (
            serde_json::json!({"symbol": "nope", "field": "delta", "above": 1}),
            "invalid symbol",
        ),
    ] {
        let (code, body) = post(bad.clone());
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(want),
            "{bad}: {body}"
        );
    }
    assert_eq!(web.get("/api/alerts", &[]).1, serde_json::json!([]));

    let rule = serde_json::json!({"name": "from the dashboard", "symbol": symbol.to_lowercase(),
        "field": "mark_price", "above": threshold, "cooldown": 60});
    let (code, body) = post(rule.clone());
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["rule"]["symbol"],
        symbol.as_str(),
        "symbol upper-cased"
    );
    let (code, body) = post(rule.clone());
    assert_eq!(code, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("exists already"));
    // An unnamed rule is named after what it watches.
    let (code, body) = post(serde_json::json!({"asset": "btc", "field": "mark_iv", "above": 50}));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["rule"]["name"], "BTC ATM mark_iv");
    let listed = web.get("/api/alerts", &[]).1;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    // The feeder picks the rule up from config:alerts and alerts on the crossing.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        count(&seen, "from the dashboard"),
        0,
        "below the threshold: quiet"
    );
    push_mark_price(&sim, &symbol, threshold * 2.0);
    wait_for(
        Duration::from_secs(10),
        "the alert from the web rule",
        || (count(&seen, "from the dashboard") == 1).then_some(()),
    );
    let text = texts(&seen)
        .into_iter()
        .find(|t| t.contains("from the dashboard"))
        .unwrap();
    assert!(text.contains(&format!("above {threshold}")), "{text}");

    // Removal by name (URL-encoded), then 404.
    let (code, body) = web.send(
        reqwest::Method::DELETE,
        "/api/alerts/from%20the%20dashboard",
        None,
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["count"], 1);
    let (code, _) = web.send(
        reqwest::Method::DELETE,
        "/api/alerts/from%20the%20dashboard",
        None,
        None,
    );
    assert_eq!(code, 404);
}

#[test]
fn analytics_alerts_and_the_analytics_command() {
    let (port, seen, inbox) = mock_bot_api_with_updates(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    sim.control("pause", &[]);
    let dir = options_tests::TempDir::new("alerts");
    let file = dir.path().join("alerts.toml");
    // Above any put/call ratio the quiet market has, until a put's open interest jumps.
    std::fs::write(
        &file,
        "[[alert]]\nasset = \"BTC\"\nfield = \"pcr_oi\"\nabove = 1000\n\n\
         [[alert]]\nname = \"BTC 30d ATM IV sky-high\"\nasset = \"BTC\"\nfield = \"atm_iv\"\ntenor = 30\nabove = 50\n\n\
         [[alert]]\nname = \"BTC volatility index alive\"\nasset = \"BTC\"\nfield = \"vol_index\"\nabove = 1\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let _feeder = alerting_feeder(
        &sim,
        &redis.url(),
        port,
        &["--alerts-file", &path, "--telegram-commands"],
    );
    let mut con = redis.connection();
    let analytics = |con: &mut redis::Connection| {
        options_tests::run(con, &options_client::cmd::Analytics::new("BTC"))
            .expect("an analytics reply")
    };
    let before = analytics(&mut con);
    assert!(
        before.totals.pcr_oi.is_some_and(|p| p < 1000.0),
        "{before:?}"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(count(&seen, "BTC total pcr_oi"), 0, "below the threshold");

    // Every call's open interest to 0.001 and one put's to a million: PCR far above 1000.
    let tickers = sim.tickers("BTC");
    for t in &tickers {
        let symbol = t["symbol"].as_str().unwrap();
        let oi = if symbol.ends_with("-C") { "0.001" } else { "1" };
        sim.control(
            "set",
            &[("symbol", symbol), ("field", "openInterest"), ("value", oi)],
        );
    }
    let put = tickers
        .iter()
        .map(|t| t["symbol"].as_str().unwrap())
        .find(|s| s.ends_with("-P"))
        .unwrap();
    sim.control(
        "set",
        &[
            ("symbol", put),
            ("field", "openInterest"),
            ("value", "1000000"),
        ],
    );
    wait_for(Duration::from_secs(10), "the analytics alert", || {
        (count(&seen, "BTC total pcr_oi") == 1).then_some(())
    });
    let text = texts(&seen)
        .into_iter()
        .find(|t| t.contains("BTC total pcr_oi"))
        .unwrap();
    assert!(text.contains("above 1000"), "{text}");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        count(&seen, "BTC total pcr_oi"),
        1,
        "one alert per crossing"
    );
    assert_eq!(count(&seen, "sky-high"), 0, "an IV of 5000% is not reached");
    // The simulator quotes every contract, so its chain has a volatility index well above 1.
    wait_for(
        Duration::from_secs(10),
        "the volatility index alert",
        || (count(&seen, "BTC volatility index alive") == 1).then_some(()),
    );

    // /analytics answers with the module's figures.
    inbox.lock().unwrap().push((4242, "/analytics btc"));
    wait_for(Duration::from_secs(10), "the /analytics reply", || {
        (count(&seen, "<b>BTC analytics</b>") == 1).then_some(())
    });
    let a = analytics(&mut con);
    let reply = texts(&seen)
        .into_iter()
        .find(|t| t.contains("<b>BTC analytics</b>"))
        .unwrap();
    let pcr = format!("Put/call (OI): {:.2}", a.totals.pcr_oi.unwrap());
    let pain = format!(
        "Max pain {}: {}",
        a.expiries[0].expiry,
        options_core::format_number(a.expiries[0].max_pain.unwrap())
    );
    assert!(
        reply.contains(&pcr) && reply.contains(&pain),
        "{reply}\nwant {pcr} and {pain}"
    );
    assert!(reply.contains("Volatility index (30-day): "), "{reply}");

    // The web server takes analytics rules too, and refuses malformed ones.
    let web = Web::start(&redis.url(), &["--assets", "BTC"]);
    let post = |body: Value| web.send(reqwest::Method::POST, "/api/alerts", Some(body), None);
    let (code, body) =
        post(serde_json::json!({"asset": "btc", "field": "rr25", "tenor": 30, "below": -0.1}));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["rule"]["name"], "BTC 30d rr25");
    for (bad, want) in [
        (
            serde_json::json!({"asset": "BTC", "field": "bf25", "above": 1}),
            "needs a tenor",
        ),
        (
            serde_json::json!({"asset": "BTC", "field": "gex", "tenor": 7, "below": 0}),
            "takes no tenor",
        ),
        (
            serde_json::json!({"asset": "BTC", "field": "atm_iv", "tenor": 14, "above": 1}),
            "tenor 14",
        ),
    ] {
        let (code, body) = post(bad.clone());
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(want),
            "{bad}: {body}"
        );
    }
}

#[test]
fn an_analytics_rise_counts_the_history_recorded_before_the_feeder_watched() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    sim.control("pause", &[]);
    // Ten minutes ago the market's IVs were 10%: write that, so the module samples it.
    let mut con = redis.connection();
    let ago = options_core::clock::now_ms() - 600_000;
    // Every contract in one minute, then one more write a minute later: that write's sample
    // sees the whole chain.
    let tickers = sim.tickers("BTC");
    let first = tickers[0].clone();
    for (t, at) in tickers
        .iter()
        .map(|t| (t, ago))
        .chain([(&first, ago + 60_000)])
    {
        let mut cmd = redis::cmd("OPTIONS.INGEST");
        cmd.arg("BTC").arg(t["symbol"].as_str().unwrap());
        for (name, value) in [
            ("markIv", "0.1".to_string()),
            ("delta", t["delta"].as_str().unwrap().to_string()),
            (
                "underlyingPrice",
                t["underlyingPrice"].as_str().unwrap().to_string(),
            ),
        ] {
            cmd.arg(name).arg(value);
        }
        cmd.arg("updated_ms").arg(at);
        let _: i64 = cmd.query(&mut con).unwrap();
    }
    let recorded = options_tests::json(
        &mut con,
        &[
            "OPTIONS.HISTORY",
            "BTC",
            "TENOR",
            "30",
            "METRIC",
            "atm_iv",
            "FORMAT",
            "JSON",
        ],
    );
    let low = recorded["points"][1][1].as_f64();
    assert!(low.is_some_and(|v| (v - 0.1).abs() < 1e-6), "{recorded}");
    // Now the chain holds the market's real IVs, before the feeder starts: whatever it sees
    // from its first check on is the real level, so only the recorded 10% makes a rise.
    for t in &tickers {
        let _: i64 = redis::cmd("OPTIONS.INGEST")
            .arg("BTC")
            .arg(t["symbol"].as_str().unwrap())
            .arg("markIv")
            .arg(t["markIv"].as_str().unwrap())
            .query(&mut con)
            .unwrap();
    }

    let dir = options_tests::TempDir::new("alerts");
    let file = dir.path().join("alerts.toml");
    std::fs::write(
        &file,
        "[[alert]]\nasset = \"BTC\"\nfield = \"atm_iv\"\ntenor = 30\nrise = 0.05\nwindow = 3600\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let _feeder = alerting_feeder(&sim, &redis.url(), port, &["--alerts-file", &path]);
    // The feeder writes the market's real IVs; the rise is measured from the recorded 10%.
    wait_for(Duration::from_secs(15), "the rise alert", || {
        (count(&seen, "BTC 30d atm_iv") == 1).then_some(())
    });
    let text = texts(&seen)
        .into_iter()
        .find(|t| t.contains("BTC 30d atm_iv"))
        .unwrap();
    assert!(text.contains("within 3600 s"), "{text}");
}

/// A feeder with Telegram alerts to the mock, quick WebSocket-down and stale thresholds.
fn watching_feeder(sim: &Sim, redis: &RedisServer, port: u16) -> Feeder {
    telegram_feeder(
        sim,
        &redis.url(),
        port,
        &[
            "--alert-ws-down-after",
            "1",
            "--alert-stale-after",
            "2",
            "--alert-throttle",
            "1",
        ],
    )
}

fn contracts_in_redis(redis: &RedisServer) -> Option<u64> {
    let mut con = redis.connection_opt()?;
    let text: String = redis::cmd("OPTIONS.STATS")
        .arg("BTC")
        .arg("FORMAT")
        .arg("JSON")
        .query(&mut con)
        .ok()?;
    serde_json::from_str::<Value>(&text).ok()?["contracts"].as_u64()
}

/// Waits for `n` messages containing `needle`; returns how long it took from `since`.
fn announced(seen: &Arc<Mutex<Vec<Request>>>, needle: &str, n: usize, since: Instant) -> Duration {
    wait_for(Duration::from_secs(20), needle, || {
        let reqs = seen.lock().unwrap();
        let at: Vec<Instant> = reqs
            .iter()
            .filter(|r| r.body["text"].as_str().unwrap_or("").contains(needle))
            .map(|r| r.at)
            .collect();
        (at.len() >= n).then(|| at[n - 1].saturating_duration_since(since))
    })
}

/// A feeder alerting to the mock at `port`, its whole BTC chain in Redis, and an exchange that
/// has gone quiet: from here on the feeder writes nothing.
struct Quiet {
    redis: RedisServer,
    sim: Sim,
    listed: u64,
    feeder: Feeder,
}

fn quiet_market(port: u16) -> Quiet {
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let listed = sim.tickers("BTC").len() as u64;
    let feeder = watching_feeder(&sim, &redis, port);
    wait_for(Duration::from_secs(20), "the whole chain", || {
        (contracts_in_redis(&redis) == Some(listed)).then_some(())
    });
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_secs(1));
    Quiet {
        redis,
        sim,
        listed,
        feeder,
    }
}

/// How long after `since` the chain held all `listed` contracts again.
fn refilled_after(redis: &RedisServer, listed: u64, since: Instant) -> Duration {
    wait_for(Duration::from_secs(20), "the chain rewritten", || {
        (contracts_in_redis(redis) == Some(listed)).then(|| since.elapsed())
    })
}

/// The deadline the issue sets is 2 s; the assertion allows 1 s more for a CI machine running
/// other tests at the same time (the figure itself is printed).
const ANNOUNCE_WITHIN: Duration = Duration::from_secs(3);

#[test]
fn a_quiet_market_still_sees_a_redis_outage_and_refills_the_restarted_redis() {
    let (port, seen) = mock_bot_api(0);
    let Quiet {
        mut redis,
        sim: _sim,
        listed,
        feeder,
    } = quiet_market(port);

    redis.stop();
    let stopped = Instant::now();
    let took = announced(&seen, "Redis problem", 1, stopped);
    println!(
        "outage announced {} ms after Redis stopped",
        took.as_millis()
    );
    assert!(took <= ANNOUNCE_WITHIN, "announced after {took:?}");
    let (code, _) = feeder.endpoint("/ready").unwrap();
    assert_eq!(code, 503, "/ready follows Redis");

    // Back, empty: refilled with every contract although nothing ticks.
    redis.restart();
    let back = Instant::now();
    let took = announced(&seen, "Redis resolved", 1, back);
    println!(
        "recovery announced {} ms after Redis started",
        took.as_millis()
    );
    assert!(took <= ANNOUNCE_WITHIN, "recovery announced after {took:?}");
    let refilled = refilled_after(&redis, listed, back);
    println!(
        "{listed} contracts back {} ms after Redis started",
        refilled.as_millis()
    );
    assert!(refilled <= ANNOUNCE_WITHIN, "refilled after {refilled:?}");
    wait_for(Duration::from_secs(5), "/ready again", || {
        (feeder.endpoint("/ready")?.0 == 200).then_some(())
    });
    assert_eq!(count(&seen, "Redis problem"), 1);
    assert_eq!(count(&seen, "Redis resolved"), 1);
}

#[test]
fn a_restart_faster_than_any_probe_is_refilled() {
    let (port, _seen) = mock_bot_api(0);
    let Quiet {
        mut redis,
        sim: _sim,
        listed,
        feeder,
    } = quiet_market(port);
    let restarts_before =
        feeder.metric("feeder_redis_errors_total") + feeder.metric("feeder_redis_restarts_total");
    for round in 0..3 {
        // Stop and start at once: shorter than the probe interval, and no write in between.
        let t = Instant::now();
        redis.restart();
        let gap = t.elapsed();
        let back = Instant::now();
        let refilled = refilled_after(&redis, listed, back);
        println!(
            "round {round}: Redis away {} ms, {listed} contracts back {} ms after it started",
            gap.as_millis(),
            refilled.as_millis()
        );
        assert!(refilled <= ANNOUNCE_WITHIN, "refilled after {refilled:?}");
    }
    assert!(
        feeder.metric("feeder_redis_errors_total") + feeder.metric("feeder_redis_restarts_total")
            > restarts_before,
        "the feeder saw the restarts"
    );
}

#[test]
fn websocket_down_and_stale_data_alerts_end_to_end() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let sim_port = sim.port;
    let _feeder = watching_feeder(&sim, &redis, port);

    // No ticker for more than 2 s: one stale alert, then one resolution when they flow. The
    // threshold is judged by the feeder's own clock from its last ticker, which the alert
    // names: timing it from here would count a slow pause request, or a starved feeder, too.
    let paused = Instant::now();
    sim.control("pause", &[]);
    announced(&seen, "Data problem", 1, paused);
    let idle_s: Vec<u64> = texts(&seen)
        .iter()
        .filter_map(|t| {
            let rest = t.split("No ticker received for ").nth(1)?;
            rest.split(' ').next()?.parse().ok()
        })
        .collect();
    assert!(
        idle_s.len() == 1 && idle_s[0] >= 2,
        "one stale alert, sent after 2 s without a ticker: {:?}",
        texts(&seen)
    );
    sim.control("resume", &[]);
    announced(&seen, "Data resolved", 1, paused);

    // The exchange disappears: its connection stays down for more than 1 s. Timed from before
    // the kill, so the feeder cannot have noticed earlier than `gone`.
    let gone = Instant::now();
    drop(sim);
    let took = announced(&seen, "WebSocket problem", 1, gone);
    assert!(
        took >= Duration::from_secs(1),
        "not before the threshold: {took:?}"
    );
    assert!(texts(&seen)
        .iter()
        .any(|t| t.contains("WebSocket connections to Bybit are down")));
    // It comes back where it was: the feeder reconnects and says so.
    let _sim = Sim::start_on(
        sim_port,
        &[
            "--assets",
            "BTC",
            "--strikes",
            "2",
            "--updates-per-sec",
            "200",
        ],
    );
    announced(&seen, "WebSocket resolved", 1, gone);
    assert_eq!(count(&seen, "WebSocket problem"), 1);
}

/// Waits up to `limit` for `ok`; whether it came (unlike `wait_for`, a timeout is an answer).
fn within(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ok()
}

/// How long Redis hangs or the network stalls: shorter than the reply timeout (5 s), so only
/// a probe with its own deadline can announce it while it lasts.
const HANG: Duration = Duration::from_secs(4);

#[test]
fn a_hung_or_blackholed_redis_is_an_outage_while_it_lasts() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let proxy = Proxy::start(redis.port);
    let sim = quiet_sim();
    // Two outages a few seconds apart: both announced.
    let _feeder = alerting_feeder(&sim, &proxy.url(), port, &["--alert-throttle", "1"]);
    wait_for(Duration::from_secs(10), "the start message", || {
        (count(&seen, "Feeder started") >= 1).then_some(())
    });

    // Redis stopped (SIGSTOP): nothing fails, every reply just never comes. The alert must come
    // while it is stopped, not when it wakes, nor after a reply timeout (5 s): README promises
    // about 2 s, and 4 s of hang leave room for a slow machine.
    let pid = redis.pid().expect("a running server").to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP");
    let alerted = within(HANG, || count(&seen, "Redis problem") == 1);
    signal("-CONT");
    assert!(
        alerted,
        "no alert during a {HANG:?} hang: {:?}",
        texts(&seen)
    );
    wait_for(Duration::from_secs(20), "the end of the hang", || {
        (count(&seen, "Redis resolved") == 1).then_some(())
    });

    // The network stalls: connections stay open and no byte moves either way.
    proxy.stall(true);
    let alerted = within(HANG, || count(&seen, "Redis problem") == 2);
    proxy.stall(false);
    assert!(
        alerted,
        "no alert during a {HANG:?} stall: {:?}",
        texts(&seen)
    );
    wait_for(Duration::from_secs(20), "the end of the stall", || {
        (count(&seen, "Redis resolved") == 2).then_some(())
    });

    // Every connection cut: the feeder reconnects and writes again.
    proxy.cut();
    let (symbol, _) = watched_contract(&sim, 0);
    push_mark_price(&sim, &symbol, 4321.5);
    let mut con = redis.connection();
    wait_for(
        Duration::from_secs(20),
        "a price written after the cut",
        || {
            let get = options_client::cmd::Get {
                fields: Some(vec!["mark_price".into()]),
                ..options_client::cmd::Get::new("BTC", &symbol)
            };
            let row = options_tests::run(&mut con, &get)?;
            (row.number("mark_price") == Some(4321.5)).then_some(())
        },
    );
    assert_eq!(
        count(&seen, "Redis problem"),
        count(&seen, "Redis resolved")
    );
}

/// The cross-venue rule: the sim prices Deribit 1.5 vol points above Bybit, so a spread rule
/// at one point fires (once) and one at five stays quiet; the message names both venues' IVs.
#[test]
fn the_venues_parting_sends_a_cross_venue_alert() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let dir = options_tests::TempDir::new("alerts");
    let file = dir.path().join("alerts.toml");
    std::fs::write(
        &file,
        "[[alert]]\nasset = \"BTC\"\nfield = \"venue_spread\"\ntenor = 30\nabove = 0.01\nbelow = -0.01\n\n\
         [[alert]]\nname = \"venues far apart\"\nasset = \"BTC\"\nfield = \"venue_spread\"\ntenor = 30\nabove = 0.05\nbelow = -0.05\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let venues = sim.venue_args("bybit,deribit");
    let mut args: Vec<&str> = venues.iter().map(String::as_str).collect();
    args.extend(["--alerts-file", &path]);
    let _feeder = alerting_feeder(&sim, &redis.url(), port, &args);
    let label = "BTC 30d ATM IV, Deribit − Bybit";
    wait_for(Duration::from_secs(20), "the cross-venue alert", || {
        (count(&seen, label) == 1).then_some(())
    });
    let text = texts(&seen)
        .into_iter()
        .find(|t| t.contains(label))
        .unwrap();
    assert!(text.contains("venue_spread = 0.01"), "{text}");
    assert!(
        text.contains("Deribit 0.") && text.contains("Bybit 0."),
        "{text}"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(count(&seen, label), 1, "once while the spread stays");
    assert_eq!(count(&seen, "venues far apart"), 0, "1.5 points is not 5");
}

/// Deribit's session down is announced, and its return, while Bybit's streams go on.
#[test]
fn a_deribit_outage_is_announced_and_resolved() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    let venues = sim.venue_args("bybit,deribit");
    let mut args: Vec<&str> = venues.iter().map(String::as_str).collect();
    args.extend(["--alert-ws-down-after", "1"]);
    let _feeder = telegram_feeder(&sim, &redis.url(), port, &args);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(count(&seen, "Deribit problem"), 0, "up at first");
    // 10028: the feeder backs off 5 s, longer than the 1 s the alert waits.
    sim.control("fault/credits", &[]);
    wait_for(Duration::from_secs(10), "the Deribit alert", || {
        (count(&seen, "Deribit problem") == 1).then_some(())
    });
    assert_eq!(
        count(&seen, "WebSocket problem"),
        0,
        "Bybit's connections stay up"
    );
    wait_for(Duration::from_secs(20), "the Deribit resolution", || {
        (count(&seen, "Deribit resolved") == 1).then_some(())
    });
}

/// Records a trade on `key`'s tape by hand, as the feeder would (`OPTIONS.TRADE`).
fn record_trade(
    redis: &RedisServer,
    key: &str,
    id: &str,
    fields: (&str, f64, f64, f64),
    block: bool,
) -> i64 {
    let (side, size, price, index) = fields;
    let mut c = redis::cmd("OPTIONS.TRADE");
    c.arg(key)
        .arg(id)
        .arg("XRP-31DEC30-2.5-C-USDT")
        .arg(side)
        .arg(size)
        .arg(price)
        .arg(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
        )
        .arg("IV")
        .arg(0.8)
        .arg("INDEX")
        .arg(index);
    if block {
        c.arg("BLOCK");
    }
    c.query(&mut redis.connection()).unwrap()
}

#[test]
fn block_trades_and_large_trades_reach_telegram_once_each() {
    let (port, seen) = mock_bot_api(0);
    let redis = RedisServer::start(&[]);
    let sim = quiet_sim();
    // A block already on the tape before the feeder watches: history, never announced.
    assert_eq!(
        record_trade(&redis, "XRP", "old", ("buy", 500_000.0, 0.1, 2.5), true),
        1
    );
    let dir = options_tests::TempDir::new("trade-alerts");
    let file = dir.path().join("alerts.toml");
    std::fs::write(
        &file,
        "[[alert]]\nname = \"big XRP\"\nasset = \"XRP\"\nfield = \"trade_notional\"\nabove = 200000\n\n\
         [[alert]]\nname = \"XRP march blocks\"\nasset = \"XRP\"\nfield = \"block_trade\"\nexpiry = \"27MAR31\"\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let feeder = alerting_feeder(&sim, &redis.url(), port, &["--alerts-file", &path]);
    // A rule from the dashboard joins the file's.
    let web = Web::start(&redis.url(), &["--assets", "BTC"]);
    let (code, body) = web.send(
        reqwest::Method::POST,
        "/api/alerts",
        Some(serde_json::json!({"asset": "xrp", "field": "block_trade"})),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["rule"]["name"], "XRP block trade");
    let (code, body) = web.send(
        reqwest::Method::POST,
        "/api/alerts",
        Some(serde_json::json!({"asset": "XRP", "field": "trade_notional"})),
        None,
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("needs above"),
        "{body}"
    );
    wait_for(Duration::from_secs(10), "the tape reader", || {
        feeder
            .proc
            .log_text()
            .contains("following the tape for trade alerts")
            .then_some(())
    });
    // Both rules read the one tape; its reader starts once, after the old block.
    std::thread::sleep(Duration::from_millis(1500));

    // 25 USD of notional: nothing. A block of 250,000 USD: both rules. 500,000 USD, no
    // block: the notional rule only. The block again (a venue's resend): not a trade.
    assert_eq!(
        record_trade(&redis, "XRP", "small", ("sell", 10.0, 0.05, 2.5), false),
        1
    );
    assert_eq!(
        record_trade(&redis, "XRP", "blk", ("buy", 100_000.0, 0.1, 2.5), true),
        1
    );
    assert_eq!(
        record_trade(&redis, "XRP", "large", ("sell", 200_000.0, 0.2, 2.5), false),
        1
    );
    assert_eq!(
        record_trade(&redis, "XRP", "blk", ("buy", 100_000.0, 0.1, 2.5), true),
        0
    );
    wait_for(Duration::from_secs(10), "three trade alerts", || {
        (count(&seen, "XRP-31DEC30") >= 3).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let trade_texts: Vec<String> = texts(&seen)
        .into_iter()
        .filter(|t| t.contains("XRP-31DEC30"))
        .collect();
    assert_eq!(trade_texts.len(), 3, "{trade_texts:#?}");
    let block = trade_texts
        .iter()
        .find(|t| t.contains("XRP block trade"))
        .expect("the block alert");
    assert!(
        block.contains("taker buy 100000 at 0.1 USD, premium 10000 USD, notional 250000 USD, IV 0.8, block trade"),
        "{block}"
    );
    assert_eq!(count(&seen, "big XRP"), 2, "the block and the large trade");
    assert!(texts(&seen)
        .iter()
        .any(|t| t.contains("big XRP") && t.contains("taker sell 200000 at 0.2 USD")));
    assert_eq!(count(&seen, "march blocks"), 0, "another expiry");
    assert_eq!(
        count(&seen, "taker buy 500000"),
        0,
        "the block recorded before start"
    );
}
