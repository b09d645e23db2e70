//! The keyset cache policy of SPEC §5, driven with a fake clock. The fetches are simulated by
//! reporting results to the state machine, exactly as the wasm adapter does after a real fetch.

mod common;

use jwtedge::core::cache::{CacheConfig, FetchResponse, KeysetCache, Plan};
use jwtedge::core::{Algorithm, KeyNeed};
use jwtedge::Reason;

const S: u64 = 1000; // one second in ms

fn ed1() -> KeyNeed<'static> {
    KeyNeed::Kid("ed-1", Algorithm::EdDsa)
}

fn ok_body(jwks: &str) -> FetchResponse<'_> {
    FetchResponse::Http {
        status: 200,
        body: jwks.as_bytes(),
        cache_control: Some("public, max-age=300"),
        age: None,
        etag: Some("\"v1\""),
    }
}

/// Plans for `need`; if told to fetch, answers with `respond` and plans again.
fn verify_once(
    cache: &mut KeysetCache,
    now: u64,
    need: &KeyNeed<'_>,
    respond: impl FnOnce(Option<String>) -> FetchResponse<'static>,
) -> Result<bool, Reason> {
    match cache.plan(now, need) {
        Plan::Fetch(ticket) => {
            let response = respond(ticket.etag.clone());
            cache.fetch_finished(now, ticket.id, response);
            match cache.plan(now, need) {
                Plan::Verify(keyset) => Ok(keyset.has(need)),
                Plan::Unavailable(reason) => Err(reason),
                other => panic!("second plan {other:?}"),
            }
        }
        Plan::Verify(keyset) => Ok(keyset.has(need)),
        Plan::Unavailable(reason) => Err(reason),
        Plan::Wait { .. } => panic!("nothing in flight"),
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn loaded(now: u64) -> KeysetCache {
    let mut cache = KeysetCache::new(CacheConfig::default());
    let jwks = leak(common::jwks());
    assert_eq!(
        verify_once(&mut cache, now, &ed1(), |_| ok_body(jwks)),
        Ok(true)
    );
    cache
}

#[test]
fn cold_cache_fetches_once_then_serves_from_memory() {
    let mut cache = loaded(0);
    for t in 1..100 {
        assert!(matches!(cache.plan(t * S, &ed1()), Plan::Verify(_)));
    }
    let stats = cache.stats();
    assert_eq!((stats.fetches, stats.cache_hits), (1, 100));
    assert_eq!(cache.key_count(), 3);
}

#[test]
fn max_age_is_clamped_and_defaulted() {
    let jwks = leak(common::jwks());
    for (header, fresh_s) in [
        (Some("max-age=5"), 30),
        (Some("max-age=999999"), 3600),
        (None, 300),
        (Some("max-age=120"), 120),
        (Some("no-store"), 30),
    ] {
        let mut cache = KeysetCache::new(CacheConfig::default());
        let t = cache.plan(0, &ed1());
        let Plan::Fetch(ticket) = t else { panic!() };
        cache.fetch_finished(
            0,
            ticket.id,
            FetchResponse::Http {
                status: 200,
                body: jwks.as_bytes(),
                cache_control: header,
                age: None,
                etag: None,
            },
        );
        assert!(cache.is_fresh(fresh_s * S - 1), "{header:?}");
        assert!(!cache.is_fresh(fresh_s * S), "{header:?}");
    }
}

#[test]
fn expiry_revalidates_with_etag_and_304_renews() {
    let mut cache = loaded(0);
    let Plan::Fetch(ticket) = cache.plan(300 * S, &ed1()) else {
        panic!("expired cache must refetch")
    };
    assert_eq!(ticket.etag.as_deref(), Some("\"v1\""));
    cache.fetch_finished(
        300 * S,
        ticket.id,
        FetchResponse::Http {
            status: 304,
            body: b"",
            cache_control: Some("max-age=60"),
            age: None,
            etag: None,
        },
    );
    assert!(matches!(cache.plan(359 * S, &ed1()), Plan::Verify(_)));
    assert!(matches!(cache.plan(360 * S, &ed1()), Plan::Fetch(_)));
    assert_eq!(cache.stats().not_modified, 1);
}

#[test]
fn unknown_kid_refetches_at_once_but_once_per_cooldown() {
    let mut cache = loaded(0);
    let jwks = leak(common::jwks());
    let new_kid = KeyNeed::Kid("ed-new", Algorithm::EdDsa);
    // Inside the cooldown of the load itself, an unknown kid is answered from the cache.
    assert!(matches!(cache.plan(29 * S, &new_kid), Plan::Verify(k) if !k.has(&new_kid)));
    // 40 s after load, still fresh: an unknown kid triggers one refetch…
    let Plan::Fetch(t) = cache.plan(40 * S, &new_kid) else {
        panic!("unknown kid must refetch")
    };
    cache.fetch_finished(40 * S, t.id, ok_body(jwks));
    // …and, still unknown, is answered from the cache for the rest of the cooldown.
    assert!(matches!(cache.plan(40 * S, &new_kid), Plan::Verify(k) if !k.has(&new_kid)));
    assert!(matches!(cache.plan(69 * S, &new_kid), Plan::Verify(_)));
    assert!(matches!(cache.plan(70 * S, &new_kid), Plan::Fetch(_)));
}

#[test]
fn a_thousand_random_kids_in_one_cooldown_cause_at_most_one_fetch() {
    let mut cache = loaded(0);
    let jwks = leak(common::jwks());
    let before = cache.stats().fetches;
    for i in 0..1000u64 {
        let kid = format!("random-{i}-{}", i.wrapping_mul(0x9e37_79b9));
        let need = KeyNeed::Kid(&kid, Algorithm::Hs256);
        let now = 40 * S + i * 25; // spread over 25 s, inside one 30 s cooldown
        let _ = verify_once(&mut cache, now, &need, |_| ok_body(jwks));
    }
    assert_eq!(cache.stats().fetches - before, 1);
}

#[test]
fn new_kid_found_by_refetch_verifies() {
    let mut cache = loaded(0);
    let rotated = leak(format!(
        r#"{{"keys":[{},{}]}}"#,
        common::ed_jwk("ed-1", 1),
        common::ed_jwk("ed-9", 9)
    ));
    let need = KeyNeed::Kid("ed-9", Algorithm::EdDsa);
    assert_eq!(
        verify_once(&mut cache, 31 * S, &need, |_| ok_body(rotated)),
        Ok(true)
    );
}

#[test]
fn failing_origin_keeps_the_stale_keyset_until_max_stale_then_unavailable() {
    let config = CacheConfig {
        max_stale_ms: 3600 * S,
        ..CacheConfig::default()
    };
    let mut cache = KeysetCache::new(config);
    let jwks = leak(common::jwks());
    assert_eq!(
        verify_once(&mut cache, 0, &ed1(), |_| ok_body(jwks)),
        Ok(true)
    );
    // Expired at 300 s; the origin is down from then on.
    let mut fetches_while_down = 0;
    let mut t = 300 * S;
    while t < 300 * S + 3600 * S {
        match cache.plan(t, &ed1()) {
            Plan::Fetch(ticket) => {
                fetches_while_down += 1;
                cache.fetch_finished(t, ticket.id, FetchResponse::Failed);
                assert!(
                    matches!(cache.plan(t, &ed1()), Plan::Verify(_)),
                    "stale keyset at {t}"
                );
            }
            Plan::Verify(_) => {}
            other => panic!("at {t}: {other:?}"),
        }
        t += 5 * S;
    }
    // Retries no more than once per cooldown (30 s) over the hour.
    assert!(
        fetches_while_down <= 3600 / 30 + 1,
        "{fetches_while_down} fetches"
    );
    assert!(
        fetches_while_down >= 3600 / 30 - 1,
        "{fetches_while_down} fetches"
    );
    // Past the stale limit: unavailable.
    let past = 300 * S + 3600 * S;
    let outcome = verify_once(&mut cache, past, &ed1(), |_| FetchResponse::Failed);
    assert_eq!(outcome, Err(Reason::FetchFailed));
    assert!(cache.stats().failures >= fetches_while_down);
}

#[test]
fn unknown_kid_whose_refetch_failed_is_unavailable_not_refresh() {
    let mut cache = loaded(0);
    let need = KeyNeed::Kid("ed-new", Algorithm::EdDsa);
    let outcome = verify_once(&mut cache, 40 * S, &need, |_| FetchResponse::Failed);
    assert_eq!(outcome, Err(Reason::FetchFailed));
    assert!(matches!(
        cache.plan(50 * S, &need),
        Plan::Unavailable(Reason::FetchFailed)
    ));
    // Known kids keep verifying from the still-fresh keyset.
    assert!(matches!(cache.plan(51 * S, &ed1()), Plan::Verify(_)));
}

#[test]
fn cold_cache_with_dead_origin_is_unavailable() {
    let mut cache = KeysetCache::new(CacheConfig::default());
    assert_eq!(
        verify_once(&mut cache, 0, &ed1(), |_| FetchResponse::Failed),
        Err(Reason::FetchFailed)
    );
    // No hammering: within the cooldown the answer comes without a fetch.
    assert!(matches!(
        cache.plan(10 * S, &ed1()),
        Plan::Unavailable(Reason::FetchFailed)
    ));
    assert!(matches!(cache.plan(30 * S, &ed1()), Plan::Fetch(_)));
}

#[test]
fn garbage_never_replaces_a_good_keyset() {
    let garbage: [FetchResponse<'static>; 6] = [
        FetchResponse::Http {
            status: 200,
            body: b"<html>",
            cache_control: None,
            age: None,
            etag: None,
        },
        FetchResponse::Http {
            status: 200,
            body: br#"{"keys":[{"kty":"RSA"}]}"#,
            cache_control: None,
            age: None,
            etag: None,
        },
        FetchResponse::Http {
            status: 200,
            body: br#"{"nope":1}"#,
            cache_control: None,
            age: None,
            etag: None,
        },
        FetchResponse::Http {
            status: 500,
            body: b"{}",
            cache_control: None,
            age: None,
            etag: None,
        },
        FetchResponse::TooLarge,
        FetchResponse::Http {
            status: 304,
            body: b"",
            cache_control: None,
            age: None,
            etag: None,
        },
    ];
    for (i, response) in garbage.into_iter().enumerate() {
        let mut cache = loaded(0);
        let Plan::Fetch(t) = cache.plan(300 * S, &ed1()) else {
            panic!()
        };
        cache.fetch_finished(300 * S, t.id, response);
        // The last good keyset is still in use (stale-if-error).
        assert!(
            matches!(cache.plan(301 * S, &ed1()), Plan::Verify(k) if k.len() == 3),
            "case {i}"
        );
        assert_eq!(cache.key_count(), 3);
    }
    // Cold cache + garbage: invalid_keyset.
    let mut cold = KeysetCache::new(CacheConfig::default());
    let out = verify_once(&mut cold, 0, &ed1(), |_| FetchResponse::Http {
        status: 200,
        body: b"not json",
        cache_control: None,
        age: None,
        etag: None,
    });
    assert_eq!(out, Err(Reason::InvalidKeyset));
    let too_many = leak(format!(
        r#"{{"keys":[{}]}}"#,
        vec![common::ed_jwk("x", 1); 101].join(",")
    ));
    let mut cold = KeysetCache::new(CacheConfig::default());
    assert_eq!(
        verify_once(&mut cold, 0, &ed1(), |_| ok_body(too_many)),
        Err(Reason::InvalidKeyset)
    );
}

#[test]
fn concurrent_verifies_share_one_fetch() {
    let mut cache = KeysetCache::new(CacheConfig::default());
    let Plan::Fetch(ticket) = cache.plan(0, &ed1()) else {
        panic!()
    };
    // 10,000 verifications arrive while the fetch is in flight: all wait, none fetch.
    for i in 0..10_000u64 {
        assert!(matches!(cache.plan(i / 10, &ed1()), Plan::Wait { id } if id == ticket.id));
    }
    cache.fetch_finished(1000, ticket.id, ok_body(leak(common::jwks())));
    assert!(matches!(cache.plan(1000, &ed1()), Plan::Verify(_)));
    assert_eq!(cache.stats().fetches, 1);
}

#[test]
fn a_fetch_that_never_settles_is_taken_over_after_the_timeout() {
    let mut cache = KeysetCache::new(CacheConfig::default());
    let Plan::Fetch(first) = cache.plan(0, &ed1()) else {
        panic!()
    };
    // Its starter was cancelled: the result never arrives. Waiters wait at most the timeout
    // and the grace (a waiter waking at the timeout itself waits on: the fetch is about to fail)…
    let takeover = 5000 + jwtedge::core::cache::TAKEOVER_GRACE_MS;
    assert!(matches!(cache.plan(5000, &ed1()), Plan::Wait { .. }));
    assert!(matches!(
        cache.plan(takeover - 1, &ed1()),
        Plan::Wait { .. }
    ));
    // …then one of them fetches itself, and the others wait for that one.
    let Plan::Fetch(second) = cache.plan(takeover, &ed1()) else {
        panic!("no takeover")
    };
    assert_ne!(first.id, second.id);
    assert!(matches!(cache.plan(takeover + 1, &ed1()), Plan::Wait { id } if id == second.id));
    cache.fetch_finished(takeover + 100, second.id, ok_body(leak(common::jwks())));
    assert!(matches!(
        cache.plan(takeover + 100, &ed1()),
        Plan::Verify(_)
    ));
    // A late result of the abandoned fetch cannot roll the keyset back.
    cache.fetch_finished(
        6000,
        first.id,
        FetchResponse::Http {
            status: 200,
            body: br#"{"keys":[]}"#,
            cache_control: None,
            age: None,
            etag: None,
        },
    );
    assert_eq!(cache.key_count(), 3);
}

#[test]
fn fresh_cache_answers_known_kids_while_a_refetch_is_in_flight() {
    let mut cache = loaded(0);
    let unknown = KeyNeed::Kid("ed-new", Algorithm::EdDsa);
    let Plan::Fetch(_) = cache.plan(40 * S, &unknown) else {
        panic!()
    };
    assert!(matches!(cache.plan(40 * S, &ed1()), Plan::Verify(_)));
    assert!(matches!(cache.plan(41 * S, &unknown), Plan::Wait { .. }));
}

#[test]
fn expiry_revalidation_is_not_held_back_by_the_cooldown() {
    let config = CacheConfig {
        min_fresh_ms: S,
        ..CacheConfig::default()
    };
    let mut cache = KeysetCache::new(config);
    let jwks = leak(common::jwks());
    let short = |body: &'static str| FetchResponse::Http {
        status: 200,
        body: body.as_bytes(),
        cache_control: Some("max-age=1"),
        age: None,
        etag: None,
    };
    assert_eq!(
        verify_once(&mut cache, 0, &ed1(), |_| short(jwks)),
        Ok(true)
    );
    // Expired after 1 s: the refetch happens although the 30 s cooldown has not passed…
    assert!(matches!(cache.plan(S, &ed1()), Plan::Fetch(_)));
    // …but after a failure, retries wait for the cooldown.
    let mut cache = KeysetCache::new(config);
    assert_eq!(
        verify_once(&mut cache, 0, &ed1(), |_| short(jwks)),
        Ok(true)
    );
    let Plan::Fetch(t) = cache.plan(2 * S, &ed1()) else {
        panic!()
    };
    cache.fetch_finished(2 * S, t.id, FetchResponse::Failed);
    assert!(matches!(cache.plan(3 * S, &ed1()), Plan::Verify(_)));
    assert!(matches!(cache.plan(32 * S, &ed1()), Plan::Fetch(_)));
}

/// SPEC §3 (issue 8, finding 14): `{"keys":[]}` is `invalid_keyset` and the previous keyset stays
/// in use — on expiry, on an unknown-kid refetch, and on a cold cache.
#[test]
fn an_empty_keyset_never_replaces_a_good_one() {
    let empty = |cache_control| FetchResponse::Http {
        status: 200,
        body: br#"{"keys":[]}"#,
        cache_control,
        age: None,
        etag: Some("\"empty\""),
    };
    // Expired: the refetch brings an empty keyset; ed-1 keeps verifying from the stale keyset.
    let mut cache = loaded(0);
    let Plan::Fetch(t) = cache.plan(300 * S, &ed1()) else {
        panic!("expired cache must refetch")
    };
    cache.fetch_finished(300 * S, t.id, empty(Some("max-age=3600")));
    assert!(matches!(cache.plan(301 * S, &ed1()), Plan::Verify(k) if k.has(&ed1())));
    assert_eq!(cache.key_count(), 3);
    assert_eq!(cache.stats().failures, 1);
    // The failed refetch is remembered: an unknown kid is answered invalid_keyset, not refresh.
    let unknown = KeyNeed::Kid("ed-new", Algorithm::EdDsa);
    assert!(matches!(
        cache.plan(302 * S, &unknown),
        Plan::Unavailable(Reason::InvalidKeyset)
    ));
    // Fresh: an unknown kid's refetch brings an empty keyset; known kids still verify.
    let mut cache = loaded(0);
    assert_eq!(
        verify_once(&mut cache, 40 * S, &unknown, |_| empty(None)),
        Err(Reason::InvalidKeyset)
    );
    assert!(matches!(cache.plan(41 * S, &ed1()), Plan::Verify(k) if k.len() == 3));
    // The ETag of the refused keyset is not sent on the next revalidation.
    let Plan::Fetch(t) = cache.plan(300 * S, &ed1()) else {
        panic!("expired cache must refetch")
    };
    assert_eq!(t.etag.as_deref(), Some("\"v1\""));
    // Cold: nothing to fall back on.
    let mut cold = KeysetCache::new(CacheConfig::default());
    assert_eq!(
        verify_once(&mut cold, 0, &ed1(), |_| empty(None)),
        Err(Reason::InvalidKeyset)
    );
    assert_eq!(cold.key_count(), 0);
}

/// Loads a keyset at 0 from a 200 with these headers; returns the cache.
fn loaded_with(
    config: CacheConfig,
    cache_control: Option<&'static str>,
    age: Option<&'static str>,
) -> KeysetCache {
    let mut cache = KeysetCache::new(config);
    let Plan::Fetch(ticket) = cache.plan(0, &ed1()) else {
        panic!("cold cache must fetch")
    };
    cache.fetch_finished(
        0,
        ticket.id,
        FetchResponse::Http {
            status: 200,
            body: leak(common::jwks()).as_bytes(),
            cache_control,
            age,
            etag: Some("\"v1\""),
        },
    );
    assert_eq!(cache.key_count(), 3);
    cache
}

/// Milliseconds the cache stays fresh after a load at 0 (found by probing the state machine).
fn fresh_ms(cache: &KeysetCache) -> u64 {
    let (mut lo, mut hi) = (0u64, 100 * 3600 * S);
    assert!(cache.is_fresh(lo) && !cache.is_fresh(hi));
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if cache.is_fresh(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// SPEC §5 (issue 8, finding 12): freshness is `max-age` minus `Age` (RFC 9111 §4.2.3). The
/// origin's lifetime is capped at 1 h before the age is taken off (the cap bounds the copy's
/// whole life); the 30 s floor applies last (aged-out, no-store and no-cache get the minimum).
#[test]
fn freshness_counts_the_age_header() {
    let min_1s = CacheConfig {
        min_fresh_ms: S,
        ..CacheConfig::default()
    };
    for (config, cache_control, age, fresh_s) in [
        // The issue's case: trusted for 1 s, not 4 s.
        (min_1s, Some("max-age=4"), Some("3"), 1),
        (min_1s, Some("max-age=4"), Some("0"), 4),
        (min_1s, Some("max-age=4"), None, 4),
        (min_1s, Some("public, max-age=300"), Some("100"), 200),
        // Older than its lifetime: the minimum, not a negative or wrapped freshness.
        (min_1s, Some("max-age=300"), Some("400"), 1),
        (
            min_1s,
            Some("max-age=300"),
            Some("99999999999999999999999"),
            1,
        ),
        // Absent max-age: the 300 s default, minus the age.
        (min_1s, None, Some("100"), 200),
        // The 1 h cap first, then the age: a copy is never trusted past 1 h of its life.
        (min_1s, Some("max-age=7200"), Some("3000"), 600),
        (min_1s, Some("max-age=7200"), Some("5000"), 1),
        // A list: the first member counts (RFC 9111 §5.1).
        (min_1s, Some("max-age=300"), Some("100, 5"), 200),
        // Not delta-seconds: the age is unknown, so the copy counts as fully aged.
        (min_1s, Some("max-age=300"), Some("soon"), 1),
        (min_1s, Some("max-age=300"), Some("-5"), 1),
        (min_1s, Some("no-store"), Some("0"), 1),
        (min_1s, Some("no-cache, max-age=300"), None, 1),
        // Default floor of 30 s.
        (CacheConfig::default(), Some("max-age=4"), Some("3"), 30),
        (CacheConfig::default(), Some("max-age=300"), Some("290"), 30),
        (
            CacheConfig::default(),
            Some("max-age=300"),
            Some("200"),
            100,
        ),
    ] {
        let cache = loaded_with(config, cache_control, age);
        assert_eq!(
            fresh_ms(&cache),
            fresh_s * S,
            "Cache-Control {cache_control:?}, Age {age:?}"
        );
        assert_eq!(config.fresh_for_ms(cache_control, age), fresh_s * S);
    }
}

/// A `304` renews freshness by its own `Age` too: a revalidation answered by a CDN whose copy is
/// old does not renew for the full `max-age`.
#[test]
fn a_304_renews_freshness_minus_its_age() {
    let config = CacheConfig {
        min_fresh_ms: S,
        ..CacheConfig::default()
    };
    let mut cache = loaded_with(config, Some("max-age=60"), None);
    let Plan::Fetch(ticket) = cache.plan(60 * S, &ed1()) else {
        panic!("expired cache must refetch")
    };
    cache.fetch_finished(
        60 * S,
        ticket.id,
        FetchResponse::Http {
            status: 304,
            body: b"",
            cache_control: Some("max-age=60"),
            age: Some("50"),
            etag: None,
        },
    );
    assert_eq!(cache.stats().not_modified, 1);
    assert!(cache.is_fresh(70 * S - 1));
    assert!(!cache.is_fresh(70 * S));
    assert!(matches!(cache.plan(70 * S, &ed1()), Plan::Fetch(_)));
}

/// SPEC §5 (issue 8, finding 13): a redirect is a failed fetch, never a keyset from another place
/// (the adapter fetches with `redirect: "manual"`; a browser's opaque redirect has status 0).
/// Stale-if-error applies as for any failure; cold, it is `fetch_failed`.
#[test]
fn a_redirect_is_a_failed_fetch() {
    let other_place = leak(format!(r#"{{"keys":[{}]}}"#, common::ed_jwk("evil", 66)));
    let evil = KeyNeed::Kid("evil", Algorithm::EdDsa);
    for status in [301u16, 302, 303, 307, 308, 300, 0] {
        let redirect = FetchResponse::Http {
            status,
            body: other_place.as_bytes(),
            cache_control: Some("max-age=3600"),
            age: None,
            etag: Some("\"evil\""),
        };
        let mut cold = KeysetCache::new(CacheConfig::default());
        assert_eq!(
            verify_once(&mut cold, 0, &evil, |_| redirect),
            Err(Reason::FetchFailed),
            "status {status}"
        );
        assert_eq!(cold.key_count(), 0);
        // Loaded, then expired: the redirect fails the refetch and the stale keyset is kept.
        let mut cache = loaded(0);
        let Plan::Fetch(t) = cache.plan(300 * S, &ed1()) else {
            panic!("expired cache must refetch")
        };
        cache.fetch_finished(300 * S, t.id, redirect);
        assert!(matches!(cache.plan(301 * S, &ed1()), Plan::Verify(k) if k.len() == 3));
        assert!(matches!(
            cache.plan(301 * S, &evil),
            Plan::Unavailable(Reason::FetchFailed)
        ));
        assert_eq!(cache.stats().failures, 1, "status {status}");
    }
}
