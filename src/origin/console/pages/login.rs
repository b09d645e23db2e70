//! The sign-in page: one password field for the admin token. The form posts to
//! `/admin/login` (actions.rs); a wrong token gets this page again with 401 and a message that
//! says nothing about why.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::FlashQuery;
use crate::origin::console::html::{self, Flash};
use crate::origin::service::Origin;

pub fn render(status: StatusCode, flash: Option<&Flash>) -> Response {
    let body = "<form method=\"post\" action=\"/admin/login\" class=\"signin\" id=\"sign-in\">\
        <label for=\"token\">Admin token</label>\
        <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required autofocus>\
        <button type=\"submit\">Sign in</button>\
        <p class=\"hint\">The <code>admin_token</code> setting; with generated credentials it is in \
        <code>credentials.toml</code> in the data directory.</p></form>";
    html::respond(status, html::page("Sign in", "", None, flash, body))
}

/// `GET /admin/login`.
pub async fn form(
    State(origin): State<Arc<Origin>>,
    headers: HeaderMap,
    query: Result<Query<FlashQuery>, QueryRejection>,
) -> Response {
    if super::super::for_page(&origin, &headers).is_ok() {
        return html::see_other("/admin/keys");
    }
    let flash = FlashQuery::from(query).message(0, None);
    render(StatusCode::OK, flash.as_ref())
}
