//! Two `serve` replicas on one PostgreSQL database (SPEC §7 "many replicas"), real binaries:
//! - both schedulers see the same key fall due at the same moment, and the key table shows one
//!   rotation per interval, never two, all made by exactly one of them;
//! - two conditional manual rotations racing through the two replicas: exactly one rotates;
//! - each replica signs only with keys the other one publishes;
//! - a revoke or a rotation made through one replica reaches the other within 1 s.
//!
//! These tests need PostgreSQL (`JWTEDGE_TEST_DATABASE_URL`); see `scripts/pg.sh`.

mod origin_harness;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use jwtedge::core::Outcome;
use origin_harness::*;

fn two_replicas(
    backend: &Backend,
    extra: &[(&str, &str)],
) -> (Origin, Origin, Vec<std::path::PathBuf>) {
    let mut dirs = vec![];
    let mut replicas = vec![];
    for name in ["replica-a", "replica-b"] {
        let dir = temp_dir(name);
        let mut env = base_env(&dir, backend);
        for (k, v) in extra {
            set(&mut env, k, v);
        }
        replicas.push(Origin::start(&env, &dir));
        dirs.push(dir);
    }
    let b = replicas.pop().unwrap();
    let a = replicas.pop().unwrap();
    (a, b, dirs)
}

fn metric(origin: &Origin, line_prefix: &str) -> u64 {
    let body = origin.get("/metrics", None).body;
    body.lines()
        .find_map(|l| l.strip_prefix(line_prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{line_prefix} not in metrics"))
}

#[test]
fn replicas_rotate_once_per_interval_and_sign_with_published_keys() {
    let Some(pg) = postgres() else { return };
    let (a, b, dirs) = two_replicas(
        &pg,
        &[
            ("JWTEDGE_ROTATION_INTERVAL", "2s"),
            ("JWTEDGE_ACCESS_TOKEN_TTL", "3s"),
            ("JWTEDGE_LEEWAY", "1s"),
        ],
    );
    let started = Instant::now();
    let mut checked = 0;
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(9) {
        i += 1;
        // A token from one replica must verify against the keyset the other serves right now.
        let (signer, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let token = signer.new_session("replica")["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let keyset = other.keyset_json();
        let outcome = verify(&token, &keyset, now());
        assert!(
            matches!(outcome, Outcome::Ok(_)),
            "token of {} from one replica against the other's keyset: {}",
            token_kid(&token),
            outcome.code()
        );
        checked += 1;
        std::thread::sleep(Duration::from_millis(60));
    }
    assert!(checked > 50);

    let listing = a.keys();
    let mut activations: Vec<f64> = listing["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["activated_at"].as_f64())
        .collect();
    activations.sort_by(f64::total_cmp);
    let rotations = activations.len() - 1;
    for w in activations.windows(2) {
        assert!(
            w[1] - w[0] >= 1.95,
            "two rotations {:.3} s apart within one 2 s interval: {activations:?}",
            w[1] - w[0]
        );
    }
    assert!(
        (3..=5).contains(&rotations),
        "{rotations} rotations in ~9 s"
    );
    let by_a = metric(&a, "jwtedge_key_events_total{event=\"scheduled_rotation\"}");
    let by_b = metric(&b, "jwtedge_key_events_total{event=\"scheduled_rotation\"}");
    assert_eq!(
        (by_a + by_b) as usize,
        rotations,
        "each rotation made by exactly one replica (a: {by_a}, b: {by_b})"
    );
    assert_eq!(
        a.keys()["keys"],
        b.keys()["keys"],
        "both see the same table"
    );
    drop((a, b));
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn racing_conditional_rotations_rotate_once() {
    let Some(pg) = postgres() else { return };
    let (a, b, dirs) = two_replicas(&pg, &[("JWTEDGE_ROTATION_INTERVAL", "off")]);
    let a = Arc::new(a);
    let b = Arc::new(b);
    for round in 0..5 {
        let current = a.keys()["current"].as_str().unwrap().to_string();
        let barrier = Arc::new(Barrier::new(2));
        let body = format!(r#"{{"expect_current":"{current}","force":true}}"#);
        let handles: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|replica| {
                let (barrier, body) = (barrier.clone(), body.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    replica.post("/keys/rotate", Some(ADMIN_TOKEN), &body)
                })
            })
            .collect();
        let mut statuses: Vec<u16> = handles
            .into_iter()
            .map(|h| h.join().unwrap().status)
            .collect();
        statuses.sort();
        assert_eq!(statuses, vec![200, 409], "round {round}");
        let listing = a.keys();
        assert_eq!(
            listing["keys"].as_array().unwrap().len(),
            3 + round,
            "one new key per round"
        );
    }
    drop((a, b));
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn changes_reach_the_other_replica_within_a_second() {
    let Some(pg) = postgres() else { return };
    let (a, b, dirs) = two_replicas(&pg, &[("JWTEDGE_ROTATION_INTERVAL", "off")]);
    let signer_of = |o: &Origin| token_kid(o.new_session("p")["access_token"].as_str().unwrap());
    for _ in 0..3 {
        // Revoke through A: B stops publishing it and stops signing with it within 1 s.
        let current = a.keys()["current"].as_str().unwrap().to_string();
        assert_eq!(signer_of(&b), current);
        let r = a.post(&format!("/keys/{current}/revoke"), Some(ADMIN_TOKEN), "");
        assert_eq!(r.status, 200);
        let revoked_at = Instant::now();
        poll(Duration::from_secs(1), "B drops the revoked key", || {
            (!kids(&b.keyset_json()).contains(&current)).then_some(())
        });
        poll(
            Duration::from_secs(1).saturating_sub(revoked_at.elapsed()),
            "B stops signing with the revoked key",
            || (signer_of(&b) != current).then_some(()),
        );
        // Rotate through B: A signs with the new current within 1 s.
        let r = b.post("/keys/rotate?force=true", Some(ADMIN_TOKEN), "");
        assert_eq!(r.status, 200);
        let new_current = r.json()["current"].as_str().unwrap().to_string();
        poll(Duration::from_secs(1), "A signs with B's rotation", || {
            (signer_of(&a) == new_current).then_some(())
        });
    }
    drop((a, b));
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
