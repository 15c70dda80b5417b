//! The chain's RDB layout, read and written through two small traits so that the same code
//! serves Redis (`persist`, over `RedisModuleIO`) and a plain byte stream (`Bytes`, for the
//! fuzzer and tests: a truncated or corrupted payload must be refused with an error).
//!
//! Encoding version 3 (bump on any layout change and keep loading the old ones):
//!
//! ```text
//! string underlying | unsigned seq | unsigned updates | signed last_update_ms | unsigned horizon
//! unsigned n, then n × (string symbol | unsigned present | signed updated_ms | unsigned seq |
//!                      double × popcount(present), in field order)
//! unsigned m, then m × (unsigned seq | string symbol)          -- tombstones, oldest first
//! unsigned k, then k × (unsigned samples | string bytes)       -- history chunks (version 2)
//! ```
//!
//! Version 3 is version 2 whose history chunks may also be column chunks (`history::columns`,
//! first byte 0x02): a module that reads only version 2 would fail on them, so it is told by the
//! version instead. Version 2 loads as it is (row chunks only); version 1 is version 2 without
//! the history and loads with none.

use options_core::FIELDS;

use crate::chain::{Chain, Contract, TOMBSTONE_CAPACITY};

pub const ENCODING_VERSION: i32 = 4;

/// Reads RDB items in order; each fails when the stream has no such item.
pub trait RdbRead {
    fn unsigned(&mut self) -> Result<u64, String>;
    fn signed(&mut self) -> Result<i64, String>;
    fn double(&mut self) -> Result<f64, String>;
    fn buffer(&mut self) -> Result<Vec<u8>, String>;
}

/// Writes RDB items in order.
pub trait RdbWrite {
    fn unsigned(&mut self, v: u64);
    fn signed(&mut self, v: i64);
    fn double(&mut self, v: f64);
    fn buffer(&mut self, v: &[u8]);
}

pub fn save_chain(w: &mut impl RdbWrite, chain: &Chain) {
    w.buffer(chain.underlying.as_bytes());
    w.unsigned(chain.seq);
    w.unsigned(chain.updates);
    w.signed(chain.last_update_ms);
    w.unsigned(chain.horizon);
    w.unsigned(chain.len() as u64);
    for c in chain.contracts() {
        w.buffer(c.symbol.as_bytes());
        w.unsigned(u64::from(c.present));
        w.signed(c.updated_ms);
        w.unsigned(c.seq);
        for f in FIELDS {
            if let Some(v) = c.get(f) {
                w.double(v);
            }
        }
    }
    let tombstones: Vec<(u64, &str)> = chain.tombstones().collect();
    w.unsigned(tombstones.len() as u64);
    for (seq, sym) in tombstones {
        w.unsigned(seq);
        w.buffer(sym.as_bytes());
    }
    let chunks = chain.history.chunks();
    w.unsigned(chunks.len() as u64);
    for c in chunks {
        w.unsigned(u64::from(c.count));
        w.buffer(&c.bytes);
    }
}

fn text(r: &mut impl RdbRead) -> Result<String, String> {
    String::from_utf8(r.buffer()?).map_err(|_| "string is not UTF-8".to_string())
}

/// Reads one chain of encoding `encver`. Counts come from the file, so nothing is reserved
/// beyond what a sane chain needs, and every symbol is validated against the key's underlying.
pub fn load_chain(r: &mut impl RdbRead, encver: i32) -> Result<Chain, String> {
    if !(1..=ENCODING_VERSION).contains(&encver) {
        return Err(format!(
            "unknown encoding version {encver} (this module reads 1 to {ENCODING_VERSION})"
        ));
    }
    let underlying = text(r)?;
    let seq = r.unsigned()?;
    let updates = r.unsigned()?;
    let last_update_ms = r.signed()?;
    let horizon = r.unsigned()?;
    let n = r.unsigned()?;
    let mut contracts = Vec::with_capacity(n.min(100_000) as usize);
    for _ in 0..n {
        let symbol_text = text(r)?;
        let symbol = crate::chain::symbol_for_key(&underlying, &symbol_text)?;
        let present = r.unsigned()?;
        if present >> FIELDS.len() != 0 {
            return Err(format!(
                "contract {symbol_text} has an invalid field mask {present:#x}"
            ));
        }
        let mut c = Contract::new(&symbol);
        c.present = present as u32;
        c.updated_ms = r.signed()?;
        c.seq = r.unsigned()?;
        for f in FIELDS {
            if c.present & f.bit() != 0 {
                let v = r.double()?;
                // INGEST stores only finite numbers; JSON replies could not carry others.
                if !v.is_finite() {
                    return Err(format!("contract {symbol_text} has {} = {v}", f.name()));
                }
                c.values[f.index()] = v;
            }
        }
        contracts.push(c);
    }
    let m = r.unsigned()?;
    let mut tombstones = Vec::with_capacity(m.min(TOMBSTONE_CAPACITY as u64) as usize);
    for _ in 0..m {
        let s = r.unsigned()?;
        tombstones.push((s, text(r)?.into_boxed_str()));
    }
    let mut chain = Chain::from_parts(
        &underlying,
        seq,
        updates,
        last_update_ms,
        horizon,
        contracts,
        tombstones,
    );
    if encver >= 2 {
        let k = r.unsigned()?;
        let mut parts = Vec::with_capacity(k.min(1024) as usize);
        for _ in 0..k {
            let count = u32::try_from(r.unsigned()?).map_err(|_| "history chunk too large")?;
            parts.push((count, r.buffer()?));
        }
        chain.history = crate::history::History::from_chunks(parts)?;
    }
    Ok(chain)
}

/// RDB items as plain bytes: numbers as 8 bytes little-endian, a buffer as its length (4 bytes)
/// then its bytes. Redis's own file format differs; the order of items is the same.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err(format!("payload ends inside {what}"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn word(&mut self, what: &str) -> Result<[u8; 8], String> {
        let mut w = [0; 8];
        w.copy_from_slice(self.take(8, what)?);
        Ok(w)
    }
}

impl RdbRead for Bytes<'_> {
    fn unsigned(&mut self) -> Result<u64, String> {
        self.word("an unsigned").map(u64::from_le_bytes)
    }

    fn signed(&mut self) -> Result<i64, String> {
        self.word("a signed").map(i64::from_le_bytes)
    }

    fn double(&mut self) -> Result<f64, String> {
        self.word("a double").map(f64::from_le_bytes)
    }

    fn buffer(&mut self) -> Result<Vec<u8>, String> {
        let mut len = [0; 4];
        len.copy_from_slice(self.take(4, "a string length")?);
        let len = u32::from_le_bytes(len) as usize;
        self.take(len, "a string").map(<[u8]>::to_vec)
    }
}

impl RdbWrite for Vec<u8> {
    fn unsigned(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }

    fn signed(&mut self, v: i64) {
        self.extend_from_slice(&v.to_le_bytes());
    }

    fn double(&mut self, v: f64) {
        self.extend_from_slice(&v.to_le_bytes());
    }

    fn buffer(&mut self, v: &[u8]) {
        let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.extend_from_slice(&len.to_le_bytes());
        self.extend_from_slice(&v[..len as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Update;
    use options_core::{parse_symbol, Field};

    fn sample_chain() -> Chain {
        let mut c = Chain::new("ETH", 7);
        for (s, v) in [
            ("ETH-26DEC25-4000-C", 120.5),
            ("ETH-26DEC25-4000-P", 80.25),
            ("ETH-27MAR26-5000-C-USDT", 33.0),
        ] {
            let update = Update {
                values: vec![(Field::MarkPrice, v), (Field::Delta, 0.5)],
                updated_ms: 1_700_000_000_000,
            };
            c.upsert(&parse_symbol(s).unwrap(), &update);
        }
        c.remove(&parse_symbol("ETH-26DEC25-4000-P").unwrap());
        c
    }

    #[test]
    fn a_saved_chain_loads_back_equal() {
        let chain = sample_chain();
        let mut bytes = Vec::new();
        save_chain(&mut bytes, &chain);
        let back = load_chain(&mut Bytes(&bytes), ENCODING_VERSION).unwrap();
        assert!(back.contracts().eq(chain.contracts()));
        assert_eq!(
            back.tombstones().collect::<Vec<_>>(),
            chain.tombstones().collect::<Vec<_>>()
        );
        assert_eq!(
            (back.seq, back.updates, back.horizon),
            (chain.seq, chain.updates, chain.horizon)
        );
    }

    #[test]
    fn every_truncation_is_refused_with_an_error() {
        let mut bytes = Vec::new();
        save_chain(&mut bytes, &sample_chain());
        for cut in 0..bytes.len() {
            let err = load_chain(&mut Bytes(&bytes[..cut]), ENCODING_VERSION)
                .err()
                .unwrap_or_else(|| panic!("a payload cut at {cut} of {} loaded", bytes.len()));
            assert!(err.contains("payload ends"), "{err}");
        }
    }

    #[test]
    fn unknown_versions_and_foreign_symbols_are_refused() {
        assert!(load_chain(&mut Bytes(&[]), ENCODING_VERSION + 1)
            .unwrap_err()
            .contains(&format!("version {}", ENCODING_VERSION + 1)));
        let mut other = Chain::new("BTC", 0);
        other.upsert(
            &parse_symbol("BTC-26DEC25-100000-C").unwrap(),
            &Update::default(),
        );
        let mut bytes = Vec::new();
        save_chain(&mut bytes, &other);
        // Rename the underlying ("BTC" → "ETH") in place: the contract no longer belongs.
        bytes[4..7].copy_from_slice(b"ETH");
        let err = load_chain(&mut Bytes(&bytes), 2).unwrap_err();
        assert!(err.contains("belongs to underlying BTC"), "{err}");
    }
}
