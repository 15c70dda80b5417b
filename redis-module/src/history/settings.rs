//! The module arguments: the history's `history-interval` and `history-retention`, and the
//! tape's `flow-retention`, parsed at load time and read on every write.

use std::sync::atomic::{AtomicI64, Ordering};

/// Sampling interval, ms (module argument `history-interval`, seconds).
static INTERVAL_MS: AtomicI64 = AtomicI64::new(60_000);
/// Retention, ms (module argument `history-retention`, seconds); 0 turns history off.
static RETENTION_MS: AtomicI64 = AtomicI64::new(2_592_000_000);

/// The module arguments' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub interval_ms: i64,
    pub retention_ms: i64,
    /// How long a tape keeps trades, by their time (module argument `flow-retention`, seconds).
    pub flow_retention_ms: i64,
}

pub fn settings() -> Settings {
    Settings {
        interval_ms: INTERVAL_MS.load(Ordering::Relaxed),
        retention_ms: RETENTION_MS.load(Ordering::Relaxed),
        flow_retention_ms: FLOW_RETENTION_MS.load(Ordering::Relaxed),
    }
}

/// Trades kept, ms (module argument `flow-retention`, seconds; 24 h by default).
static FLOW_RETENTION_MS: AtomicI64 = AtomicI64::new(86_400_000);

/// Parses `history-interval N history-retention N` (seconds, any order, any case) from the
/// module's load arguments; other arguments are an error.
pub fn parse_settings(args: &[&str]) -> Result<Settings, String> {
    let mut s = Settings {
        interval_ms: 60_000,
        retention_ms: 2_592_000_000,
        flow_retention_ms: 86_400_000,
    };
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("module argument {name} needs a number of seconds"))?;
        let secs: i64 = value
            .parse()
            .ok()
            .filter(|v| (0..=10 * 365 * 86_400).contains(v))
            .ok_or_else(|| {
                format!("module argument {name} must be seconds from 0 to 10 years, got '{value}'")
            })?;
        if name.eq_ignore_ascii_case("history-interval") {
            if secs < 1 {
                return Err("module argument history-interval must be at least 1 second".into());
            }
            s.interval_ms = secs * 1000;
        } else if name.eq_ignore_ascii_case("history-retention") {
            s.retention_ms = secs * 1000;
        } else if name.eq_ignore_ascii_case("flow-retention") {
            if secs < 1 {
                return Err("module argument flow-retention must be at least 1 second".into());
            }
            s.flow_retention_ms = secs * 1000;
        } else {
            return Err(format!(
                "unknown module argument '{name}' (history-interval, history-retention, flow-retention)"
            ));
        }
    }
    Ok(s)
}

pub fn apply_settings(s: Settings) {
    INTERVAL_MS.store(s.interval_ms, Ordering::Relaxed);
    RETENTION_MS.store(s.retention_ms, Ordering::Relaxed);
    FLOW_RETENTION_MS.store(s.flow_retention_ms, Ordering::Relaxed);
}
