//! `/api/alerts`: the market alert rules kept in Redis `config:alerts` (a JSON array), which the
//! feeder follows live and checks beside those of its `alerts.toml`. Each rule is validated
//! with the feeder's own checks before it is stored, and is known by its name.

use options_core::AlertRule;
use serde_json::Value;
use warp::reply::Response;

use crate::error::{ApiError, ApiResult};
use crate::respond::json_value;
use crate::state::State;
/// A dashboard is not a rule engine: a bound keeps every check of every rule cheap.
const MAX_RULES: usize = 200;

async fn load(st: &State) -> ApiResult<Vec<AlertRule>> {
    // The last rules seen come back to a Redis that lost them (`SharedDoc`).
    let text: Option<String> = st.alerts_doc.read(&st.redis).await?;
    match text {
        None => Ok(Vec::new()),
        Some(t) => options_core::parse_alert_rules_json(&t).map_err(ApiError::Internal),
    }
}

async fn save(st: &State, rules: &[AlertRule]) -> ApiResult<()> {
    let text = serde_json::to_string(rules).map_err(|e| ApiError::Internal(e.to_string()))?;
    st.alerts_doc.write(&st.redis, &text).await?;
    Ok(())
}

/// `GET /api/alerts`
pub async fn list(st: &State) -> ApiResult<Response> {
    let rules = load(st).await?;
    Ok(json_value(
        &serde_json::to_value(rules).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

/// `POST /api/alerts` with one rule; it gets its label as name when it has none.
pub async fn add(st: &State, body: Value) -> ApiResult<Response> {
    let mut rule: AlertRule =
        serde_json::from_value(body).map_err(|e| ApiError::bad("rule", e.to_string()))?;
    rule.symbol = rule.symbol.map(|s| s.trim().to_uppercase());
    rule.asset = rule.asset.map(|a| a.trim().to_uppercase());
    rule.name = rule
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    rule.validate("new alert")
        .map_err(|e| ApiError::bad("rule", e))?;
    rule.expiry = rule.expiry.map(|e| {
        options_core::Expiry::parse(e.trim())
            .map(|x| x.code())
            .unwrap_or(e)
    });
    listed(st, &rule).await?;
    let name = rule.name.clone().unwrap_or_else(|| rule.label());
    if name.chars().count() > 80 {
        return Err(ApiError::bad("rule", "a name has at most 80 characters"));
    }
    rule.name = Some(name.clone());
    let mut rules = load(st).await?;
    if rules.iter().any(|r| r.name.as_deref() == Some(&name)) {
        return Err(ApiError::Conflict(format!(
            "An alert named '{name}' exists already"
        )));
    }
    if rules.len() >= MAX_RULES {
        return Err(ApiError::Conflict(format!(
            "At most {MAX_RULES} alert rules; remove one first"
        )));
    }
    rules.push(rule.clone());
    save(st, &rules).await?;
    Ok(json_value(
        &serde_json::json!({"success": true, "rule": rule, "count": rules.len()}),
    ))
}

/// A rule on a contract or an expiry that is over, or that the exchange does not list, could
/// never fire: refused with the reason.
async fn listed(st: &State, rule: &AlertRule) -> ApiResult<()> {
    let now = crate::now_ms();
    if let Some(sym) = &rule.symbol {
        let venue = crate::params::venue(rule.venue.as_deref())?;
        let parsed = options_core::parse_venue_symbol(venue, sym)
            .map_err(|e| ApiError::bad("rule", e.to_string()))?;
        if parsed.expiry.timestamp_ms() <= now {
            return Err(ApiError::bad(
                "rule",
                format!("{sym} has expired: an alert on it could never fire"),
            ));
        }
        let get = options_client::cmd::Get {
            fields: Some(vec!["symbol".into()]),
            ..options_client::cmd::Get::new(&rule.key(&parsed.base), &parsed.canonical())
        };
        match crate::respond::typed(st, &get).await {
            Ok(_) => {}
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::bad(
                    "rule",
                    format!("{sym} is not listed: no such contract in Redis"),
                ))
            }
            Err(e) => return Err(e),
        }
    }
    if let (Some(asset), Some(e)) = (&rule.asset, &rule.expiry) {
        let wanted = options_core::Expiry::parse(e)
            .map_err(|_| ApiError::bad("rule", format!("'{e}' is not an expiry")))?;
        if wanted.timestamp_ms() <= now {
            return Err(ApiError::bad("rule", format!("{e} has expired")));
        }
        // A cross-venue rule needs the expiry on both venues.
        let keys = if rule
            .field
            .eq_ignore_ascii_case(options_core::alert_rule::VENUE_SPREAD)
        {
            options_core::Venue::ALL
                .map(|v| v.key(&asset.to_uppercase()))
                .to_vec()
        } else {
            vec![rule.key(asset)]
        };
        for key in keys {
            if !crate::api::expiry_list(st, &key).await?.contains(&wanted) {
                return Err(ApiError::bad("rule", format!("{key} lists no expiry {e}")));
            }
        }
    }
    Ok(())
}

/// `DELETE /api/alerts/{name}`
pub async fn remove(st: &State, name: &str) -> ApiResult<Response> {
    let name = percent_decode(name);
    let mut rules = load(st).await?;
    let before = rules.len();
    rules.retain(|r| r.name.as_deref() != Some(name.as_str()));
    if rules.len() == before {
        return Err(ApiError::NotFound(format!("No alert named '{name}'")));
    }
    save(st, &rules).await?;
    Ok(json_value(
        &serde_json::json!({"success": true, "count": rules.len()}),
    ))
}

/// A path segment as written (warp hands it over still percent-encoded).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn names_in_paths_are_decoded() {
        assert_eq!(
            percent_decode("BTC%20ATM%20IV%20%3E%2080%25"),
            "BTC ATM IV > 80%"
        );
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%2"), "bad%2");
        assert_eq!(percent_decode("%E2%9C%93"), "✓");
    }
}
