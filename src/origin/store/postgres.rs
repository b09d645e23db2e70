//! The PostgreSQL backend, for many replicas on one database. Key operations take a
//! transaction-scoped advisory lock first, so replicas' rotations serialise and the "is a
//! rotation due?" check inside one transaction sees the other's committed rotation (once per
//! interval, never twice). A refresh holds its session's row lock (`FOR UPDATE`), so the
//! refreshes of one session run one at a time across replicas: one successor per token.
//! Connections come from a pool (`pg_pool.rs`, TLS per `pg_tls.rs`); each operation holds one
//! for its whole transaction. Every operation's result passes the pool's outage tracking.

use async_trait::async_trait;
use tokio_postgres::{GenericClient, Row, Statement};

use super::pg_pool::{pg_error, PgPool};
use super::{KeyMutation, KeySnapshot, SessionStats, Store, StoreError};
use crate::origin::algorithm::Algorithm;
use crate::origin::keys::{diff, KeyOutcome, KeyRecord, KeyState};
use crate::origin::sessions::{
    decide, RefreshDecision, RefreshRecord, RefreshRejection, RefreshResult, SessionRecord,
    SessionSummary,
};

/// The advisory lock serialising key operations and migrations ("jwte").
const KEY_LOCK: i64 = 0x6a77_7465;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    deactivated_at BIGINT,
    revoked_at BIGINT,
    public_key BYTEA NOT NULL,
    sealed_secret BYTEA
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session ON refresh_tokens(session_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON refresh_tokens(expires_at);
CREATE INDEX IF NOT EXISTS sessions_sub ON sessions(sub);
CREATE TABLE IF NOT EXISTS session_thefts (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    detected_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_thefts_at ON session_thefts(detected_at);
INSERT INTO meta (key, value) VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;
INSERT INTO meta (key, value) VALUES ('key_generation', '0') ON CONFLICT DO NOTHING;
";

// The hot paths' statements, prepared once per pooled connection.
const CREATE_SESSION: &str = "WITH s AS (\
     INSERT INTO sessions (id, sub, claims, created_at, revoked_at) \
     VALUES ($1, $2, $3, $4, NULL)) \
     INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at, used_at) \
     VALUES ($5, $1, $6, $7, NULL)";
const LOCK_SESSION_OF_TOKEN: &str = "SELECT id, sub, claims, created_at, revoked_at FROM sessions \
     WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1) FOR UPDATE";
const READ_TOKEN: &str = "SELECT hash, session_id, created_at, expires_at, used_at \
     FROM refresh_tokens WHERE hash = $1";
const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
const ROTATE_TOKEN: &str = "WITH used AS (\
     UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL RETURNING 1) \
     INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at, used_at) \
     SELECT $3, $4, $5, $6, NULL FROM used";

pub struct PostgresStore {
    pool: PgPool,
}

fn be(e: tokio_postgres::Error) -> StoreError {
    // tokio-postgres errors never carry the connection password.
    pg_error(e)
}

impl PostgresStore {
    /// Builds the pool and connects once (so a wrong URL, an unreachable server or a refused
    /// certificate is a startup error, with its cause).
    pub async fn connect(url: &str, pool_size: usize) -> Result<PostgresStore, StoreError> {
        Ok(PostgresStore {
            pool: PgPool::connect(url, pool_size).await?,
        })
    }
}

fn read_key(row: &Row) -> Result<KeyRecord, StoreError> {
    let kid: String = row.get(0);
    let alg: String = row.get(1);
    let state: String = row.get(2);
    let (Some(alg), Some(state)) = (Algorithm::from_name(&alg), KeyState::from_name(&state)) else {
        return Err(StoreError::Corrupt(format!(
            "key {kid:?} has alg {alg:?} / state {state:?}"
        )));
    };
    Ok(KeyRecord {
        kid,
        alg,
        state,
        created_at: row.get(3),
        activated_at: row.get(4),
        deactivated_at: row.get(5),
        revoked_at: row.get(6),
        public_key: row.get(7),
        sealed_secret: row.get(8),
    })
}

async fn load_keys_tx<C: GenericClient>(c: &C) -> Result<Vec<KeyRecord>, StoreError> {
    let rows = c
        .query(
            "SELECT kid, alg, state, created_at, activated_at, deactivated_at, revoked_at, \
             public_key, sealed_secret FROM signing_keys ORDER BY created_at, kid",
            &[],
        )
        .await
        .map_err(be)?;
    rows.iter().map(read_key).collect()
}

async fn generation_tx<C: GenericClient>(c: &C) -> Result<i64, StoreError> {
    let row = c
        .query_one("SELECT value FROM meta WHERE key = 'key_generation'", &[])
        .await
        .map_err(be)?;
    let text: String = row.get(0);
    text.parse()
        .map_err(|_| StoreError::Corrupt("key_generation is not a number".into()))
}

async fn read_refresh_token<C: GenericClient>(
    c: &C,
    statement: &Statement,
    hash: &str,
) -> Result<Option<RefreshRecord>, StoreError> {
    let row = c.query_opt(statement, &[&hash]).await.map_err(be)?;
    Ok(row.map(|row| RefreshRecord {
        hash: row.get(0),
        session_id: row.get(1),
        created_at: row.get(2),
        expires_at: row.get(3),
        used_at: row.get(4),
    }))
}

async fn lock_keys<C: GenericClient>(c: &C) -> Result<(), StoreError> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&KEY_LOCK])
        .await
        .map_err(be)?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let result: Result<(), StoreError> = async {
            let mut conn = self.pool.get().await?;
            let client: &mut tokio_postgres::Client = &mut conn;
            let tx = client.transaction().await.map_err(be)?;
            lock_keys(&tx).await?;
            tx.batch_execute(SCHEMA).await.map_err(be)?;
            tx.commit().await.map_err(be)
        }
        .await;
        self.pool.observe(result)
    }

    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let result: Result<String, StoreError> = async {
            let conn = self.pool.get().await?;
            let client: &tokio_postgres::Client = &conn;
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&key, &value],
                )
                .await
                .map_err(be)?;
            let row = client
                .query_one("SELECT value FROM meta WHERE key = $1", &[&key])
                .await
                .map_err(be)?;
            Ok(row.get(0))
        }
        .await;
        self.pool.observe(result)
    }

    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let result: Result<(), StoreError> = async {
            let conn = self.pool.get().await?;
            let client: &tokio_postgres::Client = &conn;
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    &[&key, &value],
                )
                .await
                .map_err(be)?;
            Ok(())
        }
        .await;
        self.pool.observe(result)
    }

    async fn key_generation(&self) -> Result<i64, StoreError> {
        let result: Result<i64, StoreError> = async {
            let conn = self.pool.get().await?;
            generation_tx(&**conn).await
        }
        .await;
        self.pool.observe(result)
    }

    async fn load_keys(&self) -> Result<KeySnapshot, StoreError> {
        let result: Result<KeySnapshot, StoreError> = async {
            let mut conn = self.pool.get().await?;
            let client: &mut tokio_postgres::Client = &mut conn;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(be)?;
            let generation = generation_tx(&tx).await?;
            let keys = load_keys_tx(&tx).await?;
            tx.commit().await.map_err(be)?;
            Ok(KeySnapshot { generation, keys })
        }
        .await;
        self.pool.observe(result)
    }

    async fn mutate_keys(&self, step: KeyMutation) -> Result<KeyOutcome, StoreError> {
        let result: Result<KeyOutcome, StoreError> = async {
            let mut conn = self.pool.get().await?;
            let client: &mut tokio_postgres::Client = &mut conn;
            let tx = client.transaction().await.map_err(be)?;
            lock_keys(&tx).await?;
            let before = load_keys_tx(&tx).await?;
            let mut after = before.clone();
            let outcome = step(&mut after)?;
            let (inserted, updated) = diff(&before, &after);
            if inserted.is_empty() && updated.is_empty() {
                return Ok(outcome); // rolled back on drop
            }
            for k in inserted {
                tx.execute(
                    "INSERT INTO signing_keys (kid, alg, state, created_at, activated_at, \
                     deactivated_at, revoked_at, public_key, sealed_secret) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &k.kid,
                        &k.alg.name(),
                        &k.state.name(),
                        &k.created_at,
                        &k.activated_at,
                        &k.deactivated_at,
                        &k.revoked_at,
                        &k.public_key,
                        &k.sealed_secret,
                    ],
                )
                .await
                .map_err(be)?;
            }
            for k in updated {
                tx.execute(
                    "UPDATE signing_keys SET state = $2, activated_at = $3, deactivated_at = $4, \
                     revoked_at = $5, sealed_secret = $6 WHERE kid = $1",
                    &[
                        &k.kid,
                        &k.state.name(),
                        &k.activated_at,
                        &k.deactivated_at,
                        &k.revoked_at,
                        &k.sealed_secret,
                    ],
                )
                .await
                .map_err(be)?;
            }
            tx.execute(
                "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'key_generation'",
                &[],
            )
            .await
            .map_err(be)?;
            // Wakes replicas that LISTEN (they also poll the generation).
            tx.execute("NOTIFY jwtedge_keys", &[]).await.map_err(be)?;
            tx.commit().await.map_err(be)?;
            Ok(outcome)
        }
        .await;
        self.pool.observe(result)
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        token: &RefreshRecord,
    ) -> Result<(), StoreError> {
        let result: Result<(), StoreError> = async {
            let mut conn = self.pool.get().await?;
            let [insert] = conn.statements([CREATE_SESSION]).await?;
            // One statement: atomic on its own, one round trip.
            conn.execute(
                &insert,
                &[
                    &session.id,
                    &session.sub,
                    &session.claims_json,
                    &session.created_at,
                    &token.hash,
                    &token.created_at,
                    &token.expires_at,
                ],
            )
            .await
            .map_err(be)?;
            Ok(())
        }
        .await;
        self.pool.observe(result)
    }

    async fn refresh(
        &self,
        old_hash: &str,
        successor: RefreshRecord,
        now: i64,
        grace_ms: i64,
    ) -> Result<RefreshResult, StoreError> {
        let result: Result<RefreshResult, StoreError> = async {
            let mut conn = self.pool.get().await?;
            let [lock_session, read_token, revoke, rotate] = conn
                .statements([
                    LOCK_SESSION_OF_TOKEN,
                    READ_TOKEN,
                    REVOKE_SESSION,
                    ROTATE_TOKEN,
                ])
                .await?;
            let client: &mut tokio_postgres::Client = &mut conn;
            let tx = client.transaction().await.map_err(be)?;
            // Every refresh of a session holds its row lock, in whichever replica: they run one
            // after the other, and each reads (below, in a statement that starts after the lock is
            // granted, so under READ COMMITTED after the previous holder's commit) what the
            // previous one wrote. No row: no such token (or session).
            let Some(row) = tx
                .query_opt(&lock_session, &[&old_hash])
                .await
                .map_err(be)?
            else {
                return Ok(RefreshResult::Rejected(RefreshRejection::Unknown));
            };
            let session = SessionRecord {
                id: row.get(0),
                sub: row.get(1),
                claims_json: row.get(2),
                created_at: row.get(3),
                revoked_at: row.get(4),
            };
            let Some(token) = read_refresh_token(&tx, &read_token, old_hash).await? else {
                return Ok(RefreshResult::Rejected(RefreshRejection::Unknown)); // purged meanwhile
            };
            let next = match token.used_at {
                Some(_) => read_refresh_token(&tx, &read_token, &successor.hash).await?,
                None => None,
            };
            match decide(&token, next.as_ref(), &session, now, grace_ms) {
                RefreshDecision::Reject(r) => Ok(RefreshResult::Rejected(r)),
                RefreshDecision::RepeatSuccessor => Ok(RefreshResult::Repeated(session)),
                RefreshDecision::RevokeForTheft => {
                    tx.execute(&revoke, &[&session.id, &now])
                        .await
                        .map_err(be)?;
                    // For the console's count of thefts (a revoke alone does not say why).
                    tx.execute(
                        "INSERT INTO session_thefts (session_id, detected_at) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                        &[&session.id, &now],
                    )
                    .await
                    .map_err(be)?;
                    tx.commit().await.map_err(be)?;
                    Ok(RefreshResult::TheftDetected {
                        session_id: session.id,
                    })
                }
                RefreshDecision::Rotate => {
                    // Conditional as well as locked: the successor is stored only when this
                    // statement marked the token used, and a second successor is never stored.
                    let stored = tx
                        .execute(
                            &rotate,
                            &[
                                &token.hash,
                                &now,
                                &successor.hash,
                                &session.id,
                                &successor.created_at,
                                &successor.expires_at,
                            ],
                        )
                        .await
                        .map_err(be)?;
                    if stored != 1 {
                        return Err(StoreError::Backend(
                            "refresh token changed during its rotation".into(),
                        ));
                    }
                    tx.commit().await.map_err(be)?;
                    Ok(RefreshResult::Rotated(session))
                }
            }
        }
        .await;
        self.pool.observe(result)
    }

    async fn revoke_session_by_token(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let result: Result<Option<String>, StoreError> = async {
            let conn = self.pool.get().await?;
            let client: &tokio_postgres::Client = &conn;
            let row = client
                .query_opt(
                    "SELECT session_id FROM refresh_tokens WHERE hash = $1",
                    &[&hash],
                )
                .await
                .map_err(be)?;
            let Some(row) = row else { return Ok(None) };
            let sid: String = row.get(0);
            client
                .execute(
                    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&sid, &now],
                )
                .await
                .map_err(be)?;
            Ok(Some(sid))
        }
        .await;
        self.pool.observe(result)
    }

    async fn revoke_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let result: Result<bool, StoreError> = async {
            let conn = self.pool.get().await?;
            let client: &tokio_postgres::Client = &conn;
            let found = client
                .query_opt("SELECT 1 FROM sessions WHERE id = $1", &[&id])
                .await
                .map_err(be)?
                .is_some();
            client
                .execute(
                    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &now],
                )
                .await
                .map_err(be)?;
            Ok(found)
        }
        .await;
        self.pool.observe(result)
    }

    async fn purge_expired(&self, before: i64) -> Result<u64, StoreError> {
        let result: Result<u64, StoreError> = async {
            let conn = self.pool.get().await?;
            conn.execute(
                "DELETE FROM refresh_tokens WHERE expires_at < $1",
                &[&before],
            )
            .await
            .map_err(be)
        }
        .await;
        self.pool.observe(result)
    }

    async fn revoke_subject_sessions(&self, sub: &str, now: i64) -> Result<u64, StoreError> {
        let result: Result<u64, StoreError> = async {
            let conn = self.pool.get().await?;
            // Each row's lock is taken as it is updated: a refresh of one of these sessions in
            // flight finishes first (and its new token dies with the session), or waits and
            // then sees the session revoked.
            conn.execute(
                "UPDATE sessions SET revoked_at = $2 WHERE sub = $1 AND revoked_at IS NULL",
                &[&sub, &now],
            )
            .await
            .map_err(be)
        }
        .await;
        self.pool.observe(result)
    }

    async fn list_subject_sessions(
        &self,
        sub: &str,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let result: Result<Vec<SessionSummary>, StoreError> = async {
            let conn = self.pool.get().await?;
            let rows = conn
                .query(
                    "SELECT s.id, s.created_at, s.revoked_at, \
                     (SELECT max(r.used_at) FROM refresh_tokens r WHERE r.session_id = s.id) \
                     FROM sessions s WHERE s.sub = $1 ORDER BY s.created_at, s.id LIMIT $2",
                    &[&sub, &i64::from(limit)],
                )
                .await
                .map_err(be)?;
            Ok(rows
                .iter()
                .map(|row| SessionSummary {
                    id: row.get(0),
                    created_at: row.get(1),
                    revoked_at: row.get(2),
                    last_refreshed_at: row.get(3),
                })
                .collect())
        }
        .await;
        self.pool.observe(result)
    }

    async fn session_stats(&self, now: i64, since: i64) -> Result<SessionStats, StoreError> {
        let result: Result<SessionStats, StoreError> = async {
            let conn = self.pool.get().await?;
            let row = conn
                .query_one(
                    "SELECT \
                     (SELECT count(*) FROM sessions s WHERE s.revoked_at IS NULL AND EXISTS \
                       (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id \
                        AND r.used_at IS NULL AND r.expires_at > $1)), \
                     (SELECT count(*) FROM sessions WHERE created_at >= $2), \
                     (SELECT count(*) FROM refresh_tokens WHERE used_at >= $2), \
                     (SELECT count(*) FROM session_thefts WHERE detected_at >= $2)",
                    &[&now, &since],
                )
                .await
                .map_err(be)?;
            let n = |i: usize| row.get::<_, i64>(i).max(0) as u64;
            Ok(SessionStats {
                live: n(0),
                created: n(1),
                refreshes: n(2),
                thefts: n(3),
            })
        }
        .await;
        self.pool.observe(result)
    }
}
