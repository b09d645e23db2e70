//! The origin's operations, shared by the HTTP server and the CLI: opening the store and the
//! secrets at startup, and the key operations (each one store transaction followed by an
//! immediate reload, so the process that made a change never serves the old keyset
//! afterwards). The session operations are in `session_service.rs`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use axum::http::StatusCode;
use serde_json::Value;

use super::adoption::{self, Adoption, AdoptionReport};
use super::algorithm::Algorithm;
use super::config::{Database, Settings};
use super::crypto_at_rest::{MASTER_CHECK_AAD, MASTER_CHECK_PLAINTEXT};
use super::error::ApiError;
use super::keyring::Keyring;
use super::keys::{self, KeyOutcome, Policy};
use super::metrics::Metrics;
use super::secrets::{self, Secrets};
use super::store::{postgres::PostgresStore, sqlite::SqliteStore, Store};
use super::{shared_config, signer, signing};
use crate::core::b64url_encode;

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What started a rotation (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Scheduled,
    Manual,
}

/// The choices of a manual rotation (`POST /keys/rotate`, `keys rotate`).
#[derive(Debug, Clone, Default)]
pub struct ManualRotation {
    /// Rotate only if this kid is still current.
    pub expect_current: Option<String>,
    /// The algorithm of the fresh next key, instead of the configured one.
    pub algorithm: Option<Algorithm>,
    /// Rotate even if the next key is not ready (adoption.rs), and promote a next key of
    /// another algorithm even if it has been published for less than one keyset max-age.
    pub force: bool,
}

pub struct Origin {
    pub settings: Settings,
    pub secrets: Secrets,
    pub issuer: String,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub policy: Policy,
    /// Settings whose value came from the shared database (`config print`'s `database`).
    pub adopted: Vec<&'static str>,
    /// Which keyset versions edges present, over one keyset max-age (in memory, this process).
    pub adoption: Adoption,
    keyring: RwLock<Arc<Keyring>>,
    /// When the store last answered (Unix ms), for /healthz.
    last_store_ok: AtomicI64,
}

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

    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store_ok(&self) {
        self.last_store_ok.store(now_ms(), Ordering::Relaxed);
    }

    pub(super) fn store_failed<E: Into<ApiError>>(&self, e: E) -> ApiError {
        self.metrics.store_errors.inc();
        e.into()
    }

    /// Milliseconds since the store last answered.
    pub fn store_silence_ms(&self) -> i64 {
        now_ms() - self.last_store_ok.load(Ordering::Relaxed)
    }

    /// Loads the key table and swaps the keyring (never back to an older generation).
    pub async fn reload(&self) -> Result<(), ApiError> {
        let snapshot = self
            .store
            .load_keys()
            .await
            .map_err(|e| self.store_failed(e))?;
        self.store_ok();
        let ring = Keyring::open(snapshot, &self.secrets.master_key).map_err(|e| {
            tracing::error!(error = %e, "cannot open signing keys");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "cannot open signing keys",
            )
        })?;
        let mut slot = self.keyring.write().unwrap_or_else(|p| p.into_inner());
        if ring.generation >= slot.generation {
            *slot = Arc::new(ring);
        }
        Ok(())
    }

    /// Reloads when another process (a replica, the CLI) changed the keys.
    pub async fn reload_if_changed(&self) -> Result<bool, ApiError> {
        let generation = self
            .store
            .key_generation()
            .await
            .map_err(|e| self.store_failed(e))?;
        self.store_ok();
        if generation != self.keyring().generation {
            self.reload().await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Before signing: if the scheduler has not confirmed the keyring against the store for
    /// half the propagation bound (a stalled task, a flaky database), check now. A process
    /// that cannot reach the store does not sign, since it could not know of a revoke.
    pub(super) async fn ensure_fresh(&self) -> Result<(), ApiError> {
        if self.store_silence_ms() > (super::PROPAGATION_BOUND.as_millis() / 2) as i64 {
            self.reload_if_changed().await?;
        }
        Ok(())
    }

    /// Runs a lifecycle step in one store transaction, then reloads.
    async fn mutate<F>(&self, step: F) -> Result<KeyOutcome, ApiError>
    where
        F: FnOnce(
                &mut Vec<keys::KeyRecord>,
                i64,
                &Policy,
                &mut keys::KeyFactory<'_>,
            ) -> Result<KeyOutcome, keys::KeyError>
            + Send
            + 'static,
    {
        self.mutate_making(None, step).await
    }

    /// [`Self::mutate`] for a step that may make a key of `alg`. An RSA key takes ~0.1 s to
    /// generate: it is made beforehand, on a blocking thread and outside the transaction (which
    /// holds the key lock), and handed to the step's first request for an RSA key.
    async fn mutate_making<F>(
        &self,
        alg: Option<Algorithm>,
        step: F,
    ) -> Result<KeyOutcome, ApiError>
    where
        F: FnOnce(
                &mut Vec<keys::KeyRecord>,
                i64,
                &Policy,
                &mut keys::KeyFactory<'_>,
            ) -> Result<KeyOutcome, keys::KeyError>
            + Send
            + 'static,
    {
        let master = self.secrets.master_key.clone();
        let policy = self.policy;
        let mut ready = match alg.filter(|a| *a == Algorithm::Rs256) {
            Some(a) => {
                let m = master.clone();
                let made = tokio::task::spawn_blocking(move || signer::generate(a, &m))
                    .await
                    .map_err(|_| {
                        ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "internal",
                            "key generation failed",
                        )
                    })??;
                Some(made)
            }
            None => None,
        };
        let outcome = self
            .store
            .mutate_keys(Box::new(move |keys| {
                let mut factory = |alg| match ready.take() {
                    Some(key) if key.alg == alg => Ok(key),
                    _ => signer::generate(alg, &master),
                };
                // The clock is read inside the transaction, after any lock wait.
                step(keys, now_ms(), &policy, &mut factory)
            }))
            .await;
        let outcome = match outcome {
            Err(super::store::StoreError::Key(e)) => return Err(e.into()),
            Err(e) => return Err(self.store_failed(e)),
            Ok(o) => o,
        };
        self.store_ok();
        if outcome != KeyOutcome::Unchanged {
            self.reload().await?;
        }
        Ok(outcome)
    }

    pub async fn rotate(
        &self,
        expect_current: Option<String>,
        trigger: Trigger,
    ) -> Result<KeyOutcome, ApiError> {
        match trigger {
            Trigger::Manual => {
                let manual = ManualRotation {
                    expect_current,
                    ..ManualRotation::default()
                };
                self.rotate_manually(manual).await
            }
            Trigger::Scheduled => self.rotate_step(None, trigger).await,
        }
    }

    /// A manual rotation: refused (409 `next_key_too_new`) when it would start signing with a
    /// key of another algorithm published for less than `keyset_max_age`, and (409
    /// `next_key_not_ready`) while the next key is not ready (adoption.rs), unless forced.
    /// Scheduled rotations are not held back: the schedule already publishes the next key a
    /// whole interval ahead.
    pub async fn rotate_manually(&self, manual: ManualRotation) -> Result<KeyOutcome, ApiError> {
        self.rotate_step(Some(manual), Trigger::Manual).await
    }

    async fn rotate_step(
        &self,
        manual: Option<ManualRotation>,
        trigger: Trigger,
    ) -> Result<KeyOutcome, ApiError> {
        let min_published_ms = self.adoption.window_ms();
        let outcome = match manual {
            Some(m) => {
                let alg = m.algorithm.unwrap_or(self.policy.algorithm);
                // What edges presented, read before the transaction; the published-time part
                // is judged inside it, on the stored next key.
                let seen = self.adoption.seen(now_ms());
                self.mutate_making(Some(alg), move |keys, now, policy, factory| {
                    if !m.force {
                        // Someone else rotated first: that answer wins over any wait.
                        keys::check_expect_current(keys, m.expect_current.as_deref())?;
                        keys::check_manual_rotation(keys, now, min_published_ms)?;
                        let ready =
                            adoption::readiness(keys::next(keys), now, min_published_ms, &seen);
                        if let (false, Some(kid), Some(at)) =
                            (ready.ready, ready.next_kid, ready.ready_at_ms)
                        {
                            return Err(keys::KeyError::NextNotReady {
                                kid,
                                ready_at_ms: at,
                                wait_ms: at.saturating_sub(now),
                                reason: ready.reason.unwrap_or_default(),
                            });
                        }
                    }
                    let policy = Policy {
                        algorithm: m.algorithm.unwrap_or(policy.algorithm),
                        ..*policy
                    };
                    keys::rotate(keys, now, &policy, factory, m.expect_current.as_deref())
                })
                .await?
            }
            None => {
                let alg = self.policy.algorithm;
                self.mutate_making(Some(alg), |keys, now, policy, factory| {
                    keys::rotate_if_due(keys, now, policy, factory)
                })
                .await?
            }
        };
        if let KeyOutcome::Rotated {
            previous,
            current,
            next,
        } = &outcome
        {
            match trigger {
                Trigger::Manual => self.metrics.rotations_manual.inc(),
                Trigger::Scheduled => self.metrics.rotations_scheduled.inc(),
            }
            tracing::info!(
                trigger = ?trigger,
                previous = previous.as_deref().unwrap_or("-"),
                current = %current,
                next = %next,
                "signing key rotated"
            );
        }
        Ok(outcome)
    }

    pub async fn revoke_key(&self, kid: String) -> Result<KeyOutcome, ApiError> {
        let outcome = self
            .mutate_making(
                Some(self.policy.algorithm),
                move |keys, now, policy, factory| keys::revoke(keys, &kid, now, policy, factory),
            )
            .await?;
        if let KeyOutcome::Revoked {
            kid,
            was,
            current,
            next,
        } = &outcome
        {
            if *was != keys::KeyState::Revoked {
                self.metrics.revocations.inc();
            }
            tracing::warn!(kid = %kid, was = was.name(), current = %current, next = %next, "signing key revoked");
        }
        Ok(outcome)
    }

    /// Installs a private key (JWK, one-key JWKS or PEM: `signing::import`) as the current
    /// key. A key of another algorithm than the current one changes what edges must accept:
    /// refused (409 `algorithm_change`, with what would change) unless `force`.
    pub async fn import_key(&self, jwk_json: String, force: bool) -> Result<KeyOutcome, ApiError> {
        let alg = signing::import::algorithm(&jwk_json)?;
        let current = self.keyring().current().map(|k| k.record.alg);
        if let Some(current) = current.filter(|c| *c != alg && !force) {
            return Err(keys::KeyError::AlgorithmChange(
                self.algorithm_change_notice(current, alg),
            )
            .into());
        }
        let new = signing::import::read(&jwk_json, &self.secrets.master_key)?;
        let outcome = self
            .mutate(move |keys, now, policy, factory| keys::import(keys, new, now, policy, factory))
            .await?;
        if let KeyOutcome::Imported { kid, previous } = &outcome {
            self.metrics.imports.inc();
            tracing::info!(kid = %kid, previous = previous.as_deref().unwrap_or("-"), "signing key imported as current");
        }
        Ok(outcome)
    }

    /// What importing a key of `to` changes for an origin signing with `from`.
    fn algorithm_change_notice(&self, from: Algorithm, to: Algorithm) -> String {
        let mut notice = format!(
            "this key is {to} but the current key is {from}: importing it makes {to} sign from \
             now on (tokens signed with {from} keep verifying until they expire); every edge \
             must accept {to}"
        );
        if to.is_symmetric() {
            notice.push_str(
                ", and an HS256 key is published only to the edge credential: edges that fetch \
                 the keyset without it cannot verify the new tokens",
            );
        }
        if self.policy.algorithm != to {
            notice.push_str(&format!(
                "; the next key stays {}, the configured algorithm, so the rotation after next \
                 signs with {} again unless `algorithm` is changed too",
                self.policy.algorithm, self.policy.algorithm
            ));
        }
        notice.push_str(". Repeat with --force to import it.");
        notice
    }

    pub async fn retire_due(&self) -> Result<KeyOutcome, ApiError> {
        let outcome = self
            .mutate(|keys, now, policy, _| Ok(keys::retire_due(keys, now, policy)))
            .await?;
        if let KeyOutcome::Retired(kids) = &outcome {
            for kid in kids {
                self.metrics.retirements.inc();
                tracing::info!(kid = %kid, "signing key retired");
            }
        }
        Ok(outcome)
    }

    /// The keyset version served now to an edge that receives every published key: its ETag
    /// and its kids.
    pub fn keyset_version(&self, now: i64) -> (String, Vec<String>) {
        let keyset = self.keyring().jwks(now, &self.policy);
        let body = serde_json::to_vec(&keyset).expect("a JWKS serializes");
        let kids = keyset.keys.into_iter().map(|k| k.kid).collect();
        (adoption::version_tag(&body), kids)
    }

    /// `GET /keys/adoption`: what edges present and whether the next key is ready.
    pub fn adoption_report(&self, now: i64) -> AdoptionReport {
        let (etag, kids) = self.keyset_version(now);
        let records = self.keyring().records();
        self.adoption
            .report(now, &etag, &kids, keys::next(&records))
    }

    /// The key table with states and times, for `GET /keys` and `keys list`.
    pub fn key_listing(&self, now: i64) -> Value {
        let ring = self.keyring();
        // Whole Unix seconds, as documented (SPEC §7): integers, never fractions.
        let secs = |ms: Option<i64>| ms.map(|m| m.div_euclid(1000));
        let keys: Vec<Value> = ring
            .keys
            .iter()
            .rev()
            .map(|k| {
                let r = &k.record;
                serde_json::json!({
                    "kid": r.kid,
                    "alg": r.alg.name(),
                    "state": keys::effective_state(r, now, &self.policy).name(),
                    "published": keys::is_published(r, now, &self.policy),
                    "created_at": secs(Some(r.created_at)),
                    "activated_at": secs(r.activated_at),
                    "deactivated_at": secs(r.deactivated_at),
                    "retires_at": secs(keys::retires_at(r, &self.policy)),
                    "revoked_at": secs(r.revoked_at),
                })
            })
            .collect();
        let records = ring.records();
        serde_json::json!({
            "current": keys::current(&records).map(|k| k.kid.clone()),
            "next": keys::next(&records).map(|k| k.kid.clone()),
            "next_rotation_at": secs(keys::rotation_due_at(&records, &self.policy)),
            "rotation_interval_seconds": self.settings.rotation_interval.map(|d| d.as_secs()),
            "generation": ring.generation,
            "keys": keys,
        })
    }
}
