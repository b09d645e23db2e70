//! `keys import` of the formats operators have (issue 11, point 4), against the real binary:
//! PKCS#8 PEM as `openssl genpkey` writes it for Ed25519, EC P-256 and RSA 2048, SEC1 and
//! PKCS#1 PEM, and a one-key JWKS. Each imported key becomes current, is published with the
//! file's public key, and signs the tokens `token issue` makes afterwards. Refusals name the
//! format and the problem (two-key JWKS, public-key PEM, 1024-bit RSA, garbage) and never echo
//! the key material. SQLite: the store is not what this exercises.

mod origin_harness;
#[path = "origin_harness/signatures.rs"]
mod signatures;

use std::path::{Path, PathBuf};
use std::process::Command;

use jwtedge::core::b64url_decode;
use origin_harness::*;
use signatures::{token_alg, verify_token};

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn genpkey(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let file = dir.join(name);
    let mut all = vec!["genpkey"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-out", file.to_str().unwrap()]);
    openssl(&all);
    file
}

/// The public key of a private key file as SPKI DER (its last bytes are the raw key/point).
fn spki(file: &Path) -> Vec<u8> {
    openssl(&[
        "pkey",
        "-in",
        file.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
    ])
}

/// The base64 lines of a PEM file's body: none may appear in any output.
fn pem_body(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(String::from)
        .collect()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct Setup {
    dir: PathBuf,
    env: Vec<(String, String)>,
    origin: Origin,
}

impl Setup {
    /// Imports `file`; returns the kid it printed, after checking the server signs with it.
    fn import(&self, file: &Path, force: bool) -> String {
        let mut args = vec!["keys", "import", file.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        let out = run_cli(&args, &self.env, &self.dir);
        let all = text(&out);
        assert!(out.status.success(), "{all}");
        for line in pem_body(file) {
            assert!(!all.contains(&line), "key material in the output: {all}");
        }
        let kid = all
            .split_whitespace()
            .skip_while(|w| *w != "imported")
            .nth(1)
            .unwrap_or_else(|| panic!("no kid in {all:?}"))
            .to_string();
        poll(std::time::Duration::from_secs(3), "import seen", || {
            (self.origin.keys()["current"] == kid.as_str()).then_some(())
        });
        kid
    }

    /// The published JWK of `kid`, after checking a `token issue` token carries `kid`, has
    /// `alg` and verifies against the published keyset.
    fn signs_with(&self, kid: &str, alg: &str) -> serde_json::Value {
        let out = run_cli(&["token", "issue", "--sub", "ops"], &self.env, &self.dir);
        assert!(out.status.success(), "{}", text(&out));
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert_eq!(token_kid(&token), kid);
        assert_eq!(token_alg(&token), alg);
        let keyset = self.origin.get("/.well-known/jwks.json", None).body;
        verify_token(&token, &keyset, now()).unwrap();
        let published: serde_json::Value = serde_json::from_str(&keyset).unwrap();
        published["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .cloned()
            .unwrap()
    }

    /// Runs an import expected to fail; its output, which must not hold the file's PEM body.
    fn refused(&self, file: &Path) -> String {
        let before = self.origin.keys()["current"].clone();
        let out = run_cli(
            &["keys", "import", file.to_str().unwrap(), "--force"],
            &self.env,
            &self.dir,
        );
        let all = text(&out);
        assert!(!out.status.success(), "accepted: {all}");
        if std::fs::read_to_string(file)
            .unwrap()
            .contains("-----BEGIN")
        {
            for line in pem_body(file) {
                assert!(!all.contains(&line), "key material in the output: {all}");
            }
        }
        assert_eq!(self.origin.keys()["current"], before, "nothing imported");
        all
    }
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    b64url_decode(v.as_str().unwrap().as_bytes()).unwrap()
}

#[test]
fn imports_pkcs8_sec1_pkcs1_pem_and_one_key_jwks() {
    let dir = temp_dir("key-import");
    let env = base_env(&dir, &Backend::Sqlite); // EdDSA by default
    let origin = Origin::start(&env, &dir);
    let s = Setup { dir, env, origin };

    // Ed25519 PKCS#8: same algorithm as the current key, no --force.
    let ed = genpkey(&s.dir, "ed.pem", &["-algorithm", "ed25519"]);
    let kid = s.import(&ed, false);
    let jwk = s.signs_with(&kid, "EdDSA");
    assert_eq!(b64(&jwk["x"]), spki(&ed)[12..].to_vec());

    // EC P-256 PKCS#8: another algorithm, so --force (the existing rule still holds).
    let p256 = genpkey(
        &s.dir,
        "p256.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let refused = s.refused_without_force(&p256);
    assert!(refused.contains("--force"), "{refused}");
    let kid = s.import(&p256, true);
    let jwk = s.signs_with(&kid, "ES256");
    let point = spki(&p256)[26..].to_vec();
    assert_eq!(
        [b64(&jwk["x"]), b64(&jwk["y"])].concat(),
        point[1..].to_vec()
    );

    // The same key as SEC1 "EC PRIVATE KEY".
    let sec1 = s.dir.join("sec1.pem");
    openssl(&[
        "ec",
        "-in",
        p256.to_str().unwrap(),
        "-out",
        sec1.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&sec1)
        .unwrap()
        .contains("BEGIN EC PRIVATE KEY"));
    let kid = s.import(&sec1, false);
    let jwk = s.signs_with(&kid, "ES256");
    assert_eq!(
        [b64(&jwk["x"]), b64(&jwk["y"])].concat(),
        point[1..].to_vec()
    );

    // `openssl ecparam -genkey` writes an EC PARAMETERS block before the SEC1 key.
    let ecparam = s.dir.join("ecparam.pem");
    let out = openssl(&["ecparam", "-name", "prime256v1", "-genkey"]);
    std::fs::write(&ecparam, &out).unwrap();
    assert!(String::from_utf8_lossy(&out).contains("BEGIN EC PARAMETERS"));
    let kid = s.import(&ecparam, false);
    let jwk = s.signs_with(&kid, "ES256");
    let point = spki(&ecparam)[26..].to_vec();
    assert_eq!(
        [b64(&jwk["x"]), b64(&jwk["y"])].concat(),
        point[1..].to_vec()
    );

    // RSA 2048 PKCS#8.
    let rsa = genpkey(
        &s.dir,
        "rsa.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let kid = s.import(&rsa, true);
    let jwk = s.signs_with(&kid, "RS256");
    let modulus = String::from_utf8(openssl(&[
        "rsa",
        "-in",
        rsa.to_str().unwrap(),
        "-noout",
        "-modulus",
    ]))
    .unwrap();
    let n_hex: String = b64(&jwk["n"]).iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(modulus.trim(), format!("Modulus={n_hex}"));

    // The same key as PKCS#1 "RSA PRIVATE KEY".
    let pkcs1 = s.dir.join("pkcs1.pem");
    openssl(&[
        "rsa",
        "-in",
        rsa.to_str().unwrap(),
        "-traditional",
        "-out",
        pkcs1.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&pkcs1)
        .unwrap()
        .contains("BEGIN RSA PRIVATE KEY"));
    let kid = s.import(&pkcs1, false);
    assert_eq!(s.signs_with(&kid, "RS256")["n"], jwk["n"]);

    // A JWKS holding one private JWK (RFC 8037 §A.1's key) keeps its kid.
    let jwks = s.dir.join("one.jwks");
    std::fs::write(
        &jwks,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"from-jwks","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    )
    .unwrap();
    assert_eq!(s.import(&jwks, true), "from-jwks");
    let jwk = s.signs_with("from-jwks", "EdDSA");
    assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    let _ = std::fs::remove_dir_all(&s.dir);
}

impl Setup {
    fn refused_without_force(&self, file: &Path) -> String {
        let out = run_cli(
            &["keys", "import", file.to_str().unwrap()],
            &self.env,
            &self.dir,
        );
        assert!(!out.status.success(), "accepted without --force");
        text(&out)
    }
}

#[test]
fn refusals_name_the_format_and_the_problem() {
    let dir = temp_dir("key-import-refused");
    let env = base_env(&dir, &Backend::Sqlite);
    let origin = Origin::start(&env, &dir);
    let s = Setup { dir, env, origin };

    let two = s.dir.join("two.jwks");
    std::fs::write(
        &two,
        r#"{"keys":[{"kty":"oct","k":"c2hvcnRzaG9ydHNob3J0c2hvcnRzaG9ydHNob3J0c2g"},{"kty":"oct","k":"c2hvcnRzaG9ydHNob3J0c2hvcnRzaG9ydHNob3J0c2g"}]}"#,
    )
    .unwrap();
    let msg = s.refused(&two);
    assert!(msg.contains("JSON") && msg.contains("2 keys"), "{msg}");
    assert!(!msg.contains("c2hvcnRz"), "{msg}");

    let no_kty = s.dir.join("no-kty.json");
    std::fs::write(
        &no_kty,
        r#"{"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#,
    )
    .unwrap();
    let msg = s.refused(&no_kty);
    assert!(msg.contains("JSON: not a JWK (no kty)"), "{msg}");
    assert!(!msg.contains("nWGxne"), "{msg}");

    let ed = genpkey(&s.dir, "ed.pem", &["-algorithm", "ed25519"]);
    let public = s.dir.join("public.pem");
    openssl(&[
        "pkey",
        "-in",
        ed.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    let msg = s.refused(&public);
    assert!(
        msg.contains("this is a public key; import needs the private key"),
        "{msg}"
    );

    let small = genpkey(
        &s.dir,
        "rsa1024.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    );
    let msg = s.refused(&small);
    assert!(
        msg.contains("PKCS#8 PEM: RSA key of 1024 bits; at least 2048 needed"),
        "{msg}"
    );

    let p384 = genpkey(
        &s.dir,
        "p384.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    let msg = s.refused(&p384);
    assert!(msg.contains("PKCS#8 PEM") && msg.contains("P-384"), "{msg}");

    let garbage = s.dir.join("garbage.txt");
    std::fs::write(&garbage, "MC4CAQAwBQYDK2VwBCIEI this is not a key\n").unwrap();
    let msg = s.refused(&garbage);
    assert!(
        msg.contains("unrecognised format")
            && msg.contains("JWK")
            && msg.contains("JWKS")
            && msg.contains("PKCS#8"),
        "{msg}"
    );
    assert!(!msg.contains("MC4CAQ"), "{msg}");
    let _ = std::fs::remove_dir_all(&s.dir);
}
