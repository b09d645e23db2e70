//! The edge keyset cache policy of SPEC §5 as a pure state machine: no I/O, no clock. The
//! adapter asks [`KeysetCache::plan`] what to do for a token, performs any fetch it is told to,
//! and reports back with [`KeysetCache::fetch_finished`]. Time is passed in as milliseconds.
//!
//! Rules: fresh for the origin's `max-age` (300 s if absent) capped at 1 h, minus the response's
//! `Age`, and at least 30 s (see [`CacheConfig::fresh_for_ms`]); revalidate with the stored ETag; an unknown `kid` refetches at most once per cooldown; an expired cache
//! refetches, and on failure keeps serving the stale keyset up to `max_stale`; one fetch in flight
//! at a time, with waiters taking over a fetch that outlived the fetch timeout (its starter may
//! have been cancelled, SPEC §5); a keyset that fails its limits never replaces a good one.

use std::sync::Arc;

use super::{age_seconds, max_age_seconds, KeyNeed, Keyset, KeysetLimits, Reason};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    pub min_fresh_ms: u64,
    pub max_fresh_ms: u64,
    pub default_fresh_ms: u64,
    pub cooldown_ms: u64,
    pub max_stale_ms: u64,
    pub fetch_timeout_ms: u64,
    pub limits: KeysetLimits,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            min_fresh_ms: 30_000,
            max_fresh_ms: 3_600_000,
            default_fresh_ms: 300_000,
            cooldown_ms: 30_000,
            max_stale_ms: 86_400_000,
            fetch_timeout_ms: 5_000,
            limits: KeysetLimits::default(),
        }
    }
}

/// How long past its timeout a fetch in flight still counts as live. The runtime settles an
/// aborted fetch a moment after its timer fires; without this grace, a waiter whose own timer
/// fired first would take over a fetch that was about to fail, and the next waiter that one,
/// each making another request to an origin that hangs.
pub const TAKEOVER_GRACE_MS: u64 = 500;

impl CacheConfig {
    /// When a fetch in flight is deemed dead and may be taken over: its timeout plus the grace.
    pub fn takeover_after_ms(&self) -> u64 {
        self.fetch_timeout_ms.saturating_add(TAKEOVER_GRACE_MS)
    }

    /// How long a response keeps the keyset fresh (SPEC §5), from its raw `Cache-Control` and
    /// `Age` headers. In this order:
    /// 1. the origin's lifetime: `max-age`, the default when absent, 0 for `no-store`/`no-cache`;
    /// 2. capped at `max_fresh_ms`: the cap bounds the copy's whole life since the origin made
    ///    it, so a copy that sat in a CDN is never trusted longer than one fetched directly;
    /// 3. minus `Age` (RFC 9111 §4.2.3), the time it already spent in caches; an `Age` that is
    ///    not delta-seconds counts as fully aged, since the copy's age is unknown;
    /// 4. at least `min_fresh_ms`, last: an aged-out, `no-store` or `no-cache` answer still holds
    ///    for the minimum, or every verification would refetch.
    pub fn fresh_for_ms(&self, cache_control: Option<&str>, age: Option<&str>) -> u64 {
        let lifetime = cache_control
            .and_then(max_age_seconds)
            .map_or(self.default_fresh_ms, |s| s.saturating_mul(1000))
            .min(self.max_fresh_ms);
        let age = match age {
            None => 0,
            Some(value) => age_seconds(value).map_or(u64::MAX, |s| s.saturating_mul(1000)),
        };
        lifetime.saturating_sub(age).max(self.min_fresh_ms)
    }
}

/// What the adapter must do next for one verification.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Verify against this keyset (fresh, or stale within its limit).
    Verify(Arc<Keyset>),
    /// Start this fetch, then report it with `fetch_finished` and plan again.
    Fetch(FetchTicket),
    /// Another verification's fetch is in flight: wait for it (at most
    /// [`CacheConfig::takeover_after_ms`]), then plan again.
    Wait { id: u64 },
    /// No usable keyset: `fetch_failed` or `invalid_keyset`.
    Unavailable(Reason),
}

/// One fetch the adapter must perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchTicket {
    pub id: u64,
    /// Send as `If-None-Match`.
    pub etag: Option<String>,
}

/// What came back from a fetch.
#[derive(Debug, Clone, Copy)]
pub enum FetchResponse<'a> {
    /// An HTTP response whose body was read within the size limit.
    Http {
        status: u16,
        body: &'a [u8],
        cache_control: Option<&'a str>,
        /// The `Age` header, raw: freshness is counted from when the origin made the response.
        age: Option<&'a str>,
        etag: Option<&'a str>,
    },
    /// The body was larger than the keyset limit.
    TooLarge,
    /// Network error, timeout, or the fetch was aborted.
    Failed,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Fetches started (requests sent to the origin).
    pub fetches: u64,
    /// Revalidations answered `304 Not Modified`.
    pub not_modified: u64,
    /// Fetches that failed or brought an unusable keyset.
    pub failures: u64,
    /// Verifications served from a fresh keyset that held their key.
    pub cache_hits: u64,
}

#[derive(Debug, Default)]
pub struct KeysetCache {
    config: CacheConfig,
    keyset: Option<Arc<Keyset>>,
    etag: Option<String>,
    /// When the keyset was last confirmed by the origin (200 or 304).
    validated_ms: u64,
    fresh_for_ms: u64,
    last_attempt_ms: Option<u64>,
    /// How the last finished fetch failed; `None` after a success.
    last_error: Option<Reason>,
    in_flight: Option<InFlight>,
    next_id: u64,
    /// Results of fetches older than this one are ignored (they could roll the keyset back).
    newest_applied_id: u64,
    stats: CacheStats,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    id: u64,
    started_ms: u64,
}

impl KeysetCache {
    pub fn new(config: CacheConfig) -> KeysetCache {
        KeysetCache {
            config,
            ..KeysetCache::default()
        }
    }

    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Keys in the current keyset (0 before the first successful fetch).
    pub fn key_count(&self) -> usize {
        self.keyset.as_ref().map_or(0, |k| k.len())
    }

    pub fn is_fresh(&self, now_ms: u64) -> bool {
        self.keyset.is_some() && now_ms < self.validated_ms.saturating_add(self.fresh_for_ms)
    }

    fn within_stale_limit(&self, now_ms: u64) -> bool {
        let limit = self
            .validated_ms
            .saturating_add(self.fresh_for_ms)
            .saturating_add(self.config.max_stale_ms);
        self.keyset.is_some() && now_ms < limit
    }

    /// Decides what a verification needing `need` does at `now_ms`.
    pub fn plan(&mut self, now_ms: u64, need: &KeyNeed<'_>) -> Plan {
        let in_flight_live = self
            .in_flight
            .is_some_and(|f| now_ms.saturating_sub(f.started_ms) < self.config.takeover_after_ms());
        if in_flight_live {
            // Whoever needs the origin waits for the fetch already running.
            if let Some(keyset) = self.keyset.as_ref().filter(|k| k.has(need)) {
                if self.is_fresh(now_ms) {
                    self.stats.cache_hits += 1;
                    return Plan::Verify(keyset.clone());
                }
            }
            return Plan::Wait {
                id: self.in_flight.map_or(0, |f| f.id),
            };
        }
        // A fetch in flight past its timeout (and the grace) is dead (its starter may be gone):
        // take it over.
        let may_fetch = self.in_flight.is_some()
            || self
                .last_attempt_ms
                .is_none_or(|t| now_ms.saturating_sub(t) >= self.config.cooldown_ms);

        if self.is_fresh(now_ms) {
            let keyset = self.keyset.clone().unwrap_or_default();
            if keyset.has(need) {
                self.stats.cache_hits += 1;
                return Plan::Verify(keyset);
            }
            // Unknown kid: the key may be new (rotation, import). Look once per cooldown.
            if may_fetch {
                return Plan::Fetch(self.start_fetch(now_ms));
            }
            return match self.last_error {
                // The refetch that could have found the key failed: retry later, don't refresh.
                Some(reason) => Plan::Unavailable(reason),
                None => Plan::Verify(keyset),
            };
        }
        // Expired (or never loaded): refetch, unless the last attempt failed inside the cooldown
        // (the cooldown paces retries against a failing origin, not ordinary revalidation).
        if may_fetch || self.last_error.is_none() {
            return Plan::Fetch(self.start_fetch(now_ms));
        }
        match &self.keyset {
            Some(keyset) if self.within_stale_limit(now_ms) => {
                match (keyset.has(need), self.last_error) {
                    (false, Some(reason)) => Plan::Unavailable(reason),
                    _ => Plan::Verify(keyset.clone()),
                }
            }
            _ => Plan::Unavailable(self.last_error.unwrap_or(Reason::FetchFailed)),
        }
    }

    fn start_fetch(&mut self, now_ms: u64) -> FetchTicket {
        self.next_id += 1;
        self.in_flight = Some(InFlight {
            id: self.next_id,
            started_ms: now_ms,
        });
        self.last_attempt_ms = Some(now_ms);
        self.stats.fetches += 1;
        FetchTicket {
            id: self.next_id,
            etag: self.keyset.as_ref().and(self.etag.clone()),
        }
    }

    /// Reports the result of fetch `id`. A keyset that fails to parse or breaks the limits is
    /// rejected and the previous one stays in use.
    pub fn fetch_finished(&mut self, now_ms: u64, id: u64, response: FetchResponse<'_>) {
        if self.in_flight.is_some_and(|f| f.id == id) {
            self.in_flight = None;
        }
        if id < self.newest_applied_id {
            return;
        }
        self.newest_applied_id = id;
        let error = match response {
            FetchResponse::Http {
                status: 200,
                body,
                cache_control,
                age,
                etag,
            } => match Keyset::from_jwks_json(body, self.config.limits) {
                Ok(keyset) => {
                    self.keyset = Some(Arc::new(keyset));
                    self.etag = etag.map(str::to_owned);
                    self.validated_ms = now_ms;
                    self.fresh_for_ms = self.config.fresh_for_ms(cache_control, age);
                    None
                }
                // Unparsable, over the limits, or no usable key (SPEC §3): the previous keyset
                // (and its ETag) stays.
                Err(_) => Some(Reason::InvalidKeyset),
            },
            FetchResponse::Http {
                status: 304,
                cache_control,
                age,
                ..
            } if self.keyset.is_some() => {
                self.validated_ms = now_ms;
                self.fresh_for_ms = self.config.fresh_for_ms(cache_control, age);
                self.stats.not_modified += 1;
                None
            }
            FetchResponse::TooLarge => Some(Reason::InvalidKeyset),
            // Any other status fails the fetch, redirects included: they are not followed, and a
            // keyset from another place is never trusted (SPEC §5). An opaque redirect (browsers)
            // arrives as status 0.
            FetchResponse::Http { .. } | FetchResponse::Failed => Some(Reason::FetchFailed),
        };
        if error.is_some() {
            self.stats.failures += 1;
        }
        self.last_error = error;
    }
}
