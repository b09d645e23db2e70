//! The session operations of the origin (SPEC §7), shared by the HTTP server and the CLI:
//! creating a session (subject and claims checked), refreshing it ("refresh-token rotation,
//! exactly": the successor is derived from the presented token, the store decides and writes in
//! one transaction), revoking it, and signing its access tokens with the current key (SPEC §2
//! profile); and the sessions of one subject: listing them, and revoking them all ("sign out
//! everywhere": every refresh token dies at once; access tokens already issued stay valid until
//! their `exp`, as there is no revocation list at the edge). The decisions themselves are pure,
//! in `sessions.rs`.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use super::crypto_at_rest::random_id;
use super::error::ApiError;
use super::service::{now_ms, Origin};
use super::sessions::{
    self, RefreshRecord, RefreshRejection, RefreshResult, SessionRecord, SuccessorKey,
};
use super::signer;

/// Claims a session may not set: the registered ones the origin writes itself (SPEC §2), and
/// `nbf`, which would make a fresh token unusable.
pub const RESERVED_CLAIMS: [&str; 8] = ["iss", "sub", "aud", "iat", "exp", "jti", "sid", "nbf"];
pub const MAX_CLAIMS_BYTES: usize = 4096;

/// `GET /sessions?sub=…` lists at most this many sessions (the oldest first).
pub const MAX_LISTED_SESSIONS: u32 = 1000;

/// One session of a subject, as `GET /sessions?sub=…` shows it. Times are Unix seconds.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectSession {
    pub session_id: String,
    pub created_at: i64,
    /// When a refresh token of the session was last exchanged; `None`: never refreshed.
    pub last_refreshed_at: Option<i64>,
    pub revoked: bool,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub session_id: String,
    /// Unix seconds.
    pub access_token_expires_at: i64,
}

impl Origin {
    /// Signs an access token for a session with the current key.
    fn sign_access_token(
        &self,
        sub: &str,
        sid: &str,
        custom: &Map<String, Value>,
    ) -> Result<(String, i64), ApiError> {
        let ring = self.keyring();
        let key = ring
            .current()
            .ok_or_else(|| ApiError::unavailable("no current signing key"))?;
        let material = key
            .material
            .as_ref()
            .ok_or_else(|| ApiError::unavailable("the current signing key is not available"))?;
        let iat = now_ms().div_euclid(1000);
        let exp = iat + self.settings.access_token_ttl.as_secs() as i64;
        let mut claims = custom.clone();
        // Registered claims last: they overwrite anything of the same name.
        claims.insert("iss".into(), Value::from(self.issuer.clone()));
        claims.insert("sub".into(), Value::from(sub));
        claims.insert("aud".into(), Value::from(self.settings.audience.clone()));
        claims.insert("iat".into(), Value::from(iat));
        claims.insert("exp".into(), Value::from(exp));
        claims.insert("jti".into(), Value::from(random_id::<16>()));
        claims.insert("sid".into(), Value::from(sid));
        let json = Value::Object(claims).to_string();
        let token = signer::sign(&key.record.kid, key.record.alg, material, &json);
        self.metrics.tokens_signed.inc();
        Ok((token, exp))
    }

    /// Validates the inputs of a new session (SPEC §7 "Subjects"; reserved and oversized
    /// claims).
    pub fn check_session_input(sub: &str, claims: &Map<String, Value>) -> Result<(), ApiError> {
        sessions::check_subject(sub).map_err(|e| ApiError::bad_request(e.code(), e.message()))?;
        if let Some(name) = RESERVED_CLAIMS.iter().find(|c| claims.contains_key(**c)) {
            return Err(ApiError::bad_request(
                "reserved_claim",
                format!("`claims` may not set the registered claim `{name}`; the origin sets it"),
            ));
        }
        if Value::Object(claims.clone()).to_string().len() > MAX_CLAIMS_BYTES {
            return Err(ApiError::bad_request(
                "claims_too_large",
                format!("`claims` must serialize to at most {MAX_CLAIMS_BYTES} bytes"),
            ));
        }
        Ok(())
    }

    pub async fn create_session(
        &self,
        sub: String,
        claims: Map<String, Value>,
    ) -> Result<SessionTokens, ApiError> {
        Self::check_session_input(&sub, &claims)?;
        let now = now_ms();
        let session = SessionRecord {
            id: sessions::new_session_id(),
            sub,
            claims_json: Value::Object(claims.clone()).to_string(),
            created_at: now,
            revoked_at: None,
        };
        let refresh = sessions::new_refresh_token();
        let record = RefreshRecord {
            hash: refresh.hash,
            session_id: session.id.clone(),
            created_at: now,
            expires_at: now + self.settings.refresh_token_ttl.as_millis() as i64,
            used_at: None,
        };
        self.ensure_fresh().await?;
        let (access_token, exp) = self.sign_access_token(&session.sub, &session.id, &claims)?;
        self.store
            .create_session(&session, &record)
            .await
            .map_err(|e| self.store_failed(e))?;
        self.metrics.sessions_created.inc();
        tracing::info!(sid = %session.id, "session created");
        Ok(SessionTokens {
            access_token,
            refresh_token: refresh.token,
            session_id: session.id,
            access_token_expires_at: exp,
        })
    }

    /// SPEC §7 "Refresh-token rotation, exactly". The presented token's one successor is
    /// derived from it, so a first refresh and any retry of it compute the same token; the
    /// store decides, in one transaction per session, whether to store it (rotate), answer with
    /// it again (a retry within the grace while it is unused) or revoke the session (theft).
    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionTokens, ApiError> {
        let now = now_ms();
        let successor =
            SuccessorKey::from_master(&self.secrets.master_key).successor(refresh_token);
        let record = RefreshRecord {
            hash: successor.hash,
            session_id: String::new(), // the store fills in the session's id
            created_at: now,
            expires_at: now + self.settings.refresh_token_ttl.as_millis() as i64,
            used_at: None,
        };
        let result = self
            .store
            .refresh(
                &sessions::hash_refresh_token(refresh_token),
                record,
                now,
                self.settings.refresh_grace.as_millis() as i64,
            )
            .await
            .map_err(|e| self.store_failed(e))?;
        let session = match result {
            RefreshResult::Rotated(session) => session,
            RefreshResult::Repeated(session) => {
                tracing::info!(sid = %session.id, "refresh retried within the grace window: same refresh token again");
                session
            }
            RefreshResult::TheftDetected { session_id } => {
                self.metrics
                    .refresh_rejected(RefreshRejection::TheftDetected);
                tracing::warn!(sid = %session_id, "rotated refresh token reused after the grace window or after its successor: session revoked (token theft)");
                return Err(RefreshRejection::TheftDetected.into());
            }
            RefreshResult::Rejected(r) => {
                self.metrics.refresh_rejected(r);
                return Err(r.into());
            }
        };
        self.ensure_fresh().await?;
        let claims: Map<String, Value> =
            serde_json::from_str(&session.claims_json).map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "stored session claims are unreadable",
                )
            })?;
        let (access_token, exp) = self.sign_access_token(&session.sub, &session.id, &claims)?;
        self.metrics.refresh_ok.inc();
        Ok(SessionTokens {
            access_token,
            refresh_token: successor.token,
            session_id: session.id,
            access_token_expires_at: exp,
        })
    }

    pub async fn revoke_session_by_token(&self, refresh_token: &str) -> Result<String, ApiError> {
        let sid = self
            .store
            .revoke_session_by_token(&sessions::hash_refresh_token(refresh_token), now_ms())
            .await
            .map_err(|e| self.store_failed(e))?
            .ok_or_else(|| ApiError::from(RefreshRejection::Unknown))?;
        self.metrics.sessions_revoked.inc();
        tracing::info!(sid = %sid, "session revoked");
        Ok(sid)
    }

    pub async fn revoke_session(&self, sid: &str) -> Result<(), ApiError> {
        let found = self
            .store
            .revoke_session(sid, now_ms())
            .await
            .map_err(|e| self.store_failed(e))?;
        if !found {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "no session with this id",
            ));
        }
        self.metrics.sessions_revoked.inc();
        tracing::info!(sid = %sid, "session revoked");
        Ok(())
    }

    /// Revokes every session of `sub` (none is no error: 0); returns how many were revoked.
    pub async fn revoke_subject_sessions(&self, sub: &str) -> Result<u64, ApiError> {
        sessions::check_subject(sub).map_err(|e| ApiError::bad_request(e.code(), e.message()))?;
        let n = self
            .store
            .revoke_subject_sessions(sub, now_ms())
            .await
            .map_err(|e| self.store_failed(e))?;
        self.metrics.sessions_revoked.add(n);
        // The subject is not logged (it may be an e-mail address); the count is.
        tracing::info!(sessions = n, "all sessions of a subject revoked");
        Ok(n)
    }

    /// The sessions of `sub`, oldest first, and whether there were more than
    /// [`MAX_LISTED_SESSIONS`].
    pub async fn list_subject_sessions(
        &self,
        sub: &str,
    ) -> Result<(Vec<SubjectSession>, bool), ApiError> {
        sessions::check_subject(sub).map_err(|e| ApiError::bad_request(e.code(), e.message()))?;
        let mut rows = self
            .store
            .list_subject_sessions(sub, MAX_LISTED_SESSIONS + 1)
            .await
            .map_err(|e| self.store_failed(e))?;
        let truncated = rows.len() > MAX_LISTED_SESSIONS as usize;
        rows.truncate(MAX_LISTED_SESSIONS as usize);
        let secs = |ms: i64| ms.div_euclid(1000);
        let listed = rows
            .into_iter()
            .map(|r| SubjectSession {
                session_id: r.id,
                created_at: secs(r.created_at),
                last_refreshed_at: r.last_refreshed_at.map(secs),
                revoked: r.revoked_at.is_some(),
                revoked_at: r.revoked_at.map(secs),
            })
            .collect();
        Ok((listed, truncated))
    }
}
