//! `OPTIONS.HISTORY key METRIC m [METRIC m …] [TENOR days | EXPIRY e] [FROM ms] [TO ms]
//! [FORMAT RESP|JSON]`: the chain's sampled analytics over time (`crate::history`), and
//! `OPTIONS.HISTORYRESTORE`, which the AOF rewrite writes to rebuild a history.

use options_core::Expiry;
use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use super::keyspace::{chain_or_create, err, text_args, with_chain};
use crate::args::{self, ArgCursor, ArgResult, Format, OutputOptions};
use crate::history::{History, Sample, Want, EXPIRY_METRICS, TENOR_METRICS, TOTAL_METRICS};
use crate::reply::{Points, Reply};
use crate::stats::Footprint;

const COMMAND: &str = "OPTIONS.HISTORY";

/// Which series the metrics are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Totals,
    Tenor(u32),
    Expiry(Expiry),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryArgs {
    pub metrics: Vec<String>,
    pub series: Series,
    pub from: i64,
    pub to: i64,
    pub format: Format,
}

fn is_keyword(s: &str) -> bool {
    ["METRIC", "TENOR", "EXPIRY", "FROM", "TO", "FORMAT"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(s))
}

fn time_arg(name: &str, text: &str) -> ArgResult<i64> {
    let ms = args::parse_i64(name, text)?;
    if ms < 0 {
        return Err(format!(
            "ERR {name} must be a time in Unix ms, not negative: '{text}'"
        ));
    }
    Ok(ms)
}

impl HistoryArgs {
    pub fn parse(argv: &[&str]) -> ArgResult<Self> {
        let mut metrics: Vec<String> = Vec::new();
        let (mut tenor, mut expiry) = (None, None);
        let (mut from, mut to) = (0, i64::MAX);
        let mut format = Format::Resp;
        let mut cur = ArgCursor::new(argv);
        while let Some(kw) = cur.next() {
            let is = |k: &str| kw.eq_ignore_ascii_case(k);
            if is("METRIC") {
                metrics.push(
                    cur.value_for("METRIC", "a metric name")?
                        .to_ascii_lowercase(),
                );
                // METRIC a b c: names until the next keyword.
                while let Some(next) = cur.peek().filter(|n| !is_keyword(n)) {
                    metrics.push(next.to_ascii_lowercase());
                    cur.next();
                }
            } else if is("TENOR") {
                let t = cur.value_for("TENOR", "days: 7, 30, 60, 90 or 180")?;
                let days = t
                    .parse::<u32>()
                    .ok()
                    .filter(|d| options_core::figures::TENOR_DAYS.contains(d))
                    .ok_or_else(|| format!("ERR TENOR must be 7, 30, 60, 90 or 180, got '{t}'"))?;
                tenor = Some(days);
            } else if is("EXPIRY") {
                expiry = Some(args::parse_expiry(cur.value_for("EXPIRY", "an expiry")?)?);
            } else if is("FROM") {
                from = time_arg("FROM", cur.value_for("FROM", "a time in Unix ms")?)?;
            } else if is("TO") {
                to = time_arg("TO", cur.value_for("TO", "a time in Unix ms")?)?;
            } else if is("FORMAT") {
                let mut opts = OutputOptions::default();
                opts.try_parse(kw, &mut cur)?;
                format = opts.format;
            } else {
                return Err(args::unknown_keyword(kw, COMMAND));
            }
        }
        let series = match (tenor, expiry) {
            (Some(_), Some(_)) => return Err("ERR give TENOR or EXPIRY, not both".into()),
            (Some(d), None) => Series::Tenor(d),
            (None, Some(e)) => Series::Expiry(e),
            (None, None) => Series::Totals,
        };
        if metrics.is_empty() {
            return Err("ERR OPTIONS.HISTORY needs at least one METRIC".into());
        }
        if from > to {
            return Err(format!("ERR FROM ({from}) is after TO ({to})"));
        }
        let (valid, of): (&[&str], &str) = match series {
            Series::Totals => (&TOTAL_METRICS, "without TENOR or EXPIRY"),
            Series::Tenor(_) => (&TENOR_METRICS, "with TENOR"),
            Series::Expiry(_) => (&EXPIRY_METRICS, "with EXPIRY"),
        };
        for m in &metrics {
            if valid.contains(&m.as_str()) {
                continue;
            }
            let needs =
                if TENOR_METRICS.contains(&m.as_str()) || EXPIRY_METRICS.contains(&m.as_str()) {
                    format!(" ({m} needs TENOR or EXPIRY)")
                } else {
                    String::new()
                };
            return Err(format!(
                "ERR unknown metric '{m}' {of}{needs}; metrics here: {}",
                valid.join(" ")
            ));
        }
        Ok(HistoryArgs {
            metrics,
            series,
            from,
            to,
            format,
        })
    }

    fn value(&self, s: &Sample, metric: &str) -> Option<f64> {
        match self.series {
            Series::Totals => s.total(metric),
            Series::Tenor(d) => s.tenor(d, metric),
            Series::Expiry(e) => s.expiry(e, metric),
        }
    }
}

pub fn history(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let req = HistoryArgs::parse(&argv[2..]).map_err(err)?;
    let samples = with_chain(ctx, &args[1], |chain| match chain {
        None => Ok(Vec::new()),
        Some(c) => c
            .history
            .samples(
                req.from,
                req.to,
                crate::history::settings(),
                match req.series {
                    Series::Totals => Want::Totals,
                    Series::Tenor(days) => Want::Tenor {
                        days,
                        metrics: TENOR_METRICS.map(|m| req.metrics.iter().any(|x| x == m)),
                    },
                    Series::Expiry(e) => Want::Expiry(e),
                },
            )
            .map_err(|e| err(format!("ERR history unreadable: {e}"))),
    })?;
    let mut points = Points::with_capacity(req.metrics.len(), samples.len());
    for s in &samples {
        points.push(s.ts, req.metrics.iter().map(|m| req.value(s, m)));
    }
    Reply::Map(vec![
        ("underlying", Reply::text(argv[1])),
        (
            "metrics",
            Reply::texts(req.metrics.iter().map(String::as_str)),
        ),
        ("points", Reply::Points(points)),
    ])
    .send(ctx, req.format)
}

/// `OPTIONS.HISTORYRESTORE key count bytes [count bytes …]`: replaces the history of the chain
/// at `key` (creating an empty chain, which the following INGESTs fill) with encoded chunks.
/// Written by the AOF rewrite; every chunk is checked by decoding it before anything changes.
pub fn history_restore(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(RedisError::WrongArity);
    }
    let key_name = args[1]
        .try_as_str()
        .map_err(|_| RedisError::Str("ERR the key must be UTF-8 text"))?;
    let mut parts = Vec::with_capacity((args.len() - 2) / 2);
    for pair in args[2..].chunks_exact(2) {
        let count = pair[0]
            .try_as_str()
            .ok()
            .and_then(|t| t.parse::<u32>().ok())
            .ok_or(RedisError::Str("ERR chunk sample count must be an integer"))?;
        parts.push((count, pair[1].as_slice().to_vec()));
    }
    let restored = History::from_chunks(parts).map_err(|e| err(format!("ERR {e}")))?;
    let key = ctx.open_key_writable(&args[1]);
    let chain = chain_or_create(&key, key_name, 0)?;
    let before = Footprint::of(chain);
    chain.history = restored;
    crate::stats::chain_changed(before, chain);
    ctx.replicate_verbatim();
    Ok(RedisValue::SimpleStringStatic("OK"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_tenors_expiries_and_times() {
        let a = HistoryArgs::parse(&[
            "metric", "INDEX", "pcr_oi", "FROM", "5", "TO", "10", "FORMAT", "json",
        ])
        .unwrap();
        assert_eq!(a.metrics, ["index", "pcr_oi"]);
        assert_eq!(
            (a.series, a.from, a.to, a.format),
            (Series::Totals, 5, 10, Format::Json)
        );
        let t = HistoryArgs::parse(&["TENOR", "30", "METRIC", "atm_iv", "METRIC", "rr25"]).unwrap();
        assert_eq!((t.series, t.metrics.len()), (Series::Tenor(30), 2));
        let e = HistoryArgs::parse(&["EXPIRY", "03DEC26", "METRIC", "max_pain"]).unwrap();
        assert_eq!(e.series, Series::Expiry(Expiry::parse("3DEC26").unwrap()));
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let e = |argv: &[&str]| HistoryArgs::parse(argv).unwrap_err();
        assert!(e(&[]).contains("at least one METRIC"));
        assert!(e(&["METRIC", "atm_iv"]).contains("atm_iv needs TENOR or EXPIRY"));
        assert!(e(&["METRIC", "colour"]).contains("unknown metric 'colour'"));
        assert!(e(&["TENOR", "30", "METRIC", "index"]).contains("with TENOR"));
        assert!(e(&["TENOR", "45", "METRIC", "atm_iv"]).contains("7, 30, 60, 90 or 180"));
        assert!(e(&["TENOR", "30", "EXPIRY", "3DEC26", "METRIC", "atm_iv"]).contains("not both"));
        assert!(e(&["METRIC", "index", "FROM", "-1"]).contains("not negative"));
        assert!(e(&["METRIC", "index", "FROM", "soon"]).contains("must be an integer"));
        assert!(e(&["METRIC", "index", "FROM", "9", "TO", "3"]).contains("after TO"));
        assert!(e(&["FORMAT", "JSON", "LIMIT", "3"]).contains("unknown argument 'LIMIT'"));
        assert!(e(&["METRIC", "index", "LIMIT"]).contains("unknown metric 'limit'"));
        assert!(e(&["EXPIRY", "31FEB26", "METRIC", "gex"]).contains("invalid expiry"));
    }
}
