//! The in-memory view of the key table that a process signs and publishes with: the records
//! of one store generation with their secrets opened (decrypted once per reload, never
//! written anywhere). Replaced wholesale on every reload; readers hold an `Arc` to a snapshot.

use super::crypto_at_rest::MasterKey;
use super::keys::{effective_state, is_published, KeyRecord, KeyState, Policy};
use super::signer::{self, Material};
use super::signing::jwk::PublishedKeyset;
use super::store::KeySnapshot;

pub struct LiveKey {
    pub record: KeyRecord,
    /// The opened secret of a key that can still sign or be published (`next`, `current`,
    /// `previous`); `None` otherwise.
    pub material: Option<Material>,
}

pub struct Keyring {
    pub generation: i64,
    pub keys: Vec<LiveKey>,
}

impl Keyring {
    pub fn empty() -> Keyring {
        Keyring {
            generation: -1,
            keys: Vec::new(),
        }
    }

    /// Opens every live key's secret. A secret that will not open (wrong master key, damaged
    /// row) is an error: the process must not publish a keyset it cannot sign with.
    pub fn open(snapshot: KeySnapshot, master: &MasterKey) -> Result<Keyring, String> {
        let mut keys = Vec::with_capacity(snapshot.keys.len());
        for record in snapshot.keys {
            let material = match record.state {
                KeyState::Next | KeyState::Current | KeyState::Previous => {
                    signer::open(&record, master)?
                }
                KeyState::Retired | KeyState::Revoked => None,
            };
            keys.push(LiveKey { record, material });
        }
        Ok(Keyring {
            generation: snapshot.generation,
            keys,
        })
    }

    pub fn current(&self) -> Option<&LiveKey> {
        self.keys
            .iter()
            .find(|k| k.record.state == KeyState::Current)
    }

    pub fn records(&self) -> Vec<KeyRecord> {
        self.keys.iter().map(|k| k.record.clone()).collect()
    }

    /// The keyset published at `now`: current, next, then previous keys newest first.
    pub fn jwks(&self, now: i64, policy: &Policy) -> PublishedKeyset {
        let mut live: Vec<&LiveKey> = self
            .keys
            .iter()
            .filter(|k| is_published(&k.record, now, policy))
            .collect();
        let rank = |k: &LiveKey| match effective_state(&k.record, now, policy) {
            KeyState::Current => 0,
            KeyState::Next => 1,
            _ => 2,
        };
        live.sort_by_key(|k| {
            (
                rank(k),
                std::cmp::Reverse(k.record.deactivated_at.unwrap_or(0)),
            )
        });
        PublishedKeyset {
            keys: live
                .into_iter()
                .filter_map(|k| signer::public_jwk(&k.record, k.material.as_ref()))
                .collect(),
        }
    }
}
