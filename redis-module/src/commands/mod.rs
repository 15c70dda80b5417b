//! The `OPTIONS.*` command handlers, one file per command family; what they share is in
//! `keyspace` (opening chains, the one change chokepoint, argument text).
//!
//! Each handler parses and validates all of its arguments before it touches the keyspace, so an
//! error reply always means nothing changed. Writes replicate explicitly (with the time they
//! used) so replicas and the AOF replay the same result regardless of their own clocks.

pub(crate) mod analytics;
pub(crate) mod chain;
pub(crate) mod changes;
pub(crate) mod del;
pub(crate) mod flow;
pub(crate) mod get;
pub(crate) mod history;
pub(crate) mod ingest;
mod keyspace;
pub(crate) mod lists;
mod query;
pub(crate) mod smile;
pub(crate) mod stats;
mod tape;
pub(crate) mod trade;

pub use analytics::analytics;
pub use chain::chain;
pub use changes::changes;
pub use del::{del, purge};
pub use flow::flow_cmd;
pub use get::get;
pub use history::{history, history_restore};
pub use ingest::ingest;
pub use lists::{expiries, strikes};
pub use query::query;
pub use smile::smile;
pub use stats::stats_cmd;
pub use trade::trade;
