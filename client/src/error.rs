//! What can go wrong talking to the module, in the three ways a caller treats differently:
//! Redis cannot be reached (retry later, 503), Redis refused the command (a bug or bad input,
//! with the server's message), or the reply is not what this build understands (a version
//! mismatch: never read as a default).

use crate::tls::TlsError;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Not connected, a timeout or a dropped connection.
    #[error("Redis is unavailable: {0}")]
    Unavailable(redis::RedisError),
    /// Redis answered with an error (`ERR …`, `WRONGTYPE …`).
    #[error("Redis: {0}")]
    Refused(redis::RedisError),
    /// The reply does not match its type in [`crate::reply`].
    #[error("{command} reply not understood: {detail}")]
    Reply {
        command: &'static str,
        detail: String,
    },
    /// A shared settings document (`config:assets`) that this build cannot read.
    #[error("{key}: {detail}")]
    Document { key: &'static str, detail: String },
    /// A URL or setting the client cannot use.
    #[error("Redis settings: {0}")]
    Config(redis::RedisError),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl ClientError {
    /// Whether the connection is gone (as opposed to Redis answering with an error): the
    /// connection is then dropped and remade on the next call.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ClientError::Unavailable(_))
    }
}

impl From<redis::RedisError> for ClientError {
    fn from(e: redis::RedisError) -> ClientError {
        if connection_lost(&e) {
            ClientError::Unavailable(e)
        } else {
            ClientError::Refused(e)
        }
    }
}

/// Whether an error means the connection can no longer be trusted. Anything but an answer
/// from the server counts: a reconnect costs little, a half-read connection is never reused.
pub fn connection_lost(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(e.kind(), redis::ErrorKind::ClientError)
}

pub type ClientResult<T> = Result<T, ClientError>;
