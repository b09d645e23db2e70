//! The key operations: scheduled and manual rotation (a manual one held back while the next
//! key is not ready, unless forced), revoke, import and retirement — each one store
//! transaction through `Origin::mutate`, logged and counted — and what admins read: the key
//! table and the edges' adoption of keyset versions.

use serde_json::Value;

use super::{now_ms, Origin};
use crate::origin::adoption::{self, AdoptionReport};
use crate::origin::algorithm::Algorithm;
use crate::origin::error::ApiError;
use crate::origin::keys::{self, KeyOutcome, Policy};
use crate::origin::signing;

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

impl Origin {
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
