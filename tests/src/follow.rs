//! A follower's copy of a chain: `OPTIONS.CHANGES … FORMAT JSON` replies, alone or inside the
//! stream's `changes` events, applied in order. Shared by the chaos run's SSE clients and the
//! web tests that follow a stream.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

/// A `changes` event's data: `{"asset", "changes": <the module's reply>}`.
#[derive(Deserialize)]
pub struct ChangesEvent<'a> {
    pub asset: String,
    #[serde(borrow)]
    pub changes: Changes<'a>,
}

/// One `OPTIONS.CHANGES` reply, its rows left as their JSON text.
#[derive(Deserialize)]
pub struct Changes<'a> {
    pub seq: u64,
    pub reset: bool,
    #[serde(borrow)]
    pub data: Vec<&'a RawValue>,
    pub removed: Vec<String>,
}

#[derive(Deserialize)]
struct RowSymbol<'a> {
    symbol: &'a str,
}

/// Applies one reply to a symbol → row map, each row kept as `keep` makes it (a hash, the
/// fields a test compares): a reset starts the copy anew, rows replace their symbol's, removed
/// symbols go.
pub fn apply<T>(
    chain: &mut BTreeMap<String, T>,
    changes: &Changes,
    keep: impl Fn(&RawValue) -> T,
) -> Result<(), String> {
    if changes.reset {
        chain.clear();
    }
    for row in &changes.data {
        let sym: RowSymbol =
            serde_json::from_str(row.get()).map_err(|e| format!("a row without a symbol: {e}"))?;
        chain.insert(sym.symbol.to_string(), keep(row));
    }
    for s in &changes.removed {
        chain.remove(s);
    }
    Ok(())
}
