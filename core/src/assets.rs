//! The tracked-asset list in Redis `config:assets`, in the seed's shape:
//! `{"BTC":{"name":"Bitcoin","enabled":true,"order":1},…}` (insertion order kept). The web UI
//! edits it; the feeder follows its enabled entries; either seeds it from `OPTION_ASSETS` when it
//! is missing. The document is typed here (`AssetConfig`); `options_client::AssetsDoc` reads
//! and writes it in Redis.

use serde_json::{json, Map, Value};

pub const KEY: &str = "config:assets";

/// The seed's display names; other assets are named after their symbol.
pub fn display_name(symbol: &str) -> &str {
    match symbol {
        "BTC" => "Bitcoin",
        "ETH" => "Ethereum",
        "SOL" => "Solana",
        "MATIC" => "Polygon",
        "ARB" => "Arbitrum",
        "OP" => "Optimism",
        other => other,
    }
}

/// Whether `symbol` can name an asset (a Redis key and a symbol prefix): 1–16 ASCII letters or
/// digits.
pub fn valid_symbol(symbol: &str) -> bool {
    !symbol.is_empty() && symbol.len() <= 16 && symbol.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One entry of `config:assets`: `"BTC": {"name":"Bitcoin","enabled":true,"order":1,…}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// The document's key for the entry, as written (tracked assets are its upper case).
    pub symbol: String,
    pub name: Option<String>,
    /// Missing means on: the seed's tracker tracked every entry, whatever its flag. A flag
    /// that is not a boolean, or an entry that is not an object, is off.
    pub enabled: bool,
    /// Position among the tabs; entries without one come last, in document order.
    pub order: Option<i64>,
    /// Fields this build does not use (`added_date`), kept as they were.
    pub extra: Map<String, Value>,
}

impl Asset {
    /// A new, enabled entry (what the web app's "add" writes).
    pub fn new(symbol: &str, name: &str, order: i64) -> Asset {
        Asset {
            symbol: symbol.to_string(),
            name: Some(name.to_string()),
            enabled: true,
            order: Some(order),
            extra: Map::new(),
        }
    }

    /// The name shown on the asset's tab: its `name`, else its symbol.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.symbol)
    }

    fn from_entry(symbol: &str, entry: &Value) -> Asset {
        let Some(fields) = entry.as_object() else {
            return Asset {
                symbol: symbol.to_string(),
                name: None,
                enabled: false,
                order: None,
                extra: Map::new(),
            };
        };
        let mut extra = fields.clone();
        for known in ["name", "enabled", "order"] {
            extra.shift_remove(known);
        }
        Asset {
            symbol: symbol.to_string(),
            name: fields
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            enabled: match fields.get("enabled") {
                None | Some(Value::Null) => true,
                Some(v) => v.as_bool().unwrap_or(false),
            },
            order: fields.get("order").and_then(Value::as_i64),
            extra,
        }
    }

    fn to_entry(&self) -> Value {
        let mut m = Map::new();
        if let Some(name) = &self.name {
            m.insert("name".into(), json!(name));
        }
        m.insert("enabled".into(), json!(self.enabled));
        if let Some(order) = self.order {
            m.insert("order".into(), json!(order));
        }
        m.extend(self.extra.clone());
        Value::Object(m)
    }
}

/// The whole `config:assets` document, in its order. The feeder, the web server and the bot
/// read and write it only through this type (via `options_client::AssetsDoc`), so they agree
/// on every entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssetConfig {
    entries: Vec<Asset>,
}

impl AssetConfig {
    /// Parses the document; anything but a JSON object is an error.
    pub fn parse(doc: &str) -> Result<AssetConfig, String> {
        let v: Value = serde_json::from_str(doc).map_err(|e| format!("{KEY} is not JSON: {e}"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{KEY} is not a JSON object"))?;
        Ok(AssetConfig {
            entries: obj.iter().map(|(k, e)| Asset::from_entry(k, e)).collect(),
        })
    }

    /// What the seed's web app writes when the key is missing: every asset enabled, in order.
    pub fn seeded(assets: &[String]) -> AssetConfig {
        AssetConfig {
            entries: assets
                .iter()
                .enumerate()
                .map(|(i, a)| Asset::new(a, display_name(a), i as i64 + 1))
                .collect(),
        }
    }

    /// The document's JSON, entries in their order.
    pub fn to_json(&self) -> String {
        let m: Map<String, Value> = self
            .entries
            .iter()
            .map(|a| (a.symbol.clone(), a.to_entry()))
            .collect();
        Value::Object(m).to_string()
    }

    /// Every entry, in document order.
    pub fn entries(&self) -> &[Asset] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, symbol: &str) -> Option<&Asset> {
        self.entries.iter().find(|a| a.symbol == symbol)
    }

    pub fn contains(&self, symbol: &str) -> bool {
        self.get(symbol).is_some()
    }

    /// Entries by `order`, those without one last; ties keep document order.
    pub fn in_order(&self) -> Vec<&Asset> {
        let mut list: Vec<&Asset> = self.entries.iter().collect();
        list.sort_by_key(|a| a.order.unwrap_or(i64::MAX));
        list
    }

    /// The assets to track: enabled entries whose key can name an asset, upper-cased, in
    /// order, each once.
    pub fn tracked(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in self.in_order() {
            let symbol = a.symbol.to_uppercase();
            if a.enabled && valid_symbol(&symbol) && !out.contains(&symbol) {
                out.push(symbol);
            }
        }
        out
    }

    /// Adds an entry at the end; false (and nothing changes) when its symbol is listed.
    pub fn add(&mut self, asset: Asset) -> bool {
        if self.contains(&asset.symbol) {
            return false;
        }
        self.entries.push(asset);
        true
    }

    /// Flips an entry's `enabled`; its new state, or `None` when it is not listed.
    pub fn toggle(&mut self, symbol: &str) -> Option<bool> {
        let a = self.entries.iter_mut().find(|a| a.symbol == symbol)?;
        a.enabled = !a.enabled;
        Some(a.enabled)
    }

    /// Removes an entry; whether it was listed.
    pub fn remove(&mut self, symbol: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|a| a.symbol != symbol);
        self.entries.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ordering() {
        let cfg = AssetConfig::seeded(&["BTC".into(), "ETH".into(), "DOGE".into()]);
        let doc = cfg.to_json();
        assert_eq!(
            doc,
            r#"{"BTC":{"name":"Bitcoin","enabled":true,"order":1},"ETH":{"name":"Ethereum","enabled":true,"order":2},"DOGE":{"name":"DOGE","enabled":true,"order":3}}"#
        );
        assert_eq!(AssetConfig::parse(&doc).unwrap(), cfg);
        assert_eq!(cfg.tracked(), ["BTC", "ETH", "DOGE"]);
        let doc = r#"{"ETH":{"enabled":true,"order":2},"BTC":{"enabled":true,"order":1},"SOL":{"enabled":false,"order":3},"X-Y":{"enabled":true},"btc":{"order":9}}"#;
        assert_eq!(AssetConfig::parse(doc).unwrap().tracked(), ["BTC", "ETH"]);
        assert!(AssetConfig::parse("[1]").is_err());
        assert!(AssetConfig::parse("{").is_err());
    }

    #[test]
    fn an_entry_without_enabled_is_tracked_as_the_seed_tracked_it() {
        // The seed's own document, one entry written by hand without the flag.
        let doc = r#"{"BTC":{"name":"Bitcoin","enabled":true,"order":1,"added_date":"2025-09-01T00:00:00"},"ETH":{"name":"Ethereum","order":2},"SOL":{"name":"Solana","enabled":false,"order":3},"DOGE":{"enabled":"yes","order":4},"XRP":7,"ADA":{"enabled":null}}"#;
        let cfg = AssetConfig::parse(doc).unwrap();
        assert_eq!(cfg.tracked(), ["BTC", "ETH", "ADA"]);
        let enabled = |s: &str| cfg.get(s).unwrap().enabled;
        assert!(enabled("ETH") && enabled("ADA"));
        assert!(!enabled("SOL") && !enabled("DOGE") && !enabled("XRP"));
        assert_eq!(cfg.get("ETH").unwrap().display_name(), "Ethereum");
        assert_eq!(cfg.get("XRP").unwrap().display_name(), "XRP");
        // Fields this build does not use survive a rewrite.
        assert!(cfg.to_json().contains(r#""BTC":{"name":"Bitcoin","enabled":true,"order":1,"added_date":"2025-09-01T00:00:00"}"#));
    }

    #[test]
    fn edits() {
        let mut cfg = AssetConfig::seeded(&["BTC".into()]);
        assert!(cfg.add(Asset::new("SOL", "Solana", 2)));
        assert!(!cfg.add(Asset::new("SOL", "Again", 3)), "listed already");
        assert_eq!(cfg.toggle("SOL"), Some(false));
        assert_eq!(cfg.toggle("NOPE"), None);
        assert_eq!(cfg.tracked(), ["BTC"]);
        assert!(cfg.remove("SOL") && !cfg.remove("SOL"));
        assert_eq!(cfg.len(), 1);
    }
}
