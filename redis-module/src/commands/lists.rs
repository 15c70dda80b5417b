//! `OPTIONS.EXPIRIES` and `OPTIONS.STRIKES`: what a chain lists.

use super::*;

/// `OPTIONS.EXPIRIES key [FORMAT RESP|JSON]` — chronological.
pub fn expiries(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let format = format_only(&argv[2..], "OPTIONS.EXPIRIES")?;
    let now = now_ms();
    let list = with_chain(ctx, &args[1], |chain| {
        Ok(chain.map(|c| c.expiries(now)).unwrap_or_default())
    })?;
    string_list_reply(list.iter().map(Expiry::code).collect(), format)
}

/// `OPTIONS.STRIKES key [EXPIRY e] [FORMAT RESP|JSON]` — distinct strikes, numeric ascending.
pub fn strikes(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let mut cur = ArgCursor::new(&argv[2..]);
    let mut expiry = None;
    let mut opts = OutputOptions::default();
    while let Some(kw) = cur.next() {
        if kw.eq_ignore_ascii_case("EXPIRY") {
            let e = cur.value_for("EXPIRY", "an expiry").map_err(err)?;
            expiry = Some(args::parse_expiry(e).map_err(err)?);
        } else if !(kw.eq_ignore_ascii_case("FORMAT")
            && opts.try_parse(kw, &mut cur).map_err(err)?)
        {
            return Err(err(args::unknown_keyword(kw, "OPTIONS.STRIKES")));
        }
    }
    let now = now_ms();
    let list = with_chain(ctx, &args[1], |chain| {
        let Some(chain) = chain else {
            return Ok(Vec::new());
        };
        let mut found: Vec<&Contract> = match expiry {
            Some(e) => chain
                .expiry_slice(e)
                .iter()
                .filter(|c| c.is_live(now))
                .collect(),
            None => chain.live(now).collect(),
        };
        found.sort_by(|a, b| a.strike.total_cmp(&b.strike));
        found.dedup_by(|a, b| a.strike == b.strike);
        Ok(found.iter().map(|c| c.strike_text().to_string()).collect())
    })?;
    string_list_reply(list, opts.format)
}
