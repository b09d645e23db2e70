//! The operational endpoints: `/healthz` (store reachable, a current key), `/metrics`
//! (Prometheus, with the adoption gauges) and `/openapi.json` (the API's description).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{no_store, AppState};
use crate::origin::metrics::CONTENT_TYPE;
use crate::origin::service::now_ms;

pub(super) async fn healthz(State(origin): State<AppState>) -> Response {
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
pub(super) async fn openapi() -> Response {
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
        include_str!("../../../docs/openapi.json"),
    )
        .into_response()
}

pub(super) async fn metrics(State(origin): State<AppState>) -> Response {
    let now = now_ms();
    let adoption = origin.adoption_report(now);
    let text = origin
        .metrics
        .render(&origin.keyring(), now, &origin.policy, &adoption);
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}
