//! The console's state-changing requests: sign in, sign out, rotate, revoke. Each answers
//! `303 See Other` to a page whose flash message tells the result (POST → redirect → GET, so
//! reloading the page never repeats an action). Every one but sign-in needs the session cookie
//! and the CSRF token of its form (403 otherwise); sign-in needs the admin token itself.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::form::Form;
use super::html::{self, Flash};
use super::{auth, for_action, pages};
use crate::origin::keys::KeyOutcome;
use crate::origin::service::{now_ms, ManualRotation, Origin};

fn form_of(body: Result<Bytes, BytesRejection>) -> Form {
    body.map(|b| Form::parse(&b)).unwrap_or_default()
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// `POST /admin/login`: the admin token (constant-time compare) becomes a session cookie.
pub async fn sign_in(
    State(origin): State<Arc<Origin>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = form_of(body);
    let presented = form.get("token").unwrap_or("").trim();
    if presented.is_empty() || !auth::token_matches(&origin, presented) {
        origin.metrics.auth_failures.inc();
        tracing::warn!("console sign-in refused");
        let flash = Flash {
            ok: false,
            text: "Sign-in refused.".to_string(),
        };
        return pages::login::render(StatusCode::UNAUTHORIZED, Some(&flash));
    }
    let value = auth::new_session(&origin, now_ms() / 1000);
    let mut resp = html::see_other("/admin/keys");
    let secure = auth::behind_tls(&origin, &headers);
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::set_cookie(&value, secure));
    tracing::info!("console sign-in");
    resp
}

/// `POST /admin/logout`: clears the cookie.
pub async fn sign_out(
    State(origin): State<Arc<Origin>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = form_of(body);
    if let Err(refused) = for_action(&origin, &headers, &form) {
        return refused.response();
    }
    let mut resp = html::see_other("/admin/login?flash=signed_out");
    let secure = auth::behind_tls(&origin, &headers);
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie(secure));
    resp
}

/// `POST /admin/keys/rotate`: `force` needs `confirm`; `expect_current` makes a double
/// submission rotate once.
pub async fn rotate(
    State(origin): State<Arc<Origin>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = form_of(body);
    if let Err(refused) = for_action(&origin, &headers, &form) {
        return refused.response();
    }
    let force = form.flag("force");
    if force && !form.flag("confirm") {
        return html::see_other("/admin/keys?flash=confirm_force");
    }
    let manual = ManualRotation {
        expect_current: form
            .get("expect_current")
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        algorithm: None,
        force,
    };
    let to = match origin.rotate_manually(manual).await {
        Ok(KeyOutcome::Rotated { current, next, .. }) => {
            tracing::info!(forced = force, current = %current, "console: rotated");
            format!(
                "/admin/keys?flash={}&current={}&next={}",
                if force { "forced" } else { "rotated" },
                enc(&current),
                enc(&next)
            )
        }
        Ok(_) => "/admin/keys?flash=not_rotated".to_string(),
        Err(e) if e.code == "next_key_not_ready" => "/admin/keys?flash=not_ready".to_string(),
        Err(e) if e.code == "current_changed" => "/admin/keys?flash=current_changed".to_string(),
        Err(e) => format!("/admin/keys?flash=failed&code={}", e.code),
    };
    html::see_other(&to)
}

/// `POST /admin/keys/revoke`: `kid` chosen and `confirm_kid` typed must be equal.
pub async fn revoke(
    State(origin): State<Arc<Origin>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = form_of(body);
    if let Err(refused) = for_action(&origin, &headers, &form) {
        return refused.response();
    }
    let kid = form.get("kid").unwrap_or("");
    if kid.is_empty() || form.get("confirm_kid").map(str::trim) != Some(kid) {
        return html::see_other("/admin/keys?flash=kid_mismatch");
    }
    let to = match origin.revoke_key(kid.to_string()).await {
        Ok(KeyOutcome::Revoked {
            kid, current, next, ..
        }) => {
            tracing::warn!(kid = %kid, "console: key revoked");
            format!(
                "/admin/keys?flash=revoked&kid={}&current={}&next={}",
                enc(&kid),
                enc(&current),
                enc(&next)
            )
        }
        Ok(_) => "/admin/keys".to_string(),
        Err(e) if e.code == "key_not_found" => "/admin/keys?flash=key_not_found".to_string(),
        Err(e) => format!("/admin/keys?flash=failed&code={}", e.code),
    };
    html::see_other(&to)
}
