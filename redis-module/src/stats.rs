//! Module-wide totals for `OPTIONS.STATS` without a key and the `INFO options` section.
//!
//! Kept as running sums adjusted by every change to a chain (including loads and frees done by
//! Redis itself), so the global answer costs nothing and needs no keyspace scan.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::chain::Chain;

static KEYS: AtomicI64 = AtomicI64::new(0);
static CONTRACTS: AtomicI64 = AtomicI64::new(0);
static MEMORY: AtomicI64 = AtomicI64::new(0);
static UPDATES: AtomicI64 = AtomicI64::new(0);
static LAST_UPDATE_MS: AtomicI64 = AtomicI64::new(0);
/// Commands served since the module was loaded (not persisted).
static INGESTS: AtomicU64 = AtomicU64::new(0);
static QUERIES: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);

/// This load of the module: a different value after every server start (or module reload),
/// so a client that cannot run `INFO` (a least-privilege ACL user) still tells a restarted
/// Redis, which may have come back empty, from the one it wrote to.
static INSTANCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The instance id: 16 hex digits from the clock and the process, fixed at first use (the
/// module's load).
pub fn instance() -> &'static str {
    INSTANCE.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the OS's randomness; the clock and the pid make two
        // loads in one process differ too.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.write_u128(now);
        h.write_u32(std::process::id());
        format!("{:016x}", h.finish())
    })
}

/// What one chain contributes to the totals.
#[derive(Debug, Clone, Copy, Default)]
pub struct Footprint {
    contracts: i64,
    memory: i64,
    updates: i64,
}

impl Footprint {
    pub fn of(chain: &Chain) -> Self {
        Footprint {
            contracts: chain.len() as i64,
            memory: chain.memory_usage() as i64,
            updates: chain.updates as i64,
        }
    }
}

/// A chain came into existence (created, loaded, copied).
pub fn chain_added(chain: &Chain) {
    KEYS.fetch_add(1, Relaxed);
    apply(Footprint::default(), Footprint::of(chain));
    LAST_UPDATE_MS.fetch_max(chain.last_update_ms, Relaxed);
}

/// A chain was freed.
pub fn chain_removed(chain: &Chain) {
    KEYS.fetch_sub(1, Relaxed);
    apply(Footprint::of(chain), Footprint::default());
}

/// A chain changed from `before` to its current state.
pub fn chain_changed(before: Footprint, chain: &Chain) {
    apply(before, Footprint::of(chain));
    LAST_UPDATE_MS.fetch_max(chain.last_update_ms, Relaxed);
}

fn apply(before: Footprint, after: Footprint) {
    CONTRACTS.fetch_add(after.contracts - before.contracts, Relaxed);
    MEMORY.fetch_add(after.memory - before.memory, Relaxed);
    UPDATES.fetch_add(after.updates - before.updates, Relaxed);
}

/// Memory taken or given back outside a write (rendered rows cached by reads).
pub fn add_memory(bytes: i64) {
    MEMORY.fetch_add(bytes, Relaxed);
}

pub fn count_ingest() {
    INGESTS.fetch_add(1, Relaxed);
}
pub fn count_query() {
    QUERIES.fetch_add(1, Relaxed);
}
pub fn count_rejected() {
    REJECTED.fetch_add(1, Relaxed);
}

pub struct Totals {
    pub keys: i64,
    pub contracts: i64,
    pub memory: i64,
    pub updates: i64,
    pub last_update_ms: i64,
    pub ingests: u64,
    pub queries: u64,
    pub rejected: u64,
}

impl Totals {
    /// The module-wide figures by name, in the order `OPTIONS.STATS` and `INFO options` list them.
    pub fn named(&self) -> [(&'static str, i64); 8] {
        [
            ("keys", self.keys),
            ("contracts", self.contracts),
            ("updates", self.updates),
            ("last_update_ms", self.last_update_ms),
            ("memory_bytes", self.memory),
            ("ingests_since_load", self.ingests as i64),
            ("queries_since_load", self.queries as i64),
            ("rejected_since_load", self.rejected as i64),
        ]
    }
}

pub fn totals() -> Totals {
    Totals {
        keys: KEYS.load(Relaxed),
        contracts: CONTRACTS.load(Relaxed),
        memory: MEMORY.load(Relaxed),
        updates: UPDATES.load(Relaxed),
        last_update_ms: LAST_UPDATE_MS.load(Relaxed),
        ingests: INGESTS.load(Relaxed),
        queries: QUERIES.load(Relaxed),
        rejected: REJECTED.load(Relaxed),
    }
}
