//! Errors as JSON replies: `{"detail": "…"}` like the FastAPI system this replaces, plus the
//! offending `parameter` for 400s.

use options_client::ClientError;
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("invalid {param}: {message}")]
    BadRequest {
        param: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("Redis is unavailable: {0}")]
    Unavailable(String),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(param: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            param,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } | ApiError::Conflict(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn into_response(self) -> Response {
        let mut body = json!({"detail": self.to_string()});
        if let ApiError::BadRequest { param, .. } = &self {
            body["parameter"] = json!(param);
        }
        warp::reply::with_status(warp::reply::json(&body), self.status()).into_response()
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> ApiError {
        match e {
            ClientError::Unavailable(e) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
