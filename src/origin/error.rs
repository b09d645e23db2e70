//! The origin's request errors: one type with a stable machine-readable `code`, a human
//! `message` and an HTTP status, rendered as `{"error": code, "message": text}`.
//! Internal details (database errors) are logged, not sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::keys::KeyError;
use super::sessions::RefreshRejection;
use super::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `ready_at` of `next_key_not_ready` (Unix seconds), sent beside the message.
    pub ready_at: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            ready_at: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        let status = match e {
            KeyError::NotFound(_) => StatusCode::NOT_FOUND,
            KeyError::CurrentChanged { .. }
            | KeyError::DuplicateKid(_)
            | KeyError::NextTooNew { .. }
            | KeyError::NextNotReady { .. }
            | KeyError::AlgorithmChange(_) => StatusCode::CONFLICT,
            KeyError::Material(_) => StatusCode::BAD_REQUEST,
        };
        let ready_at = match &e {
            KeyError::NextNotReady { ready_at_ms, .. } => {
                Some(ready_at_ms.div_euclid(1000) + i64::from(ready_at_ms.rem_euclid(1000) > 0))
            }
            _ => None,
        };
        ApiError {
            ready_at,
            ..ApiError::new(status, e.code(), e.to_string())
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Key(k) => k.into(),
            StoreError::Backend(m) => {
                tracing::error!(error = %m, "database error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the database is unavailable; try again",
                )
            }
            // Logged by the store when the outage starts and ends, not per request.
            StoreError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the database is unavailable; try again",
            ),
            StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "unreadable data in the database");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<RefreshRejection> for ApiError {
    fn from(r: RefreshRejection) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, r.code(), r.message())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.code, "message": self.message });
        if let Some(at) = self.ready_at {
            body["ready_at"] = at.into();
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
