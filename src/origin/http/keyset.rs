//! The keyset endpoint (SPEC §3) and RFC 8414 authorization server metadata: who receives
//! which keys (HMAC keys only with the edge credential), the caching headers
//! (`Cache-Control`, a strong `ETag`, `304` on `If-None-Match`, `Vary`, CORS), and the record
//! of which keyset version each request presented (`GET /keys/adoption`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::{bearer, require};
use super::{not_found_error, AppState};
use crate::origin::adoption;
use crate::origin::error::ApiError;
use crate::origin::metadata;
use crate::origin::service::{now_ms, Origin};

/// Whether `If-None-Match` names `etag` (weak tags compared weakly; `*` matches any).
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    let Some(value) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// The keyset (SPEC §3). Public keys (Ed25519, EC, RSA) go to everyone, cacheable and with
/// `Access-Control-Allow-Origin: *`; HMAC keys are added only for the edge credential, in a
/// `private, no-store` answer. A keyset holding both serves its public keys to a request
/// without a credential (an HMAC key never makes the public keys private) and answers
/// `Vary: Authorization` either way, since the answer depends on it. A wrong credential is 401
/// when there is secret material to protect (a misconfigured edge must hear of it rather than
/// silently miss the HMAC keys); so is no credential for a keyset of HMAC keys only.
pub(super) async fn jwks(State(origin): State<AppState>, headers: HeaderMap) -> Response {
    let ring = origin.keyring();
    let mut keyset = ring.jwks(now_ms(), &origin.policy);
    let has_secret = keyset.keys.iter().any(|k| k.is_secret());
    let has_public = keyset.keys.iter().any(|k| !k.is_secret());
    let with_secret = if !has_secret {
        false
    } else if bearer(&headers).is_none() && has_public {
        keyset.keys.retain(|k| !k.is_secret());
        false
    } else {
        if let Err(e) = require(&origin, &origin.secrets.edge_credential, &headers) {
            origin.metrics.keyset_401.inc();
            let mut resp = e.into_response();
            resp.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Authorization"));
            return resp;
        }
        true
    };
    let body = serde_json::to_vec(&keyset).expect("a JWKS serializes");
    let etag = adoption::version_tag(&body);
    // Which version the edge holds (GET /keys/adoption): a lock, a few compares, and the kids
    // listed only the first time a version is served.
    origin.adoption.record(
        now_ms(),
        &etag,
        || keyset.keys.iter().map(|k| k.kid.clone()).collect(),
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
    );
    let max_age = origin.settings.keyset_max_age.as_secs();
    let cache_control = if with_secret {
        // Secret material: no shared cache may keep it (SPEC §3).
        format!("private, no-store, max-age={max_age}")
    } else {
        format!("public, max-age={max_age}")
    };
    let mut resp = json_with_etag(&origin, &headers, body, etag, &cache_control);
    let h = resp.headers_mut();
    if has_secret {
        h.insert(header::VARY, HeaderValue::from_static("Authorization"));
    }
    if !with_secret {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    resp
}

/// A JSON answer with a strong `ETag` (304 on `If-None-Match`) and `Cache-Control`.
fn json_with_etag(
    origin: &Origin,
    headers: &HeaderMap,
    body: Vec<u8>,
    etag: String,
    cache_control: &str,
) -> Response {
    let mut resp = if etag_matches(headers, &etag) {
        origin.metrics.keyset_304.inc();
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        origin.metrics.keyset_200.inc();
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(cache_control).expect("ascii"),
    );
    resp
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414): where generic clients and
/// gateways find the keyset. Served when `issuer` is an http(s) URL (the metadata's `issuer`
/// must be one); at the root for an issuer without a path, and at
/// `/.well-known/oauth-authorization-server/{path}` for an issuer with one (RFC 8414 §3.1).
pub(super) async fn authorization_server_metadata(
    State(origin): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    metadata_for(&origin, &headers, "")
}

pub(super) async fn authorization_server_metadata_at(
    State(origin): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(issuer_path) = path.map_err(|_| not_found_error())?;
    metadata_for(&origin, &headers, &issuer_path)
}

fn metadata_for(
    origin: &Origin,
    headers: &HeaderMap,
    issuer_path: &str,
) -> Result<Response, ApiError> {
    let metadata = metadata::authorization_server(
        &origin.issuer,
        &origin.keyring().jwks(now_ms(), &origin.policy),
    );
    let Some(metadata) = metadata else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no authorization server metadata: the `issuer` setting is not an http(s) URL",
        ));
    };
    if metadata::issuer_path(&origin.issuer) != Some(issuer_path.trim_matches('/')) {
        return Err(not_found_error());
    }
    let body = serde_json::to_vec(&metadata).expect("metadata serializes");
    let etag = adoption::version_tag(&body);
    let max_age = origin.settings.keyset_max_age.as_secs();
    let mut resp = json_with_etag(
        origin,
        headers,
        body,
        etag,
        &format!("public, max-age={max_age}"),
    );
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::headers_for_tests as headers;

    #[test]
    fn if_none_match() {
        let tag = "\"abc\"";
        assert!(etag_matches(&headers(&[("if-none-match", "\"abc\"")]), tag));
        assert!(etag_matches(
            &headers(&[("if-none-match", "W/\"abc\"")]),
            tag
        ));
        assert!(etag_matches(
            &headers(&[("if-none-match", "\"x\", \"abc\"")]),
            tag
        ));
        assert!(etag_matches(&headers(&[("if-none-match", "*")]), tag));
        assert!(!etag_matches(
            &headers(&[("if-none-match", "\"abd\"")]),
            tag
        ));
        assert!(!etag_matches(&headers(&[("if-none-match", "abc")]), tag));
        assert!(!etag_matches(&headers(&[]), tag));
    }
}
