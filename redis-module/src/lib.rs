//! `redis_options`: a Redis module that keeps each underlying's Bybit option chain as one
//! native value and answers filtered queries inside Redis.
//!
//! Layout follows mature modules: `chain` is the data type, `query`/`args` parse commands,
//! `analytics` computes chain figures, `render` writes replies (rows, and any `Reply` value as
//! RESP or JSON), `commands/` holds one file per command family, `persist` is RDB/AOF, `stats`
//! the module-wide totals. Only `commands`, `persist` and this file touch the Redis API.

pub mod analytics;
pub mod args;
#[cfg_attr(any(test, fuzzing), allow(dead_code, unused_imports))]
mod blocking;
pub mod chain;
pub mod docs;
pub mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod history;
// Test and fuzz builds (`--cfg fuzzing`, set by cargo-fuzz) leave out the command table
// (`module`: it installs Redis's allocator, which such a process has not got), so the handlers
// are unreached there; their parsing is tested and fuzzed.
#[cfg_attr(any(test, fuzzing), allow(dead_code, unused_imports))]
mod commands;
#[cfg_attr(any(test, fuzzing), allow(dead_code, unused_imports))]
mod persist;
pub mod query;
pub mod rdb;
pub mod render;
pub mod reply;
pub mod stats;
pub mod vix;

#[cfg(not(any(test, fuzzing)))]
mod module {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use redis_module::server_events::{FlushSubevent, LoadingSubevent};
    use redis_module::NotifyEvent;
    use redis_module::{
        redis_module, AclCategory, Context, InfoContext, RedisError, RedisResult, RedisString,
    };
    use redis_module_macros::{flush_event_handler, info_command_handler, loading_event_handler};

    use crate::commands;
    use crate::persist::CHAIN_TYPE;
    use crate::stats;

    /// Runs a handler, turning a panic into an error reply: unwinding into Redis would abort
    /// the whole server. What a panic leaves behind: a read command changed nothing; a write
    /// command validated everything before its first change (an error reply means nothing
    /// changed), but a panic after that point (a bug) may leave its change made and not
    /// replicated. INGEST guards its one step after the change (sampling) itself, so its write
    /// and replication stand. The panic is logged with the command's name.
    fn guarded(
        ctx: &Context,
        args: Vec<RedisString>,
        handler: fn(&Context, &[RedisString]) -> RedisResult,
    ) -> RedisResult {
        match catch_unwind(AssertUnwindSafe(|| handler(ctx, &args))) {
            Ok(Err(RedisError::String(msg))) => Err(RedisError::String(printable(&msg))),
            Ok(reply) => reply,
            Err(_) => {
                let name = args
                    .first()
                    .map(|a| printable(&String::from_utf8_lossy(a.as_slice())))
                    .unwrap_or_default();
                ctx.log_warning(&format!("options: internal error (a panic) in {name}"));
                Err(RedisError::Str(
                    "ERR internal error in the options module (see the server log); a read \
                     changed nothing, a write may be applied but not replicated",
                ))
            }
        }
    }

    /// Error messages quote user arguments. The crate writes errors byte-per-char, which
    /// would corrupt any non-ASCII text into invalid UTF-8 on the wire, so escape it here
    /// (`\xNN`, like `redis-cli` shows binary) and cap the length.
    fn printable(msg: &str) -> String {
        const MAX: usize = 400;
        let mut out = String::with_capacity(msg.len().min(MAX) + 8);
        for b in msg.bytes() {
            if out.len() >= MAX {
                out.push_str("...");
                break;
            }
            if (0x20..0x7f).contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        out
    }

    macro_rules! entry_points {
        ($($name:ident => $handler:path),* $(,)?) => {
            $(fn $name(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
                guarded(ctx, args, $handler)
            })*
        };
    }

    entry_points! {
        ingest => commands::ingest,
        query => commands::query,
        expiries => commands::expiries,
        strikes => commands::strikes,
        get => commands::get,
        chain => commands::chain,
        stats_cmd => commands::stats_cmd,
        changes => commands::changes,
        del => commands::del,
        purge => commands::purge,
        analytics => commands::analytics,
        smile => commands::smile,
        history_cmd => commands::history,
        history_restore => commands::history_restore,
        trade => commands::trade,
        flow => commands::flow_cmd,
    }

    /// `OPTIONS.CHANGES` may wait (`BLOCK ms`): `blocking` tells clients and proxies so. Redis
    /// 6.2 refuses a flag it does not know (the module would not load), so the flag is given
    /// where the server has the 7.0 API.
    fn changes_flags() -> &'static str {
        // SAFETY: reads the API table Redis filled in `RedisModule_Init`, before any command
        // is registered; nothing writes it afterwards.
        let v7 = unsafe {
            (*std::ptr::addr_of!(redis_module::raw::RedisModule_SetCommandInfo)).is_some()
        };
        if v7 {
            "readonly blocking"
        } else {
            "readonly"
        }
    }

    /// Module arguments: `history-interval N history-retention N` (seconds).
    fn init(ctx: &Context, args: &[RedisString]) -> redis_module::Status {
        crate::docs::register(ctx);
        let instance = stats::instance();
        ctx.log_notice(&format!("options: instance {instance}"));
        let words: Vec<String> = args.iter().map(|a| a.to_string_lossy()).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match crate::history::parse_settings(&words) {
            Ok(s) => {
                crate::history::apply_settings(s);
                redis_module::Status::Ok
            }
            Err(e) => {
                ctx.log_warning(&format!("options: {e}"));
                redis_module::Status::Err
            }
        }
    }

    /// A key deleted, renamed away, expired or evicted: its parked readers (`blocking`) are
    /// served (a reset) on servers that do not unblock them on deletion themselves.
    fn key_gone(ctx: &Context, _kind: NotifyEvent, _event: &str, key: &[u8]) {
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| crate::blocking::gone(ctx, key)));
    }

    /// A flush names no key: every parked reader looks again.
    #[flush_event_handler]
    fn flushed(ctx: &Context, sub: FlushSubevent) {
        if matches!(sub, FlushSubevent::Ended) {
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| crate::blocking::flushed(ctx)));
        }
    }

    /// A load (a replica's full sync, `DEBUG RELOAD`) replaced every chain: every parked reader
    /// looks again.
    #[loading_event_handler]
    fn loaded(ctx: &Context, sub: LoadingSubevent) {
        if matches!(sub, LoadingSubevent::Ended) {
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| crate::blocking::all_gone(ctx)));
        }
    }

    // The builder API cannot make an unnamed section; the older calls can.
    #[allow(deprecated)]
    #[info_command_handler]
    fn info(ctx: &InfoContext, _for_crash_report: bool) -> RedisResult<()> {
        let t = stats::totals();
        // An unnamed section is listed as plain `options` (a named one would be `options_x`).
        ctx.add_info_section(None);
        for (name, value) in t.named() {
            ctx.add_info_field_long_long(name, value);
        }
        Ok(())
    }

    redis_module! {
        name: "options",
        version: 1,
        allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
        data_types: [CHAIN_TYPE],
        // `@options`, so `ACL SETUSER analyst +@options -@write` works as it does for `@json`.
        // Module categories came with Redis 7.4 (where every command gets `@options` and its
        // `@read`/`@write`/`@fast`); older servers log a warning and load the module without
        // categories, so ACL rules there name the commands (`+options.query`).
        acl_categories: ["options",],
        init: init,
        // name, handler, flags, first key, last key, step, categories every server must take
        // (none: 7.0 has no API for them), categories set where the server can
        commands: [
            ["options.ingest", ingest, "write deny-oom fast", 1, 1, 1, "", "write fast options"],
            ["options.del", del, "write", 1, 1, 1, "", "write options"],
            ["options.purge", purge, "write", 1, 1, 1, "", "write options"],
            ["options.query", query, "readonly", 1, 1, 1, "", "read options"],
            ["options.expiries", expiries, "readonly", 1, 1, 1, "", "read options"],
            ["options.strikes", strikes, "readonly", 1, 1, 1, "", "read options"],
            ["options.get", get, "readonly fast", 1, 1, 1, "", "read fast options"],
            ["options.chain", chain, "readonly", 1, 1, 1, "", "read options"],
            ["options.changes", changes, changes_flags(), 1, 1, 1, "", "read options"],
            // Its key is optional: `getkeys-api` tells Redis (Cluster routing, ACL key
            // patterns, COMMAND GETKEYS) where it is, so the keyless form routes nowhere.
            ["options.stats", stats_cmd, "readonly getkeys-api", 0, 0, 0, "", "read options"],
            ["options.analytics", analytics, "readonly", 1, 1, 1, "", "read options"],
            ["options.smile", smile, "readonly", 1, 1, 1, "", "read options"],
            ["options.history", history_cmd, "readonly", 1, 1, 1, "", "read options"],
            // The tape: a stream beside the chain ({key}:trades, the chain's cluster slot).
            ["options.trade", trade, "write deny-oom", 1, 1, 1, "", "write options"],
            ["options.flow", flow, "readonly", 1, 1, 1, "", "read options"],
            // Internal: what the AOF rewrite writes to rebuild a chain's history.
            ["options.historyrestore", history_restore, "write deny-oom", 1, 1, 1, "", "write options"],
        ],
        event_handlers: [
            [@GENERIC @EXPIRED @EVICTED: key_gone],
        ],
    }
}
