//! `GET /api/history/{asset}`: `OPTIONS.HISTORY` over HTTP, as the module's JSON or as CSV
//! (`format=csv`). This file only turns query parameters into command arguments and, for CSV,
//! the module's points into lines.

use options_client::cmd as module;
use options_client::reply::History;
use options_client::Command;
use options_core::{format_number, Expiry};
use warp::http::header;
use warp::reply::Response;

use crate::assets::known_chain;
use crate::error::{ApiError, ApiResult};
use crate::respond::{forward, json_body};
use crate::state::State;

/// The query: `metric` (repeatable or comma-separated), `tenor` or `expiry`, `from`, `to` (Unix
/// ms, inclusive), `format` (`json`, `csv`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryQuery {
    pub metrics: Vec<String>,
    pub tenor: Option<u32>,
    pub expiry: Option<Expiry>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub csv: bool,
}

fn time(name: &'static str, v: &str) -> ApiResult<i64> {
    v.parse::<i64>()
        .ok()
        .filter(|t| *t >= 0)
        .ok_or_else(|| ApiError::bad(name, format!("'{v}' is not a time in Unix ms")))
}

impl HistoryQuery {
    pub fn parse(raw: &str) -> ApiResult<HistoryQuery> {
        let pairs = crate::params::raw_pairs(raw)?;
        crate::params::refuse_repeats(&pairs, &["tenor", "expiry", "from", "to", "format"])?;
        let mut q = HistoryQuery::default();
        for (name, value) in &pairs {
            let v = value.trim();
            match name.as_str() {
                "metric" => q.metrics.extend(
                    v.split(',')
                        .map(|m| m.trim().to_ascii_lowercase())
                        .filter(|m| !m.is_empty()),
                ),
                "tenor" => {
                    q.tenor = Some(
                        v.parse()
                            .ok()
                            .filter(|d| [7, 30, 60, 90, 180].contains(d))
                            .ok_or_else(|| {
                                ApiError::bad("tenor", format!("'{v}' is not 7, 30, 60, 90 or 180"))
                            })?,
                    )
                }
                "expiry" if !v.is_empty() => {
                    q.expiry = Some(crate::params::parse_expiry("expiry", v)?)
                }
                "from" => q.from = Some(time("from", v)?),
                "to" => q.to = Some(time("to", v)?),
                "format" => {
                    q.csv = match v.to_ascii_lowercase().as_str() {
                        "" | "json" => false,
                        "csv" => true,
                        _ => {
                            return Err(ApiError::bad(
                                "format",
                                format!("'{v}' is not json or csv"),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        if q.metrics.is_empty() {
            return Err(ApiError::bad(
                "metric",
                "give at least one metric (e.g. metric=index)",
            ));
        }
        if q.tenor.is_some() && q.expiry.is_some() {
            return Err(ApiError::bad("tenor", "give tenor or expiry, not both"));
        }
        if let (Some(f), Some(t)) = (q.from, q.to) {
            if f > t {
                return Err(ApiError::bad(
                    "from",
                    format!("from ({f}) is after to ({t})"),
                ));
            }
        }
        Ok(q)
    }

    /// `OPTIONS.HISTORY asset METRIC … FORMAT JSON`.
    pub fn command(&self, asset: &str) -> module::History {
        module::History {
            key: asset.to_string(),
            metrics: self.metrics.clone(),
            tenor_days: self.tenor,
            expiry: self.expiry,
            from_ms: self.from,
            to_ms: self.to,
        }
    }
}

/// The module's `{"metrics","points"}` as CSV: `ts,<metric>…`, one line per sample, an empty
/// cell where a sample lacks the value.
pub fn to_csv(reply: &History) -> String {
    let mut out = String::from("ts");
    for m in &reply.metrics {
        out.push(',');
        out.push_str(m);
    }
    out.push('\n');
    for p in &reply.points {
        let cells: Vec<String> = p
            .iter()
            .map(|v| v.map(format_number).unwrap_or_default())
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// `GET /api/history/{asset}`. Unknown metrics and the like are the module's refusal, a 400.
pub async fn get(st: &State, asset: &str, raw_query: &str) -> ApiResult<Response> {
    let q = HistoryQuery::parse(raw_query)?;
    let asset = known_chain(st, asset, crate::params::venue_in_raw(raw_query)?).await?;
    let bytes = match forward(st, &q.command(&asset)).await {
        Ok(b) => b,
        // The module knows which metrics a selection has; its refusal names them.
        Err(ApiError::Internal(msg)) if msg.contains("unknown metric") => {
            let at = msg.find("unknown metric").unwrap_or(0);
            return Err(ApiError::bad("metric", msg[at..].to_string()));
        }
        Err(e) => return Err(e),
    };
    if !q.csv {
        return Ok(json_body(bytes));
    }
    let reply = module::History::decode(&bytes)?;
    let mut r = Response::new(to_csv(&reply).into());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/csv; charset=utf-8".parse().expect("static header"),
    );
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{asset}-history.csv\"")
            .parse()
            .map_err(|_| ApiError::Internal("header".into()))?,
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_to_command_and_csv() {
        let q =
            HistoryQuery::parse("metric=atm_iv,rr25&metric=BF25&tenor=30&from=5&to=9&format=csv")
                .unwrap();
        assert_eq!(q.metrics, ["atm_iv", "rr25", "bf25"]);
        assert!(q.csv);
        let args = module::words(&q.command("BTC").to_cmd());
        assert_eq!(
            args,
            [
                "OPTIONS.HISTORY",
                "BTC",
                "METRIC",
                "atm_iv",
                "rr25",
                "bf25",
                "TENOR",
                "30",
                "FROM",
                "5",
                "TO",
                "9",
                "FORMAT",
                "JSON"
            ]
        );
        let reply = module::History::decode(
            br#"{"underlying":"BTC","metrics":["a","b"],"points":[[1,0.5,null],[2,1e-9,3]]}"#,
        )
        .unwrap();
        let csv = to_csv(&reply);
        assert_eq!(csv, "ts,a,b\n1,0.5,\n2,1e-9,3\n");
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = |raw: &str| match HistoryQuery::parse(raw) {
            Err(ApiError::BadRequest { param, .. }) => param,
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(bad(""), "metric");
        assert_eq!(bad("metric=index&tenor=14"), "tenor");
        assert_eq!(bad("metric=index&expiry=30FEB26"), "expiry");
        assert_eq!(bad("metric=index&from=yesterday"), "from");
        assert_eq!(bad("metric=index&from=9&to=3"), "from");
        assert_eq!(bad("metric=index&from="), "from");
        assert_eq!(bad("metric=index&tenor=30&tenor=7"), "tenor");
        assert!(HistoryQuery::parse("metric=index&metric=gex&expiry=").is_ok());
        assert_eq!(bad("metric=index&format=xml"), "format");
        assert_eq!(bad("metric=atm_iv&tenor=30&expiry=3DEC26"), "tenor");
    }
}
