//! `options-client`: how every client of the Redis options module talks to it — the feeder,
//! the web server and the tests.
//!
//! - [`RedisArgs`]: the Redis flags, one clap struct flattened into each binary.
//! - [`Redis`]: the one connection layer (standalone or Cluster, `rediss://` with a private CA
//!   and client certificates, one timeout and reconnect policy).
//! - [`cmd`]: a builder per `OPTIONS.*` command, and [`reply`]: a serde type per reply, so a
//!   renamed or missing field is an error at the boundary rather than a silent 0 inside.
//! - [`tape`]: a chain's trade stream, read as it grows.

pub mod args;
pub mod cmd;
pub mod connection;
pub mod error;
pub mod reply;
pub mod shared_doc;
pub mod tape;
pub mod tls;

pub use args::RedisArgs;
pub use cmd::Command;
pub use connection::Redis;
pub use error::{ClientError, ClientResult};
pub use shared_doc::{AssetsDoc, SharedDoc};
pub use tls::{RedisTlsArgs, TlsError};
