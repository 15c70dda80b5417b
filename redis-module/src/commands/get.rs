//! `OPTIONS.GET`: one contract.

use super::*;

/// `OPTIONS.GET key symbol [FIELDS n f…] [FORMAT RESP|JSON]` — one row, or nil.
pub fn get(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let symbol = symbol_for_key(argv[1], argv[2]).map_err(|e| err(format!("ERR {e}")))?;
    let opts =
        OutputOptions::parse_all(&mut ArgCursor::new(&argv[3..]), "OPTIONS.GET").map_err(err)?;
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let found = chain.and_then(|c| c.get(&symbol).filter(|c| c.is_live(now)).map(|r| (c, r)));
        let Some((chain, row)) = found else {
            return Ok(RedisValue::Null);
        };
        let cols = opts.fields.as_deref();
        match opts.format {
            Format::Resp => Ok(resp_row(row, &chain.underlying, cols)),
            Format::Json => {
                let mut out = Vec::with_capacity(800);
                json_row(&mut out, chain, row, cols);
                json_reply(out)
            }
        }
    })
}
