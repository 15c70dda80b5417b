//! The dashboard: HTML pages rendered with handlebars and the static files embedded at build
//! time (our own `web/assets/` plus npm packages pinned in `web/package-lock.json`).
//!
//! The page is a shell: the server renders the asset tabs and the deep-link state so the first
//! paint is right, then `app.js` takes over and keeps itself current from `/api/stream`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use handlebars::Handlebars;
use serde::Serialize;
use serde_json::{json, Value};
use warp::http::{header, StatusCode};
use warp::reply::Response;
use warp::Reply;

use options_core::assets::{Asset, AssetConfig};

use crate::params::Query;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

const DASHBOARD: &str = include_str!("../templates/dashboard.hbs");

/// Views the page can open on; anything else falls back to the table.
const VIEWS: &[&str] = &[
    "table",
    "chain",
    "charts",
    "analytics",
    "history",
    "compare",
    "flow",
];

/// Everything precomputed once at startup.
pub struct Dashboard {
    templates: Handlebars<'static>,
    /// Changes whenever any embedded file does: cache-busts `/static/…?v=`.
    version: String,
}

#[derive(Serialize)]
struct Tab {
    symbol: String,
    name: String,
    active: bool,
}

#[derive(Serialize)]
struct Page<'a> {
    version: &'a str,
    view: &'a str,
    title: String,
    tabs: Vec<Tab>,
    /// JSON for `app.js`, already safe inside `<script type="application/json">`.
    boot: String,
    /// The chain snapshot the page's script will ask for first (`stream.js`), preloaded from
    /// the head so that it travels while the modules load rather than after them: on a slow
    /// phone link it is most of the first screen's wait. None when there is no valid asset.
    snapshot: Option<String>,
}

/// The URL `stream.js` fetches the chain snapshot from (the same text, so the browser uses
/// the preloaded response).
fn snapshot_url(asset: &str, venue: options_core::Venue) -> Option<String> {
    if !options_core::assets::valid_symbol(asset) {
        return None;
    }
    Some(match venue {
        options_core::Venue::Bybit => format!("/api/changes/{asset}?since=0"),
        other => format!("/api/changes/{asset}?since=0&venue={}", other.as_str()),
    })
}

impl Dashboard {
    pub fn new() -> anyhow::Result<Self> {
        let mut templates = Handlebars::new();
        templates.set_strict_mode(true);
        templates.register_template_string("dashboard", DASHBOARD)?;
        let mut h = DefaultHasher::new();
        for (name, _, bytes) in embedded::ASSETS {
            name.hash(&mut h);
            bytes.hash(&mut h);
        }
        DASHBOARD.hash(&mut h);
        Ok(Self {
            templates,
            version: format!("{:016x}", h.finish()),
        })
    }

    /// Renders the page for `/`, `/chain` or `/filter`. `config` is `config:assets`, or the
    /// error text when Redis could not be read (the page still loads and says so).
    pub fn page(
        &self,
        default_view: &str,
        q: &Query,
        config: Result<AssetConfig, String>,
    ) -> Response {
        match self.render(default_view, q, config) {
            Ok(html) => {
                let mut r = warp::reply::html(html).into_response();
                let h = r.headers_mut();
                h.insert(header::CACHE_CONTROL, "no-cache".parse().expect("static"));
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                     object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
                        .parse()
                        .expect("static"),
                );
                h.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    "nosniff".parse().expect("static"),
                );
                r
            }
            Err(e) => {
                tracing::error!(error = %e, "dashboard template failed");
                let mut r = warp::reply::html("dashboard template failed").into_response();
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            }
        }
    }

    fn render(
        &self,
        default_view: &str,
        q: &Query,
        config: Result<AssetConfig, String>,
    ) -> Result<String, handlebars::RenderError> {
        let view = q
            .get("view")
            .map(|v| v.to_ascii_lowercase())
            .filter(|v| VIEWS.contains(&v.as_str()))
            .unwrap_or_else(|| default_view.to_string());
        let (config, error) = match config {
            Ok(c) => (c, None),
            Err(e) => (AssetConfig::default(), Some(e)),
        };
        let assets = config.in_order();
        let enabled: Vec<&Asset> = assets.iter().copied().filter(|a| a.enabled).collect();
        let wanted = q
            .get("asset")
            .map(|a| a.trim().to_uppercase())
            .filter(|a| !a.is_empty());
        let asset = wanted
            .clone()
            .or_else(|| enabled.first().map(|a| a.symbol.clone()))
            .unwrap_or_default();
        let tabs = enabled
            .iter()
            .map(|a| Tab {
                symbol: a.symbol.clone(),
                name: a.display_name().to_string(),
                active: a.symbol == asset,
            })
            .collect();
        let text = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let venue =
            options_core::Venue::parse(&text("venue")).unwrap_or(options_core::Venue::Bybit);
        let boot = json!({
            "view": view,
            "asset": asset,
            "expiry": text("expiry"),
            "type": text("type"),
            "settle": text("settle"),
            "venue": venue.as_str(),
            "search": text("q"),
            "assets": assets.iter().map(|a| json!({
                "symbol": a.symbol,
                "name": a.display_name(),
                "enabled": a.enabled,
            })).collect::<Vec<_>>(),
            "error": error,
        });
        let page = Page {
            version: &self.version,
            view: &view,
            title: {
                let venue = match text("venue").to_ascii_lowercase().as_str() {
                    "deribit" => "Deribit",
                    _ => "Bybit",
                };
                if asset.is_empty() {
                    format!("{venue} options")
                } else {
                    format!("{asset} options · {venue}")
                }
            },
            tabs,
            boot: script_json(&boot),
            snapshot: snapshot_url(&asset, venue),
        };
        self.templates.render("dashboard", &page)
    }

    /// `GET /static/{name}`: immutable when asked for with the current `?v=`, otherwise
    /// revalidated by ETag.
    pub fn asset(&self, name: &str, q: &Query, if_none_match: Option<String>) -> Response {
        let Some((_, ctype, bytes)) = embedded::ASSETS.iter().find(|(n, _, _)| *n == name) else {
            let mut r = warp::reply::json(&json!({"detail": format!("No static file {name}")}))
                .into_response();
            *r.status_mut() = StatusCode::NOT_FOUND;
            return r;
        };
        let etag = format!("\"{}\"", self.version);
        let cache = if q.get("v") == Some(&self.version) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let mut r = if if_none_match.is_some_and(|t| t.split(',').any(|t| t.trim() == etag)) {
            let mut r = Response::default();
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            Response::new(bytes.to_vec().into())
        };
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, ctype.parse().expect("static"));
        h.insert(header::CACHE_CONTROL, cache.parse().expect("static"));
        if let Ok(v) = etag.parse() {
            h.insert(header::ETAG, v);
        }
        r
    }
}

/// JSON that cannot end its `<script>` element early (`</script>`, `<!--`).
fn script_json(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        let s = script_json(&json!({"a": "</script><!-- & x"}));
        assert!(!s.contains('<') && !s.contains('>'));
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["a"], "</script><!-- & x");
    }

    #[test]
    fn every_vendor_file_is_embedded() {
        for name in ["uPlot.iife.min.js", "uPlot.min.css", "app.js", "app.css"] {
            assert!(
                embedded::ASSETS
                    .iter()
                    .any(|(n, _, b)| *n == name && !b.is_empty()),
                "{name} missing"
            );
        }
    }

    #[test]
    fn the_head_preloads_the_snapshot_the_script_asks_for() {
        let d = Dashboard::new().unwrap();
        let page = |pairs: &[(&str, &str)]| {
            let q: Query = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            // As the browser reads the attribute (handlebars escapes `=` and `&`).
            d.render("table", &q, Ok(AssetConfig::default()))
                .unwrap()
                .replace("&#x3D;", "=")
                .replace("&amp;", "&")
        };
        let preload =
            |url: &str| format!(r#"<link rel="preload" href="{url}" as="fetch" crossorigin>"#);
        // The URL stream.js builds: the asset upper-cased, `&venue=` for another venue.
        let btc = page(&[("asset", "btc")]);
        assert!(btc.contains(&preload("/api/changes/BTC?since=0")), "{btc}");
        let deribit = page(&[("asset", "ETH"), ("venue", "deribit")]);
        assert!(
            deribit.contains(&preload("/api/changes/ETH?since=0&venue=deribit")),
            "{deribit}"
        );
        // Nothing to preload for a name that is no asset symbol (the script asks for nothing).
        assert!(!page(&[("asset", "B TC<")]).contains("rel=\"preload\""));
    }

    #[test]
    fn page_falls_back_on_unknown_view_and_escapes_tabs() {
        let d = Dashboard::new().unwrap();
        let cfg = AssetConfig::parse(
            r#"{"ETH":{"name":"Ethereum","enabled":false,"order":2},"BTC":{"name":"<b>Bitcoin</b>","order":1}}"#,
        )
        .unwrap();
        let q: Query = [("view".to_string(), "nope".to_string())]
            .into_iter()
            .collect();
        let html = d.render("chain", &q, Ok(cfg)).unwrap();
        assert!(html.contains("data-view=\"chain\""), "{html}");
        assert!(html.contains("&lt;b&gt;Bitcoin&lt;/b&gt;"));
        assert!(!html.contains("<b>Bitcoin"));
        // Disabled assets get no tab but stay in the boot data for the settings dialog.
        assert!(!html.contains("data-asset=\"ETH\""));
        assert!(html.contains(r#""symbol":"ETH""#));
        // One script module, the bundle: nothing for the browser to discover import by import.
        assert_eq!(html.matches(r#"type="module""#).count(), 1, "{html}");
        assert!(!html.contains("modulepreload"));
        let down = d.render(
            "table",
            &Query::default(),
            Err("Redis is unavailable".into()),
        );
        assert!(down.unwrap().contains("Redis is unavailable"));
    }

    #[test]
    fn app_js_is_one_bundle_with_its_source_map() {
        let file = |name: &str| {
            embedded::ASSETS
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, _, bytes)| std::str::from_utf8(bytes).unwrap())
        };
        let app = file("app.js").expect("app.js embedded");
        // No module left to fetch: no relative import or re-export survives bundling.
        for relative in ["from\"./", "import\"./", "import(\"./", "from'./"] {
            assert!(!app.contains(relative), "app.js still imports: {relative}");
        }
        // The bundle holds the modules' code (stream.js's snapshot URL, a string kept as is).
        assert!(app.contains("/api/changes/"));
        assert!(app.trim_end().ends_with("//# sourceMappingURL=app.js.map"));
        let map: serde_json::Value = serde_json::from_str(file("app.js.map").unwrap()).unwrap();
        let sources = map["sources"].as_array().unwrap();
        assert!(
            sources.iter().any(|s| s == "assets/store.js"),
            "{sources:?}"
        );
        // The modules are in it, not served beside it; the classic theme script is.
        assert!(file("store.js").is_none());
        assert!(file("theme.js").is_some());
    }
}
