//! The origin's signing algorithms and keysets against the real binary (issue 9): ES256 and
//! RS256 keys published as RFC 7518 JWKs and signing tokens that verify outside the origin
//! (p256 / ring from the published JWK; jose in tests/node/origin_jose.test.mjs); private JWK
//! imports of every kind; mixed keysets (SPEC §3: public keys to everyone with CORS, HMAC keys
//! only with the edge credential); `keys import` of another algorithm needing `--force`; and
//! the RFC 8414 metadata. SQLite (the store is not what these exercise; the migration tests in
//! origin_migration.rs run on both backends).

mod origin_harness;
#[path = "origin_harness/signatures.rs"]
mod signatures;

use jwtedge::core::b64url_decode;
use origin_harness::*;
use signatures::{token_alg, verify_token};

fn b64(v: &serde_json::Value) -> Vec<u8> {
    b64url_decode(v.as_str().unwrap().as_bytes()).unwrap()
}

fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64url_decode(parts[1].as_bytes()).unwrap()).unwrap();
    claims["sub"] = "mallory".into();
    parts[1] = jwtedge::core::b64url_encode(claims.to_string().as_bytes());
    parts.join(".")
}

fn asymmetric(alg: &str) {
    let dir = temp_dir(&format!("alg-{alg}"));
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ALGORITHM", alg);
    let origin = Origin::start(&env, &dir);

    // Public keys: served to anyone, cacheable, with CORS.
    let r = origin.get("/.well-known/jwks.json", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r
        .header("cache-control")
        .unwrap()
        .starts_with("public, max-age="));
    let keys = r.json()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2, "current and next: {}", r.body);
    for k in &keys {
        assert_eq!(k["alg"], alg);
        assert_eq!(k["use"], "sig");
        assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(k.get(private).is_none(), "{private} published: {k}");
        }
        match alg {
            "ES256" => {
                assert_eq!(k["kty"], "EC");
                assert_eq!(k["crv"], "P-256");
                assert_eq!((b64(&k["x"]).len(), b64(&k["y"]).len()), (32, 32));
            }
            _ => {
                assert_eq!(k["kty"], "RSA");
                assert_eq!(b64(&k["e"]), [1, 0, 1]);
                let n = b64(&k["n"]);
                assert_eq!(n.len(), 256, "2048-bit modulus without a leading zero");
                assert!(n[0] >= 0x80);
            }
        }
    }
    let keyset = r.body.clone();

    let s = origin.new_session("alice");
    let token = s["access_token"].as_str().unwrap().to_string();
    assert_eq!(token_alg(&token), alg);
    verify_token(&token, &keyset, now()).unwrap();
    assert_eq!(
        verify_token(&tamper(&token), &keyset, now()).unwrap_err(),
        "bad_signature"
    );
    // Signed by the current key, not the next one.
    assert_eq!(
        token_kid(&token),
        origin.keys()["current"].as_str().unwrap()
    );

    // Through a rotation and a restart (keys opened from the store with the master key), the
    // old token still verifies and new tokens come from the promoted key.
    assert_eq!(
        origin
            .post("/keys/rotate?force=true", Some(ADMIN_TOKEN), "")
            .status,
        200
    );
    let (status, _) = origin.stop();
    assert!(status.success());
    let origin = Origin::start(&env, &dir);
    let keyset = origin.get("/.well-known/jwks.json", None).body;
    verify_token(&token, &keyset, now()).unwrap();
    let refreshed = origin.refresh(s["refresh_token"].as_str().unwrap());
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let token2 = refreshed.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(token_kid(&token2), token_kid(&token));
    verify_token(&token2, &keyset, now()).unwrap();
    // `token issue` signs with the same key.
    let out = run_cli(&["token", "issue", "--sub", "bob"], &env, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token3 = String::from_utf8(out.stdout).unwrap().trim().to_string();
    verify_token(&token3, &keyset, now()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn es256_keys_are_published_and_sign_tokens_that_verify() {
    asymmetric("ES256");
}

#[test]
fn rs256_keys_are_published_and_sign_tokens_that_verify() {
    asymmetric("RS256");
}

/// The private keys of ES256 and RS256 keys are sealed in the database: the secret the test
/// opens itself with the master key occurs in no database file.
#[test]
fn ec_and_rsa_private_keys_are_sealed_at_rest() {
    use jwtedge::origin::algorithm::Algorithm;
    use jwtedge::origin::crypto_at_rest::{key_aad, MasterKey};
    for alg in ["ES256", "RS256"] {
        let dir = temp_dir(&format!("sealed-{alg}"));
        let mut env = base_env(&dir, &Backend::Sqlite);
        set(&mut env, "JWTEDGE_ALGORITHM", alg);
        let origin = Origin::start(&env, &dir);
        let _ = origin.new_session("u");
        let (status, logs) = origin.stop();
        assert!(status.success());
        let conn = rusqlite::Connection::open(dir.join("jwtedge.sqlite3")).unwrap();
        let mut stmt = conn
            .prepare("SELECT kid, alg, sealed_secret FROM signing_keys")
            .unwrap();
        let rows: Vec<(String, String, Vec<u8>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 2);
        let master = MasterKey::from_base64(MASTER_KEY).unwrap();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(std::fs::read(&path).unwrap());
            }
        }
        for (kid, row_alg, sealed) in rows {
            assert_eq!(Algorithm::from_name(&row_alg).unwrap().name(), alg);
            let secret = master.open(&key_aad(&kid, &row_alg), &sealed).unwrap();
            assert!(secret.len() >= 32);
            // A distinctive 24-byte window of the secret appears in no file and no log line.
            let window = &secret[secret.len() - 24..];
            for f in &files {
                assert!(
                    !f.windows(24).any(|w| w == window),
                    "{alg} secret in a file"
                );
            }
            let hex: String = window.iter().map(|b| format!("{b:02x}")).collect();
            assert_no_secrets(&logs, &[hex, jwtedge::core::b64url_encode(window)]);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// SPEC §3, mixed keysets: an HS256 key imported into an EdDSA origin does not make the
/// Ed25519 keys private. Without a credential: the public keys, cacheable, CORS; with the edge
/// credential: all keys, `private, no-store`; a wrong credential: 401. Importing the oct key
/// needs `--force` and says what changes.
#[test]
fn mixed_keyset_public_keys_to_everyone_hmac_only_with_the_credential() {
    let dir = temp_dir("mixed");
    let env = base_env(&dir, &Backend::Sqlite);
    let origin = Origin::start(&env, &dir);
    let before = origin.new_session("alice")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let jwk_file = dir.join("hs.jwk");
    let secret = jwtedge::core::b64url_encode(&[7u8; 32]);
    std::fs::write(
        &jwk_file,
        format!(r#"{{"kty":"oct","k":"{secret}","kid":"hs-imported"}}"#),
    )
    .unwrap();
    let file = jwk_file.to_str().unwrap();

    let refused = run_cli(&["keys", "import", file], &env, &dir);
    assert!(!refused.status.success());
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(msg.contains("algorithm_change"), "{msg}");
    assert!(msg.contains("HS256") && msg.contains("EdDSA"), "{msg}");
    assert!(
        msg.contains("edge credential"),
        "says who can no longer verify: {msg}"
    );
    assert!(msg.contains("--force"), "{msg}");
    assert!(!msg.contains(&secret), "the secret in a message");
    assert_eq!(kids(&origin.keyset_json()).len(), 2, "nothing imported");

    let forced = run_cli(&["keys", "import", file, "--force"], &env, &dir);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    poll(
        std::time::Duration::from_secs(3),
        "the import reaches the server",
        || (origin.keys()["current"] == "hs-imported").then_some(()),
    );

    // No credential: the public keys only, cacheable by anyone.
    let public = origin.get("/.well-known/jwks.json", None);
    assert_eq!(public.status, 200, "{}", public.body);
    let public_keys = public.json()["keys"].as_array().unwrap().clone();
    assert_eq!(
        public_keys.len(),
        2,
        "previous, next (EdDSA): {}",
        public.body
    );
    assert!(public_keys.iter().all(|k| k["kty"] == "OKP"));
    assert!(!public.body.contains(&secret));
    assert!(public
        .header("cache-control")
        .unwrap()
        .starts_with("public"));
    assert_eq!(public.header("access-control-allow-origin"), Some("*"));
    assert_eq!(public.header("vary"), Some("Authorization"));
    verify_token(&before, &public.body, now()).unwrap();

    // The edge credential: every key, never cached by a shared cache, no CORS.
    let edge = origin.get("/.well-known/jwks.json", Some(EDGE_CREDENTIAL));
    assert_eq!(edge.status, 200);
    assert_eq!(kids(&edge.body).len(), 3);
    assert!(edge.body.contains(&secret));
    assert!(edge
        .header("cache-control")
        .unwrap()
        .starts_with("private, no-store"));
    assert_eq!(edge.header("access-control-allow-origin"), None);
    assert_eq!(edge.header("vary"), Some("Authorization"));
    assert_ne!(edge.header("etag"), public.header("etag"));
    let after = origin.new_session("bob")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token_alg(&after), "HS256");
    verify_token(&after, &edge.body, now()).unwrap();
    verify_token(&before, &edge.body, now()).unwrap();
    assert!(verify_token(&after, &public.body, now()).is_err());

    // A wrong credential is told so.
    let wrong = origin.get("/.well-known/jwks.json", Some("not-the-edge-credential"));
    assert_eq!(wrong.status, 401);
    assert!(!wrong.body.contains(&secret));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An HS256-only keyset stays behind the credential (no empty public keyset).
#[test]
fn hmac_only_keyset_needs_the_credential() {
    let dir = temp_dir("hmac-only");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ALGORITHM", "HS256");
    let origin = Origin::start(&env, &dir);
    let r = origin.get("/.well-known/jwks.json", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = origin.get("/.well-known/jwks.json", Some(EDGE_CREDENTIAL));
    assert_eq!(r.status, 200);
    assert!(r
        .header("cache-control")
        .unwrap()
        .starts_with("private, no-store"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `keys import` of EC and RSA private JWKs (as jose/WebCrypto export them): the imported key
/// signs, its public JWK is published with the same members, and the import needs `--force`
/// only when the algorithm changes.
#[test]
fn imports_ec_and_rsa_private_jwks() {
    use jwtedge::origin::signing::{ec, rsa};
    let dir = temp_dir("import-ec-rsa");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ALGORITHM", "ES256");
    let origin = Origin::start(&env, &dir);
    let enc = jwtedge::core::b64url_encode;

    let (d, point) = ec::generate();
    let (x, y) = ec::coordinates(&point).unwrap();
    let ec_jwk = serde_json::json!({"kty":"EC","crv":"P-256","x":enc(x),"y":enc(y),"d":enc(&d),
        "kid":"ec-imported","key_ops":["sign"],"ext":true});
    let file = dir.join("ec.jwk");
    std::fs::write(&file, ec_jwk.to_string()).unwrap();
    // Same algorithm as the current key: no --force needed.
    let out = run_cli(&["keys", "import", file.to_str().unwrap()], &env, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll(std::time::Duration::from_secs(3), "import seen", || {
        (origin.keys()["current"] == "ec-imported").then_some(())
    });
    let keyset = origin.get("/.well-known/jwks.json", None).body;
    let published: serde_json::Value = serde_json::from_str(&keyset).unwrap();
    let k = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == "ec-imported")
        .unwrap();
    assert_eq!(
        (k["x"].as_str(), k["y"].as_str()),
        (ec_jwk["x"].as_str(), ec_jwk["y"].as_str())
    );
    let token = origin.new_session("a")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token_kid(&token), "ec-imported");
    verify_token(&token, &keyset, now()).unwrap();

    // RSA with all private members; another algorithm, so --force.
    let (secret, _) = rsa::generate().unwrap();
    let key = ::rsa::pkcs1::RsaPrivateKeyRef::try_from(&secret[..]).unwrap();
    let b = |u: ::rsa::pkcs1::UintRef<'_>| enc(u.as_bytes());
    let rsa_jwk = serde_json::json!({"kty":"RSA","kid":"rsa-imported","alg":"RS256",
        "n":b(key.modulus),"e":b(key.public_exponent),"d":b(key.private_exponent),
        "p":b(key.prime1),"q":b(key.prime2),"dp":b(key.exponent1),"dq":b(key.exponent2),
        "qi":b(key.coefficient)});
    let file = dir.join("rsa.jwk");
    std::fs::write(&file, rsa_jwk.to_string()).unwrap();
    let refused = run_cli(&["keys", "import", file.to_str().unwrap()], &env, &dir);
    assert!(!refused.status.success());
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(
        msg.contains("RS256") && msg.contains("ES256") && msg.contains("--force"),
        "{msg}"
    );
    let out = run_cli(
        &["keys", "import", file.to_str().unwrap(), "--force"],
        &env,
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll(std::time::Duration::from_secs(3), "import seen", || {
        (origin.keys()["current"] == "rsa-imported").then_some(())
    });
    let keyset = origin.get("/.well-known/jwks.json", None).body;
    assert!(keyset.contains(rsa_jwk["n"].as_str().unwrap()));
    let token2 = origin.new_session("b")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token_alg(&token2), "RS256");
    verify_token(&token2, &keyset, now()).unwrap();
    verify_token(&token, &keyset, now()).unwrap();

    // A public-only JWK is refused whatever --force says.
    let mut public_only = rsa_jwk.clone();
    public_only.as_object_mut().unwrap().remove("d");
    public_only["kid"] = "other".into();
    std::fs::write(&file, public_only.to_string()).unwrap();
    let out = run_cli(
        &["keys", "import", file.to_str().unwrap(), "--force"],
        &env,
        &dir,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"d\""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414): issuer, jwks_uri and the
/// algorithms of the published keys, public with CORS; at the issuer's path when it has one;
/// 404 when the issuer is not a URL.
#[test]
fn authorization_server_metadata() {
    let dir = temp_dir("metadata");
    let env = base_env(&dir, &Backend::Sqlite);
    let origin = Origin::start(&env, &dir);
    let r = origin.get("/.well-known/oauth-authorization-server", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let m = r.json();
    assert_eq!(m["issuer"], "https://origin.test");
    assert_eq!(m["jwks_uri"], "https://origin.test/.well-known/jwks.json");
    assert_eq!(
        m["access_token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA"])
    );
    // A manual rotation making an ES256 next key: both algorithms are published now.
    let r = origin.post(
        "/keys/rotate",
        Some(ADMIN_TOKEN),
        r#"{"algorithm":"ES256","force":true}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let m = origin
        .get("/.well-known/oauth-authorization-server", None)
        .json();
    assert_eq!(
        m["access_token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA", "ES256"])
    );
    assert_eq!(
        origin
            .get("/.well-known/oauth-authorization-server/x", None)
            .status,
        404
    );
    origin.stop();

    // An issuer with a path: the metadata lives under it (RFC 8414 §3.1).
    let mut env2 = env.clone();
    set(&mut env2, "JWTEDGE_ISSUER", "https://origin.test/tenant-a");
    let origin = Origin::start(&env2, &dir);
    assert_eq!(
        origin
            .get("/.well-known/oauth-authorization-server", None)
            .status,
        404
    );
    let r = origin.get("/.well-known/oauth-authorization-server/tenant-a", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["jwks_uri"],
        "https://origin.test/tenant-a/.well-known/jwks.json"
    );
    origin.stop();

    let mut env3 = env.clone();
    set(&mut env3, "JWTEDGE_ISSUER", "my-app");
    let origin = Origin::start(&env3, &dir);
    let r = origin.get("/.well-known/oauth-authorization-server", None);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("issuer"), "{}", r.body);
    origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
