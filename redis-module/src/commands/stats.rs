//! `OPTIONS.STATS`: counts and memory of one chain or of the whole module.

use options_core::clock::now_ms;
use redis_module::{Context, RedisResult, RedisString, RedisValue};

use super::keyspace::{format_only, text_args, with_chain};
use crate::reply::Reply;

/// `OPTIONS.STATS [key] [FORMAT RESP|JSON]`
///
/// Registered with `getkeys-api` and no fixed key position: the keyless form names no key, so a
/// Cluster node answers it for itself (a client asks every master and adds the totals) instead
/// of redirecting by the slot of `FORMAT`.
pub fn stats_cmd(ctx: &Context, args: &[RedisString]) -> RedisResult {
    let argv = text_args(args)?;
    let (key, rest) = match stats_key_position(&argv) {
        None => (None, &argv[1..]),
        Some(i) => (Some(i), &argv[2..]),
    };
    if ctx.is_keys_position_request() {
        if let Some(i) = key {
            ctx.key_at_pos(i as i32);
        }
        return Ok(RedisValue::NoReply);
    }
    let format = format_only(rest, "OPTIONS.STATS")?;
    let now = now_ms();
    let pairs: Vec<(&'static str, i64)> = match key {
        None => crate::stats::totals().named().to_vec(),
        Some(i) => with_chain(ctx, &args[i], |chain| {
            Ok(match chain {
                None => vec![
                    ("contracts", 0),
                    ("expired_pending", 0),
                    ("expiries", 0),
                    ("updates", 0),
                    ("seq", 0),
                    ("last_update_ms", 0),
                    ("memory_bytes", 0),
                ],
                Some(c) => {
                    let live = c.live(now).count();
                    vec![
                        ("contracts", live as i64),
                        ("expired_pending", (c.len() - live) as i64),
                        ("expiries", c.expiries(now).len() as i64),
                        ("updates", c.updates as i64),
                        ("seq", c.seq as i64),
                        ("last_update_ms", c.last_update_ms),
                        ("memory_bytes", c.memory_usage() as i64),
                    ]
                }
            })
        })?,
    };
    let mut fields = Vec::with_capacity(pairs.len() + 1);
    if let Some(i) = key {
        fields.push(("key", Reply::text(argv[i])));
    }
    fields.extend(pairs.into_iter().map(|(name, v)| (name, Reply::Int(v))));
    if key.is_none() {
        fields.push(("instance", Reply::text(crate::stats::instance())));
    }
    Reply::Map(fields).send(ctx, format)
}

/// Where `OPTIONS.STATS` names its key: nowhere in `OPTIONS.STATS` and `OPTIONS.STATS FORMAT x`,
/// otherwise the first argument.
pub fn stats_key_position(argv: &[&str]) -> Option<usize> {
    match argv.len() {
        1 => None,
        3 if argv[1].eq_ignore_ascii_case("FORMAT") => None,
        _ => Some(1),
    }
}

#[cfg(test)]
mod tests {
    use super::stats_key_position;

    #[test]
    fn the_keyless_forms_name_no_key() {
        assert_eq!(stats_key_position(&["OPTIONS.STATS"]), None);
        assert_eq!(
            stats_key_position(&["OPTIONS.STATS", "format", "JSON"]),
            None
        );
        assert_eq!(stats_key_position(&["OPTIONS.STATS", "BTC"]), Some(1));
        assert_eq!(
            stats_key_position(&["OPTIONS.STATS", "BTC", "FORMAT", "JSON"]),
            Some(1)
        );
        // A chain named FORMAT is still reachable: with its own FORMAT argument.
        assert_eq!(
            stats_key_position(&["OPTIONS.STATS", "FORMAT", "FORMAT", "JSON"]),
            Some(1)
        );
    }
}
