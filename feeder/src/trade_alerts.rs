//! Trade alerts: `block_trade` and `trade_notional` rules (see `options_core::alert_rule`)
//! fire once per matching trade, as the trade reaches its chain's tape `{key}:trades`.
//!
//! Each watched tape has one reader of its own (`XREAD BLOCK` on a dedicated connection, so a
//! Cluster routes it to the tape's shard), which starts after the newest trade already there:
//! a restart never re-announces the day's blocks. Reading the tape rather than the feeder's own
//! frames means every trade is judged once (the module drops a venue's resends) and trades
//! another writer records are watched too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use options_client::{tape, Redis};
use options_core::{format_number, parse_venue_symbol, Expiry, Venue, Watched};
use tokio::sync::watch;

use crate::alerts::Notifier;
use options_core::AlertRule as Rule;

/// How long one read waits for trades; rule changes are seen within it.
const BLOCK_MS: u64 = 1000;
/// Messages one rule sends per read at most; the rest are counted in one more.
const MAX_PER_READ: usize = 10;
const RETRY: Duration = Duration::from_secs(1);

/// One tape entry, as `OPTIONS.TRADE` wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct TapeTrade {
    pub symbol: String,
    pub side: String,
    pub size: f64,
    pub price: f64,
    pub iv: Option<f64>,
    pub index: Option<f64>,
    pub block: bool,
    pub liquidation: Option<String>,
}

impl TapeTrade {
    /// From an entry's fields; `None` when one the module always writes is missing.
    pub fn from_fields(fields: &[(String, String)]) -> Option<TapeTrade> {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let num = |name: &str| get(name).and_then(|v| options_core::parse_number(v).ok());
        Some(TapeTrade {
            symbol: get("symbol")?.to_string(),
            side: get("side")?.to_string(),
            size: num("size")?,
            price: num("price")?,
            iv: num("iv"),
            index: num("index"),
            block: get("block") == Some("1"),
            liquidation: get("liquidation").map(str::to_string),
        })
    }

    /// Size × index (USD); unknown without the index.
    pub fn notional(&self) -> Option<f64> {
        self.index.map(|i| self.size * i)
    }

    /// What a trader reads first: the contract, the taker's side, size, price, premium,
    /// notional and the IV paid.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}: taker {} {} at {} USD, premium {} USD",
            self.symbol,
            self.side,
            format_number(self.size),
            format_number(self.price),
            format_number(self.size * self.price),
        );
        if let Some(n) = self.notional() {
            text.push_str(&format!(", notional {} USD", format_number(n.round())));
        }
        if let Some(iv) = self.iv {
            text.push_str(&format!(", IV {}", format_number(iv)));
        }
        if self.block {
            text.push_str(", block trade");
        }
        if let Some(l) = &self.liquidation {
            text.push_str(&format!(", liquidation {l}"));
        }
        text
    }
}

/// Does `trade`, on a chain of `venue`, fire `rule` (a trade rule)?
pub fn fires(rule: &Rule, venue: Venue, trade: &TapeTrade) -> bool {
    let Some(Watched::Trades {
        blocks_only,
        min_notional,
    }) = rule.watched()
    else {
        return false;
    };
    if blocks_only && !trade.block {
        return false;
    }
    if let Some(min) = min_notional.filter(|m| *m > 0.0) {
        // Without the index the notional is unknown: no claim that it is large.
        if trade.notional().is_none_or(|n| n <= min) {
            return false;
        }
    }
    match rule.expiry.as_deref().map(Expiry::parse) {
        None => true,
        Some(Err(_)) => false,
        Some(Ok(e)) => parse_venue_symbol(venue, &trade.symbol).is_ok_and(|s| s.expiry == e),
    }
}

/// The rules that watch trades, by the chain key whose tape they read.
fn by_tape(rules: &[Rule]) -> HashMap<String, Vec<Rule>> {
    let mut out: HashMap<String, Vec<Rule>> = HashMap::new();
    for r in rules {
        if let (Some(Watched::Trades { .. }), Some(a)) = (r.watched(), &r.asset) {
            out.entry(r.key(a)).or_default().push(r.clone());
        }
    }
    out
}

/// Starts the watch: send the current rules (all of them; the trade rules are picked out) on
/// the returned sender whenever they change.
pub fn start(redis: Redis, notifier: Arc<Notifier>) -> watch::Sender<Vec<Rule>> {
    let (tx, mut rx) = watch::channel(Vec::<Rule>::new());
    tokio::spawn(async move {
        let mut readers: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            let tapes = by_tape(&rx.borrow_and_update());
            readers.retain(|key, task| {
                let keep = tapes.contains_key(key) && !task.is_finished();
                if !keep {
                    task.abort();
                }
                keep
            });
            for key in tapes.keys() {
                if !readers.contains_key(key) {
                    let task = tokio::spawn(follow(
                        key.clone(),
                        rx.clone(),
                        redis.dedicated(),
                        notifier.clone(),
                    ));
                    readers.insert(key.clone(), task);
                }
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
        for task in readers.values() {
            task.abort();
        }
    });
    tx
}

/// Reads one tape from after its newest trade, announcing each trade that fires a rule.
async fn follow(key: String, rules: watch::Receiver<Vec<Rule>>, redis: Redis, n: Arc<Notifier>) {
    let (venue, _) = Venue::of_key(&key);
    let stream = options_core::tape_key(&key);
    let mut last: Option<String> = None;
    loop {
        let Some(watching) = by_tape(&rules.borrow()).remove(&key) else {
            return;
        };
        let cursor = match &last {
            Some(id) => id.clone(),
            None => match tape::newest_id(&redis, &stream).await {
                Ok(id) => {
                    tracing::info!(tape = %stream, after = %id, "following the tape for trade alerts");
                    last = Some(id.clone());
                    id
                }
                Err(e) => {
                    tracing::debug!(error = %e, tape = %stream, "cannot read the tape yet");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            },
        };
        let entries = match tape::read_after(&redis, &stream, &cursor, BLOCK_MS).await {
            Ok(entries) if entries.is_empty() => continue,
            Ok(entries) => entries,
            Err(e) => {
                tracing::debug!(error = %e, tape = %stream, "tape read failed; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        last = entries.last().map(|(id, _)| id.clone());
        let trades: Vec<TapeTrade> = entries
            .iter()
            .filter_map(|(id, fields)| {
                let t = TapeTrade::from_fields(fields);
                if t.is_none() {
                    tracing::warn!(tape = %stream, entry = %id, "a tape entry without the fields of a trade");
                }
                t
            })
            .collect();
        for rule in &watching {
            announce(&n, rule, venue, &trades);
        }
    }
}

fn announce(n: &Notifier, rule: &Rule, venue: Venue, trades: &[TapeTrade]) {
    let hits: Vec<&TapeTrade> = trades.iter().filter(|t| fires(rule, venue, t)).collect();
    let blocks = matches!(
        rule.watched(),
        Some(Watched::Trades {
            blocks_only: true,
            ..
        })
    );
    let headline = format!("{} {}", if blocks { "🧱" } else { "💸" }, rule.label());
    for t in hits.iter().take(MAX_PER_READ) {
        n.send(&headline, &t.describe());
    }
    if hits.len() > MAX_PER_READ {
        let rest = &hits[MAX_PER_READ..];
        let premium: f64 = rest.iter().map(|t| t.size * t.price).sum();
        n.send(
            &headline,
            &format!(
                "and {} more trades at once, {} USD of premium",
                rest.len(),
                format_number(premium.round())
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rule(json: &str) -> Rule {
        options_core::parse_alert_rules_json(&format!("[{json}]"))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn a_trade_fires_the_rules_it_matches() {
        let block = TapeTrade::from_fields(&entry(&[
            ("id", "t1"),
            ("symbol", "BTC-26DEC26-100000-C"),
            ("side", "buy"),
            ("size", "25"),
            ("price", "1200.5"),
            ("iv", "0.55"),
            ("index", "100000"),
            ("block", "1"),
            ("ts", "1"),
        ]))
        .unwrap();
        assert_eq!(block.notional(), Some(2_500_000.0));
        assert_eq!(
            block.describe(),
            "BTC-26DEC26-100000-C: taker buy 25 at 1200.5 USD, premium 30012.5 USD, notional 2500000 USD, IV 0.55, block trade"
        );
        let small = TapeTrade {
            size: 0.1,
            block: false,
            ..block.clone()
        };
        let blocks = rule(r#"{"asset":"BTC","field":"block_trade"}"#);
        let big = rule(r#"{"asset":"BTC","field":"trade_notional","above":1000000}"#);
        let dec = rule(r#"{"asset":"BTC","field":"block_trade","expiry":"26DEC26"}"#);
        let mar = rule(r#"{"asset":"BTC","field":"block_trade","expiry":"27MAR27"}"#);
        assert!(fires(&blocks, Venue::Bybit, &block));
        assert!(!fires(&blocks, Venue::Bybit, &small));
        assert!(fires(&big, Venue::Bybit, &block));
        assert!(!fires(&big, Venue::Bybit, &small), "10,000 USD notional");
        assert!(fires(&dec, Venue::Bybit, &block));
        assert!(!fires(&mar, Venue::Bybit, &block));
        let unknown_index = TapeTrade {
            index: None,
            ..block.clone()
        };
        assert!(!fires(&big, Venue::Bybit, &unknown_index));
        assert!(fires(&blocks, Venue::Bybit, &unknown_index));
        // A Deribit name is read as Deribit's.
        let deribit = TapeTrade {
            symbol: "BTC-26DEC26-100000-C".into(),
            ..block
        };
        assert!(fires(&dec, Venue::Deribit, &deribit));
        assert_eq!(TapeTrade::from_fields(&entry(&[("symbol", "X")])), None);
    }

    #[test]
    fn rules_are_grouped_by_the_tape_they_read() {
        let rules = vec![
            rule(r#"{"asset":"btc","field":"block_trade"}"#),
            rule(r#"{"asset":"BTC","venue":"deribit","field":"block_trade"}"#),
            rule(r#"{"asset":"BTC","field":"trade_notional","above":5}"#),
            rule(r#"{"asset":"BTC","field":"mark_iv","above":5}"#),
        ];
        let tapes = by_tape(&rules);
        assert_eq!(tapes.len(), 2);
        assert_eq!(tapes["BTC"].len(), 2);
        assert_eq!(tapes["deribit:BTC"].len(), 1);
    }
}
