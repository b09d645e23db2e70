//! Readiness of the next key (issue 12): it may start signing once it has been published for
//! one keyset max-age (so every keyset version served since an edge last revalidated holds it)
//! and no keyset request in the last max-age presented a version without it (what edges
//! presented comes from adoption.rs). Pure: `now` is passed in (Unix milliseconds).

use serde::Serialize;

use super::keys::KeyRecord;

/// Whether the next key may start signing now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub next_kid: Option<String>,
    pub ready: bool,
    /// When it is (or became) ready, if no request presents a version without it from now
    /// on (Unix seconds, rounded up).
    pub ready_at: Option<i64>,
    /// Why it is not ready; `None` when ready.
    pub reason: Option<String>,
    /// Unix milliseconds of `ready_at`, for the rotation check's error.
    #[serde(skip)]
    pub ready_at_ms: Option<i64>,
}

/// A version presented in the window, as the readiness check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenVersion {
    /// Its kids; `None` when it was forgotten (counted as lacking any key).
    pub kids: Option<Vec<String>>,
    /// End of the last bucket in which it was presented (Unix ms).
    pub last_presented_end_ms: i64,
}

/// Readiness of `next` at `now`: published for `window_ms`, and no version without it
/// presented in the window (`seen`). A forgotten version counts as lacking it.
pub fn readiness(
    next: Option<&KeyRecord>,
    now: i64,
    window_ms: i64,
    seen: &[SeenVersion],
) -> Readiness {
    let Some(next) = next else {
        return Readiness {
            next_kid: None,
            ready: false,
            ready_at: None,
            reason: Some("there is no next key".into()),
            ready_at_ms: None,
        };
    };
    let published_ready = next.created_at.saturating_add(window_ms);
    let lacking = seen
        .iter()
        .filter(|s| s.kids.as_ref().is_none_or(|kids| !kids.contains(&next.kid)))
        .map(|s| s.last_presented_end_ms.saturating_add(window_ms))
        .max();
    let ready_at_ms = lacking.map_or(published_ready, |l| l.max(published_ready));
    let ready = ready_at_ms <= now;
    let secs = window_ms / 1000;
    let reason = if ready {
        None
    } else if lacking.is_some_and(|l| l > now) {
        Some(format!(
            "edges presented a keyset version without the next key in the last keyset max-age \
             ({secs}s)"
        ))
    } else {
        Some(format!(
            "the next key has been published for less than one keyset max-age ({secs}s)"
        ))
    };
    Readiness {
        next_kid: Some(next.kid.clone()),
        ready,
        ready_at: Some(ready_at_ms.div_euclid(1000) + i64::from(ready_at_ms.rem_euclid(1000) > 0)),
        reason,
        ready_at_ms: Some(ready_at_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::keys::next_key_for_tests as key;

    #[test]
    fn readiness_waits_for_publication() {
        let next = key("n", 5_000);
        let r = readiness(Some(&next), 9_000, 10_000, &[]);
        assert_eq!((r.ready, r.ready_at), (false, Some(15)));
        assert!(r.reason.unwrap().contains("published for less"));
        assert!(readiness(Some(&next), 15_000, 10_000, &[]).ready);
        // A forgotten version counts as lacking the key.
        let seen = [SeenVersion {
            kids: None,
            last_presented_end_ms: 8_000,
        }];
        assert_eq!(
            readiness(Some(&next), 15_000, 10_000, &seen).ready_at,
            Some(18)
        );
        assert!(!readiness(None, 0, 0, &[]).ready);
    }
}
