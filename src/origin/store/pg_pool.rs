//! The PostgreSQL store's connections: a pool (deadpool) of tokio-postgres clients over the
//! TLS of `pg_tls.rs`, and what the rest of the origin learns when the database fails. An error
//! carries its cause chain, each cause once ("error connecting to server: Connection refused
//! (os error 111)"); errors that mean "the database cannot be reached" are
//! [`StoreError::Unavailable`], and the pool logs the outage once when it starts and once when
//! it ends, not once per request (the requests answer 503 without logging it again).
//!
//! Connections are made lazily, up to the pool size; a connection the server closed is
//! dropped when it comes back to the pool, and the next request opens a new one. Each
//! operation takes one connection for its whole transaction, so transaction-scoped advisory
//! locks and `FOR UPDATE` row locks keep their meaning.

use std::collections::HashMap;
use std::error::Error;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, PoolError, RecycleError, RecycleResult, Timeouts};
use deadpool::Runtime;
use tokio_postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::pg_tls::{self, PgTarget, SslMode};
use super::StoreError;

/// Connecting (TCP, TLS, authentication) gives up after this, unless the URL sets
/// `connect_timeout`; a request waits this long at most for a free connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `e` and its sources, joined by ": ", each message once: a cause that an outer message
/// already quotes is not repeated.
pub fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Classifies a tokio-postgres error. The server answering with an SQL error is a
/// [`StoreError::Backend`]; everything that means it cannot be reached or used right now
/// (I/O, TLS, a closed connection, SQLSTATE class 08 connection exception, 57P operator
/// intervention such as a shutdown, 53 insufficient resources) is [`StoreError::Unavailable`].
pub fn pg_error(e: tokio_postgres::Error) -> StoreError {
    let text = error_chain(&e);
    let outage = match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
        }
        None => true,
    };
    if outage {
        StoreError::Unavailable(text)
    } else {
        StoreError::Backend(text)
    }
}

/// A pooled connection with the statements it has prepared: the hot paths (session creation,
/// refresh) send Bind/Execute only, one round trip per statement instead of two, and the server
/// plans each statement once per connection.
pub struct PgClient {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl PgClient {
    /// `sql`, prepared on this connection (once).
    pub async fn statements<const N: usize>(
        &mut self,
        sql: [&'static str; N],
    ) -> Result<[Statement; N], StoreError> {
        let mut out = Vec::with_capacity(N);
        for text in sql {
            let statement = match self.prepared.get(text) {
                Some(s) => s.clone(),
                None => {
                    let s = self.client.prepare(text).await.map_err(pg_error)?;
                    self.prepared.insert(text, s.clone());
                    s
                }
            };
            out.push(statement);
        }
        out.try_into()
            .map_err(|_| StoreError::Backend("statement count mismatch".into()))
    }
}

impl Deref for PgClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for PgClient {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

pub struct PgManager {
    config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
}

impl managed::Manager for PgManager {
    type Type = PgClient;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<PgClient, tokio_postgres::Error> {
        let client = match &self.tls {
            None => {
                let (client, connection) = self.config.connect(NoTls).await?;
                // Its end shows as a closed client (dropped at recycling); the pool, not each
                // connection, reports outages.
                tokio::spawn(async move { drop(connection.await) });
                client
            }
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                tokio::spawn(async move { drop(connection.await) });
                client
            }
        };
        Ok(PgClient {
            client,
            prepared: HashMap::new(),
        })
    }

    async fn recycle(
        &self,
        client: &mut PgClient,
        _: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if client.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        Ok(())
    }
}

pub type PgConnection = managed::Object<PgManager>;

pub struct PgPool {
    pool: Pool<PgManager>,
    size: usize,
    mode: SslMode,
    /// The database was unreachable at the last attempt (logged when this flips).
    down: AtomicBool,
}

impl PgPool {
    /// Builds the pool and opens one connection, so a wrong URL, an unreachable server or a
    /// refused certificate is a startup error (with its cause).
    pub async fn connect(url: &str, size: usize) -> Result<PgPool, StoreError> {
        let target = pg_tls::parse_url(url).map_err(StoreError::Backend)?;
        let tls = pg_tls::connector(&target).map_err(StoreError::Backend)?;
        let PgTarget {
            mut config, mode, ..
        } = target;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let pool = Pool::builder(PgManager { config, tls })
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(CONNECT_TIMEOUT),
                // A backstop past connect_timeout: TLS or authentication that stalls.
                create: Some(CONNECT_TIMEOUT + Duration::from_secs(5)),
                recycle: Some(CONNECT_TIMEOUT),
            })
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
        let pool = PgPool {
            pool,
            size,
            mode,
            down: AtomicBool::new(false),
        };
        drop(pool.get().await?);
        Ok(pool)
    }

    /// A connection of its own for one operation.
    pub async fn get(&self) -> Result<PgConnection, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            // Whatever stops a new connection (refused, TLS, authentication, a missing
            // database) means the database cannot be used: an outage, not a request's error.
            PoolError::Backend(e) => {
                let mut cause = error_chain(&e);
                if self.mode == SslMode::Disable && cause.contains("no encryption") {
                    cause.push_str(
                        " (the server requires TLS: drop sslmode=disable from database_url)",
                    );
                }
                StoreError::Unavailable(cause)
            }
            PoolError::Timeout(managed::TimeoutType::Wait) => StoreError::Backend(format!(
                "no free database connection within {}s (all {} of database_pool_size busy)",
                CONNECT_TIMEOUT.as_secs(),
                self.size
            )),
            PoolError::Timeout(_) => StoreError::Unavailable(format!(
                "connecting to the database took longer than {}s",
                (CONNECT_TIMEOUT + Duration::from_secs(5)).as_secs()
            )),
            other => StoreError::Backend(error_chain(&other)),
        })
    }

    /// Passes `result` through, logging when the database becomes unreachable and when it is
    /// back: once per change of state.
    pub fn observe<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match &result {
            Ok(_) => {
                if self.down.swap(false, Ordering::SeqCst) {
                    tracing::warn!("PostgreSQL is reachable again");
                }
            }
            Err(StoreError::Unavailable(cause)) => {
                if !self.down.swap(true, Ordering::SeqCst) {
                    tracing::error!(
                        error = %cause,
                        "PostgreSQL is unreachable; requests that need it answer 503 until it is back (logged once)"
                    );
                }
            }
            Err(_) => {}
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for E {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn causes_once() {
        let e = E(
            "error connecting to server",
            Some(Box::new(E(
                "Connection refused (os error 111)",
                Some(Box::new(E("Connection refused (os error 111)", None))),
            ))),
        );
        assert_eq!(
            error_chain(&e),
            "error connecting to server: Connection refused (os error 111)"
        );
        let quoted = E("wrapper: inner", Some(Box::new(E("inner", None))));
        assert_eq!(error_chain(&quoted), "wrapper: inner");
    }
}
