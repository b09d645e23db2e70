//! The SQLite backend: the embedded default. One file, WAL journal, `synchronous=FULL` (a
//! committed rotation survives a crash), a 5 s busy timeout so the CLI and a running server can
//! share the file. Work runs on tokio's blocking pool; key operations use `BEGIN IMMEDIATE`,
//! which takes the write lock up front, so two processes cannot interleave a rotation.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{KeyMutation, KeySnapshot, SessionStats, Store, StoreError};
use crate::origin::algorithm::Algorithm;
use crate::origin::keys::{diff, KeyOutcome, KeyRecord, KeyState};
use crate::origin::sessions::{
    decide, RefreshDecision, RefreshRecord, RefreshRejection, RefreshResult, SessionRecord,
    SessionSummary,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    activated_at INTEGER,
    deactivated_at INTEGER,
    revoked_at INTEGER,
    public_key BLOB NOT NULL,
    sealed_secret BLOB
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session ON refresh_tokens(session_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON refresh_tokens(expires_at);
CREATE INDEX IF NOT EXISTS sessions_sub ON sessions(sub);
CREATE TABLE IF NOT EXISTS session_thefts (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    detected_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS session_thefts_at ON session_thefts(detected_at);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
INSERT OR IGNORE INTO meta (key, value) VALUES ('key_generation', '0');
";

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn be(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(be)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )
        .map_err(be)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("database task failed: {e}")))?
    }
}

fn read_key(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<KeyRecord, StoreError>> {
    let kid: String = row.get(0)?;
    let alg: String = row.get(1)?;
    let state: String = row.get(2)?;
    let (Some(alg), Some(state)) = (Algorithm::from_name(&alg), KeyState::from_name(&state)) else {
        return Ok(Err(StoreError::Corrupt(format!(
            "key {kid:?} has alg {alg:?} / state {state:?}"
        ))));
    };
    Ok(Ok(KeyRecord {
        kid,
        alg,
        state,
        created_at: row.get(3)?,
        activated_at: row.get(4)?,
        deactivated_at: row.get(5)?,
        revoked_at: row.get(6)?,
        public_key: row.get(7)?,
        sealed_secret: row.get(8)?,
    }))
}

fn load_keys_tx(conn: &Connection) -> Result<Vec<KeyRecord>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT kid, alg, state, created_at, activated_at, deactivated_at, revoked_at, \
             public_key, sealed_secret FROM signing_keys ORDER BY created_at, kid",
        )
        .map_err(be)?;
    let rows = stmt.query_map([], read_key).map_err(be)?;
    let mut keys = Vec::new();
    for row in rows {
        keys.push(row.map_err(be)??);
    }
    Ok(keys)
}

fn generation_tx(conn: &Connection) -> Result<i64, StoreError> {
    let text: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'key_generation'",
            [],
            |r| r.get(0),
        )
        .map_err(be)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt("key_generation is not a number".into()))
}

fn read_session(conn: &Connection, id: &str) -> Result<Option<SessionRecord>, StoreError> {
    conn.query_row(
        "SELECT id, sub, claims, created_at, revoked_at FROM sessions WHERE id = ?1",
        params![id],
        |r| {
            Ok(SessionRecord {
                id: r.get(0)?,
                sub: r.get(1)?,
                claims_json: r.get(2)?,
                created_at: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        },
    )
    .optional()
    .map_err(be)
}

fn read_refresh_token(conn: &Connection, hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
    conn.query_row(
        "SELECT hash, session_id, created_at, expires_at, used_at \
         FROM refresh_tokens WHERE hash = ?1",
        params![hash],
        |r| {
            Ok(RefreshRecord {
                hash: r.get(0)?,
                session_id: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                used_at: r.get(4)?,
            })
        },
    )
    .optional()
    .map_err(be)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(be)?;
            tx.execute_batch(SCHEMA).map_err(be)?;
            tx.commit().map_err(be)
        })
        .await
    }

    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(be)?;
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(be)?;
            let stored: String = tx
                .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                    r.get(0)
                })
                .map_err(be)?;
            tx.commit().map_err(be)?;
            Ok(stored)
        })
        .await
    }

    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(be)?;
            Ok(())
        })
        .await
    }

    async fn key_generation(&self) -> Result<i64, StoreError> {
        self.run(|conn| generation_tx(conn)).await
    }

    async fn load_keys(&self) -> Result<KeySnapshot, StoreError> {
        self.run(|conn| {
            let tx = conn.transaction().map_err(be)?;
            let generation = generation_tx(&tx)?;
            let keys = load_keys_tx(&tx)?;
            tx.commit().map_err(be)?;
            Ok(KeySnapshot { generation, keys })
        })
        .await
    }

    async fn mutate_keys(&self, step: KeyMutation) -> Result<KeyOutcome, StoreError> {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(be)?;
            let before = load_keys_tx(&tx)?;
            let mut after = before.clone();
            let outcome = step(&mut after)?;
            let (inserted, updated) = diff(&before, &after);
            if inserted.is_empty() && updated.is_empty() {
                return Ok(outcome); // rollback on drop: nothing to write
            }
            for k in inserted {
                tx.execute(
                    "INSERT INTO signing_keys (kid, alg, state, created_at, activated_at, \
                     deactivated_at, revoked_at, public_key, sealed_secret) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        k.kid,
                        k.alg.name(),
                        k.state.name(),
                        k.created_at,
                        k.activated_at,
                        k.deactivated_at,
                        k.revoked_at,
                        k.public_key,
                        k.sealed_secret
                    ],
                )
                .map_err(be)?;
            }
            for k in updated {
                tx.execute(
                    "UPDATE signing_keys SET state = ?2, activated_at = ?3, deactivated_at = ?4, \
                     revoked_at = ?5, sealed_secret = ?6 WHERE kid = ?1",
                    params![
                        k.kid,
                        k.state.name(),
                        k.activated_at,
                        k.deactivated_at,
                        k.revoked_at,
                        k.sealed_secret
                    ],
                )
                .map_err(be)?;
            }
            tx.execute(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) \
                 WHERE key = 'key_generation'",
                [],
            )
            .map_err(be)?;
            tx.commit().map_err(be)?;
            Ok(outcome)
        })
        .await
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        token: &RefreshRecord,
    ) -> Result<(), StoreError> {
        let (s, t) = (session.clone(), token.clone());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(be)?;
            tx.execute(
                "INSERT INTO sessions (id, sub, claims, created_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, NULL)",
                params![s.id, s.sub, s.claims_json, s.created_at],
            )
            .map_err(be)?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at, used_at) \
                 VALUES (?1, ?2, ?3, ?4, NULL)",
                params![t.hash, s.id, t.created_at, t.expires_at],
            )
            .map_err(be)?;
            tx.commit().map_err(be)
        })
        .await
    }

    async fn refresh(
        &self,
        old_hash: &str,
        successor: RefreshRecord,
        now: i64,
        grace_ms: i64,
    ) -> Result<RefreshResult, StoreError> {
        let old_hash = old_hash.to_string();
        self.run(move |conn| {
            // IMMEDIATE: the write lock first, so no other refresh (of any process on this
            // file) reads between our read and our write.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(be)?;
            let Some(token) = read_refresh_token(&tx, &old_hash)? else {
                return Ok(RefreshResult::Rejected(RefreshRejection::Unknown));
            };
            let Some(session) = read_session(&tx, &token.session_id)? else {
                return Ok(RefreshResult::Rejected(RefreshRejection::Unknown));
            };
            let next = match token.used_at {
                Some(_) => read_refresh_token(&tx, &successor.hash)?,
                None => None,
            };
            match decide(&token, next.as_ref(), &session, now, grace_ms) {
                RefreshDecision::Reject(r) => Ok(RefreshResult::Rejected(r)),
                RefreshDecision::RepeatSuccessor => Ok(RefreshResult::Repeated(session)),
                RefreshDecision::RevokeForTheft => {
                    tx.execute(
                        "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                        params![session.id, now],
                    )
                    .map_err(be)?;
                    // For the console's count of thefts (a revoke alone does not say why).
                    tx.execute(
                        "INSERT OR IGNORE INTO session_thefts (session_id, detected_at) VALUES (?1, ?2)",
                        params![session.id, now],
                    )
                    .map_err(be)?;
                    tx.commit().map_err(be)?;
                    Ok(RefreshResult::TheftDetected {
                        session_id: session.id,
                    })
                }
                RefreshDecision::Rotate => {
                    let marked = tx
                        .execute(
                            "UPDATE refresh_tokens SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
                            params![token.hash, now],
                        )
                        .map_err(be)?;
                    if marked != 1 {
                        // Cannot happen under the write lock; never store a second successor.
                        return Err(StoreError::Backend(
                            "refresh token changed during its rotation".into(),
                        ));
                    }
                    tx.execute(
                        "INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at, used_at) \
                         VALUES (?1, ?2, ?3, ?4, NULL)",
                        params![
                            successor.hash,
                            session.id,
                            successor.created_at,
                            successor.expires_at
                        ],
                    )
                    .map_err(be)?;
                    tx.commit().map_err(be)?;
                    Ok(RefreshResult::Rotated(session))
                }
            }
        })
        .await
    }

    async fn revoke_session_by_token(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let hash = hash.to_string();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(be)?;
            let sid: Option<String> = tx
                .query_row(
                    "SELECT session_id FROM refresh_tokens WHERE hash = ?1",
                    params![hash],
                    |r| r.get(0),
                )
                .optional()
                .map_err(be)?;
            if let Some(sid) = &sid {
                tx.execute(
                    "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                    params![sid, now],
                )
                .map_err(be)?;
            }
            tx.commit().map_err(be)?;
            Ok(sid)
        })
        .await
    }

    async fn revoke_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(be)?;
            let found = read_session(&tx, &id)?.is_some();
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )
            .map_err(be)?;
            tx.commit().map_err(be)?;
            Ok(found)
        })
        .await
    }

    async fn purge_expired(&self, before: i64) -> Result<u64, StoreError> {
        self.run(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM refresh_tokens WHERE expires_at < ?1",
                    params![before],
                )
                .map_err(be)?;
            Ok(n as u64)
        })
        .await
    }

    async fn revoke_subject_sessions(&self, sub: &str, now: i64) -> Result<u64, StoreError> {
        let sub = sub.to_string();
        // One statement under the write lock, which every refresh takes too (BEGIN IMMEDIATE).
        self.run(move |conn| {
            let n = conn
                .execute(
                    "UPDATE sessions SET revoked_at = ?2 WHERE sub = ?1 AND revoked_at IS NULL",
                    params![sub, now],
                )
                .map_err(be)?;
            Ok(n as u64)
        })
        .await
    }

    async fn list_subject_sessions(
        &self,
        sub: &str,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let sub = sub.to_string();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT s.id, s.created_at, s.revoked_at, \
                     (SELECT max(r.used_at) FROM refresh_tokens r WHERE r.session_id = s.id) \
                     FROM sessions s WHERE s.sub = ?1 ORDER BY s.created_at, s.id LIMIT ?2",
                )
                .map_err(be)?;
            let rows = stmt
                .query_map(params![sub, limit], |row| {
                    Ok(SessionSummary {
                        id: row.get(0)?,
                        created_at: row.get(1)?,
                        revoked_at: row.get(2)?,
                        last_refreshed_at: row.get(3)?,
                    })
                })
                .map_err(be)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(be)
        })
        .await
    }

    async fn session_stats(&self, now: i64, since: i64) -> Result<SessionStats, StoreError> {
        self.run(move |conn| {
            conn.query_row(
                "SELECT \
                 (SELECT count(*) FROM sessions s WHERE s.revoked_at IS NULL AND EXISTS \
                   (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id \
                    AND r.used_at IS NULL AND r.expires_at > ?1)), \
                 (SELECT count(*) FROM sessions WHERE created_at >= ?2), \
                 (SELECT count(*) FROM refresh_tokens WHERE used_at >= ?2), \
                 (SELECT count(*) FROM session_thefts WHERE detected_at >= ?2)",
                params![now, since],
                |r| {
                    Ok(SessionStats {
                        live: r.get::<_, i64>(0)? as u64,
                        created: r.get::<_, i64>(1)? as u64,
                        refreshes: r.get::<_, i64>(2)? as u64,
                        thefts: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .map_err(be)
        })
        .await
    }
}
