//! The native type: RDB save/load, AOF rewrite, memory reporting, copy and free.
//!
//! The layout itself is `rdb`; this file adapts it to `RedisModuleIO`.
//!
//! Values are saved as doubles, so a restart gives back every bit. Every callback catches
//! panics: unwinding into Redis would take the server down.
//!
//! Every unsafe operation sits in its own `unsafe` block with the reason it is sound (the lint
//! below makes that so even inside the `unsafe extern "C"` callbacks). The one fact most of them
//! rest on: Redis hands a type callback the value pointer this module returned from `rdb_load`
//! or `copy`, or stored with `set_value` (always a `Box<Chain>`), and no other thread touches a
//! key's value during a callback.

#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::{c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use options_core::{format_number, FIELDS};
use redis_module::native_types::RedisType;
use redis_module::{raw, RedisModuleTypeMethods};

use crate::chain::{Chain, Contract};
use crate::rdb::{self, RdbRead, RdbWrite, ENCODING_VERSION};
use crate::stats;
pub use options_core::CHAIN_TYPE_NAME as TYPE_NAME;

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
    // SAFETY: `value` is a live `Box<Chain>` of this type (module doc); Redis does not change
    // it during the save, so a shared borrow for this call is sound.
    let chain = unsafe { &*(value as *const Chain) };
    let r = catch_unwind(AssertUnwindSafe(|| save_chain(rdb, chain)));
    if r.is_err() {
        log_warning("options: panic while saving a chain");
    }
}

/// Redis's RDB stream for one value.
struct Io(*mut raw::RedisModuleIO);

impl RdbWrite for Io {
    fn unsigned(&mut self, v: u64) {
        raw::save_unsigned(self.0, v);
    }

    fn signed(&mut self, v: i64) {
        raw::save_signed(self.0, v);
    }

    fn double(&mut self, v: f64) {
        raw::save_double(self.0, v);
    }

    fn buffer(&mut self, v: &[u8]) {
        raw::save_slice(self.0, v);
    }
}

impl RdbRead for Io {
    fn unsigned(&mut self) -> Result<u64, String> {
        raw::load_unsigned(self.0).map_err(|e| e.to_string())
    }

    fn signed(&mut self) -> Result<i64, String> {
        raw::load_signed(self.0).map_err(|e| e.to_string())
    }

    fn double(&mut self) -> Result<f64, String> {
        raw::load_double(self.0).map_err(|e| e.to_string())
    }

    fn buffer(&mut self) -> Result<Vec<u8>, String> {
        raw::load_string_buffer(self.0)
            .map(|b| b.as_ref().to_vec())
            .map_err(|e| e.to_string())
    }
}

fn save_chain(rdb: *mut raw::RedisModuleIO, chain: &Chain) {
    rdb::save_chain(&mut Io(rdb), chain);
}

unsafe extern "C" fn rdb_load(rdb: *mut raw::RedisModuleIO, encver: c_int) -> *mut c_void {
    match catch_unwind(AssertUnwindSafe(|| rdb::load_chain(&mut Io(rdb), encver))) {
        Ok(Ok(mut chain)) => {
            chain.continue_sequence_after_load();
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

/// One `OPTIONS.INGEST` per contract, with `updated_ms` so a replay reproduces the row exactly.
/// A replay starts each chain's sequence afresh (`chain::sequence`); CHANGES clients then
/// resynchronise once.
unsafe extern "C" fn aof_rewrite(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: as in `rdb_save`: a live `Box<Chain>`, unchanged while the rewrite reads it.
    let chain = unsafe { &*(value as *const Chain) };
    let r = catch_unwind(AssertUnwindSafe(|| {
        // History first, then the contracts flagged NOHISTORY: a replay of old values must
        // not sample a chain it is still rebuilding (with history off when it was written and on
        // when it is replayed, the first INGEST would otherwise sample a one-contract chain).
        if !chain.history.is_empty() {
            let mut words: Vec<Vec<u8>> = Vec::new();
            for c in chain.history.chunks() {
                words.push(c.count.to_string().into_bytes());
                words.push(c.bytes.clone());
            }
            // SAFETY: `aof` and `key` are the ones Redis passed to this callback.
            unsafe { emit(aof, key, "OPTIONS.HISTORYRESTORE", &words) };
        }
        for c in chain.contracts() {
            // SAFETY: as above.
            unsafe { emit_ingest(aof, key, c) };
        }
    }));
    if r.is_err() {
        log_warning("options: panic while rewriting the AOF");
    }
}

/// # Safety
/// `aof` and `key` must be the ones Redis passed to the running `aof_rewrite` callback.
unsafe fn emit_ingest(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    c: &Contract,
) {
    let mut words: Vec<String> = Vec::with_capacity(3 + 2 * FIELDS.len() + 2);
    words.push("NOHISTORY".to_string());
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
    // SAFETY: this function's own contract.
    unsafe { emit(aof, key, "OPTIONS.INGEST", &words) };
}

/// Writes `command key words…` to the AOF; words may be binary.
///
/// # Safety
/// `aof` and `key` must be the ones Redis passed to the running `aof_rewrite` callback.
unsafe fn emit(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    command: &str,
    words: &[Vec<u8>],
) {
    // SAFETY: Redis fills the API table once, when it loads the module, before any callback
    // runs; it is only read afterwards.
    let api = unsafe {
        (
            raw::RedisModule_CreateString,
            raw::RedisModule_FreeString,
            raw::RedisModule_EmitAOF,
        )
    };
    let (Some(create), Some(free_string), Some(emit)) = api else {
        return;
    };
    let strings: Vec<*mut raw::RedisModuleString> = words
        .iter()
        // SAFETY: a null context makes an unowned string, freed below; the pointer and length
        // are those of a live slice.
        .map(|w| unsafe { create(ptr::null_mut(), w.as_ptr().cast(), w.len()) })
        .collect();
    let cmd = CString::new(command).unwrap_or_default();
    // SAFETY: "s" is the key Redis gave this rewrite, "v" an array of `strings.len()` live
    // strings; Redis copies what it writes before returning.
    unsafe {
        emit(
            aof,
            cmd.as_ptr(),
            c"sv".as_ptr(),
            key,
            strings.as_ptr(),
            strings.len(),
        )
    };
    for s in strings {
        // SAFETY: each was made above with a null context and is freed once, here.
        unsafe { free_string(ptr::null_mut(), s) };
    }
}

unsafe extern "C" fn mem_usage(value: *const c_void) -> usize {
    // SAFETY: a live `Box<Chain>` of this type (module doc), only read here.
    let chain = unsafe { &*(value as *const Chain) };
    catch_unwind(AssertUnwindSafe(|| chain.memory_usage())).unwrap_or(0)
}

unsafe extern "C" fn free_effort(_key: *mut raw::RedisModuleString, value: *const c_void) -> usize {
    // SAFETY: as in `mem_usage`.
    let chain = unsafe { &*(value as *const Chain) };
    // Each contract owns one allocation (its symbol); a large chain is freed in the background.
    chain.len() + 1
}

unsafe extern "C" fn free(value: *mut c_void) {
    if value.is_null() {
        return;
    }
    // SAFETY: Redis frees a value once, when nothing else holds it; it is the `Box<Chain>`
    // this module made, so taking it back and dropping it is the matching free.
    let chain = unsafe { Box::from_raw(value as *mut Chain) };
    if catch_unwind(AssertUnwindSafe(|| {
        stats::chain_removed(&chain);
        crate::chain::sequence::retire(chain.seq);
        drop(chain);
    }))
    .is_err()
    {
        log_warning("options: panic while freeing a chain");
    }
}

unsafe extern "C" fn copy(
    _from: *mut raw::RedisModuleString,
    _to: *mut raw::RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    // SAFETY: as in `mem_usage`; the copy is a new value, the original is only read.
    let chain = unsafe { &*(value as *const Chain) };
    match catch_unwind(AssertUnwindSafe(|| chain.duplicate())) {
        Ok(copy) => {
            stats::chain_added(&copy);
            Box::into_raw(Box::new(copy)).cast()
        }
        Err(_) => ptr::null_mut(),
    }
}
