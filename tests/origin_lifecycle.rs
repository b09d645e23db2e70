//! The key lifecycle under a compressed clock (rotation every 2 s, access-token TTL 3 s, for
//! ~14 s), against the real binary: at every moment the keyset holds next + current
//! (+ previous); every token signed at time t verifies with the core verifier against every
//! keyset served from t until its exp; an emergency revoke takes the key out at once, so its
//! tokens verify against no keyset served afterwards; new keys are published before they sign.
//! EdDSA and HS256, on SQLite and on PostgreSQL.

mod origin_harness;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jwtedge::core::{Outcome, Reason};
use origin_harness::*;

struct Snapshot {
    before: f64,
    after: f64,
    json: String,
}

struct Issued {
    before: f64,
    after: f64,
    token: String,
    kid: String,
    exp: f64,
}

fn lifecycle(alg: &str, backend: Backend) {
    let dir = temp_dir(&format!("lifecycle-{alg}"));
    let mut env = base_env(&dir, &backend);
    set(&mut env, "JWTEDGE_ALGORITHM", alg);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "2s");
    set(&mut env, "JWTEDGE_ACCESS_TOKEN_TTL", "3s");
    set(&mut env, "JWTEDGE_LEEWAY", "1s");
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "1s");
    let origin = Origin::start(&env, &dir);

    let started = Instant::now();
    let run_for = Duration::from_secs(14);
    let mut snapshots: Vec<Snapshot> = Vec::new();
    let mut issued: Vec<Issued> = Vec::new();
    let mut revoked: Option<(String, f64)> = None; // kid, time the revoke response arrived
    let mut refresh_token = origin.new_session("lifecycle")["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut i = 0u32;
    while started.elapsed() < run_for {
        i += 1;
        // The listing first, then the keyset: whatever rotated in between, the listed current
        // and next must both be in the keyset (the old next is the new current; the old
        // current is a previous key, still published).
        let listing = origin.keys();
        let before = now();
        let json = origin.keyset_json();
        let after = now();
        let served = kids(&json);
        for role in ["current", "next"] {
            let kid = listing[role].as_str().expect("a current and a next key");
            assert!(
                served.iter().any(|k| k == kid),
                "{role} key {kid} missing from the keyset {served:?}"
            );
        }
        assert!(served.len() >= 2, "keyset must hold next + current");
        let unique: BTreeSet<_> = served.iter().collect();
        assert_eq!(unique.len(), served.len(), "duplicate kids in {served:?}");
        let states: Vec<&str> = listing["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["state"].as_str().unwrap())
            .collect();
        assert_eq!(states.iter().filter(|s| **s == "current").count(), 1);
        assert_eq!(states.iter().filter(|s| **s == "next").count(), 1);
        if let Some((kid, _)) = &revoked {
            assert!(!served.contains(kid), "revoked key {kid} still served");
        }
        snapshots.push(Snapshot {
            before,
            after,
            json,
        });

        // A token, alternately from a new session and from a refresh.
        let before = now();
        let tokens = if i.is_multiple_of(2) {
            origin.new_session(&format!("user{i}"))
        } else {
            let r = origin.refresh(&refresh_token);
            assert_eq!(r.status, 200, "refresh: {}", r.body);
            let v = r.json();
            refresh_token = v["refresh_token"].as_str().unwrap().to_string();
            v
        };
        let after = now();
        let token = tokens["access_token"].as_str().unwrap().to_string();
        let exp = tokens["access_token_expires_at"].as_f64().unwrap();
        assert!(
            exp > before + 1.9 && exp <= after + 3.0,
            "exp {exp} for ttl 3s"
        );
        issued.push(Issued {
            before,
            after,
            kid: token_kid(&token),
            token,
            exp,
        });

        // Halfway: emergency revoke of the key that just signed.
        if revoked.is_none() && started.elapsed() > Duration::from_secs(7) {
            let kid = issued.last().unwrap().kid.clone();
            let r = origin.post(&format!("/keys/{kid}/revoke"), Some(ADMIN_TOKEN), "");
            assert_eq!(r.status, 200, "revoke: {}", r.body);
            assert_eq!(r.json()["was"], "current");
            revoked = Some((kid, now()));
        }
        std::thread::sleep(Duration::from_millis(120));
    }

    let (revoked_kid, revoked_at) = revoked.expect("the run reached the revoke");
    let signers: BTreeSet<&str> = issued.iter().map(|t| t.kid.as_str()).collect();
    assert!(
        signers.len() >= 5,
        "expected a rotation every 2 s over 14 s, saw signers {signers:?}"
    );

    let mut checked_ok = 0;
    let mut checked_revoked = 0;
    for t in &issued {
        // Published before it signed: some keyset fetched before the token was requested
        // already held its key (the first key excepted).
        if t.before > snapshots[0].after + 0.5 {
            assert!(
                snapshots
                    .iter()
                    .any(|s| s.after < t.before && kids(&s.json).contains(&t.kid)),
                "key {} signed before it was published",
                t.kid
            );
        }
        if t.kid == revoked_kid {
            assert!(
                t.before < revoked_at,
                "a revoked key signed after its revoke"
            );
        }
        for s in snapshots
            .iter()
            .filter(|s| s.before >= t.after && s.after <= t.exp)
        {
            let outcome = verify(&t.token, &s.json, s.before);
            if t.kid == revoked_kid && s.before > revoked_at {
                assert_eq!(
                    outcome,
                    Outcome::Rejected(Reason::UnknownKey),
                    "token of the revoked key against a later keyset"
                );
                checked_revoked += 1;
            } else {
                assert!(
                    matches!(outcome, Outcome::Ok(_)),
                    "token signed by {} at {:.3} (exp {}) against the keyset served at {:.3}: {}",
                    t.kid,
                    t.before,
                    t.exp,
                    s.before,
                    outcome.code()
                );
                checked_ok += 1;
            }
        }
    }
    assert!(checked_ok > 100, "too few checks: {checked_ok}");
    assert!(
        checked_revoked > 0,
        "no keyset was fetched after the revoke within the revoked tokens' lifetime"
    );

    let (status, logs) = origin.stop();
    assert!(
        status.success(),
        "graceful shutdown failed: {status}\n{logs}"
    );
    assert!(logs.contains("signing key rotated"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lifecycle_eddsa_sqlite() {
    lifecycle("EdDSA", Backend::Sqlite);
}

#[test]
fn lifecycle_hs256_sqlite() {
    lifecycle("HS256", Backend::Sqlite);
}

#[test]
fn lifecycle_eddsa_postgres() {
    if let Some(pg) = postgres() {
        lifecycle("EdDSA", pg);
    }
}

#[test]
fn lifecycle_hs256_postgres() {
    if let Some(pg) = postgres() {
        lifecycle("HS256", pg);
    }
}
