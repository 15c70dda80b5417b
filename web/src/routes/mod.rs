//! The HTTP routes, by resource, as warp filters (in the manner of warp's `todos` example).
//!
//! Two listeners share the handlers: the web app's port (5001: dashboard, the web app's API and
//! every data-API route whose path the web app did not use) and the data API's own port (8000:
//! the data API's routes and shapes exactly, for clients written against the seed's
//! `data_api.py`). Shared filters (`with_state`, `read`, `json_body`) live here, one function
//! per resource in `web_app` and `data_api`.

use std::convert::Infallible;
use std::sync::Arc;

use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::error::{ApiError, ApiResult};
use crate::params::Query;
use crate::state::State;

/// `GET path` (and HEAD) with the state and the decoded query string, answered by `handler`.
macro_rules! get {
    ($st:expr, $path:expr, $handler:expr) => {
        $path
            .and($crate::routes::read())
            .and($crate::routes::with_state($st))
            .and($crate::routes::query())
            .then($handler)
            .boxed()
    };
}

/// Alternatives, boxed per group: one flat `.or()` chain of every route overflows the
/// compiler's type depth.
macro_rules! any_of {
    ($first:expr $(, $rest:expr)* $(,)?) => {
        $first$(.or($rest).unify())*.boxed()
    };
}

pub mod data_api;
pub mod web_app;

pub type Routes = warp::filters::BoxedFilter<(Response,)>;

/// The shared state, handed to every handler.
pub fn with_state(
    st: &Arc<State>,
) -> impl Filter<Extract = (Arc<State>,), Error = Infallible> + Clone {
    let st = st.clone();
    warp::any().map(move || st.clone())
}

/// GET, and HEAD answered like GET (hyper leaves the body out).
pub fn read() -> warp::filters::BoxedFilter<()> {
    warp::get().or(warp::head()).unify().boxed()
}

/// The query parameters. A request that gives one twice is refused with a 400 that names it
/// (`params` says why).
pub fn query() -> impl Filter<Extract = (Query,), Error = Rejection> + Clone {
    warp::query::<Query>().and_then(|q: Query| async move {
        match q.repeated() {
            Some(name) => Err(warp::reject::custom(RepeatedParameter(name.to_string()))),
            None => Ok(q),
        }
    })
}

/// A single-valued query parameter given more than once.
#[derive(Debug)]
struct RepeatedParameter(String);

impl warp::reject::Reject for RepeatedParameter {}

/// The raw query string (empty when there is none), for repeatable parameters.
pub fn raw_query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// A write's caller: the state and its `Authorization` header, which `Writer::answer` checks
/// against `--api-token` before the handler runs. Every write route takes one, so the login check
/// is in one place.
pub struct Writer {
    st: Arc<State>,
    header: Option<String>,
}

pub fn writer(st: &Arc<State>) -> impl Filter<Extract = (Writer,), Error = Rejection> + Clone {
    with_state(st)
        .and(warp::header::optional::<String>("authorization"))
        .map(|st, header| Writer { st, header })
}

impl Writer {
    /// Runs `handler` when the caller may write and answers 401 when not; the request is counted
    /// either way.
    pub async fn answer<F, Fut>(self, handler: F) -> Response
    where
        F: FnOnce(Arc<State>) -> Fut,
        Fut: std::future::Future<Output = ApiResult<Response>>,
    {
        let r = match authorized(&self.st, self.header) {
            Ok(()) => handler(self.st.clone()).await,
            Err(e) => Err(e),
        };
        finish(&self.st, r)
    }
}

/// A JSON body of at most 16 KiB. A body that is not JSON (a form, say) reaches the handler as a
/// 400 naming the problem; warp's own rejection would surface as a 405 from a sibling route.
pub fn json_body<T: serde::de::DeserializeOwned + Send>(
) -> impl Filter<Extract = (ApiResult<T>,), Error = Rejection> + Clone {
    warp::body::content_length_limit(16 * 1024)
        .and(warp::body::bytes())
        .map(|b: warp::hyper::body::Bytes| {
            serde_json::from_slice::<T>(&b).map_err(|e| {
                ApiError::bad(
                    "body",
                    format!("the request body must be a JSON object ({e})"),
                )
            })
        })
}

/// Counts the request and turns an error into its JSON reply.
pub fn finish(st: &State, r: ApiResult<Response>) -> Response {
    st.requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match r {
        Ok(r) => r,
        Err(e) => {
            st.errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if matches!(e, ApiError::Internal(_)) {
                tracing::error!(error = %e, "request failed");
            }
            e.into_response()
        }
    }
}

fn authorized(st: &State, header: Option<String>) -> ApiResult<()> {
    match &st.api_token {
        None => Ok(()),
        Some(t) if header.as_deref() == Some(&format!("Bearer {t}")) => Ok(()),
        Some(_) => Err(ApiError::Unauthorized),
    }
}

/// Rejections (no route, wrong method, bad query string) as the API's JSON errors.
pub async fn handle_rejection(r: Rejection) -> Result<Response, Infallible> {
    let (code, detail) = if r.is_not_found() {
        (StatusCode::NOT_FOUND, "Not Found".to_string())
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than 16 KiB".to_string(),
        )
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed".to_string(),
        )
    } else if let Some(RepeatedParameter(name)) = r.find() {
        // As a 400 from a handler reads, with the parameter the client must fix.
        let body = serde_json::json!({
            "detail": format!("invalid {name}: given more than once"),
            "parameter": name,
        });
        return Ok(
            warp::reply::with_status(warp::reply::json(&body), StatusCode::BAD_REQUEST)
                .into_response(),
        );
    } else if let Some(e) = r.find::<warp::reject::InvalidQuery>() {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid query string: {e}"),
        )
    } else {
        (StatusCode::BAD_REQUEST, format!("{r:?}"))
    };
    Ok(warp::reply::with_status(
        warp::reply::json(&serde_json::json!({"detail": detail})),
        code,
    )
    .into_response())
}

/// Every route's rejections as the API's JSON errors. A 405 carries `Allow` (RFC 9110 requires
/// it): the methods the OpenAPI document gives the path, which is the one list of routes.
pub fn with_errors(routes: Routes) -> Routes {
    warp::path::full()
        .and(routes.recover(handle_rejection).unify())
        .map(|path: warp::path::FullPath, mut r: Response| {
            if r.status() == StatusCode::METHOD_NOT_ALLOWED {
                if let Ok(v) = warp::http::HeaderValue::from_str(&allowed_methods(path.as_str())) {
                    r.headers_mut().insert(warp::http::header::ALLOW, v);
                }
            }
            r
        })
        .boxed()
}

/// The methods of `path` in the OpenAPI document, as an `Allow` value. A path written out in the
/// document wins over templates (`/api/assets/add` is not `/api/assets/{asset}`), where
/// `{name}` matches one segment. Paths the document leaves out (pages, static files, the
/// document itself) are GET.
pub fn allowed_methods(path: &str) -> String {
    static TABLE: std::sync::OnceLock<Vec<(Vec<String>, Vec<String>)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_slice(include_bytes!("../openapi.json")).unwrap_or_default();
        doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(template, ops)| {
                        let segments = template.split('/').map(str::to_string).collect();
                        let methods = ops
                            .as_object()
                            .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    let asked: Vec<&str> = path.split('/').collect();
    let matching = |exact: bool| -> Vec<&str> {
        table
            .iter()
            .filter(|(template, _)| {
                template.len() == asked.len()
                    && template.iter().zip(&asked).all(|(t, a)| {
                        t == a
                            || (!exact && t.starts_with('{') && t.ends_with('}') && !a.is_empty())
                    })
            })
            .flat_map(|(_, m)| m.iter().map(String::as_str))
            .collect()
    };
    let mut methods = matching(true);
    if methods.is_empty() {
        methods = matching(false);
    }
    if methods.is_empty() {
        methods.push("GET");
    }
    methods.sort_unstable();
    methods.dedup();
    methods.join(", ")
}

/// gzip for clients that accept it, with the streams tried first and left to compress
/// themselves (they flush per event, which warp's gzip does not: `sse` deflates each event).
pub fn with_gzip(streams: Routes, plain: Routes) -> Routes {
    let accepts_gzip = warp::header::optional::<String>("accept-encoding")
        .and_then(|h: Option<String>| async move {
            if crate::event_gzip::accepts_gzip(h.as_deref()) {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one();
    let compressed = accepts_gzip
        .and(plain.clone())
        .with(warp::compression::gzip())
        .map(warp::reply::Reply::into_response);
    streams.or(compressed).unify().or(plain).unify().boxed()
}

#[cfg(test)]
mod tests;
