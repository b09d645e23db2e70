//! The origin's operations, shared by the HTTP server and the CLI. This file owns [`Origin`],
//! the state they share (settings, secrets, store, metrics, adoption counts, the keyring), and
//! the path every key change takes: one store transaction followed by an immediate reload, so
//! the process that made a change never serves the old keyset afterwards.
//!
//! - [`open`]: startup (the store, the master key's check, the shared configuration, the
//!   first keys);
//! - [`key_operations`]: rotate, revoke, import and retire, and the key table and adoption
//!   report read out for admins.
//!
//! The session operations are in `session_service.rs`.

mod key_operations;
mod open;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use axum::http::StatusCode;

use super::adoption::Adoption;
use super::algorithm::Algorithm;
use super::config::Settings;
use super::error::ApiError;
use super::keyring::Keyring;
use super::keys::{self, KeyOutcome, Policy};
use super::metrics::Metrics;
use super::secrets::Secrets;
use super::signer;
use super::store::Store;

pub use key_operations::{ManualRotation, Trigger};

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One origin process: the state every request and task shares (behind an `Arc`).
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
}
