//! Query-parameter parsing with errors that name the parameter.

use std::collections::HashMap;

use options_core::{Expiry, OptionType};

use crate::error::{ApiError, ApiResult};

pub type Query = HashMap<String, String>;

/// A parameter's value, `None` when absent or empty or `all` (the seed's "no filter").
pub fn filter<'a>(q: &'a Query, name: &str) -> Option<&'a str> {
    q.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("all"))
}

pub fn expiry(q: &Query, name: &'static str) -> ApiResult<Option<Expiry>> {
    filter(q, name)
        .map(|e| {
            Expiry::parse(e).map_err(|_| {
                ApiError::bad(
                    name,
                    format!("'{e}' is not an expiry (e.g. 3SEP25, 03SEP25, 2025-09-03)"),
                )
            })
        })
        .transpose()
}

/// `call`, `put` (any case) or absent/`all`.
pub fn option_type(q: &Query, name: &'static str) -> ApiResult<Option<OptionType>> {
    match filter(q, name) {
        None => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("call") => Ok(Some(OptionType::Call)),
        Some(t) if t.eq_ignore_ascii_case("put") => Ok(Some(OptionType::Put)),
        Some(t) => Err(ApiError::bad(
            name,
            format!("'{t}' is not call, put or all"),
        )),
    }
}

pub fn number(q: &Query, name: &'static str) -> ApiResult<Option<f64>> {
    filter(q, name)
        .map(|v| {
            options_core::parse_number(v)
                .map_err(|_| ApiError::bad(name, format!("'{v}' is not a number")))
        })
        .transpose()
}

pub fn strike(q: &Query, name: &'static str) -> ApiResult<Option<f64>> {
    filter(q, name)
        .map(|v| {
            options_core::parse_strike(v)
                .map(|(x, _)| x)
                .map_err(|_| ApiError::bad(name, format!("'{v}' is not a strike")))
        })
        .transpose()
}

/// A non-negative integer no larger than `max`.
pub fn count(q: &Query, name: &'static str, max: usize) -> ApiResult<Option<usize>> {
    filter(q, name)
        .map(|v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    ApiError::bad(name, format!("'{v}' is not a whole number from 0 to {max}"))
                })
        })
        .transpose()
}

/// An asset path segment: 1–16 letters or digits, upper-cased.
pub fn asset(raw: &str) -> ApiResult<String> {
    let a = raw.trim().to_uppercase();
    if options_core::assets::valid_symbol(&a) {
        Ok(a)
    } else {
        Err(ApiError::bad(
            "asset",
            format!("'{raw}' is not an asset symbol"),
        ))
    }
}

/// `/api/stream`'s `assets=BTC,ETH` and `since=BTC:12,ETH:40`; either is refused whole when
/// any part is malformed, rather than silently streaming less than was asked.
pub fn stream_params(q: &Query) -> ApiResult<(Vec<String>, Option<String>)> {
    let assets = match filter(q, "assets") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter(|a| !a.trim().is_empty())
            .map(|a| {
                asset(a)
                    .map_err(|_| ApiError::bad("assets", format!("'{a}' is not an asset symbol")))
            })
            .collect::<ApiResult<_>>()?,
    };
    let since = match filter(q, "since") {
        None => None,
        Some(s) => {
            let well_formed = s.split(',').all(|part| {
                part.split_once(':')
                    .is_some_and(|(a, n)| asset(a).is_ok() && n.trim().parse::<u64>().is_ok())
            });
            if !well_formed {
                return Err(ApiError::bad(
                    "since",
                    format!("'{s}' is not ASSET:sequence[,ASSET:sequence…] (e.g. BTC:12,ETH:40)"),
                ));
            }
            Some(s.to_string())
        }
    };
    Ok((assets, since))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_names_bad_parameters() {
        assert_eq!(
            option_type(&q(&[("type", "Call")]), "type").unwrap(),
            Some(OptionType::Call)
        );
        assert_eq!(option_type(&q(&[("type", "all")]), "type").unwrap(), None);
        let e = option_type(&q(&[("type", "straddle")]), "type").unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { param: "type", .. }));
        assert!(expiry(&q(&[("expiry", "3sep25")]), "expiry")
            .unwrap()
            .is_some());
        assert!(expiry(&q(&[("expiry", "soon")]), "expiry").is_err());
        assert_eq!(
            count(&q(&[("limit", "10")]), "limit", 100).unwrap(),
            Some(10)
        );
        assert!(count(&q(&[("limit", "-1")]), "limit", 100).is_err());
        assert!(strike(&q(&[("strike", "2.35")]), "strike")
            .unwrap()
            .is_some());
        assert!(strike(&q(&[("strike", "x")]), "strike").is_err());
        assert_eq!(asset("btc").unwrap(), "BTC");
        assert!(asset("B-C").is_err());
    }

    #[test]
    fn stream_parameters_are_refused_whole() {
        let (a, since) =
            stream_params(&q(&[("assets", "btc, eth"), ("since", "BTC:12,ETH:40")])).unwrap();
        assert_eq!(a, ["BTC", "ETH"]);
        assert_eq!(since.as_deref(), Some("BTC:12,ETH:40"));
        let e = stream_params(&q(&[("assets", "BTC,B TC")])).unwrap_err();
        assert!(matches!(
            e,
            ApiError::BadRequest {
                param: "assets",
                ..
            }
        ));
        for bad in ["BTC", "BTC:x", "BTC:1,", "B TC:1", "BTC:-1"] {
            let e = stream_params(&q(&[("since", bad)])).unwrap_err();
            assert!(
                matches!(e, ApiError::BadRequest { param: "since", .. }),
                "{bad}"
            );
        }
    }
}
