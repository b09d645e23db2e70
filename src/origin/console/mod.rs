//! The key console at `/admin` (issue 12): server-rendered HTML pages on the origin itself —
//! keys (timeline and table), edges (keyset adoption and rotation readiness), sessions — and
//! the rotate and revoke actions, behind a sign-in with the admin token. No build step and no
//! CDN: the stylesheet and the little script are compiled in ([`include_str!`]), and every
//! answer carries a CSP that lets the page load nothing from anywhere else.
//!
//! - [`auth`]: the stateless session cookie and CSRF tokens; [`form`]: form bodies;
//! - [`html`]: escaping, the page frame, times, headers; [`timeline`]: the keys' SVG;
//! - [`pages`]: the pages (readiness comes from `adoption.rs`); [`actions`]: the POSTs.
//!
//! Nothing here is compiled into the wasm package (the origin is native only) or runs on the
//! keyset path.

mod actions;
mod auth;
mod form;
mod html;
mod pages;
mod timeline;

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::service::{now_ms, Origin};

/// The console's routes, merged into the origin's router (`http/mod.rs`) under its body limits and
/// request log (which records the route template only: no form field reaches a log).
pub fn router() -> Router<Arc<Origin>> {
    Router::new()
        .route("/admin", get(pages::keys::page))
        .route(
            "/admin/login",
            get(pages::login::form).post(actions::sign_in),
        )
        .route("/admin/logout", post(actions::sign_out))
        .route("/admin/keys", get(pages::keys::page))
        .route("/admin/keys/rotate", post(actions::rotate))
        .route("/admin/keys/revoke", post(actions::revoke))
        .route("/admin/edges", get(pages::edges::page))
        .route("/admin/sessions", get(pages::sessions::page))
        .route("/admin/assets/console.css", get(stylesheet))
        .route("/admin/assets/console.js", get(script))
        .route("/admin/assets/favicon.svg", get(favicon))
}

/// A signed-in request: the CSRF token its forms carry.
pub struct SignedIn {
    pub csrf: String,
}

/// Why a request was not let in.
pub enum Refused {
    /// A page without a session: to the sign-in page (303).
    SignIn,
    /// An action without a session or without its CSRF token (403, saying which).
    Forbidden(&'static str),
}

impl Refused {
    pub fn response(self) -> Response {
        match self {
            Refused::SignIn => html::see_other("/admin/login"),
            Refused::Forbidden(text) => forbidden(text),
        }
    }
}

/// The session of a page request.
fn for_page(origin: &Origin, headers: &HeaderMap) -> Result<SignedIn, Refused> {
    match auth::session_from(origin, headers, now_ms() / 1000) {
        Some(session) => Ok(SignedIn {
            csrf: auth::csrf_token(origin, &session),
        }),
        None => Err(Refused::SignIn),
    }
}

/// The session of a state-changing request whose CSRF token must match; else 403.
fn for_action(
    origin: &Origin,
    headers: &HeaderMap,
    form: &form::Form,
) -> Result<SignedIn, Refused> {
    let Some(session) = auth::session_from(origin, headers, now_ms() / 1000) else {
        origin.metrics.auth_failures.inc();
        return Err(Refused::Forbidden(
            "You are not signed in (or your sign-in expired). Sign in again.",
        ));
    };
    if !auth::csrf_ok(origin, &session, form.get("csrf")) {
        tracing::warn!("console form without a valid CSRF token refused");
        return Err(Refused::Forbidden(
            "This form did not carry a valid CSRF token. Reload the page and try again.",
        ));
    }
    Ok(SignedIn {
        csrf: auth::csrf_token(origin, &session),
    })
}

fn forbidden(text: &str) -> Response {
    let body = format!(
        "<p>{}</p><p><a href=\"/admin/login\">Sign in</a></p>",
        html::esc(text)
    );
    html::respond(
        StatusCode::FORBIDDEN,
        html::page("Forbidden", "", None, None, &body),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    html::secure_headers(&mut resp);
    resp
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    )
}

async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("assets/favicon.svg"))
}
