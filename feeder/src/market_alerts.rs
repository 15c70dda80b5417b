//! Market alerts a trader configures in `alerts.toml`: a field of one contract, or of an asset's
//! at-the-money call of the nearest expiry, crossing a threshold. Each rule fires when its
//! condition becomes true (not on every check while it stays true), then rests for its cooldown.
//!
//! ```toml
//! [[alert]]
//! name = "BTC ATM IV above 80%"   # optional; shown in the message
//! asset = "BTC"                   # ATM call of the nearest expiry, or:
//! # symbol = "BTC-26DEC25-100000-C"
//! field = "mark_iv"               # any canonical field: mark_price, open_interest, …
//! above = 0.8                     # and/or below = …
//! cooldown = 600                  # seconds, default 300
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use options_core::Field;
use serde::Deserialize;

use crate::alerts::Notifier;
use crate::writer::RedisSink;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: Option<String>,
    pub symbol: Option<String>,
    pub asset: Option<String>,
    pub field: String,
    pub above: Option<f64>,
    pub below: Option<f64>,
    #[serde(default = "default_cooldown")]
    pub cooldown: f64,
}

fn default_cooldown() -> f64 {
    300.0
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    alert: Vec<Rule>,
}

/// Parses and checks `alerts.toml`; errors name the rule.
pub fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("alerts file: {e}"))?;
    for (i, r) in file.alert.iter().enumerate() {
        let which = r
            .name
            .clone()
            .unwrap_or_else(|| format!("alert #{}", i + 1));
        if r.symbol.is_some() == r.asset.is_some() {
            return Err(format!("{which}: give exactly one of symbol and asset"));
        }
        if let Some(s) = &r.symbol {
            options_core::parse_symbol(s).map_err(|e| format!("{which}: {e}"))?;
        }
        if Field::parse(&r.field).is_none() {
            return Err(format!("{which}: unknown field '{}'", r.field));
        }
        if r.above.is_none() && r.below.is_none() {
            return Err(format!("{which}: give above and/or below"));
        }
        if !(r.cooldown.is_finite() && r.cooldown >= 0.0) {
            return Err(format!("{which}: cooldown must be a number of seconds"));
        }
    }
    Ok(file.alert)
}

impl Rule {
    fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| match (&self.symbol, &self.asset) {
                (Some(s), _) => format!("{s} {}", self.field),
                (_, Some(a)) => format!("{a} ATM {}", self.field),
                _ => self.field.clone(),
            })
    }

    /// The threshold crossed by `v`, if any.
    fn crossed(&self, v: f64) -> Option<String> {
        if let Some(t) = self.above.filter(|t| v > *t) {
            return Some(format!("above {t}"));
        }
        if let Some(t) = self.below.filter(|t| v < *t) {
            return Some(format!("below {t}"));
        }
        None
    }
}

struct State {
    rule: Rule,
    active: bool,
    last_fired: Option<Instant>,
}

async fn json(sink: &mut RedisSink, args: &[&str]) -> Option<serde_json::Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match sink.query(c).await {
        Ok(redis::Value::BulkString(b)) => serde_json::from_slice(&b).ok(),
        _ => None,
    }
}

/// The watched value: (what it is, value).
async fn current(sink: &mut RedisSink, rule: &Rule) -> Option<(String, f64)> {
    let field = Field::parse(&rule.field)?.name();
    if let Some(sym) = &rule.symbol {
        let base = sym.split('-').next()?.to_uppercase();
        let row = json(
            sink,
            &[
                "OPTIONS.GET",
                &base,
                sym,
                "FIELDS",
                "1",
                field,
                "FORMAT",
                "JSON",
            ],
        )
        .await?;
        return Some((sym.clone(), row[field].as_f64()?));
    }
    let asset = rule.asset.as_ref()?.to_uppercase();
    let expiries = json(sink, &["OPTIONS.EXPIRIES", &asset, "FORMAT", "JSON"]).await?;
    let nearest = expiries.get(0)?.as_str()?.to_string();
    let chain = json(
        sink,
        &[
            "OPTIONS.CHAIN",
            &asset,
            &nearest,
            "FIELDS",
            "1",
            field,
            "FORMAT",
            "JSON",
        ],
    )
    .await?;
    let atm = chain["atm_strike"].as_f64()?;
    let line = chain["strikes"]
        .as_array()?
        .iter()
        .find(|l| l["strike"].as_f64() == Some(atm))?;
    let call = &line["call"];
    Some((call["symbol"].as_str()?.to_string(), call[field].as_f64()?))
}

/// Checks every rule every `every` and sends an alert on each new crossing.
pub async fn run(rules: Vec<Rule>, mut sink: RedisSink, notifier: Arc<Notifier>, every: Duration) {
    let mut states: Vec<State> = rules
        .into_iter()
        .map(|rule| State {
            rule,
            active: false,
            last_fired: None,
        })
        .collect();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        for st in &mut states {
            let Some((what, v)) = current(&mut sink, &st.rule).await else {
                continue;
            };
            match st.rule.crossed(v) {
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
        assert_eq!(ok[0].crossed(0.9).as_deref(), Some("above 0.8"));
        assert_eq!(ok[0].crossed(0.7), None);
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
                "above and/or below",
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
