//! The admin key endpoints (admin token): the key table, a manual rotation (refused while the
//! next key is not ready, unless forced), a revoke, and the edges' adoption of keyset versions.
//! The views reload the table as stored first; each change is one store transaction.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::auth::require;
use super::body::json_body;
use super::{no_store, AppState};
use crate::origin::algorithm::Algorithm;
use crate::origin::error::ApiError;
use crate::origin::keys::KeyOutcome;
use crate::origin::service::{now_ms, ManualRotation};

pub(super) async fn list_keys(
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
pub(super) struct RotateQuery {
    #[serde(default)]
    force: bool,
}

pub(super) async fn rotate_keys(
    State(origin): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RotateQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    let Query(RotateQuery {
        force: forced_by_query,
    }) = query.map_err(|_| {
        ApiError::bad_request("invalid_request", "`force` must be `true` or `false`")
    })?;
    let mut req: RotateBody = json_body(body, true)?.unwrap_or_default();
    req.force |= forced_by_query;
    let algorithm = match req.algorithm.as_deref() {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_request",
                format!("`algorithm` must be {}", Algorithm::NAMES),
            )
        })?),
    };
    let outcome = origin
        .rotate_manually(ManualRotation {
            expect_current: req.expect_current,
            algorithm,
            force: req.force,
        })
        .await?;
    let body = match outcome {
        KeyOutcome::Rotated {
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
pub(super) async fn key_adoption(
    State(origin): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    origin.reload_if_changed().await?;
    Ok(no_store(
        Json(origin.adoption_report(now_ms())).into_response(),
    ))
}

pub(super) async fn revoke_key(
    State(origin): State<AppState>,
    headers: HeaderMap,
    kid: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    require(&origin, &origin.secrets.admin_token, &headers)?;
    let Path(kid) =
        kid.map_err(|_| ApiError::bad_request("invalid_request", "bad kid in the path"))?;
    let outcome = origin.revoke_key(kid).await?;
    let body = match outcome {
        KeyOutcome::Revoked {
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
