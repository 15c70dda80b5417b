//! `OPTIONS.EXPIRIES` and `OPTIONS.STRIKES`: what a chain lists.

use options_core::clock::now_ms;
use options_core::Expiry;
use redis_module::{Context, RedisError, RedisResult, RedisString};

use super::keyspace::{err, format_only, text_args, with_chain};
use crate::args::{self, ArgCursor, Format, OutputOptions};
use crate::chain::Contract;
use crate::reply::Reply;

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
    Reply::texts(list.iter().map(Expiry::code)).send(ctx, format)
}

/// `OPTIONS.STRIKES key [EXPIRY e] [FORMAT RESP|JSON]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct StrikesArgs {
    pub expiry: Option<Expiry>,
    pub format: Format,
}

impl StrikesArgs {
    /// Parses the arguments after the key.
    pub fn parse(argv: &[&str]) -> args::ArgResult<Self> {
        let mut cur = ArgCursor::new(argv);
        let mut expiry = None;
        let mut opts = OutputOptions::default();
        while let Some(kw) = cur.next() {
            if kw.eq_ignore_ascii_case("EXPIRY") {
                expiry = Some(args::parse_expiry(cur.value_for("EXPIRY", "an expiry")?)?);
            } else if !(kw.eq_ignore_ascii_case("FORMAT") && opts.try_parse(kw, &mut cur)?) {
                return Err(args::unknown_keyword(kw, "OPTIONS.STRIKES"));
            }
        }
        Ok(StrikesArgs {
            expiry,
            format: opts.format,
        })
    }
}

/// `OPTIONS.STRIKES key [EXPIRY e] [FORMAT RESP|JSON]` — distinct strikes, numeric ascending.
pub fn strikes(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let StrikesArgs { expiry, format } = StrikesArgs::parse(&argv[2..]).map_err(err)?;
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
    Reply::texts(list).send(ctx, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strikes_arguments() {
        let a = StrikesArgs::parse(&["expiry", "26DEC25", "FORMAT", "json"]).unwrap();
        assert_eq!(a.expiry, Some(Expiry::parse("26DEC25").unwrap()));
        assert_eq!(a.format, Format::Json);
        assert_eq!(StrikesArgs::parse(&[]).unwrap().expiry, None);
        assert!(StrikesArgs::parse(&["EXPIRY"])
            .unwrap_err()
            .contains("EXPIRY"));
        // FIELDS is a row option; STRIKES answers strikes.
        assert!(StrikesArgs::parse(&["FIELDS", "1", "delta"])
            .unwrap_err()
            .contains("FIELDS"));
    }
}
