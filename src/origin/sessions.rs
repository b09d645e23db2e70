//! Sessions and refresh tokens (SPEC §7): the records, the token formats, and the pure refresh
//! decision — rotate, accept a just-rotated token inside the grace window, or declare theft.
//! Refresh tokens are random 256-bit strings; only their SHA-256 is stored.

use sha2::{Digest, Sha256};

use super::crypto_at_rest::random_id;

/// A session as stored. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub sub: String,
    /// The custom claims the session was created with: a JSON object.
    pub claims_json: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// One refresh token, by hash. `used_at` is set when it was rotated (exchanged for a new pair).
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub hash: String,
    pub session_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl std::fmt::Debug for RefreshRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRecord")
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// A new refresh token: the secret (returned to the client once) and its hash (stored).
pub struct NewRefreshToken {
    pub token: String,
    pub hash: String,
}

pub const REFRESH_TOKEN_PREFIX: &str = "rt_";

pub fn new_refresh_token() -> NewRefreshToken {
    let token = format!("{REFRESH_TOKEN_PREFIX}{}", random_id::<32>());
    let hash = hash_refresh_token(&token);
    NewRefreshToken { token, hash }
}

pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn new_session_id() -> String {
    format!("s_{}", random_id::<16>())
}

/// Why a refresh was refused. Each is a 401 with this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRejection {
    Unknown,
    Expired,
    SessionRevoked,
    TheftDetected,
}

impl RefreshRejection {
    pub const fn code(self) -> &'static str {
        match self {
            RefreshRejection::Unknown => "invalid_refresh_token",
            RefreshRejection::Expired => "refresh_token_expired",
            RefreshRejection::SessionRevoked => "session_revoked",
            RefreshRejection::TheftDetected => "token_theft_detected",
        }
    }

    pub const fn message(self) -> &'static str {
        match self {
            RefreshRejection::Unknown => "the refresh token is not valid",
            RefreshRejection::Expired => "the refresh token has expired; sign in again",
            RefreshRejection::SessionRevoked => "the session has been revoked; sign in again",
            RefreshRejection::TheftDetected => {
                "a refresh token was reused after it was rotated: the session has been revoked"
            }
        }
    }
}

/// What a refresh does with a presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Mark the token used and issue a new pair.
    Rotate,
    /// The token was rotated moments ago (a client retry or a race of two tabs): issue another
    /// pair without declaring theft.
    RotateInGrace,
    /// Revoke the session: a rotated token came back after the grace window.
    RevokeForTheft,
    Reject(RefreshRejection),
}

pub fn decide(
    token: &RefreshRecord,
    session: &SessionRecord,
    now: i64,
    grace_ms: i64,
) -> RefreshDecision {
    if session.revoked_at.is_some() {
        return RefreshDecision::Reject(RefreshRejection::SessionRevoked);
    }
    match token.used_at {
        Some(used) if now.saturating_sub(used) <= grace_ms => {
            if token.expires_at <= now {
                RefreshDecision::Reject(RefreshRejection::Expired)
            } else {
                RefreshDecision::RotateInGrace
            }
        }
        Some(_) => RefreshDecision::RevokeForTheft,
        None if token.expires_at <= now => RefreshDecision::Reject(RefreshRejection::Expired),
        None => RefreshDecision::Rotate,
    }
}

/// The outcome of a refresh, as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshResult {
    Rotated(SessionRecord),
    Rejected(RefreshRejection),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(revoked: bool) -> SessionRecord {
        SessionRecord {
            id: "s".into(),
            sub: "u".into(),
            claims_json: "{}".into(),
            created_at: 0,
            revoked_at: revoked.then_some(1),
        }
    }

    fn token(used_at: Option<i64>, expires_at: i64) -> RefreshRecord {
        RefreshRecord {
            hash: "h".into(),
            session_id: "s".into(),
            created_at: 0,
            expires_at,
            used_at,
        }
    }

    #[test]
    fn decisions() {
        let live = session(false);
        assert_eq!(
            decide(&token(None, 100), &live, 50, 10),
            RefreshDecision::Rotate
        );
        assert_eq!(
            decide(&token(None, 100), &live, 100, 10),
            RefreshDecision::Reject(RefreshRejection::Expired)
        );
        assert_eq!(
            decide(&token(Some(40), 100), &live, 50, 10),
            RefreshDecision::RotateInGrace
        );
        assert_eq!(
            decide(&token(Some(40), 100), &live, 51, 10),
            RefreshDecision::RevokeForTheft
        );
        assert_eq!(
            decide(&token(Some(40), 1000), &live, 5000, 10),
            RefreshDecision::RevokeForTheft
        );
        assert_eq!(
            decide(&token(None, 100), &session(true), 50, 10),
            RefreshDecision::Reject(RefreshRejection::SessionRevoked)
        );
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with(REFRESH_TOKEN_PREFIX));
        assert_eq!(a.hash, hash_refresh_token(&a.token));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.token[3..]));
    }
}
