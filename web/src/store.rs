//! Redis access for request handlers: one multiplexed connection shared by every request,
//! made on first use and remade after a failure, so the server starts and keeps answering
//! (503) while Redis is away and recovers by itself when it returns.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{Cmd, FromRedisValue, Pipeline, Value};
use tokio::sync::Mutex;

use crate::error::{ApiError, ApiResult};

pub struct Store {
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Store {
    pub fn new(url: &str) -> anyhow::Result<Store> {
        Ok(Store {
            client: redis::Client::open(url)?,
            conn: Mutex::new(None),
        })
    }

    async fn connection(&self) -> ApiResult<MultiplexedConnection> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(5));
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        *guard = Some(c.clone());
        Ok(c)
    }

    async fn forget(&self, e: &redis::RedisError) {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_timeout()
            || e.is_connection_refusal()
        {
            *self.conn.lock().await = None;
        }
    }

    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> ApiResult<T> {
        let mut c = self.connection().await?;
        match cmd.query_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => {
                self.forget(&e).await;
                Err(e.into())
            }
        }
    }

    pub async fn pipeline<T: FromRedisValue>(&self, pipe: &Pipeline) -> ApiResult<T> {
        let mut c = self.connection().await?;
        match pipe.query_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => {
                self.forget(&e).await;
                Err(e.into())
            }
        }
    }

    /// A module reply in `FORMAT JSON`, as raw bytes (forwarded without decoding).
    pub async fn json_bytes(&self, cmd: &Cmd) -> ApiResult<Vec<u8>> {
        match self.query::<Value>(cmd).await? {
            Value::BulkString(b) => Ok(b),
            Value::Nil => Err(ApiError::NotFound("not found".into())),
            other => Err(ApiError::Internal(format!("unexpected reply {other:?}"))),
        }
    }

    /// A module reply in `FORMAT JSON`, decoded.
    pub async fn json(&self, cmd: &Cmd) -> ApiResult<serde_json::Value> {
        let bytes = self.json_bytes(cmd).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(format!("module JSON: {e}")))
    }
}
