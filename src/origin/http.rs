//! The HTTP API of SPEC §7 on axum: routes, credential checks (constant time), request bodies
//! (size limit → 413, refused from a declared `Content-Length` before any of the body is read,
//! so no `100 Continue` is sent; a body must arrive within `header_timeout` of its headers →
//! 408; malformed JSON → 400 with a message), the keyset endpoint's caching
//! headers (`Cache-Control`, `ETag`, `304`), and a request log that records method,
//! route template, status and duration only — never headers, bodies, raw paths or queries, so
//! no secret or token reaches the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::secrets::Credential;
use super::service::{now_ms, Origin};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

type AppState = Arc<Origin>;

pub fn router(origin: Arc<Origin>) -> Router {
    let body_deadline = origin.settings.header_timeout;
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/{*issuer_path}",
            get(authorization_server_metadata_at),
        )
        .route("/sessions", post(create_session).get(list_subject_sessions))
        .route("/sessions/refresh", post(refresh_session))
        .route("/sessions/revoke", post(revoke_session))
        .route("/keys", get(list_keys))
        .route("/keys/rotate", post(rotate_keys))
        .route("/keys/adoption", get(key_adoption))
        .route("/keys/{kid}/revoke", post(revoke_key))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(super::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(body_deadline, read_body))
        .layer(middleware::from_fn_with_state(origin.clone(), log_request))
        .with_state(origin)
}

async fn log_request(State(origin): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    // The route template only (`/keys/{kid}/revoke`), never the raw path or query: nothing a
    // client sends reaches the log.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let started = Instant::now();
    let resp = next.run(req).await;
    // The same template labels the metrics: bounded series whatever paths clients send.
    origin.metrics.observe_request(
        &route,
        method.as_str(),
        resp.status().as_u16(),
        started.elapsed(),
    );
    tracing::info!(
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

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
async fn read_body(State(deadline): State<Duration>, req: Request, next: Next) -> Response {
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

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

fn require(origin: &Origin, credential: &Credential, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(headers) {
        None => {
            origin.metrics.auth_failures.inc();
            Err(ApiError::unauthorized(
                "missing credential: send Authorization: Bearer <credential>",
            ))
        }
        Some(presented) if credential.matches(presented) => Ok(()),
        Some(_) => {
            origin.metrics.auth_failures.inc();
            Err(ApiError::unauthorized("invalid credential"))
        }
    }
}

/// Reads a JSON body into `T`. `None` for an empty body when `optional`.
fn json_body<T: DeserializeOwned>(
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

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

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
async fn jwks(State(origin): State<AppState>, headers: HeaderMap) -> Response {
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
    let etag = super::adoption::version_tag(&body);
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
async fn authorization_server_metadata(
    State(origin): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    metadata_for(&origin, &headers, "")
}

async fn authorization_server_metadata_at(
    State(origin): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(issuer_path) = path.map_err(|_| not_found_error())?;
    metadata_for(&origin, &headers, &issuer_path)
}

fn not_found_error() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

fn metadata_for(
    origin: &Origin,
    headers: &HeaderMap,
    issuer_path: &str,
) -> Result<Response, ApiError> {
    let metadata = super::metadata::authorization_server(
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
    if super::metadata::issuer_path(&origin.issuer) != Some(issuer_path.trim_matches('/')) {
        return Err(not_found_error());
    }
    let body = serde_json::to_vec(&metadata).expect("metadata serializes");
    let etag = super::adoption::version_tag(&body);
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    sub: String,
    #[serde(default)]
    claims: Option<Map<String, Value>>,
}

async fn create_session(
    State(origin): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.api_key, &headers)?;
    let req: CreateSession = json_body(body, false)?.expect("required");
    let tokens = origin
        .create_session(req.sub, req.claims.unwrap_or_default())
        .await?;
    Ok(no_store(
        (StatusCode::CREATED, Json(tokens)).into_response(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh_session(
    State(origin): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: RefreshBody = json_body(body, false)?.expect("required");
    let tokens = origin.refresh(&req.refresh_token).await?;
    Ok(no_store(Json(tokens).into_response()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    refresh_token: Option<String>,
    session_id: Option<String>,
    /// Every session of this subject (with the API key).
    sub: Option<String>,
}

async fn revoke_session(
    State(origin): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: RevokeBody = json_body(body, false)?.expect("required");
    let sid = match (req.refresh_token, req.session_id, req.sub) {
        (Some(token), None, None) => origin.revoke_session_by_token(&token).await?,
        (None, None, Some(sub)) => {
            require(&origin, &origin.secrets.api_key, &headers)?;
            let n = origin.revoke_subject_sessions(&sub).await?;
            let body = serde_json::json!({ "revoked": true, "sub": sub, "sessions_revoked": n });
            return Ok(no_store(Json(body).into_response()));
        }
        (None, Some(sid), None) => {
            require(&origin, &origin.secrets.api_key, &headers)?;
            origin.revoke_session(&sid).await?;
            sid
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "send one of: `refresh_token`; or, with the API key, `session_id` or `sub`",
            ))
        }
    };
    Ok(no_store(
        Json(serde_json::json!({ "revoked": true, "session_id": sid })).into_response(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectQuery {
    sub: String,
}

/// `GET /sessions?sub=…` (API key): the subject's sessions, oldest first.
async fn list_subject_sessions(
    State(origin): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<SubjectQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.api_key, &headers)?;
    let axum::extract::Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "send the subject as `?sub=…` (URL-encoded)",
        )
    })?;
    let (sessions, truncated) = origin.list_subject_sessions(&q.sub).await?;
    let body = serde_json::json!({ "sub": q.sub, "sessions": sessions, "truncated": truncated });
    Ok(no_store(Json(body).into_response()))
}

async fn list_keys(
    State(origin): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    // Admins see the table as stored, not this replica's view of up to one tick ago.
    origin.reload_if_changed().await?;
    Ok(no_store(Json(origin.key_listing(now_ms())).into_response()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    /// Rotate only if this kid is still current (409 `current_changed` otherwise).
    expect_current: Option<String>,
    /// The algorithm of the fresh next key (default: the configured one).
    algorithm: Option<String>,
    /// Rotate although the next key is not ready (`next_key_not_ready`), and promote a next
    /// key of another algorithm published for less than keyset_max_age.
    #[serde(default)]
    force: bool,
}

/// `POST /keys/rotate?force=true`: the same as `"force": true` in the body.
#[derive(Deserialize)]
struct RotateQuery {
    #[serde(default)]
    force: bool,
}

async fn rotate_keys(
    State(origin): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<RotateQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    let axum::extract::Query(RotateQuery {
        force: forced_by_query,
    }) = query.map_err(|_| {
        ApiError::bad_request("invalid_request", "`force` must be `true` or `false`")
    })?;
    let mut req: RotateBody = json_body(body, true)?.unwrap_or_default();
    req.force |= forced_by_query;
    let algorithm = match req.algorithm.as_deref() {
        None => None,
        Some(name) => Some(super::algorithm::Algorithm::from_name(name).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_request",
                format!("`algorithm` must be {}", super::algorithm::Algorithm::NAMES),
            )
        })?),
    };
    let outcome = origin
        .rotate_manually(super::service::ManualRotation {
            expect_current: req.expect_current,
            algorithm,
            force: req.force,
        })
        .await?;
    let body = match outcome {
        super::keys::KeyOutcome::Rotated {
            previous,
            current,
            next,
        } => {
            serde_json::json!({ "rotated": true, "previous": previous, "current": current, "next": next })
        }
        _ => serde_json::json!({ "rotated": false }),
    };
    Ok(no_store(Json(body).into_response()))
}

/// `GET /keys/adoption` (admin token): which keyset versions edges presented over the last
/// keyset max-age, per minute over the last hour, and the next key's readiness.
async fn key_adoption(
    State(origin): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    origin.reload_if_changed().await?;
    Ok(no_store(
        Json(origin.adoption_report(now_ms())).into_response(),
    ))
}

async fn revoke_key(
    State(origin): State<AppState>,
    headers: HeaderMap,
    kid: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    let Path(kid) =
        kid.map_err(|_| ApiError::bad_request("invalid_request", "bad kid in the path"))?;
    let outcome = origin.revoke_key(kid).await?;
    let body = match outcome {
        super::keys::KeyOutcome::Revoked {
            kid,
            was,
            current,
            next,
        } => serde_json::json!({
            "revoked": kid, "was": was.name(), "current": current, "next": next
        }),
        _ => serde_json::json!({}),
    };
    Ok(no_store(Json(body).into_response()))
}

async fn healthz(State(origin): State<AppState>) -> Response {
    let ring = origin.keyring();
    let silence = origin.store_silence_ms();
    // The store is polled every 250 ms: 5 s of silence means it is unreachable.
    let store_ok = silence < 5_000;
    let body = serde_json::json!({
        "status": if store_ok && ring.current().is_some() { "ok" } else { "degraded" },
        "store": origin.store.backend(),
        "store_reachable": store_ok,
        "current_kid": ring.current().map(|k| k.record.kid.clone()),
    });
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    no_store((status, Json(body)).into_response())
}

/// The OpenAPI 3.1 description of this API: docs/openapi.json, compiled in (tests check that
/// it covers every route and that the black-box tests' answers validate against it).
async fn openapi() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        include_str!("../../docs/openapi.json"),
    )
        .into_response()
}

async fn metrics(State(origin): State<AppState>) -> Response {
    let now = now_ms();
    let adoption = origin.adoption_report(now);
    let text = origin
        .metrics
        .render(&origin.keyring(), now, &origin.policy, &adoption);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::metrics::CONTENT_TYPE),
        )],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer  abc ")])),
            Some("abc")
        );
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer")])), None);
        assert_eq!(bearer(&headers(&[])), None);
    }

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
