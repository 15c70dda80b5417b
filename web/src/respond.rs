//! Turning module replies into HTTP answers: JSON bodies, forwarded module JSON, typed
//! replies, a nil reply as 404.

use options_client::Command;
use serde_json::Value;
use warp::reply::Response;
use warp::Reply;

use crate::error::{ApiError, ApiResult};
use crate::state::State;

pub fn json_body(bytes: Vec<u8>) -> Response {
    let mut r = Response::new(bytes.into());
    r.headers_mut().insert(
        "content-type",
        warp::http::HeaderValue::from_static("application/json"),
    );
    r
}

pub fn json_value(v: &Value) -> Response {
    warp::reply::json(v).into_response()
}

/// A module reply to forward as it is; nil (no such contract) is a 404.
pub async fn forward<C: Command>(st: &State, command: &C) -> ApiResult<Vec<u8>> {
    st.redis
        .json(command)
        .await?
        .ok_or_else(|| ApiError::NotFound("not found".into()))
}

/// A module reply, typed; nil (no such contract) is a 404.
pub async fn typed<C: Command>(st: &State, command: &C) -> ApiResult<C::Reply> {
    st.redis
        .run(command)
        .await?
        .ok_or_else(|| ApiError::NotFound("not found".into()))
}

pub fn cmd(name: &str, args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(name);
    for a in args {
        c.arg(*a);
    }
    c
}
