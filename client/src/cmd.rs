//! A builder per `OPTIONS.*` command (the module's command contract, DESIGN.md): each names
//! its arguments as fields, writes the command with `FORMAT JSON`, and says which type of
//! [`crate::reply`] its answer decodes into. Commands that change a chain reply with integers
//! and are built by plain functions ([`ingest`], [`del`], [`purge`]).

use options_core::{format_number, Expiry, Field, OptionType, Settle};
use redis::Cmd;
use serde::de::DeserializeOwned;

use crate::error::{ClientError, ClientResult};
use crate::reply;

/// A module command with a `FORMAT JSON` reply.
pub trait Command {
    /// The command's name, for messages.
    const NAME: &'static str;
    /// What its reply decodes into.
    type Reply: DeserializeOwned;
    /// The command, asking for `FORMAT JSON`.
    fn to_cmd(&self) -> Cmd;
    /// Its reply, decoded: a reply that does not match the type is an error, never a default.
    fn decode(json: &[u8]) -> ClientResult<Self::Reply> {
        serde_json::from_slice(json).map_err(|e| ClientError::Reply {
            command: Self::NAME,
            detail: e.to_string(),
        })
    }
}

fn start(name: &str, key: &str) -> Cmd {
    let mut c = redis::cmd(name);
    c.arg(key);
    c
}

fn fields(c: &mut Cmd, fields: &Option<Vec<String>>) {
    if let Some(f) = fields {
        c.arg("FIELDS").arg(f.len()).arg(f);
    }
}

/// `EXPIRY e …` when any expiry is given.
fn expiries(c: &mut Cmd, expiries: &[Expiry]) {
    if !expiries.is_empty() {
        c.arg("EXPIRY");
        for e in expiries {
            c.arg(e.code());
        }
    }
}

fn json(mut c: Cmd) -> Cmd {
    c.arg("FORMAT").arg("JSON");
    c
}

/// `OPTIONS.QUERY key [EXPIRY e …] [TYPE t] [STRIKE s] [STRIKE_MIN x] [STRIKE_MAX y]
/// [SETTLE s] [SORTBY f ASC|DESC] [LIMIT offset count] [FIELDS n f …]`.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub key: String,
    pub expiries: Vec<Expiry>,
    pub kind: Option<OptionType>,
    pub strike: Option<f64>,
    pub strike_min: Option<f64>,
    pub strike_max: Option<f64>,
    pub settle: Option<Settle>,
    /// A column, and whether descending.
    pub sort_by: Option<(String, bool)>,
    /// Offset and count.
    pub limit: Option<(usize, usize)>,
    /// The columns of each row (the module's default set when `None`).
    pub fields: Option<Vec<String>>,
}

impl Query {
    pub fn new(key: &str) -> Query {
        Query {
            key: key.to_string(),
            ..Query::default()
        }
    }

    /// Only the count (`LIMIT 0 0`): the page's `total`.
    pub fn count_only(mut self) -> Query {
        self.limit = Some((0, 0));
        self
    }

    pub fn fields<S: AsRef<str>>(mut self, fields: &[S]) -> Query {
        self.fields = Some(fields.iter().map(|f| f.as_ref().to_string()).collect());
        self
    }

    fn args(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        expiries(&mut c, &self.expiries);
        if let Some(t) = self.kind {
            c.arg("TYPE").arg(t.as_str());
        }
        for (word, v) in [
            ("STRIKE", self.strike),
            ("STRIKE_MIN", self.strike_min),
            ("STRIKE_MAX", self.strike_max),
        ] {
            if let Some(v) = v {
                c.arg(word).arg(format_number(v));
            }
        }
        if let Some(s) = self.settle {
            c.arg("SETTLE").arg(s.as_str());
        }
        if let Some((col, desc)) = &self.sort_by {
            c.arg("SORTBY")
                .arg(col)
                .arg(if *desc { "DESC" } else { "ASC" });
        }
        if let Some((offset, count)) = self.limit {
            c.arg("LIMIT").arg(offset).arg(count);
        }
        fields(&mut c, &self.fields);
        c
    }

    /// The command with `FORMAT SEED`: the replaced system's row list (a bare array, or its
    /// page object with `LIMIT`), forwarded as bytes.
    pub fn to_seed_cmd(&self) -> Cmd {
        let mut c = self.args();
        c.arg("FORMAT").arg("SEED");
        c
    }
}

impl Command for Query {
    const NAME: &'static str = "OPTIONS.QUERY";
    type Reply = reply::QueryPage;
    fn to_cmd(&self) -> Cmd {
        json(self.args())
    }
}

/// `OPTIONS.GET key symbol [FIELDS n f …]`: one row, `None` when the contract is not listed.
#[derive(Debug, Clone)]
pub struct Get {
    pub key: String,
    pub symbol: String,
    pub fields: Option<Vec<String>>,
}

impl Get {
    pub fn new(key: &str, symbol: &str) -> Get {
        Get {
            key: key.to_string(),
            symbol: symbol.to_string(),
            fields: None,
        }
    }
}

impl Command for Get {
    const NAME: &'static str = "OPTIONS.GET";
    type Reply = reply::Row;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        c.arg(&self.symbol);
        fields(&mut c, &self.fields);
        json(c)
    }
}

/// `OPTIONS.CHAIN key expiry [SETTLE s] [FIELDS n f …]`: calls and puts side by side.
#[derive(Debug, Clone)]
pub struct Chain {
    pub key: String,
    pub expiry: Expiry,
    pub settle: Option<Settle>,
    pub fields: Option<Vec<String>>,
}

impl Chain {
    pub fn new(key: &str, expiry: Expiry) -> Chain {
        Chain {
            key: key.to_string(),
            expiry,
            settle: None,
            fields: None,
        }
    }

    pub fn fields<S: AsRef<str>>(mut self, fields: &[S]) -> Chain {
        self.fields = Some(fields.iter().map(|f| f.as_ref().to_string()).collect());
        self
    }
}

impl Command for Chain {
    const NAME: &'static str = "OPTIONS.CHAIN";
    type Reply = reply::Chain;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        c.arg(self.expiry.code());
        if let Some(s) = self.settle {
            c.arg("SETTLE").arg(s.as_str());
        }
        fields(&mut c, &self.fields);
        json(c)
    }
}

/// `OPTIONS.EXPIRIES key`: Bybit's codes, chronological.
#[derive(Debug, Clone)]
pub struct Expiries {
    pub key: String,
}

impl Expiries {
    pub fn new(key: &str) -> Expiries {
        Expiries {
            key: key.to_string(),
        }
    }
}

impl Command for Expiries {
    const NAME: &'static str = "OPTIONS.EXPIRIES";
    type Reply = Vec<String>;
    fn to_cmd(&self) -> Cmd {
        json(start(Self::NAME, &self.key))
    }
}

/// `OPTIONS.STRIKES key [EXPIRY e]`: strike texts, numeric ascending.
#[derive(Debug, Clone)]
pub struct Strikes {
    pub key: String,
    pub expiry: Option<Expiry>,
}

impl Command for Strikes {
    const NAME: &'static str = "OPTIONS.STRIKES";
    type Reply = Vec<String>;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        if let Some(e) = self.expiry {
            c.arg("EXPIRY").arg(e.code());
        }
        json(c)
    }
}

/// `OPTIONS.CHANGES key since [FIELDS n f …] [BLOCK ms]`: what changed after sequence `since`;
/// with `block`, waits up to that many ms for a change (nil, `None`, when none came).
#[derive(Debug, Clone)]
pub struct Changes {
    pub key: String,
    pub since: u64,
    pub fields: Option<Vec<String>>,
    pub block_ms: Option<u64>,
}

impl Changes {
    pub fn new(key: &str, since: u64) -> Changes {
        Changes {
            key: key.to_string(),
            since,
            fields: None,
            block_ms: None,
        }
    }

    /// Waits up to `ms` (0: without end) when nothing changed after `since`.
    pub fn block(self, ms: u64) -> Changes {
        Changes {
            block_ms: Some(ms),
            ..self
        }
    }
}

impl Command for Changes {
    const NAME: &'static str = "OPTIONS.CHANGES";
    type Reply = reply::Changes;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        c.arg(self.since);
        fields(&mut c, &self.fields);
        if let Some(ms) = self.block_ms {
            c.arg("BLOCK").arg(ms);
        }
        json(c)
    }
}

/// `OPTIONS.STATS key`: one chain's counts.
#[derive(Debug, Clone)]
pub struct Stats {
    pub key: String,
}

impl Command for Stats {
    const NAME: &'static str = "OPTIONS.STATS";
    type Reply = reply::ChainStats;
    fn to_cmd(&self) -> Cmd {
        json(start(Self::NAME, &self.key))
    }
}

/// `OPTIONS.STATS` without a key: one node's totals (see `Redis::module_stats` for a
/// Cluster's).
#[derive(Debug, Clone, Copy)]
pub struct ModuleStats;

impl Command for ModuleStats {
    const NAME: &'static str = "OPTIONS.STATS";
    type Reply = reply::ModuleStats;
    fn to_cmd(&self) -> Cmd {
        json(redis::cmd(Self::NAME))
    }
}

/// `OPTIONS.ANALYTICS key [EXPIRY e …] [SETTLE s] [BYSTRIKE] [NOW ms]` (ANALYTICS.md).
#[derive(Debug, Clone, Default)]
pub struct Analytics {
    pub key: String,
    pub expiries: Vec<Expiry>,
    pub settle: Option<Settle>,
    pub by_strike: bool,
    /// `RATE r`: the volatility index's annual rate (the module's default, 0, when `None`).
    pub rate: Option<f64>,
    pub now_ms: Option<i64>,
}

impl Analytics {
    pub fn new(key: &str) -> Analytics {
        Analytics {
            key: key.to_string(),
            ..Analytics::default()
        }
    }
}

impl Command for Analytics {
    const NAME: &'static str = "OPTIONS.ANALYTICS";
    type Reply = reply::Analytics;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        expiries(&mut c, &self.expiries);
        if let Some(s) = self.settle {
            c.arg("SETTLE").arg(s.as_str());
        }
        if self.by_strike {
            c.arg("BYSTRIKE");
        }
        if let Some(r) = self.rate {
            c.arg("RATE").arg(options_core::format_number(r));
        }
        if let Some(now) = self.now_ms {
            c.arg("NOW").arg(now);
        }
        json(c)
    }
}

/// `OPTIONS.SMILE key expiry [SETTLE s] [RATE r] [NOW ms]`: one expiry's SVI fit; nil without
/// one.
#[derive(Debug, Clone)]
pub struct Smile {
    pub key: String,
    pub expiry: Expiry,
    pub settle: Option<Settle>,
    pub rate: Option<f64>,
    pub now_ms: Option<i64>,
}

impl Smile {
    pub fn new(key: &str, expiry: Expiry) -> Smile {
        Smile {
            key: key.to_string(),
            expiry,
            settle: None,
            rate: None,
            now_ms: None,
        }
    }
}

impl Command for Smile {
    const NAME: &'static str = "OPTIONS.SMILE";
    type Reply = reply::Smile;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        c.arg(self.expiry.code());
        if let Some(s) = self.settle {
            c.arg("SETTLE").arg(s.as_str());
        }
        if let Some(r) = self.rate {
            c.arg("RATE").arg(options_core::format_number(r));
        }
        if let Some(now) = self.now_ms {
            c.arg("NOW").arg(now);
        }
        json(c)
    }
}

/// `OPTIONS.HISTORY key METRIC m … [TENOR d] [EXPIRY e] [FROM ms] [TO ms]`.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub key: String,
    pub metrics: Vec<String>,
    pub tenor_days: Option<u32>,
    pub expiry: Option<Expiry>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl History {
    pub fn new(key: &str, metrics: &[&str]) -> History {
        History {
            key: key.to_string(),
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            ..History::default()
        }
    }
}

impl Command for History {
    const NAME: &'static str = "OPTIONS.HISTORY";
    type Reply = reply::History;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        c.arg("METRIC").arg(&self.metrics);
        if let Some(d) = self.tenor_days {
            c.arg("TENOR").arg(d);
        }
        if let Some(e) = self.expiry {
            c.arg("EXPIRY").arg(e.code());
        }
        if let Some(f) = self.from_ms {
            c.arg("FROM").arg(f);
        }
        if let Some(t) = self.to_ms {
            c.arg("TO").arg(t);
        }
        json(c)
    }
}

/// Whether a write is the market moving now or a rewrite of values already seen (ANALYTICS.md,
/// "Writes that take no sample").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A live exchange frame: may take a history sample.
    Live,
    /// A start snapshot or a refill after an outage: `NOHISTORY`, never samples.
    Rewrite,
}

/// `OPTIONS.INGEST key [NOHISTORY] symbol field value …`: upserts one contract (replies 1 when
/// new). `values` are number texts as received, so nothing is rounded on the way.
pub fn ingest<'a>(
    key: &str,
    kind: WriteKind,
    symbol: &str,
    values: impl IntoIterator<Item = (Field, &'a str)>,
) -> Cmd {
    let mut c = start("OPTIONS.INGEST", key);
    if kind == WriteKind::Rewrite {
        c.arg("NOHISTORY");
    }
    c.arg(symbol);
    for (f, v) in values {
        c.arg(f.name()).arg(v);
    }
    c
}

/// One trade for `OPTIONS.TRADE`, in the contract model's units (USD prices, fraction IVs).
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRecord {
    pub id: String,
    pub symbol: String,
    /// The taker's side: true for a buy.
    pub buy: bool,
    pub size: f64,
    pub price: f64,
    pub ts: i64,
    pub iv: Option<f64>,
    pub index: Option<f64>,
    pub block: bool,
    /// `M`, `T` or `MT` when a side was liquidated.
    pub liquidation: Option<String>,
}

/// `OPTIONS.TRADE key id symbol side size price ts [IV iv] [INDEX px] [BLOCK] [LIQUIDATION l]`:
/// records a trade on the chain's tape (replies 1, or 0 for an id the tape already holds).
pub fn trade(key: &str, t: &TradeRecord) -> Cmd {
    let n = options_core::format_number;
    let mut c = start("OPTIONS.TRADE", key);
    c.arg(&t.id)
        .arg(&t.symbol)
        .arg(if t.buy { "buy" } else { "sell" })
        .arg(n(t.size))
        .arg(n(t.price))
        .arg(t.ts);
    if let Some(iv) = t.iv {
        c.arg("IV").arg(n(iv));
    }
    if let Some(i) = t.index {
        c.arg("INDEX").arg(n(i));
    }
    if t.block {
        c.arg("BLOCK");
    }
    if let Some(l) = &t.liquidation {
        c.arg("LIQUIDATION").arg(l);
    }
    c
}

/// `OPTIONS.FLOW key [EXPIRY e …] [FROM ms] [TO ms] [BYSTRIKE] [BUCKET s] [MIN_NOTIONAL usd]
/// [NOW ms]`: the chain's option flow.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    pub key: String,
    pub expiries: Vec<Expiry>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub by_strike: bool,
    pub bucket_s: Option<i64>,
    pub min_notional: Option<f64>,
    pub now_ms: Option<i64>,
}

impl Flow {
    pub fn new(key: &str) -> Flow {
        Flow {
            key: key.to_string(),
            ..Flow::default()
        }
    }
}

impl Command for Flow {
    const NAME: &'static str = "OPTIONS.FLOW";
    type Reply = reply::Flow;
    fn to_cmd(&self) -> Cmd {
        let mut c = start(Self::NAME, &self.key);
        for e in &self.expiries {
            c.arg("EXPIRY").arg(e.code());
        }
        if let Some(f) = self.from_ms {
            c.arg("FROM").arg(f);
        }
        if let Some(t) = self.to_ms {
            c.arg("TO").arg(t);
        }
        if self.by_strike {
            c.arg("BYSTRIKE");
        }
        if let Some(b) = self.bucket_s {
            c.arg("BUCKET").arg(b);
        }
        if let Some(m) = self.min_notional {
            c.arg("MIN_NOTIONAL").arg(options_core::format_number(m));
        }
        if let Some(now) = self.now_ms {
            c.arg("NOW").arg(now);
        }
        json(c)
    }
}

/// `OPTIONS.DEL key symbol …`: removes contracts (replies how many were listed).
pub fn del<S: AsRef<str>>(key: &str, symbols: &[S]) -> Cmd {
    let mut c = start("OPTIONS.DEL", key);
    for s in symbols {
        c.arg(s.as_ref());
    }
    c
}

/// `OPTIONS.PURGE key`: drops the contracts that have expired.
pub fn purge(key: &str) -> Cmd {
    start("OPTIONS.PURGE", key)
}

/// The words of a command as text (binary arguments lossily), for messages and tests.
pub fn words(c: &Cmd) -> Vec<String> {
    c.args_iter()
        .map(|a| match a {
            redis::Arg::Simple(b) => String::from_utf8_lossy(b).into_owned(),
            redis::Arg::Cursor => "<cursor>".into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_writes_every_filter_in_the_module_grammar() {
        let q = Query {
            expiries: vec![Expiry::parse("3DEC26").unwrap()],
            kind: Some(OptionType::Put),
            strike_min: Some(90_000.0),
            strike_max: Some(100_500.5),
            settle: Some(Settle::Usdt),
            sort_by: Some(("volume_24h".into(), true)),
            limit: Some((10, 50)),
            ..Query::new("BTC")
        }
        .fields(&["symbol", "mark_iv"]);
        assert_eq!(
            words(&q.to_cmd()).join(" "),
            "OPTIONS.QUERY BTC EXPIRY 3DEC26 TYPE put STRIKE_MIN 90000 STRIKE_MAX 100500.5 \
             SETTLE USDT SORTBY volume_24h DESC LIMIT 10 50 FIELDS 2 symbol mark_iv FORMAT JSON"
        );
        assert!(words(&q.to_seed_cmd()).ends_with(&["FORMAT".into(), "SEED".into()]));
        assert_eq!(
            words(&Query::new("ETH").count_only().to_cmd()).join(" "),
            "OPTIONS.QUERY ETH LIMIT 0 0 FORMAT JSON"
        );
    }

    #[test]
    fn the_other_commands_name_their_key_first() {
        let e = Expiry::parse("26JUN26").unwrap();
        let cases: Vec<(Cmd, &str)> = vec![
            (
                Chain::new("SOL", e).fields(&["mark_iv"]).to_cmd(),
                "OPTIONS.CHAIN SOL 26JUN26 FIELDS 1 mark_iv FORMAT JSON",
            ),
            (
                Get::new("BTC", "BTC-26JUN26-100000-C").to_cmd(),
                "OPTIONS.GET BTC BTC-26JUN26-100000-C FORMAT JSON",
            ),
            (
                Changes::new("BTC", 42).to_cmd(),
                "OPTIONS.CHANGES BTC 42 FORMAT JSON",
            ),
            (ModuleStats.to_cmd(), "OPTIONS.STATS FORMAT JSON"),
            (
                Analytics {
                    by_strike: true,
                    expiries: vec![e],
                    ..Analytics::new("BTC")
                }
                .to_cmd(),
                "OPTIONS.ANALYTICS BTC EXPIRY 26JUN26 BYSTRIKE FORMAT JSON",
            ),
            (
                History {
                    tenor_days: Some(30),
                    from_ms: Some(5),
                    ..History::new("BTC", &["atm_iv", "rr25"])
                }
                .to_cmd(),
                "OPTIONS.HISTORY BTC METRIC atm_iv rr25 TENOR 30 FROM 5 FORMAT JSON",
            ),
            (
                ingest(
                    "BTC",
                    WriteKind::Live,
                    "BTC-26JUN26-100000-C",
                    [(Field::MarkIv, "0.5")],
                ),
                "OPTIONS.INGEST BTC BTC-26JUN26-100000-C mark_iv 0.5",
            ),
            (
                ingest(
                    "BTC",
                    WriteKind::Rewrite,
                    "BTC-26JUN26-100000-C",
                    [(Field::MarkIv, "0.5")],
                ),
                "OPTIONS.INGEST BTC NOHISTORY BTC-26JUN26-100000-C mark_iv 0.5",
            ),
            (del("BTC", &["A", "B"]), "OPTIONS.DEL BTC A B"),
        ];
        for (c, text) in cases {
            assert_eq!(words(&c).join(" "), text);
        }
    }

    #[test]
    fn a_reply_of_another_shape_is_an_error_naming_the_command() {
        let e = Expiries::decode(br#"{"expiries":[]}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("OPTIONS.EXPIRIES reply not understood"),
            "{e}"
        );
        assert_eq!(Expiries::decode(br#"["3DEC26"]"#).unwrap(), ["3DEC26"]);
    }
}
