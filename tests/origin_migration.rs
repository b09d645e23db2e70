//! Algorithm migration without disruption (issue 9, SPEC §7 `algorithm`), against the real
//! binary on SQLite and PostgreSQL, under a compressed clock (rotation every 3 s, access-token
//! TTL 4 s). The origin runs in one algorithm, is restarted with `algorithm` changed, and keeps
//! serving; a client issues tokens and an edge fetches the keyset all along. Every token
//! verifies against every keyset served from its issue until it expires (so no client would
//! refresh because of the migration); the first key of the new algorithm is published a full
//! interval before it signs; in the end the old keys retire and only the new algorithm is left
//! (for HS256 → ES256 the keyset becomes public). EdDSA → ES256 and HS256 → ES256 (Supabase's
//! "legacy HS256 secret → asymmetric key" migration, done by the schedule).
//! Also the manual path: `keys rotate --algorithm`, and the keyset max-age guard on the
//! rotation that would start signing with it.

mod origin_harness;
#[path = "origin_harness/signatures.rs"]
mod signatures;

use std::time::{Duration, Instant};

use origin_harness::*;
use signatures::{token_alg, verify_token};

const INTERVAL: f64 = 3.0;

struct Issued {
    at: f64,
    token: String,
    alg: String,
    kid: String,
    exp: f64,
}

fn migration(from: &str, to: &str, backend: Backend) {
    let dir = temp_dir(&format!("migrate-{from}-{to}"));
    let mut env = base_env(&dir, &backend);
    set(&mut env, "JWTEDGE_ALGORITHM", from);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "3s");
    set(&mut env, "JWTEDGE_ACCESS_TOKEN_TTL", "4s");
    set(&mut env, "JWTEDGE_LEEWAY", "1s");
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "1s");
    let mut origin = Some(Origin::start(&env, &dir));
    let started = Instant::now();
    let mut switched = false;
    let mut issued: Vec<Issued> = Vec::new();
    let mut checks = 0u32;
    let mut old_checked_after_switchover = 0u32;
    let mut failures: Vec<String> = Vec::new();
    let mut first_seen: Option<(String, f64)> = None; // first key of `to`, when first served
    let mut first_signed: Option<f64> = None;
    let mut finished_at: Option<Instant> = None;
    loop {
        let o = origin.as_ref().unwrap();
        // The edge's view (with the credential, as a worker holding it fetches).
        let keyset = o.keyset_json();
        let fetched = now();
        let served: serde_json::Value = serde_json::from_str(&keyset).unwrap();
        let algs: Vec<String> = served["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["alg"].as_str().unwrap().to_string())
            .collect();
        if first_seen.is_none() {
            if let Some(k) = served["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["alg"] == to)
            {
                first_seen = Some((k["kid"].as_str().unwrap().to_string(), fetched));
            }
        }
        let new_signing = issued.iter().any(|t| t.alg == to);
        // Every token issued so far and not yet expired verifies against what is served now.
        for t in issued.iter().filter(|t| t.exp - 0.3 > fetched) {
            checks += 1;
            if t.alg == from && new_signing {
                old_checked_after_switchover += 1;
            }
            if let Err(e) = verify_token(&t.token, &keyset, fetched) {
                failures.push(format!(
                    "{} token {} issued at +{:.2}s does not verify at +{:.2}s: {e}",
                    t.alg,
                    t.kid,
                    t.at - (fetched - started.elapsed().as_secs_f64()),
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        // A client signs in.
        let s = o.new_session("migrating");
        let token = s["access_token"].as_str().unwrap().to_string();
        let exp = s["access_token_expires_at"].as_f64().unwrap_or_else(|| {
            let claims = token.split('.').nth(1).unwrap();
            let v: serde_json::Value =
                serde_json::from_slice(&jwtedge::core::b64url_decode(claims.as_bytes()).unwrap())
                    .unwrap();
            v["exp"].as_f64().unwrap()
        });
        let alg = token_alg(&token);
        if alg == to && first_signed.is_none() {
            first_signed = Some(now());
        }
        issued.push(Issued {
            at: now(),
            kid: token_kid(&token),
            alg,
            token,
            exp,
        });

        // The operator changes the setting after a second: restart with the new algorithm.
        if !switched && started.elapsed() > Duration::from_secs(1) {
            let (status, _) = origin.take().unwrap().stop();
            assert!(status.success());
            set(&mut env, "JWTEDGE_ALGORITHM", to);
            let restarted = Origin::start(&env, &dir);
            poll(Duration::from_secs(5), "the log notes the change", || {
                restarted.logs().contains("algorithm changed").then_some(())
            });
            origin = Some(restarted);
            switched = true;
            continue;
        }
        // Done once only the new algorithm is served and the last old token has expired.
        if switched && algs.iter().all(|a| a == to) && finished_at.is_none() {
            finished_at = Some(Instant::now());
        }
        if finished_at.is_some_and(|t| t.elapsed() > Duration::from_millis(300)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the migration did not finish in 30 s: served {algs:?}"
        );
        std::thread::sleep(Duration::from_millis(120));
    }
    let origin = origin.unwrap();
    assert!(
        failures.is_empty(),
        "{} of {checks} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checks > 100, "too few checks: {checks}");
    assert!(
        old_checked_after_switchover > 5,
        "{from} tokens were not checked after {to} started signing ({old_checked_after_switchover})"
    );

    // Published a full interval before it signed: seen by the edge, and by the key table.
    let (kid, seen) = first_seen.expect("a key of the new algorithm was served");
    let signed = first_signed.expect("the new algorithm signed");
    assert!(
        signed - seen >= INTERVAL - 0.4,
        "{to} key {kid} signed {:.2}s after the edge first saw it",
        signed - seen
    );
    let listing = origin.keys();
    let key = listing["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .clone();
    let published_for = key["activated_at"].as_f64().unwrap() - key["created_at"].as_f64().unwrap();
    assert!(
        published_for >= INTERVAL - 0.01,
        "published {published_for:.3}s before signing"
    );
    assert_eq!(key["alg"], to);
    // Every old key is retired now.
    for k in listing["keys"].as_array().unwrap() {
        if k["alg"] == from {
            assert_eq!(k["state"], "retired", "{k}");
        }
    }
    // No credential needed any more: the keyset is all public keys, with CORS.
    let public = origin.get("/.well-known/jwks.json", None);
    assert_eq!(public.status, 200, "{}", public.body);
    assert_eq!(public.header("access-control-allow-origin"), Some("*"));
    assert!(public
        .header("cache-control")
        .unwrap()
        .starts_with("public"));
    assert!(kids(&public.body).len() >= 2);
    origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eddsa_to_es256_sqlite() {
    migration("EdDSA", "ES256", Backend::Sqlite);
}

#[test]
fn hs256_to_es256_sqlite() {
    migration("HS256", "ES256", Backend::Sqlite);
}

#[test]
fn eddsa_to_es256_postgres() {
    if let Some(pg) = postgres() {
        migration("EdDSA", "ES256", pg);
    }
}

#[test]
fn hs256_to_es256_postgres() {
    if let Some(pg) = postgres() {
        migration("HS256", "ES256", pg);
    }
}

/// `keys rotate --algorithm ES256` makes the next key ES256; the rotation that would make it
/// sign is refused (409 `next_key_too_new`) until it has been published for one keyset
/// max-age, unless forced.
#[test]
fn manual_rotation_to_another_algorithm_waits_one_keyset_max_age() {
    let dir = temp_dir("manual-migrate");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "2s");
    let origin = Origin::start(&env, &dir);
    let old = origin.new_session("a")["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let out = run_cli(
        &["keys", "rotate", "--algorithm", "ES256", "--force"],
        &env,
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("algorithm = \"ES256\""),
        "tells to change the setting: {printed}"
    );
    let rotated_at = Instant::now();
    let next = poll(
        Duration::from_secs(3),
        "the server sees the rotation",
        || {
            let listing = origin.keys();
            let next = listing["next"].as_str().unwrap().to_string();
            listing["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == next.as_str() && k["alg"] == "ES256")
                .then_some(next)
        },
    );
    // Too early: over HTTP and on the command line.
    let r = origin.post("/keys/rotate", Some(ADMIN_TOKEN), "");
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.error_code(), "next_key_too_new");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("keyset_max_age"));
    let out = run_cli(&["keys", "rotate"], &env, &dir);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("next_key_too_new"));
    assert_eq!(origin.keys()["next"], next.as_str(), "nothing rotated");
    let r = origin.post(
        "/keys/rotate",
        Some(ADMIN_TOKEN),
        r#"{"algorithm":"RS384"}"#,
    );
    assert_eq!(r.status, 400);

    // After one keyset max-age it rotates, and ES256 signs.
    std::thread::sleep(Duration::from_secs(2).saturating_sub(rotated_at.elapsed()));
    let r = origin.post("/keys/rotate", Some(ADMIN_TOKEN), "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["current"], next.as_str());
    let token = origin.new_session("b")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token_alg(&token), "ES256");
    let keyset = origin.keyset_json();
    verify_token(&token, &keyset, now()).unwrap();
    verify_token(&old, &keyset, now()).unwrap();

    // That rotation made a fresh next key in the configured EdDSA: back to it at once is
    // refused too, unless forced (the operator's choice).
    let out = run_cli(&["keys", "rotate"], &env, &dir);
    assert!(!out.status.success());
    let out = run_cli(&["keys", "rotate", "--force"], &env, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll(
        Duration::from_secs(3),
        "the server sees the forced rotation",
        || (origin.keys()["current"] != next.as_str()).then_some(()),
    );
    let token = origin.new_session("c")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token_alg(&token), "EdDSA");
    origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
