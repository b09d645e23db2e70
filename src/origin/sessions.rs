//! Sessions and refresh tokens (SPEC §7): the records, the subject rule, the token formats and
//! the pure refresh decision ("refresh-token rotation, exactly"): rotate an unused token to its
//! one successor, answer a retry inside the grace window with that same successor, or declare
//! theft. Only SHA-256 hashes of refresh tokens are stored.
//!
//! A session's first refresh token is 256 random bits. Every later one is derived from its
//! parent: `HMAC-SHA256(successor key, parent)`, the successor key being derived from the master
//! key. So a retry of the parent yields the very same successor without storing it anywhere,
//! not even sealed, and two racing refreshes (two replicas included) compute the same one.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::crypto_at_rest::{random_id, MasterKey};

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

/// A session as `GET /sessions?sub=…` lists it. Times are Unix milliseconds; the last refresh
/// is when one of its refresh tokens was last rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: String,
    pub created_at: i64,
    pub last_refreshed_at: Option<i64>,
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

/// The key that derives each refresh token's successor; the same in every replica and the CLI
/// (all of them hold the master key).
pub struct SuccessorKey([u8; 32]);

impl std::fmt::Debug for SuccessorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuccessorKey(<redacted>)")
    }
}

impl SuccessorKey {
    const LABEL: &'static [u8] = b"jwtedge/refresh-token-successor/v1";

    pub fn from_master(master: &MasterKey) -> SuccessorKey {
        SuccessorKey(master.derive(Self::LABEL))
    }

    /// The one successor `parent` can ever have.
    pub fn successor(&self, parent: &str) -> NewRefreshToken {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(parent.as_bytes());
        let token = format!(
            "{REFRESH_TOKEN_PREFIX}{}",
            crate::core::b64url_encode(&mac.finalize().into_bytes())
        );
        let hash = hash_refresh_token(&token);
        NewRefreshToken { token, hash }
    }
}

pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn new_session_id() -> String {
    format!("s_{}", random_id::<16>())
}

pub const MAX_SUB_CHARS: usize = 256;

/// Why a subject was refused (400 `invalid_sub`). SPEC §7 "Subjects": the value must reach an
/// upstream unchanged, so nothing an HTTP header would trim, fold or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectError {
    Length,
    ControlCharacter,
    SurroundingWhitespace,
}

impl SubjectError {
    pub const fn code(self) -> &'static str {
        "invalid_sub"
    }

    pub fn message(self) -> String {
        match self {
            SubjectError::Length => format!("`sub` must be 1 to {MAX_SUB_CHARS} characters"),
            SubjectError::ControlCharacter => {
                "`sub` must not contain control characters".to_string()
            }
            SubjectError::SurroundingWhitespace => {
                "`sub` must not begin or end with whitespace (a header would trim it, and two \
                 users would reach the upstream as one)"
                    .to_string()
            }
        }
    }
}

/// SPEC §7 "Subjects": 1–256 characters, no control characters, no leading or trailing
/// whitespace (Unicode `White_Space`, a superset of what header parsers trim).
pub fn check_subject(sub: &str) -> Result<(), SubjectError> {
    if sub.is_empty() || sub.chars().count() > MAX_SUB_CHARS {
        return Err(SubjectError::Length);
    }
    if sub.chars().any(char::is_control) {
        return Err(SubjectError::ControlCharacter);
    }
    if sub.starts_with(char::is_whitespace) || sub.ends_with(char::is_whitespace) {
        return Err(SubjectError::SurroundingWhitespace);
    }
    Ok(())
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
    /// An unused token: mark it used and store its successor.
    Rotate,
    /// A token rotated within the grace window whose successor is still unused (a client that
    /// lost the answer): answer with that same successor; nothing changes.
    RepeatSuccessor,
    /// Revoke the session: a rotated token came back after the grace window, or after its
    /// successor was used.
    RevokeForTheft,
    Reject(RefreshRejection),
}

/// Decides a refresh. `successor` is the stored successor of `token` when it has one (looked
/// up by the derived hash, in the same transaction).
pub fn decide(
    token: &RefreshRecord,
    successor: Option<&RefreshRecord>,
    session: &SessionRecord,
    now: i64,
    grace_ms: i64,
) -> RefreshDecision {
    if session.revoked_at.is_some() {
        return RefreshDecision::Reject(RefreshRejection::SessionRevoked);
    }
    let Some(used) = token.used_at else {
        return if token.expires_at <= now {
            RefreshDecision::Reject(RefreshRejection::Expired)
        } else {
            RefreshDecision::Rotate
        };
    };
    if now.saturating_sub(used) > grace_ms {
        return RefreshDecision::RevokeForTheft;
    }
    if token.expires_at <= now {
        return RefreshDecision::Reject(RefreshRejection::Expired);
    }
    match successor {
        // A token rotated before successors were derived has none to repeat: theft, the safe
        // side (only a retry within the grace of an upgrade can meet this).
        Some(next) if next.session_id == token.session_id && next.used_at.is_none() => {
            if next.expires_at <= now {
                RefreshDecision::Reject(RefreshRejection::Expired)
            } else {
                RefreshDecision::RepeatSuccessor
            }
        }
        _ => RefreshDecision::RevokeForTheft,
    }
}

/// The outcome of a refresh, as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshResult {
    /// The token was rotated: its successor is stored now.
    Rotated(SessionRecord),
    /// A retry within the grace: the successor stored before is the answer.
    Repeated(SessionRecord),
    /// Theft: the session (this id) is revoked.
    TheftDetected {
        session_id: String,
    },
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

    fn successor(used_at: Option<i64>, expires_at: i64) -> RefreshRecord {
        RefreshRecord {
            hash: "n".into(),
            ..token(used_at, expires_at)
        }
    }

    #[test]
    fn decisions() {
        let live = session(false);
        let unused = successor(None, 1000);
        let used = successor(Some(45), 1000);
        let d = |t: RefreshRecord, next: Option<&RefreshRecord>, s: &SessionRecord, now| {
            decide(&t, next, s, now, 10)
        };
        assert_eq!(
            d(token(None, 100), None, &live, 50),
            RefreshDecision::Rotate
        );
        assert_eq!(
            d(token(None, 100), None, &live, 100),
            RefreshDecision::Reject(RefreshRejection::Expired)
        );
        // Within the grace: the same successor while it is unused, theft once it was used.
        assert_eq!(
            d(token(Some(40), 100), Some(&unused), &live, 50),
            RefreshDecision::RepeatSuccessor
        );
        assert_eq!(
            d(token(Some(40), 100), Some(&used), &live, 50),
            RefreshDecision::RevokeForTheft
        );
        assert_eq!(
            d(token(Some(40), 100), None, &live, 50),
            RefreshDecision::RevokeForTheft
        );
        let elsewhere = RefreshRecord {
            session_id: "other".into(),
            ..unused.clone()
        };
        assert_eq!(
            d(token(Some(40), 100), Some(&elsewhere), &live, 50),
            RefreshDecision::RevokeForTheft
        );
        // After the grace: theft, whatever the successor.
        assert_eq!(
            d(token(Some(40), 100), Some(&unused), &live, 51),
            RefreshDecision::RevokeForTheft
        );
        assert_eq!(
            d(token(Some(40), 1000), Some(&unused), &live, 5000),
            RefreshDecision::RevokeForTheft
        );
        assert_eq!(
            d(token(Some(40), 45), Some(&unused), &live, 50),
            RefreshDecision::Reject(RefreshRejection::Expired)
        );
        assert_eq!(
            d(token(Some(40), 100), Some(&successor(None, 50)), &live, 50),
            RefreshDecision::Reject(RefreshRejection::Expired)
        );
        assert_eq!(
            d(token(None, 100), None, &session(true), 50),
            RefreshDecision::Reject(RefreshRejection::SessionRevoked)
        );
        assert_eq!(
            d(token(Some(40), 100), Some(&unused), &session(true), 50),
            RefreshDecision::Reject(RefreshRejection::SessionRevoked)
        );
    }

    #[test]
    fn successors_are_derived_once_per_parent() {
        let master = MasterKey::generate();
        let key = SuccessorKey::from_master(&master);
        let parent = new_refresh_token();
        let a = key.successor(&parent.token);
        let b = SuccessorKey::from_master(&master).successor(&parent.token);
        assert_eq!(
            a.token, b.token,
            "a retry (any replica) gets the same successor"
        );
        assert_eq!(a.hash, hash_refresh_token(&a.token));
        assert!(a.token.starts_with(REFRESH_TOKEN_PREFIX));
        assert_eq!(a.token.len(), parent.token.len());
        assert_ne!(key.successor(&a.token).token, a.token);
        assert_ne!(key.successor(&new_refresh_token().token).token, a.token);
        let other = SuccessorKey::from_master(&MasterKey::generate());
        assert_ne!(other.successor(&parent.token).token, a.token);
        assert!(!format!("{key:?}").contains(&a.token[3..]));
    }

    #[test]
    fn subjects() {
        for ok in [
            "a",
            "alice smith",
            "用户",
            &"é".repeat(256),
            "al\u{2028}ice",
        ] {
            assert_eq!(check_subject(ok), Ok(()), "{ok:?}");
        }
        for (bad, why) in [
            ("", SubjectError::Length),
            (&"a".repeat(257), SubjectError::Length),
            (" alice", SubjectError::SurroundingWhitespace),
            ("alice ", SubjectError::SurroundingWhitespace),
            ("\u{a0}alice", SubjectError::SurroundingWhitespace),
            ("alice\u{3000}", SubjectError::SurroundingWhitespace),
            ("alice\t", SubjectError::ControlCharacter),
            ("al\u{0}ice", SubjectError::ControlCharacter),
            ("al\u{7f}ice", SubjectError::ControlCharacter),
            ("al\u{85}ice", SubjectError::ControlCharacter),
        ] {
            assert_eq!(check_subject(bad), Err(why), "{bad:?}");
            assert!(why.message().starts_with("`sub`"));
        }
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
