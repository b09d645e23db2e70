//! Sessions against the real binary: the token profile of SPEC §2 (header kid + typ at+jwt;
//! iss, sub, aud, iat, exp, jti, sid and the session's custom claims), refresh with rotation,
//! the grace window, theft detection (401 `token_theft_detected`, session revoked), revoke by
//! refresh token and by API key + session id, refresh-token expiry; and what is at rest:
//! refresh tokens only as SHA-256 hashes, private keys only sealed (the raw secret bytes appear
//! nowhere in the database). SQLite and PostgreSQL.

mod origin_harness;

use std::time::Duration;

use jwtedge::core::{b64url_decode, Outcome};
use origin_harness::*;
use sha2::{Digest, Sha256};

fn decode_part(token: &str, i: usize) -> serde_json::Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&b64url_decode(part.as_bytes()).unwrap()).unwrap()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every byte the database holds, as (description, bytes) rows: key secrets and token hashes.
fn at_rest(backend: &Backend, dir: &std::path::Path) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            // The raw files, WAL included: whatever SQLite wrote anywhere.
            let mut all = Vec::new();
            for name in ["jwtedge.sqlite3", "jwtedge.sqlite3-wal"] {
                if let Ok(b) = std::fs::read(dir.join(name)) {
                    all.extend(b);
                }
            }
            assert!(!all.is_empty());
            all
        }
        Backend::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            let mut all = Vec::new();
            for row in c
                .query(
                    "SELECT kid, public_key, coalesce(sealed_secret, ''::bytea) FROM signing_keys",
                    &[],
                )
                .unwrap()
            {
                all.extend(row.get::<_, String>(0).into_bytes());
                all.extend(row.get::<_, Vec<u8>>(1));
                all.extend(row.get::<_, Vec<u8>>(2));
            }
            for row in c
                .query("SELECT hash, session_id FROM refresh_tokens", &[])
                .unwrap()
            {
                all.extend(row.get::<_, String>(0).into_bytes());
                all.extend(row.get::<_, String>(1).into_bytes());
            }
            all
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn sessions(backend: Backend) {
    let dir = temp_dir("sessions");
    let mut env = base_env(&dir, &backend);
    set(&mut env, "JWTEDGE_ALGORITHM", "HS256");
    set(&mut env, "JWTEDGE_ACCESS_TOKEN_TTL", "90s");
    set(&mut env, "JWTEDGE_REFRESH_GRACE", "1s");
    set(&mut env, "JWTEDGE_AUDIENCE", "orders-api");
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    let origin = Origin::start(&env, &dir);

    // The token profile.
    let r = origin.post(
        "/sessions",
        Some(API_KEY),
        r#"{"sub":"alice","claims":{"role":"admin","tenant":{"id":7}}}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let s = r.json();
    let access = s["access_token"].as_str().unwrap();
    let refresh1 = s["refresh_token"].as_str().unwrap().to_string();
    let sid = s["session_id"].as_str().unwrap().to_string();
    let header = decode_part(access, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], origin.keys()["current"]);
    let claims = decode_part(access, 1);
    assert_eq!(claims["iss"], "https://origin.test");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "orders-api");
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["tenant"]["id"], 7);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    let (iat, exp) = (
        claims["iat"].as_f64().unwrap(),
        claims["exp"].as_f64().unwrap(),
    );
    assert_eq!(exp - iat, 90.0);
    assert!((iat - now()).abs() < 5.0);
    assert_eq!(s["access_token_expires_at"].as_f64().unwrap(), exp);
    let keyset_json = origin.keyset_json();
    let mut o = opts();
    o.audience = Some(vec!["orders-api".into()]);
    assert!(matches!(
        jwtedge::verify(access, &parse_keyset(&keyset_json), &o, now()),
        Outcome::Ok(_)
    ));

    // Refresh rotates; the new token carries the same session and claims.
    let r = origin.refresh(&refresh1);
    assert_eq!(r.status, 200, "{}", r.body);
    let s2 = r.json();
    let refresh2 = s2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh1);
    assert_eq!(s2["session_id"], sid.as_str());
    let claims2 = decode_part(s2["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims2["role"], "admin");
    assert_eq!(claims2["sid"], sid.as_str());
    assert_ne!(claims2["jti"], claims["jti"]);
    // Inside the grace window the rotated token still works (a retry, two tabs)…
    let r = origin.refresh(&refresh1);
    assert_eq!(r.status, 200, "within grace: {}", r.body);
    // …after it, reuse is theft: 401 and the whole session dies.
    std::thread::sleep(Duration::from_millis(1200));
    let r = origin.refresh(&refresh1);
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "token_theft_detected");
    let r = origin.refresh(&refresh2);
    assert_eq!(r.status, 401, "the live token of a revoked session");
    assert_eq!(r.error_code(), "session_revoked");

    // Revoke by refresh token.
    let s = origin.new_session("bob");
    let rt = s["refresh_token"].as_str().unwrap().to_string();
    let r = origin.post(
        "/sessions/revoke",
        None,
        &format!(r#"{{"refresh_token":"{rt}"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["session_id"], s["session_id"]);
    assert_eq!(origin.refresh(&rt).error_code(), "session_revoked");
    let r = origin.post("/sessions/revoke", None, r#"{"refresh_token":"rt_nope"}"#);
    assert_eq!(r.status, 401);

    // Revoke by id with the API key.
    let s = origin.new_session("carol");
    let rt = s["refresh_token"].as_str().unwrap().to_string();
    let body = format!(
        r#"{{"session_id":"{}"}}"#,
        s["session_id"].as_str().unwrap()
    );
    let r = origin.post("/sessions/revoke", Some(API_KEY), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(origin.refresh(&rt).error_code(), "session_revoked");
    let r = origin.post(
        "/sessions/revoke",
        Some(API_KEY),
        r#"{"session_id":"s_nope"}"#,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "session_not_found");
    let r = origin.post(
        "/sessions/revoke",
        Some(API_KEY),
        r#"{"session_id":"a","refresh_token":"b"}"#,
    );
    assert_eq!(r.status, 400);

    // At rest: no refresh token, only its hash; no raw HMAC secret.
    let live = origin.new_session("dave");
    let live_rt = live["refresh_token"].as_str().unwrap().to_string();
    let bytes = at_rest(&backend, &dir);
    for token in [&refresh1, &refresh2, &live_rt] {
        assert!(
            !contains(&bytes, token.as_bytes()),
            "a refresh token is stored in clear"
        );
        assert!(!contains(
            &bytes,
            token.trim_start_matches("rt_").as_bytes()
        ));
    }
    assert!(
        contains(&bytes, sha256_hex(&live_rt).as_bytes()),
        "the refresh token's hash is what is stored"
    );
    let served: serde_json::Value = serde_json::from_str(&origin.keyset_json()).unwrap();
    for k in served["keys"].as_array().unwrap() {
        let secret = b64url_decode(k["k"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(secret.len(), 32);
        assert!(
            !contains(&bytes, &secret),
            "an HMAC secret is stored unencrypted"
        );
        assert!(contains(&bytes, k["kid"].as_str().unwrap().as_bytes()));
    }
    let (status, _) = origin.stop();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sessions_sqlite() {
    sessions(Backend::Sqlite);
}

#[test]
fn sessions_postgres() {
    if let Some(pg) = postgres() {
        sessions(pg);
    }
}

#[test]
fn refresh_token_expiry() {
    let dir = temp_dir("refresh-expiry");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_REFRESH_TOKEN_TTL", "1s");
    let origin = Origin::start(&env, &dir);
    let s = origin.new_session("erin");
    let rt = s["refresh_token"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1100));
    let r = origin.refresh(&rt);
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "refresh_token_expired");
    let _ = std::fs::remove_dir_all(&dir);
}
