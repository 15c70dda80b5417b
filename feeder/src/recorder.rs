//! `--record DIR`: every ticker and trade frame received from Bybit, with its exchange timestamp and the
//! local receive time, and every instrument listing used, appended to hour files
//! (`options_core::recording`) that `bybit-sim --replay DIR` plays back.
//!
//! Recording can never stall streaming: frames go through a bounded queue to a thread of its
//! own; when the queue is full (a slow or failing disk) frames are dropped and counted
//! (`feeder_record_dropped_total`), and a failing disk raises `feeder_record_ok` to 0, which
//! the system watch announces.

use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use options_core::recording::{Entry, Writer};
use serde_json::Value;

use crate::metrics::Metrics;

/// Frames held for the disk at most; about 10 s of a busy feed.
const QUEUE: usize = 65_536;

pub struct Recorder {
    tx: SyncSender<Entry>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    /// Opens `dir` (created if missing) and starts the writing thread.
    pub fn start(dir: &std::path::Path, metrics: Arc<Metrics>) -> anyhow::Result<Arc<Recorder>> {
        let mut writer = Writer::new(dir)
            .map_err(|e| anyhow::anyhow!("cannot record to {}: {e}", dir.display()))?;
        let (tx, rx) = sync_channel::<Entry>(QUEUE);
        let m = metrics.clone();
        let shown = dir.display().to_string();
        m.record_ok.set(1);
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let mut flushed = Instant::now();
                let mut logged = Instant::now() - Duration::from_secs(60);
                loop {
                    let result = match rx.recv_timeout(Duration::from_secs(1)) {
                        Ok(e) => writer.append(&e).map(|_| true),
                        Err(RecvTimeoutError::Timeout) => Ok(false),
                        Err(RecvTimeoutError::Disconnected) => break,
                    };
                    // A crash loses at most the last second.
                    let result = result.and_then(|wrote| {
                        if flushed.elapsed() >= Duration::from_secs(1) {
                            flushed = Instant::now();
                            writer.flush()?;
                        }
                        Ok(wrote)
                    });
                    match result {
                        Ok(true) => {
                            m.record_frames.inc();
                            m.record_ok.set(1);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            m.record_errors.inc();
                            m.record_ok.set(0);
                            if logged.elapsed() > Duration::from_secs(10) {
                                logged = Instant::now();
                                tracing::error!(dir = %shown, error = %e, "recording failed (logged once per 10 s)");
                            }
                        }
                    }
                }
                if let Err(e) = writer.finish() {
                    tracing::error!(error = %e, "could not close the recording");
                }
            })?;
        Ok(Arc::new(Recorder { tx, metrics }))
    }

    fn put(&self, e: Entry) {
        match self.tx.try_send(e) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.metrics.record_dropped.inc()
            }
        }
    }

    /// A ticker frame as received.
    pub fn frame(&self, text: &str, exchange_ts: Option<i64>) {
        self.put(Entry::Frame {
            recv_ms: crate::now_ms(),
            ts: exchange_ts,
            text: text.to_string(),
        });
    }

    /// The instrument listing of `base` the feeder subscribed from.
    pub fn instruments(&self, base: &str, items: Vec<Value>) {
        self.put(Entry::Instruments {
            recv_ms: crate::now_ms(),
            base: base.to_string(),
            items,
        });
    }
}

impl Recorder {
    /// A REST ticker snapshot of `base`.
    pub fn tickers(&self, base: &str, items: Vec<Value>) {
        self.put(Entry::Tickers {
            recv_ms: crate::now_ms(),
            base: base.to_string(),
            items,
        });
    }
}
