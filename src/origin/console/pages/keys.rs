//! The keys page: the timeline (timeline.rs), the table of keys with human times (exact UTC on
//! hover), and the two actions — rotate now (disabled with the reason while the next key is not
//! ready, forceable behind a confirmation) and revoke (the kid typed to confirm).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::FlashQuery;
use crate::origin::console::html::{self, esc, time};
use crate::origin::console::timeline;
use crate::origin::keys::{self, KeyRecord, KeyState};
use crate::origin::service::{now_ms, Origin};

/// `GET /admin/keys` (and `GET /admin`).
pub async fn page(
    State(origin): State<Arc<Origin>>,
    headers: HeaderMap,
    query: Result<Query<FlashQuery>, QueryRejection>,
) -> Response {
    let signed_in = match super::super::for_page(&origin, &headers) {
        Ok(s) => s,
        Err(r) => return r.response(),
    };
    // The table as stored, like `GET /keys`, not this replica's view of up to a tick ago.
    let stale = origin.reload_if_changed().await.is_err();
    let now = now_ms();
    let records = origin.keyring().records();
    let policy = origin.policy;
    let rotation_at = keys::rotation_due_at(&records, &policy);
    let readiness = origin.adoption_report(now).readiness;
    let max_age = origin.settings.keyset_max_age.as_secs();
    let flash = FlashQuery::from(query).message(max_age, readiness.reason.as_deref());

    let mut b = String::new();
    if stale {
        b.push_str("<p class=\"flash refused\">The database did not answer: this is this replica's last view of the keys.</p>");
    }
    let current = keys::current(&records);
    let next = keys::next(&records);
    let _ = write!(
        b,
        "<dl class=\"summary\"><dt>Signing</dt><dd id=\"current-kid\">{}</dd>\
         <dt>Next</dt><dd id=\"next-kid\">{}</dd><dt>Next scheduled rotation</dt><dd id=\"next-rotation-at\">{}</dd>\
         <dt>Algorithm of new keys</dt><dd>{}</dd><dt>Keyset max-age</dt><dd>{max_age} s</dd></dl>",
        kid_code(current),
        kid_code(next),
        match (rotation_at, origin.settings.rotation_interval) {
            (Some(at), _) => time(Some(at), now),
            (None, None) => "off (<code>rotation_interval = \"off\"</code>)".to_string(),
            (None, Some(_)) => "—".to_string(),
        },
        policy.algorithm.name()
    );
    b.push_str("<h2>Timeline</h2><div class=\"timeline\">");
    b.push_str(&timeline::svg(&records, &policy, now, rotation_at));
    b.push_str("</div>");
    b.push_str(&timeline::legend());
    b.push_str(&table(&records, &origin, now, rotation_at));
    b.push_str(&rotate_form(
        &signed_in.csrf,
        current,
        next,
        &readiness,
        now,
    ));
    b.push_str(&revoke_form(
        &signed_in.csrf,
        &records,
        now,
        &origin,
        max_age,
    ));
    html::respond(
        StatusCode::OK,
        html::page("Keys", "Keys", Some(&signed_in.csrf), flash.as_ref(), &b),
    )
}

fn kid_code(k: Option<&KeyRecord>) -> String {
    match k {
        Some(k) => format!("<code>{}</code> ({})", esc(&k.kid), k.alg.name()),
        None => "none".to_string(),
    }
}

fn table(records: &[KeyRecord], origin: &Origin, now: i64, rotation_at: Option<i64>) -> String {
    let mut rows: Vec<&KeyRecord> = records.iter().collect();
    rows.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    let mut t = String::from(
        "<h2>Keys</h2><table id=\"keys\"><thead><tr><th>kid</th><th>alg</th><th>state</th>\
         <th>published</th><th>created</th><th>signing since</th><th>stopped signing</th>\
         <th>retires / retired</th><th>revoked</th></tr></thead><tbody>",
    );
    for k in rows {
        let state = keys::effective_state(k, now, &origin.policy);
        let published = keys::is_published(k, now, &origin.policy);
        let retire = match state {
            KeyState::Revoked | KeyState::Next => None,
            _ => timeline::retirement(k, &origin.policy, rotation_at),
        };
        let _ = write!(
            t,
            "<tr data-kid=\"{}\" data-state=\"{}\" class=\"state-{}\"><td><code>{}</code></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.kid),
            state.name(),
            state.name(),
            esc(&k.kid),
            k.alg.name(),
            state.name(),
            if published { "yes" } else { "no" },
            time(Some(k.created_at), now),
            time(k.activated_at, now),
            time(k.deactivated_at, now),
            time(retire, now),
            time(k.revoked_at, now),
        );
    }
    t.push_str("</tbody></table>");
    t
}

fn rotate_form(
    csrf: &str,
    current: Option<&KeyRecord>,
    next: Option<&KeyRecord>,
    readiness: &crate::origin::adoption::Readiness,
    now: i64,
) -> String {
    let mut f = String::from("<section id=\"rotate\" class=\"action\"><h2>Rotate now</h2>");
    let next_kid = next.map(|k| esc(&k.kid)).unwrap_or_default();
    let _ = write!(
        f,
        "<p>The next key <code>{next_kid}</code> starts signing; the current key stops signing and stays \
         published until its last token expires.</p>"
    );
    let countdown = readiness
        .ready_at
        .map(|at| format!(" data-countdown=\"{at}\""))
        .unwrap_or_default();
    if readiness.ready {
        f.push_str("<p id=\"readiness\" class=\"ready\">Ready: every edge that fetched the keyset in the last keyset max-age holds the next key.</p>");
    } else {
        let _ = write!(
            f,
            "<p id=\"readiness\" class=\"not-ready\">Not ready: <span id=\"not-ready-reason\">{}</span>.{}</p>",
            esc(readiness.reason.as_deref().unwrap_or("unknown")),
            match readiness.ready_at {
                Some(at) => format!(
                    " Ready {} <span class=\"countdown\"{countdown}></span>",
                    time(Some(at * 1000), now)
                ),
                None => String::new(),
            }
        );
    }
    let expect = current
        .map(|k| {
            format!(
                "<input type=\"hidden\" name=\"expect_current\" value=\"{}\">",
                esc(&k.kid)
            )
        })
        .unwrap_or_default();
    let disabled = if readiness.ready {
        String::new()
    } else {
        format!(
            " disabled title=\"{}\"",
            esc(readiness.reason.as_deref().unwrap_or("not ready"))
        )
    };
    let _ = write!(
        f,
        "<form method=\"post\" action=\"/admin/keys/rotate\" id=\"rotate-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">{expect}\
         <button type=\"submit\" id=\"rotate-now\"{disabled}>Rotate now</button></form>",
        esc(csrf)
    );
    if !readiness.ready {
        let _ = write!(
            f,
            "<details id=\"force\"><summary>Force a rotation…</summary>\
             <form method=\"post\" action=\"/admin/keys/rotate\" id=\"force-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">{expect}\
             <input type=\"hidden\" name=\"force\" value=\"true\">\
             <label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" id=\"force-confirm\" required> \
             I understand: edges that have not fetched the next key yet will answer \
             <code>try refresh token</code> for new tokens until they refetch the keyset.</label> \
             <button type=\"submit\" id=\"rotate-force\" class=\"danger\">Force rotation</button></form></details>",
            esc(csrf)
        );
    }
    f.push_str("</section>");
    f
}

fn revoke_form(
    csrf: &str,
    records: &[KeyRecord],
    now: i64,
    origin: &Origin,
    max_age: u64,
) -> String {
    let mut options = String::new();
    let mut rows: Vec<&KeyRecord> = records
        .iter()
        .filter(|k| keys::is_published(k, now, &origin.policy))
        .collect();
    rows.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    for k in rows {
        let state = keys::effective_state(k, now, &origin.policy).name();
        let _ = write!(
            options,
            "<option value=\"{}\">{} ({state})</option>",
            esc(&k.kid),
            esc(&k.kid)
        );
    }
    format!(
        "<section id=\"revoke\" class=\"action\"><h2>Revoke a key</h2>\
         <p>An emergency: the key leaves the keyset at once and can never sign again. Tokens it signed \
         get <code>try refresh token</code> at the edges within one keyset max-age ({max_age} s), as edges \
         revalidate; clients refresh and carry on with tokens of the current key. Revoking the current \
         key makes the next key sign from now on.</p>\
         <form method=\"post\" action=\"/admin/keys/revoke\" id=\"revoke-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>Key <select name=\"kid\" id=\"revoke-kid\">{options}</select></label> \
         <label>Type its kid to confirm <input name=\"confirm_kid\" id=\"revoke-confirm\" autocomplete=\"off\" \
         spellcheck=\"false\" required></label> \
         <button type=\"submit\" id=\"revoke-submit\" class=\"danger\">Revoke</button></form></section>",
        esc(csrf)
    )
}
