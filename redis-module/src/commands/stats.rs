//! `OPTIONS.STATS`: counts and memory of one chain or of the whole module.

use super::*;

/// `OPTIONS.STATS [key] [FORMAT RESP|JSON]`
pub fn stats_cmd(ctx: &Context, args: &[RedisString]) -> RedisResult {
    let argv = text_args(args)?;
    let (key, rest) = match argv.len() {
        1 => (None, &argv[1..]),
        3 if argv[1].eq_ignore_ascii_case("FORMAT") => (None, &argv[1..]),
        _ => (Some(1), &argv[2..]),
    };
    let format = format_only(rest, "OPTIONS.STATS")?;
    let now = now_ms();
    let pairs: Vec<(&str, i64)> = match key {
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
    let mut key_pair = None;
    if let Some(i) = key {
        key_pair = Some(argv[i]);
    }
    match format {
        Format::Resp => {
            let mut out = Vec::with_capacity(pairs.len() * 2 + 2);
            if let Some(k) = key_pair {
                out.push(bulk("key"));
                out.push(bulk(k));
            }
            for (name, v) in pairs {
                out.push(bulk(name));
                out.push(RedisValue::Integer(v));
            }
            Ok(RedisValue::Array(out))
        }
        Format::Json => {
            let mut out = Vec::with_capacity(256);
            out.push(b'{');
            if let Some(k) = key_pair {
                json_key(&mut out, "key");
                json_str(&mut out, k);
                out.push(b',');
            }
            for (i, (name, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_key(&mut out, name);
                out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
            }
            out.push(b'}');
            json_reply(out)
        }
    }
}
