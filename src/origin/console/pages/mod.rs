//! The console's pages (GET): sign-in, keys, edges and sessions, and the flash messages that
//! actions leave in the redirect's query (POST → 303 → GET). A flash is a fixed sentence per
//! code with kids filled in (escaped), so a crafted link cannot make the page say anything else.

pub mod edges;
pub mod keys;
pub mod login;
pub mod sessions;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use serde::Deserialize;

use super::html::Flash;

/// The query an action redirects to.
#[derive(Deserialize, Default, Debug)]
pub struct FlashQuery {
    pub flash: Option<String>,
    pub kid: Option<String>,
    pub current: Option<String>,
    pub next: Option<String>,
    pub code: Option<String>,
}

/// A kid as shown back: printable, bounded (the real ones are base64url).
fn shown(s: &Option<String>) -> String {
    let s = s.as_deref().unwrap_or("?");
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect()
}

impl FlashQuery {
    pub fn from(q: Result<Query<FlashQuery>, QueryRejection>) -> FlashQuery {
        q.map(|Query(q)| q).unwrap_or_default()
    }

    /// The message for this query; `max_age` is the keyset max-age in seconds, `not_ready`
    /// the current reason a rotation is held back.
    pub fn message(&self, max_age: u64, not_ready: Option<&str>) -> Option<Flash> {
        let (ok, text) = match self.flash.as_deref()? {
            "signed_out" => (true, "Signed out.".to_string()),
            "rotated" | "forced" => (
                true,
                format!(
                    "Rotated{}: {} signs from now on; {} is the new next key.",
                    if self.flash.as_deref() == Some("forced") {
                        " (forced)"
                    } else {
                        ""
                    },
                    shown(&self.current),
                    shown(&self.next)
                ),
            ),
            "not_rotated" => (true, "Nothing to rotate.".to_string()),
            "not_ready" => (
                false,
                format!(
                    "Rotation refused: the next key is not ready. {}",
                    not_ready.unwrap_or("It has become ready meanwhile: try again.")
                ),
            ),
            "confirm_force" => (
                false,
                "Not rotated: forcing needs the confirmation box ticked.".to_string(),
            ),
            "current_changed" => (
                false,
                "Not rotated: the current key changed meanwhile (someone else rotated). Check the table and try again.".to_string(),
            ),
            "revoked" => (
                true,
                format!(
                    "Revoked {}. Tokens it signed get `try refresh token` at the edges within one keyset max-age ({max_age} s); clients refresh and carry on. Current: {}, next: {}.",
                    shown(&self.kid),
                    shown(&self.current),
                    shown(&self.next)
                ),
            ),
            "kid_mismatch" => (
                false,
                "Not revoked: the kid typed does not match the key chosen.".to_string(),
            ),
            "key_not_found" => (false, "Not revoked: there is no such key.".to_string()),
            "failed" => (
                false,
                format!(
                    "The action failed ({}). See the origin's log.",
                    self.code
                        .as_deref()
                        .filter(|c| c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                        .unwrap_or("error")
                ),
            ),
            _ => return None,
        };
        Some(Flash { ok, text })
    }
}
