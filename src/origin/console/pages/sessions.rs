//! The sessions page: live sessions, and sessions created, refreshes and thefts detected in the
//! last 24 hours, read from the store (SQLite or PostgreSQL: every replica's work), not from
//! this process's counters.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::origin::console::html;
use crate::origin::service::{now_ms, Origin};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// `GET /admin/sessions`.
pub async fn page(State(origin): State<Arc<Origin>>, headers: HeaderMap) -> Response {
    let signed_in = match super::super::for_page(&origin, &headers) {
        Ok(s) => s,
        Err(r) => return r.response(),
    };
    let now = now_ms();
    let mut b = String::new();
    match origin.store.session_stats(now, now - DAY_MS).await {
        Ok(s) => {
            let _ = write!(
                b,
                "<dl class=\"figures\" id=\"session-stats\">\
                 <div><dt>Live sessions</dt><dd id=\"live\">{}</dd></div>\
                 <div><dt>Created, last 24 h</dt><dd id=\"created\">{}</dd></div>\
                 <div><dt>Refreshes, last 24 h</dt><dd id=\"refreshes\">{}</dd></div>\
                 <div><dt>Thefts detected, last 24 h</dt><dd id=\"thefts\">{}</dd></div></dl>\
                 <p class=\"hint\">From the {} database, so every replica's sessions count. Live: not \
                 revoked, with an unused refresh token that has not expired. Refreshes: refresh \
                 tokens exchanged for a new pair (a retry within <code>refresh_grace</code> is not a \
                 new one). Thefts: sessions revoked because a used refresh token came back.</p>",
                s.live,
                s.created,
                s.refreshes,
                s.thefts,
                origin.store.backend()
            );
        }
        Err(e) => {
            origin.metrics.store_errors.inc();
            tracing::error!(error = %e, "console: session counts unavailable");
            b.push_str("<p class=\"flash refused\">The database did not answer; try again.</p>");
        }
    }
    html::respond(
        StatusCode::OK,
        html::page("Sessions", "Sessions", Some(&signed_in.csrf), None, &b),
    )
}
