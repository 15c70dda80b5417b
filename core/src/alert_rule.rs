//! A market alert rule: a field of one contract, or of an asset's at-the-money call of the
//! nearest expiry, crossing a threshold or rising fast. Shared by the feeder (which checks the
//! rules from `alerts.toml` and from Redis `config:alerts`) and the web server (which edits
//! `config:alerts` and refuses a bad rule before storing it).

use serde::{Deserialize, Serialize};

use crate::{format_number, parse_symbol, Field};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

impl AlertRule {
    /// Checks the rule; the error names it (`which` when it has no name).
    pub fn validate(&self, which: &str) -> Result<(), String> {
        let which = self.name.as_deref().unwrap_or(which);
        if self.symbol.is_some() == self.asset.is_some() {
            return Err(format!("{which}: give exactly one of symbol and asset"));
        }
        if let Some(s) = &self.symbol {
            parse_symbol(s).map_err(|e| format!("{which}: {e}"))?;
        }
        if let Some(a) = &self.asset {
            if !crate::assets::valid_symbol(&a.to_uppercase()) {
                return Err(format!("{which}: '{a}' is not an asset symbol"));
            }
        }
        if Field::parse(&self.field).is_none() {
            return Err(format!("{which}: unknown field '{}'", self.field));
        }
        if self.above.is_none() && self.below.is_none() && self.rise.is_none() {
            return Err(format!("{which}: give above, below and/or rise"));
        }
        if [self.above, self.below, self.rise]
            .into_iter()
            .flatten()
            .any(|v| !v.is_finite())
        {
            return Err(format!("{which}: thresholds must be finite numbers"));
        }
        if !(self.window.is_finite() && self.window > 0.0) {
            return Err(format!(
                "{which}: window must be a positive number of seconds"
            ));
        }
        if !(self.cooldown.is_finite() && self.cooldown >= 0.0) {
            return Err(format!("{which}: cooldown must be a number of seconds"));
        }
        Ok(())
    }

    /// What the alert is called in messages.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| match (&self.symbol, &self.asset) {
                (Some(s), _) => format!("{s} {}", self.field),
                (_, Some(a)) => format!("{a} ATM {}", self.field),
                _ => self.field.clone(),
            })
    }

    /// The condition met by `v` (with `low`, the lowest value within the window), if any.
    pub fn crossed(&self, v: f64, low: f64) -> Option<String> {
        if let Some(t) = self.above.filter(|t| v > *t) {
            return Some(format!("above {t}"));
        }
        if let Some(t) = self.below.filter(|t| v < *t) {
            return Some(format!("below {t}"));
        }
        if let Some(r) = self.rise.filter(|r| v - low > *r) {
            return Some(format!(
                "up {} within {} s, more than {r}",
                format_number(v - low),
                self.window
            ));
        }
        None
    }
}

/// Parses and checks the rules stored in Redis `config:alerts` (a JSON array).
pub fn parse_alert_rules_json(text: &str) -> Result<Vec<AlertRule>, String> {
    let rules: Vec<AlertRule> =
        serde_json::from_str(text).map_err(|e| format!("config:alerts: {e}"))?;
    for (i, r) in rules.iter().enumerate() {
        r.validate(&format!("alert #{}", i + 1))?;
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rules_round_trip_and_are_checked() {
        let rules = parse_alert_rules_json(
            r#"[{"asset":"BTC","field":"mark_iv","above":0.8},
                {"name":"cheap","symbol":"ETH-26DEC25-4000-C","field":"markPrice","below":10,"cooldown":60}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].cooldown, 300.0);
        let text = serde_json::to_string(&rules).unwrap();
        assert_eq!(parse_alert_rules_json(&text).unwrap(), rules);
        for (bad, want) in [
            (
                r#"[{"field":"delta","above":1}]"#,
                "alert #1: give exactly one",
            ),
            (
                r#"[{"asset":"BTC","field":"delta"}]"#,
                "above, below and/or rise",
            ),
            (
                r#"[{"asset":"B TC","field":"delta","above":1}]"#,
                "not an asset symbol",
            ),
            (
                r#"[{"asset":"BTC","field":"delta","above":1,"x":1}]"#,
                "unknown field `x`",
            ),
            (r#"{"asset":"BTC"}"#, "config:alerts"),
        ] {
            let e = parse_alert_rules_json(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
