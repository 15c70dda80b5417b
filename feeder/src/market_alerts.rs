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
//! above = 0.8                     # and/or below = …, and/or:
//! # rise = 500                    # grew by more than this within `window` seconds
//! # window = 3600                 #   (a 24 h volume spike: field = "volume_24h")
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
    pub rise: Option<f64>,
    #[serde(default = "default_window")]
    pub window: f64,
    #[serde(default = "default_cooldown")]
    pub cooldown: f64,
}

fn default_cooldown() -> f64 {
    300.0
}

fn default_window() -> f64 {
    3600.0
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
        if r.above.is_none() && r.below.is_none() && r.rise.is_none() {
            return Err(format!("{which}: give above, below and/or rise"));
        }
        if !(r.window.is_finite() && r.window > 0.0) {
            return Err(format!(
                "{which}: window must be a positive number of seconds"
            ));
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

    /// The condition met by `v` (with `low`, the lowest value within the window), if any.
    fn crossed(&self, v: f64, low: f64) -> Option<String> {
        if let Some(t) = self.above.filter(|t| v > *t) {
            return Some(format!("above {t}"));
        }
        if let Some(t) = self.below.filter(|t| v < *t) {
            return Some(format!("below {t}"));
        }
        if let Some(r) = self.rise.filter(|r| v - low > *r) {
            return Some(format!(
                "up {} within {} s, more than {r}",
                options_core::format_number(v - low),
                self.window
            ));
        }
        None
    }
}

struct State {
    rule: Rule,
    active: bool,
    last_fired: Option<Instant>,
    /// Recent values, for `rise`.
    history: std::collections::VecDeque<(Instant, f64)>,
}

/// The watched value: (what it is, value).
async fn current(sink: &mut RedisSink, rule: &Rule) -> Option<(String, f64)> {
    let field = Field::parse(&rule.field)?.name();
    if let Some(sym) = &rule.symbol {
        let base = sym.split('-').next()?.to_uppercase();
        let row = sink
            .module_json(&[
                "OPTIONS.GET",
                &base,
                sym,
                "FIELDS",
                "1",
                field,
                "FORMAT",
                "JSON",
            ])
            .await?;
        return Some((sym.clone(), row[field].as_f64()?));
    }
    let asset = rule.asset.as_ref()?.to_uppercase();
    let expiries = sink
        .module_json(&["OPTIONS.EXPIRIES", &asset, "FORMAT", "JSON"])
        .await?;
    let nearest = expiries.get(0)?.as_str()?.to_string();
    let chain = sink
        .module_json(&[
            "OPTIONS.CHAIN",
            &asset,
            &nearest,
            "FIELDS",
            "1",
            field,
            "FORMAT",
            "JSON",
        ])
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
            history: std::collections::VecDeque::new(),
        })
        .collect();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        for st in &mut states {
            let Some((what, v)) = current(&mut sink, &st.rule).await else {
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
            let low = st.history.iter().map(|(_, x)| *x).fold(v, f64::min);
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
