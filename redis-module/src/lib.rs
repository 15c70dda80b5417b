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
        history_cmd => commands::history,
        history_restore => commands::history_restore,
    }

    /// `COMMAND DOCS` for every command (`docs::DOCS`), on servers that have the API (7.0+).
    /// A refusal is logged and the module loads without docs.
    fn set_command_docs(ctx: &Context) {
        use redis_module::raw;
        use std::ffi::CString;
        // SAFETY: the API table is filled once when Redis loads the module, before this runs.
        let (Some(get_command), Some(set_info)) =
            (unsafe { raw::RedisModule_GetCommand }, unsafe {
                raw::RedisModule_SetCommandInfo
            })
        else {
            return;
        };
        let version = raw::RedisModuleCommandInfoVersion {
            version: 1,
            sizeof_historyentry: std::mem::size_of::<raw::RedisModuleCommandHistoryEntry>(),
            sizeof_keyspec: std::mem::size_of::<raw::RedisModuleCommandKeySpec>(),
            sizeof_arg: std::mem::size_of::<raw::RedisModuleCommandArg>(),
        };
        // Every string lives until the end of this function; Redis copies what it keeps.
        let mut keep: Vec<CString> = Vec::new();
        let mut text = |s: &str| -> *const std::os::raw::c_char {
            let c = CString::new(s).unwrap_or_default();
            let p = c.as_ptr();
            keep.push(c);
            p
        };
        for doc in crate::docs::DOCS {
            let mut args: Vec<raw::RedisModuleCommandArg> = doc
                .args
                .iter()
                .map(|a| {
                    // SAFETY: a zeroed C struct of pointers and integers is a valid value.
                    let mut r: raw::RedisModuleCommandArg = unsafe { std::mem::zeroed() };
                    r.name = text(a.name);
                    r.type_ = match a.kind {
                        crate::docs::Kind::Key => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY
                        }
                        crate::docs::Kind::Text => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING
                        }
                        crate::docs::Kind::Integer => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER
                        }
                        crate::docs::Kind::Double => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_DOUBLE
                        }
                        crate::docs::Kind::UnixTimeMs => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_UNIX_TIME
                        }
                        crate::docs::Kind::Token => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN
                        }
                    };
                    r.key_spec_index = if a.kind == crate::docs::Kind::Key {
                        0
                    } else {
                        -1
                    };
                    if let Some(t) = a.token {
                        r.token = text(t);
                    }
                    r.flags = (if a.optional { 1 } else { 0 }) | (if a.multiple { 2 } else { 0 });
                    r
                })
                .collect();
            // SAFETY: as above; the zeroed entry ends the array.
            args.push(unsafe { std::mem::zeroed() });
            // The key spec: the key is the first argument; what the command does to it decides
            // its flags (the legacy range Redis derives says `RW` for every command).
            let key_flags = match doc.key {
                crate::docs::KeyAccess::None => None,
                crate::docs::KeyAccess::Read => {
                    Some(raw::REDISMODULE_CMD_KEY_RO | raw::REDISMODULE_CMD_KEY_ACCESS)
                }
                crate::docs::KeyAccess::Update => {
                    Some(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_UPDATE)
                }
                crate::docs::KeyAccess::Delete => {
                    Some(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_DELETE)
                }
            };
            let mut key_specs: Vec<raw::RedisModuleCommandKeySpec> = Vec::new();
            if let Some(flags) = key_flags {
                // SAFETY: a zeroed C struct of pointers, integers and unions of them is valid.
                let mut spec: raw::RedisModuleCommandKeySpec = unsafe { std::mem::zeroed() };
                spec.flags = u64::from(flags);
                spec.begin_search_type =
                    raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX;
                spec.bs.index.pos = 1;
                spec.find_keys_type =
                    raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE;
                spec.fk.range.lastkey = 0;
                spec.fk.range.keystep = 1;
                spec.fk.range.limit = 0;
                key_specs.push(spec);
                // SAFETY: as above; the zeroed entry ends the array.
                key_specs.push(unsafe { std::mem::zeroed() });
            }
            // SAFETY: as above.
            let mut info: raw::RedisModuleCommandInfo = unsafe { std::mem::zeroed() };
            info.version = &version;
            info.summary = text(doc.summary);
            info.complexity = text(doc.complexity);
            info.since = text(crate::docs::SINCE);
            info.args = args.as_mut_ptr();
            if !key_specs.is_empty() {
                info.key_specs = key_specs.as_mut_ptr();
            }
            let name = CString::new(doc.name).unwrap_or_default();
            // SAFETY: the context and the command's name are valid for the call; `info` and
            // everything it points to outlive it.
            let ok = unsafe {
                let cmd = get_command(ctx.ctx, name.as_ptr());
                !cmd.is_null() && set_info(cmd, &info) == raw::REDISMODULE_OK as i32
            };
            if !ok {
                ctx.log_warning(&format!("options: COMMAND DOCS for {} refused", doc.name));
            }
        }
    }

    /// Module arguments: `history-interval N history-retention N` (seconds).
    fn init(ctx: &Context, args: &[RedisString]) -> redis_module::Status {
        set_command_docs(ctx);
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
            ["options.changes", changes, "readonly", 1, 1, 1, "", "read options"],
            // Its key is optional: `getkeys-api` tells Redis (Cluster routing, ACL key
            // patterns, COMMAND GETKEYS) where it is, so the keyless form routes nowhere.
            ["options.stats", stats_cmd, "readonly getkeys-api", 0, 0, 0, "", "read options"],
            ["options.analytics", analytics, "readonly", 1, 1, 1, "", "read options"],
            ["options.history", history_cmd, "readonly", 1, 1, 1, "", "read options"],
            // Internal: what the AOF rewrite writes to rebuild a chain's history.
            ["options.historyrestore", history_restore, "write deny-oom", 1, 1, 1, "", "write options"],
        ],
        event_handlers: [
            [@GENERIC @EXPIRED @EVICTED: key_gone],
        ],
    }
}
