//! `OPTIONS.SMILE key expiry [SETTLE USDC|USDT|BTC|ETH] [RATE r] [NOW ms] [FORMAT RESP|JSON]`: one
//! expiry's raw SVI fit with its market points and residuals (ANALYTICS.md, "Fitted smiles").

use options_core::clock::now_ms;
use options_core::{Expiry, Settle};
use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::analytics::svi_reply;
use super::keyspace::{err, text_args, with_chain};
use crate::analytics;
use crate::args::{self, ArgCursor, ArgResult, FigureOptions, Format};
use crate::reply::Reply;

const COMMAND: &str = "OPTIONS.SMILE";

/// The arguments after the key.
#[derive(Debug, Clone, PartialEq)]
pub struct SmileArgs {
    pub expiry: Expiry,
    pub settle: Option<Settle>,
    /// Accepted as `OPTIONS.ANALYTICS` takes it; the fit does not depend on it (its forward is
    /// the expiry's median underlying price, not one implied through the rate).
    pub rate: f64,
    pub now: Option<i64>,
    pub format: Format,
}

impl SmileArgs {
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let [expiry, rest @ ..] = argv else {
            return Err(format!(
                "ERR wrong number of arguments for '{COMMAND}' command"
            ));
        };
        let expiry = args::parse_expiry(expiry)?;
        let mut shared = FigureOptions::default();
        let mut cur = ArgCursor::new(rest);
        while let Some(kw) = cur.next() {
            if !shared.try_parse(kw, &mut cur)? {
                return Err(args::unknown_keyword(kw, COMMAND));
            }
        }
        let out = SmileArgs {
            expiry,
            settle: shared.settle,
            rate: shared.rate,
            now: shared.now,
            format: shared.format,
        };
        Ok(out)
    }
}

/// The fit, or nil when the expiry has none (no such expiry, fewer than five strikes with an
/// IV, no forward).
pub fn smile(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let req = SmileArgs::parse(&argv[2..]).map_err(err)?;
    let now = req.now.unwrap_or_else(now_ms);
    with_chain(ctx, &args[1], |chain| {
        let Some((s, calendar)) =
            chain.and_then(|c| analytics::smile_of(c, req.expiry, req.settle, now))
        else {
            return Ok(RedisValue::Null);
        };
        let strikes = s.points.iter().map(|&(strike, k, iv)| {
            let fit = s.fit_iv(k);
            Reply::Map(vec![
                ("strike", Reply::Num(strike)),
                ("k", Reply::Num(k)),
                ("iv", Reply::Num(iv)),
                ("fit_iv", Reply::Num(fit)),
                ("residual", Reply::Num(iv - fit)),
            ])
        });
        Reply::Map(vec![
            ("underlying", Reply::text(argv[1])),
            ("expiry", Reply::text(req.expiry.code())),
            ("t", Reply::Num(s.t)),
            ("forward", Reply::Num(s.forward)),
            ("svi", svi_reply(&s.svi)),
            ("svi_rmse", Reply::Num(s.rmse)),
            ("butterfly_arb", Reply::Bool(s.butterfly_arb)),
            ("calendar_arb", Reply::Bool(calendar)),
            ("strikes", Reply::Array(strikes.collect())),
        ])
        .send(ctx, req.format)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smile_arguments() {
        let a = SmileArgs::parse(&[
            "26dec26", "settle", "usdt", "RATE", "0.05", "NOW", "5", "FORMAT", "JSON",
        ])
        .unwrap();
        assert_eq!(a.expiry, Expiry::parse("26DEC26").unwrap());
        assert_eq!(
            (a.settle, a.rate, a.now, a.format),
            (Some(Settle::Usdt), 0.05, Some(5), Format::Json)
        );
        let e = |argv: &[&str]| SmileArgs::parse(argv).unwrap_err();
        assert!(e(&[]).contains("wrong number"));
        assert!(e(&["soon"]).contains("soon"));
        assert!(e(&["26DEC26", "RATE"]).contains("RATE"));
        assert!(e(&["26DEC26", "RATE", "5"]).contains("from -1 to 1"));
        assert!(e(&["26DEC26", "RATE", "nan"]).contains("RATE"));
        assert!(e(&["26DEC26", "NOW", "-1"]).contains("negative"));
        assert!(e(&["26DEC26", "FIELDS", "1", "delta"]).contains("FIELDS"));
    }
}
