//! Restart and crash consistency, against the real binary:
//! - a graceful restart (SIGTERM, exit 0) on the same data directory keeps the same keys (the
//!   keyset is byte-identical: same ETag), live sessions still refresh, tokens still verify;
//! - `kill -9` at random moments while rotations and revokes run, many times: after every
//!   restart exactly one current and one next key exist, every key that was ever seen published
//!   (and not revoked) is still published, no revoked key is, the keyset agrees with the key
//!   table, and earlier tokens still verify.
//!
//! SQLite and PostgreSQL.

mod origin_harness;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jwtedge::core::{Outcome, Reason};
use origin_harness::*;

fn restart(backend: Backend) {
    let dir = temp_dir("restart");
    let mut env = base_env(&dir, &backend);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    let origin = Origin::start(&env, &dir);
    let keys_before = origin.keys();
    let keyset_before = origin.get("/.well-known/jwks.json", None);
    assert_eq!(keyset_before.status, 200);
    let session = origin.new_session("restart-user");
    let access = session["access_token"].as_str().unwrap().to_string();
    let refresh = session["refresh_token"].as_str().unwrap().to_string();
    let (status, logs) = origin.stop();
    assert!(
        status.success(),
        "SIGTERM must end it cleanly: {status}\n{logs}"
    );
    assert!(logs.contains("shutdown requested"));

    let origin = Origin::start(&env, &dir);
    let keys_after = origin.keys();
    assert_eq!(keys_after["current"], keys_before["current"]);
    assert_eq!(keys_after["next"], keys_before["next"]);
    assert_eq!(keys_after["keys"], keys_before["keys"]);
    let keyset_after = origin.get("/.well-known/jwks.json", None);
    assert_eq!(
        keyset_after.body, keyset_before.body,
        "same keys after restart"
    );
    assert_eq!(keyset_after.header("etag"), keyset_before.header("etag"));
    assert!(matches!(
        verify(&access, &keyset_after.body, now()),
        Outcome::Ok(_)
    ));
    let r = origin.refresh(&refresh);
    assert_eq!(
        r.status, 200,
        "the session survives the restart: {}",
        r.body
    );
    let new_access = r.json()["access_token"].as_str().unwrap().to_string();
    match verify(&new_access, &keyset_after.body, now()) {
        Outcome::Ok(v) => assert_eq!(v.claims.sub.as_deref(), Some("restart-user")),
        other => panic!("{}", other.code()),
    }
    let (status, _) = origin.stop();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn restart_sqlite() {
    restart(Backend::Sqlite);
}

#[test]
fn restart_postgres() {
    if let Some(pg) = postgres() {
        restart(pg);
    }
}

/// A small deterministic PRNG (xorshift), seeded from the clock and printed, so a failing run
/// can be replayed with JWTEDGE_TEST_SEED.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("JWTEDGE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| now().to_bits() | 1);
        eprintln!("crash test seed: {seed} (replay with JWTEDGE_TEST_SEED={seed})");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn crash(backend: Backend) {
    let iterations: usize = std::env::var("JWTEDGE_TEST_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = temp_dir("crash");
    let mut env = base_env(&dir, &backend);
    // Scheduled rotations every second on top of the manual ones; long TTL so that nothing
    // retires during the test and "still published" is exact.
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "1s");
    set(&mut env, "JWTEDGE_ACCESS_TOKEN_TTL", "1h");
    let mut rng = Rng::new();
    // Every kid a committed response ever showed us as published, and every revoked kid.
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let revoked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    // Revokes sent whose answer the kill may have swallowed: committed or not, either is fine.
    let pending: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut killed_mid_request = 0;

    for iteration in 0..iterations {
        let origin = Origin::start(&env, &dir);

        // Consistency after the (re)start.
        let listing = origin.keys();
        let rows = listing["keys"].as_array().unwrap();
        let count = |state: &str| rows.iter().filter(|k| k["state"] == state).count();
        assert_eq!(count("current"), 1, "iteration {iteration}: {listing}");
        assert_eq!(count("next"), 1, "iteration {iteration}: {listing}");
        let published: BTreeSet<String> = rows
            .iter()
            .filter(|k| k["published"] == true)
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        let json = origin.keyset_json();
        let served: BTreeSet<String> = kids(&json).into_iter().collect();
        assert_eq!(served, published, "keyset disagrees with the key table");
        {
            let mut pending = pending.lock().unwrap();
            let mut revoked = revoked.lock().unwrap();
            for kid in std::mem::take(&mut *pending) {
                if !served.contains(&kid) {
                    revoked.insert(kid);
                }
            }
        }
        let revoked_now = revoked.lock().unwrap().clone();
        for kid in seen.lock().unwrap().iter() {
            if revoked_now.contains(kid) {
                assert!(!served.contains(kid), "revoked key {kid} published again");
            } else {
                assert!(
                    served.contains(kid),
                    "iteration {iteration}: key {kid} was published before the crash and is lost"
                );
            }
        }
        for token in tokens.lock().unwrap().iter() {
            let outcome = verify(token, &json, now());
            let kid = token_kid(token);
            if revoked_now.contains(&kid) {
                assert_eq!(outcome, Outcome::Rejected(Reason::UnknownKey));
            } else {
                assert!(
                    matches!(outcome, Outcome::Ok(_)),
                    "iteration {iteration}: earlier token of {kid}: {}",
                    outcome.code()
                );
            }
        }

        // Load: rotations, now and then a revoke or a new token, until the kill.
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let (addr, stop) = (origin.addr.clone(), stop.clone());
            let (seen, revoked, tokens) = (seen.clone(), revoked.clone(), tokens.clone());
            let pending = pending.clone();
            let mut local = Rng(rng.below(u64::MAX) | 1);
            std::thread::spawn(move || {
                let auth = |t: &str| vec![("Authorization".to_string(), format!("Bearer {t}"))];
                let mut in_flight_at_kill = false;
                while !stop.load(Ordering::SeqCst) {
                    let pick = local.below(10);
                    let result = if pick < 7 {
                        try_http(
                            &addr,
                            "POST",
                            "/keys/rotate?force=true",
                            &auth(ADMIN_TOKEN),
                            Some(b""),
                        )
                    } else if pick < 8 {
                        // Revoke the current key (a real emergency path: next takes over).
                        let listing = try_http(&addr, "GET", "/keys", &auth(ADMIN_TOKEN), None);
                        match listing {
                            Ok(r) if r.status == 200 => {
                                let kid = r.json()["current"].as_str().unwrap().to_string();
                                pending.lock().unwrap().insert(kid.clone());
                                let res = try_http(
                                    &addr,
                                    "POST",
                                    &format!("/keys/{kid}/revoke"),
                                    &auth(ADMIN_TOKEN),
                                    Some(b""),
                                );
                                if matches!(&res, Ok(r) if r.status == 200) {
                                    pending.lock().unwrap().remove(&kid);
                                    revoked.lock().unwrap().insert(kid);
                                }
                                res
                            }
                            other => other,
                        }
                    } else {
                        let res = try_http(
                            &addr,
                            "POST",
                            "/sessions",
                            &auth(API_KEY),
                            Some(br#"{"sub":"crash"}"#),
                        );
                        if let Ok(r) = &res {
                            if r.status == 201 {
                                tokens
                                    .lock()
                                    .unwrap()
                                    .push(r.json()["access_token"].as_str().unwrap().into());
                            }
                        }
                        res
                    };
                    match result {
                        Ok(r) if r.status == 200 && pick < 7 => {
                            let v = r.json();
                            let mut seen = seen.lock().unwrap();
                            for role in ["current", "next", "previous"] {
                                if let Some(kid) = v[role].as_str() {
                                    seen.insert(kid.to_string());
                                }
                            }
                        }
                        Ok(r) if r.status >= 500 => {
                            panic!("server error {} {}", r.status, r.body)
                        }
                        Ok(_) => {}
                        Err(_) => {
                            in_flight_at_kill = true;
                            break;
                        }
                    }
                    // And what the keyset says, now and then.
                    if local.below(4) == 0 {
                        if let Ok(r) = try_http(&addr, "GET", "/.well-known/jwks.json", &[], None) {
                            if r.status == 200 {
                                seen.lock().unwrap().extend(kids(&r.body));
                            }
                        }
                    }
                }
                in_flight_at_kill
            })
        };
        std::thread::sleep(Duration::from_millis(50 + rng.below(400)));
        let logs = origin.kill9();
        stop.store(true, Ordering::SeqCst);
        if worker.join().expect("worker panicked") {
            killed_mid_request += 1;
        }
        assert!(!logs.contains("panicked"), "{logs}");
    }
    eprintln!(
        "crash test: {iterations} kills, {killed_mid_request} with a request in flight, {} keys seen, {} revoked",
        seen.lock().unwrap().len(),
        revoked.lock().unwrap().len()
    );
    assert!(
        seen.lock().unwrap().len() > iterations,
        "too little happened"
    );
    assert!(
        killed_mid_request > 0,
        "no kill landed during a request: the test did not test anything"
    );

    // A last clean start must still be consistent.
    let origin = Origin::start(&env, &dir);
    let listing = origin.keys();
    assert!(listing["current"].is_string() && listing["next"].is_string());
    let (status, _) = origin.stop();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crash_consistency_sqlite() {
    crash(Backend::Sqlite);
}

#[test]
fn crash_consistency_postgres() {
    if let Some(pg) = postgres() {
        crash(pg);
    }
}
