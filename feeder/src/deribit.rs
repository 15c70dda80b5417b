//! Deribit, the second venue (../shared/VENUES.md): instruments from `public/get_instruments`,
//! a start snapshot from `get_book_summary_by_currency`, `ticker.{name}.100ms` over one
//! JSON-RPC WebSocket, written to `deribit:<UNDERLYING>` chains in the contract model's units.
//!
//! Wire types (`*Wire`) are Deribit's JSON; [`Listed::convert`] turns a ticker into the model:
//! prices in USD (an inverse option's coin premium × the ticker's `index_price`), IVs as
//! fractions (Deribit sends percent), sizes and open interest in coins (a linear option's
//! contracts × `contract_size`), greeks as Deribit gives them, `updated_ms` the frame's
//! `timestamp`. An empty book side (`null`) is written as a 0 price and size and no IV.
//!
//! The connection answers every `test_request` (a client that only pings looks alive and is
//! dead), subscribes at most [`CHUNK`] channels per message and compares what `result`
//! accepted with what it asked (refused channels are logged and asked again), follows
//! `instrument.state.option.*` (a settled or closed instrument leaves its chain at once, a
//! created one is subscribed), and backs off on 10028 (credits spent) instead of reconnecting
//! in a loop. A garbled message is counted and skipped; it never ends the connection or
//! writes a value.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use options_core::{format_number, parse_venue_symbol, Field, Venue};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::metrics::Metrics;
use crate::ticker::TickerUpdate;
use crate::writer::WriterMsg;

/// Channels per `public/subscribe`: Deribit documents 500, users hit "request entity too
/// large" well below it.
pub const CHUNK: usize = 250;
/// Deribit's credit pool, as documented: a subscribe costs 3,000 of 30,000, refilled at about
/// 10,000 a second (3 subscribes a second, a burst of 10); any other request 500. The feeder
/// keeps its own count and waits rather than spend below zero (which answers 10028 and ends the
/// session).
const CREDIT_POOL: f64 = 30_000.0;
const CREDIT_REFILL_PER_SEC: f64 = 10_000.0;
const SUBSCRIBE_COST: f64 = 3_000.0;
const REQUEST_COST: f64 = 500.0;
/// The least wait after a 10028: longer than the whole pool takes to refill.
const CREDIT_BACKOFF: Duration = Duration::from_secs(5);

/// The client's view of its credits.
struct Credits {
    left: f64,
    at: Instant,
}

impl Credits {
    fn new() -> Credits {
        Credits {
            left: CREDIT_POOL,
            at: Instant::now(),
        }
    }

    /// How long to wait before `cost` can be spent (zero when it can now); spends it.
    fn spend(&mut self, cost: f64) -> Duration {
        let now = Instant::now();
        self.left = (self.left + now.duration_since(self.at).as_secs_f64() * CREDIT_REFILL_PER_SEC)
            .min(CREDIT_POOL);
        self.at = now;
        // A margin of one request: the server's clock of our spending is not ours.
        let need = cost + REQUEST_COST;
        let wait = if self.left >= need {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((need - self.left) / CREDIT_REFILL_PER_SEC)
        };
        self.left -= cost;
        wait
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub rest_url: String,
    pub ws_url: String,
    pub heartbeat: Duration,
    pub reconnect_delay: Duration,
    pub max_reconnect_delay: Duration,
    pub refresh_interval: Duration,
    pub api_timeout: Duration,
}

// ---- wire types -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct RestEnvelope<T> {
    result: Option<T>,
    error: Option<RpcError>,
    #[serde(rename = "usOut")]
    us_out: Option<i64>,
}

/// One `get_instruments` item (the fields used).
#[derive(Debug, Clone, Deserialize)]
pub struct InstrumentWire {
    pub instrument_name: String,
    pub kind: String,
    pub strike: f64,
    pub expiration_timestamp: i64,
    pub base_currency: String,
    #[serde(default)]
    pub settlement_currency: Option<String>,
    #[serde(default)]
    pub contract_size: Option<f64>,
}

/// One `get_book_summary_by_currency` item: no greeks, no bid/ask IV.
#[derive(Debug, Clone, Deserialize)]
pub struct SummaryWire {
    pub instrument_name: String,
    pub bid_price: Option<f64>,
    pub ask_price: Option<f64>,
    pub mark_price: Option<f64>,
    pub mark_iv: Option<f64>,
    pub last: Option<f64>,
    pub open_interest: Option<f64>,
    pub volume: Option<f64>,
    pub volume_usd: Option<f64>,
    pub underlying_price: Option<f64>,
    pub estimated_delivery_price: Option<f64>,
    pub price_change: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GreeksWire {
    pub delta: Option<f64>,
    pub gamma: Option<f64>,
    pub vega: Option<f64>,
    pub theta: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatsWire {
    pub volume: Option<f64>,
    pub volume_usd: Option<f64>,
    pub high: Option<f64>,
    pub low: Option<f64>,
    pub price_change: Option<f64>,
}

/// `ticker.{name}.100ms` data (also `public/ticker`). Option tickers carry no perpetual fields.
#[derive(Debug, Clone, Deserialize)]
pub struct TickerWire {
    pub instrument_name: String,
    pub timestamp: i64,
    pub best_bid_price: Option<f64>,
    pub best_ask_price: Option<f64>,
    pub best_bid_amount: Option<f64>,
    pub best_ask_amount: Option<f64>,
    pub mark_price: Option<f64>,
    pub last_price: Option<f64>,
    pub index_price: Option<f64>,
    pub underlying_price: Option<f64>,
    pub bid_iv: Option<f64>,
    pub ask_iv: Option<f64>,
    pub mark_iv: Option<f64>,
    pub open_interest: Option<f64>,
    pub estimated_delivery_price: Option<f64>,
    #[serde(default)]
    pub greeks: Option<GreeksWire>,
    #[serde(default)]
    pub stats: Option<StatsWire>,
}

/// One item of `trades.option.{currency}.100ms`.
#[derive(Debug, Clone, Deserialize)]
pub struct TradeWire {
    pub trade_id: String,
    pub instrument_name: String,
    pub timestamp: i64,
    pub direction: String,
    pub price: f64,
    pub amount: f64,
    #[serde(default)]
    pub iv: Option<f64>,
    #[serde(default)]
    pub index_price: Option<f64>,
    #[serde(default)]
    pub block_trade_id: Option<String>,
    #[serde(default)]
    pub liquidation: Option<String>,
}

// ---- the model --------------------------------------------------------------------------

/// A listed Deribit option as the feeder keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub underlying: String,
    /// Premiums in the base coin (BTC, ETH), converted with the ticker's index price.
    pub inverse: bool,
    /// Coins per contract (`contract_size`; 1 for inverse options).
    pub multiplier: f64,
    pub expiry_ms: i64,
}

impl Listed {
    /// From an instrument, checking that the name Deribit shows agrees with the numeric strike
    /// and expiry it also sends (the numbers are the truth; a disagreeing name is refused).
    pub fn from_wire(w: &InstrumentWire) -> Result<Listed, String> {
        if w.kind != "option" {
            return Err(format!(
                "{} is a {}, not an option",
                w.instrument_name, w.kind
            ));
        }
        let symbol =
            parse_venue_symbol(Venue::Deribit, &w.instrument_name).map_err(|e| e.to_string())?;
        if (symbol.strike - w.strike).abs() > 1e-9 * w.strike.abs().max(1.0)
            || symbol.expiry.timestamp_ms() != w.expiration_timestamp
            || !symbol.base.eq_ignore_ascii_case(&w.base_currency)
        {
            return Err(format!(
                "{}: name disagrees with strike {} / expiry {} / base {}",
                w.instrument_name, w.strike, w.expiration_timestamp, w.base_currency
            ));
        }
        if let Some(sc) = &w.settlement_currency {
            if !sc.eq_ignore_ascii_case(symbol.settle.as_str()) {
                return Err(format!(
                    "{} settles in {sc}, its name says {}",
                    w.instrument_name,
                    symbol.settle.as_str()
                ));
            }
        }
        let inverse = symbol.settle.is_inverse();
        let multiplier = if inverse {
            1.0
        } else {
            w.contract_size
                .filter(|m| *m > 0.0 && m.is_finite())
                .unwrap_or(1.0)
        };
        Ok(Listed {
            name: symbol.canonical(),
            underlying: symbol.base,
            inverse,
            multiplier,
            expiry_ms: w.expiration_timestamp,
        })
    }

    pub fn key(&self) -> String {
        Venue::Deribit.key(&self.underlying)
    }

    /// A ticker in the model's units. `Err` when a value is not a finite number or an inverse
    /// premium has no index price to convert with: nothing of such a frame is written.
    pub fn convert(&self, t: &TickerWire, received: Instant) -> Result<TickerUpdate, String> {
        let index = t.index_price.filter(|p| *p > 0.0 && p.is_finite());
        let usd = self.usd_factor(index)?;
        let mut out = Fields::default();
        let (bid, ask) = (
            t.best_bid_price.filter(|p| *p > 0.0),
            t.best_ask_price.filter(|p| *p > 0.0),
        );
        out.put(Field::BidPrice, Some(bid.map_or(0.0, |p| p * usd)))?;
        out.put(Field::AskPrice, Some(ask.map_or(0.0, |p| p * usd)))?;
        out.put(
            Field::BidSize,
            Some(
                bid.and(t.best_bid_amount)
                    .map_or(0.0, |a| a * self.multiplier),
            ),
        )?;
        out.put(
            Field::AskSize,
            Some(
                ask.and(t.best_ask_amount)
                    .map_or(0.0, |a| a * self.multiplier),
            ),
        )?;
        // A bid IV of 0 means no bid: left out rather than written as a zero volatility.
        out.put(
            Field::BidIv,
            bid.and(t.bid_iv).filter(|v| *v > 0.0).map(|v| v / 100.0),
        )?;
        out.put(
            Field::AskIv,
            ask.and(t.ask_iv).filter(|v| *v > 0.0).map(|v| v / 100.0),
        )?;
        out.put(Field::MarkPrice, t.mark_price.map(|p| p * usd))?;
        out.put(Field::LastPrice, t.last_price.map(|p| p * usd))?;
        out.put(Field::MarkIv, t.mark_iv.map(|v| v / 100.0))?;
        out.put(Field::IndexPrice, index)?;
        out.put(Field::UnderlyingPrice, t.underlying_price)?;
        out.put(
            Field::OpenInterest,
            t.open_interest.map(|a| a * self.multiplier),
        )?;
        out.put(Field::PredictedDeliveryPrice, t.estimated_delivery_price)?;
        let g = t.greeks.clone().unwrap_or_default();
        out.put(Field::Delta, g.delta)?;
        out.put(Field::Gamma, g.gamma)?;
        out.put(Field::Vega, g.vega)?;
        out.put(Field::Theta, g.theta)?;
        let s = t.stats.clone().unwrap_or_default();
        out.put(Field::Volume24h, s.volume.map(|a| a * self.multiplier))?;
        out.put(Field::Turnover24h, s.volume_usd)?;
        out.put(Field::HighPrice24h, s.high.map(|p| p * usd))?;
        out.put(Field::LowPrice24h, s.low.map(|p| p * usd))?;
        out.put(Field::Change24h, s.price_change.map(|p| p / 100.0))?;
        Ok(TickerUpdate {
            venue: Venue::Deribit,
            symbol: self.name.clone(),
            fields: out.0,
            exchange_ts: Some(t.timestamp).filter(|ms| *ms > 0),
            received,
        })
    }

    /// A start-snapshot row, stamped with the reply's `usOut` (ms). Its index price is the
    /// summary's `estimated_delivery_price` (the summary has no `index_price`).
    pub fn convert_summary(
        &self,
        s: &SummaryWire,
        time_ms: i64,
        received: Instant,
    ) -> Result<TickerUpdate, String> {
        let index = s
            .estimated_delivery_price
            .filter(|p| *p > 0.0 && p.is_finite());
        let usd = self.usd_factor(index)?;
        let mut out = Fields::default();
        let (bid, ask) = (
            s.bid_price.filter(|p| *p > 0.0),
            s.ask_price.filter(|p| *p > 0.0),
        );
        out.put(Field::BidPrice, Some(bid.map_or(0.0, |p| p * usd)))?;
        out.put(Field::AskPrice, Some(ask.map_or(0.0, |p| p * usd)))?;
        out.put(Field::MarkPrice, s.mark_price.map(|p| p * usd))?;
        out.put(Field::LastPrice, s.last.map(|p| p * usd))?;
        out.put(Field::MarkIv, s.mark_iv.map(|v| v / 100.0))?;
        out.put(Field::IndexPrice, index)?;
        out.put(Field::UnderlyingPrice, s.underlying_price)?;
        out.put(
            Field::OpenInterest,
            s.open_interest.map(|a| a * self.multiplier),
        )?;
        out.put(Field::Volume24h, s.volume.map(|a| a * self.multiplier))?;
        out.put(Field::Turnover24h, s.volume_usd)?;
        out.put(Field::Change24h, s.price_change.map(|p| p / 100.0))?;
        Ok(TickerUpdate {
            venue: Venue::Deribit,
            symbol: self.name.clone(),
            fields: out.0,
            exchange_ts: Some(time_ms).filter(|ms| *ms > 0),
            received,
        })
    }

    /// A trade in the model's units: price in USD (× the trade's index price for an inverse
    /// option), size in coins, IV a fraction, a block when it has a `block_trade_id`.
    pub fn convert_trade(
        &self,
        t: &TradeWire,
        received: Instant,
    ) -> Result<crate::ticker::TradeUpdate, String> {
        let index = t.index_price.filter(|p| *p > 0.0 && p.is_finite());
        let usd = self.usd_factor(index)?;
        let buy = match t.direction.as_str() {
            "buy" => true,
            "sell" => false,
            other => return Err(format!("{}: direction '{other}'", t.trade_id)),
        };
        let (size, price) = (t.amount * self.multiplier, t.price * usd);
        if !(size > 0.0 && size.is_finite() && price >= 0.0 && price.is_finite())
            || t.timestamp <= 0
            || t.trade_id.is_empty()
        {
            return Err(format!(
                "{}: size, price, time or id out of range",
                t.trade_id
            ));
        }
        let liquidation = match t.liquidation.as_deref() {
            None | Some("") | Some("none") => None,
            Some(l @ ("M" | "T" | "MT")) => Some(l.to_string()),
            Some(other) => return Err(format!("{}: liquidation '{other}'", t.trade_id)),
        };
        Ok(crate::ticker::TradeUpdate {
            venue: Venue::Deribit,
            record: options_client::cmd::TradeRecord {
                id: t.trade_id.clone(),
                symbol: self.name.clone(),
                buy,
                size,
                price,
                ts: t.timestamp,
                iv: t
                    .iv
                    .filter(|v| *v > 0.0 && v.is_finite())
                    .map(|v| v / 100.0),
                index,
                block: t.block_trade_id.as_deref().is_some_and(|b| !b.is_empty()),
                liquidation,
            },
            received,
        })
    }

    fn usd_factor(&self, index: Option<f64>) -> Result<f64, String> {
        match (self.inverse, index) {
            (false, _) => Ok(1.0),
            (true, Some(i)) => Ok(i),
            (true, None) => Err(format!(
                "{}: no index price to convert coin premiums",
                self.name
            )),
        }
    }
}

#[derive(Default)]
struct Fields(Vec<(Field, crate::ticker::FieldText)>);

impl Fields {
    fn put(&mut self, f: Field, v: Option<f64>) -> Result<(), String> {
        match v {
            None => Ok(()),
            Some(x) if x.is_finite() => {
                self.0
                    .push((f, crate::ticker::FieldText::new(format_number(x))));
                Ok(())
            }
            Some(x) => Err(format!("{} is {x}", f.name())),
        }
    }
}

/// The currency `get_instruments` lists `base`'s options under.
pub fn currency_of(base: &str) -> &'static str {
    match base {
        "BTC" => "BTC",
        "ETH" => "ETH",
        _ => "USDC",
    }
}

// ---- REST -------------------------------------------------------------------------------

struct Rest {
    http: reqwest::Client,
    base: String,
}

impl Rest {
    /// `GET public/<method>`: the `result` and the envelope's `usOut` in ms.
    async fn get<T: DeserializeOwned>(
        &self,
        method: &str,
        query: &[(&str, &str)],
    ) -> Result<(T, i64), String> {
        let url = format!("{}/public/{method}", self.base);
        let resp = self
            .http
            .get(&url)
            .query(query)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status();
        let body: RestEnvelope<T> = resp
            .json()
            .await
            .map_err(|e| format!("{url}: HTTP {status}, not a Deribit reply: {e}"))?;
        match (body.result, body.error) {
            (Some(r), _) => Ok((r, body.us_out.unwrap_or(0) / 1000)),
            (None, Some(e)) => Err(format!("{url}: error {} {}", e.code, e.message)),
            (None, None) => Err(format!("{url}: HTTP {status} without result")),
        }
    }
}

// ---- the connector ----------------------------------------------------------------------

/// What the connector knows: the instruments of the tracked assets.
struct State {
    listed: HashMap<String, Listed>,
    /// Assets said once to have no Deribit options.
    unlisted_said: BTreeSet<String>,
}

/// Runs the venue until the process ends: `assets` is the tracked list (`config:assets`).
pub async fn run(
    settings: Settings,
    mut assets: watch::Receiver<Vec<String>>,
    writer: mpsc::UnboundedSender<WriterMsg>,
    metrics: Arc<Metrics>,
) {
    let rest = match reqwest::Client::builder()
        .timeout(settings.api_timeout)
        .user_agent(concat!("options-feeder/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => Rest {
            http,
            base: settings.rest_url.trim_end_matches('/').to_string(),
        },
        Err(e) => {
            tracing::error!(error = %e, "deribit: no HTTP client; the venue stays off");
            return;
        }
    };
    let mut state = State {
        listed: HashMap::new(),
        unlisted_said: BTreeSet::new(),
    };
    let mut delay = settings.reconnect_delay;
    let mut snapshot_done = false;
    loop {
        let wanted = assets.borrow_and_update().clone();
        if let Err(e) = refresh(&rest, &mut state, &wanted, &writer, &metrics).await {
            tracing::warn!(error = %e, "deribit: instruments unavailable; retrying");
            metrics
                .venue_rest_errors
                .with_label_values(&["deribit"])
                .inc();
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(settings.max_reconnect_delay);
            continue;
        }
        if !snapshot_done {
            match snapshot(&rest, &state, &wanted, &writer).await {
                Ok(n) => {
                    snapshot_done = true;
                    tracing::info!(contracts = n, "deribit: start snapshot queued");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "deribit: snapshot failed; streaming without it");
                    metrics
                        .venue_rest_errors
                        .with_label_values(&["deribit"])
                        .inc();
                }
            }
        }
        let started = Instant::now();
        let outcome = stream(&settings, &rest, &mut state, &mut assets, &writer, &metrics).await;
        metrics
            .venue_connected
            .with_label_values(&["deribit"])
            .set(0);
        metrics
            .venue_reconnects
            .with_label_values(&["deribit"])
            .inc();
        if started.elapsed() > Duration::from_secs(30) {
            delay = settings.reconnect_delay;
        }
        let wait = match outcome {
            Ended::CreditsSpent => {
                // The pool refills in 3 s; a reconnect before that would spend it again.
                let wait = CREDIT_BACKOFF.max(delay);
                tracing::warn!(
                    wait_s = wait.as_secs_f64(),
                    "deribit: credits spent (10028); backing off before reconnecting"
                );
                wait
            }
            Ended::Closed(why) => {
                tracing::warn!(reason = %why, "deribit: connection ended; reconnecting");
                delay
            }
        };
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(settings.max_reconnect_delay);
    }
}

/// Re-reads the instruments of the tracked assets; contracts no longer listed leave their
/// chains. Returns the names newly listed.
async fn refresh(
    rest: &Rest,
    state: &mut State,
    wanted: &[String],
    writer: &mpsc::UnboundedSender<WriterMsg>,
    metrics: &Metrics,
) -> Result<Vec<String>, String> {
    let wanted_set: BTreeSet<String> = wanted.iter().map(|a| a.to_ascii_uppercase()).collect();
    let currencies: BTreeSet<&str> = wanted_set.iter().map(|a| currency_of(a)).collect();
    let mut fresh: HashMap<String, Listed> = HashMap::new();
    for cur in currencies {
        let (list, _): (Vec<InstrumentWire>, i64) = rest
            .get(
                "get_instruments",
                &[("currency", cur), ("kind", "option"), ("expired", "false")],
            )
            .await?;
        for w in &list {
            if !wanted_set.contains(&w.base_currency.to_ascii_uppercase()) {
                continue;
            }
            match Listed::from_wire(w) {
                Ok(l) => {
                    fresh.insert(l.name.clone(), l);
                }
                Err(e) => {
                    metrics.venue_garbled.with_label_values(&["deribit"]).inc();
                    tracing::warn!(error = %e, "deribit: skipping an instrument");
                }
            }
        }
    }
    for a in &wanted_set {
        let listed = fresh.values().any(|l| &l.underlying == a);
        if !listed && state.unlisted_said.insert(a.clone()) {
            tracing::info!(asset = %a, "deribit lists no options for this asset; skipped on this venue");
        } else if listed {
            state.unlisted_said.remove(a);
        }
    }
    metrics
        .venue_unlisted_assets
        .with_label_values(&["deribit"])
        .set(state.unlisted_said.len() as i64);
    *metrics
        .deribit_unlisted
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = state.unlisted_said.iter().cloned().collect();
    let mut gone: HashMap<String, Vec<String>> = HashMap::new();
    for (name, l) in &state.listed {
        if !fresh.contains_key(name) {
            gone.entry(l.key()).or_default().push(name.clone());
        }
    }
    for (base, symbols) in gone {
        let _ = writer.send(WriterMsg::Delete { base, symbols });
    }
    let added: Vec<String> = fresh
        .keys()
        .filter(|n| !state.listed.contains_key(*n))
        .cloned()
        .collect();
    state.listed = fresh;
    metrics
        .venue_contracts
        .with_label_values(&["deribit"])
        .set(state.listed.len() as i64);
    Ok(added)
}

/// The start snapshot: every listed option's book summary, written `NOHISTORY`.
async fn snapshot(
    rest: &Rest,
    state: &State,
    wanted: &[String],
    writer: &mpsc::UnboundedSender<WriterMsg>,
) -> Result<usize, String> {
    let currencies: BTreeSet<&str> = wanted
        .iter()
        .map(|a| currency_of(&a.to_ascii_uppercase()))
        .collect();
    let mut n = 0;
    for cur in currencies {
        let (list, time_ms): (Vec<SummaryWire>, i64) = rest
            .get(
                "get_book_summary_by_currency",
                &[("currency", cur), ("kind", "option")],
            )
            .await?;
        let now = Instant::now();
        for s in &list {
            let Some(l) = state.listed.get(&s.instrument_name) else {
                continue;
            };
            match l.convert_summary(s, time_ms, now) {
                Ok(u) => {
                    let _ = writer.send(WriterMsg::Snapshot(u));
                    n += 1;
                }
                Err(e) => tracing::warn!(error = %e, "deribit: skipping a summary row"),
            }
        }
    }
    Ok(n)
}

enum Ended {
    Closed(String),
    CreditsSpent,
}

/// One WebSocket session: heartbeat, subscriptions, notifications, until it ends.
async fn stream(
    settings: &Settings,
    rest: &Rest,
    state: &mut State,
    assets: &mut watch::Receiver<Vec<String>>,
    writer: &mpsc::UnboundedSender<WriterMsg>,
    metrics: &Metrics,
) -> Ended {
    let (ws, _) = match tokio::time::timeout(
        settings.api_timeout,
        tokio_tungstenite::connect_async(settings.ws_url.as_str()),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Ended::Closed(format!("connect: {e}")),
        Err(_) => return Ended::Closed("connect timed out".into()),
    };
    let (mut sink, mut source) = ws.split();
    let mut next_id: u64 = 1;
    // Request id → the channels it asked for.
    let mut asked: HashMap<u64, Vec<String>> = HashMap::new();
    let mut subscribed: HashSet<String> = HashSet::new();
    let mut refused: BTreeSet<String> = BTreeSet::new();
    let request = |method: &str, params: Value, next_id: &mut u64| {
        let id = *next_id;
        *next_id += 1;
        (
            id,
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        )
    };
    let mut credits = Credits::new();
    credits.spend(REQUEST_COST);
    let heartbeat_secs = settings.heartbeat.as_secs().max(10);
    let (_, hb) = request(
        "public/set_heartbeat",
        json!({"interval": heartbeat_secs}),
        &mut next_id,
    );
    if sink.send(Message::text(hb)).await.is_err() {
        return Ended::Closed("send failed".into());
    }
    let wanted_channels = |state: &State| -> Vec<String> {
        let mut chans: Vec<String> = state
            .listed
            .keys()
            .map(|n| format!("ticker.{n}.100ms"))
            .collect();
        let currencies: BTreeSet<&str> = state
            .listed
            .values()
            .map(|l| currency_of(&l.underlying))
            .collect();
        chans.extend(
            currencies
                .iter()
                .map(|c| format!("instrument.state.option.{}", c.to_ascii_lowercase())),
        );
        chans.extend(
            currencies
                .iter()
                .map(|c| format!("trades.option.{c}.100ms")),
        );
        chans.sort();
        chans
    };
    let mut to_ask: Vec<String> = wanted_channels(state);
    let mut retry = tokio::time::interval(Duration::from_secs(5));
    let mut refresh_tick =
        tokio::time::interval(settings.refresh_interval.max(Duration::from_secs(1)));
    refresh_tick.tick().await;
    // Silence for two heartbeat periods means a dead connection.
    let silence = Duration::from_secs(heartbeat_secs * 2 + 5);
    let mut last_frame = Instant::now();
    loop {
        // Ask for what is missing, a chunk per message.
        while !to_ask.is_empty() {
            let wait = credits.spend(SUBSCRIBE_COST);
            if !wait.is_zero() {
                // Answer heartbeats while waiting: read what comes meanwhile.
                tokio::time::sleep(wait).await;
            }
            let chunk: Vec<String> = to_ask.drain(..to_ask.len().min(CHUNK)).collect();
            let (id, text) = request("public/subscribe", json!({"channels": chunk}), &mut next_id);
            asked.insert(id, chunk);
            if sink.send(Message::text(text)).await.is_err() {
                return Ended::Closed("send failed".into());
            }
        }
        let msg = tokio::select! {
            m = source.next() => m,
            _ = retry.tick() => {
                if last_frame.elapsed() > silence {
                    return Ended::Closed(format!("no frame for {silence:?}"));
                }
                if !refused.is_empty() {
                    tracing::info!(channels = refused.len(), "deribit: asking again for refused channels");
                    to_ask.extend(std::mem::take(&mut refused));
                }
                continue;
            }
            _ = refresh_tick.tick() => {
                refresh_and_ask(rest, state, assets, writer, metrics, &subscribed, &mut to_ask).await;
                continue;
            }
            changed = assets.changed() => {
                if changed.is_err() {
                    return Ended::Closed("shutting down".into());
                }
                refresh_and_ask(rest, state, assets, writer, metrics, &subscribed, &mut to_ask).await;
                continue;
            }
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(p))) => {
                let _ = sink.send(Message::Pong(p)).await;
                continue;
            }
            Some(Ok(Message::Close(_))) | None => return Ended::Closed("closed by Deribit".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Ended::Closed(format!("read: {e}")),
        };
        last_frame = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            metrics.venue_garbled.with_label_values(&["deribit"]).inc();
            tracing::warn!(frame = %truncate(text.as_str()), "deribit: garbled frame skipped");
            continue;
        };
        match v["method"].as_str() {
            Some("heartbeat") => {
                if v["params"]["type"] == "test_request" {
                    credits.spend(REQUEST_COST);
                    let (_, t) = request("public/test", json!({}), &mut next_id);
                    if sink.send(Message::text(t)).await.is_err() {
                        return Ended::Closed("send failed".into());
                    }
                }
            }
            Some("subscription") => {
                let channel = v["params"]["channel"].as_str().unwrap_or("");
                let data = &v["params"]["data"];
                if channel.starts_with("ticker.") {
                    on_ticker(state, data, writer, metrics);
                } else if channel.starts_with("trades.") {
                    on_trades(state, data, writer, metrics);
                } else if channel.starts_with("instrument.state.") {
                    on_state(
                        rest,
                        state,
                        data,
                        assets,
                        writer,
                        metrics,
                        &subscribed,
                        &mut to_ask,
                    )
                    .await;
                } else {
                    metrics.venue_garbled.with_label_values(&["deribit"]).inc();
                }
            }
            _ => {
                let id = v["id"].as_u64();
                if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                    let code = err["code"].as_i64().unwrap_or(0);
                    let message = err["message"].as_str().unwrap_or("");
                    if code == 10_028 {
                        return Ended::CreditsSpent;
                    }
                    tracing::warn!(code, message, "deribit: request refused");
                    if let Some(chans) = id.and_then(|i| asked.remove(&i)) {
                        refused.extend(chans);
                    }
                    continue;
                }
                if let Some(chans) = id.and_then(|i| asked.remove(&i)) {
                    let accepted: HashSet<String> = v["result"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    let missing: Vec<String> = chans
                        .iter()
                        .filter(|c| !accepted.contains(*c))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        tracing::warn!(refused = missing.len(), first = %missing[0], "deribit: channels not accepted; will ask again");
                        refused.extend(missing);
                    }
                    subscribed.extend(accepted);
                    metrics
                        .venue_connected
                        .with_label_values(&["deribit"])
                        .set(1);
                    metrics
                        .venue_channels
                        .with_label_values(&["deribit"])
                        .set(subscribed.len() as i64);
                    metrics
                        .venue_refused_channels
                        .with_label_values(&["deribit"])
                        .set(refused.len() as i64);
                }
            }
        }
    }
}

async fn refresh_and_ask(
    rest: &Rest,
    state: &mut State,
    assets: &mut watch::Receiver<Vec<String>>,
    writer: &mpsc::UnboundedSender<WriterMsg>,
    metrics: &Metrics,
    subscribed: &HashSet<String>,
    to_ask: &mut Vec<String>,
) {
    let wanted = assets.borrow_and_update().clone();
    match refresh(rest, state, &wanted, writer, metrics).await {
        Ok(added) => {
            for n in added {
                let ch = format!("ticker.{n}.100ms");
                if !subscribed.contains(&ch) {
                    to_ask.push(ch);
                }
            }
            let currencies: BTreeSet<&str> = state
                .listed
                .values()
                .map(|l| currency_of(&l.underlying))
                .collect();
            for c in currencies {
                for ch in [
                    format!("instrument.state.option.{}", c.to_ascii_lowercase()),
                    format!("trades.option.{c}.100ms"),
                ] {
                    if !subscribed.contains(&ch) && !to_ask.contains(&ch) {
                        to_ask.push(ch);
                    }
                }
            }
        }
        Err(e) => {
            metrics
                .venue_rest_errors
                .with_label_values(&["deribit"])
                .inc();
            tracing::warn!(error = %e, "deribit: instrument refresh failed; keeping the current list");
        }
    }
}

fn on_ticker(
    state: &State,
    data: &Value,
    writer: &mpsc::UnboundedSender<WriterMsg>,
    metrics: &Metrics,
) {
    let received = Instant::now();
    let t: TickerWire = match TickerWire::deserialize(data) {
        Ok(t) => t,
        Err(e) => {
            metrics.venue_garbled.with_label_values(&["deribit"]).inc();
            tracing::warn!(error = %e, "deribit: garbled ticker skipped");
            return;
        }
    };
    // Tickers of instruments not tracked (or just settled) are not written.
    let Some(l) = state.listed.get(&t.instrument_name) else {
        return;
    };
    match l.convert(&t, received) {
        Ok(u) => {
            metrics.venue_received.with_label_values(&["deribit"]).inc();
            metrics
                .last_message_ms
                .store(crate::now_ms(), std::sync::atomic::Ordering::Relaxed);
            let _ = writer.send(WriterMsg::Update(u));
        }
        Err(e) => {
            metrics.venue_garbled.with_label_values(&["deribit"]).inc();
            tracing::warn!(error = %e, "deribit: ticker skipped");
        }
    }
}

fn on_trades(
    state: &State,
    data: &Value,
    writer: &mpsc::UnboundedSender<WriterMsg>,
    metrics: &Metrics,
) {
    let received = Instant::now();
    let items: Vec<TradeWire> = match Vec::<TradeWire>::deserialize(data) {
        Ok(v) => v,
        Err(e) => {
            metrics.venue_garbled.with_label_values(&["deribit"]).inc();
            tracing::warn!(error = %e, "deribit: garbled trades skipped");
            return;
        }
    };
    for t in &items {
        // Trades of instruments not tracked are not written.
        let Some(l) = state.listed.get(&t.instrument_name) else {
            continue;
        };
        match l.convert_trade(t, received) {
            Ok(u) => {
                metrics.trades_received.inc();
                let _ = writer.send(WriterMsg::Trade(u));
            }
            Err(e) => {
                metrics.venue_garbled.with_label_values(&["deribit"]).inc();
                tracing::warn!(error = %e, "deribit: trade skipped");
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn on_state(
    rest: &Rest,
    state: &mut State,
    data: &Value,
    assets: &mut watch::Receiver<Vec<String>>,
    writer: &mpsc::UnboundedSender<WriterMsg>,
    metrics: &Metrics,
    subscribed: &HashSet<String>,
    to_ask: &mut Vec<String>,
) {
    let name = data["instrument_name"].as_str().unwrap_or("");
    match data["state"].as_str().unwrap_or("") {
        "settled" | "closed" | "terminated" | "deactivated" => {
            if let Some(l) = state.listed.remove(name) {
                tracing::info!(
                    instrument = name,
                    "deribit: instrument ended; removed from its chain"
                );
                let _ = writer.send(WriterMsg::Delete {
                    base: l.key(),
                    symbols: vec![l.name],
                });
            }
        }
        "created" | "started" => {
            refresh_and_ask(rest, state, assets, writer, metrics, subscribed, to_ask).await;
        }
        _ => {}
    }
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(200);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real capture (../shared/VENUES.md): BTC-12MAR25-65000-C, 2025-03-11.
    const CAPTURE: &str = r#"{"timestamp":1741731610450,"state":"open","stats":{"high":null,"low":null,"price_change":null,"volume":0,"volume_usd":0},"greeks":{"delta":1,"gamma":0,"vega":0.0002,"theta":-0.01591,"rho":0.71727},"index_price":83149.94,"instrument_name":"BTC-12MAR25-65000-C","last_price":null,"settlement_price":0.19159773,"min_price":0.19,"max_price":0.245,"open_interest":0,"mark_price":0.2182,"interest_rate":0,"best_ask_price":0.2455,"best_bid_price":0.1905,"mark_iv":159.47,"bid_iv":0,"ask_iv":863.38,"underlying_price":83140.6237,"underlying_index":"SYN.BTC-12MAR25","estimated_delivery_price":83149.94,"best_ask_amount":6.9,"best_bid_amount":6.9}"#;

    fn btc() -> Listed {
        Listed::from_wire(&InstrumentWire {
            instrument_name: "BTC-12MAR25-65000-C".into(),
            kind: "option".into(),
            strike: 65000.0,
            expiration_timestamp: 1_741_766_400_000,
            base_currency: "BTC".into(),
            settlement_currency: Some("BTC".into()),
            contract_size: Some(1.0),
        })
        .unwrap()
    }

    fn field(u: &TickerUpdate, f: Field) -> Option<f64> {
        u.fields
            .iter()
            .find(|(g, _)| *g == f)
            .map(|(_, v)| v.parse().unwrap())
    }

    #[test]
    fn the_captured_ticker_converts_to_usd_and_fractions() {
        let t: TickerWire = serde_json::from_str(CAPTURE).unwrap();
        let u = btc().convert(&t, Instant::now()).unwrap();
        assert_eq!(u.symbol, "BTC-12MAR25-65000-C");
        assert_eq!(u.base(), "deribit:BTC");
        assert_eq!(u.exchange_ts, Some(1_741_731_610_450));
        let close = |f: Field, want: f64| {
            let got = field(&u, f).unwrap_or_else(|| panic!("{f:?} missing"));
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{f:?}: {got} vs {want}"
            );
        };
        close(Field::BidPrice, 0.1905 * 83149.94);
        close(Field::AskPrice, 0.2455 * 83149.94);
        close(Field::MarkPrice, 0.2182 * 83149.94);
        close(Field::MarkIv, 1.5947);
        close(Field::AskIv, 8.6338);
        close(Field::BidSize, 6.9);
        close(Field::IndexPrice, 83149.94);
        close(Field::UnderlyingPrice, 83140.6237);
        close(Field::Delta, 1.0);
        close(Field::Theta, -0.01591);
        // bid_iv 0 beside a bid: no IV, not a zero volatility; no last price: not written.
        assert_eq!(field(&u, Field::BidIv), None);
        assert_eq!(field(&u, Field::LastPrice), None);
        assert_eq!(field(&u, Field::HighPrice24h), None);
    }

    #[test]
    fn credits_pace_subscriptions_after_the_burst() {
        let mut c = Credits::new();
        // The heartbeat request, then nine subscribes go at once; the tenth waits until the
        // pool holds its 3,000 and a request's margin: (3,500 − 2,500) / 10,000 per s.
        assert!(c.spend(REQUEST_COST).is_zero());
        for _ in 0..9 {
            assert!(c.spend(SUBSCRIBE_COST).is_zero());
        }
        let wait = c.spend(SUBSCRIBE_COST);
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // Spent into debt: the next waits for the whole subscribe.
        let next = c.spend(SUBSCRIBE_COST);
        assert!(next > Duration::from_millis(350), "{next:?}");
    }

    #[test]
    fn empty_sides_linear_multipliers_and_bad_frames() {
        let xrp = Listed::from_wire(&InstrumentWire {
            instrument_name: "XRP_USDC-24JAN27-0d625-P".into(),
            kind: "option".into(),
            strike: 0.625,
            expiration_timestamp: 1_800_777_600_000,
            base_currency: "XRP".into(),
            settlement_currency: Some("USDC".into()),
            contract_size: Some(1000.0),
        })
        .unwrap();
        assert_eq!(xrp.key(), "deribit:XRP");
        let t: TickerWire = serde_json::from_str(r#"{"instrument_name":"XRP_USDC-24JAN27-0d625-P","timestamp":5,"best_bid_price":null,"best_ask_price":0.012,"best_bid_amount":0,"best_ask_amount":3,"mark_price":0.011,"index_price":2.3,"bid_iv":0,"ask_iv":88.5,"mark_iv":85.0,"open_interest":12,"stats":{"volume":2,"volume_usd":40,"price_change":-5}}"#).unwrap();
        let u = xrp.convert(&t, Instant::now()).unwrap();
        assert_eq!(field(&u, Field::BidPrice), Some(0.0));
        assert_eq!(field(&u, Field::BidSize), Some(0.0));
        assert_eq!(field(&u, Field::BidIv), None);
        assert_eq!(field(&u, Field::AskPrice), Some(0.012));
        assert_eq!(field(&u, Field::AskSize), Some(3000.0));
        assert_eq!(field(&u, Field::OpenInterest), Some(12_000.0));
        assert_eq!(field(&u, Field::Volume24h), Some(2000.0));
        assert_eq!(field(&u, Field::Change24h), Some(-0.05));
        // An inverse ticker without an index price cannot be converted: nothing is written.
        let mut no_index: TickerWire = serde_json::from_str(CAPTURE).unwrap();
        no_index.index_price = None;
        assert!(btc().convert(&no_index, Instant::now()).is_err());
        // A name that disagrees with the numbers is refused.
        let mut w = InstrumentWire {
            instrument_name: "BTC-12MAR25-65000-C".into(),
            kind: "option".into(),
            strike: 66000.0,
            expiration_timestamp: 1_741_766_400_000,
            base_currency: "BTC".into(),
            settlement_currency: None,
            contract_size: None,
        };
        assert!(Listed::from_wire(&w).is_err());
        w.strike = 65000.0;
        w.kind = "future".into();
        assert!(Listed::from_wire(&w).is_err());
        // Perpetual fields are not expected; a ticker without greeks or stats still converts.
        let bare: TickerWire = serde_json::from_str(r#"{"instrument_name":"BTC-12MAR25-65000-C","timestamp":1,"index_price":80000,"best_bid_price":0.1,"best_ask_price":0.2}"#).unwrap();
        assert!(btc().convert(&bare, Instant::now()).is_ok());
    }
}
