//! `Chain`: every contract of one underlying, the value stored under one Redis key.
//!
//! Contracts live in per-expiry blocks: a `Vec` of blocks sorted by expiry, each a `Vec` of its
//! contracts sorted by (strike, type, settle). An expiry filter is then one block, strikes come
//! out in order, and an update finds its contract by two binary searches without a per-contract
//! hash map (which would cost more memory than the contract's numbers). Listing a new contract
//! shifts only its own expiry's block (about 250 contracts on Bybit), so loading a chain costs
//! the same per contract at 2,500 contracts as at 100,000; one flat sorted `Vec` made every
//! insert move the whole tail, and a 100,000-contract load took a minute.

use std::cell::{Cell, OnceCell};
use std::cmp::Ordering;
use std::collections::VecDeque;

use options_core::{Expiry, Field, OptionType, ParseError, Settle, Symbol, Venue, FIELD_COUNT};

/// Removed symbols remembered for `OPTIONS.CHANGES`; a client further behind resynchronises.
pub const TOMBSTONE_CAPACITY: usize = 4096;

/// One option contract and its latest values.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub symbol: Box<str>,
    pub expiry: Expiry,
    pub strike: f64,
    pub kind: OptionType,
    pub settle: Settle,
    /// Bit `i` set ⇔ `values[i]` holds a value received from the exchange.
    pub present: u32,
    pub values: [f64; FIELD_COUNT],
    pub updated_ms: i64,
    /// The chain's sequence number at this contract's last change.
    pub seq: u64,
    /// This row rendered as JSON with every column, made by the first read that needs it and
    /// dropped by the next change. Static chains are then answered at memcpy speed.
    pub json: OnceCell<Box<[u8]>>,
    /// The same for the seed-shaped row (`OPTIONS.QUERY … FORMAT SEED`).
    pub seed: OnceCell<Box<[u8]>>,
}

/// The identity of a contract inside a chain, in chain order.
#[derive(Debug, Clone, Copy)]
pub struct ContractKey {
    pub expiry: Expiry,
    pub strike: f64,
    pub kind: OptionType,
    pub settle: Settle,
}

impl ContractKey {
    pub fn of(symbol: &Symbol) -> Self {
        ContractKey {
            expiry: symbol.expiry,
            strike: symbol.strike,
            kind: symbol.kind,
            settle: symbol.settle,
        }
    }

    fn cmp(&self, other: &ContractKey) -> Ordering {
        self.expiry
            .cmp(&other.expiry)
            .then(self.strike.total_cmp(&other.strike))
            .then(self.kind.cmp(&other.kind))
            .then(self.settle.cmp(&other.settle))
    }
}

impl Contract {
    pub fn new(symbol: &Symbol) -> Self {
        Contract {
            symbol: symbol.canonical().into_boxed_str(),
            expiry: symbol.expiry,
            strike: symbol.strike,
            kind: symbol.kind,
            settle: symbol.settle,
            present: 0,
            values: [0.0; FIELD_COUNT],
            updated_ms: 0,
            seq: 0,
            json: OnceCell::new(),
            seed: OnceCell::new(),
        }
    }

    pub fn key(&self) -> ContractKey {
        ContractKey {
            expiry: self.expiry,
            strike: self.strike,
            kind: self.kind,
            settle: self.settle,
        }
    }

    pub fn get(&self, field: Field) -> Option<f64> {
        (self.present & field.bit() != 0).then(|| self.values[field.index()])
    }

    pub fn expiry_ts(&self) -> i64 {
        self.expiry.timestamp_ms()
    }

    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expiry_ts() > now_ms
    }

    /// The strike as text, as in the symbol (`2.35`, `100000`).
    pub fn strike_text(&self) -> &str {
        // BASE-EXPIRY-STRIKE-...; the symbol was validated when the contract was made.
        self.symbol.split('-').nth(2).unwrap_or("")
    }

    /// Heap bytes owned beyond the struct itself.
    fn heap_bytes(&self) -> usize {
        self.symbol.len()
    }
}

/// What one `OPTIONS.INGEST` changes: values by field, plus the update time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub values: Vec<(Field, f64)>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Changed,
    Unchanged,
}

/// The contracts of one expiry, sorted by (strike, type, settle); never empty inside a chain.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    expiry: Expiry,
    contracts: Vec<Contract>,
    fits: FitCache,
}

/// What identifies the inputs of an expiry's smile fit: the latest change among its contracts,
/// how many there are, and the settle coin asked for (`None`: both).
pub type FitKey = (u64, usize, Option<Settle>);

/// One expiry's smile fit (`analytics`), kept until its contracts change: a read that finds the
/// same key reuses it. Not part of the chain's value: a copy starts empty and two chains compare
/// equal whatever their caches hold.
#[derive(Default)]
pub struct FitCache(std::cell::RefCell<Option<(FitKey, Option<options_core::svi::Svi>)>>);

impl FitCache {
    /// The fit for `key`: the kept one, or `fit()` kept for next time.
    pub fn get_or(
        &self,
        key: FitKey,
        fit: impl FnOnce() -> Option<options_core::svi::Svi>,
    ) -> Option<options_core::svi::Svi> {
        if let Some((k, v)) = self.0.borrow().as_ref() {
            if *k == key {
                return *v;
            }
        }
        let v = fit();
        *self.0.borrow_mut() = Some((key, v));
        v
    }
}

impl Clone for FitCache {
    fn clone(&self) -> Self {
        FitCache::default()
    }
}

impl PartialEq for FitCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FitCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FitCache")
    }
}

impl Block {
    fn is_live(&self, now_ms: i64) -> bool {
        self.expiry.timestamp_ms() > now_ms
    }

    fn position(&self, key: &ContractKey) -> Result<usize, usize> {
        self.contracts.binary_search_by(|c| c.key().cmp(key))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub underlying: Box<str>,
    /// Sorted by expiry, one per expiry that has contracts.
    blocks: Vec<Block>,
    /// Contracts in all blocks.
    len: usize,
    /// Bumped on every change; contracts carry the value at their last change.
    pub seq: u64,
    /// Contract updates applied since the chain was created (survives persistence).
    pub updates: u64,
    pub last_update_ms: i64,
    /// (seq at removal, symbol), oldest first, at most `TOMBSTONE_CAPACITY`.
    tombstones: VecDeque<(u64, Box<str>)>,
    /// Changes after this sequence number are fully described by contract seqs and
    /// tombstones; a client asking from before it must reload.
    pub horizon: u64,
    heap_bytes: usize,
    /// Samples of the chain's analytics over time (ANALYTICS.md, History).
    pub history: crate::history::History,
    /// Bytes held by the contracts' rendered rows (filled by reads, hence a `Cell`).
    cache_bytes: Cell<usize>,
}

/// Where chains' sequence numbers start. A sequence number is a cursor that clients keep
/// (`OPTIONS.CHANGES key cursor`) across reconnects and across restarts of this server, so a
/// cursor issued by one incarnation of a key must never fall inside the range of a later one,
/// or the later one would answer it with a partial delta of a different history:
/// - a key deleted and written again starts above every sequence any chain freed in this
///   process reached (`retired`), and above its creation time in µs;
/// - a chain loaded from an RDB or AOF whose sequence is below this process's first use of
///   sequences (the time in µs) is moved up to it, horizon included, so every cursor from before
///   the restart (including those of writes that an AOF fsynced every second lost) gets a reset.
///
/// Both hold while a chain averages fewer than a million changes a second since it was created:
/// its sequence then stays below the wall clock in µs. µs keep cursors below 2^53, so JSON
/// readers hold them exactly.
pub mod sequence {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::sync::OnceLock;

    static FLOOR_US: OnceLock<u64> = OnceLock::new();
    static RETIRED: AtomicU64 = AtomicU64::new(0);

    fn now_us() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    }

    /// This process's first use of sequences, in µs since the epoch.
    pub fn floor() -> u64 {
        *FLOOR_US.get_or_init(now_us)
    }

    /// A chain is freed: later chains start above its sequence.
    pub fn retire(seq: u64) {
        RETIRED.fetch_max(seq, Relaxed);
    }

    /// The first sequence of a chain created at `created_ms` (the command's replicated time).
    pub fn start(created_ms: u64) -> u64 {
        created_ms
            .saturating_mul(1000)
            .max(floor())
            .max(RETIRED.load(Relaxed).saturating_add(1))
    }
}

/// Rows changed after a sequence number: what `OPTIONS.CHANGES` answers.
pub struct Changes<'a> {
    pub seq: u64,
    /// The client's sequence is unknown to this chain: `rows` holds every live contract and the
    /// client should replace its state.
    pub reset: bool,
    pub rows: Vec<&'a Contract>,
    pub removed: Vec<&'a str>,
}

impl Chain {
    /// An empty chain whose sequence starts at `seq0` (`sequence::start` for a new key, so that
    /// no cursor of an earlier incarnation falls in its range).
    pub fn new(underlying: &str, seq0: u64) -> Self {
        Chain {
            underlying: underlying.into(),
            blocks: Vec::new(),
            len: 0,
            seq: seq0,
            updates: 0,
            last_update_ms: 0,
            tombstones: VecDeque::new(),
            horizon: seq0,
            heap_bytes: underlying.len(),
            history: crate::history::History::default(),
            cache_bytes: Cell::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// All contracts in chain order, expired ones included.
    pub fn contracts(&self) -> impl DoubleEndedIterator<Item = &Contract> + Clone {
        self.blocks.iter().flat_map(|b| b.contracts.iter())
    }

    pub fn live(&self, now_ms: i64) -> impl Iterator<Item = &Contract> {
        self.blocks
            .iter()
            .filter(move |b| b.is_live(now_ms))
            .flat_map(|b| b.contracts.iter())
    }

    fn block_index(&self, expiry: Expiry) -> Result<usize, usize> {
        self.blocks.binary_search_by(|b| b.expiry.cmp(&expiry))
    }

    /// The fit cache of `expiry` and what its contracts are now (latest change, count); `None`
    /// when the chain lists no contract of it.
    pub fn fit_cache(&self, expiry: Expiry) -> Option<(&FitCache, u64, usize)> {
        let b = &self.blocks[self.block_index(expiry).ok()?];
        let latest = b.contracts.iter().map(|c| c.seq).max().unwrap_or(0);
        Some((&b.fits, latest, b.contracts.len()))
    }

    /// Contracts of one expiry, in strike order.
    pub fn expiry_slice(&self, expiry: Expiry) -> &[Contract] {
        match self.block_index(expiry) {
            Ok(b) => &self.blocks[b].contracts,
            Err(_) => &[],
        }
    }

    /// (block, index in block) of a contract.
    fn position(&self, key: &ContractKey) -> Option<(usize, usize)> {
        let b = self.block_index(key.expiry).ok()?;
        let i = self.blocks[b].position(key).ok()?;
        Some((b, i))
    }

    pub fn get(&self, symbol: &Symbol) -> Option<&Contract> {
        self.position(&ContractKey::of(symbol))
            .map(|(b, i)| &self.blocks[b].contracts[i])
    }

    /// The contract of `symbol`, listed (created) when the chain does not hold it yet. Costs
    /// two binary searches, plus a shift of the contract's own expiry block when it is new.
    /// Answers (block, index in block, created).
    fn entry(&mut self, symbol: &Symbol) -> (usize, usize, bool) {
        let key = ContractKey::of(symbol);
        let b = match self.block_index(key.expiry) {
            Ok(b) => b,
            Err(b) => {
                self.blocks.insert(
                    b,
                    Block {
                        expiry: key.expiry,
                        contracts: Vec::new(),
                        fits: FitCache::default(),
                    },
                );
                b
            }
        };
        let block = &mut self.blocks[b];
        match block.position(&key) {
            Ok(i) => (b, i, false),
            Err(i) => {
                let contract = Contract::new(symbol);
                self.heap_bytes += contract.heap_bytes();
                self.len += 1;
                let v = &mut block.contracts;
                if v.len() == v.capacity() {
                    // Grow by a quarter, not double: listings arrive once, and doubling would
                    // leave up to half of a large expiry's memory unused.
                    let extra = (v.len() / 4).max(16);
                    v.reserve_exact(extra);
                }
                v.insert(i, contract);
                (b, i, true)
            }
        }
    }

    /// Inserts or merges one contract's values. Values equal to the stored ones do not count
    /// as a change, so `OPTIONS.CHANGES` reports only rows that really moved.
    pub fn upsert(&mut self, symbol: &Symbol, update: &Update) -> UpsertOutcome {
        let (b, i, created) = self.entry(symbol);
        let contract = &mut self.blocks[b].contracts[i];
        let mut changed = created;
        for &(field, value) in &update.values {
            let bit = field.bit();
            let slot = &mut contract.values[field.index()];
            if contract.present & bit == 0 || slot.to_bits() != value.to_bits() {
                *slot = value;
                contract.present |= bit;
                changed = true;
            }
        }
        contract.updated_ms = update.updated_ms;
        let mut dropped = 0;
        if changed {
            self.seq += 1;
            contract.seq = self.seq;
            dropped = [contract.json.take(), contract.seed.take()]
                .iter()
                .flatten()
                .map(|b| b.len())
                .sum();
        }
        self.updates += 1;
        self.last_update_ms = self.last_update_ms.max(update.updated_ms);
        self.cache_bytes.set(self.cache_bytes.get() - dropped);
        match (created, changed) {
            (true, _) => UpsertOutcome::Created,
            (false, true) => UpsertOutcome::Changed,
            (false, false) => UpsertOutcome::Unchanged,
        }
    }

    pub fn remove(&mut self, symbol: &Symbol) -> bool {
        let Some((b, i)) = self.position(&ContractKey::of(symbol)) else {
            return false;
        };
        let contract = self.blocks[b].contracts.remove(i);
        if self.blocks[b].contracts.is_empty() {
            self.blocks.remove(b);
        }
        self.bury(contract);
        true
    }

    /// Removes every contract delivered at or before `now_ms`; returns how many.
    pub fn purge_expired(&mut self, now_ms: i64) -> usize {
        // Expired contracts are whole blocks at the front: blocks are sorted by expiry.
        let n = self.blocks.partition_point(|b| !b.is_live(now_ms));
        let gone: Vec<Block> = self.blocks.drain(..n).collect();
        let mut count = 0;
        for c in gone.into_iter().flat_map(|b| b.contracts) {
            self.bury(c);
            count += 1;
        }
        count
    }

    /// True when some contract has expired and awaits purging.
    pub fn has_expired(&self, now_ms: i64) -> bool {
        self.blocks.first().is_some_and(|b| !b.is_live(now_ms))
    }

    fn bury(&mut self, contract: Contract) {
        self.len -= 1;
        self.heap_bytes -= contract.heap_bytes();
        let cached: usize = [contract.json.get(), contract.seed.get()]
            .iter()
            .flatten()
            .map(|b| b.len())
            .sum();
        self.cache_bytes.set(self.cache_bytes.get() - cached);
        self.seq += 1;
        self.push_tombstone(self.seq, contract.symbol);
    }

    fn push_tombstone(&mut self, seq: u64, symbol: Box<str>) {
        if self.tombstones.len() == TOMBSTONE_CAPACITY {
            if let Some((old_seq, old)) = self.tombstones.pop_front() {
                self.heap_bytes -= old.len();
                self.horizon = old_seq;
            }
        }
        self.heap_bytes += symbol.len();
        self.tombstones.push_back((seq, symbol));
    }

    pub fn tombstones(&self) -> impl Iterator<Item = (u64, &str)> {
        self.tombstones.iter().map(|(s, sym)| (*s, &**sym))
    }

    /// Rows changed after `since`. Contracts expired but not yet purged count as removed.
    pub fn changes_since(&self, since: u64, now_ms: i64) -> Changes<'_> {
        let reset = since < self.horizon || since > self.seq;
        let mut rows: Vec<&Contract> = if reset {
            self.live(now_ms).collect()
        } else {
            self.live(now_ms).filter(|c| c.seq > since).collect()
        };
        rows.sort_by_key(|c| c.seq);
        let mut removed: Vec<&str> = if reset {
            Vec::new()
        } else {
            self.tombstones
                .iter()
                .filter(|(s, _)| *s > since)
                .map(|(_, sym)| &**sym)
                .collect()
        };
        if !reset {
            removed.extend(
                self.contracts()
                    .take_while(|c| !c.is_live(now_ms))
                    .map(|c| &*c.symbol),
            );
            // A contract removed and listed again after `since` is a row, not a removal: a
            // reader applies rows and removals in either order and must end with the row.
            if !removed.is_empty() {
                let listed: std::collections::HashSet<&str> =
                    rows.iter().map(|c| &*c.symbol).collect();
                let mut seen = std::collections::HashSet::new();
                removed.retain(|s| !listed.contains(s) && seen.insert(*s));
            }
        }
        Changes {
            seq: self.seq,
            reset,
            rows,
            removed,
        }
    }

    /// Distinct live expiries, chronological.
    pub fn expiries(&self, now_ms: i64) -> Vec<Expiry> {
        self.blocks
            .iter()
            .filter(|b| b.is_live(now_ms))
            .map(|b| b.expiry)
            .collect()
    }

    /// Bytes this chain occupies, for `MEMORY USAGE` and `OPTIONS.STATS`. Counts capacity, not
    /// length: that is what the allocator holds.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Chain>()
            + self.blocks.capacity() * std::mem::size_of::<Block>()
            + self
                .blocks
                .iter()
                .map(|b| b.contracts.capacity() * std::mem::size_of::<Contract>())
                .sum::<usize>()
            + self.tombstones.capacity() * std::mem::size_of::<(u64, Box<str>)>()
            + self.heap_bytes
            + self.cache_bytes.get()
            + self.history.memory()
    }

    /// Records that a read cached `bytes` of rendered row.
    pub fn note_cached(&self, bytes: usize) {
        self.cache_bytes.set(self.cache_bytes.get() + bytes);
    }

    /// After a load from an RDB (a restart, a replica's sync, `DEBUG RELOAD`): a sequence that
    /// an earlier incarnation may have issued cursors in moves above them (`sequence`), and every
    /// client resynchronises once.
    pub fn continue_sequence_after_load(&mut self) {
        let start = sequence::start(0);
        if self.seq < start {
            self.seq = start;
            self.horizon = start;
        }
    }

    /// Rebuilds a chain from persisted parts; contracts may come in any order. Later duplicates
    /// of a contract replace earlier ones.
    pub fn from_parts(
        underlying: &str,
        seq: u64,
        updates: u64,
        last_update_ms: i64,
        horizon: u64,
        mut contracts: Vec<Contract>,
        tombstones: Vec<(u64, Box<str>)>,
    ) -> Self {
        contracts.reverse();
        contracts.sort_by(|a, b| a.key().cmp(&b.key()));
        contracts.dedup_by(|later, earlier| later.key().cmp(&earlier.key()) == Ordering::Equal);
        let mut chain = Chain::new(underlying, seq);
        chain.updates = updates;
        chain.last_update_ms = last_update_ms;
        chain.heap_bytes += contracts.iter().map(Contract::heap_bytes).sum::<usize>();
        chain.len = contracts.len();
        let mut rest = contracts.into_iter().peekable();
        while let Some(first) = rest.next() {
            let expiry = first.expiry;
            let mut block = vec![first];
            while let Some(c) = rest.next_if(|c| c.expiry == expiry) {
                block.push(c);
            }
            block.shrink_to_fit();
            chain.blocks.push(Block {
                expiry,
                contracts: block,
                fits: FitCache::default(),
            });
        }
        for (s, sym) in tombstones {
            chain.push_tombstone(s, sym);
        }
        chain.horizon = horizon;
        chain
    }

    /// A copy (for `COPY`), with capacity trimmed to what is used.
    pub fn duplicate(&self) -> Chain {
        let mut c = self.clone();
        c.blocks.shrink_to_fit();
        for b in &mut c.blocks {
            b.contracts.shrink_to_fit();
        }
        c.tombstones.shrink_to_fit();
        c.history = self.history.compact();
        c
    }
}

/// Parses a symbol as the key's venue writes it (`deribit:BTC` holds Deribit's names, a key
/// without a venue prefix Bybit's) and checks that it belongs in the chain stored under `key`.
pub fn symbol_for_key(key: &str, text: &str) -> Result<Symbol, String> {
    let (venue, underlying) = Venue::of_key(key);
    let symbol =
        options_core::parse_venue_symbol(venue, text).map_err(|e: ParseError| e.to_string())?;
    if symbol.base != underlying {
        return Err(format!(
            "symbol '{text}' belongs to underlying {}, not to key '{key}'",
            symbol.base
        ));
    }
    Ok(symbol)
}

#[cfg(test)]
mod tests {
    use super::*;
    use options_core::parse_symbol;
    use proptest::prelude::*;

    fn sym(s: &str) -> Symbol {
        parse_symbol(s).unwrap()
    }

    fn upd(pairs: &[(Field, f64)], ms: i64) -> Update {
        Update {
            values: pairs.to_vec(),
            updated_ms: ms,
        }
    }

    #[test]
    fn keeps_chain_order_and_merges_partial_updates() {
        let mut c = Chain::new("BTC", 0);
        for s in [
            "BTC-26DEC25-100000-P",
            "BTC-3SEP25-90000-C",
            "BTC-26DEC25-100000-C",
            "BTC-26DEC25-95000-C-USDT",
            "BTC-26DEC25-95000-C",
        ] {
            assert_eq!(c.upsert(&sym(s), &upd(&[], 1)), UpsertOutcome::Created);
        }
        let order: Vec<&str> = c.contracts().map(|c| &*c.symbol).collect();
        assert_eq!(
            order,
            [
                "BTC-3SEP25-90000-C",
                "BTC-26DEC25-95000-C",
                "BTC-26DEC25-95000-C-USDT",
                "BTC-26DEC25-100000-C",
                "BTC-26DEC25-100000-P"
            ]
        );
        let s = sym("BTC-26DEC25-100000-C");
        c.upsert(
            &s,
            &upd(&[(Field::MarkPrice, 10.0), (Field::Delta, 0.5)], 2),
        );
        assert_eq!(
            c.upsert(&s, &upd(&[(Field::MarkPrice, 11.0)], 3)),
            UpsertOutcome::Changed
        );
        let got = c.get(&s).unwrap();
        assert_eq!(got.get(Field::MarkPrice), Some(11.0));
        assert_eq!(got.get(Field::Delta), Some(0.5));
        assert_eq!(got.get(Field::Gamma), None);
        assert_eq!(got.updated_ms, 3);
        assert_eq!(
            c.upsert(&s, &upd(&[(Field::MarkPrice, 11.0)], 4)),
            UpsertOutcome::Unchanged
        );
        assert_eq!(c.expiry_slice(Expiry::parse("26DEC25").unwrap()).len(), 4);
    }

    #[test]
    fn changes_report_rows_and_removals_after_a_cursor() {
        let mut c = Chain::new("ETH", 100);
        let a = sym("ETH-26DEC25-4000-C");
        let b = sym("ETH-26DEC25-4000-P");
        c.upsert(&a, &upd(&[(Field::MarkPrice, 1.0)], 1));
        c.upsert(&b, &upd(&[(Field::MarkPrice, 2.0)], 1));
        let cursor = c.seq;
        c.upsert(&a, &upd(&[(Field::MarkPrice, 1.5)], 2));
        c.remove(&b);
        let ch = c.changes_since(cursor, 0);
        assert!(!ch.reset);
        assert_eq!(ch.rows.len(), 1);
        assert_eq!(&*ch.rows[0].symbol, "ETH-26DEC25-4000-C");
        assert_eq!(ch.removed, ["ETH-26DEC25-4000-P"]);
        assert!(c.changes_since(c.seq + 5, 0).reset);
        assert!(c.changes_since(50, 0).reset);
        assert!(c.changes_since(c.seq, 0).rows.is_empty());
    }

    #[test]
    fn a_contract_removed_and_listed_again_is_a_row_not_a_removal() {
        let mut c = Chain::new("ETH", 100);
        let a = sym("ETH-26DEC25-4000-C");
        let b = sym("ETH-26DEC25-4000-P");
        c.upsert(&a, &upd(&[(Field::MarkPrice, 1.0)], 1));
        c.upsert(&b, &upd(&[(Field::MarkPrice, 1.0)], 1));
        let cursor = c.seq;
        c.remove(&a);
        c.upsert(&a, &upd(&[(Field::MarkPrice, 2.0)], 2));
        c.remove(&b);
        c.upsert(&b, &upd(&[(Field::MarkPrice, 3.0)], 3));
        c.remove(&b);
        let ch = c.changes_since(cursor, 0);
        let rows: Vec<&str> = ch.rows.iter().map(|r| &*r.symbol).collect();
        assert_eq!(rows, ["ETH-26DEC25-4000-C"]);
        assert_eq!(
            ch.removed,
            ["ETH-26DEC25-4000-P"],
            "once, and only what is gone"
        );
    }

    #[test]
    fn purge_drops_only_expired_prefix() {
        let mut c = Chain::new("SOL", 0);
        c.upsert(&sym("SOL-3SEP25-200-C-USDT"), &upd(&[], 1));
        c.upsert(&sym("SOL-26DEC25-200-C-USDT"), &upd(&[], 1));
        let after_first = Expiry::parse("3SEP25").unwrap().timestamp_ms();
        assert!(c.has_expired(after_first));
        assert_eq!(c.purge_expired(after_first), 1);
        assert_eq!(c.len(), 1);
        assert!(!c.has_expired(after_first));
    }

    #[test]
    fn tombstones_are_bounded_and_move_the_horizon() {
        let mut c = Chain::new("BTC", 0);
        for i in 0..(TOMBSTONE_CAPACITY + 10) {
            let s = sym(&format!("BTC-26DEC25-{}-C", i + 1));
            c.upsert(&s, &upd(&[], 1));
            c.remove(&s);
        }
        assert_eq!(c.tombstones().count(), TOMBSTONE_CAPACITY);
        assert!(c.horizon > 0);
        assert!(c.changes_since(0, 0).reset);
    }

    #[test]
    fn memory_accounts_for_symbols() {
        let mut c = Chain::new("BTC", 0);
        let before = c.memory_usage();
        c.upsert(&sym("BTC-26DEC25-100000-C"), &upd(&[], 1));
        assert!(c.memory_usage() >= before + std::mem::size_of::<Contract>() + 20);
    }

    /// One step of the model run: list or update, remove, or purge what expired by a day.
    #[derive(Debug, Clone)]
    enum Op {
        Upsert(usize, u32, bool, f64),
        Remove(usize, u32, bool),
        Purge(usize),
    }

    const DAYS: [&str; 5] = ["3SEP25", "26SEP25", "31OCT25", "26DEC25", "27MAR26"];

    fn op_symbol(day: usize, strike: u32, call: bool) -> Symbol {
        let kind = if call { "C" } else { "P" };
        sym(&format!("BTC-{}-{}-{kind}", DAYS[day], 1000 * (strike + 1)))
    }

    proptest! {
        /// Blocks hold exactly what a sorted map of the same writes holds, in the same order,
        /// and a chain rebuilt from its contracts (an RDB load) equals it.
        #[test]
        fn blocks_agree_with_a_sorted_map(ops in proptest::collection::vec(
            prop_oneof![
                6 => (0..5usize, 0..20u32, proptest::bool::ANY, 0.0..10.0f64)
                    .prop_map(|(d, k, c, v)| Op::Upsert(d, k, c, v)),
                2 => (0..5usize, 0..20u32, proptest::bool::ANY)
                    .prop_map(|(d, k, c)| Op::Remove(d, k, c)),
                1 => (0..5usize).prop_map(Op::Purge),
            ],
            0..200,
        )) {
            use std::collections::BTreeMap;
            // Keyed by (expiry, strike, put?) — the chain's order for one settle coin.
            let mut model: BTreeMap<(Expiry, u32, bool), (String, f64)> = BTreeMap::new();
            let mut c = Chain::new("BTC", 0);
            for op in ops {
                match op {
                    Op::Upsert(d, k, call, v) => {
                        let s = op_symbol(d, k, call);
                        let created = !model.contains_key(&(s.expiry, k, !call));
                        model.insert((s.expiry, k, !call), (s.canonical(), v));
                        let out = c.upsert(&s, &upd(&[(Field::MarkPrice, v)], 1));
                        prop_assert_eq!(out == UpsertOutcome::Created, created);
                    }
                    Op::Remove(d, k, call) => {
                        let s = op_symbol(d, k, call);
                        let had = model.remove(&(s.expiry, k, !call)).is_some();
                        prop_assert_eq!(c.remove(&s), had);
                    }
                    Op::Purge(d) => {
                        let now = Expiry::parse(DAYS[d]).unwrap().timestamp_ms();
                        let before = model.len();
                        model.retain(|(e, _, _), _| e.timestamp_ms() > now);
                        prop_assert_eq!(c.purge_expired(now), before - model.len());
                        prop_assert!(!c.has_expired(now));
                    }
                }
                prop_assert_eq!(c.len(), model.len());
            }
            let want: Vec<(&str, f64)> = model.values().map(|(s, v)| (s.as_str(), *v)).collect();
            let got: Vec<(&str, f64)> = c
                .contracts()
                .map(|x| (&*x.symbol, x.get(Field::MarkPrice).unwrap()))
                .collect();
            prop_assert_eq!(&got, &want);
            for day in DAYS {
                let e = Expiry::parse(day).unwrap();
                let n = model.keys().filter(|(x, _, _)| *x == e).count();
                prop_assert_eq!(c.expiry_slice(e).len(), n);
            }
            let listed: Vec<Expiry> = model.keys().map(|(e, _, _)| *e).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            prop_assert_eq!(c.expiries(0), listed);
            let rebuilt = Chain::from_parts(
                "BTC", c.seq, c.updates, c.last_update_ms, c.horizon,
                c.contracts().cloned().collect(), c.tombstones().map(|(s, x)| (s, x.into())).collect(),
            );
            prop_assert!(rebuilt.contracts().eq(c.contracts()));
            prop_assert_eq!(rebuilt.len(), c.len());
        }
    }

    #[test]
    fn symbol_must_match_key() {
        assert!(symbol_for_key("BTC", "BTC-26DEC25-100000-C").is_ok());
        let err = symbol_for_key("ETH", "BTC-26DEC25-100000-C").unwrap_err();
        assert!(err.contains("belongs to underlying BTC"), "{err}");
        assert!(symbol_for_key("BTC", "garbage").is_err());
    }
}
