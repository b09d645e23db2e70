//! Whether a database already holds a jwtedge store, asked without creating anything: the
//! operator commands (`keys …`, `token issue`) must never make a fresh store (new keys, new
//! credentials) in a mistyped data directory or an empty database. SQLite is opened read-only
//! (a missing file stays missing); PostgreSQL is asked whether the key table exists.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::pg_pool::{error_chain, PgConnection, PgPool};
use crate::origin::config::Database;

/// The table every store has from its first start.
const KEY_TABLE: &str = "signing_keys";

/// One connection for a read-only question (a pool of one, dropped with the connection).
async fn one_connection(url: &str) -> Result<PgConnection, String> {
    let pool = PgPool::connect(url, 1)
        .await
        .map_err(|e| format!("invalid setting `database_url`: {e}"))?;
    pool.get()
        .await
        .map_err(|e| format!("invalid setting `database_url`: {e}"))
}

/// `Ok(true)` when `database` holds a store; an error when it cannot be asked.
pub async fn store_exists(database: &Database) -> Result<bool, String> {
    match database {
        Database::Sqlite(path) => sqlite_has_store(path),
        Database::Postgres(url) => {
            let conn = one_connection(url).await?;
            let client: &tokio_postgres::Client = &conn;
            let row = client
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&KEY_TABLE])
                .await
                .map_err(|e| format!("cannot read the database: {}", error_chain(&e)))?;
            Ok(row.get::<_, bool>(0))
        }
    }
}

/// The deployment's shared settings stored in a PostgreSQL database (see
/// `shared_config.rs`), by setting name, values as stored (credentials sealed); empty when the
/// database holds none yet or is SQLite. Reads only.
pub async fn shared_settings(database: &Database) -> Result<BTreeMap<String, String>, String> {
    let Database::Postgres(url) = database else {
        return Ok(BTreeMap::new());
    };
    let conn = one_connection(url).await?;
    let client: &tokio_postgres::Client = &conn;
    let read = |e: tokio_postgres::Error| format!("cannot read the database: {}", error_chain(&e));
    let has_meta: bool = client
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .await
        .map_err(read)?
        .get(0);
    if !has_meta {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query("SELECT key, value FROM meta WHERE key LIKE 'shared.%'", &[])
        .await
        .map_err(read)?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let key: String = r.get(0);
            Some((key.strip_prefix("shared.")?.to_string(), r.get(1)))
        })
        .collect())
}

fn sqlite_has_store(path: &Path) -> Result<bool, String> {
    if !path.is_file() {
        return Ok(false);
    }
    // Read-only, no create: probing must not leave a file behind.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [KEY_TABLE],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| format!("{} is not a jwtedge database: {e}", path.display()))
}

/// Where the store was looked for, for the refusal message.
pub fn describe(database: &Database, data_dir: &Path) -> String {
    match database {
        Database::Sqlite(path) if path.parent() == Some(data_dir) => {
            format!("data directory {} ({})", data_dir.display(), path.display())
        }
        Database::Sqlite(path) => path.display().to_string(),
        // The URL may carry a password: name the database only.
        Database::Postgres(url) => format!("database {}", redact_url(url)),
    }
}

/// `postgres://user:secret@host/db?…` → `postgres://user@host/db`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_and_parameters() {
        assert_eq!(
            redact_url("postgres://u:SECRET@h:5432/db?sslmode=require&password=SECRET"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(redact_url("postgresql://h/db"), "postgresql://h/db");
        assert_eq!(redact_url("postgres://u@h"), "postgres://u@h");
    }

    #[test]
    fn a_missing_or_foreign_sqlite_file_holds_no_store() {
        let dir = std::env::temp_dir().join(format!("jwtedge-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("none.sqlite3");
        assert!(!sqlite_has_store(&missing).unwrap());
        assert!(!missing.exists(), "probing created the file");
        let other = dir.join("other.sqlite3");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        assert!(!sqlite_has_store(&other).unwrap());
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE signing_keys (kid TEXT)")
            .unwrap();
        assert!(sqlite_has_store(&other).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
