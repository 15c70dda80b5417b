//! The native type: RDB save/load, AOF rewrite, memory reporting, copy and free.
//!
//! RDB encoding version 2 (bump on any layout change and keep loading the old ones):
//!
//! ```text
//! string underlying | unsigned seq | unsigned updates | signed last_update_ms | unsigned horizon
//! unsigned n, then n × (string symbol | unsigned present | signed updated_ms | unsigned seq |
//!                      double × popcount(present), in field order)
//! unsigned m, then m × (unsigned seq | string symbol)          -- tombstones, oldest first
//! unsigned k, then k × (unsigned samples | string bytes)       -- history chunks (version 2)
//! ```
//!
//! Version 1 is version 2 without the history; it still loads (with no history).
//!
//! Values are saved as doubles, so a restart gives back every bit. Every callback catches
//! panics: unwinding into Redis would take the server down.

use std::ffi::{c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use options_core::{format_number, FIELDS};
use redis_module::native_types::RedisType;
use redis_module::{raw, RedisModuleTypeMethods};

use crate::chain::{Chain, Contract};
use crate::stats;

pub const ENCODING_VERSION: i32 = 2;
pub use options_core::reply::CHAIN_TYPE_NAME as TYPE_NAME;

pub static CHAIN_TYPE: RedisType = RedisType::new(
    TYPE_NAME,
    ENCODING_VERSION,
    RedisModuleTypeMethods {
        version: redis_module::TYPE_METHOD_VERSION,
        rdb_load: Some(rdb_load),
        rdb_save: Some(rdb_save),
        aof_rewrite: Some(aof_rewrite),
        mem_usage: Some(mem_usage),
        digest: None,
        free: Some(free),
        aux_load: None,
        aux_save: None,
        aux_save2: None,
        aux_save_triggers: 0,
        free_effort: Some(free_effort),
        unlink: None,
        copy: Some(copy),
        defrag: None,
        mem_usage2: None,
        free_effort2: None,
        unlink2: None,
        copy2: None,
    },
);

fn log_warning(msg: &str) {
    redis_module::logging::log_warning(msg);
}

unsafe extern "C" fn rdb_save(rdb: *mut raw::RedisModuleIO, value: *mut c_void) {
    let chain = &*(value as *const Chain);
    let r = catch_unwind(AssertUnwindSafe(|| save_chain(rdb, chain)));
    if r.is_err() {
        log_warning("options: panic while saving a chain");
    }
}

fn save_chain(rdb: *mut raw::RedisModuleIO, chain: &Chain) {
    raw::save_string(rdb, &chain.underlying);
    raw::save_unsigned(rdb, chain.seq);
    raw::save_unsigned(rdb, chain.updates);
    raw::save_signed(rdb, chain.last_update_ms);
    raw::save_unsigned(rdb, chain.horizon);
    raw::save_unsigned(rdb, chain.len() as u64);
    for c in chain.contracts() {
        raw::save_string(rdb, &c.symbol);
        raw::save_unsigned(rdb, u64::from(c.present));
        raw::save_signed(rdb, c.updated_ms);
        raw::save_unsigned(rdb, c.seq);
        for f in FIELDS {
            if let Some(v) = c.get(f) {
                raw::save_double(rdb, v);
            }
        }
    }
    let tombstones: Vec<(u64, &str)> = chain.tombstones().collect();
    raw::save_unsigned(rdb, tombstones.len() as u64);
    for (seq, sym) in tombstones {
        raw::save_unsigned(rdb, seq);
        raw::save_string(rdb, sym);
    }
    let chunks = chain.history.chunks();
    raw::save_unsigned(rdb, chunks.len() as u64);
    for c in chunks {
        raw::save_unsigned(rdb, u64::from(c.count));
        raw::save_slice(rdb, &c.bytes);
    }
}

unsafe extern "C" fn rdb_load(rdb: *mut raw::RedisModuleIO, encver: c_int) -> *mut c_void {
    if !(1..=ENCODING_VERSION).contains(&encver) {
        log_warning(&format!(
            "options: cannot load chain encoding version {encver} (this module reads {ENCODING_VERSION})"
        ));
        return ptr::null_mut();
    }
    match catch_unwind(AssertUnwindSafe(|| load_chain(rdb, encver))) {
        Ok(Ok(chain)) => {
            stats::chain_added(&chain);
            Box::into_raw(Box::new(chain)).cast()
        }
        Ok(Err(e)) => {
            log_warning(&format!("options: cannot load chain: {e}"));
            ptr::null_mut()
        }
        Err(_) => {
            log_warning("options: panic while loading a chain");
            ptr::null_mut()
        }
    }
}

fn load_str(rdb: *mut raw::RedisModuleIO) -> Result<String, String> {
    let buf = raw::load_string_buffer(rdb).map_err(|e| e.to_string())?;
    String::from_utf8(buf.as_ref().to_vec()).map_err(|_| "string is not UTF-8".to_string())
}

fn load_u64(rdb: *mut raw::RedisModuleIO) -> Result<u64, String> {
    raw::load_unsigned(rdb).map_err(|e| e.to_string())
}

fn load_i64(rdb: *mut raw::RedisModuleIO) -> Result<i64, String> {
    raw::load_signed(rdb).map_err(|e| e.to_string())
}

fn load_chain(rdb: *mut raw::RedisModuleIO, encver: c_int) -> Result<Chain, String> {
    let underlying = load_str(rdb)?;
    let seq = load_u64(rdb)?;
    let updates = load_u64(rdb)?;
    let last_update_ms = load_i64(rdb)?;
    let horizon = load_u64(rdb)?;
    let n = load_u64(rdb)?;
    // The count comes from the file: reserve only what a sane chain needs.
    let mut contracts = Vec::with_capacity(n.min(100_000) as usize);
    for _ in 0..n {
        let text = load_str(rdb)?;
        let symbol = crate::chain::symbol_for_key(&underlying, &text)?;
        let present = load_u64(rdb)?;
        if present >> FIELDS.len() != 0 {
            return Err(format!(
                "contract {text} has an invalid field mask {present:#x}"
            ));
        }
        let mut c = Contract::new(&symbol);
        c.present = present as u32;
        c.updated_ms = load_i64(rdb)?;
        c.seq = load_u64(rdb)?;
        for f in FIELDS {
            if c.present & f.bit() != 0 {
                c.values[f.index()] = raw::load_double(rdb).map_err(|e| e.to_string())?;
            }
        }
        contracts.push(c);
    }
    let m = load_u64(rdb)?;
    let mut tombstones =
        Vec::with_capacity(m.min(crate::chain::TOMBSTONE_CAPACITY as u64) as usize);
    for _ in 0..m {
        let s = load_u64(rdb)?;
        tombstones.push((s, load_str(rdb)?.into_boxed_str()));
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
        let k = load_u64(rdb)?;
        let mut parts = Vec::with_capacity(k.min(1024) as usize);
        for _ in 0..k {
            let count = u32::try_from(load_u64(rdb)?).map_err(|_| "history chunk too large")?;
            let bytes = raw::load_string_buffer(rdb).map_err(|e| e.to_string())?;
            parts.push((count, bytes.as_ref().to_vec()));
        }
        chain.history = crate::history::History::from_chunks(parts)?;
    }
    Ok(chain)
}

/// One `OPTIONS.INGEST` per contract, with `updated_ms` so a replay reproduces the row exactly.
/// Sequence numbers restart from the replay; CHANGES clients then resynchronise once.
unsafe extern "C" fn aof_rewrite(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    value: *mut c_void,
) {
    let chain = &*(value as *const Chain);
    let r = catch_unwind(AssertUnwindSafe(|| {
        // History first: the INGESTs that follow are then no later than its newest sample and
        // take none of their own.
        if !chain.history.is_empty() {
            let mut words: Vec<Vec<u8>> = Vec::new();
            for c in chain.history.chunks() {
                words.push(c.count.to_string().into_bytes());
                words.push(c.bytes.clone());
            }
            emit(aof, key, "OPTIONS.HISTORYRESTORE", &words);
        }
        for c in chain.contracts() {
            emit_ingest(aof, key, c);
        }
    }));
    if r.is_err() {
        log_warning("options: panic while rewriting the AOF");
    }
}

unsafe fn emit_ingest(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    c: &Contract,
) {
    let mut words: Vec<String> = Vec::with_capacity(2 + 2 * FIELDS.len() + 2);
    words.push(c.symbol.to_string());
    for f in FIELDS {
        if let Some(v) = c.get(f) {
            words.push(f.name().to_string());
            words.push(format_number(v));
        }
    }
    words.push("updated_ms".to_string());
    words.push(c.updated_ms.to_string());
    let words: Vec<Vec<u8>> = words.into_iter().map(String::into_bytes).collect();
    emit(aof, key, "OPTIONS.INGEST", &words);
}

/// Writes `command key words…` to the AOF; words may be binary.
unsafe fn emit(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    command: &str,
    words: &[Vec<u8>],
) {
    let (Some(create), Some(free_string), Some(emit)) = (
        raw::RedisModule_CreateString,
        raw::RedisModule_FreeString,
        raw::RedisModule_EmitAOF,
    ) else {
        return;
    };
    let strings: Vec<*mut raw::RedisModuleString> = words
        .iter()
        .map(|w| create(ptr::null_mut(), w.as_ptr().cast(), w.len()))
        .collect();
    let cmd = CString::new(command).unwrap_or_default();
    // "s": the key, "v": an array of strings and its length.
    emit(
        aof,
        cmd.as_ptr(),
        c"sv".as_ptr(),
        key,
        strings.as_ptr(),
        strings.len(),
    );
    for s in strings {
        free_string(ptr::null_mut(), s);
    }
}

unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    let chain = &*(value as *const Chain);
    chain.memory_usage()
}

unsafe extern "C" fn free_effort(_key: *mut raw::RedisModuleString, value: *const c_void) -> usize {
    let chain = &*(value as *const Chain);
    // Each contract owns one allocation (its symbol); a large chain is freed in the background.
    chain.len() + 1
}

unsafe extern "C" fn free(value: *mut c_void) {
    if value.is_null() {
        return;
    }
    let chain = Box::from_raw(value as *mut Chain);
    stats::chain_removed(&chain);
    drop(chain);
}

unsafe extern "C" fn copy(
    _from: *mut raw::RedisModuleString,
    _to: *mut raw::RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    let chain = &*(value as *const Chain);
    match catch_unwind(AssertUnwindSafe(|| chain.duplicate())) {
        Ok(copy) => {
            stats::chain_added(&copy);
            Box::into_raw(Box::new(copy)).cast()
        }
        Err(_) => ptr::null_mut(),
    }
}
