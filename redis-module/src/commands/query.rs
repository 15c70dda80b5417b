//! `OPTIONS.QUERY`: filter, sort and page inside Redis (the parsing is `crate::query`).

use super::*;
use crate::query::Query;

/// `OPTIONS.QUERY key [filters…] [SORTBY f [ASC|DESC]] [LIMIT off n] [FIELDS n f…] [FORMAT …]`
pub fn query(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let q = Query::parse(&argv[2..]).map_err(err)?;
    crate::stats::count_query();
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let empty = Chain::new(argv[1], 0);
        let chain = chain.unwrap_or(&empty);
        let (total, rows) = q.run(chain, now);
        let cols = q.output.fields.as_deref();
        if q.seed {
            return json_reply(seed_page(chain, &q, total, &rows));
        }
        match q.output.format {
            Format::Json => {
                let mut out = Vec::with_capacity(64 + rows.len() * 700);
                out.extend_from_slice(b"{\"total\":");
                out.extend_from_slice(itoa::Buffer::new().format(total).as_bytes());
                out.extend_from_slice(b",\"offset\":");
                out.extend_from_slice(itoa::Buffer::new().format(q.offset).as_bytes());
                out.extend_from_slice(b",\"limit\":");
                match q.count {
                    Some(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"data\":");
                json_rows(&mut out, chain, &rows, cols);
                out.push(b'}');
                json_reply(out)
            }
            Format::Resp => Ok(RedisValue::Array(vec![
                bulk("total"),
                RedisValue::Integer(total as i64),
                bulk("offset"),
                RedisValue::Integer(q.offset as i64),
                bulk("limit"),
                q.count
                    .map_or(RedisValue::Null, |n| RedisValue::Integer(n as i64)),
                bulk("data"),
                resp_rows(&rows, &chain.underlying, cols),
            ])),
        }
    })
}

/// `FORMAT SEED`: a bare array, or with `LIMIT` the seed's `{"total","limit","offset","data"}`.
fn seed_page(chain: &Chain, q: &Query, total: usize, rows: &[&Contract]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + rows.len() * 420);
    let paged = q.count.is_some();
    if paged {
        out.extend_from_slice(b"{\"total\":");
        out.extend_from_slice(itoa::Buffer::new().format(total).as_bytes());
        out.extend_from_slice(b",\"limit\":");
        out.extend_from_slice(itoa::Buffer::new().format(q.count.unwrap_or(0)).as_bytes());
        out.extend_from_slice(b",\"offset\":");
        out.extend_from_slice(itoa::Buffer::new().format(q.offset).as_bytes());
        out.extend_from_slice(b",\"data\":");
    }
    out.push(b'[');
    for (i, c) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::render::seed_row_cached(&mut out, chain, c);
    }
    out.push(b']');
    if paged {
        out.push(b'}');
    }
    out
}
