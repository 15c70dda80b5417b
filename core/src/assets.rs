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

/// Enabled assets ordered by `order` (then name). Entries that are not objects, or with a
/// non-boolean `enabled`, are skipped; an unparsable document is an error.
pub fn enabled_assets(doc: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(doc).map_err(|e| format!("{KEY} is not JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{KEY} is not a JSON object"))?;
    let mut list: Vec<(i64, String)> = obj
        .iter()
        .filter(|(_, e)| e["enabled"].as_bool().unwrap_or(false))
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
}
