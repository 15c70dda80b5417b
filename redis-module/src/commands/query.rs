//! `OPTIONS.QUERY`: filter, sort and page inside Redis (the parsing is `crate::query`).

use options_core::clock::now_ms;
use redis_module::{Context, RedisError, RedisResult, RedisString};

use super::keyspace::{err, text_args, with_chain};
use crate::args::Format;
use crate::chain::Chain;
use crate::query::Query;
use crate::reply::{Reply, Row};

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
        let columns = q.output.fields.as_deref();
        let data = |seed| {
            let rows = rows.iter().map(|&contract| {
                Reply::Row(Row {
                    chain,
                    contract,
                    columns,
                    seed,
                })
            });
            Reply::Array(rows.collect())
        };
        let limit = q.count.map_or(Reply::Null, Reply::count);
        if q.seed {
            // The seed's bare array, or with LIMIT its page object (in its own field order).
            let page = match q.count {
                None => data(true),
                Some(_) => Reply::Map(vec![
                    ("total", Reply::count(total)),
                    ("limit", limit),
                    ("offset", Reply::count(q.offset)),
                    ("data", data(true)),
                ]),
            };
            return page.send(ctx, Format::Json);
        }
        Reply::Map(vec![
            ("total", Reply::count(total)),
            ("offset", Reply::count(q.offset)),
            ("limit", limit),
            ("data", data(false)),
        ])
        .send(ctx, q.output.format)
    })
}
