//! `GET /api/analytics/{asset}` and `GET /api/smile/{asset}`: `OPTIONS.ANALYTICS` and
//! `OPTIONS.SMILE` over HTTP (ANALYTICS.md). The module's JSON is forwarded as it is; this file
//! only turns query parameters into command arguments.

use options_client::cmd as module;
use options_core::{Expiry, Settle};
use warp::reply::Response;

use crate::assets::known_chain;
use crate::error::{ApiError, ApiResult};
use crate::respond::{forward, json_body};
use crate::state::State;

/// The query of an analytics request: `expiry` (repeatable, or comma-separated; `all` or
/// absent for every expiry), `settle`, `bystrike`, `rate`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalyticsQuery {
    pub expiries: Vec<Expiry>,
    pub settle: Option<Settle>,
    pub by_strike: bool,
    pub rate: Option<f64>,
}

/// `rate`: an annual rate from -1 to 1, as the module takes it.
fn parse_rate(value: &str) -> ApiResult<Option<f64>> {
    if value.is_empty() {
        return Ok(None);
    }
    match options_core::parse_number(value) {
        Ok(r) if (-1.0..=1.0).contains(&r) => Ok(Some(r)),
        _ => Err(ApiError::bad(
            "rate",
            format!("'{value}' is not an annual rate from -1 to 1 (0.05 is 5 %)"),
        )),
    }
}

impl AnalyticsQuery {
    /// Parses the raw query string (a `HashMap` query would keep one `expiry` only).
    pub fn parse(raw: &str) -> ApiResult<AnalyticsQuery> {
        let pairs = crate::params::raw_pairs(raw)?;
        crate::params::refuse_repeats(&pairs, &["settle", "bystrike", "rate"])?;
        let mut q = AnalyticsQuery::default();
        for (name, value) in &pairs {
            let value = value.trim();
            match name.as_str() {
                "expiry" => crate::params::expiry_list("expiry", value, &mut q.expiries)?,
                "settle" if value.is_empty() || value.eq_ignore_ascii_case("all") => {
                    q.settle = None
                }
                "settle" => {
                    q.settle = Some(Settle::parse(value).ok_or_else(|| {
                        ApiError::bad("settle", format!("'{value}' is not {}", Settle::NAMES))
                    })?)
                }
                "rate" => q.rate = parse_rate(value)?,
                "bystrike" => q.by_strike = crate::params::flag("bystrike", value)?,
                _ => {}
            }
        }
        q.expiries.sort();
        q.expiries.dedup();
        Ok(q)
    }

    /// `OPTIONS.ANALYTICS asset … FORMAT JSON`.
    pub fn command(&self, asset: &str) -> module::Analytics {
        module::Analytics {
            expiries: self.expiries.clone(),
            settle: self.settle,
            by_strike: self.by_strike,
            rate: self.rate,
            ..module::Analytics::new(asset)
        }
    }
}

/// `GET /api/analytics/{asset}`.
pub async fn get(st: &State, asset: &str, raw_query: &str) -> ApiResult<Response> {
    let q = AnalyticsQuery::parse(raw_query)?;
    let asset = known_chain(st, asset, crate::params::venue_in_raw(raw_query)?).await?;
    Ok(json_body(forward(st, &q.command(&asset)).await?))
}

/// `GET /api/smile/{asset}?expiry=…[&settle=…][&rate=…]`: one expiry's fit; 404 when it has
/// none.
pub async fn smile(st: &State, asset: &str, raw_query: &str) -> ApiResult<Response> {
    let pairs = crate::params::raw_pairs(raw_query)?;
    crate::params::refuse_repeats(&pairs, &["expiry", "settle", "rate"])?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let expiry_text = get("expiry");
    if expiry_text.is_empty() {
        return Err(ApiError::bad("expiry", "expiry is required (e.g. 26DEC26)"));
    }
    let expiry = crate::params::parse_expiry("expiry", expiry_text)?;
    let settle =
        match get("settle") {
            "" => None,
            s if s.eq_ignore_ascii_case("all") => None,
            s => Some(Settle::parse(s).ok_or_else(|| {
                ApiError::bad("settle", format!("'{s}' is not {}", Settle::NAMES))
            })?),
        };
    let rate = parse_rate(get("rate"))?;
    let asset = known_chain(st, asset, crate::params::venue_in_raw(raw_query)?).await?;
    let command = module::Smile {
        settle,
        rate,
        ..module::Smile::new(&asset, expiry)
    };
    match st.redis.json(&command).await? {
        Some(body) => Ok(json_body(body)),
        None => Err(ApiError::NotFound(format!(
            "{asset} {} has no fitted smile (no such live expiry, or fewer than five strikes \
             with an IV)",
            expiry.code()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use options_client::Command;

    fn args(c: &module::Analytics) -> Vec<String> {
        module::words(&c.to_cmd())
    }

    #[test]
    fn repeated_and_comma_separated_expiries_become_one_sorted_list() {
        let q = AnalyticsQuery::parse(
            "expiry=26DEC26&expiry=2026-12-03,03DEC26&settle=usdt&bystrike=1",
        )
        .unwrap();
        assert_eq!(
            args(&q.command("BTC")),
            [
                "OPTIONS.ANALYTICS",
                "BTC",
                "EXPIRY",
                "3DEC26",
                "26DEC26",
                "SETTLE",
                "USDT",
                "BYSTRIKE",
                "FORMAT",
                "JSON"
            ]
        );
        let all = AnalyticsQuery::parse("expiry=all&settle=").unwrap();
        assert_eq!(all, AnalyticsQuery::default());
        assert_eq!(
            args(&all.command("ETH")),
            ["OPTIONS.ANALYTICS", "ETH", "FORMAT", "JSON"]
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = |raw: &str| match AnalyticsQuery::parse(raw) {
            Err(ApiError::BadRequest { param, .. }) => param,
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(bad("expiry=31FEB26"), "expiry");
        assert_eq!(bad("settle=EUR"), "settle");
        assert_eq!(bad("bystrike=maybe"), "bystrike");
    }
}
