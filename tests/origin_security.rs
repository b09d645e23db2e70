//! Security and bad input, against the real binary: credentials (admin, API key, edge
//! credential) missing or wrong → 401 with a JSON error; the HMAC keyset needs the edge
//! credential and is `private, no-store`; the public keyset is cacheable with ETag/304; bodies
//! over the limit → 413; malformed JSON → 400 with a message; and the origin's whole output,
//! at trace level, contains no key material, credential, token or refresh token.

mod origin_harness;

use jwtedge::core::Outcome;
use origin_harness::*;

fn security(backend: Backend) {
    let dir = temp_dir("security");
    let mut env = base_env(&dir, &backend);
    set(&mut env, "JWTEDGE_ALGORITHM", "HS256");
    set(&mut env, "JWTEDGE_LOG", "trace");
    set(&mut env, "JWTEDGE_REFRESH_GRACE", "0s");
    let origin = Origin::start(&env, &dir);
    let mut secrets: Vec<String> = vec![
        API_KEY.into(),
        ADMIN_TOKEN.into(),
        EDGE_CREDENTIAL.into(),
        MASTER_KEY.into(),
        MASTER_KEY.trim_end_matches('=').into(),
    ];

    // Admin endpoints.
    for (method, path) in [
        ("GET", "/keys"),
        ("POST", "/keys/rotate"),
        ("POST", "/keys/somekid/revoke"),
    ] {
        for auth in [
            None,
            Some("wrong-token-0123456789"),
            Some(API_KEY),
            Some(EDGE_CREDENTIAL),
        ] {
            let mut headers = vec![];
            if let Some(a) = auth {
                headers.push(("Authorization".to_string(), format!("Bearer {a}")));
            }
            let body = (method == "POST").then_some(&b""[..]);
            let r = http(&origin.addr, method, path, &headers, body);
            assert_eq!(r.status, 401, "{method} {path} with {auth:?}: {}", r.body);
            assert_eq!(r.error_code(), "unauthorized");
            assert!(!r.json()["message"].as_str().unwrap().is_empty());
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
    }
    // Wrong scheme, and the right token with another scheme.
    let r = http(
        &origin.addr,
        "GET",
        "/keys",
        &[("Authorization".into(), format!("Basic {ADMIN_TOKEN}"))],
        None,
    );
    assert_eq!(r.status, 401);
    // Session creation.
    for auth in [None, Some("wrong-api-key-0123456789"), Some(ADMIN_TOKEN)] {
        let r = origin.post("/sessions", auth, r#"{"sub":"x"}"#);
        assert_eq!(r.status, 401, "POST /sessions with {auth:?}: {}", r.body);
        assert_eq!(r.error_code(), "unauthorized");
    }
    // Revoking a session by id needs the API key.
    let r = origin.post("/sessions/revoke", None, r#"{"session_id":"s_x"}"#);
    assert_eq!(r.status, 401);

    // The HMAC keyset is secret.
    for auth in [None, Some("wrong-edge-0123456789"), Some(API_KEY)] {
        let r = origin.get("/.well-known/jwks.json", auth);
        assert_eq!(r.status, 401, "HMAC keyset with {auth:?}: {}", r.body);
        assert!(!r.body.contains("\"k\""));
    }
    let r = origin.get("/.well-known/jwks.json", Some(EDGE_CREDENTIAL));
    assert_eq!(r.status, 200);
    let cc = r.header("cache-control").unwrap();
    assert!(cc.contains("private") && cc.contains("no-store"), "{cc}");
    let keyset_json = r.body.clone();
    let v: serde_json::Value = serde_json::from_str(&keyset_json).unwrap();
    for k in v["keys"].as_array().unwrap() {
        assert_eq!(k["kty"], "oct");
        assert_eq!(k["alg"], "HS256");
        assert_eq!(k["use"], "sig");
        secrets.push(k["k"].as_str().unwrap().to_string());
    }
    let etag = r.header("etag").unwrap().to_string();
    let r = http(
        &origin.addr,
        "GET",
        "/.well-known/jwks.json",
        &[
            ("Authorization".into(), format!("Bearer {EDGE_CREDENTIAL}")),
            ("If-None-Match".into(), etag.clone()),
        ],
        None,
    );
    assert_eq!(r.status, 304);
    // 304 still needs the credential.
    let r = http(
        &origin.addr,
        "GET",
        "/.well-known/jwks.json",
        &[("If-None-Match".into(), etag)],
        None,
    );
    assert_eq!(r.status, 401);

    // Bodies: over the limit, malformed, wrong shape.
    let big = format!(
        r#"{{"sub":"x","claims":{{"pad":"{}"}}}}"#,
        "a".repeat(70 * 1024)
    );
    let r = origin.post("/sessions", Some(API_KEY), &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.error_code(), "payload_too_large");
    let r = origin.post("/sessions/refresh", None, &big);
    assert_eq!(r.status, 413);
    for (body, code) in [
        (r#"{"sub":"#, "malformed_json"),
        ("not json", "malformed_json"),
        ("", "malformed_json"),
        ("[1,2]", "malformed_json"),
        (r#"{"sub":"a"} trailing"#, "malformed_json"),
        (r#"{"sub":5}"#, "invalid_request"),
        (r#"{"sub":"a","extra":1}"#, "invalid_request"),
        (r#"{"claims":{}}"#, "invalid_request"),
        (r#"{"sub":"a","claims":[1]}"#, "invalid_request"),
        (r#"{"sub":"a","claims":{"exp":1}}"#, "reserved_claim"),
        (r#"{"sub":"a","claims":{"sub":"admin"}}"#, "reserved_claim"),
        (r#"{"sub":""}"#, "invalid_sub"),
    ] {
        let r = origin.post("/sessions", Some(API_KEY), body);
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.error_code(), code, "{body}: {}", r.body);
        assert!(
            r.json()["message"].as_str().unwrap().len() > 5,
            "a message: {}",
            r.body
        );
    }
    let deep = format!(
        r#"{{"sub":"a","claims":{{"x":{}1{}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let r = origin.post("/sessions", Some(API_KEY), &deep);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("nested"), "{}", r.body);
    let r = origin.post(
        "/sessions/refresh",
        None,
        r#"{"refresh_token":"rt_forged"}"#,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "invalid_refresh_token");
    let r = origin.get("/nope", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "not_found");
    // GET /sessions lists a subject's sessions (issue 11); /sessions/refresh is POST only.
    let r = origin.get("/sessions/refresh", Some(API_KEY));
    assert_eq!(r.status, 405);
    assert_eq!(r.error_code(), "method_not_allowed");
    let r = origin.post("/keys/rotate", Some(ADMIN_TOKEN), "{oops");
    assert_eq!(r.status, 400);
    let r = origin.post("/keys/unknown-kid/revoke", Some(ADMIN_TOKEN), "");
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "key_not_found");
    let r = origin.post(
        "/keys/rotate",
        Some(ADMIN_TOKEN),
        r#"{"expect_current":"not-the-current"}"#,
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "current_changed");

    // Real traffic whose secrets must not reach the log.
    let s = origin.new_session("log-check");
    let access = s["access_token"].as_str().unwrap().to_string();
    let refresh = s["refresh_token"].as_str().unwrap().to_string();
    assert!(matches!(
        verify(&access, &keyset_json, now()),
        Outcome::Ok(_)
    ));
    let r = origin.refresh(&refresh);
    assert_eq!(r.status, 200);
    let refreshed = r.json();
    // Reuse after the (zero) grace window: theft.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let r = origin.refresh(&refresh);
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "token_theft_detected");
    let r = origin.post("/keys/rotate?force=true", Some(ADMIN_TOKEN), "");
    assert_eq!(r.status, 200);
    let after_rotation = origin.keyset_json();
    for k in serde_json::from_str::<serde_json::Value>(&after_rotation).unwrap()["keys"]
        .as_array()
        .unwrap()
    {
        secrets.push(k["k"].as_str().unwrap().to_string());
    }
    for token in [&access, refreshed["access_token"].as_str().unwrap()] {
        secrets.push(token.to_string());
        // Each part of a token on its own, too (a log might print the payload or signature).
        for part in token.split('.') {
            secrets.push(part.to_string());
        }
    }
    secrets.push(refresh.clone());
    secrets.push(refresh.trim_start_matches("rt_").to_string());
    secrets.push(refreshed["refresh_token"].as_str().unwrap().to_string());
    let _ = origin.get("/metrics", None);
    // Secrets a careless client puts in the path or query string are not logged either.
    let r = origin.get(&format!("/leak/{access}?refresh_token={refresh}"), None);
    assert_eq!(r.status, 404);
    let r = origin.post(
        &format!("/keys/{access}/revoke?x={refresh}"),
        Some(ADMIN_TOKEN),
        "",
    );
    assert_eq!(r.status, 404);

    let kid = token_kid(&access);
    let (status, logs) = origin.stop();
    assert!(status.success());
    assert!(
        logs.contains(&kid) && logs.contains("/sessions/refresh"),
        "the log was captured (it names kids and paths)"
    );
    assert!(logs.contains("TRACE") || logs.contains("DEBUG") || logs.contains("INFO"));
    assert_no_secrets(&logs, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn security_sqlite() {
    security(Backend::Sqlite);
}

#[test]
fn security_postgres() {
    if let Some(pg) = postgres() {
        security(pg);
    }
}

/// The public keyset: cacheable by anyone, ETag and 304.
#[test]
fn public_keyset_caching() {
    let dir = temp_dir("keyset-cache");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "123s");
    let origin = Origin::start(&env, &dir);
    let r = origin.get("/.well-known/jwks.json", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=123"));
    let etag = r.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    let v = r.json();
    for k in v["keys"].as_array().unwrap() {
        assert_eq!(k["kty"], "OKP");
        assert_eq!(k["crv"], "Ed25519");
        assert_eq!(k["alg"], "EdDSA");
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "no private part");
    }
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"x\", {etag}"),
        "*".into(),
    ] {
        let r = http(
            &origin.addr,
            "GET",
            "/.well-known/jwks.json",
            &[("If-None-Match".into(), inm.clone())],
            None,
        );
        assert_eq!(r.status, 304, "If-None-Match: {inm}");
        assert_eq!(r.body, "");
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        assert_eq!(r.header("cache-control"), Some("public, max-age=123"));
    }
    let r = http(
        &origin.addr,
        "GET",
        "/.well-known/jwks.json",
        &[("If-None-Match".into(), "\"stale\"".into())],
        None,
    );
    assert_eq!(r.status, 200);
    // A rotation changes the keyset and its ETag.
    assert_eq!(
        origin
            .post("/keys/rotate?force=true", Some(ADMIN_TOKEN), "")
            .status,
        200
    );
    let r2 = origin.get("/.well-known/jwks.json", None);
    assert_ne!(r2.header("etag").unwrap(), etag);
    let r = origin.get("/healthz", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    let m = origin.get("/metrics", None);
    assert_eq!(m.status, 200);
    assert!(
        m.body
            .contains("jwtedge_keyset_served_total{status=\"304\"} 4"),
        "{}",
        m.body
    );
    assert!(m
        .body
        .contains("jwtedge_key_events_total{event=\"manual_rotation\"} 1"));
    assert!(m.body.contains("jwtedge_keys{state=\"previous\"} 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// EdDSA private keys: sealed in the database (the raw seed is in no database file), and the
/// seed appears in no log line in any encoding. The test opens the sealed keys itself with the
/// master key it configured, so it knows exactly what must not leak.
#[test]
fn eddsa_private_keys_stay_sealed_and_out_of_the_log() {
    use jwtedge::origin::crypto_at_rest::MasterKey;
    use jwtedge::origin::keys::{KeyRecord, KeyState};
    use jwtedge::origin::signer::{open, Material};

    let dir = temp_dir("eddsa-sealed");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_LOG", "trace");
    set(&mut env, "JWTEDGE_LOG_FORMAT", "json");
    let origin = Origin::start(&env, &dir);
    for i in 0..3 {
        let s = origin.new_session(&format!("u{i}"));
        assert_eq!(
            origin.refresh(s["refresh_token"].as_str().unwrap()).status,
            200
        );
        assert_eq!(
            origin
                .post("/keys/rotate?force=true", Some(ADMIN_TOKEN), "")
                .status,
            200
        );
    }
    let (status, logs) = origin.stop();
    assert!(status.success());
    // Structured: every log line is one JSON object.
    let events: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events
        .iter()
        .any(|e| e["message"] == "signing key rotated" && e["current"].is_string()));

    let db = rusqlite::Connection::open(dir.join("jwtedge.sqlite3")).unwrap();
    let mut stmt = db
        .prepare("SELECT kid, state, public_key, sealed_secret FROM signing_keys")
        .unwrap();
    type KeyRow = (String, String, Vec<u8>, Option<Vec<u8>>);
    let rows: Vec<KeyRow> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(rows.len() >= 5);
    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let mut raw_files = Vec::new();
    for name in ["jwtedge.sqlite3", "jwtedge.sqlite3-wal"] {
        raw_files.extend(std::fs::read(dir.join(name)).unwrap_or_default());
    }
    let mut secrets = vec![];
    let mut opened = 0;
    for (kid, state, public_key, sealed) in rows {
        let record = KeyRecord {
            kid: kid.clone(),
            alg: jwtedge::origin::algorithm::Algorithm::EdDsa,
            state: KeyState::from_name(&state).unwrap(),
            created_at: 0,
            activated_at: None,
            deactivated_at: None,
            revoked_at: None,
            public_key,
            sealed_secret: sealed,
        };
        let Some(Material::Ed25519(key)) = open(&record, &master).unwrap() else {
            continue;
        };
        opened += 1;
        let seed = key.to_bytes();
        assert!(
            !raw_files.windows(32).any(|w| w == seed),
            "the private key of {kid} is stored unencrypted"
        );
        assert!(
            open(&record, &MasterKey::generate()).is_err(),
            "sealed under the master key"
        );
        secrets.push(jwtedge::core::b64url_encode(&seed));
        secrets.push(seed.iter().map(|b| format!("{b:02x}")).collect());
        secrets.push(format!("{:?}", &seed[..12]).replace(' ', ""));
        secrets.push(format!("{:?}", &seed[..12]));
    }
    assert!(
        opened >= 5,
        "next, current and previous keys keep their sealed seeds"
    );
    assert!(logs.contains("signing key rotated"));
    assert_no_secrets(&logs, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}
