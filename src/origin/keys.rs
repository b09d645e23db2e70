//! The signing-key lifecycle of SPEC §7 as a pure state machine: `next` → `current` →
//! `previous` → `retired`, and any of them → `revoked`. No I/O and no clock: every operation
//! takes `now` (Unix milliseconds) and a factory for fresh key material, and edits a list of
//! [`KeyRecord`]s. The stores run one operation per database transaction and write back the
//! difference ([`diff`]), so a crash leaves either the old table or the new one.

use super::algorithm::Algorithm;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Published, not yet signing: edges learn it one rotation interval before it signs.
    Next,
    /// The one key that signs.
    Current,
    /// Stopped signing; published until its last token has expired.
    Previous,
    /// No longer published; its secret is erased.
    Retired,
    /// Withdrawn in an emergency; never published again; its secret is erased.
    Revoked,
}

impl KeyState {
    pub const fn name(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Previous => "previous",
            KeyState::Retired => "retired",
            KeyState::Revoked => "revoked",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyState> {
        Some(match name {
            "next" => KeyState::Next,
            "current" => KeyState::Current,
            "previous" => KeyState::Previous,
            "retired" => KeyState::Retired,
            "revoked" => KeyState::Revoked,
            _ => return None,
        })
    }

    pub const ALL: [KeyState; 5] = [
        KeyState::Next,
        KeyState::Current,
        KeyState::Previous,
        KeyState::Retired,
        KeyState::Revoked,
    ];
}

/// One signing key as stored. Times are Unix milliseconds.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub kid: String,
    pub alg: Algorithm,
    pub state: KeyState,
    pub created_at: i64,
    /// When it became `current`.
    pub activated_at: Option<i64>,
    /// When it stopped signing (became `previous`, or was revoked while current).
    pub deactivated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Ed25519 public key (32 bytes); empty for HMAC keys, whose only material is secret.
    pub public_key: Vec<u8>,
    /// The private key or HMAC secret, sealed with the master key. `None` once retired or
    /// revoked: a key that can never sign again keeps no secret.
    pub sealed_secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for KeyRecord {
    // The sealed secret is ciphertext, but there is no reason to print it either.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("deactivated_at", &self.deactivated_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// Fresh key material from a [`KeyFactory`] (generated, or imported by the user).
pub struct NewKey {
    pub kid: String,
    pub alg: Algorithm,
    pub public_key: Vec<u8>,
    pub sealed_secret: Vec<u8>,
}

/// Makes fresh key material of an algorithm. Real: random keys sealed with the master key.
pub type KeyFactory<'a> = dyn FnMut(Algorithm) -> Result<NewKey, KeyError> + 'a;

/// The settings the lifecycle depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Algorithm of newly generated keys.
    pub algorithm: Algorithm,
    /// Scheduled rotation; `None` is `rotation_interval = "off"`.
    pub rotation_interval_ms: Option<i64>,
    /// How long a `previous` key stays published after it stopped signing:
    /// access-token TTL + leeway + the replica propagation bound.
    pub retire_after_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    NotFound(String),
    CurrentChanged {
        expected: String,
        actual: String,
    },
    DuplicateKid(String),
    Material(String),
    /// A manual rotation would start signing with a key of another algorithm that has been
    /// published for less than one keyset max-age: edges may not have it yet.
    NextTooNew {
        kid: String,
        alg: Algorithm,
        wait_ms: i64,
    },
    /// An import would change the signing algorithm; the message says what changes.
    AlgorithmChange(String),
    /// A manual rotation before the next key is ready (adoption.rs): published for less than
    /// one keyset max-age, or edges still presented a keyset version without it.
    NextNotReady {
        kid: String,
        /// Unix milliseconds at which it will be ready if no edge presents an older version.
        ready_at_ms: i64,
        wait_ms: i64,
        reason: String,
    },
}

impl KeyError {
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::NotFound(_) => "key_not_found",
            KeyError::CurrentChanged { .. } => "current_changed",
            KeyError::DuplicateKid(_) => "duplicate_kid",
            KeyError::Material(_) => "invalid_key",
            KeyError::NextTooNew { .. } => "next_key_too_new",
            KeyError::AlgorithmChange(_) => "algorithm_change",
            KeyError::NextNotReady { .. } => "next_key_not_ready",
        }
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::NotFound(kid) => write!(f, "no key with kid {kid:?}"),
            KeyError::CurrentChanged { expected, actual } => write!(
                f,
                "the current key is {actual:?}, not {expected:?}: someone else rotated first"
            ),
            KeyError::DuplicateKid(kid) => write!(f, "a key with kid {kid:?} already exists"),
            KeyError::Material(msg) => f.write_str(msg),
            KeyError::NextTooNew { kid, alg, wait_ms } => write!(
                f,
                "the next key {kid:?} ({alg}) would change the signing algorithm but has been \
                 published for less than keyset_max_age: edges may not have it yet; retry in \
                 {}s, or force it",
                (wait_ms + 999) / 1000
            ),
            KeyError::AlgorithmChange(msg) => f.write_str(msg),
            KeyError::NextNotReady {
                kid,
                ready_at_ms,
                wait_ms,
                reason,
            } => {
                let at = ready_at_ms.div_euclid(1000) + i64::from(ready_at_ms.rem_euclid(1000) > 0);
                let utc = std::time::UNIX_EPOCH
                    .checked_add(std::time::Duration::from_secs(at.max(0) as u64))
                    .map(humantime::format_rfc3339_seconds);
                write!(
                    f,
                    "the next key {kid:?} is not ready: {reason}; it is ready at {at} (Unix \
                     seconds{}, in {}s) if no edge presents an older keyset version meanwhile; \
                     retry then, or force it (`?force=true`, `\"force\": true`, `--force`)",
                    utc.map(|t| format!(", {t}")).unwrap_or_default(),
                    (wait_ms + 999) / 1000
                )
            }
        }
    }
}

/// What one operation did, for responses, logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    Unchanged,
    Initialized {
        current: String,
        next: String,
    },
    Rotated {
        previous: Option<String>,
        current: String,
        next: String,
    },
    Revoked {
        kid: String,
        was: KeyState,
        current: String,
        next: String,
    },
    Imported {
        kid: String,
        previous: Option<String>,
    },
    Retired(Vec<String>),
}

fn find(keys: &[KeyRecord], state: KeyState) -> Option<usize> {
    keys.iter().position(|k| k.state == state)
}

pub fn current(keys: &[KeyRecord]) -> Option<&KeyRecord> {
    keys.iter().find(|k| k.state == KeyState::Current)
}

pub fn next(keys: &[KeyRecord]) -> Option<&KeyRecord> {
    keys.iter().find(|k| k.state == KeyState::Next)
}

fn create(
    keys: &mut Vec<KeyRecord>,
    state: KeyState,
    now: i64,
    alg: Algorithm,
    factory: &mut KeyFactory<'_>,
) -> Result<String, KeyError> {
    let new = factory(alg)?;
    if keys.iter().any(|k| k.kid == new.kid) {
        return Err(KeyError::DuplicateKid(new.kid));
    }
    let kid = new.kid.clone();
    keys.push(KeyRecord {
        kid: new.kid,
        alg: new.alg,
        state,
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        deactivated_at: None,
        revoked_at: None,
        public_key: new.public_key,
        sealed_secret: Some(new.sealed_secret),
    });
    Ok(kid)
}

fn demote_current(keys: &mut [KeyRecord], now: i64) -> Option<String> {
    let i = find(keys, KeyState::Current)?;
    keys[i].state = KeyState::Previous;
    keys[i].deactivated_at = Some(now);
    Some(keys[i].kid.clone())
}

/// `next` → `current` (or a fresh current when there is no next); then a fresh `next`.
fn promote_next_and_refill(
    keys: &mut Vec<KeyRecord>,
    now: i64,
    policy: &Policy,
    factory: &mut KeyFactory<'_>,
) -> Result<(String, String), KeyError> {
    let current = match find(keys, KeyState::Next) {
        Some(i) => {
            keys[i].state = KeyState::Current;
            keys[i].activated_at = Some(now);
            keys[i].kid.clone()
        }
        None => create(keys, KeyState::Current, now, policy.algorithm, factory)?,
    };
    let next = create(keys, KeyState::Next, now, policy.algorithm, factory)?;
    Ok((current, next))
}

/// Repairs the invariant "exactly one `current` and exactly one `next`": creates them on first
/// start, and resolves duplicates (which no operation here produces) conservatively.
pub fn ensure_ready(
    keys: &mut Vec<KeyRecord>,
    now: i64,
    policy: &Policy,
    factory: &mut KeyFactory<'_>,
) -> Result<KeyOutcome, KeyError> {
    let mut changed = false;
    // More than one current: keep the most recently activated, the others stop signing.
    let mut currents: Vec<usize> = (0..keys.len())
        .filter(|&i| keys[i].state == KeyState::Current)
        .collect();
    if currents.len() > 1 {
        currents.sort_by_key(|&i| keys[i].activated_at.unwrap_or(keys[i].created_at));
        for &i in &currents[..currents.len() - 1] {
            keys[i].state = KeyState::Previous;
            keys[i].deactivated_at = Some(now);
        }
        changed = true;
    }
    // More than one next: keep the newest; the others never signed, so they retire at once.
    let mut nexts: Vec<usize> = (0..keys.len())
        .filter(|&i| keys[i].state == KeyState::Next)
        .collect();
    if nexts.len() > 1 {
        nexts.sort_by_key(|&i| keys[i].created_at);
        for &i in &nexts[..nexts.len() - 1] {
            keys[i].state = KeyState::Retired;
            keys[i].sealed_secret = None;
        }
        changed = true;
    }
    if find(keys, KeyState::Current).is_none() {
        match find(keys, KeyState::Next) {
            Some(i) => {
                keys[i].state = KeyState::Current;
                keys[i].activated_at = Some(now);
            }
            None => {
                create(keys, KeyState::Current, now, policy.algorithm, factory)?;
            }
        }
        changed = true;
    }
    if find(keys, KeyState::Next).is_none() {
        create(keys, KeyState::Next, now, policy.algorithm, factory)?;
        changed = true;
    }
    if !changed {
        return Ok(KeyOutcome::Unchanged);
    }
    Ok(KeyOutcome::Initialized {
        current: current(keys).map(|k| k.kid.clone()).unwrap_or_default(),
        next: next(keys).map(|k| k.kid.clone()).unwrap_or_default(),
    })
}

/// One rotation step: `current` → `previous`, `next` → `current`, a fresh `next`.
/// With `expect_current`, rotates only if that kid is still current (conditional rotation:
/// of two replicas racing on the same observation, exactly one rotates).
pub fn rotate(
    keys: &mut Vec<KeyRecord>,
    now: i64,
    policy: &Policy,
    factory: &mut KeyFactory<'_>,
    expect_current: Option<&str>,
) -> Result<KeyOutcome, KeyError> {
    check_expect_current(keys, expect_current)?;
    ensure_ready(keys, now, policy, factory)?;
    let previous = demote_current(keys, now);
    let (current, next) = promote_next_and_refill(keys, now, policy, factory)?;
    Ok(KeyOutcome::Rotated {
        previous,
        current,
        next,
    })
}

/// With `expect_current`: `current_changed` unless that kid is still current.
pub fn check_expect_current(
    keys: &[KeyRecord],
    expect_current: Option<&str>,
) -> Result<(), KeyError> {
    if let Some(expected) = expect_current {
        let actual = current(keys).map(|k| k.kid.clone()).unwrap_or_default();
        if actual != expected {
            return Err(KeyError::CurrentChanged {
                expected: expected.to_string(),
                actual,
            });
        }
    }
    Ok(())
}

/// When the current key is due to stop signing, if scheduled rotation is on: one interval
/// after it started signing, and never before the next key has been published for a full
/// interval (it is normally made at the previous rotation; a next key made later, by a revoke
/// or an algorithm change, waits its interval so every edge has it before it signs).
pub fn rotation_due_at(keys: &[KeyRecord], policy: &Policy) -> Option<i64> {
    let interval = policy.rotation_interval_ms?;
    let cur = current(keys)?;
    let due = cur
        .activated_at
        .unwrap_or(cur.created_at)
        .saturating_add(interval);
    let published = next(keys).map_or(due, |n| n.created_at.saturating_add(interval));
    Some(due.max(published))
}

/// Before a manual rotation: a next key of another algorithm than the current one must have
/// been published for at least `min_published_ms` (one keyset max-age, so every edge that
/// revalidates on schedule has it, and a verifier that pins algorithms meets it in the keyset
/// before any token). Same-algorithm rotations are not held back: an edge that meets an
/// unknown kid refetches.
pub fn check_manual_rotation(
    keys: &[KeyRecord],
    now: i64,
    min_published_ms: i64,
) -> Result<(), KeyError> {
    let (Some(cur), Some(nxt)) = (current(keys), next(keys)) else {
        return Ok(());
    };
    let published_ms = now.saturating_sub(nxt.created_at);
    if nxt.alg != cur.alg && published_ms < min_published_ms {
        return Err(KeyError::NextTooNew {
            kid: nxt.kid.clone(),
            alg: nxt.alg,
            wait_ms: min_published_ms - published_ms,
        });
    }
    Ok(())
}

/// The scheduled rotation, if due. Re-checked inside the transaction, so of several replicas
/// that all saw it due, only the first rotates: the others then see a fresh current key.
pub fn rotate_if_due(
    keys: &mut Vec<KeyRecord>,
    now: i64,
    policy: &Policy,
    factory: &mut KeyFactory<'_>,
) -> Result<KeyOutcome, KeyError> {
    match rotation_due_at(keys, policy) {
        Some(due) if due <= now => rotate(keys, now, policy, factory, None),
        _ => Ok(KeyOutcome::Unchanged),
    }
}

/// Emergency revoke: the key leaves the keyset at once and its secret is erased. If it was
/// `current`, `next` signs from now on and a fresh `next` is made; if it was `next`, a fresh one.
/// Revoking a revoked key changes nothing.
pub fn revoke(
    keys: &mut Vec<KeyRecord>,
    kid: &str,
    now: i64,
    policy: &Policy,
    factory: &mut KeyFactory<'_>,
) -> Result<KeyOutcome, KeyError> {
    let i = keys
        .iter()
        .position(|k| k.kid == kid)
        .ok_or_else(|| KeyError::NotFound(kid.to_string()))?;
    let was = keys[i].state;
    if was != KeyState::Revoked {
        keys[i].state = KeyState::Revoked;
        keys[i].revoked_at = Some(now);
        keys[i].sealed_secret = None;
        if was == KeyState::Current {
            keys[i].deactivated_at = Some(now);
        }
    }
    match was {
        KeyState::Current => {
            promote_next_and_refill(keys, now, policy, factory)?;
        }
        _ => {
            ensure_ready(keys, now, policy, factory)?;
        }
    }
    Ok(KeyOutcome::Revoked {
        kid: kid.to_string(),
        was,
        current: current(keys).map(|k| k.kid.clone()).unwrap_or_default(),
        next: next(keys).map(|k| k.kid.clone()).unwrap_or_default(),
    })
}

/// Installs a user-supplied key as `current`; the old current becomes `previous`, `next` stays.
pub fn import(
    keys: &mut Vec<KeyRecord>,
    new: NewKey,
    now: i64,
    policy: &Policy,
    factory: &mut KeyFactory<'_>,
) -> Result<KeyOutcome, KeyError> {
    if keys.iter().any(|k| k.kid == new.kid) {
        return Err(KeyError::DuplicateKid(new.kid));
    }
    let previous = demote_current(keys, now);
    let kid = new.kid.clone();
    keys.push(KeyRecord {
        kid: new.kid,
        alg: new.alg,
        state: KeyState::Current,
        created_at: now,
        activated_at: Some(now),
        deactivated_at: None,
        revoked_at: None,
        public_key: new.public_key,
        sealed_secret: Some(new.sealed_secret),
    });
    ensure_ready(keys, now, policy, factory)?;
    Ok(KeyOutcome::Imported { kid, previous })
}

/// When a key stops being published, if it is `previous`.
pub fn retires_at(key: &KeyRecord, policy: &Policy) -> Option<i64> {
    match key.state {
        KeyState::Previous => Some(
            key.deactivated_at
                .unwrap_or(key.created_at)
                .saturating_add(policy.retire_after_ms),
        ),
        _ => None,
    }
}

/// The state a key is in at `now`: a `previous` key past its retirement time is `retired` even
/// before the housekeeping step has written that down.
pub fn effective_state(key: &KeyRecord, now: i64, policy: &Policy) -> KeyState {
    match retires_at(key, policy) {
        Some(at) if at <= now => KeyState::Retired,
        _ => key.state,
    }
}

/// Published at `now`: `next`, `current`, and `previous` until it retires. Never `revoked`.
pub fn is_published(key: &KeyRecord, now: i64, policy: &Policy) -> bool {
    matches!(
        effective_state(key, now, policy),
        KeyState::Next | KeyState::Current | KeyState::Previous
    )
}

/// Housekeeping: `previous` keys whose last token has expired become `retired` and lose their
/// secret.
pub fn retire_due(keys: &mut [KeyRecord], now: i64, policy: &Policy) -> KeyOutcome {
    let mut retired = Vec::new();
    for key in keys.iter_mut() {
        if key.state == KeyState::Previous && effective_state(key, now, policy) == KeyState::Retired
        {
            key.state = KeyState::Retired;
            key.sealed_secret = None;
            retired.push(key.kid.clone());
        }
    }
    if retired.is_empty() {
        KeyOutcome::Unchanged
    } else {
        KeyOutcome::Retired(retired)
    }
}

/// The next moment at which retirement housekeeping has something to do.
pub fn next_retirement_at(keys: &[KeyRecord], policy: &Policy) -> Option<i64> {
    keys.iter().filter_map(|k| retires_at(k, policy)).min()
}

/// What changed between two versions of the table: keys to insert, keys to update.
pub fn diff<'a>(
    before: &[KeyRecord],
    after: &'a [KeyRecord],
) -> (Vec<&'a KeyRecord>, Vec<&'a KeyRecord>) {
    let mut inserted = Vec::new();
    let mut updated = Vec::new();
    for key in after {
        match before.iter().find(|b| b.kid == key.kid) {
            None => inserted.push(key),
            Some(old) if old != key => updated.push(key),
            Some(_) => {}
        }
    }
    (inserted, updated)
}

/// A `next` EdDSA key record made at `created_at`, for the tests of the modules that judge keys.
#[cfg(test)]
pub(crate) fn next_key_for_tests(kid: &str, created_at: i64) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        alg: Algorithm::EdDsa,
        state: KeyState::Next,
        created_at,
        activated_at: None,
        deactivated_at: None,
        revoked_at: None,
        public_key: vec![0; 32],
        sealed_secret: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            algorithm: Algorithm::EdDsa,
            rotation_interval_ms: Some(10_000),
            retire_after_ms: 3_000,
        }
    }

    fn factory() -> impl FnMut(Algorithm) -> Result<NewKey, KeyError> {
        let mut n = 0;
        move |alg| {
            n += 1;
            Ok(NewKey {
                kid: format!("k{n}"),
                alg,
                public_key: vec![n as u8; 32],
                sealed_secret: vec![n as u8; 48],
            })
        }
    }

    fn states(keys: &[KeyRecord]) -> Vec<(String, KeyState)> {
        keys.iter().map(|k| (k.kid.clone(), k.state)).collect()
    }

    fn invariant(keys: &[KeyRecord]) {
        assert_eq!(
            keys.iter().filter(|k| k.state == KeyState::Current).count(),
            1
        );
        assert_eq!(keys.iter().filter(|k| k.state == KeyState::Next).count(), 1);
        for k in keys {
            if matches!(k.state, KeyState::Retired | KeyState::Revoked) {
                assert!(k.sealed_secret.is_none(), "{} keeps a secret", k.kid);
            }
        }
    }

    #[test]
    fn first_start_creates_current_and_next_then_is_stable() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        let out = ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        assert_eq!(
            out,
            KeyOutcome::Initialized {
                current: "k1".into(),
                next: "k2".into()
            }
        );
        invariant(&keys);
        assert_eq!(
            ensure_ready(&mut keys, 5, &p, &mut f).unwrap(),
            KeyOutcome::Unchanged
        );
    }

    #[test]
    fn rotation_walks_the_lifecycle_and_retires_after_ttl_plus_leeway() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        assert_eq!(rotation_due_at(&keys, &p), Some(10_000));
        assert_eq!(
            rotate_if_due(&mut keys, 9_999, &p, &mut f).unwrap(),
            KeyOutcome::Unchanged
        );
        let out = rotate_if_due(&mut keys, 10_000, &p, &mut f).unwrap();
        assert_eq!(
            out,
            KeyOutcome::Rotated {
                previous: Some("k1".into()),
                current: "k2".into(),
                next: "k3".into()
            }
        );
        invariant(&keys);
        // A second replica re-checking inside its own transaction finds nothing due.
        assert_eq!(
            rotate_if_due(&mut keys, 10_001, &p, &mut f).unwrap(),
            KeyOutcome::Unchanged
        );
        let k1 = keys.iter().find(|k| k.kid == "k1").unwrap().clone();
        assert!(is_published(&k1, 12_999, &p));
        assert!(!is_published(&k1, 13_000, &p));
        assert_eq!(effective_state(&k1, 13_000, &p), KeyState::Retired);
        assert_eq!(next_retirement_at(&keys, &p), Some(13_000));
        assert_eq!(retire_due(&mut keys, 12_999, &p), KeyOutcome::Unchanged);
        assert_eq!(
            retire_due(&mut keys, 13_000, &p),
            KeyOutcome::Retired(vec!["k1".into()])
        );
        invariant(&keys);
        assert_eq!(
            states(&keys),
            vec![
                ("k1".into(), KeyState::Retired),
                ("k2".into(), KeyState::Current),
                ("k3".into(), KeyState::Next)
            ]
        );
    }

    #[test]
    fn scheduled_rotation_off_never_rotates() {
        let p = Policy {
            rotation_interval_ms: None,
            ..policy()
        };
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        assert_eq!(rotation_due_at(&keys, &p), None);
        assert_eq!(
            rotate_if_due(&mut keys, i64::MAX, &p, &mut f).unwrap(),
            KeyOutcome::Unchanged
        );
        // Manual rotation still works.
        assert!(matches!(
            rotate(&mut keys, 1, &p, &mut f, None).unwrap(),
            KeyOutcome::Rotated { .. }
        ));
    }

    #[test]
    fn conditional_rotation_rotates_once() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        rotate(&mut keys, 1, &p, &mut f, Some("k1")).unwrap();
        let err = rotate(&mut keys, 2, &p, &mut f, Some("k1")).unwrap_err();
        assert_eq!(
            err,
            KeyError::CurrentChanged {
                expected: "k1".into(),
                actual: "k2".into()
            }
        );
        assert_eq!(err.code(), "current_changed");
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn revoking_current_promotes_next_and_erases_the_secret() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        let out = revoke(&mut keys, "k1", 50, &p, &mut f).unwrap();
        assert_eq!(
            out,
            KeyOutcome::Revoked {
                kid: "k1".into(),
                was: KeyState::Current,
                current: "k2".into(),
                next: "k3".into()
            }
        );
        invariant(&keys);
        let k1 = &keys[0];
        assert!(!is_published(k1, 50, &p));
        assert_eq!(k1.revoked_at, Some(50));
        // Idempotent.
        let before = keys.clone();
        revoke(&mut keys, "k1", 60, &p, &mut f).unwrap();
        assert_eq!(keys, before);
        // The new current was activated at the revoke: the schedule restarts from it.
        assert_eq!(rotation_due_at(&keys, &p), Some(10_050));
    }

    #[test]
    fn revoking_next_or_previous() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        revoke(&mut keys, "k2", 1, &p, &mut f).unwrap();
        invariant(&keys);
        assert_eq!(next(&keys).unwrap().kid, "k3");
        assert_eq!(current(&keys).unwrap().kid, "k1");
        rotate(&mut keys, 2, &p, &mut f, None).unwrap();
        revoke(&mut keys, "k1", 3, &p, &mut f).unwrap();
        invariant(&keys);
        assert_eq!(current(&keys).unwrap().kid, "k3");
        assert_eq!(
            revoke(&mut keys, "nope", 4, &p, &mut f).unwrap_err(),
            KeyError::NotFound("nope".into())
        );
    }

    #[test]
    fn import_installs_current_and_keeps_next() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        let new = NewKey {
            kid: "mine".into(),
            alg: Algorithm::Hs256,
            public_key: vec![],
            sealed_secret: vec![1; 48],
        };
        let out = import(&mut keys, new, 7, &p, &mut f).unwrap();
        assert_eq!(
            out,
            KeyOutcome::Imported {
                kid: "mine".into(),
                previous: Some("k1".into())
            }
        );
        invariant(&keys);
        assert_eq!(current(&keys).unwrap().kid, "mine");
        assert_eq!(next(&keys).unwrap().kid, "k2");
        let dup = NewKey {
            kid: "k2".into(),
            alg: Algorithm::EdDsa,
            public_key: vec![0; 32],
            sealed_secret: vec![1; 48],
        };
        assert_eq!(
            import(&mut keys, dup, 8, &p, &mut f).unwrap_err(),
            KeyError::DuplicateKid("k2".into())
        );
    }

    #[test]
    fn repairs_duplicate_currents_and_nexts() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        for (kid, state, at) in [
            ("a", KeyState::Current, 1),
            ("b", KeyState::Current, 5),
            ("c", KeyState::Next, 1),
            ("d", KeyState::Next, 2),
        ] {
            keys.push(KeyRecord {
                kid: kid.into(),
                alg: Algorithm::EdDsa,
                state,
                created_at: at,
                activated_at: (state == KeyState::Current).then_some(at),
                deactivated_at: None,
                revoked_at: None,
                public_key: vec![0; 32],
                sealed_secret: Some(vec![0; 48]),
            });
        }
        ensure_ready(&mut keys, 9, &p, &mut f).unwrap();
        invariant(&keys);
        assert_eq!(current(&keys).unwrap().kid, "b");
        assert_eq!(next(&keys).unwrap().kid, "d");
        assert_eq!(keys[0].state, KeyState::Previous);
        assert_eq!(keys[2].state, KeyState::Retired);
    }

    #[test]
    fn an_algorithm_change_makes_the_next_key_which_signs_an_interval_later() {
        let mut p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        // The setting changes: nothing changes until the next rotation.
        p.algorithm = Algorithm::Es256;
        assert_eq!(
            ensure_ready(&mut keys, 1, &p, &mut f).unwrap(),
            KeyOutcome::Unchanged
        );
        rotate_if_due(&mut keys, 10_000, &p, &mut f).unwrap();
        // k2 (EdDSA, published since 0) signs; the fresh next k3 is ES256.
        assert_eq!(current(&keys).unwrap().alg, Algorithm::EdDsa);
        assert_eq!(next(&keys).unwrap().alg, Algorithm::Es256);
        assert_eq!(rotation_due_at(&keys, &p), Some(20_000));
        rotate_if_due(&mut keys, 20_000, &p, &mut f).unwrap();
        let cur = current(&keys).unwrap();
        assert_eq!((cur.kid.as_str(), cur.alg), ("k3", Algorithm::Es256));
        // The EdDSA key that signed until now stays published until its tokens expire.
        let k2 = keys.iter().find(|k| k.kid == "k2").unwrap();
        assert!(is_published(k2, 22_999, &p));
        assert!(!is_published(k2, 23_000, &p));
    }

    #[test]
    fn a_next_key_made_late_waits_a_full_interval_before_it_signs() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        // Revoking next at 9_000 makes a fresh one; it is not promoted at 10_000.
        revoke(&mut keys, "k2", 9_000, &p, &mut f).unwrap();
        assert_eq!(rotation_due_at(&keys, &p), Some(19_000));
        assert_eq!(
            rotate_if_due(&mut keys, 10_000, &p, &mut f).unwrap(),
            KeyOutcome::Unchanged
        );
        assert!(matches!(
            rotate_if_due(&mut keys, 19_000, &p, &mut f).unwrap(),
            KeyOutcome::Rotated { .. }
        ));
    }

    #[test]
    fn manual_rotation_to_another_algorithm_waits_one_keyset_max_age() {
        let mut p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        // Same algorithm: never held back.
        check_manual_rotation(&keys, 1, 300).unwrap();
        // `keys rotate --algorithm ES256`: the fresh next is ES256.
        p.algorithm = Algorithm::Es256;
        rotate(&mut keys, 100, &p, &mut f, None).unwrap();
        assert_eq!(next(&keys).unwrap().alg, Algorithm::Es256);
        let err = check_manual_rotation(&keys, 300, 300).unwrap_err();
        assert_eq!(
            err,
            KeyError::NextTooNew {
                kid: "k3".into(),
                alg: Algorithm::Es256,
                wait_ms: 100
            }
        );
        assert_eq!(err.code(), "next_key_too_new");
        check_manual_rotation(&keys, 400, 300).unwrap();
    }

    #[test]
    fn diff_reports_inserts_and_updates() {
        let p = policy();
        let mut f = factory();
        let mut keys = Vec::new();
        ensure_ready(&mut keys, 0, &p, &mut f).unwrap();
        let before = keys.clone();
        rotate(&mut keys, 1, &p, &mut f, None).unwrap();
        let (ins, upd) = diff(&before, &keys);
        assert_eq!(
            ins.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
            ["k3"]
        );
        assert_eq!(
            upd.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
            ["k1", "k2"]
        );
    }
}
