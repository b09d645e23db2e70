//! The session endpoints: create a session (API key), refresh it (the refresh token is the
//! credential), revoke one or all of a subject's (by token, or with the API key), and list a
//! subject's sessions (API key). Every answer is `no-store`: it carries tokens or session ids.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth::require;
use super::body::json_body;
use super::{no_store, AppState};
use crate::origin::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    sub: String,
    #[serde(default)]
    claims: Option<Map<String, Value>>,
}

pub(super) async fn create_session(
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

pub(super) async fn refresh_session(
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

pub(super) async fn revoke_session(
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
pub(super) struct SubjectQuery {
    sub: String,
}

/// `GET /sessions?sub=…` (API key): the subject's sessions, oldest first.
pub(super) async fn list_subject_sessions(
    State(origin): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SubjectQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.api_key, &headers)?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "send the subject as `?sub=…` (URL-encoded)",
        )
    })?;
    let (sessions, truncated) = origin.list_subject_sessions(&q.sub).await?;
    let body = serde_json::json!({ "sub": q.sub, "sessions": sessions, "truncated": truncated });
    Ok(no_store(Json(body).into_response()))
}
