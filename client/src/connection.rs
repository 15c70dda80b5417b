//! The one way every client opens Redis: a standalone server or a Cluster, plain or
//! `rediss://`, one connection made on first use and shared by every caller of the [`Redis`]
//! (multiplexed: concurrent commands do not wait for each other), dropped after a transport
//! failure and remade by the next call. So a process starts and keeps running while Redis is
//! away, and recovers by itself when it returns.
//!
//! One timeout policy for everything: [`CONNECT_TIMEOUT`] to connect, [`RESPONSE_TIMEOUT`] for
//! a reply. A reply slower than that is treated as an outage, as a hung server must not hang
//! a web request or the feeder's writer.

use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, RedisResult, TlsCertificates, Value};
use tokio::sync::Mutex;

use options_core::Expiry;

use crate::cmd::{self, Command};
use crate::error::{connection_lost, ClientError, ClientResult};
use crate::reply;
use crate::reply::{ModuleStats, CHAIN_TYPE_NAME};
use crate::RedisArgs;

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a reply may take.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
enum Target {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
}

/// A live connection; module commands name their key first, so a Cluster routes each
/// underlying's commands to its shard.
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

/// Redis, standalone or Cluster.
pub struct Redis {
    target: Target,
    conn: Mutex<Option<Conn>>,
}

impl Redis {
    /// The Redis the flags name. TLS files are read and checked here, so a wrong path fails at
    /// start-up; nothing connects until the first command.
    pub fn open(args: &RedisArgs) -> ClientResult<Redis> {
        let urls = args.urls();
        let certs = args.tls.certificates(&urls)?;
        Redis::new(&urls, args.cluster(), certs)
    }

    /// One URL: standalone, unless `cluster`. Several: the seed nodes of a Cluster.
    pub fn new(
        urls: &[String],
        cluster: bool,
        certs: Option<TlsCertificates>,
    ) -> ClientResult<Redis> {
        let config = |e: redis::RedisError| ClientError::Config(e);
        let target = if cluster || urls.len() > 1 {
            let builder = redis::cluster::ClusterClientBuilder::new(urls.to_vec())
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT);
            let builder = match certs {
                Some(c) => builder.certs(c),
                None => builder,
            };
            Target::Cluster(builder.build().map_err(config)?)
        } else {
            let url = urls.first().map(String::as_str).unwrap_or_default();
            Target::Single(
                match certs {
                    Some(c) => redis::Client::build_with_tls(url, c),
                    None => redis::Client::open(url),
                }
                .map_err(config)?,
            )
        };
        Ok(Redis {
            target,
            conn: Mutex::new(None),
        })
    }

    /// A standalone server at `url` (tests and tools).
    pub fn standalone(url: &str) -> ClientResult<Redis> {
        Redis::new(&[url.to_string()], false, None)
    }

    /// The same Redis on a connection of its own, made on first use: for blocking reads
    /// (`OPTIONS.CHANGES … BLOCK`), which would hold up every caller of a shared multiplexed
    /// connection while they wait. A block must stay under [`RESPONSE_TIMEOUT`].
    pub fn dedicated(&self) -> Redis {
        Redis {
            target: self.target.clone(),
            conn: Mutex::new(None),
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }

    async fn connection(&self) -> ClientResult<Conn> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let c = match &self.target {
            Target::Single(client) => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(RESPONSE_TIMEOUT);
                Conn::Single(
                    client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .map_err(ClientError::Unavailable)?,
                )
            }
            Target::Cluster(client) => Conn::Cluster(
                client
                    .get_async_connection()
                    .await
                    .map_err(ClientError::Unavailable)?,
            ),
        };
        *guard = Some(c.clone());
        Ok(c)
    }

    /// `result`, after dropping the connection if it failed.
    async fn checked<T>(&self, result: RedisResult<T>) -> ClientResult<T> {
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                if connection_lost(&e) {
                    *self.conn.lock().await = None;
                }
                Err(e.into())
            }
        }
    }

    /// One command.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> ClientResult<T> {
        let mut c = self.connection().await?;
        let result = cmd.query_async(&mut c).await;
        self.checked(result).await
    }

    /// The first `n` commands of a pipeline. A command Redis refuses is a
    /// `Value::ServerError` in its place; only a transport failure is an `Err`.
    pub async fn pipeline(&self, pipe: &Pipeline, n: usize) -> ClientResult<Vec<Value>> {
        let mut c = self.connection().await?;
        let result = c.req_packed_commands(pipe, 0, n).await;
        self.checked(result).await
    }

    /// `cmd` answered by every master: one `(address, reply)` per node of a Cluster, the one
    /// server's reply (address "") when standalone. For keyless commands that each node
    /// answers for itself (`INFO`, `OPTIONS.STATS`, `SCAN`).
    pub async fn on_every_master<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
    ) -> ClientResult<Vec<(String, T)>> {
        let result = match self.connection().await? {
            Conn::Single(mut c) => cmd
                .query_async::<T>(&mut c)
                .await
                .map(|v| vec![(String::new(), v)]),
            Conn::Cluster(mut c) => c
                .route_command(
                    cmd,
                    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                )
                .await
                .and_then(|v| redis::from_redis_value(&v)),
        };
        self.checked(result).await
    }

    /// `cmd` sent to the node at `address` (`host:port`) of a Cluster.
    async fn on_node<T: FromRedisValue>(&self, address: &str, cmd: &Cmd) -> ClientResult<T> {
        let Some((host, port)) = address
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        else {
            return Err(ClientError::Reply {
                command: "CLUSTER",
                detail: format!("node address {address:?}"),
            });
        };
        let result = match self.connection().await? {
            Conn::Single(mut c) => cmd.query_async::<T>(&mut c).await,
            Conn::Cluster(mut c) => c
                .route_command(
                    cmd,
                    RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port }),
                )
                .await
                .and_then(|v| redis::from_redis_value(&v)),
        };
        self.checked(result).await
    }

    /// Every key holding an options chain, on every master, sorted: `SCAN … TYPE`, so the
    /// other keys of a shared Redis are skipped server-side. `SCAN` has a cursor per node: the
    /// first page is asked of every master at once, the rest of each by its address.
    pub async fn chain_keys(&self) -> ClientResult<Vec<String>> {
        let scan = |cursor: u64| {
            let mut c = redis::cmd("SCAN");
            c.arg(cursor)
                .arg("TYPE")
                .arg(CHAIN_TYPE_NAME)
                .arg("COUNT")
                .arg(1000);
            c
        };
        let mut keys = Vec::new();
        for (address, (mut cursor, batch)) in
            self.on_every_master::<(u64, Vec<String>)>(&scan(0)).await?
        {
            keys.extend(batch);
            while cursor != 0 {
                let (next, batch): (u64, Vec<String>) = if address.is_empty() {
                    self.query(&scan(cursor)).await?
                } else {
                    self.on_node(&address, &scan(cursor)).await?
                };
                keys.extend(batch);
                cursor = next;
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// `OPTIONS.STATS` without a key: the module's totals, added up over every master of a
    /// Cluster (each node answers the keyless form for itself).
    pub async fn module_stats(&self) -> ClientResult<ModuleStats> {
        let cmd = crate::cmd::ModuleStats.to_cmd();
        let mut total: Option<ModuleStats> = None;
        for (_, bytes) in self.on_every_master::<Vec<u8>>(&cmd).await? {
            let s = crate::cmd::ModuleStats::decode(&bytes)?;
            total = Some(match total {
                None => s,
                Some(t) => t.plus(&s),
            });
        }
        total.ok_or_else(|| ClientError::Reply {
            command: "OPTIONS.STATS",
            detail: "no Redis node answered".into(),
        })
    }

    /// Which Redis processes answer: the module's instance id from `OPTIONS.STATS`
    /// (`address=instance,…` over the masters of a Cluster). It changes whenever a server
    /// restarts, whether it comes back empty or from an old snapshot, and however quickly; and
    /// unlike `INFO`'s `run_id` it needs no `@dangerous` command, so a least-privilege user can
    /// ask.
    pub async fn identity(&self) -> ClientResult<String> {
        let cmd = crate::cmd::ModuleStats.to_cmd();
        let mut nodes: Vec<(String, String)> = Vec::new();
        for (address, bytes) in self.on_every_master::<Vec<u8>>(&cmd).await? {
            let instance = crate::cmd::ModuleStats::decode(&bytes)?.instance;
            nodes.push((address, instance));
        }
        nodes.sort();
        Ok(nodes
            .iter()
            .map(|(address, id)| {
                if address.is_empty() {
                    id.clone()
                } else {
                    format!("{address}={id}")
                }
            })
            .collect::<Vec<_>>()
            .join(","))
    }

    /// A module command's reply, typed; `None` when the module answers nil (no such contract).
    pub async fn run<C: Command>(&self, command: &C) -> ClientResult<Option<C::Reply>> {
        match self.json(command).await? {
            Some(bytes) => C::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// A module command's `FORMAT JSON` reply as bytes, to forward without decoding; `None`
    /// when the module answers nil.
    pub async fn json<C: Command>(&self, command: &C) -> ClientResult<Option<Vec<u8>>> {
        self.bytes(C::NAME, &command.to_cmd()).await
    }

    /// A command that replies with one bulk string (or nil), as bytes.
    pub async fn bytes(&self, name: &'static str, cmd: &Cmd) -> ClientResult<Option<Vec<u8>>> {
        match self.query::<Value>(cmd).await? {
            Value::BulkString(b) => Ok(Some(b)),
            Value::Nil => Ok(None),
            other => Err(ClientError::Reply {
                command: name,
                detail: format!("expected a JSON string, got {other:?}"),
            }),
        }
    }
}

impl Redis {
    /// `OPTIONS.CHAIN` of `expiry`, or of the nearest expiry when `None`: what an ATM line is
    /// read from. `None` when the chain has no such (or no) expiry.
    pub async fn chain_of(
        &self,
        key: &str,
        expiry: Option<Expiry>,
        fields: &[&str],
    ) -> ClientResult<Option<reply::Chain>> {
        let listed = self
            .run(&cmd::Expiries::new(key))
            .await?
            .unwrap_or_default();
        let pick = listed
            .iter()
            .filter_map(|e| Expiry::parse(e).ok())
            .find(|e| match expiry {
                None => true,
                Some(wanted) => wanted == *e,
            });
        let Some(pick) = pick else {
            return Ok(None);
        };
        let mut chain = cmd::Chain::new(key, pick);
        if !fields.is_empty() {
            chain = chain.fields(fields);
        }
        self.run(&chain).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_listening_is_unavailable_and_a_bad_url_is_refused_at_once() {
        let r = Redis::standalone("redis://127.0.0.1:1/").unwrap();
        let e = r.query::<String>(&redis::cmd("PING")).await.unwrap_err();
        assert!(e.is_unavailable(), "{e}");
        assert!(matches!(
            Redis::standalone("http://nowhere"),
            Err(ClientError::Config(_))
        ));
    }
}
