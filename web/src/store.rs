//! Redis access for request handlers: one multiplexed connection shared by every request,
//! made on first use and remade after a failure, so the server starts and keeps answering
//! (503) while Redis is away and recovers by itself when it returns.

use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, Value};
use tokio::sync::Mutex;

use crate::error::{ApiError, ApiResult};

enum Client {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
}

/// A standalone or Cluster connection; module commands name their key first, so Cluster routes
/// each underlying's commands to its shard.
#[derive(Clone)]
enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }
    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }
    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

fn scan_cmd(cursor: u64) -> Cmd {
    let mut c = redis::cmd("SCAN");
    c.arg(cursor)
        .arg("TYPE")
        .arg(options_core::reply::CHAIN_TYPE_NAME)
        .arg("COUNT")
        .arg(1000);
    c
}

async fn scan_chains(conn: &mut MultiplexedConnection) -> redis::RedisResult<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = scan_cmd(cursor).query_async(conn).await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// `SCAN` has a cursor per node: the first page is asked of every master at once, the rest of
/// each master by its address.
async fn scan_cluster_chains(conn: &mut ClusterConnection) -> redis::RedisResult<Vec<String>> {
    use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
    let first = conn
        .route_command(
            &scan_cmd(0),
            RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
        )
        .await?;
    let pages: Vec<(String, (u64, Vec<String>))> = redis::from_redis_value(&first)?;
    let mut keys = Vec::new();
    for (address, (mut cursor, batch)) in pages {
        keys.extend(batch);
        let Some((host, port)) = address
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        else {
            continue;
        };
        while cursor != 0 {
            let page = conn
                .route_command(
                    &scan_cmd(cursor),
                    RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                        host: host.clone(),
                        port,
                    }),
                )
                .await?;
            let (next, batch): (u64, Vec<String>) = redis::from_redis_value(&page)?;
            keys.extend(batch);
            cursor = next;
        }
    }
    Ok(keys)
}

pub struct Store {
    client: Client,
    conn: Mutex<Option<Conn>>,
}

impl Store {
    /// One URL: standalone. Several, or `cluster`: Redis Cluster.
    pub fn new(
        list: Vec<String>,
        cluster: bool,
        tls: &options_redis_tls::RedisTlsArgs,
    ) -> anyhow::Result<Store> {
        let certs = tls.certificates(&list)?;
        let client = if cluster || list.len() > 1 {
            Client::Cluster(options_redis_tls::cluster_client(&list, certs.as_ref())?)
        } else {
            Client::Single(options_redis_tls::client(
                list.first().map(String::as_str).unwrap_or_default(),
                certs.as_ref(),
            )?)
        };
        Ok(Store {
            client,
            conn: Mutex::new(None),
        })
    }

    async fn connection(&self) -> ApiResult<Conn> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let unavailable = |e: redis::RedisError| ApiError::Unavailable(e.to_string());
        let c = match &self.client {
            Client::Single(client) => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Duration::from_secs(2))
                    .set_response_timeout(Duration::from_secs(5));
                Conn::Single(
                    client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .map_err(unavailable)?,
                )
            }
            Client::Cluster(client) => {
                Conn::Cluster(client.get_async_connection().await.map_err(unavailable)?)
            }
        };
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

    /// A module reply in `FORMAT JSON`, as raw bytes (forwarded without decoding).
    pub async fn json_bytes(&self, cmd: &Cmd) -> ApiResult<Vec<u8>> {
        match self.query::<Value>(cmd).await? {
            Value::BulkString(b) => Ok(b),
            Value::Nil => Err(ApiError::NotFound("not found".into())),
            other => Err(ApiError::Internal(format!("unexpected reply {other:?}"))),
        }
    }

    /// A module reply in `FORMAT JSON`, decoded into its type (`options_core::reply`): a reply
    /// that does not match is an error, never a default.
    pub async fn typed<T: serde::de::DeserializeOwned>(&self, cmd: &Cmd) -> ApiResult<T> {
        let bytes = self.json_bytes(cmd).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Internal(format!("module reply not understood: {e}")))
    }

    /// Every key holding an options chain (the module's type), on every master of a Cluster:
    /// `SCAN … TYPE`, so other keys of a shared Redis are skipped server-side.
    pub async fn chain_keys(&self) -> ApiResult<Vec<String>> {
        let mut c = self.connection().await?;
        let result = match &mut c {
            Conn::Single(conn) => scan_chains(conn).await,
            Conn::Cluster(conn) => scan_cluster_chains(conn).await,
        };
        match result {
            Ok(mut keys) => {
                keys.sort();
                keys.dedup();
                Ok(keys)
            }
            Err(e) => {
                self.forget(&e).await;
                Err(e.into())
            }
        }
    }

    /// `OPTIONS.STATS` without a key: the module's totals, added up over every master of a
    /// Cluster (the keyless form is answered by each node for itself).
    pub async fn module_stats(&self) -> ApiResult<options_core::reply::ModuleStats> {
        let mut c = self.connection().await?;
        let mut cmd = redis::cmd("OPTIONS.STATS");
        cmd.arg("FORMAT").arg("JSON");
        let replies: redis::RedisResult<Vec<Vec<u8>>> = match &mut c {
            Conn::Single(conn) => cmd.query_async::<Vec<u8>>(conn).await.map(|b| vec![b]),
            Conn::Cluster(conn) => {
                use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};
                conn.route_command(
                    &cmd,
                    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                )
                .await
                .and_then(|v| {
                    let nodes: Vec<(String, Vec<u8>)> = redis::from_redis_value(&v)?;
                    Ok(nodes.into_iter().map(|(_, b)| b).collect())
                })
            }
        };
        let replies = match replies {
            Ok(r) => r,
            Err(e) => {
                self.forget(&e).await;
                return Err(e.into());
            }
        };
        let mut total: Option<options_core::reply::ModuleStats> = None;
        for bytes in replies {
            let s: options_core::reply::ModuleStats = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::Internal(format!("module reply not understood: {e}")))?;
            total = Some(match total {
                None => s,
                Some(t) => t.plus(&s),
            });
        }
        total.ok_or_else(|| ApiError::Internal("no Redis node answered".into()))
    }

    /// A module reply in `FORMAT JSON`, decoded.
    pub async fn json(&self, cmd: &Cmd) -> ApiResult<serde_json::Value> {
        let bytes = self.json_bytes(cmd).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(format!("module JSON: {e}")))
    }
}
