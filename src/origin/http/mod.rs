//! The HTTP API of SPEC §7 on axum: the router (routes, fallbacks, layers), its state, and a
//! request log that records method, route template, status and duration only — never headers,
//! bodies, raw paths or queries, so no secret or token reaches the log. The rest by concern:
//!
//! - [`body`]: request bodies under a size limit and a deadline, and JSON bodies;
//! - [`auth`]: the bearer credential checks (constant time);
//! - [`keyset`]: the keyset and RFC 8414 metadata, their caching headers (`ETag`, `304`) and the
//!   adoption record of each keyset request;
//! - [`sessions`]: create, refresh, revoke and list sessions;
//! - [`keys`]: the admin key endpoints (list, rotate, revoke, adoption);
//! - [`ops`]: health, metrics and the OpenAPI document.

mod auth;
mod body;
mod keys;
mod keyset;
mod ops;
mod sessions;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::error::ApiError;
use super::service::Origin;

pub use body::MAX_BODY_BYTES;

type AppState = Arc<Origin>;

pub fn router(origin: Arc<Origin>) -> Router {
    let body_deadline = origin.settings.header_timeout;
    Router::new()
        .route("/.well-known/jwks.json", get(keyset::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(keyset::authorization_server_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/{*issuer_path}",
            get(keyset::authorization_server_metadata_at),
        )
        .route(
            "/sessions",
            post(sessions::create_session).get(sessions::list_subject_sessions),
        )
        .route("/sessions/refresh", post(sessions::refresh_session))
        .route("/sessions/revoke", post(sessions::revoke_session))
        .route("/keys", get(keys::list_keys))
        .route("/keys/rotate", post(keys::rotate_keys))
        .route("/keys/adoption", get(keys::key_adoption))
        .route("/keys/{kid}/revoke", post(keys::revoke_key))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(super::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            body_deadline,
            body::read_body,
        ))
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

async fn not_found() -> ApiError {
    not_found_error()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}

fn not_found_error() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// `Cache-Control: no-store`, for answers no cache may keep (tokens, admin views, health).
fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A header map of `pairs`, for the tests of the handlers.
#[cfg(test)]
fn headers_for_tests(pairs: &[(&'static str, &str)]) -> axum::http::HeaderMap {
    let mut h = axum::http::HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, axum::http::HeaderValue::from_str(v).unwrap());
    }
    h
}
