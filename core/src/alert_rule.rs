//! A market alert rule: a field of one contract, or of an asset's at-the-money call of a given
//! (or the nearest) expiry, or one of an asset's chain analytics (ANALYTICS.md: `atm_iv`, `rr25`, `bf25`
//! at a tenor; the totals `pcr_oi`, `gex`, the volatility index `vol_index`, the term spread
//! `term_spread` (7-day minus 30-day ATM IV: above 0, the term structure is inverted) and
//! `arbitrage_flags` (expiries whose fit has a butterfly or calendar arbitrage: above 0, a flag
//! is up)), crossing a threshold or rising fast; on Bybit's chains or, with `venue`, another
//! venue's. One rule spans both venues: `venue_spread`, Deribit's ATM IV minus Bybit's (at a
//! tenor, or of one expiry both list), which fires when the venues part by more than a
//! threshold (`above` 0.03 and `below` -0.03: three vol points either way). Shared by the
//! feeder (which checks the rules from `alerts.toml` and from Redis `config:alerts`) and the web
//! server (which edits `config:alerts` and refuses a bad rule before storing it).

use serde::{Deserialize, Serialize};

use crate::{format_number, parse_venue_symbol, Field, Venue};

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
    /// Whose chain: `bybit` (the default) or `deribit`. Not with `venue_spread`, which reads
    /// both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// With `asset` and a contract field: the ATM call of this expiry (a Bybit code such as
    /// `26DEC25`) rather than of the nearest expiry, which rolls to a new contract every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// Days of the constant maturity an `atm_iv`, `rr25` or `bf25` rule watches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenor: Option<u32>,
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

/// The analytics an alert can watch: (name, read at a tenor?), as `OPTIONS.ANALYTICS` names them.
pub const ANALYTICS_METRICS: [(&str, bool); 8] = [
    ("atm_iv", true),
    ("rr25", true),
    ("bf25", true),
    ("pcr_oi", false),
    ("gex", false),
    ("vol_index", false),
    ("term_spread", false),
    ("arbitrage_flags", false),
];

/// The cross-venue figure: Deribit's ATM IV minus Bybit's (IV units; 0.01 is one vol point).
pub const VENUE_SPREAD: &str = "venue_spread";

/// Trade rules: each trade on an asset's tape that matches fires once. `trade_notional`: a
/// trade whose notional (size × index, USD) is `above` a figure; `block_trade`: every block
/// trade (with `above`, only those of more notional). An `expiry` narrows either to one expiry.
pub const TRADE_NOTIONAL: &str = "trade_notional";
pub const BLOCK_TRADE: &str = "block_trade";

/// The constant maturities `OPTIONS.ANALYTICS` reports, in days.
pub const TENOR_DAYS: [u32; 5] = [7, 30, 60, 90, 180];

/// What an alert watches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Watched<'a> {
    /// A contract's field (of `symbol`, or of the asset's ATM call of the nearest expiry).
    Contract(Field),
    /// An analytics figure at a tenor: `tenors[days][metric]`.
    Tenor(&'a str, u32),
    /// A total of the asset's analytics: `totals[metric]`.
    Total(&'a str),
    /// Deribit's ATM IV minus Bybit's, at a tenor (days) or of one expiry (its code).
    VenueSpread {
        tenor: Option<u32>,
        expiry: Option<&'a str>,
    },
    /// Trades on the asset's tape: every block trade (`blocks_only`) or any trade, of more
    /// than `min_notional` USD when given.
    Trades {
        blocks_only: bool,
        min_notional: Option<f64>,
    },
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
        let venue = match &self.venue {
            None => Venue::Bybit,
            Some(v) => Venue::parse(v)
                .ok_or_else(|| format!("{which}: venue '{v}' is not bybit or deribit"))?,
        };
        if let Some(s) = &self.symbol {
            parse_venue_symbol(venue, s).map_err(|e| format!("{which}: {e}"))?;
        }
        if self.field.eq_ignore_ascii_case(VENUE_SPREAD) {
            return self.validate_spread(which);
        }
        if self.field.eq_ignore_ascii_case(TRADE_NOTIONAL)
            || self.field.eq_ignore_ascii_case(BLOCK_TRADE)
        {
            return self.validate_trades(which);
        }
        if let Some(a) = &self.asset {
            if !crate::assets::valid_symbol(&a.to_uppercase()) {
                return Err(format!("{which}: '{a}' is not an asset symbol"));
            }
        }
        let metric = ANALYTICS_METRICS
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(&self.field));
        match (metric, self.tenor) {
            (Some(_), _) if self.asset.is_none() => {
                return Err(format!(
                    "{which}: {} is an analytics figure of an asset: give asset, not symbol",
                    self.field
                ))
            }
            (Some((m, true)), None) => {
                return Err(format!(
                    "{which}: {m} needs a tenor (days: 7, 30, 60, 90 or 180)"
                ))
            }
            (Some((m, false)), Some(_)) => {
                return Err(format!("{which}: {m} is a total; it takes no tenor"))
            }
            (Some(_), Some(t)) if !TENOR_DAYS.contains(&t) => {
                return Err(format!(
                    "{which}: tenor {t} is not one of 7, 30, 60, 90 or 180 days"
                ))
            }
            (Some(_), _) => {}
            (None, tenor) => {
                if Field::parse(&self.field).is_none() {
                    return Err(format!(
                        "{which}: unknown field '{}' (a contract field, or atm_iv, rr25, bf25, pcr_oi, gex, vol_index, term_spread, arbitrage_flags, venue_spread, trade_notional, block_trade)",
                        self.field
                    ));
                }
                if tenor.is_some() {
                    return Err(format!(
                        "{which}: a tenor is for atm_iv, rr25 and bf25, not {}",
                        self.field
                    ));
                }
            }
        }
        if let Some(e) = &self.expiry {
            if self.asset.is_none() || metric.is_some() {
                return Err(format!(
                    "{which}: an expiry picks the ATM call of an asset; give asset and a contract field"
                ));
            }
            crate::Expiry::parse(e)
                .map_err(|_| format!("{which}: '{e}' is not an expiry (e.g. 26DEC25)"))?;
        }
        self.validate_thresholds(which)
    }

    fn validate_thresholds(&self, which: &str) -> Result<(), String> {
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

    /// `venue_spread`: an asset, a tenor or an expiry (not both), no venue.
    fn validate_spread(&self, which: &str) -> Result<(), String> {
        if self.asset.is_none() {
            return Err(format!(
                "{which}: venue_spread compares an asset's chains: give asset"
            ));
        }
        if self.venue.is_some() {
            return Err(format!(
                "{which}: venue_spread reads both venues; it takes no venue"
            ));
        }
        match (self.tenor, &self.expiry) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(format!(
                    "{which}: venue_spread needs a tenor (7, 30, 60, 90 or 180 days) or an expiry, not both"
                ))
            }
            (Some(t), None) if !TENOR_DAYS.contains(&t) => {
                return Err(format!(
                    "{which}: tenor {t} is not one of 7, 30, 60, 90 or 180 days"
                ))
            }
            (None, Some(e)) => {
                crate::Expiry::parse(e)
                    .map_err(|_| format!("{which}: '{e}' is not an expiry (e.g. 26DEC25)"))?;
            }
            _ => {}
        }
        self.validate_thresholds(which)
    }

    /// `trade_notional` and `block_trade`: an asset's tape (an expiry optional), `above` the only
    /// threshold (required for `trade_notional`: the notional in USD).
    fn validate_trades(&self, which: &str) -> Result<(), String> {
        let field = self.field.to_lowercase();
        let Some(a) = &self.asset else {
            return Err(format!(
                "{which}: {field} watches an asset's trades: give asset, not symbol"
            ));
        };
        if !crate::assets::valid_symbol(&a.to_uppercase()) {
            return Err(format!("{which}: '{a}' is not an asset symbol"));
        }
        if self.tenor.is_some() || self.below.is_some() || self.rise.is_some() {
            return Err(format!(
                "{which}: {field} takes only above (a notional in USD), no tenor, below or rise"
            ));
        }
        match self.above {
            None if field == TRADE_NOTIONAL => {
                return Err(format!(
                    "{which}: trade_notional needs above (a notional in USD, e.g. 1000000)"
                ))
            }
            Some(v) if !(v.is_finite() && v >= 0.0) => {
                return Err(format!(
                    "{which}: above must be a notional in USD, 0 or more"
                ))
            }
            _ => {}
        }
        if let Some(e) = &self.expiry {
            crate::Expiry::parse(e)
                .map_err(|_| format!("{which}: '{e}' is not an expiry (e.g. 26DEC25)"))?;
        }
        Ok(())
    }

    /// The chain key the rule reads (`BTC`, `deribit:BTC`) of `underlying`.
    pub fn key(&self, underlying: &str) -> String {
        self.venue
            .as_deref()
            .and_then(Venue::parse)
            .unwrap_or(Venue::Bybit)
            .key(&underlying.to_uppercase())
    }

    /// What the rule watches (for a rule that passed `validate`; `None` otherwise).
    pub fn watched(&self) -> Option<Watched<'_>> {
        if self.field.eq_ignore_ascii_case(VENUE_SPREAD) {
            return Some(Watched::VenueSpread {
                tenor: self.tenor,
                expiry: self.expiry.as_deref(),
            });
        }
        if self.field.eq_ignore_ascii_case(TRADE_NOTIONAL) {
            return Some(Watched::Trades {
                blocks_only: false,
                min_notional: Some(self.above?),
            });
        }
        if self.field.eq_ignore_ascii_case(BLOCK_TRADE) {
            return Some(Watched::Trades {
                blocks_only: true,
                min_notional: self.above,
            });
        }
        match ANALYTICS_METRICS
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(&self.field))
        {
            Some((m, true)) => Some(Watched::Tenor(m, self.tenor?)),
            Some((m, false)) => Some(Watched::Total(m)),
            None => Field::parse(&self.field).map(Watched::Contract),
        }
    }

    /// What the alert is called in messages.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let on_deribit = self.venue.as_deref().and_then(Venue::parse) == Some(Venue::Deribit);
        let asset = self.asset.as_deref().map(|a| {
            if on_deribit {
                format!("{} on Deribit", a.to_uppercase())
            } else {
                a.to_uppercase()
            }
        });
        match (&self.symbol, asset, self.watched()) {
            (Some(s), _, _) => format!("{s} {}", self.field),
            (_, Some(a), Some(Watched::Tenor(m, d))) => format!("{a} {d}d {m}"),
            (
                _,
                Some(a),
                Some(Watched::Trades {
                    blocks_only,
                    min_notional,
                }),
            ) => {
                let what = if blocks_only { "block trade" } else { "trade" };
                let of = self
                    .expiry
                    .as_deref()
                    .map(|e| format!(" {}", e.to_uppercase()));
                match min_notional.filter(|v| *v > 0.0) {
                    Some(v) => format!(
                        "{a}{} {what} above {} USD notional",
                        of.unwrap_or_default(),
                        format_number(v)
                    ),
                    None => format!("{a}{} {what}", of.unwrap_or_default()),
                }
            }
            (_, Some(a), Some(Watched::Total(m))) => format!("{a} total {m}"),
            (_, Some(a), Some(Watched::VenueSpread { tenor: Some(d), .. })) => {
                format!("{a} {d}d ATM IV, Deribit − Bybit")
            }
            (
                _,
                Some(a),
                Some(Watched::VenueSpread {
                    expiry: Some(e), ..
                }),
            ) => {
                format!("{a} {e} ATM IV, Deribit − Bybit")
            }
            (_, Some(a), _) => match &self.expiry {
                Some(e) => format!("{a} {e} ATM {}", self.field),
                None => format!("{a} ATM {}", self.field),
            },
            _ => self.field.clone(),
        }
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

/// The Redis key of the shared rules (a JSON array), edited by the web server, followed by the
/// feeder.
pub const KEY: &str = "config:alerts";

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
    fn cross_venue_and_venue_rules() {
        let rules = parse_alert_rules_json(
            r#"[{"asset":"btc","field":"venue_spread","tenor":30,"above":0.03,"below":-0.03},
                {"asset":"ETH","field":"venue_spread","expiry":"26DEC26","above":0.02},
                {"asset":"BTC","venue":"deribit","field":"atm_iv","tenor":30,"above":0.9},
                {"symbol":"XRP_USDC-26DEC26-0d625-C","venue":"deribit","field":"mark_iv","above":2}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].label(), "BTC 30d ATM IV, Deribit − Bybit");
        assert_eq!(
            rules[0].watched(),
            Some(Watched::VenueSpread {
                tenor: Some(30),
                expiry: None
            })
        );
        assert_eq!(rules[1].label(), "ETH 26DEC26 ATM IV, Deribit − Bybit");
        assert_eq!(rules[2].label(), "BTC on Deribit 30d atm_iv");
        assert_eq!(rules[2].key("btc"), "deribit:BTC");
        assert_eq!(rules[3].key("XRP"), "deribit:XRP");
        // The spread crosses either way.
        assert_eq!(
            rules[0].crossed(-0.04, -0.04).as_deref(),
            Some("below -0.03")
        );
        assert_eq!(rules[0].crossed(0.01, 0.0), None);
        for (bad, want) in [
            (
                r#"[{"asset":"BTC","field":"venue_spread","above":0.03}]"#,
                "a tenor",
            ),
            (
                r#"[{"asset":"BTC","field":"venue_spread","tenor":30,"expiry":"26DEC26","above":0.03}]"#,
                "not both",
            ),
            (
                r#"[{"asset":"BTC","field":"venue_spread","tenor":31,"above":0.03}]"#,
                "tenor 31",
            ),
            (
                r#"[{"asset":"BTC","field":"venue_spread","tenor":30,"venue":"deribit","above":0.03}]"#,
                "takes no venue",
            ),
            (
                r#"[{"symbol":"BTC-26DEC26-1-C","field":"venue_spread","tenor":30,"above":0.03}]"#,
                "give asset",
            ),
            (
                r#"[{"asset":"BTC","field":"venue_spread","tenor":30}]"#,
                "above, below and/or rise",
            ),
            (
                r#"[{"asset":"BTC","venue":"okx","field":"delta","above":1}]"#,
                "not bybit or deribit",
            ),
            (
                r#"[{"symbol":"XRP-26DEC26-0.625-C","venue":"deribit","field":"delta","above":1}]"#,
                "Deribit symbol",
            ),
        ] {
            let e = parse_alert_rules_json(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn json_rules_round_trip_and_are_checked() {
        let rules = parse_alert_rules_json(
            r#"[{"asset":"BTC","field":"mark_iv","above":0.8},
                {"name":"cheap","symbol":"ETH-26DEC25-4000-C","field":"markPrice","below":10,"cooldown":60}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].cooldown, 300.0);
        assert_eq!(rules[0].label(), "BTC ATM mark_iv");
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
            (
                r#"[{"asset":"BTC","field":"atm_iv","above":1}]"#,
                "needs a tenor",
            ),
            (
                r#"[{"asset":"BTC","field":"rr25","tenor":45,"above":1}]"#,
                "tenor 45 is not one of",
            ),
            (
                r#"[{"asset":"BTC","field":"gex","tenor":30,"below":0}]"#,
                "takes no tenor",
            ),
            (
                r#"[{"symbol":"BTC-26DEC25-1-C","field":"pcr_oi","above":1}]"#,
                "give asset, not symbol",
            ),
            (
                r#"[{"asset":"BTC","field":"mark_iv","tenor":30,"above":1}]"#,
                "a tenor is for atm_iv",
            ),
            (
                r#"[{"asset":"BTC","field":"nope","above":1}]"#,
                "unknown field 'nope'",
            ),
            (
                r#"[{"symbol":"BTC-26DEC25-1-C","expiry":"26DEC25","field":"delta","above":1}]"#,
                "an expiry picks the ATM call",
            ),
            (
                r#"[{"asset":"BTC","expiry":"26DEC25","field":"rr25","tenor":30,"above":1}]"#,
                "an expiry picks the ATM call",
            ),
            (
                r#"[{"asset":"BTC","expiry":"someday","field":"delta","above":1}]"#,
                "'someday' is not an expiry",
            ),
        ] {
            let e = parse_alert_rules_json(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}

#[cfg(test)]
mod analytics_rules {
    use super::*;

    #[test]
    fn analytics_rules_say_what_they_watch() {
        let rules = parse_alert_rules_json(
            r#"[{"asset":"btc","field":"atm_iv","tenor":30,"above":0.9},
                {"asset":"ETH","field":"pcr_oi","rise":0.5,"window":600},
                {"asset":"SOL","field":"gex","below":-1e6}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].watched(), Some(Watched::Tenor("atm_iv", 30)));
        assert_eq!(rules[0].label(), "BTC 30d atm_iv");
        assert_eq!(rules[1].watched(), Some(Watched::Total("pcr_oi")));
        assert_eq!(rules[1].label(), "ETH total pcr_oi");
        assert_eq!(rules[2].crossed(-2e6, -2e6), Some("below -1000000".into()));
        let fixed = parse_alert_rules_json(
            r#"[{"asset":"BTC","expiry":"26DEC25","field":"mark_iv","above":0.9}]"#,
        )
        .unwrap();
        assert_eq!(fixed[0].label(), "BTC 26DEC25 ATM mark_iv");
        let text = serde_json::to_string(&rules).unwrap();
        assert!(text.contains(r#""tenor":30"#) && !text.contains(r#""tenor":null"#));
        assert_eq!(parse_alert_rules_json(&text).unwrap(), rules);
        // The volatility index, an inverted term structure and a new arbitrage flag are totals.
        let vol = parse_alert_rules_json(
            r#"[{"asset":"BTC","field":"vol_index","above":80},
                {"asset":"BTC","field":"term_spread","above":0},
                {"asset":"BTC","field":"arbitrage_flags","above":0}]"#,
        )
        .unwrap();
        assert_eq!(vol[0].watched(), Some(Watched::Total("vol_index")));
        assert_eq!(vol[1].label(), "BTC total term_spread");
        assert_eq!(vol[2].crossed(1.0, 0.0), Some("above 0".into()));
        assert_eq!(vol[2].crossed(0.0, 0.0), None, "no flag up");
        let e =
            parse_alert_rules_json(r#"[{"asset":"BTC","field":"vol_index","tenor":30,"above":1}]"#)
                .unwrap_err();
        assert!(e.contains("takes no tenor"), "{e}");
    }
}

#[cfg(test)]
mod trade_rules {
    use super::*;

    #[test]
    fn trade_rules_watch_the_tape() {
        let rules = parse_alert_rules_json(
            r#"[{"asset":"btc","field":"block_trade"},
                {"asset":"ETH","venue":"deribit","field":"trade_notional","above":1000000},
                {"asset":"BTC","expiry":"26DEC26","field":"block_trade","above":250000}]"#,
        )
        .unwrap();
        assert_eq!(
            rules[0].watched(),
            Some(Watched::Trades {
                blocks_only: true,
                min_notional: None
            })
        );
        assert_eq!(rules[0].label(), "BTC block trade");
        assert_eq!(
            rules[1].watched(),
            Some(Watched::Trades {
                blocks_only: false,
                min_notional: Some(1e6)
            })
        );
        assert_eq!(
            rules[1].label(),
            "ETH on Deribit trade above 1000000 USD notional"
        );
        assert_eq!(rules[1].key("eth"), "deribit:ETH");
        assert_eq!(
            rules[2].label(),
            "BTC 26DEC26 block trade above 250000 USD notional"
        );
        for (bad, want) in [
            (
                r#"[{"asset":"BTC","field":"trade_notional"}]"#,
                "trade_notional needs above",
            ),
            (
                r#"[{"symbol":"BTC-26DEC26-1-C","field":"block_trade"}]"#,
                "give asset, not symbol",
            ),
            (
                r#"[{"asset":"BTC","field":"block_trade","below":5}]"#,
                "takes only above",
            ),
            (
                r#"[{"asset":"BTC","field":"trade_notional","above":-1}]"#,
                "0 or more",
            ),
            (
                r#"[{"asset":"BTC","field":"block_trade","expiry":"soon"}]"#,
                "'soon' is not an expiry",
            ),
        ] {
            let e = parse_alert_rules_json(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
