//! The settings documents the processes share through Redis (`config:assets`, `config:alerts`),
//! kept so that they survive a Redis that restarted empty.
//!
//! Every process that reads or writes a document keeps the last copy it saw and that copy's
//! version, a counter in a key of its own beside the document (`{config:assets}:version`: the
//! hash tag puts it in the document's Cluster slot; the document keeps the seed's key and shape).
//! Every write bumps the version. A reader that finds the document missing, or stored at an
//! older version than its own copy, writes its copy back; so after an empty restart the newest
//! copy any process holds wins, and nobody seeds defaults over a document it has seen.

use std::sync::Mutex;

use options_core::assets::{self, AssetConfig};
use redis::Value;

use crate::error::{ClientError, ClientResult};
use crate::Redis;

pub struct SharedDoc {
    key: &'static str,
    version_key: String,
    /// The last copy seen (read or written) and its version.
    last: Mutex<Option<(String, u64)>>,
}

impl SharedDoc {
    pub fn new(key: &'static str) -> SharedDoc {
        SharedDoc {
            key,
            version_key: format!("{{{key}}}:version"),
            last: Mutex::new(None),
        }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The document: Redis's copy, or this process's when Redis has none or an older one (then
    /// written back). `None` when neither has one.
    pub async fn read(&self, redis: &Redis) -> ClientResult<Option<String>> {
        let (stored, version) = self.stored(redis).await?;
        let mine = self.last.lock().map(|l| l.clone()).unwrap_or(None);
        let restore = match (&stored, &mine) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(_), Some((_, v))) => version < *v,
        };
        if restore {
            if let Some((doc, v)) = mine {
                tracing::warn!(
                    key = self.key,
                    version = v,
                    "restoring the last copy seen: Redis has {}",
                    if stored.is_none() {
                        "none".to_string()
                    } else {
                        format!("an older one (version {version})")
                    }
                );
                self.put(redis, &doc, v).await?;
                return Ok(Some(doc));
            }
        }
        if let Some(doc) = &stored {
            self.remember(doc, version);
        }
        Ok(stored)
    }

    /// The document, or `default` written when neither Redis nor this process has one (`NX`:
    /// another process's seed or copy wins).
    pub async fn read_or_seed(&self, redis: &Redis, default: &str) -> ClientResult<String> {
        if let Some(doc) = self.read(redis).await? {
            return Ok(doc);
        }
        let mut set = redis::cmd("SET");
        set.arg(self.key).arg(default).arg("NX");
        redis.query::<Value>(&set).await?;
        Ok(self
            .read(redis)
            .await?
            .unwrap_or_else(|| default.to_string()))
    }

    /// Writes a new version of the document.
    pub async fn write(&self, redis: &Redis, doc: &str) -> ClientResult<()> {
        let mut incr = redis::cmd("INCR");
        incr.arg(&self.version_key);
        let version: u64 = redis.query(&incr).await?;
        let mut set = redis::cmd("SET");
        set.arg(self.key).arg(doc);
        redis.query::<Value>(&set).await?;
        self.remember(doc, version);
        Ok(())
    }

    /// Writes `doc` back at `version` (a restore: the version is not bumped).
    async fn put(&self, redis: &Redis, doc: &str, version: u64) -> ClientResult<()> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(self.key).arg(doc);
        pipe.cmd("SET").arg(&self.version_key).arg(version);
        for reply in redis.pipeline(&pipe, 2).await? {
            if let Value::ServerError(e) = reply {
                return Err(ClientError::Refused(e.into()));
            }
        }
        Ok(())
    }

    /// The stored document and its version (0 when it has none: written by an older process,
    /// or by hand).
    async fn stored(&self, redis: &Redis) -> ClientResult<(Option<String>, u64)> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(self.key);
        pipe.cmd("GET").arg(&self.version_key);
        let replies = redis.pipeline(&pipe, 2).await?;
        let text = |v: &Value| -> ClientResult<Option<String>> {
            match v {
                Value::Nil => Ok(None),
                Value::ServerError(e) => Err(ClientError::Refused(e.clone().into())),
                other => redis::from_redis_value(other)
                    .map(Some)
                    .map_err(ClientError::Refused),
            }
        };
        let doc = text(&replies[0])?;
        let version = text(&replies[1])?
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        Ok((doc, version))
    }

    fn remember(&self, doc: &str, version: u64) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some((doc.to_string(), version));
        }
    }
}

/// `config:assets`, typed: the one way the feeder, the web server and the bot read and write
/// the tracked assets, so they agree on every entry (`options_core::assets::AssetConfig`).
pub struct AssetsDoc {
    doc: SharedDoc,
}

impl Default for AssetsDoc {
    fn default() -> Self {
        AssetsDoc::new()
    }
}

impl AssetsDoc {
    pub fn new() -> AssetsDoc {
        AssetsDoc {
            doc: SharedDoc::new(assets::KEY),
        }
    }

    /// The document: Redis's, this process's last copy when Redis lost it, or (neither having
    /// one) `defaults` seeded the way the seed's web app seeded it. A document that is not a
    /// JSON object is an error, never read as empty.
    pub async fn read_or_seed(
        &self,
        redis: &Redis,
        defaults: &[String],
    ) -> ClientResult<AssetConfig> {
        let seed = AssetConfig::seeded(defaults).to_json();
        let text = self.doc.read_or_seed(redis, &seed).await?;
        AssetConfig::parse(&text).map_err(|detail| ClientError::Document {
            key: assets::KEY,
            detail,
        })
    }

    /// Writes a new version of the document.
    pub async fn write(&self, redis: &Redis, config: &AssetConfig) -> ClientResult<()> {
        self.doc.write(redis, &config.to_json()).await
    }
}
