//! Query-parameter parsing with errors that name the parameter.
//!
//! Two rules hold for every parameter of the API (the OpenAPI document states them):
//! - a string filter given empty (`?expiry=`) or `all` is absent, as the replaced system's
//!   filters treated them; a number given empty is refused, as the replaced system refused it;
//! - a parameter given twice is refused (`Query::repeated`), rather than one of its values
//!   silently chosen; the two that may repeat (`expiry` of analytics, `metric` of history) are
//!   read from the raw query by their own routes.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;

use options_core::{Expiry, OptionType};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::error::{ApiError, ApiResult};

/// A request's query parameters by name, and the first name given more than once.
#[derive(Debug, Clone, Default)]
pub struct Query {
    values: HashMap<String, String>,
    repeated: Option<String>,
}

impl Query {
    /// The first parameter given more than once, if any.
    pub fn repeated(&self) -> Option<&str> {
        self.repeated.as_deref()
    }

    fn insert(&mut self, name: String, value: String) {
        if self.values.contains_key(&name) {
            self.repeated.get_or_insert_with(|| name.clone());
        }
        self.values.insert(name, value);
    }
}

impl Deref for Query {
    type Target = HashMap<String, String>;
    fn deref(&self) -> &HashMap<String, String> {
        &self.values
    }
}

impl FromIterator<(String, String)> for Query {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Query {
        let mut q = Query::default();
        for (name, value) in pairs {
            q.insert(name, value);
        }
        q
    }
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Query, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Query;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("name=value pairs")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Query, M::Error> {
                let mut q = Query::default();
                while let Some((name, value)) = m.next_entry::<String, String>()? {
                    q.insert(name, value);
                }
                Ok(q)
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// For the routes that read the raw query (because one of their parameters repeats): refuses
/// any of `single` given more than once, as `routes::query` does for every other route.
pub fn refuse_repeats(pairs: &[(String, String)], single: &[&'static str]) -> ApiResult<()> {
    for name in single {
        if pairs.iter().filter(|(n, _)| n == name).count() > 1 {
            return Err(ApiError::bad(name, "given more than once"));
        }
    }
    Ok(())
}

/// A parameter's value, `None` when absent or empty or `all` (the seed's "no filter").
pub fn filter<'a>(q: &'a Query, name: &str) -> Option<&'a str> {
    q.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("all"))
}

/// A numeric parameter's text, `None` only when absent: an empty number is refused by the
/// caller's parse, and `all` is not a number.
fn numeric<'a>(q: &'a Query, name: &str) -> Option<&'a str> {
    q.get(name).map(|s| s.trim())
}

pub fn expiry(q: &Query, name: &'static str) -> ApiResult<Option<Expiry>> {
    filter(q, name).map(|e| parse_expiry(name, e)).transpose()
}

/// One expiry's text, refused with the forms it may take.
pub fn parse_expiry(name: &'static str, text: &str) -> ApiResult<Expiry> {
    Expiry::parse(text).map_err(|_| {
        ApiError::bad(
            name,
            format!("'{text}' is not an expiry (e.g. 3SEP25, 03SEP25, 2025-09-03)"),
        )
    })
}

/// A repeatable, comma-separated expiry list (`expiry=3SEP25,10SEP25&expiry=all`) added to
/// `into`; empty items and `all` are no filter.
pub fn expiry_list(name: &'static str, value: &str, into: &mut Vec<Expiry>) -> ApiResult<()> {
    for e in value.split(',').map(str::trim) {
        if !e.is_empty() && !e.eq_ignore_ascii_case("all") {
            into.push(parse_expiry(name, e)?);
        }
    }
    Ok(())
}

/// A switch: empty (`?bystrike`), `1`, `true`, `yes` are on; `0`, `false`, `no` off.
pub fn flag(name: &'static str, value: &str) -> ApiResult<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(ApiError::bad(
            name,
            format!("'{value}' is not true or false"),
        )),
    }
}

/// A raw query string as its name=value pairs in order (the routes whose parameters repeat).
pub fn raw_pairs(raw: &str) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::bad("query", format!("invalid query string: {e}")))
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
    numeric(q, name)
        .map(|v| {
            options_core::parse_number(v)
                .map_err(|_| ApiError::bad(name, format!("'{v}' is not a number")))
        })
        .transpose()
}

/// A strike as the document states it: above 0, up to 20 digits without leading zeros, up to
/// 8 decimals.
pub fn strike(q: &Query, name: &'static str) -> ApiResult<Option<f64>> {
    filter(q, name)
        .map(|v| {
            let (whole, frac) = v.split_once('.').unwrap_or((v, "0"));
            let sized = (1..=20).contains(&whole.len())
                && (whole == "0" || !whole.starts_with('0'))
                && (1..=8).contains(&frac.len());
            options_core::parse_strike(v)
                .ok()
                .filter(|_| sized)
                .map(|(x, _)| x)
                .ok_or_else(|| {
                    ApiError::bad(
                        name,
                        format!("'{v}' is not a strike (above 0, up to 8 decimals)"),
                    )
                })
        })
        .transpose()
}

/// A non-negative integer no larger than `max`.
pub fn count(q: &Query, name: &'static str, max: usize) -> ApiResult<Option<usize>> {
    numeric(q, name)
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

/// `venue`: `bybit` (the default, the seed's chains) or `deribit`.
pub fn venue(value: Option<&str>) -> ApiResult<options_core::Venue> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(options_core::Venue::Bybit),
        Some(v) => options_core::Venue::parse(v)
            .ok_or_else(|| ApiError::bad("venue", format!("'{v}' is not bybit or deribit"))),
    }
}

/// The `venue` of a raw query string (the endpoints that read repeatable parameters).
pub fn venue_in_raw(raw: &str) -> ApiResult<options_core::Venue> {
    let pairs = raw_pairs(raw)?;
    refuse_repeats(&pairs, &["venue"])?;
    venue(
        pairs
            .iter()
            .find(|(n, _)| n == "venue")
            .map(|(_, v)| v.as_str()),
    )
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

/// A chain key as a client writes it in a stream cursor: `BTC` (Bybit's) or `deribit:BTC`,
/// normalised (upper-case asset, lower-case venue); `None` when malformed.
pub fn chain_key(text: &str) -> Option<String> {
    let text = text.trim();
    match text.split_once(':') {
        None => asset(text).ok(),
        Some((venue, a)) => {
            let v = options_core::Venue::parse(venue)?;
            Some(v.key(&asset(a).ok()?))
        }
    }
}

/// `/api/stream`'s `assets=BTC,ETH`, `venue=` (the assets' chains on that venue) and
/// `since=BTC:12,deribit:ETH:40`; each is refused whole when any part is malformed, rather
/// than silently streaming less than was asked. Answers the chain keys and the cursor.
pub fn stream_params(q: &Query) -> ApiResult<(Vec<String>, Option<String>)> {
    let venue = venue(q.get("venue").map(String::as_str))?;
    let assets = match filter(q, "assets") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter(|a| !a.trim().is_empty())
            .map(|a| {
                asset(a)
                    .map(|a| venue.key(&a))
                    .map_err(|_| ApiError::bad("assets", format!("'{a}' is not an asset symbol")))
            })
            .collect::<ApiResult<_>>()?,
    };
    let since = match filter(q, "since") {
        None => None,
        Some(s) => {
            let well_formed = s.split(',').all(|part| {
                part.rsplit_once(':')
                    .is_some_and(|(k, n)| chain_key(k).is_some() && n.trim().parse::<u64>().is_ok())
            });
            if !well_formed {
                return Err(ApiError::bad(
                    "since",
                    format!(
                        "'{s}' is not KEY:sequence[,KEY:sequence…] (e.g. BTC:12,deribit:ETH:40)"
                    ),
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
        for bad in ["0", "0.0", "007", "1.000000001", "123456789012345678901"] {
            assert!(strike(&q(&[("strike", bad)]), "strike").is_err(), "{bad}");
        }
        assert_eq!(
            strike(&q(&[("strike", "0.05")]), "strike").unwrap(),
            Some(0.05)
        );
        assert_eq!(asset("btc").unwrap(), "BTC");
        assert!(asset("B-C").is_err());
    }

    #[test]
    fn a_repeated_name_is_remembered_and_an_empty_number_refused() {
        let parsed: Query = serde_urlencoded::from_str("seconds=5&type=call&seconds=6").unwrap();
        assert_eq!(parsed.repeated(), Some("seconds"));
        let once: Query = serde_urlencoded::from_str("seconds=5&type=").unwrap();
        assert_eq!(once.repeated(), None);
        assert_eq!(count(&once, "seconds", 100).unwrap(), Some(5));
        // An empty filter is absent; an empty number is refused, and so is "all".
        assert_eq!(option_type(&once, "type").unwrap(), None);
        for bad in ["", "all", " "] {
            let e = number(&q(&[("min_iv", bad)]), "min_iv").unwrap_err();
            assert!(
                matches!(
                    e,
                    ApiError::BadRequest {
                        param: "min_iv",
                        ..
                    }
                ),
                "{bad:?}"
            );
            assert!(
                count(&q(&[("limit", bad)]), "limit", 10).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(number(&q(&[]), "min_iv").unwrap(), None);
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

    #[test]
    fn stream_keys_name_their_venue() {
        let (keys, _) = stream_params(&q(&[("assets", "btc,eth"), ("venue", "deribit")])).unwrap();
        assert_eq!(keys, ["deribit:BTC", "deribit:ETH"]);
        let (keys, since) =
            stream_params(&q(&[("assets", "BTC"), ("since", "BTC:4,deribit:eth:9")])).unwrap();
        assert_eq!(keys, ["BTC"]);
        assert_eq!(since.as_deref(), Some("BTC:4,deribit:eth:9"));
        assert!(stream_params(&q(&[("assets", "BTC"), ("venue", "okx")])).is_err());
        assert!(stream_params(&q(&[("since", "okx:BTC:4")])).is_err());
        assert_eq!(chain_key("Deribit:eth").as_deref(), Some("deribit:ETH"));
    }
}
