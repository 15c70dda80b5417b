//! `OPTIONS.ANALYTICS key [EXPIRY e …] [SETTLE USDC|USDT|BTC|ETH] [BYSTRIKE] [NOW ms] [FORMAT RESP|JSON]`:
//! term structure, skew and positioning of one chain (definitions in `crate::analytics`).

use options_core::clock::now_ms;
use options_core::{Expiry, Settle};
use redis_module::{Context, RedisError, RedisResult, RedisString};

use super::keyspace::{err, text_args, with_chain};
use crate::analytics::{self, Extras, Selection};
use crate::args::{self, ArgCursor, ArgResult, FigureOptions, Format};
use crate::chain::Chain;
use crate::reply::Reply;
use options_core::figures::Analytics;

const COMMAND: &str = "OPTIONS.ANALYTICS";

/// The arguments after the key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalyticsArgs {
    /// Sorted, without repeats; empty means every expiry.
    pub expiries: Vec<Expiry>,
    pub settle: Option<Settle>,
    pub by_strike: bool,
    /// `NOW ms`: judge liveness and `t` at this instant instead of the server's clock.
    pub now: Option<i64>,
    /// `RATE r`: the annual rate of the volatility index (0 when not given).
    pub rate: f64,
    pub format: Format,
}

fn is_keyword(s: &str) -> bool {
    ["EXPIRY", "SETTLE", "BYSTRIKE", "NOW", "RATE", "FORMAT"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(s))
}

impl AnalyticsArgs {
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let mut out = AnalyticsArgs::default();
        let mut shared = FigureOptions::default();
        let mut cur = ArgCursor::new(argv);
        while let Some(kw) = cur.next() {
            let is = |k: &str| kw.eq_ignore_ascii_case(k);
            if is("EXPIRY") {
                out.expiries.push(args::parse_expiry(
                    cur.value_for("EXPIRY", "at least one expiry")?,
                )?);
                while let Some(next) = cur.peek().filter(|n| !is_keyword(n)) {
                    out.expiries.push(args::parse_expiry(next)?);
                    cur.next();
                }
            } else if is("BYSTRIKE") {
                out.by_strike = true;
            } else if !shared.try_parse(kw, &mut cur)? {
                return Err(args::unknown_keyword(kw, COMMAND));
            }
        }
        (out.settle, out.rate, out.now, out.format) =
            (shared.settle, shared.rate, shared.now, shared.format);
        out.expiries.sort();
        out.expiries.dedup();
        Ok(out)
    }
}

pub fn analytics(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let req = AnalyticsArgs::parse(&argv[2..]).map_err(err)?;
    let now = req.now.unwrap_or_else(now_ms);
    let figures = with_chain(ctx, &args[1], |chain| {
        let empty = Chain::new(argv[1], 0);
        let chain = chain.unwrap_or(&empty);
        Ok(analytics::compute(
            chain,
            &Selection {
                expiries: req.expiries.clone(),
                settle: req.settle,
            },
            now,
            Extras {
                by_strike: req.by_strike,
                rate: req.rate,
                smiles: true,
            },
        ))
    })?;
    reply(argv[1], &figures).send(ctx, req.format)
}

/// The reply in ANALYTICS.md's shape and field order.
pub fn reply<'a>(underlying: &'a str, a: &'a Analytics) -> Reply<'a> {
    let t = &a.totals;
    let mut top = vec![
        ("underlying", Reply::text(underlying)),
        ("now", Reply::Int(a.now)),
        ("index", Reply::number(a.index)),
        ("vol_index", Reply::number(a.vol_index)),
        (
            "totals",
            Reply::Map(vec![
                ("oi_calls", Reply::Num(t.oi_calls)),
                ("oi_puts", Reply::Num(t.oi_puts)),
                ("volume_calls", Reply::Num(t.volume_calls)),
                ("volume_puts", Reply::Num(t.volume_puts)),
                ("gex", Reply::Num(t.gex)),
                ("notional_oi", Reply::Num(t.notional_oi)),
                ("pcr_oi", Reply::number(t.pcr_oi)),
                ("pcr_volume", Reply::number(t.pcr_volume)),
            ]),
        ),
        (
            "tenors",
            Reply::Array(
                a.tenors
                    .iter()
                    .map(|t| {
                        Reply::Map(vec![
                            ("days", Reply::Int(i64::from(t.days))),
                            ("atm_iv", Reply::number(t.atm_iv)),
                            ("rr25", Reply::number(t.rr25)),
                            ("bf25", Reply::number(t.bf25)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "expiries",
            Reply::Array(
                a.expiries
                    .iter()
                    .map(|e| {
                        Reply::Map(vec![
                            ("expiry", Reply::text(e.expiry.as_str())),
                            ("expiry_ts", Reply::Int(e.expiry_ts)),
                            ("t", Reply::Num(e.t)),
                            ("forward", Reply::number(e.forward)),
                            ("atm_strike", Reply::number(e.atm_strike)),
                            ("atm_iv", Reply::number(e.atm_iv)),
                            ("call25_iv", Reply::number(e.call25_iv)),
                            ("put25_iv", Reply::number(e.put25_iv)),
                            ("call10_iv", Reply::number(e.call10_iv)),
                            ("put10_iv", Reply::number(e.put10_iv)),
                            ("rr25", Reply::number(e.rr25)),
                            ("bf25", Reply::number(e.bf25)),
                            ("rr10", Reply::number(e.rr10)),
                            ("bf10", Reply::number(e.bf10)),
                            ("oi_calls", Reply::Num(e.oi_calls)),
                            ("oi_puts", Reply::Num(e.oi_puts)),
                            ("volume_calls", Reply::Num(e.volume_calls)),
                            ("volume_puts", Reply::Num(e.volume_puts)),
                            ("pcr_oi", Reply::number(e.pcr_oi)),
                            ("pcr_volume", Reply::number(e.pcr_volume)),
                            ("max_pain", Reply::number(e.max_pain)),
                            ("gex", Reply::Num(e.gex)),
                            ("notional_oi", Reply::Num(e.notional_oi)),
                            ("variance", Reply::number(e.variance)),
                            ("expected_move", Reply::number(e.expected_move)),
                            ("svi", e.svi.as_ref().map_or(Reply::Null, svi_reply)),
                            ("svi_rmse", Reply::number(e.svi_rmse)),
                            (
                                "butterfly_arb",
                                e.butterfly_arb.map_or(Reply::Null, Reply::Bool),
                            ),
                            (
                                "calendar_arb",
                                e.calendar_arb.map_or(Reply::Null, Reply::Bool),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ];
    if let Some(strikes) = &a.strikes {
        top.push((
            "strikes",
            Reply::Array(
                strikes
                    .iter()
                    .map(|s| {
                        Reply::Map(vec![
                            ("strike", Reply::Num(s.strike)),
                            ("oi_calls", Reply::Num(s.oi_calls)),
                            ("oi_puts", Reply::Num(s.oi_puts)),
                            ("gex", Reply::Num(s.gex)),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    Reply::Map(top)
}

/// SVI parameters as ANALYTICS.md names them.
pub fn svi_reply<'a>(s: &options_core::svi::Svi) -> Reply<'a> {
    Reply::Map(vec![
        ("a", Reply::Num(s.a)),
        ("b", Reply::Num(s.b)),
        ("rho", Reply::Num(s.rho)),
        ("m", Reply::Num(s.m)),
        ("sigma", Reply::Num(s.sigma)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_parses_in_any_case_and_order() {
        let a = AnalyticsArgs::parse(&[
            "bystrike",
            "Expiry",
            "26DEC26",
            "2026-12-03",
            "03DEC26",
            "settle",
            "usdt",
            "NOW",
            "1796115600000",
            "format",
            "json",
        ])
        .unwrap();
        assert_eq!(
            a.expiries,
            vec![
                Expiry::parse("3DEC26").unwrap(),
                Expiry::parse("26DEC26").unwrap()
            ]
        );
        assert_eq!(a.settle, Some(Settle::Usdt));
        assert!(a.by_strike);
        assert_eq!(a.now, Some(1_796_115_600_000));
        assert_eq!(a.format, Format::Json);
        assert_eq!(AnalyticsArgs::parse(&[]).unwrap(), AnalyticsArgs::default());
    }

    #[test]
    fn bad_arguments_name_what_is_wrong() {
        let e = |argv: &[&str]| AnalyticsArgs::parse(argv).unwrap_err();
        assert!(e(&["EXPIRY"]).contains("EXPIRY needs"));
        assert!(e(&["EXPIRY", "32DEC26"]).contains("invalid expiry '32DEC26'"));
        assert!(e(&["SETTLE", "EUR"]).contains("SETTLE must be USDC, USDT, BTC or ETH"));
        assert!(e(&["NOW", "soon"]).contains("NOW must be an integer"));
        assert!(e(&["NOW", "-1"]).contains("must not be negative"));
        assert!(e(&["NOW"]).contains("NOW needs"));
        assert!(e(&["FORMAT", "XML"]).contains("FORMAT must be RESP or JSON"));
        assert!(e(&["FIELDS", "1", "delta"]).contains("unknown argument 'FIELDS'"));
        assert!(e(&["LIMIT", "0", "1"]).contains("'OPTIONS.ANALYTICS'"));
    }
}
