//! Startup: everything a running origin needs, opened in order — the secrets, the store
//! (created and migrated), the check that this master key sealed the stored keys, the shared
//! configuration of a deployment on one database, and the first signing keys. Every failure
//! here is a startup error, said as the setting to fix.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, RwLock};

use super::{now_ms, Origin};
use crate::core::b64url_encode;
use crate::origin::adoption::Adoption;
use crate::origin::config::{Database, Settings};
use crate::origin::crypto_at_rest::{MASTER_CHECK_AAD, MASTER_CHECK_PLAINTEXT};
use crate::origin::keyring::Keyring;
use crate::origin::keys::{self, KeyOutcome};
use crate::origin::metrics::Metrics;
use crate::origin::secrets;
use crate::origin::shared_config;
use crate::origin::store::{postgres::PostgresStore, sqlite::SqliteStore, Store};

impl Origin {
    /// Opens everything a running origin needs; every failure here is a startup error.
    pub async fn open(mut settings: Settings, mut issuer: String) -> Result<Arc<Origin>, String> {
        let mut secrets = secrets::resolve(&settings).map_err(|e| e.to_string())?;
        for path in &secrets.generated {
            tracing::info!(file = %path.display(), mode = "0600", "generated secrets written (not logged)");
        }
        let store: Arc<dyn Store> = match &settings.database {
            Database::Sqlite(path) => {
                match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    Some(dir) if *dir == *settings.data_dir => {
                        secrets::ensure_data_dir(dir).map_err(|e| e.to_string())?
                    }
                    Some(dir) => std::fs::create_dir_all(dir).map_err(|e| {
                        format!(
                            "invalid setting `database_url`: cannot create {}: {e}",
                            dir.display()
                        )
                    })?,
                    None => {}
                }
                Arc::new(
                    SqliteStore::open(path)
                        .map_err(|e| format!("invalid setting `database_url`/`data_dir`: {e}"))?,
                )
            }
            Database::Postgres(url) => Arc::new(
                PostgresStore::connect(url, settings.database_pool_size)
                    .await
                    .map_err(|e| format!("invalid setting `database_url`: {e}"))?,
            ),
        };
        store
            .migrate()
            .await
            .map_err(|e| format!("cannot prepare the database: {e}"))?;

        // A database remembers which master key sealed its keys.
        let master = &secrets.master_key;
        let check = b64url_encode(&master.seal(MASTER_CHECK_AAD, MASTER_CHECK_PLAINTEXT));
        let stored = store
            .meta_init("master_key_check", &check)
            .await
            .map_err(|e| format!("cannot read the database: {e}"))?;
        let opens = crate::core::b64url_decode(stored.as_bytes())
            .and_then(|sealed| master.open(MASTER_CHECK_AAD, &sealed).ok())
            .is_some_and(|p| p == MASTER_CHECK_PLAINTEXT);
        if !opens {
            return Err(
                "invalid setting `master_key`: this database's keys were sealed with a different master key"
                    .to_string(),
            );
        }

        // One configuration per deployment on a shared database (shared_config.rs).
        let mut adopted = vec![];
        if shared_config::applies(&settings) {
            adopted = shared_config::reconcile(&*store, &mut settings, &mut issuer, &mut secrets)
                .await?
                .adopted;
            if !adopted.is_empty() {
                tracing::info!(settings = ?adopted, "adopted from the shared database (values of secrets not logged)");
                secrets::rewrite_generated_credentials(&settings, &secrets)
                    .map_err(|e| e.to_string())?;
            }
        }

        let policy = settings.lifecycle_policy();
        let window_ms = i64::try_from(settings.keyset_max_age.as_millis()).unwrap_or(i64::MAX);
        let origin = Arc::new(Origin {
            adopted,
            adoption: Adoption::new(window_ms),
            settings,
            secrets,
            issuer,
            store,
            metrics: Metrics::default(),
            policy,
            keyring: RwLock::new(Arc::new(Keyring::empty())),
            last_store_ok: AtomicI64::new(now_ms()),
        });
        let algorithm = origin.policy.algorithm;
        let outcome = origin
            .mutate_making(Some(algorithm), move |keys, now, policy, factory| {
                keys::ensure_ready(keys, now, policy, factory)
            })
            .await
            .map_err(|e| format!("cannot prepare the signing keys: {e}"))?;
        if let KeyOutcome::Initialized { current, next } = &outcome {
            tracing::info!(current = %current, next = %next, "signing keys created");
        }
        origin
            .reload()
            .await
            .map_err(|e| format!("cannot load the signing keys: {e}"))?;
        origin.note_algorithm_change();
        Ok(origin)
    }

    /// After `algorithm` was changed: says when the new algorithm will sign (the next key is
    /// still of the old one; SPEC §7 `algorithm`).
    fn note_algorithm_change(&self) {
        let records = self.keyring().records();
        let Some(next) = keys::next(&records) else {
            return;
        };
        let configured = self.policy.algorithm;
        if next.alg != configured {
            tracing::info!(
                configured = configured.name(),
                next = next.alg.name(),
                "algorithm changed: the next rotation makes a key of the configured algorithm, which signs one rotation interval after that; keys of both are published meanwhile"
            );
        }
    }
}
