//! Commands the alert chat can send the bot: `/status`, `/atm BTC`, `/analytics BTC`,
//! `/mute 1h` (`/mute 0` unmutes). Only the configured chat is answered; other chats are
//! ignored.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use options_client::{cmd, Redis};
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{Recipient, UpdateKind};

use crate::alerts::{html, Notifier};
use crate::metrics::Metrics;

/// `30m`, `1h`, `2d`, `90s`, `0`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if t == "0" {
        return Some(Duration::ZERO);
    }
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

async fn status(metrics: &Metrics) -> String {
    let last = metrics.last_message_ms.load(Ordering::Relaxed);
    let idle = if last > 0 {
        format!("{:.1} s ago", (crate::now_ms() - last) as f64 / 1000.0)
    } else {
        "none yet".into()
    };
    format!(
        "<b>Status</b>\nContracts: {}\nConnections: {}/{} open\nRedis: {}\nMessages: {} received, {} written\nLast ticker: {}\nPending: {}",
        metrics.contracts.get(),
        metrics.ws_connected.get(),
        metrics.ws_connections.get(),
        if metrics.redis_up.get() == 1 { "up" } else { "down" },
        metrics.messages_received.get(),
        metrics.updates_written.get(),
        idle,
        metrics.pending.get(),
    )
}

/// The ATM strike of the nearest expiry with the call and put marks and IVs.
async fn atm(redis: &Redis, asset: &str) -> String {
    let asset = asset.trim().to_uppercase();
    if !options_core::assets::valid_symbol(&asset) {
        return "Usage: /atm BTC".into();
    }
    let chain = match redis
        .chain_of(&asset, None, &["mark_price", "mark_iv"])
        .await
    {
        Err(e) => return unanswered(e),
        Ok(None) => return format!("No options for {}", html(&asset)),
        Ok(Some(chain)) => chain,
    };
    let Some(k) = chain.atm_strike else {
        return format!(
            "No underlying price for {} {} yet",
            html(&asset),
            html(&chain.expiry)
        );
    };
    let show = |v: Option<&serde_json::Value>| v.map_or("null".to_string(), |v| v.to_string());
    let mut out = format!(
        "<b>{} {} ATM {}</b> (underlying {})",
        html(&asset),
        html(&chain.expiry),
        options_core::format_number(k),
        chain
            .underlying_price
            .map_or("null".to_string(), options_core::format_number)
    );
    for line in chain.atm_lines() {
        for r in [&line.call, &line.put].into_iter().flatten() {
            out.push_str(&format!(
                "\n{}: mark {} IV {}",
                html(r.symbol()),
                show(r.get("mark_price")),
                show(r.get("mark_iv"))
            ));
        }
    }
    out
}

/// Index, 30-day ATM IV, RR25 and BF25, total put/call ratio and GEX, and the nearest expiry's
/// max pain, from `OPTIONS.ANALYTICS`.
async fn analytics(redis: &Redis, asset: &str) -> String {
    let asset = asset.trim().to_uppercase();
    if !options_core::assets::valid_symbol(&asset) {
        return "Usage: /analytics BTC".into();
    }
    let a = match redis.run(&cmd::Analytics::new(&asset)).await {
        Err(e) => return unanswered(e),
        Ok(None) => return format!("No options for {}", html(&asset)),
        Ok(Some(a)) => a,
    };
    let Some(nearest) = a.expiries.first() else {
        return format!("No options for {}", html(&asset));
    };
    analytics_text(&a, nearest)
}

/// The reply when Redis cannot answer: unavailable, or a module this build does not understand.
fn unanswered(e: options_client::ClientError) -> String {
    if e.is_unavailable() {
        "Redis is unavailable".into()
    } else {
        tracing::warn!(error = %e, "a bot command's module reply failed");
        "The options module could not answer".into()
    }
}

/// The `/analytics` message for a reply and its nearest expiry.
fn analytics_text(
    a: &options_client::reply::Analytics,
    nearest: &options_client::reply::ExpiryAnalytics,
) -> String {
    let num = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("n/a".to_string(), f);
    let pct = |v: f64| format!("{:.1}%", v * 100.0);
    let pts = |v: f64| format!("{:+.2} vol pts", v * 100.0);
    let t30 = a.tenor(30);
    format!(
        "<b>{} analytics</b>
Index: {}
Volatility index (30-day): {}
30-day ATM IV: {}
30-day RR25: {}
30-day BF25: {}
Put/call (OI): {}
GEX per 1%: {}
Max pain {}: {}",
        html(&a.underlying),
        num(a.index, &|v| format!("{v:.2}")),
        num(a.vol_index, &|v| format!("{v:.2}")),
        num(t30.and_then(|t| t.atm_iv), &pct),
        num(t30.and_then(|t| t.rr25), &pts),
        num(t30.and_then(|t| t.bf25), &pts),
        num(a.totals.pcr_oi, &|v| format!("{v:.2}")),
        dollars(a.totals.gex),
        html(&nearest.expiry),
        num(nearest.max_pain, &options_core::format_number),
    )
}

/// `$1.23M`, `-$4.50K`.
fn dollars(v: f64) -> String {
    let (sign, a) = if v < 0.0 { ("-", -v) } else { ("", v) };
    match a {
        a if a >= 1e9 => format!("{sign}${:.2}B", a / 1e9),
        a if a >= 1e6 => format!("{sign}${:.2}M", a / 1e6),
        a if a >= 1e3 => format!("{sign}${:.2}K", a / 1e3),
        a => format!("{sign}${a:.0}"),
    }
}

/// Long-polls the Bot API for commands and answers them through the notifier's queue.
pub async fn run(notifier: Arc<Notifier>, metrics: Arc<Metrics>, redis: Redis) {
    let Some(bot) = notifier.bot() else { return };
    let allowed = notifier.recipient();
    let mut offset: i32 = 0;
    loop {
        let updates = match bot.get_updates().offset(offset).timeout(25).await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "getUpdates failed");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if updates.is_empty() {
            // A server that answers at once instead of holding the poll must not be spun on.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        for u in updates {
            offset = offset.max(u.id.0 as i32 + 1);
            let UpdateKind::Message(m) = u.kind else {
                continue;
            };
            let from_allowed = match &allowed {
                Recipient::Id(id) => m.chat.id == *id,
                Recipient::ChannelUsername(name) => m
                    .chat
                    .username()
                    .is_some_and(|u| name.trim_start_matches('@') == u),
            };
            if !from_allowed {
                continue;
            }
            let text = m.text().unwrap_or("").trim().to_string();
            let (cmd, arg) = text.split_once(' ').unwrap_or((&text, ""));
            let cmd = cmd.split('@').next().unwrap_or("");
            let reply = match cmd {
                "/status" => status(&metrics).await,
                "/atm" => atm(&redis, arg).await,
                "/analytics" => analytics(&redis, arg).await,
                "/mute" => match parse_duration(arg) {
                    Some(d) if d.is_zero() => {
                        notifier.mute(d);
                        "Alerts unmuted".to_string()
                    }
                    Some(d) => {
                        notifier.mute(d);
                        format!("Alerts muted for {}", html(arg.trim()))
                    }
                    None => "Usage: /mute 30m | 1h | 2d | 0".to_string(),
                },
                _ => continue,
            };
            notifier.reply(reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5y"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn analytics_message() {
        let a: options_client::reply::Analytics = serde_json::from_str(
            r#"{"underlying":"BTC","now":0,"index":97000.456,"vol_index":53.214,
            "totals":{"oi_calls":10,"oi_puts":5,"volume_calls":0,"volume_puts":1,"gex":-4500000,"notional_oi":1e6,"pcr_oi":0.5,"pcr_volume":null},
            "tenors":[{"days":30,"atm_iv":0.523,"rr25":-0.0123,"bf25":null}],
            "expiries":[{"expiry":"3DEC26","expiry_ts":0,"t":0.005,"forward":97010,"atm_strike":97000,
              "atm_iv":0.5,"call25_iv":null,"put25_iv":null,"call10_iv":null,"put10_iv":null,"rr25":null,"bf25":null,
              "rr10":null,"bf10":null,"oi_calls":10,"oi_puts":5,"volume_calls":0,"volume_puts":1,"pcr_oi":0.5,
              "pcr_volume":null,"max_pain":96000,"gex":-12.5,"notional_oi":1e6}]}"#,
        )
        .unwrap();
        let text = analytics_text(&a, &a.expiries[0]);
        for want in [
            "<b>BTC analytics</b>",
            "Index: 97000.46",
            "Volatility index (30-day): 53.21",
            "30-day ATM IV: 52.3%",
            "30-day RR25: -1.23 vol pts",
            "30-day BF25: n/a",
            "Put/call (OI): 0.50",
            "GEX per 1%: -$4.50M",
            "Max pain 3DEC26: 96000",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
    }
}
