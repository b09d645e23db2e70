//! The console's sign-in session: a stateless cookie and the CSRF token derived from it.
//!
//! The cookie holds an expiry and a random session id, MACed (HMAC-SHA256) with a key derived
//! from the master key *and* the admin token. Stateless, so it works on every replica without
//! a table; deriving from the admin token means changing the token signs every console out.
//! The CSRF token of a session is a second MAC over its id: forms carry it, the server
//! recomputes it, and a cross-site page can neither read the HttpOnly cookie nor compute it.
//! Signing out clears the cookie in the browser; a copied cookie stays valid until its expiry
//! (at most [`SESSION_TTL`]) — there is no server-side list to strike it from.

use axum::http::{header, HeaderMap, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::core::{b64url_decode, b64url_encode};
use crate::origin::crypto_at_rest::random_bytes;
use crate::origin::service::Origin;

/// Name of the session cookie.
pub const COOKIE: &str = "jwtedge_console";
/// How long a console sign-in lasts (cookie `Max-Age`, and checked on the server).
pub const SESSION_TTL_SECS: i64 = 8 * 3600;
/// The path the cookie is scoped to: the console only, never the API.
pub const COOKIE_PATH: &str = "/admin";

type HmacSha256 = Hmac<Sha256>;

/// A valid, unexpired console session (its expiry is in the cookie and checked there).
#[derive(Debug, Clone)]
pub struct Session {
    id: [u8; 16],
}

/// The MAC key of console sessions: master key (one secret for every replica) bound to the
/// current admin token (a new token ends every console session).
fn session_key(origin: &Origin) -> [u8; 32] {
    let base = origin
        .secrets
        .master_key
        .derive(b"jwtedge console session v1");
    let token_hash = Sha256::digest(origin.secrets.admin_token.expose().as_bytes());
    let mut mac = HmacSha256::new_from_slice(&base).expect("HMAC takes any key length");
    mac.update(&token_hash);
    mac.finalize().into_bytes().into()
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
        mac.update(b"\x00");
    }
    mac.finalize().into_bytes().into()
}

fn cookie_mac(key: &[u8; 32], expires_at: i64, id: &[u8; 16]) -> [u8; 32] {
    mac(key, &[b"cookie", expires_at.to_string().as_bytes(), id])
}

/// Whether the admin token presented at sign-in is right (constant time).
pub fn token_matches(origin: &Origin, presented: &str) -> bool {
    origin.secrets.admin_token.matches(presented)
}

/// The cookie value of a fresh session starting at `now_secs`.
pub fn new_session(origin: &Origin, now_secs: i64) -> String {
    issue(&session_key(origin), now_secs)
}

fn issue(key: &[u8; 32], now_secs: i64) -> String {
    let expires_at = now_secs + SESSION_TTL_SECS;
    let id = random_bytes::<16>();
    format!(
        "v1.{expires_at}.{}.{}",
        b64url_encode(&id),
        b64url_encode(&cookie_mac(key, expires_at, &id))
    )
}

/// The session of this request's cookie, if the cookie is present, authentic and unexpired.
pub fn session_from(origin: &Origin, headers: &HeaderMap, now_secs: i64) -> Option<Session> {
    verify(
        &session_key(origin),
        cookie_value(headers, COOKIE)?,
        now_secs,
    )
}

fn verify(key: &[u8; 32], value: &str, now_secs: i64) -> Option<Session> {
    let mut parts = value.split('.');
    let (Some("v1"), Some(exp), Some(id), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let expires_at: i64 = exp.parse().ok()?;
    let id: [u8; 16] = b64url_decode(id.as_bytes())?.try_into().ok()?;
    let tag = b64url_decode(tag.as_bytes())?;
    let want = cookie_mac(key, expires_at, &id);
    if !bool::from(want.as_slice().ct_eq(tag.as_slice())) {
        return None;
    }
    // Expired, or an expiry further out than any cookie this server issues.
    if expires_at <= now_secs || expires_at > now_secs + SESSION_TTL_SECS {
        return None;
    }
    Some(Session { id })
}

/// The CSRF token every state-changing form of this session carries.
pub fn csrf_token(origin: &Origin, session: &Session) -> String {
    b64url_encode(&mac(&session_key(origin), &[b"csrf", &session.id]))
}

/// Whether `presented` is this session's CSRF token (constant time).
pub fn csrf_ok(origin: &Origin, session: &Session, presented: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    let want = csrf_token(origin, session);
    bool::from(want.as_bytes().ct_eq(presented.as_bytes()))
}

/// Whether the browser reached the origin over TLS, so the cookie must be `Secure`: a TLS
/// proxy in front says so with `X-Forwarded-Proto: https` (or `Forwarded: proto=https`), and
/// an `https://` issuer means the deployment is served over TLS whatever this hop is.
pub fn behind_tls(origin: &Origin, headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|first| {
            first.split(';').any(|pair| {
                pair.trim()
                    .to_ascii_lowercase()
                    .replace('"', "")
                    .eq("proto=https")
            })
        });
    forwarded_proto || forwarded || origin.issuer.starts_with("https://")
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(value: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Max-Age={SESSION_TTL_SECS}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("the cookie value is base64url and digits")
}

/// `Set-Cookie` that removes the session cookie (sign out).
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Max-Age=0; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("ascii")
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_lookup() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; jwtedge_console=v1.x ; b=2"),
        );
        assert_eq!(cookie_value(&h, COOKIE), Some("v1.x"));
        assert_eq!(cookie_value(&h, "c"), None);
    }

    #[test]
    fn sessions_expire_on_the_server() {
        let key = [7u8; 32];
        let value = issue(&key, 1_000);
        assert!(verify(&key, &value, 1_000).is_some());
        assert!(verify(&key, &value, 1_000 + SESSION_TTL_SECS - 1).is_some());
        // Past its expiry the authentic cookie is refused, whatever the browser still sends.
        assert!(verify(&key, &value, 1_000 + SESSION_TTL_SECS).is_none());
        // An expiry further out than this server issues (clock moved back, or forged).
        assert!(verify(&key, &value, 1_000 - 10).is_none());
        // Another key (another master key or admin token).
        assert!(verify(&[8u8; 32], &value, 1_000).is_none());
        for bad in [
            "",
            "v1",
            "v2.1.a.b",
            &value[..value.len() - 2],
            &format!("{value}.x"),
        ] {
            assert!(verify(&key, bad, 1_000).is_none(), "{bad}");
        }
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie("v", false);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"));
        assert!(c.contains("Path=/admin") && !c.contains("Secure"));
        assert!(set_cookie("v", true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
