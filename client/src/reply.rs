//! The module's replies as types, for every client (feeder, web server, tests): a renamed or
//! missing field is a decode error here, never a silent 0. Field names are the module's JSON
//! (`FORMAT JSON`); `null` is `None`.

/// The module's data type name (`TYPE key`): clients find every chain with `SCAN … TYPE` it.
pub use options_core::CHAIN_TYPE_NAME;

/// The feeder's heartbeat key: a [`FeederStatus`] as JSON, rewritten every second with a
/// 5-second expiry, so its absence means no feeder is running.
pub const FEEDER_STATUS_KEY: &str = "feeder:status";

/// What the feeder says about itself (`feeder/src/heartbeat.rs` writes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeederStatus {
    /// When this was written (Unix ms).
    pub ts: i64,
    pub started_ms: i64,
    /// The last ticker frame received from Bybit (0: none yet).
    pub last_message_ms: i64,
    /// WebSocket connections wanted and open.
    pub ws_wanted: i64,
    pub ws_open: i64,
    /// The writer's view of Redis: 1 while writes succeed.
    pub redis_up: i64,
    pub contracts: i64,
    /// Telegram notifications configured (token and chat) and enabled.
    pub telegram: bool,
}

use serde::{Deserialize, Serialize};

/// `OPTIONS.ANALYTICS … FORMAT JSON`: the module's own figure types (`options_core::figures`),
/// under the names this crate has always given them.
pub use options_core::figures::{
    Analytics, ExpiryFigures as ExpiryAnalytics, StrikeFigures as StrikeAnalytics,
    Tenor as AnalyticsTenor, Totals as AnalyticsTotals,
};

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"underlying":"BTC","now":1796115600000,"index":97000.5,
        "totals":{"oi_calls":10,"oi_puts":5,"volume_calls":0,"volume_puts":1,"gex":-12.5,"notional_oi":1e6,"pcr_oi":0.5,"pcr_volume":null},
        "tenors":[{"days":7,"atm_iv":0.5,"rr25":null,"bf25":0.01}],
        "expiries":[{"expiry":"3DEC26","expiry_ts":1796284800000,"t":0.005,"forward":97010,"atm_strike":97000,
          "atm_iv":0.5,"call25_iv":null,"put25_iv":null,"call10_iv":null,"put10_iv":null,"rr25":null,"bf25":null,
          "rr10":null,"bf10":null,"oi_calls":10,"oi_puts":5,"volume_calls":0,"volume_puts":1,"pcr_oi":0.5,
          "pcr_volume":null,"max_pain":96000,"gex":-12.5,"notional_oi":1e6}]}"#;

    #[test]
    fn a_module_reply_decodes_and_names_its_metrics() {
        let a: Analytics = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(a.metric("atm_iv", Some(7)), Some(0.5));
        assert_eq!(a.metric("rr25", Some(7)), None);
        assert_eq!(a.metric("atm_iv", Some(30)), None);
        assert_eq!(a.metric("gex", None), Some(-12.5));
        assert_eq!(a.metric("pcr_volume", None), None);
        assert_eq!(a.expiries[0].max_pain, Some(96000.0));
        assert!(a.strikes.is_none());
    }

    #[test]
    fn a_renamed_field_is_an_error_not_a_zero() {
        let renamed = SAMPLE.replace(
            "\"oi_puts\":5,\"volume_calls\"",
            "\"oi_put\":5,\"volume_calls\"",
        );
        assert!(serde_json::from_str::<Analytics>(&renamed).is_err());
    }
}

/// `OPTIONS.SMILE … FORMAT JSON`: one expiry's raw SVI fit (ANALYTICS.md, "Fitted smiles").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smile {
    pub underlying: String,
    pub expiry: String,
    pub t: f64,
    pub forward: f64,
    pub svi: options_core::svi::Svi,
    pub svi_rmse: f64,
    pub butterfly_arb: bool,
    pub calendar_arb: bool,
    pub strikes: Vec<SmileStrike>,
}

/// A strike of a fitted smile: its market IV, the fit's, and the difference (positive: rich).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmileStrike {
    pub strike: f64,
    pub k: f64,
    pub iv: f64,
    pub fit_iv: f64,
    pub residual: f64,
}

/// `OPTIONS.HISTORY … FORMAT JSON`: `points` are `[ts, value…]` in the order of `metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub underlying: String,
    pub metrics: Vec<String>,
    pub points: Vec<Vec<Option<f64>>>,
}

impl History {
    /// The values of the `i`-th metric that samples have, oldest first.
    pub fn values(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        self.points.iter().filter_map(move |p| *p.get(i + 1)?)
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;

    #[test]
    fn history_points_decode_with_gaps() {
        let h: History = serde_json::from_str(
            r#"{"underlying":"BTC","metrics":["atm_iv","rr25"],"points":[[60000,0.5,null],[120000,0.52,-0.01]]}"#,
        )
        .unwrap();
        assert_eq!(h.values(0).collect::<Vec<_>>(), [0.5, 0.52]);
        assert_eq!(h.values(1).collect::<Vec<_>>(), [-0.01]);
    }
}

/// `OPTIONS.STATS key FORMAT JSON`: one chain's counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainStats {
    pub key: String,
    pub contracts: u64,
    pub expired_pending: u64,
    pub expiries: u64,
    pub updates: u64,
    pub seq: u64,
    pub last_update_ms: i64,
    pub memory_bytes: i64,
}

/// `OPTIONS.STATS FORMAT JSON` (no key): the module's totals over every chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleStats {
    pub keys: i64,
    pub contracts: i64,
    pub updates: i64,
    pub last_update_ms: i64,
    pub memory_bytes: i64,
    pub ingests_since_load: i64,
    pub queries_since_load: i64,
    pub rejected_since_load: i64,
    /// This load of the module (new after every restart of its server); of a Cluster's
    /// totals, every node's, comma-separated.
    pub instance: String,
}

impl ModuleStats {
    /// The totals of two nodes of a Cluster: sums, the later update time, both instances.
    pub fn plus(&self, other: &ModuleStats) -> ModuleStats {
        ModuleStats {
            keys: self.keys + other.keys,
            contracts: self.contracts + other.contracts,
            updates: self.updates + other.updates,
            last_update_ms: self.last_update_ms.max(other.last_update_ms),
            memory_bytes: self.memory_bytes + other.memory_bytes,
            ingests_since_load: self.ingests_since_load + other.ingests_since_load,
            queries_since_load: self.queries_since_load + other.queries_since_load,
            rejected_since_load: self.rejected_since_load + other.rejected_since_load,
            instance: format!("{},{}", self.instance, other.instance),
        }
    }
}

#[cfg(test)]
mod stats_tests {
    use super::*;

    #[test]
    fn stats_replies_decode() {
        let c: ChainStats = serde_json::from_str(
            r#"{"key":"BTC","contracts":3,"expired_pending":0,"expiries":1,"updates":9,"seq":12,"last_update_ms":5,"memory_bytes":800}"#,
        )
        .unwrap();
        assert_eq!((c.contracts, c.updates), (3, 9));
        let m: ModuleStats = serde_json::from_str(
            r#"{"keys":1,"contracts":3,"updates":9,"last_update_ms":5,"memory_bytes":800,"ingests_since_load":9,"queries_since_load":0,"rejected_since_load":0,"instance":"00ff"}"#,
        )
        .unwrap();
        assert_eq!((m.keys, m.instance.as_str()), (1, "00ff"));
        assert!(serde_json::from_str::<ChainStats>(r#"{"key":"BTC"}"#).is_err());
    }
}

/// A row as the module writes it: `symbol` plus the columns asked for (`FIELDS`), in that
/// order; a field never received is `null`. The columns are the caller's choice, so a row is a
/// map, read through the accessors below.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Row(pub serde_json::Map<String, serde_json::Value>);

impl Row {
    /// A numeric column; `None` when absent or `null`.
    pub fn number(&self, column: &str) -> Option<f64> {
        self.0.get(column)?.as_f64()
    }

    /// A text column (`symbol`, `expiry`, `type`, `settle`).
    pub fn text(&self, column: &str) -> Option<&str> {
        self.0.get(column)?.as_str()
    }

    pub fn symbol(&self) -> &str {
        self.text("symbol").unwrap_or_default()
    }
}

impl std::ops::Deref for Row {
    type Target = serde_json::Map<String, serde_json::Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// `OPTIONS.QUERY … FORMAT JSON`: the matches before paging (`total`), and the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryPage {
    pub total: u64,
    pub offset: u64,
    /// `null` without `LIMIT`.
    pub limit: Option<u64>,
    pub data: Vec<Row>,
}

/// `OPTIONS.CHANGES key since FORMAT JSON`: the new sequence, whether the client must start
/// over (`reset`: `data` is then the whole chain), the changed rows and the removed symbols.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    pub seq: u64,
    pub reset: bool,
    pub data: Vec<Row>,
    pub removed: Vec<String>,
}

/// The head of a [`Changes`] reply, read without building its rows: what a poller needs to
/// decide whether to forward the reply's bytes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChangesHead {
    pub seq: u64,
    pub reset: bool,
    #[serde(deserialize_with = "count")]
    pub data: usize,
    #[serde(deserialize_with = "count")]
    pub removed: usize,
}

impl ChangesHead {
    /// Whether anything changed.
    pub fn any(&self) -> bool {
        self.reset || self.data > 0 || self.removed > 0
    }
}

/// The length of a JSON array whose items are skipped.
fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    Ok(Vec::<serde::de::IgnoredAny>::deserialize(d)?.len())
}

#[cfg(test)]
mod row_tests {
    use super::*;

    #[test]
    fn pages_and_changes_decode_and_rows_read_by_column() {
        let p: QueryPage = serde_json::from_str(
            r#"{"total":2,"offset":0,"limit":null,"data":[{"symbol":"BTC-3DEC26-90000-C","mark_iv":0.5,"bid_price":null}]}"#,
        )
        .unwrap();
        let r = &p.data[0];
        assert_eq!(
            (r.symbol(), r.number("mark_iv"), r.number("bid_price")),
            ("BTC-3DEC26-90000-C", Some(0.5), None)
        );
        let text = r#"{"seq":9,"reset":false,"data":[{"symbol":"X"}],"removed":["Y","Z"]}"#;
        let c: Changes = serde_json::from_str(text).unwrap();
        assert_eq!((c.seq, c.removed.len()), (9, 2));
        let h: ChangesHead = serde_json::from_str(text).unwrap();
        assert_eq!((h.seq, h.data, h.removed, h.any()), (9, 1, 2, true));
        let quiet: ChangesHead =
            serde_json::from_str(r#"{"seq":9,"reset":false,"data":[],"removed":[]}"#).unwrap();
        assert!(!quiet.any());
        assert!(serde_json::from_str::<QueryPage>(r#"{"count":2,"data":[]}"#).is_err());
    }
}

/// `OPTIONS.CHAIN key expiry … FORMAT JSON`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    pub underlying: String,
    pub expiry: String,
    pub expiry_ts: i64,
    /// The expiry's forward (the median of its contracts' underlying prices).
    pub underlying_price: Option<f64>,
    pub atm_strike: Option<f64>,
    pub strikes: Vec<ChainLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainLine {
    pub strike: f64,
    pub settle: String,
    pub call: Option<Row>,
    pub put: Option<Row>,
}

impl Chain {
    /// The lines at the ATM strike (one per settle coin), USDC first.
    pub fn atm_lines(&self) -> impl Iterator<Item = &ChainLine> {
        let atm = self.atm_strike;
        self.strikes.iter().filter(move |l| Some(l.strike) == atm)
    }
}

/// The sums `OPTIONS.FLOW` reports for a set of trades (premiums in USD, signed by the taker).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSums {
    pub trades: u64,
    pub buy_volume: f64,
    pub sell_volume: f64,
    pub net_volume: f64,
    pub buy_premium: f64,
    pub sell_premium: f64,
    pub net_premium: f64,
    pub block_trades: u64,
    pub block_volume: f64,
}

/// One expiry's flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryFlow {
    pub expiry: String,
    #[serde(flatten)]
    pub sums: FlowSums,
}

/// One strike's calls' and puts' net premium and volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrikeFlow {
    pub strike: f64,
    pub call_net_premium: f64,
    pub call_net_volume: f64,
    pub put_net_premium: f64,
    pub put_net_volume: f64,
}

/// `OPTIONS.FLOW … FORMAT JSON`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub underlying: String,
    pub from: i64,
    pub to: i64,
    #[serde(flatten)]
    pub totals: FlowSums,
    pub expiries: Vec<ExpiryFlow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strikes: Option<Vec<StrikeFlow>>,
    /// `[bucket start, net premium, block volume]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<(i64, f64, f64)>>,
}
