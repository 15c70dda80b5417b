//! The tracked-asset list in Redis `config:assets`, in the seed's shape:
//! `{"BTC":{"name":"Bitcoin","enabled":true,"order":1},…}` (insertion order kept). The web UI
//! edits it; the feeder follows its enabled entries; either seeds it from `OPTION_ASSETS` when it
//! is missing. Only the document is handled here; reading and writing Redis is the caller's.

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

/// The document the seed's web app writes when the key is missing.
pub fn default_document(assets: &[String]) -> String {
    let mut m = Map::new();
    for (i, a) in assets.iter().enumerate() {
        m.insert(
            a.clone(),
            json!({"name": display_name(a), "enabled": true, "order": i + 1}),
        );
    }
    Value::Object(m).to_string()
}

/// Whether an entry of the document is tracked: its `enabled`, and on when it has none (the
/// seed's tracker tracked every entry, whatever the flag). A flag that is not a boolean, or an
/// entry that is not an object, is off. The feeder, the web server and the page all ask this.
pub fn entry_enabled(entry: &Value) -> bool {
    match entry.get("enabled") {
        _ if !entry.is_object() => false,
        None | Some(Value::Null) => true,
        Some(v) => v.as_bool().unwrap_or(false),
    }
}

/// Enabled assets (`entry_enabled`) ordered by `order` (then name); an unparsable document is
/// an error.
pub fn enabled_assets(doc: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(doc).map_err(|e| format!("{KEY} is not JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{KEY} is not a JSON object"))?;
    let mut list: Vec<(i64, String)> = obj
        .iter()
        .filter(|(_, e)| entry_enabled(e))
        .filter(|(k, _)| {
            !k.is_empty() && k.len() <= 16 && k.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(|(k, e)| (e["order"].as_i64().unwrap_or(i64::MAX), k.to_uppercase()))
        .collect();
    list.sort();
    list.dedup_by(|a, b| a.1 == b.1);
    Ok(list.into_iter().map(|(_, k)| k).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ordering() {
        let doc = default_document(&["BTC".into(), "ETH".into(), "DOGE".into()]);
        assert!(doc.contains(r#""name":"Bitcoin""#) && doc.contains(r#""name":"DOGE""#));
        assert_eq!(enabled_assets(&doc).unwrap(), ["BTC", "ETH", "DOGE"]);
        let doc = r#"{"ETH":{"enabled":true,"order":2},"BTC":{"enabled":true,"order":1},"SOL":{"enabled":false,"order":3},"X-Y":{"enabled":true}}"#;
        assert_eq!(enabled_assets(doc).unwrap(), ["BTC", "ETH"]);
        assert!(enabled_assets("[1]").is_err());
        assert!(enabled_assets("{").is_err());
    }

    #[test]
    fn an_entry_without_enabled_is_tracked_as_the_seed_tracked_it() {
        // The seed's own document, one entry written by hand without the flag.
        let doc = r#"{"BTC":{"name":"Bitcoin","enabled":true,"order":1,"added_date":"2025-09-01T00:00:00"},"ETH":{"name":"Ethereum","order":2},"SOL":{"name":"Solana","enabled":false,"order":3},"DOGE":{"enabled":"yes","order":4},"XRP":7}"#;
        assert_eq!(enabled_assets(doc).unwrap(), ["BTC", "ETH"]);
        assert!(entry_enabled(&json!({"name": "Ethereum"})));
        assert!(entry_enabled(&json!({"enabled": null})));
        assert!(!entry_enabled(&json!({"enabled": false})));
        assert!(!entry_enabled(&json!({"enabled": 1})));
        assert!(!entry_enabled(&json!(true)), "not an object");
    }
}
