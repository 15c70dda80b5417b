//! Bybit's REST market endpoints: instrument discovery (paginated, every settle coin) and ticker
//! snapshots, with retries that back off on rate limits and `retCode` errors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_core::bybit::{Envelope, OptionInstrument, Page};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::metrics::Metrics;
use crate::ticker::{parse_rest_ticker, TickerUpdate};

/// One listed contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub symbol: String,
    pub base: String,
    pub delivery_ms: i64,
    /// The `instruments-info` item as the exchange wrote it (for `--record`).
    pub raw: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("HTTP {0} from {1}")]
    Status(u16, String),
    #[error("Bybit error {code} from {url}: {msg}")]
    RetCode { code: i64, msg: String, url: String },
    #[error("request to {0} failed: {1}")]
    Transport(String, String),
    #[error("unexpected response from {0}: {1}")]
    Shape(String, String),
}

/// Bybit's option endpoints answer USDC-settled contracts unless asked for another settle
/// coin; asking for each and merging finds every contract however the default behaves.
const SETTLE_QUERIES: [Option<&str>; 3] = [None, Some("USDC"), Some("USDT")];
const ATTEMPTS: u32 = 5;

pub struct RestClient {
    http: reqwest::Client,
    base: String,
    metrics: Arc<Metrics>,
    /// `--record`: listings and snapshots are kept with the frames.
    recorder: Option<Arc<crate::recorder::Recorder>>,
}

impl RestClient {
    pub fn new(
        base: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
        recorder: Option<Arc<crate::recorder::Recorder>>,
    ) -> anyhow::Result<RestClient> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("options-feeder/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(RestClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            metrics,
            recorder,
        })
    }

    /// GET with retries: transport errors, HTTP 403/429/5xx and `retCode != 0` are retried with
    /// exponential backoff (0.5 s, 1 s, 2 s, …); the last error is returned. Answers the
    /// envelope's `result` and its `time` (the exchange's clock, ms).
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(T, i64), RestError> {
        let url = format!("{}{}", self.base, path);
        let mut delay = Duration::from_millis(500);
        let mut last = None;
        for attempt in 1..=ATTEMPTS {
            match self.get_once(&url, query).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.metrics.rest_errors.inc();
                    let retry = !matches!(e, RestError::Shape(..) | RestError::Status(400..=402 | 404..=428, _));
                    tracing::warn!(attempt, error = %e, "Bybit REST call failed");
                    last = Some(e);
                    if !retry || attempt == ATTEMPTS {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
        Err(last.unwrap_or_else(|| RestError::Transport(url, "no attempt made".into())))
    }

    async fn get_once<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<(T, i64), RestError> {
        let resp = self
            .http
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(|e| RestError::Transport(url.to_string(), e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(RestError::Status(status.as_u16(), url.to_string()));
        }
        let body: Envelope<T> = resp
            .json()
            .await
            .map_err(|e| RestError::Shape(url.to_string(), e.to_string()))?;
        match (body.ret_code, body.result) {
            (0, Some(result)) => Ok((result, body.time)),
            (0, None) => Err(RestError::Shape(url.to_string(), "no result".into())),
            (code, _) => Err(RestError::RetCode {
                code,
                msg: body.ret_msg,
                url: url.to_string(),
            }),
        }
    }

    /// Every contract of `base` in status Trading, over all settle coins and pages.
    pub async fn instruments(&self, base: &str) -> Result<Vec<Instrument>, RestError> {
        let mut found: BTreeMap<String, Instrument> = BTreeMap::new();
        for settle in SETTLE_QUERIES {
            let mut cursor = String::new();
            for _page in 0..1000 {
                let mut q = vec![
                    ("category", "option".to_string()),
                    ("baseCoin", base.to_string()),
                    ("limit", "1000".to_string()),
                ];
                if let Some(s) = settle {
                    q.push(("settleCoin", s.to_string()));
                }
                if !cursor.is_empty() {
                    q.push(("cursor", cursor.clone()));
                }
                // Items stay as written (for `--record`) and are read one by one: a malformed
                // item is skipped, not the page.
                let (page, _): (Page<Value>, _) =
                    self.get("/v5/market/instruments-info", &q).await?;
                for item in &page.list {
                    let Ok(info) = OptionInstrument::deserialize(item) else {
                        continue;
                    };
                    // Only contracts of this base (a wrong baseCoin answer must not leak in).
                    if !info.is_trading() || info.symbol.split('-').next() != Some(base) {
                        continue;
                    }
                    found.insert(
                        info.symbol.clone(),
                        Instrument {
                            symbol: info.symbol.clone(),
                            base: base.to_string(),
                            delivery_ms: info.delivery_ms().unwrap_or(0),
                            raw: item.clone(),
                        },
                    );
                }
                match page.next() {
                    Some(next) if !page.list.is_empty() => cursor = next.to_string(),
                    _ => break,
                }
            }
        }
        if let Some(r) = &self.recorder {
            r.instruments(base, found.values().map(|i| i.raw.clone()).collect());
        }
        Ok(found.into_values().collect())
    }

    /// Current tickers of `base`, every settle coin, each stamped with the exchange's time of
    /// the reply it came in (the envelope's `time`), so a chain follows one clock.
    pub async fn tickers(&self, base: &str) -> Result<Vec<TickerUpdate>, RestError> {
        let mut by_symbol: BTreeMap<String, TickerUpdate> = BTreeMap::new();
        let mut raw: BTreeMap<String, Value> = BTreeMap::new();
        for settle in SETTLE_QUERIES {
            let mut q = vec![
                ("category", "option".to_string()),
                ("baseCoin", base.to_string()),
            ];
            if let Some(s) = settle {
                q.push(("settleCoin", s.to_string()));
            }
            let (page, time_ms): (Page<Value>, _) = self.get("/v5/market/tickers", &q).await?;
            let now = Instant::now();
            for item in &page.list {
                match parse_rest_ticker(item, time_ms, now) {
                    Ok(t) if t.base() == base => {
                        if self.recorder.is_some() {
                            raw.insert(t.symbol.clone(), item.clone());
                        }
                        by_symbol.insert(t.symbol.clone(), t);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.metrics.messages_garbled.inc();
                        tracing::warn!(error = %e, "skipping a REST ticker");
                    }
                }
            }
        }
        if let Some(r) = &self.recorder {
            r.tickers(base, raw.into_values().collect());
        }
        Ok(by_symbol.into_values().collect())
    }
}
