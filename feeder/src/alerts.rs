//! Telegram alerts for operators: start and clean shutdown, Redis unreachable / back,
//! WebSocket connections down beyond a threshold / back, data stale / flowing again.
//!
//! A problem is announced once and its resolution once (a Redis outage is two messages, not a
//! flood); the same kind of problem is announced at most once per throttle period (the seed's
//! 300 s). Messages wait in a bounded queue, oldest dropped first, and are sent by one task, so
//! a slow, rate-limited or unreachable Bot API never blocks or stops the feeder.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, ParseMode, Recipient};
use teloxide::{Bot, RequestError};
use tokio::sync::Notify;

use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub token: String,
    pub chat: String,
    pub api_url: String,
    pub project: String,
    pub throttle: Duration,
    pub ws_down_after: Duration,
    pub stale_after: Duration,
    pub queue: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Redis,
    WebSocket,
    Stale,
    Recording,
    Deribit,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Redis => "Redis",
            Kind::WebSocket => "WebSocket",
            Kind::Stale => "Data",
            Kind::Recording => "Recording",
            Kind::Deribit => "Deribit",
        }
    }
}

/// Escapes text for Telegram's HTML parse mode.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn now_text() -> String {
    options_core::clock::utc_seconds(crate::now_ms())
}

struct Queue {
    messages: VecDeque<String>,
    capacity: usize,
    /// Alerts are dropped until then (`/mute`); command replies still go out.
    muted_until: Option<Instant>,
}

/// The sending side: formats, queues and delivers.
pub struct Notifier {
    settings: AlertSettings,
    queue: Mutex<Queue>,
    wake: Notify,
}

impl Notifier {
    pub fn new(settings: AlertSettings) -> Arc<Notifier> {
        let capacity = settings.queue.max(1);
        Arc::new(Notifier {
            settings,
            queue: Mutex::new(Queue {
                messages: VecDeque::new(),
                capacity,
                muted_until: None,
            }),
            wake: Notify::new(),
        })
    }

    fn format(&self, headline: &str, body: &str) -> String {
        format!(
            "<b>{}</b>\n<b>{}</b>\n\n{}\n\n<i>Time: {}</i>",
            html(&self.settings.project),
            html(headline),
            html(body),
            now_text()
        )
    }

    /// Queues an alert; never waits. Dropped while muted.
    pub fn send(&self, headline: &str, body: &str) {
        let muted = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .muted_until
            .is_some_and(|t| Instant::now() < t);
        if muted {
            tracing::info!(headline, "alert muted");
            return;
        }
        self.enqueue(self.format(headline, body));
    }

    /// Queues a reply to a bot command (not subject to mute).
    pub fn reply(&self, text: String) {
        self.enqueue(text);
    }

    /// Mutes alerts for `d` (zero unmutes).
    pub fn mute(&self, d: Duration) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.muted_until = (!d.is_zero()).then(|| Instant::now() + d);
    }

    fn enqueue(&self, text: String) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.messages.len() >= q.capacity {
            q.messages.pop_front();
            tracing::warn!(
                capacity = q.capacity,
                "alert queue full: dropped the oldest alert"
            );
        }
        q.messages.push_back(text);
        drop(q);
        self.wake.notify_one();
    }

    pub fn bot(&self) -> Option<Bot> {
        let url = reqwest::Url::parse(&self.settings.api_url).ok()?;
        Some(Bot::new(&self.settings.token).set_api_url(url))
    }

    fn pending(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .messages
            .len()
    }

    pub fn recipient(&self) -> Recipient {
        match self.settings.chat.trim().parse::<i64>() {
            Ok(id) => Recipient::Id(ChatId(id)),
            Err(_) => Recipient::ChannelUsername(self.settings.chat.trim().to_string()),
        }
    }

    /// Delivers queued messages forever, honouring `retry_after` and backing off on errors.
    pub async fn run(self: Arc<Self>) {
        let Some(bot) = self.bot() else {
            tracing::error!(url = %self.settings.api_url, "bad Telegram API URL; alerts disabled");
            return;
        };
        let mut backoff = Duration::from_secs(1);
        loop {
            let next = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .messages
                .front()
                .cloned();
            let Some(text) = next else {
                self.wake.notified().await;
                continue;
            };
            match bot
                .send_message(self.recipient(), text)
                .parse_mode(ParseMode::Html)
                .await
            {
                Ok(_) => {
                    self.queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .messages
                        .pop_front();
                    backoff = Duration::from_secs(1);
                }
                Err(RequestError::RetryAfter(s)) => {
                    tracing::warn!(
                        seconds = s.seconds(),
                        "Telegram rate limit; waiting as asked"
                    );
                    tokio::time::sleep(s.duration()).await;
                }
                Err(RequestError::Api(e)) => {
                    // Bad token, unknown chat, malformed text: retrying cannot help this message.
                    tracing::error!(error = %e, "Telegram refused an alert; dropping it");
                    self.queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .messages
                        .pop_front();
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_s = backoff.as_secs(), "Telegram unreachable");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// Waits up to `limit` for the queue to drain (used at shutdown).
    pub async fn drain(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.pending() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One problem's state: when it started, whether it was announced, when last announced.
#[derive(Default)]
struct Condition {
    since: Option<Instant>,
    announced: bool,
    last_announced: Option<Instant>,
}

/// Watches the feeder's metrics and raises and resolves system alerts.
pub struct SystemWatch {
    notifier: Arc<Notifier>,
    metrics: Arc<Metrics>,
    redis: Condition,
    ws: Condition,
    stale: Condition,
    recording: Condition,
    deribit: Condition,
}

impl SystemWatch {
    pub fn new(notifier: Arc<Notifier>, metrics: Arc<Metrics>) -> SystemWatch {
        SystemWatch {
            notifier,
            metrics,
            redis: Condition::default(),
            ws: Condition::default(),
            stale: Condition::default(),
            recording: Condition::default(),
            deribit: Condition::default(),
        }
    }

    fn update(
        &mut self,
        kind: Kind,
        failing: bool,
        after: Duration,
        problem: String,
        resolved: &str,
    ) {
        let throttle = self.notifier.settings.throttle;
        let c = match kind {
            Kind::Redis => &mut self.redis,
            Kind::WebSocket => &mut self.ws,
            Kind::Stale => &mut self.stale,
            Kind::Recording => &mut self.recording,
            Kind::Deribit => &mut self.deribit,
        };
        let now = Instant::now();
        if failing {
            let since = *c.since.get_or_insert(now);
            let throttled = c
                .last_announced
                .is_some_and(|t| now.duration_since(t) < throttle);
            if !c.announced && now.duration_since(since) >= after && !throttled {
                c.announced = true;
                c.last_announced = Some(now);
                self.notifier
                    .send(&format!("🚨 {} problem", kind.title()), &problem);
            }
        } else {
            if c.announced {
                let down = c
                    .since
                    .map(|s| now.duration_since(s).as_secs())
                    .unwrap_or(0);
                self.notifier.send(
                    &format!("✅ {} resolved", kind.title()),
                    &format!("{resolved} (after {down} s)"),
                );
            }
            *c = Condition {
                last_announced: c.last_announced,
                ..Condition::default()
            };
        }
    }

    /// Checks four times a second until the process ends.
    pub async fn run(mut self) {
        let s = self.notifier.settings.clone();
        // Four checks a second: with the writer probing Redis every 0.5 s and a 0.5 s grace, an
        // outage is announced within 2 s of its start, and its end as quickly.
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let m = self.metrics.clone();
            // Redis is judged by the writer's last write or probe; before either it is unknown.
            let redis_down = m.redis_errors.get() > 0 && m.redis_up.get() == 0;
            let (wanted, open) = (m.ws_connections.get(), m.ws_connected.get());
            let last = m.last_message_ms.load(Ordering::Relaxed);
            let idle_ms = if last > 0 { crate::now_ms() - last } else { 0 };
            let pending = m.pending.get();
            self.update(
                Kind::Redis,
                redis_down,
                Duration::from_millis(500),
                format!("Redis is unreachable; {pending} contracts' latest values are held until it returns."),
                "Redis is reachable again; every contract's latest values were rewritten",
            );
            self.update(
                Kind::WebSocket,
                open < wanted,
                s.ws_down_after,
                format!(
                    "{} of {wanted} WebSocket connections to Bybit are down.",
                    wanted - open
                ),
                "All WebSocket connections are open again",
            );
            // Deribit's session, when that venue is on: Bybit's streams go on without it.
            if m.deribit_on.load(Ordering::Relaxed) {
                let connected = m.venue_connected.with_label_values(&["deribit"]).get() == 1;
                self.update(
                    Kind::Deribit,
                    !connected,
                    s.ws_down_after,
                    "The Deribit connection is down; its chains keep their last values and Bybit's streams go on.".into(),
                    "The Deribit connection is open and subscribed again",
                );
            }
            // A disk that fails or fills: frames are being lost from the recording.
            let (record_failing, record_errors, record_dropped) = (
                m.record_ok.get() == 0,
                m.record_errors.get(),
                m.record_dropped.get(),
            );
            self.update(
                Kind::Recording,
                record_failing,
                Duration::from_secs(2),
                format!(
                    "Writing the recording fails (disk full or failing?): {record_errors} write errors, {record_dropped} frames dropped so far. Streaming goes on."
                ),
                "The recording is written again",
            );
            self.update(
                Kind::Stale,
                idle_ms > s.stale_after.as_millis() as i64,
                Duration::ZERO,
                format!("No ticker received for {} s.", idle_ms / 1000),
                "Tickers are flowing again",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(throttle: Duration, queue: usize) -> AlertSettings {
        AlertSettings {
            token: "t".into(),
            chat: "1".into(),
            api_url: "http://127.0.0.1:9/".into(),
            project: "P & Q".into(),
            throttle,
            ws_down_after: Duration::ZERO,
            stale_after: Duration::from_secs(60),
            queue,
        }
    }

    fn queued(n: &Notifier) -> Vec<String> {
        n.queue.lock().unwrap().messages.iter().cloned().collect()
    }

    #[test]
    fn escapes_html() {
        assert_eq!(html("a<b>&c"), "a&lt;b&gt;&amp;c");
    }

    #[test]
    fn a_recurring_problem_is_throttled_but_its_resolution_is_not() {
        let n = Notifier::new(settings(Duration::from_secs(300), 100));
        let mut w = SystemWatch::new(n.clone(), Arc::new(Metrics::new()));
        w.update(Kind::Redis, true, Duration::ZERO, "down".into(), "up");
        w.update(Kind::Redis, true, Duration::ZERO, "down".into(), "up");
        w.update(Kind::Redis, false, Duration::ZERO, "down".into(), "up");
        w.update(Kind::Redis, true, Duration::ZERO, "down".into(), "up");
        let q = queued(&n);
        assert_eq!(q.len(), 2, "{q:?}");
        assert!(q[0].contains("Redis problem") && q[0].starts_with("<b>P &amp; Q</b>"));
        assert!(q[1].contains("Redis resolved"));
        // another kind is not throttled by this one
        w.update(Kind::Stale, true, Duration::ZERO, "quiet".into(), "flowing");
        assert_eq!(queued(&n).len(), 3);
    }

    #[test]
    fn the_queue_drops_the_oldest_and_mute_silences_alerts_not_replies() {
        let n = Notifier::new(settings(Duration::ZERO, 2));
        for i in 0..3 {
            n.send(&format!("alert {i}"), "x");
        }
        let q = queued(&n);
        assert_eq!(q.len(), 2);
        assert!(q[0].contains("alert 1") && q[1].contains("alert 2"));
        n.mute(Duration::from_secs(60));
        n.send("muted", "x");
        n.reply("a reply".into());
        let q = queued(&n);
        assert!(!q.iter().any(|m| m.contains("muted")));
        assert_eq!(q.last().map(String::as_str), Some("a reply"));
    }
}
