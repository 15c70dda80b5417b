//! Blocking reads on keys, wrapped once: what `OPTIONS.CHANGES … BLOCK ms` is built on, as
//! XREAD BLOCK and RedisTimeSeries' `TS.READ … BLOCK` are on the same calls.
//!
//! A reader that has nothing to read is parked on its key with `RedisModule_BlockClientOnKeys`.
//! Every write that changes a chain calls `signal` (the write chokepoint, `commands::keyspace::changed`);
//! Redis then runs the parked readers' `serve` again, after the write's command, and each either
//! answers (and is unblocked) or keeps waiting. Deletion wakes readers too: on servers with
//! `REDISMODULE_BLOCK_UNBLOCK_DELETED` (7.2+) by that flag; before it a deleted key is never
//! "ready", so the module's key-space hook (`gone`) unblocks its readers as if timed out, and the
//! timeout callback serves them (a reset). A flush or a load (a replica's full sync, `DEBUG
//! RELOAD`) does the same for every parked reader (`all_gone`): no key-space event names their
//! keys then.
//!
//! `serve` is an ordinary function of the command's arguments; it runs under `catch_unwind` like
//! every handler, so a panic is an error reply, never an abort of the server.

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use redis_module::{raw, Context, ContextFlags, RedisError, RedisResult, RedisString, RedisValue};

/// A parked reader's answer at a wake-up: `Some` answers and unblocks it, `None` keeps it
/// waiting.
pub type Serve = fn(&Context, &[RedisString]) -> Option<RedisResult>;

/// What a parked reader carries: how to serve it, and its key.
struct Parked {
    serve: Serve,
    key: Vec<u8>,
}

/// A parked reader as the registry knows it: Redis's handle and the `Parked` it was given.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Reader {
    handle: *mut raw::RedisModuleBlockedClient,
    parked: *mut c_void,
}

thread_local! {
    /// Parked readers by key. Redis runs commands, callbacks and events on its main thread only,
    /// so a thread-local is the one copy.
    static PARKED: RefCell<HashMap<Vec<u8>, Vec<Reader>>> = RefCell::new(HashMap::new());
}

/// Whether the server unblocks readers of a deleted key itself (7.2+: blocking with
/// `REDISMODULE_BLOCK_UNBLOCK_DELETED`). Before, a deleted key is never "ready", so the module
/// unblocks its readers (`gone`).
fn server_wakes_deleted() -> bool {
    // SAFETY: a copy of a pointer of the API table, filled when Redis loaded the module.
    let with_flags = unsafe { raw::RedisModule_BlockClientOnKeysWithFlags };
    with_flags.is_some()
}

/// Whether this call may block: not inside MULTI, a script or a function, and not for a client
/// that refuses blocking (`REDISMODULE_CTX_FLAGS_DENY_BLOCKING`, 6.2+). Where it may not, a
/// blocking command answers as its non-blocking form.
pub fn may_block(ctx: &Context) -> bool {
    let flags = ctx.get_flags();
    let deny = flags.bits() & raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING as c_int != 0;
    !deny && !flags.intersects(ContextFlags::MULTI | ContextFlags::LUA)
}

/// Parks the calling client on `key` for `timeout_ms` (0: until served). The command then
/// returns `RedisValue::NoReply`: `serve` answers later, or the timeout answers nil.
pub fn park(ctx: &Context, key: &RedisString, timeout_ms: u64, serve: Serve) -> RedisResult {
    let parked = Box::new(Parked {
        serve,
        key: key.as_slice().to_vec(),
    });
    let key_bytes = parked.key.clone();
    let privdata = Box::into_raw(parked).cast::<c_void>();
    let mut keys = [key.inner];
    let timeout = i64::try_from(timeout_ms).unwrap_or(i64::MAX);
    // SAFETY: the API table is filled when Redis loads the module, before any command runs;
    // `ctx` is this command's context (the caller checked `may_block`), `keys` holds one valid
    // string for the call, and `privdata` is a `Box<Parked>` that `free_parked` takes back
    // exactly once, when Redis unblocks the client for whatever reason.
    let blocked = unsafe {
        match (
            raw::RedisModule_BlockClientOnKeysWithFlags,
            raw::RedisModule_BlockClientOnKeys,
        ) {
            (Some(with_flags), _) => with_flags(
                ctx.ctx,
                Some(on_ready),
                Some(on_timeout),
                Some(free_parked),
                timeout,
                keys.as_mut_ptr(),
                1,
                privdata,
                raw::REDISMODULE_BLOCK_UNBLOCK_DELETED as c_int,
            ),
            (None, Some(plain)) => plain(
                ctx.ctx,
                Some(on_ready),
                Some(on_timeout),
                Some(free_parked),
                timeout,
                keys.as_mut_ptr(),
                1,
                privdata,
            ),
            (None, None) => {
                // Not parked: take the reader back and say why.
                drop(Box::from_raw(privdata.cast::<Parked>()));
                return Err(RedisError::Str(
                    "ERR this server cannot block on keys (Redis 6.0 or later is needed)",
                ));
            }
        }
    };
    if blocked.is_null() {
        // Not documented to happen; whether Redis kept `privdata` is then unknown, so it is left
        // to Redis rather than freed twice.
        return Err(RedisError::Str("ERR the client could not be blocked"));
    }
    let reader = Reader {
        handle: blocked,
        parked: privdata,
    };
    PARKED.with(|p| p.borrow_mut().entry(key_bytes).or_default().push(reader));
    Ok(RedisValue::NoReply)
}

/// A write changed `key`: its parked readers are served after the current command.
pub fn signal(ctx: &Context, key: &RedisString) {
    // Every INGEST comes here: with nobody parked (the common case) it costs no hashing.
    if !PARKED.with(|p| {
        let p = p.borrow();
        !p.is_empty() && p.contains_key(key.as_slice())
    }) {
        return;
    }
    // SAFETY: as in `park`; `key` is a valid string for the call.
    if let Some(signal) = unsafe { raw::RedisModule_SignalKeyAsReady } {
        unsafe { signal(ctx.ctx, key.inner) };
    }
}

/// `signal` for a key given as bytes (a key-space event's).
pub fn signal_bytes(ctx: &Context, key: &[u8]) {
    if PARKED.with(|p| p.borrow().contains_key(key)) {
        signal(ctx, &RedisString::create_from_slice(ctx.ctx, key));
    }
}

/// `key` was deleted, renamed away, expired or evicted: its parked readers are served (a reset).
/// Servers from 7.2 do this themselves; before, each reader is unblocked as if timed out, and
/// `on_timeout` serves it.
pub fn gone(ctx: &Context, key: &[u8]) {
    if server_wakes_deleted() {
        signal_bytes(ctx, key);
        return;
    }
    // Taken out of the registry first: a reader is unblocked once.
    let readers = PARKED
        .with(|p| p.borrow_mut().remove(key))
        .unwrap_or_default();
    for r in readers {
        // SAFETY: the handle is a client parked by `park` and not yet unblocked (it was in the
        // registry, which `free_parked` and this function leave on unblocking); passing back its
        // own private data keeps it for `on_timeout` and `free_parked`.
        unsafe {
            if let Some(unblock) = raw::RedisModule_UnblockClient {
                unblock(r.handle, r.parked);
            }
        }
    }
}

/// A flush emptied the keyspace without an event per key. Before 7.2 its readers are unblocked
/// on the next turn of the event loop, not at once: `DEBUG RELOAD` and a replica's sync flush and
/// then load in one step, and a reader served in between would get an empty reset where the
/// reloaded chain is due.
pub fn flushed(ctx: &Context) {
    if server_wakes_deleted() {
        all_gone(ctx);
    } else {
        ctx.create_timer(
            std::time::Duration::ZERO,
            |ctx: &Context, ()| all_gone(ctx),
            (),
        );
    }
}

/// A flush or a load replaced the keyspace without an event per key: every key with parked
/// readers is looked at again.
pub fn all_gone(ctx: &Context) {
    let keys: Vec<Vec<u8>> = PARKED.with(|p| p.borrow().keys().cloned().collect());
    for k in keys {
        gone(ctx, &k);
    }
}

/// The reader's `serve`, from the private data Redis hands back.
///
/// # Safety
/// `ctx` must be the context of a blocked client's callback whose private data is a `Parked`.
unsafe fn parked_serve(ctx: *mut raw::RedisModuleCtx) -> Option<Serve> {
    // SAFETY: the caller's promise; the data stays valid until `free_parked`, which Redis calls
    // only after the callbacks.
    unsafe {
        let get = raw::RedisModule_GetBlockedClientPrivateData?;
        let p = get(ctx).cast::<Parked>();
        NonNull::new(p).map(|p| p.as_ref().serve)
    }
}

/// Redis signalled the key (or deleted it): serve the reader, or keep it parked.
unsafe extern "C" fn on_ready(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    // SAFETY: Redis calls this for a client parked by `park`, with its command's arguments.
    let Some(serve) = (unsafe { parked_serve(ctx) }) else {
        return raw::REDISMODULE_ERR as c_int;
    };
    let context = Context::new(ctx);
    let args = redis_module::decode_args(ctx, argv, argc);
    match catch_unwind(AssertUnwindSafe(|| serve(&context, &args))) {
        Ok(Some(reply)) => {
            context.reply(reply);
            raw::REDISMODULE_OK as c_int
        }
        Ok(None) => raw::REDISMODULE_ERR as c_int,
        Err(_) => {
            context.log_warning("options: internal error (a panic) serving a blocked reader");
            context.reply(Err(RedisError::Str(
                "ERR internal error; the reader was unblocked",
            )));
            raw::REDISMODULE_OK as c_int
        }
    }
}

/// The timeout passed, or the client was unblocked (`CLIENT UNBLOCK`, or `gone` on a server
/// before 7.2): the reader's answer if it has one now (its key deleted: a reset), else nil, as
/// XREAD answers a timeout.
unsafe extern "C" fn on_timeout(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    let context = Context::new(ctx);
    // SAFETY: as in `on_ready`.
    let serve = unsafe { parked_serve(ctx) };
    let args = redis_module::decode_args(ctx, argv, argc);
    let reply = serve
        .and_then(|serve| catch_unwind(AssertUnwindSafe(|| serve(&context, &args))).ok())
        .flatten()
        .unwrap_or(Ok(RedisValue::Null));
    context.reply(reply);
    raw::REDISMODULE_OK as c_int
}

/// The client is unblocked (served, timed out, `CLIENT UNBLOCK`, disconnected): it leaves the
/// registry, and its `Parked` is freed.
unsafe extern "C" fn free_parked(_ctx: *mut raw::RedisModuleCtx, privdata: *mut c_void) {
    if privdata.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        PARKED.with(|p| {
            let mut p = p.borrow_mut();
            // SAFETY: `privdata` is the `Box<Parked>` made in `park`, alive until freed below.
            let key = unsafe { &(*privdata.cast::<Parked>()).key };
            if let Some(readers) = p.get_mut(key) {
                readers.retain(|r| r.parked != privdata);
                if readers.is_empty() {
                    p.remove(key);
                }
            }
        })
    }));
    // SAFETY: as above; Redis frees a blocked client's private data once.
    drop(unsafe { Box::from_raw(privdata.cast::<Parked>()) });
}
