//! Request bodies: the size limit (→ 413, refused from a declared `Content-Length` before any
//! of the body is read, so no `100 Continue` is sent), the deadline (a body must arrive within
//! `header_timeout` of its headers → 408), and JSON bodies (malformed JSON → 400 with a
//! message; nesting bounded before parsing).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::origin::error::ApiError;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is over {MAX_BODY_BYTES} bytes"),
    )
}

/// An answer after which the connection ends (the body was not read to its end; serve.rs
/// closes lingeringly so a client still sending reads this answer instead of a reset).
fn closing(error: ApiError) -> Response {
    let mut resp = error.into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Reads the whole request body before the handler runs, under the size limit and within
/// `deadline` of the headers (a body trickled byte by byte must not hold a connection).
/// A declared `Content-Length` over the limit is answered 413 before the body is touched:
/// hyper sends `100 Continue` only when the body is first read, so a client that asked for it
/// never sends the body.
pub(super) async fn read_body(
    State(deadline): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return closing(payload_too_large());
    }
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(deadline, Limited::new(body, MAX_BODY_BYTES).collect()).await;
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return closing(payload_too_large())
        }
        Ok(Err(_)) => {
            return closing(ApiError::bad_request(
                "bad_body",
                "cannot read the request body",
            ))
        }
        Err(_) => {
            return closing(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time",
            ))
        }
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    next.run(req).await
}

/// Reads a JSON body into `T`. `None` for an empty body when `optional`.
pub(super) fn json_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    optional: bool,
) -> Result<Option<T>, ApiError> {
    let bytes = body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            payload_too_large()
        } else {
            ApiError::bad_request("bad_body", "cannot read the request body")
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if optional {
            return Ok(None);
        }
        return Err(ApiError::bad_request(
            "malformed_json",
            "the request body must be a JSON object",
        ));
    }
    if crate::core::exceeds_depth(&bytes, crate::core::MAX_JSON_DEPTH) {
        return Err(ApiError::bad_request(
            "malformed_json",
            format!(
                "the JSON is nested deeper than {} levels",
                crate::core::MAX_JSON_DEPTH
            ),
        ));
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("invalid request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn json_bodies() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        struct B {
            #[allow(dead_code)]
            a: u8,
        }
        let ok = |s: &str| json_body::<B>(Ok(Bytes::from(s.to_string())), false);
        assert!(ok(r#"{"a":1}"#).unwrap().is_some());
        assert_eq!(ok("{").unwrap_err().code, "malformed_json");
        assert_eq!(ok("1").unwrap_err().code, "malformed_json");
        assert_eq!(ok(" ").unwrap_err().code, "malformed_json");
        assert_eq!(ok(r#"{"a":300}"#).unwrap_err().code, "invalid_request");
        assert_eq!(ok(r#"{"a":1,"b":2}"#).unwrap_err().code, "invalid_request");
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(40), "]".repeat(40));
        assert!(ok(&deep).unwrap_err().message.contains("nested"));
        assert!(json_body::<B>(Ok(Bytes::new()), true).unwrap().is_none());
    }
}
