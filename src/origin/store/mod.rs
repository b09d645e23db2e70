//! Storage behind one trait (SPEC §7), with two backends: SQLite (the embedded default, one
//! file in the data directory) and PostgreSQL (shared by many replicas). Every key operation
//! is one transaction that serialises with every other key operation (SQLite `BEGIN
//! IMMEDIATE`; PostgreSQL a transaction-scoped advisory lock), loads the whole key table, runs
//! a pure step of `keys.rs` on it, writes back the difference and bumps a generation counter
//! that replicas poll to pick the change up.

pub mod pg_pool;
pub mod pg_tls;
pub mod postgres;
pub mod probe;
pub mod sqlite;

use async_trait::async_trait;

use super::keys::{KeyError, KeyOutcome, KeyRecord};
use super::sessions::{RefreshRecord, RefreshResult, SessionRecord, SessionSummary};

#[derive(Debug)]
pub enum StoreError {
    /// The database answered with an error.
    Backend(String),
    /// The database cannot be reached or used right now (connection refused, TLS, a closed
    /// connection, a shutdown); the store logs the outage once, not each request.
    Unavailable(String),
    /// A key operation was refused (unknown kid, conditional rotation lost…).
    Key(KeyError),
    /// The database holds something this version cannot read.
    Corrupt(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Backend(m) => write!(f, "database error: {m}"),
            StoreError::Unavailable(m) => write!(f, "database unavailable: {m}"),
            StoreError::Key(e) => write!(f, "{e}"),
            StoreError::Corrupt(m) => write!(f, "unreadable data in the database: {m}"),
        }
    }
}

impl From<KeyError> for StoreError {
    fn from(e: KeyError) -> StoreError {
        StoreError::Key(e)
    }
}

/// The key table and its generation at one moment.
#[derive(Debug, Clone)]
pub struct KeySnapshot {
    pub generation: i64,
    pub keys: Vec<KeyRecord>,
}

/// A pure step over the key table, run inside the store's transaction.
pub type KeyMutation =
    Box<dyn FnOnce(&mut Vec<KeyRecord>) -> Result<KeyOutcome, KeyError> + Send + 'static>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Creates or upgrades the schema. Idempotent; safe when replicas start together.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Stores `value` under `key` unless a value is there; returns the value now stored.
    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError>;

    /// Stores `value` under `key`, replacing what is there (an explicit change of a shared
    /// setting, see `shared_config.rs`).
    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// The key-table generation: changes whenever the key table does.
    async fn key_generation(&self) -> Result<i64, StoreError>;

    async fn load_keys(&self) -> Result<KeySnapshot, StoreError>;

    /// Runs `step` in one serialised transaction; writes its changes and bumps the generation
    /// if anything changed. Nothing is written when `step` fails.
    async fn mutate_keys(&self, step: KeyMutation) -> Result<KeyOutcome, StoreError>;

    async fn create_session(
        &self,
        session: &SessionRecord,
        token: &RefreshRecord,
    ) -> Result<(), StoreError>;

    /// The refresh of SPEC §7 ("rotation, exactly") in one transaction that serialises with
    /// every other refresh of the same session (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the
    /// session's row lock, across replicas): looks `old_hash` up and, when it was used, its
    /// stored successor `successor.hash`; decides (`sessions::decide`); then either marks the
    /// old token used and stores `successor` (with the session's id), or changes nothing (a
    /// retry gets the successor stored before), or revokes the session for theft, or rejects.
    async fn refresh(
        &self,
        old_hash: &str,
        successor: RefreshRecord,
        now: i64,
        grace_ms: i64,
    ) -> Result<RefreshResult, StoreError>;

    /// Revokes the session that `hash` belongs to; `None` when no token has that hash.
    async fn revoke_session_by_token(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError>;

    /// Revokes a session by id; false when there is no such session.
    async fn revoke_session(&self, id: &str, now: i64) -> Result<bool, StoreError>;

    /// Revokes every session of `sub` not revoked yet; returns how many. Like any revoke, this
    /// serialises with the refreshes of those sessions, so no refresh token of them works
    /// afterwards.
    async fn revoke_subject_sessions(&self, sub: &str, now: i64) -> Result<u64, StoreError>;

    /// The sessions of `sub`, oldest first, at most `limit`.
    async fn list_subject_sessions(
        &self,
        sub: &str,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, StoreError>;

    /// Deletes refresh tokens that expired before `before`; returns how many.
    async fn purge_expired(&self, before: i64) -> Result<u64, StoreError>;

    /// The console's sessions page: sessions live at `now`, and what happened since `since`
    /// (Unix ms). Refreshes are counted from refresh tokens not yet purged (a rotated token is
    /// purged when it would have expired); thefts from the `session_thefts` table.
    async fn session_stats(&self, now: i64, since: i64) -> Result<SessionStats, StoreError>;
}

/// Counts for the console's sessions page ([`Store::session_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Not revoked, with an unused refresh token that has not expired.
    pub live: u64,
    pub created: u64,
    /// Refresh tokens rotated (exchanged for a new pair); retries within the grace not counted.
    pub refreshes: u64,
    /// Sessions revoked because a used refresh token was presented again.
    pub thefts: u64,
}
