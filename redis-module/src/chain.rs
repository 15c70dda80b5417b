//! `Chain`: every contract of one underlying, the value stored under one Redis key.
//!
//! Contracts live in one `Vec` kept sorted by (expiry, strike, type, settle). An expiry filter
//! is then a binary-searched slice, strikes come out in order, and an update finds its contract
//! in O(log n) without a per-contract hash map (which would cost more memory than the
//! contract's numbers). Inserts shift the vector, but they happen once per listing, not per tick.

use std::cell::{Cell, OnceCell};
use std::cmp::Ordering;
use std::collections::VecDeque;

use options_core::{Expiry, Field, OptionType, ParseError, Settle, Symbol, FIELD_COUNT};

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

#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub underlying: Box<str>,
    contracts: Vec<Contract>,
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
    /// An empty chain. `seq0` starts the sequence (the first update's time in ms) so that a
    /// recreated key's sequence is unlikely to fall where an old client's cursor is.
    pub fn new(underlying: &str, seq0: u64) -> Self {
        Chain {
            underlying: underlying.into(),
            contracts: Vec::new(),
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
        self.contracts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// All contracts in chain order, expired ones included.
    pub fn contracts(&self) -> &[Contract] {
        &self.contracts
    }

    pub fn live(&self, now_ms: i64) -> impl Iterator<Item = &Contract> {
        self.contracts.iter().filter(move |c| c.is_live(now_ms))
    }

    /// Contracts of one expiry, in strike order.
    pub fn expiry_slice(&self, expiry: Expiry) -> &[Contract] {
        let start = self.contracts.partition_point(|c| c.expiry < expiry);
        let end = self.contracts.partition_point(|c| c.expiry <= expiry);
        &self.contracts[start..end]
    }

    fn position(&self, key: &ContractKey) -> Result<usize, usize> {
        self.contracts.binary_search_by(|c| c.key().cmp(key))
    }

    pub fn get(&self, symbol: &Symbol) -> Option<&Contract> {
        self.position(&ContractKey::of(symbol))
            .ok()
            .map(|i| &self.contracts[i])
    }

    /// Inserts or merges one contract's values. Values equal to the stored ones do not count
    /// as a change, so `OPTIONS.CHANGES` reports only rows that really moved.
    pub fn upsert(&mut self, symbol: &Symbol, update: &Update) -> UpsertOutcome {
        let (index, created) = match self.position(&ContractKey::of(symbol)) {
            Ok(i) => (i, false),
            Err(i) => {
                let contract = Contract::new(symbol);
                self.heap_bytes += contract.heap_bytes();
                if self.contracts.len() == self.contracts.capacity() {
                    // Grow by a quarter, not double: listings arrive once, and doubling would
                    // leave up to half of a large chain's memory unused.
                    let extra = (self.contracts.len() / 4).max(16);
                    self.contracts.reserve_exact(extra);
                }
                self.contracts.insert(i, contract);
                (i, true)
            }
        };
        let contract = &mut self.contracts[index];
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
        self.updates += 1;
        self.last_update_ms = self.last_update_ms.max(update.updated_ms);
        if changed {
            self.seq += 1;
            contract.seq = self.seq;
            let dropped: usize = [contract.json.take(), contract.seed.take()]
                .iter()
                .flatten()
                .map(|b| b.len())
                .sum();
            self.cache_bytes.set(self.cache_bytes.get() - dropped);
        }
        match (created, changed) {
            (true, _) => UpsertOutcome::Created,
            (false, true) => UpsertOutcome::Changed,
            (false, false) => UpsertOutcome::Unchanged,
        }
    }

    pub fn remove(&mut self, symbol: &Symbol) -> bool {
        match self.position(&ContractKey::of(symbol)) {
            Ok(i) => {
                let contract = self.contracts.remove(i);
                self.bury(contract);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes every contract delivered at or before `now_ms`; returns how many.
    pub fn purge_expired(&mut self, now_ms: i64) -> usize {
        // Expired contracts are a prefix: the chain is sorted by expiry.
        let n = self.contracts.partition_point(|c| !c.is_live(now_ms));
        let gone: Vec<Contract> = self.contracts.drain(..n).collect();
        for c in gone {
            self.bury(c);
        }
        n
    }

    /// True when some contract has expired and awaits purging.
    pub fn has_expired(&self, now_ms: i64) -> bool {
        self.contracts.first().is_some_and(|c| !c.is_live(now_ms))
    }

    fn bury(&mut self, contract: Contract) {
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
                self.contracts
                    .iter()
                    .take_while(|c| !c.is_live(now_ms))
                    .map(|c| &*c.symbol),
            );
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
        let mut out: Vec<Expiry> = Vec::new();
        for c in self.live(now_ms) {
            if out.last() != Some(&c.expiry) {
                out.push(c.expiry);
            }
        }
        out
    }

    /// Bytes this chain occupies, for `MEMORY USAGE` and `OPTIONS.STATS`. Counts capacity, not
    /// length: that is what the allocator holds.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Chain>()
            + self.contracts.capacity() * std::mem::size_of::<Contract>()
            + self.tombstones.capacity() * std::mem::size_of::<(u64, Box<str>)>()
            + self.heap_bytes
            + self.cache_bytes.get()
            + self.history.memory()
    }

    /// Records that a read cached `bytes` of rendered row.
    pub fn note_cached(&self, bytes: usize) {
        self.cache_bytes.set(self.cache_bytes.get() + bytes);
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
        chain.contracts = contracts;
        for (s, sym) in tombstones {
            chain.push_tombstone(s, sym);
        }
        chain.horizon = horizon;
        chain
    }

    /// A copy (for `COPY`), with capacity trimmed to what is used.
    pub fn duplicate(&self) -> Chain {
        let mut c = self.clone();
        c.contracts.shrink_to_fit();
        c.tombstones.shrink_to_fit();
        c.history = self.history.compact();
        c
    }
}

/// Parses a symbol and checks that it belongs in the chain stored under `key`.
pub fn symbol_for_key(key: &str, text: &str) -> Result<Symbol, String> {
    let symbol = options_core::parse_symbol(text).map_err(|e: ParseError| e.to_string())?;
    if symbol.base != key {
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
        let order: Vec<&str> = c.contracts().iter().map(|c| &*c.symbol).collect();
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

    #[test]
    fn symbol_must_match_key() {
        assert!(symbol_for_key("BTC", "BTC-26DEC25-100000-C").is_ok());
        let err = symbol_for_key("ETH", "BTC-26DEC25-100000-C").unwrap_err();
        assert!(err.contains("belongs to underlying BTC"), "{err}");
        assert!(symbol_for_key("BTC", "garbage").is_err());
    }
}
