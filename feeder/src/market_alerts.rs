//! Market alerts a trader configures in `alerts.toml` or, from the dashboard, in Redis
//! `config:alerts` (a JSON array of the same rules, followed live): a field of one contract, or
//! of an asset's at-the-money call of a given expiry (or of the nearest, which rolls to a new
//! contract every day), or an asset's chain analytics
//! (`OPTIONS.ANALYTICS`: `atm_iv`, `rr25`, `bf25` at a tenor, total `pcr_oi`, `gex`), crossing
//! a threshold; or trades (`block_trade`, `trade_notional`: each matching trade is one message,
//! see `trade_alerts`). Each rule fires
//! when its condition becomes true (not on every check while it stays true), then rests for its
//! cooldown.
//!
//! ```toml
//! [[alert]]
//! name = "BTC ATM IV above 80%"   # optional; shown in the message
//! asset = "BTC"                   # ATM call of the nearest expiry, or of
//! # expiry = "26DEC25"            #   this one; or one contract:
//! # symbol = "BTC-26DEC25-100000-C"
//! field = "mark_iv"               # any canonical field: mark_price, open_interest, …
//! above = 0.8                     # and/or below = …, and/or:
//! # rise = 500                    # grew by more than this within `window` seconds
//! # window = 3600                 #   (a 24 h volume spike: field = "volume_24h")
//! cooldown = 600                  # seconds, default 300
//!
//! [[alert]]
//! asset = "BTC"
//! field = "rr25"                  # or atm_iv, bf25 (with tenor); pcr_oi, gex (totals)
//! tenor = 30                      # days: 7, 30, 60, 90 or 180
//! below = -0.05                   # puts 5 vol points over calls
//!
//! [[alert]]
//! asset = "BTC"
//! field = "block_trade"           # every block trade; or trade_notional: any trade
//! above = 1000000                 #   of more notional (size × index, USD)
//! # expiry = "26DEC25"            # only this expiry's
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use options_client::{cmd, Redis, SharedDoc};
use options_core::Venue;
use options_core::Watched;
use serde::Deserialize;

use crate::alerts::Notifier;

pub use options_core::AlertRule as Rule;

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    alert: Vec<Rule>,
}

/// Parses and checks `alerts.toml`; errors name the rule.
pub fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("alerts file: {e}"))?;
    for (i, r) in file.alert.iter().enumerate() {
        r.validate(&format!("alert #{}", i + 1))?;
    }
    Ok(file.alert)
}

struct State {
    rule: Rule,
    /// From `config:alerts` (replaced when the key changes), not from the file.
    stored: bool,
    active: bool,
    last_fired: Option<Instant>,
    /// Recent values, for `rise`.
    history: std::collections::VecDeque<(Instant, f64)>,
}

/// The watched value: (what it is, value).
async fn current(redis: &Redis, rule: &Rule) -> Option<(String, f64)> {
    let field = match rule.watched()? {
        Watched::Contract(f) => f.name(),
        Watched::Tenor(metric, days) => {
            let asset = rule.key(rule.asset.as_ref()?);
            let v = analytics(redis, &asset).await?.metric(metric, Some(days))?;
            return Some((format!("{asset} {days}-day {metric}"), v));
        }
        Watched::Total(metric) => {
            let asset = rule.key(rule.asset.as_ref()?);
            let v = analytics(redis, &asset).await?.metric(metric, None)?;
            return Some((format!("{asset} {metric}"), v));
        }
        // Trades are judged one by one as they reach the tape (trade_alerts.rs).
        Watched::Trades { .. } => return None,
        Watched::VenueSpread { tenor, expiry } => {
            let asset = rule.asset.as_ref()?.to_uppercase();
            let atm = |a: &options_client::reply::Analytics| match (tenor, expiry) {
                (Some(days), _) => a.metric("atm_iv", Some(days)),
                (None, Some(e)) => {
                    let code = options_core::Expiry::parse(e).ok()?.code();
                    a.expiries.iter().find(|x| x.expiry == code)?.atm_iv
                }
                (None, None) => None,
            };
            let bybit = atm(&analytics(redis, &Venue::Bybit.key(&asset)).await?)?;
            let deribit = atm(&analytics(redis, &Venue::Deribit.key(&asset)).await?)?;
            let at = match (tenor, expiry) {
                (Some(days), _) => format!("{days}-day"),
                (None, e) => e.unwrap_or_default().to_uppercase(),
            };
            return Some((
                format!(
                    "{asset} {at} ATM IV: Deribit {} − Bybit {}",
                    options_core::format_number(deribit),
                    options_core::format_number(bybit)
                ),
                deribit - bybit,
            ));
        }
    };
    if let Some(sym) = &rule.symbol {
        let first = sym.split('-').next()?;
        let key = rule.key(first.split('_').next().unwrap_or(first));
        let get = cmd::Get {
            fields: Some(vec![field.to_string()]),
            ..cmd::Get::new(&key, sym)
        };
        let row = redis.run(&get).await.ok()??;
        return Some((sym.clone(), row.number(field)?));
    }
    let asset = rule.key(rule.asset.as_ref()?);
    // An expiry that does not parse watches the nearest one, as an absent one does.
    let expiry = rule
        .expiry
        .as_deref()
        .and_then(|e| options_core::Expiry::parse(e).ok());
    let chain = redis.chain_of(&asset, expiry, &[field]).await.ok()??;
    let call = chain.atm_lines().find_map(|l| l.call.as_ref())?;
    Some((call.text("symbol")?.to_string(), call.number(field)?))
}

/// The lowest value the module's history recorded within an analytics rule's window.
async fn recorded_low(redis: &Redis, rule: &Rule) -> Option<f64> {
    let (metric, tenor) = match rule.watched()? {
        Watched::Tenor(m, d) => (m, Some(d)),
        Watched::Total(m) => (m, None),
        // The history records each chain alone; a spread's low is this process's own.
        Watched::Contract(_) | Watched::VenueSpread { .. } | Watched::Trades { .. } => return None,
    };
    let asset = rule.key(rule.asset.as_ref()?);
    let from = crate::now_ms() - (rule.window * 1000.0) as i64;
    let history = cmd::History {
        tenor_days: tenor,
        from_ms: Some(from.max(0)),
        ..cmd::History::new(&asset, &[metric])
    };
    let h = redis.run(&history).await.ok()??;
    h.values(0).reduce(f64::min)
}

impl State {
    fn new(rule: Rule, stored: bool) -> State {
        State {
            rule,
            stored,
            active: false,
            last_fired: None,
            history: std::collections::VecDeque::new(),
        }
    }
}

/// The rules in `config:alerts`: `Some(text)` when the key holds a string (or this process's
/// last copy, written back when Redis lost it), `None` when neither has any; `Err` when Redis
/// cannot be read (the current rules are kept).
async fn stored_rules(redis: &Redis, doc: &SharedDoc) -> Result<Option<String>, ()> {
    doc.read(redis).await.map_err(|_| ())
}

/// `OPTIONS.ANALYTICS asset`, typed; `None` when Redis cannot answer (logged when the reply
/// is not understood: a module of another version).
async fn analytics(redis: &Redis, asset: &str) -> Option<options_client::reply::Analytics> {
    match redis.run(&cmd::Analytics::new(asset)).await {
        Ok(a) => a,
        Err(e) => {
            if !e.is_unavailable() {
                tracing::warn!(error = %e, "OPTIONS.ANALYTICS failed");
            }
            None
        }
    }
}

/// Replaces the stored rules by `rules`, keeping the state (cooldown, history) of any rule that
/// is still there unchanged.
fn reconcile(states: &mut Vec<State>, rules: Vec<Rule>) {
    let (mut old, kept): (Vec<State>, Vec<State>) =
        std::mem::take(states).into_iter().partition(|s| s.stored);
    *states = kept;
    for rule in rules {
        match old.iter().position(|s| s.rule == rule) {
            Some(i) => states.push(old.swap_remove(i)),
            None => states.push(State::new(rule, true)),
        }
    }
}

/// Checks every rule every `every` and sends an alert on each new crossing. `file_rules` come
/// from `alerts.toml`; the rules in `config:alerts` are re-read on every check.
pub async fn run(file_rules: Vec<Rule>, redis: Redis, notifier: Arc<Notifier>, every: Duration) {
    let mut states: Vec<State> = file_rules
        .into_iter()
        .map(|r| State::new(r, false))
        .collect();
    let mut stored_text: Option<String> = None;
    let doc = SharedDoc::new(options_core::alert_rule::KEY);
    let trade_rules = crate::trade_alerts::start(redis.dedicated(), notifier.clone());
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Ok(text) = stored_rules(&redis, &doc).await {
            if text != stored_text {
                match text.as_deref().map(options_core::parse_alert_rules_json) {
                    None => reconcile(&mut states, Vec::new()),
                    Some(Ok(rules)) => {
                        tracing::info!(
                            rules = rules.len(),
                            "market alert rules from config:alerts"
                        );
                        reconcile(&mut states, rules);
                    }
                    // The rules we have stay; this is said once per change of the key.
                    Some(Err(e)) => tracing::warn!(error = %e, "ignoring config:alerts"),
                }
                stored_text = text;
            }
        }
        let rules: Vec<Rule> = states.iter().map(|s| s.rule.clone()).collect();
        trade_rules.send_if_modified(|current| {
            let changed = *current != rules;
            if changed {
                *current = rules;
            }
            changed
        });
        for st in &mut states {
            if matches!(st.rule.watched(), Some(Watched::Trades { .. })) {
                continue;
            }
            let Some((what, v)) = current(&redis, &st.rule).await else {
                continue;
            };
            let now = Instant::now();
            let window = Duration::from_secs_f64(st.rule.window);
            while st
                .history
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > window)
            {
                st.history.pop_front();
            }
            st.history.push_back((now, v));
            let mut low = st.history.iter().map(|(_, x)| *x).fold(v, f64::min);
            // An analytics rule's rise also counts the module's own samples of the window, so
            // it holds across feeder restarts and covers time the feeder was not watching.
            if st.rule.rise.is_some() {
                if let Some(h) = recorded_low(&redis, &st.rule).await {
                    low = low.min(h);
                }
            }
            match st.rule.crossed(v, low) {
                Some(how) if !st.active => {
                    st.active = true;
                    let cooldown = Duration::from_secs_f64(st.rule.cooldown);
                    if st.last_fired.is_none_or(|t| t.elapsed() >= cooldown) {
                        st.last_fired = Some(Instant::now());
                        notifier.send(
                            &format!("📈 {}", st.rule.label()),
                            &format!(
                                "{what}: {} = {} ({how})",
                                st.rule.field,
                                options_core::format_number(v)
                            ),
                        );
                    }
                }
                Some(_) => {}
                None => st.active = false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_with_the_rule_named() {
        let ok = parse(
            r#"
            [[alert]]
            asset = "BTC"
            field = "mark_iv"
            above = 0.8
            [[alert]]
            name = "cheap call"
            symbol = "ETH-26DEC25-4000-C"
            field = "markPrice"
            below = 10
            cooldown = 60
            "#,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].cooldown, 300.0);
        assert_eq!(ok[0].crossed(0.9, 0.9).as_deref(), Some("above 0.8"));
        assert_eq!(ok[0].crossed(0.7, 0.7), None);
        let spike =
            parse("[[alert]]\nasset = \"BTC\"\nfield = \"volume_24h\"\nrise = 100\nwindow = 60\n")
                .unwrap();
        assert_eq!(spike[0].crossed(150.0, 100.0), None);
        assert!(spike[0]
            .crossed(250.0, 100.0)
            .unwrap()
            .starts_with("up 150 within 60 s"));
        for (bad, want) in [
            (
                "[[alert]]\nfield = \"mark_iv\"\nabove = 1",
                "exactly one of symbol and asset",
            ),
            (
                "[[alert]]\nasset = \"BTC\"\nfield = \"colour\"\nabove = 1",
                "unknown field 'colour'",
            ),
            (
                "[[alert]]\nasset = \"BTC\"\nfield = \"delta\"",
                "above, below and/or rise",
            ),
            (
                "[[alert]]\nasset = \"BTC\"\nfield = \"delta\"\nrise = 1\nwindow = 0",
                "window must be",
            ),
            (
                "[[alert]]\nname = \"x\"\nsymbol = \"nope\"\nfield = \"delta\"\nabove = 1",
                "x: invalid symbol",
            ),
            (
                "[[alert]]\nasset = \"BTC\"\nfield = \"delta\"\nabove = 1\ncolour = 2",
                "unknown field `colour`",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }
}
