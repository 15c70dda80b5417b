//! Totals for `/api/stats`, `/health` and the SSE stats event.

use serde_json::{json, Map, Value};
use warp::reply::Response;

use crate::assets::contracts;
use crate::error::ApiResult;
use crate::respond::{cmd, json_value};
use crate::state::State;

/// Totals for `/api/stats`, `/health` and the SSE stats event.
pub struct Stats {
    pub contracts: u64,
    pub messages: u64,
    pub last_update_ms: i64,
    pub memory_human: String,
    pub dbsize: u64,
    pub per_asset: Vec<(String, u64)>,
}

impl Stats {
    /// The seed's `str(time.time())` text, or "N/A".
    pub fn last_update_text(&self) -> String {
        if self.last_update_ms > 0 {
            format!("{:.6}", self.last_update_ms as f64 / 1000.0)
        } else {
            "N/A".into()
        }
    }

    /// The web app's stats object with Python's spaced separators (the SSE payload).
    pub fn sse_text(&self) -> String {
        format!(
            "{{\"total_symbols\": {}, \"messages_processed\": {}, \"last_update\": {}, \"redis_memory\": {}}}",
            self.contracts,
            self.messages,
            json!(self.last_update_text()),
            json!(self.memory_human)
        )
    }
}

pub async fn stats(st: &State) -> ApiResult<Stats> {
    // One command at a time rather than a pipeline: in a Cluster each may live on another shard.
    let g = st.redis.module_stats().await?;
    // A Cluster client asks every master and answers a map of node → text. A least-privilege
    // user may not run INFO (`@dangerous`): Redis refuses it, and the figure falls back to the
    // memory the option chains hold, which the module reports to anyone.
    let memory_human = match st
        .redis
        .query::<redis::Value>(&cmd("INFO", &["memory"]))
        .await
    {
        Ok(info) => memory_human(&info),
        Err(options_client::ClientError::Refused(_)) => human_bytes(g.memory_bytes as f64),
        Err(e) => return Err(e.into()),
    };
    let dbsize: u64 = st.redis.query(&redis::cmd("DBSIZE")).await?;
    let mut per_asset = Vec::new();
    for a in ["BTC", "ETH", "SOL"] {
        per_asset.push((a.to_lowercase(), contracts(st, a).await?));
    }
    Ok(Stats {
        contracts: u64::try_from(g.contracts).unwrap_or(0),
        messages: u64::try_from(g.updates).unwrap_or(0),
        last_update_ms: g.last_update_ms,
        memory_human,
        dbsize,
        per_asset,
    })
}

/// `used_memory_human` of one server; of a Cluster, the masters' `used_memory` added up and
/// written as Redis writes it (`2.35M`).
fn memory_human(info: &redis::Value) -> String {
    let field = |text: &str, name: &str| -> Option<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    if let Ok(text) = redis::from_redis_value::<String>(info) {
        return field(&text, "used_memory_human:").unwrap_or_default();
    }
    let nodes: Vec<(String, String)> = redis::from_redis_value(info).unwrap_or_default();
    let bytes: f64 = nodes
        .iter()
        .filter_map(|(_, text)| field(text, "used_memory:")?.parse::<f64>().ok())
        .sum();
    human_bytes(bytes)
}

/// Redis's `bytesToHuman`: B below 1 KiB, then K, M, G, T with two decimals.
fn human_bytes(b: f64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (1024f64 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024f64 * 1024.0 * 1024.0, "G"),
        (1024f64 * 1024.0, "M"),
        (1024f64, "K"),
    ];
    for (size, unit) in UNITS {
        if b >= size {
            return format!("{:.2}{unit}", b / size);
        }
    }
    format!("{b}B")
}

/// `GET /api/stats` of the web app (port 5001): its four fields, in its order.
pub async fn stats_reply(st: &State) -> ApiResult<Response> {
    let s = stats(st).await?;
    Ok(json_value(&json!({
        "total_symbols": s.contracts,
        "messages_processed": s.messages,
        "last_update": s.last_update_text(),
        "redis_memory": s.memory_human,
    })))
}

/// The data API's stats object (its `/api/stats` and the `stats` of `/health`).
pub fn data_api_stats(s: &Stats) -> Value {
    let mut m = Map::new();
    m.insert("total_options".into(), json!(s.contracts));
    m.insert("total_keys".into(), json!(s.dbsize));
    for (a, n) in &s.per_asset {
        m.insert(format!("{a}_options"), json!(n));
    }
    m.insert("messages_processed".into(), json!(s.messages));
    m.insert("last_update".into(), json!(s.last_update_text()));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::{human_bytes, memory_human};

    #[test]
    fn memory_of_one_server_or_a_cluster() {
        let one = redis::Value::BulkString(
            b"# Memory\r\nused_memory:2463008\r\nused_memory_human:2.35M\r\n".to_vec(),
        );
        assert_eq!(memory_human(&one), "2.35M");
        let node = |mem: &str| {
            redis::Value::BulkString(format!("# Memory\r\nused_memory:{mem}\r\n").into_bytes())
        };
        let cluster = redis::Value::Map(vec![
            (redis::Value::BulkString(b"a:1".to_vec()), node("1048576")),
            (redis::Value::BulkString(b"b:2".to_vec()), node("2097152")),
        ]);
        assert_eq!(memory_human(&cluster), "3.00M");
        assert_eq!(human_bytes(512.0), "512B");
        assert_eq!(human_bytes(1536.0), "1.50K");
    }
}
