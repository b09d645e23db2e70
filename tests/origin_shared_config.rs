//! One configuration per deployment (issue 11 point 2, docs/ORIGIN.md "Many replicas"): two
//! `serve` replicas on one PostgreSQL database with the same master key and nothing else
//! configured share the issuer and the credentials the first one wrote; a replica with a
//! conflicting explicit `issuer` or `api_key` does not start, and says why (naming both issuer
//! values, and never a credential's value).
//!
//! These tests need PostgreSQL (`JWTEDGE_TEST_DATABASE_URL`); see `scripts/pg.sh`.

mod origin_harness;

use std::path::Path;

use origin_harness::*;

/// Shared database and master key only: issuer and credentials left to the deployment.
fn bare_env(dir: &Path, backend: &Backend) -> Vec<(String, String)> {
    let mut env = base_env(dir, backend);
    for k in [
        "JWTEDGE_API_KEY",
        "JWTEDGE_ADMIN_TOKEN",
        "JWTEDGE_EDGE_CREDENTIAL",
        "JWTEDGE_ISSUER",
    ] {
        unset(&mut env, k);
    }
    env
}

/// A credential from a replica's generated `credentials.toml`.
fn generated(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("credentials.toml")).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    table[name].as_str().unwrap().to_string()
}

fn iss(token: &str) -> String {
    let part = token.split('.').nth(1).unwrap();
    let bytes = jwtedge::core::b64url_decode(part.as_bytes()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["iss"].as_str().unwrap().to_string()
}

fn session(o: &Origin, api_key: &str) -> Resp {
    o.post("/sessions", Some(api_key), r#"{"sub":"u1"}"#)
}

#[test]
fn bare_replicas_share_issuer_and_credentials() {
    let Some(pg) = postgres() else { return };
    let (dir_a, dir_b) = (temp_dir("shared-a"), temp_dir("shared-b"));
    let a = Origin::start(&bare_env(&dir_a, &pg), &dir_a);
    let b = Origin::start(&bare_env(&dir_b, &pg), &dir_b);
    assert_ne!(a.addr, b.addr);
    let api_key = generated(&dir_a, "api_key");
    let admin_token = generated(&dir_a, "admin_token");

    let from_a = session(&a, &api_key);
    assert_eq!(from_a.status, 201, "{}", from_a.body);
    let from_b = session(&b, &api_key);
    assert_eq!(
        from_b.status, 201,
        "replica 1's API key on replica 2: {}",
        from_b.body
    );
    let iss_a = iss(from_a.json()["access_token"].as_str().unwrap());
    let iss_b = iss(from_b.json()["access_token"].as_str().unwrap());
    assert_eq!(iss_a, format!("http://{}", a.addr));
    assert_eq!(
        iss_b, iss_a,
        "both replicas sign with the first one's issuer"
    );

    let keys = b.get("/keys", Some(&admin_token));
    assert_eq!(
        keys.status, 200,
        "replica 1's admin token on replica 2: {}",
        keys.body
    );
    // Replica 2's own generated file holds the deployment's credentials, not unused ones.
    assert_eq!(generated(&dir_b, "api_key"), api_key);
    assert!(b.logs().contains("adopted from the shared database"));
    drop((a, b));
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn conflicting_explicit_issuer_is_a_startup_error_naming_both() {
    let Some(pg) = postgres() else { return };
    let (dir_a, dir_b) = (temp_dir("shared-iss-a"), temp_dir("shared-iss-b"));
    let a = Origin::start(&bare_env(&dir_a, &pg), &dir_a);
    let mut env = bare_env(&dir_b, &pg);
    set(&mut env, "JWTEDGE_ISSUER", "https://other.example");
    let err = match Origin::try_start(&env, &dir_b) {
        Ok(_) => panic!("a replica with a conflicting issuer started"),
        Err(e) => e,
    };
    assert!(err.contains("`issuer`"), "{err}");
    assert!(err.contains("JWTEDGE_ISSUER"), "{err}");
    assert!(err.contains("https://other.example"), "{err}");
    assert!(err.contains(&format!("http://{}", a.addr)), "{err}");
    // The same value is no conflict.
    let mut env = bare_env(&dir_b, &pg);
    set(&mut env, "JWTEDGE_ISSUER", &format!("http://{}", a.addr));
    let b = Origin::start(&env, &dir_b);
    drop((a, b));
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn conflicting_explicit_api_key_is_a_startup_error_without_values() {
    let Some(pg) = postgres() else { return };
    let (dir_a, dir_b) = (temp_dir("shared-key-a"), temp_dir("shared-key-b"));
    let a = Origin::start(&bare_env(&dir_a, &pg), &dir_a);
    let stored = generated(&dir_a, "api_key");
    let mine = "a-different-api-key-0123456789";
    let mut env = bare_env(&dir_b, &pg);
    set(&mut env, "JWTEDGE_API_KEY", mine);
    let err = match Origin::try_start(&env, &dir_b) {
        Ok(_) => panic!("a replica with a conflicting api_key started"),
        Err(e) => e,
    };
    assert!(err.contains("`api_key`"), "{err}");
    assert!(
        err.contains("differs from the one stored in the database"),
        "{err}"
    );
    assert!(!err.contains(mine), "the local value is never shown: {err}");
    assert!(
        !err.contains(&stored),
        "the stored value is never shown: {err}"
    );
    // The stored value, given explicitly, is no conflict.
    let mut env = bare_env(&dir_b, &pg);
    set(&mut env, "JWTEDGE_API_KEY", &stored);
    let b = Origin::start(&env, &dir_b);
    assert_eq!(session(&b, &stored).status, 201);
    drop((a, b));
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn config_print_shows_adopted_values_with_source_database() {
    let Some(pg) = postgres() else { return };
    let (dir_a, dir_b) = (temp_dir("shared-print-a"), temp_dir("shared-print-b"));
    let a = Origin::start(&bare_env(&dir_a, &pg), &dir_a);
    let api_key = generated(&dir_a, "api_key");
    let mut env = bare_env(&dir_b, &pg);
    set(&mut env, "JWTEDGE_AUDIENCE", "api");
    let out = run_cli(&["config", "print"], &env, &dir_b);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |key: &str| {
        text.lines()
            .find(|l| l.split('=').next().unwrap().trim() == key)
            .unwrap_or_else(|| panic!("{key} not printed: {text}"))
            .to_string()
    };
    let issuer = line("issuer");
    assert!(issuer.contains(&format!("http://{}", a.addr)), "{issuer}");
    assert!(issuer.ends_with("# database"), "{issuer}");
    assert!(line("api_key").ends_with("# database"), "{text}");
    assert!(line("algorithm").ends_with("# database"), "{text}");
    // Set explicitly (even to the stored value): the explicit source is shown.
    assert!(
        line("audience").ends_with("# env JWTEDGE_AUDIENCE"),
        "{text}"
    );
    assert!(!text.contains(&api_key), "no secret printed: {text}");
    assert!(
        !dir_b.join("credentials.toml").exists(),
        "config print created nothing"
    );
    drop(a);
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}
