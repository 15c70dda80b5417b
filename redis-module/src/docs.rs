//! What `COMMAND DOCS` says of each command: summary, complexity, since and arguments. (Arity
//! stays the module's `-1`: each command checks its own arguments and names what is wrong.)
//! Pure data, checked by unit tests against the command table; `register` hands it to Redis
//! (`RedisModule_SetCommandInfo`, Redis 7.0 and later; older servers skip it).

/// How an argument reads (a subset of Redis's argument types, flat: no nesting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The chain's key (the legacy key spec, index 0).
    Key,
    Text,
    Integer,
    Double,
    UnixTimeMs,
    /// A keyword alone (`BYSTRIKE`).
    Token,
}

#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub name: &'static str,
    pub kind: Kind,
    /// The keyword before the value (`EXPIRY e`), if any.
    pub token: Option<&'static str>,
    pub optional: bool,
    pub multiple: bool,
}

const fn key() -> Arg {
    Arg {
        name: "key",
        kind: Kind::Key,
        token: None,
        optional: false,
        multiple: false,
    }
}
const fn req(name: &'static str, kind: Kind) -> Arg {
    Arg {
        name,
        kind,
        token: None,
        optional: false,
        multiple: false,
    }
}
const fn opt(token: &'static str, name: &'static str, kind: Kind) -> Arg {
    Arg {
        name,
        kind,
        token: Some(token),
        optional: true,
        multiple: false,
    }
}
const fn many(token: &'static str, name: &'static str, kind: Kind) -> Arg {
    Arg {
        name,
        kind,
        token: Some(token),
        optional: true,
        multiple: true,
    }
}
const FORMAT: Arg = opt("FORMAT", "format", Kind::Text);
const FIELDS: Arg = opt("FIELDS", "count-and-fields", Kind::Text);

/// What a command does to its key (its key spec's flags in `COMMAND INFO`): reads declared
/// `RO` may be routed to replicas by cluster clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAccess {
    /// No key spec (`OPTIONS.STATS`: its key is optional, found by `getkeys-api`).
    None,
    /// `RO ACCESS`: reads the value.
    Read,
    /// `RW UPDATE`: changes the value in place (creating it when missing).
    Update,
    /// `RW DELETE`: removes from the value (and the key when it empties).
    Delete,
}

#[derive(Debug, Clone, Copy)]
pub struct CommandDoc {
    pub name: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub key: KeyAccess,
    pub args: &'static [Arg],
}

pub const SINCE: &str = "1.0.0";

pub const DOCS: &[CommandDoc] = &[
    CommandDoc {
        name: "options.ingest",
        summary: "Upserts one option contract's fields (partial updates merge); replies 1 when the contract is new. NOHISTORY: a rewrite of old values that takes no history sample",
        complexity: "O(log N) to find the contract, O(N) to list a new one, N the contracts of the chain",
        key: KeyAccess::Update,
        args: &[
            key(),
            Arg { name: "nohistory", kind: Kind::Token, token: Some("NOHISTORY"), optional: true, multiple: false },
            req("symbol", Kind::Text),
            Arg { name: "field-value", kind: Kind::Text, token: None, optional: false, multiple: true },
        ],
    },
    CommandDoc {
        name: "options.del",
        summary: "Removes contracts; the key goes when its chain is empty",
        complexity: "O(M·N), M the symbols given",
        key: KeyAccess::Delete,
        args: &[key(), Arg { name: "symbol", kind: Kind::Text, token: None, optional: false, multiple: true }],
    },
    CommandDoc {
        name: "options.purge",
        summary: "Drops the contracts that have expired",
        complexity: "O(N)",
        key: KeyAccess::Delete,
        args: &[key(), opt("NOW", "now-ms", Kind::UnixTimeMs)],
    },
    CommandDoc {
        name: "options.query",
        summary: "Filters, sorts and pages a chain's contracts inside Redis",
        complexity: "O(N) to filter, O(M log M) to sort the M matches",
        key: KeyAccess::Read,
        args: &[
            key(),
            many("EXPIRY", "expiry", Kind::Text),
            opt("TYPE", "call-or-put", Kind::Text),
            opt("STRIKE", "strike", Kind::Double),
            opt("STRIKE_MIN", "min-strike", Kind::Double),
            opt("STRIKE_MAX", "max-strike", Kind::Double),
            opt("SETTLE", "settle-coin", Kind::Text),
            opt("SORTBY", "field-and-order", Kind::Text),
            opt("LIMIT", "offset-and-count", Kind::Text),
            FIELDS,
            FORMAT,
        ],
    },
    CommandDoc {
        name: "options.expiries",
        summary: "The chain's expiries, chronological",
        complexity: "O(N)",
        key: KeyAccess::Read,
        args: &[key(), FORMAT],
    },
    CommandDoc {
        name: "options.strikes",
        summary: "The chain's strikes, in numeric order",
        complexity: "O(N)",
        key: KeyAccess::Read,
        args: &[key(), opt("EXPIRY", "expiry", Kind::Text), FORMAT],
    },
    CommandDoc {
        name: "options.get",
        summary: "One contract's row, or nil",
        complexity: "O(log N)",
        key: KeyAccess::Read,
        args: &[key(), req("symbol", Kind::Text), FIELDS, FORMAT],
    },
    CommandDoc {
        name: "options.chain",
        summary: "Calls and puts of one expiry side by side per strike, with the forward and the ATM strike",
        complexity: "O(N)",
        key: KeyAccess::Read,
        args: &[key(), req("expiry", Kind::Text), opt("SETTLE", "settle-coin", Kind::Text), FIELDS, FORMAT],
    },
    CommandDoc {
        name: "options.changes",
        summary: "Rows changed after a sequence number, removed symbols, and the new sequence; with BLOCK, waits for a change (nil on timeout)",
        complexity: "O(N)",
        key: KeyAccess::Read,
        args: &[key(), req("since-seq", Kind::Integer), FIELDS, opt("BLOCK", "milliseconds", Kind::Integer), FORMAT],
    },
    CommandDoc {
        name: "options.stats",
        summary: "Contracts, updates, last update and memory of a chain, or of the whole module without a key",
        complexity: "O(1) without a key, O(N) with one",
        key: KeyAccess::None,
        args: &[Arg { name: "key", kind: Kind::Text, token: None, optional: true, multiple: false }, FORMAT],
    },
    CommandDoc {
        name: "options.analytics",
        summary: "Chain analytics: ATM IV, skew, put/call ratios, max pain, GEX, variance, expected move and SVI fit per expiry, totals, constant-maturity tenors and the 30-day volatility index",
        complexity: "O(N log N), plus a fit per expiry whose contracts changed",
        key: KeyAccess::Read,
        args: &[
            key(),
            many("EXPIRY", "expiry", Kind::Text),
            opt("SETTLE", "settle-coin", Kind::Text),
            Arg { name: "bystrike", kind: Kind::Token, token: Some("BYSTRIKE"), optional: true, multiple: false },
            opt("RATE", "rate", Kind::Double),
            opt("NOW", "now-ms", Kind::UnixTimeMs),
            FORMAT,
        ],
    },
    CommandDoc {
        name: "options.smile",
        summary: "One expiry's raw SVI fit: parameters, fit error, arbitrage flags, and each strike's market and fitted IV; nil without a fit",
        complexity: "O(N), plus a fit per expiry whose contracts changed",
        key: KeyAccess::Read,
        args: &[
            key(),
            req("expiry", Kind::Text),
            opt("SETTLE", "settle-coin", Kind::Text),
            opt("RATE", "rate", Kind::Double),
            opt("NOW", "now-ms", Kind::UnixTimeMs),
            FORMAT,
        ],
    },
    CommandDoc {
        name: "options.history",
        summary: "The chain's recorded analytics over time",
        complexity: "O(S), S the samples in the range",
        key: KeyAccess::Read,
        args: &[
            key(),
            Arg { name: "metric", kind: Kind::Text, token: Some("METRIC"), optional: false, multiple: true },
            opt("TENOR", "days", Kind::Integer),
            opt("EXPIRY", "expiry", Kind::Text),
            opt("FROM", "from-ms", Kind::UnixTimeMs),
            opt("TO", "to-ms", Kind::UnixTimeMs),
            FORMAT,
        ],
    },
    CommandDoc {
        name: "options.trade",
        summary: "Records one trade on the chain's tape stream {key}:trades (1), or nothing for a trade id already there (0); trims the tape to its retention",
        complexity: "O(1) amortised; O(N) to rebuild the tape's index after it was changed by hand",
        key: KeyAccess::Update,
        args: &[
            key(),
            req("id", Kind::Text),
            req("symbol", Kind::Text),
            req("side", Kind::Text),
            req("size", Kind::Double),
            req("price", Kind::Double),
            req("ts", Kind::UnixTimeMs),
            opt("IV", "iv", Kind::Double),
            opt("INDEX", "index-price", Kind::Double),
            Arg { name: "block", kind: Kind::Token, token: Some("BLOCK"), optional: true, multiple: false },
            opt("LIQUIDATION", "liquidation", Kind::Text),
        ],
    },
    CommandDoc {
        name: "options.flow",
        summary: "The chain's option flow over a window: trades, volumes, premiums (signed by the taker) and block trades, in total, per expiry, per strike and per time bucket",
        complexity: "O(T), T the trades in the window",
        key: KeyAccess::Read,
        args: &[
            key(),
            many("EXPIRY", "expiry", Kind::Text),
            opt("FROM", "from-ms", Kind::UnixTimeMs),
            opt("TO", "to-ms", Kind::UnixTimeMs),
            Arg { name: "bystrike", kind: Kind::Token, token: Some("BYSTRIKE"), optional: true, multiple: false },
            opt("BUCKET", "seconds", Kind::Integer),
            opt("MIN_NOTIONAL", "usd", Kind::Double),
            opt("NOW", "now-ms", Kind::UnixTimeMs),
            FORMAT,
        ],
    },
    CommandDoc {
        name: "options.historyrestore",
        summary: "Internal: rebuilds a chain's history (written by AOF rewrites)",
        complexity: "O(S)",
        key: KeyAccess::Update,
        args: &[key(), req("encoded-history", Kind::Text)],
    },
];

#[cfg_attr(any(test, fuzzing), allow(dead_code))]
/// Hands `DOCS` to Redis (`COMMAND DOCS`, and each command's key spec), on servers that have
/// the API (7.0+). A refusal is logged and the module loads without docs.
pub(crate) fn register(ctx: &redis_module::Context) {
    use redis_module::raw;
    use std::ffi::CString;
    // SAFETY: the API table is filled once when Redis loads the module, before this runs.
    let (Some(get_command), Some(set_info)) = (unsafe { raw::RedisModule_GetCommand }, unsafe {
        raw::RedisModule_SetCommandInfo
    }) else {
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
    for doc in DOCS {
        let mut args: Vec<raw::RedisModuleCommandArg> = doc
            .args
            .iter()
            .map(|a| {
                // SAFETY: a zeroed C struct of pointers and integers is a valid value.
                let mut r: raw::RedisModuleCommandArg = unsafe { std::mem::zeroed() };
                r.name = text(a.name);
                r.type_ = match a.kind {
                    Kind::Key => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
                    Kind::Text => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
                    Kind::Integer => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
                    Kind::Double => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_DOUBLE,
                    Kind::UnixTimeMs => {
                        raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_UNIX_TIME
                    }
                    Kind::Token => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
                };
                r.key_spec_index = if a.kind == Kind::Key { 0 } else { -1 };
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
            KeyAccess::None => None,
            KeyAccess::Read => Some(raw::REDISMODULE_CMD_KEY_RO | raw::REDISMODULE_CMD_KEY_ACCESS),
            KeyAccess::Update => {
                Some(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_UPDATE)
            }
            KeyAccess::Delete => {
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
            spec.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE;
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
        info.since = text(SINCE);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_described_once() {
        let names: Vec<&str> = DOCS.iter().map(|d| d.name).collect();
        let table = include_str!("lib.rs");
        let registered: Vec<&str> = table
            .lines()
            .filter_map(|l| l.trim().strip_prefix("[\"options."))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert_eq!(registered.len(), DOCS.len(), "{registered:?}");
        for r in registered {
            assert_eq!(
                names
                    .iter()
                    .filter(|n| **n == format!("options.{r}"))
                    .count(),
                1,
                "{r}"
            );
        }
        for d in DOCS {
            assert!(!d.summary.is_empty() && !d.complexity.is_empty());
            // Key arguments point at the legacy key spec; only the keyless OPTIONS.STATS has none.
            let keys = d.args.iter().filter(|a| a.kind == Kind::Key).count();
            assert_eq!(keys, usize::from(d.name != "options.stats"), "{}", d.name);
        }
    }
}
