//! The shared verification vectors, natively: every vector gets its SPEC §4 outcome, and every
//! row of the table that a pure verification can produce is covered.

mod common;

use std::collections::BTreeSet;

use jwtedge::core::{Algorithm, Keyset, KeysetLimits, TypeExpectation, VerifyOptions};
use jwtedge::{verify, Outcome};
use serde_json::Value;

/// The JavaScript option names of SPEC §6, read into the core's options.
fn options(json: &str) -> VerifyOptions {
    let v: Value = serde_json::from_str(json).unwrap();
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
            _ => panic!("bad option {v}"),
        }
    };
    let mut o = VerifyOptions::default();
    for (name, value) in v.as_object().unwrap() {
        match name.as_str() {
            "issuer" => o.issuer = Some(strings(value)),
            "audience" => o.audience = Some(strings(value)),
            "algorithms" => {
                o.algorithms = strings(value)
                    .iter()
                    .map(|a| Algorithm::from_name(a).unwrap())
                    .collect()
            }
            "leewaySeconds" => o.leeway_seconds = value.as_f64().unwrap(),
            "maxTokenBytes" => o.max_token_bytes = value.as_u64().unwrap() as usize,
            "tokenType" => o.token_type = TypeExpectation::Exactly(value.as_str().unwrap().into()),
            "requiredClaims" => o.required_claims = strings(value),
            other => panic!("vector uses unknown option {other}"),
        }
    }
    o
}

#[test]
fn every_vector_gets_its_outcome() {
    let vectors = common::vectors();
    assert!(vectors.len() >= 60, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for vector in &vectors {
        let keyset = Keyset::from_jwks_json(vector.jwks.as_bytes(), KeysetLimits::default())
            .unwrap_or_else(|e| panic!("{}: keyset {e}", vector.name));
        let got = verify(
            &vector.token,
            &keyset,
            &options(&vector.options),
            vector.now,
        )
        .code();
        if got != vector.expect {
            failures.push(format!(
                "{}: expected {}, got {got}",
                vector.name, vector.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_pure_outcome_row_is_covered() {
    let produced: BTreeSet<&str> = common::vectors().iter().map(|v| v.expect).collect();
    for reason in jwtedge::Reason::ALL {
        if reason.status() == jwtedge::Status::KeysetUnavailable {
            continue; // produced by the cache policy: tests/cache_policy.rs
        }
        assert!(
            produced.contains(reason.to_string().as_str()),
            "no vector yields {reason}"
        );
    }
    assert!(produced.contains("OK"));
}

#[test]
fn ok_carries_claims_kid_and_alg() {
    let token = common::ed_token(
        1,
        r#"{"alg":"EdDSA","kid":"ed-1"}"#,
        &common::claims_with(r#""scope":"read write""#),
    );
    let keyset =
        Keyset::from_jwks_json(common::jwks().as_bytes(), KeysetLimits::default()).unwrap();
    let Outcome::Ok(verified) = verify(&token, &keyset, &VerifyOptions::default(), common::NOW)
    else {
        panic!("not OK");
    };
    assert_eq!(verified.kid.as_deref(), Some("ed-1"));
    assert_eq!(verified.alg, Algorithm::EdDsa);
    assert_eq!(verified.claims.sub.as_deref(), Some("user-1"));
    let claims: Value = serde_json::from_str(&verified.claims_json).unwrap();
    assert_eq!(claims["scope"], "read write");
    assert_eq!(claims["sid"], "s-1");
}

/// Random mutations of valid tokens never panic and never verify.
#[test]
fn mutated_tokens_never_panic_or_pass() {
    let keyset =
        Keyset::from_jwks_json(common::jwks().as_bytes(), KeysetLimits::default()).unwrap();
    let opts = VerifyOptions::default();
    let base = [
        common::ed_token(
            1,
            r#"{"alg":"EdDSA","kid":"ed-1"}"#,
            &common::claims_with(""),
        ),
        common::hs_token(
            &common::HS_SECRET,
            r#"{"alg":"HS256","kid":"hs-1"}"#,
            &common::claims_with(""),
        ),
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..5_000 {
        let mut bytes = base[round % 2].as_bytes().to_vec();
        for _ in 0..(1 + next() % 3) {
            let i = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[i] = (next() % 256) as u8,
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, b"._-A0={}\"[]"[(next() % 11) as usize]),
            }
        }
        let token = String::from_utf8_lossy(&bytes);
        let outcome = verify(&token, &keyset, &opts, common::NOW);
        assert!(
            outcome.status() != jwtedge::Status::Ok || token == base[round % 2],
            "{token}"
        );
    }
}

/// SPEC §3: a keyset in which no key is usable — empty, or only kinds jwtedge skips — is
/// `invalid_keyset`, never an empty keyset that would turn every token into `unknown_key`.
#[test]
fn a_keyset_without_a_usable_key_is_refused() {
    use jwtedge::core::KeysetError;
    for jwks in [
        r#"{"keys":[]}"#,
        r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}]}"#,
        r#"{"keys":[{"kty":"oct","k":"c2hvcnQ","kid":"short"}]}"#,
    ] {
        assert_eq!(
            Keyset::from_jwks_json(jwks.as_bytes(), KeysetLimits::default()).unwrap_err(),
            KeysetError::NoUsableKey,
            "{jwks}"
        );
    }
    let one = format!(r#"{{"keys":[{}]}}"#, common::ed_jwk("ed-1", 1));
    assert_eq!(
        Keyset::from_jwks_json(one.as_bytes(), KeysetLimits::default())
            .unwrap()
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// RSA and ECDSA (SPEC §2, §3, §3a): the core checks everything but the signature, which it hands
// out as a `Step::Runtime`; ring stands in for the runtime (tests/common/runtime.rs).

mod runtime_algorithms {
    use super::common::{self, runtime, token_with, NOW};
    use jwtedge::core::{
        b64url_decode, b64url_encode as b64, verify_using, Algorithm, Keyset, KeysetError,
        KeysetLimits, Step, UntrustedToken, VerifyOptions,
    };
    use jwtedge::verify;

    const RSA_ALGS: [Algorithm; 6] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
    ];

    fn keyset(keys: &[String]) -> Result<Keyset, KeysetError> {
        let json = format!(r#"{{"keys":[{}]}}"#, keys.join(","));
        Keyset::from_jwks_json(json.as_bytes(), KeysetLimits::default())
    }

    fn rsa_jwk(kid: &str, alg: Option<&str>, leading_zero: bool) -> String {
        let alg = alg.map_or(String::new(), |a| format!(r#","alg":"{a}""#));
        format!(
            r#"{{"kty":"RSA",{},"kid":"{kid}"{alg}}}"#,
            runtime::rsa_members(runtime::RSA_2048, leading_zero)
        )
    }

    fn ec_jwk(kid: &str, alg: Algorithm, extra: &str) -> String {
        let pk = if alg == Algorithm::Es384 {
            runtime::EC_P384
        } else {
            runtime::EC_P256
        };
        format!(
            r#"{{"kty":"EC",{},"kid":"{kid}"{extra}}}"#,
            runtime::ec_members(alg, pk)
        )
    }

    fn key_for(alg: Algorithm) -> &'static [u8] {
        match alg {
            Algorithm::Es256 => runtime::EC_P256,
            Algorithm::Es384 => runtime::EC_P384,
            _ => runtime::RSA_2048,
        }
    }

    fn token(alg: Algorithm, kid: Option<&str>, claims: &str) -> String {
        let kid = kid.map_or(String::new(), |k| format!(r#","kid":"{k}""#));
        let header = format!(r#"{{"alg":"{}"{kid},"typ":"at+jwt"}}"#, alg.name());
        token_with(&header, claims, |m| runtime::sign(alg, key_for(alg), m))
    }

    fn code(token: &str, keyset: &Keyset) -> String {
        verify_using(
            token,
            keyset,
            &VerifyOptions::default(),
            NOW,
            runtime::check,
        )
        .code()
    }

    fn flip_signature(token: &str) -> String {
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig = b64url_decode(sig.as_bytes()).unwrap();
        sig[7] ^= 0x40;
        format!("{head}.{}", b64(&sig))
    }

    fn expired() -> String {
        common::claims_over(&[("exp", &format!("{}", NOW - 1.0))])
    }

    #[test]
    fn every_rsa_and_ec_algorithm_verifies_and_fails_as_the_spec_says() {
        let good = common::claims_with("");
        let mut keys: Vec<String> = RSA_ALGS
            .iter()
            .map(|a| rsa_jwk(&format!("rsa-{a}"), Some(a.name()), false))
            .collect();
        keys.push(ec_jwk("ec-256", Algorithm::Es256, r#","alg":"ES256""#));
        keys.push(ec_jwk("ec-384", Algorithm::Es384, ""));
        let ks = keyset(&keys).unwrap();
        assert_eq!(ks.len(), 8);
        let cases: Vec<(Algorithm, String)> = RSA_ALGS
            .iter()
            .map(|a| (*a, format!("rsa-{a}")))
            .chain([
                (Algorithm::Es256, "ec-256".to_string()),
                (Algorithm::Es384, "ec-384".to_string()),
            ])
            .collect();
        for (alg, kid) in cases {
            let ok = token(alg, Some(&kid), &good);
            assert_eq!(code(&ok, &ks), "OK", "{alg}");
            assert_eq!(
                code(&flip_signature(&ok), &ks),
                "UNAUTHORISED/bad_signature",
                "{alg}"
            );
            assert_eq!(
                code(&token(alg, Some(&kid), &expired()), &ks),
                "TRY_REFRESH_TOKEN/expired",
                "{alg}"
            );
            // Signed by the key, but claims changed after signing.
            let (h, rest) = ok.split_once('.').unwrap();
            let (_, s) = rest.split_once('.').unwrap();
            let forged = format!(
                "{h}.{}.{s}",
                b64(common::claims_with(r#""admin":true"#).as_bytes())
            );
            assert_eq!(code(&forged, &ks), "UNAUTHORISED/bad_signature", "{alg}");
            // Without a runtime check the core cannot judge the signature: never OK.
            assert_eq!(
                verify(&ok, &ks, &VerifyOptions::default(), NOW).code(),
                "UNAUTHORISED/unsupported_algorithm"
            );
        }
    }

    #[test]
    fn the_core_hands_out_alg_key_input_and_signature() {
        let ks = keyset(&[rsa_jwk("r", None, false)]).unwrap();
        let t = token(Algorithm::Ps384, Some("r"), &common::claims_with(""));
        let untrusted = UntrustedToken::parse(&t, &VerifyOptions::default()).unwrap();
        let Step::Runtime(check) = untrusted.check(&ks, &VerifyOptions::default(), NOW) else {
            panic!("an RSA key is checked by the runtime");
        };
        assert_eq!(check.alg, Algorithm::Ps384);
        assert_eq!(check.key.kid.as_deref(), Some("r"));
        assert_eq!(
            check.signing_input,
            t.rsplit_once('.').unwrap().0.as_bytes()
        );
        assert_eq!(check.signature.len(), 256);
        // The claims are judged only after the verdict.
        assert_eq!(
            check.finish(false, &VerifyOptions::default(), NOW).code(),
            "UNAUTHORISED/bad_signature"
        );
    }

    #[test]
    fn an_rsa_key_without_alg_takes_the_rsa_family_named_by_the_token() {
        let ks = keyset(&[rsa_jwk("r", None, true)]).unwrap();
        for alg in RSA_ALGS {
            assert_eq!(
                code(&token(alg, Some("r"), &common::claims_with("")), &ks),
                "OK",
                "{alg}"
            );
        }
        // But only the RSA family, and only the algorithms allowed.
        let hs = common::hs_token(
            &[1; 32],
            r#"{"alg":"HS256","kid":"r"}"#,
            &common::claims_with(""),
        );
        assert_eq!(code(&hs, &ks), "UNAUTHORISED/unsupported_algorithm");
        let only_rs256 = VerifyOptions {
            algorithms: vec![Algorithm::Rs256],
            ..VerifyOptions::default()
        };
        let ps = token(Algorithm::Ps256, Some("r"), &common::claims_with(""));
        assert_eq!(
            verify_using(&ps, &ks, &only_rs256, NOW, runtime::check).code(),
            "UNAUTHORISED/unsupported_algorithm"
        );
    }

    #[test]
    fn the_key_alg_pins_the_algorithm() {
        let ks = keyset(&[
            rsa_jwk("rs", Some("RS256"), false),
            ec_jwk("ec", Algorithm::Es256, ""),
        ])
        .unwrap();
        let claims = common::claims_with("");
        for (alg, kid) in [
            (Algorithm::Ps256, "rs"),
            (Algorithm::Rs384, "rs"),
            (Algorithm::Es384, "ec"),
            (Algorithm::Rs256, "ec"),
        ] {
            let t = token(alg, Some(kid), &claims);
            assert_eq!(
                code(&t, &ks),
                "UNAUTHORISED/unsupported_algorithm",
                "{alg} with {kid}"
            );
        }
        // Algorithm confusion: the RSA public key's bytes as an HMAC secret under its kid.
        let members = runtime::rsa_members(runtime::RSA_2048, false);
        let n = members.split('"').nth(3).unwrap();
        let confused = common::hs_token(n.as_bytes(), r#"{"alg":"HS256","kid":"rs"}"#, &claims);
        assert_eq!(code(&confused, &ks), "UNAUTHORISED/unsupported_algorithm");
        // An HMAC key never verifies an asymmetric alg, nor an `alg` of another kind loads.
        let hk = format!(
            r#"{{"kty":"oct","k":"{}","kid":"h","alg":"RS256"}}"#,
            b64(&[3; 64])
        );
        assert_eq!(keyset(&[hk]).unwrap_err(), KeysetError::NoUsableKey);
        let ek = ec_jwk("e", Algorithm::Es256, r#","alg":"ES384""#);
        assert_eq!(keyset(&[ek]).unwrap_err(), KeysetError::NoUsableKey);
    }

    /// SPEC §3: keys the verifier cannot use are skipped, not fatal; extra members are ignored.
    #[test]
    fn unusable_keys_are_skipped_and_extra_members_ignored() {
        let n1024 = b64(&[0xc5; 128]);
        let skipped = [
            format!(r#"{{"kty":"RSA","n":"{n1024}","e":"AQAB","kid":"small"}}"#),
            rsa_jwk("enc", None, false).replace(r#""kid""#, r#""use":"enc","kid""#),
            rsa_jwk("ops", None, false).replace(r#""kid""#, r#""key_ops":["encrypt"],"kid""#),
            rsa_jwk("even-e", None, false).replace(r#""e":"AQAB""#, r#""e":"AQAA""#),
            rsa_jwk("no-e", None, false).replace(r#","e":"AQAB""#, ""),
            ec_jwk("k1", Algorithm::Es256, "").replace("P-256", "secp256k1"),
            ec_jwk("short-x", Algorithm::Es256, "").replace(r#""x":""#, r#""x":"AA"#),
            ec_jwk("mixed", Algorithm::Es256, "").replace("P-256", "P-384"),
            r#"{"kty":"OKP","crv":"X448","x":"AA","kid":"x448"}"#.to_string(),
            r#"{"kty":"weird","kid":"w"}"#.to_string(),
        ];
        for key in &skipped {
            assert_eq!(
                keyset(std::slice::from_ref(key)).unwrap_err(),
                KeysetError::NoUsableKey,
                "{key}"
            );
        }
        let kept = rsa_jwk("kept", Some("RS256"), true).replace(
            r#""kid""#,
            r#""use":"sig","key_ops":["verify"],"ext":true,"x5t":"abc","x5c":["MIIC"],"kid""#,
        );
        let mut all = skipped.to_vec();
        all.push(kept);
        let ks = keyset(&all).unwrap();
        assert_eq!(ks.len(), 1);
        let t = token(Algorithm::Rs256, Some("kept"), &common::claims_with(""));
        assert_eq!(code(&t, &ks), "OK");
    }

    /// ECDSA signatures are the JWS `r||s` form of fixed size: DER, or any other length, is
    /// `bad_signature` without the runtime being asked.
    #[test]
    fn ecdsa_signatures_of_the_wrong_form_are_bad_signatures() {
        let ks = keyset(&[
            ec_jwk("ec", Algorithm::Es256, ""),
            rsa_jwk("r", None, false),
        ])
        .unwrap();
        let ok = token(Algorithm::Es256, Some("ec"), &common::claims_with(""));
        let (input, sig) = ok.rsplit_once('.').unwrap();
        let raw = b64url_decode(sig.as_bytes()).unwrap();
        let der_int = |v: &[u8]| {
            let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
            let v = if v[0] & 0x80 != 0 {
                [&[0u8][..], &v].concat()
            } else {
                v
            };
            [&[2u8, v.len() as u8][..], &v].concat()
        };
        let body = [der_int(&raw[..32]), der_int(&raw[32..])].concat();
        let der = [&[0x30u8, body.len() as u8][..], &body].concat();
        let never = |_: &jwtedge::core::RuntimeCheck<'_, '_>| -> Option<bool> {
            panic!("a signature of the wrong length reached the runtime")
        };
        for bad in [
            der,
            raw[..63].to_vec(),
            [&raw[..], &[0]].concat(),
            Vec::new(),
        ] {
            let t = format!("{input}.{}", b64(&bad));
            assert_eq!(
                verify_using(&t, &ks, &VerifyOptions::default(), NOW, never).code(),
                "UNAUTHORISED/bad_signature"
            );
        }
        // An RSA signature one byte short is refused the same way.
        let rs = token(Algorithm::Rs256, Some("r"), &common::claims_with(""));
        let (input, sig) = rs.rsplit_once('.').unwrap();
        let sig = b64url_decode(sig.as_bytes()).unwrap();
        let t = format!("{input}.{}", b64(&sig[1..]));
        assert_eq!(
            verify_using(&t, &ks, &VerifyOptions::default(), NOW, never).code(),
            "UNAUTHORISED/bad_signature"
        );
    }

    /// SPEC §3: a token without `kid` verifies against the one key of its alg.
    #[test]
    fn kidless_tokens_find_the_one_key_of_their_alg() {
        let claims = common::claims_with("");
        let one = keyset(&[rsa_jwk("r", None, false), ec_jwk("e", Algorithm::Es256, "")]).unwrap();
        assert_eq!(code(&token(Algorithm::Rs256, None, &claims), &one), "OK");
        assert_eq!(code(&token(Algorithm::Es256, None, &claims), &one), "OK");
        let two = keyset(&[
            rsa_jwk("r1", None, false),
            rsa_jwk("r2", Some("RS256"), false),
        ])
        .unwrap();
        assert_eq!(
            code(&token(Algorithm::Rs256, None, &claims), &two),
            "UNAUTHORISED/malformed"
        );
        let other = format!(
            r#"{{"kty":"RSA",{},"kid":"r3"}}"#,
            runtime::rsa_members(runtime::RSA_3072, false)
        );
        let ks = keyset(&[other]).unwrap();
        let t = token_with(r#"{"alg":"RS256"}"#, &claims, |m| {
            runtime::sign(Algorithm::Rs256, runtime::RSA_3072, m)
        });
        assert_eq!(code(&t, &ks), "OK");
        // Signed by another key of the same size: bad signature.
        let wrong = token_with(r#"{"alg":"RS256","kid":"r3"}"#, &claims, |m| {
            let mut s = runtime::sign(Algorithm::Rs256, runtime::RSA_2048, m);
            s.extend_from_slice(&[0; 128]);
            s
        });
        assert_eq!(code(&wrong, &ks), "UNAUTHORISED/bad_signature");
    }

    /// The fixed RS256/ES256 vectors the wasm tests check through WebCrypto hold natively too.
    #[test]
    fn the_fixed_runtime_vectors_verify() {
        let ks = Keyset::from_jwks_json(common::RUNTIME_JWKS.as_bytes(), KeysetLimits::default())
            .unwrap();
        for token in [common::RS256_TOKEN, common::ES256_TOKEN] {
            assert_eq!(code(token, &ks), "OK");
            assert_eq!(
                code(&flip_signature(token), &ks),
                "UNAUTHORISED/bad_signature"
            );
        }
    }

    #[test]
    fn hs384_and_hs512_verify_in_the_core() {
        use hmac::{Hmac, Mac};
        let secret = [9u8; 64];
        let ks = keyset(&[
            format!(
                r#"{{"kty":"oct","k":"{}","kid":"h384","alg":"HS384"}}"#,
                b64(&secret[..48])
            ),
            format!(
                r#"{{"kty":"oct","k":"{}","kid":"h512","alg":"HS512"}}"#,
                b64(&secret)
            ),
            // Shorter than the hash: skipped (RFC 7518 §3.2).
            format!(
                r#"{{"kty":"oct","k":"{}","kid":"short","alg":"HS512"}}"#,
                b64(&secret[..48])
            ),
        ])
        .unwrap();
        assert_eq!(ks.len(), 2);
        let claims = common::claims_with("");
        let t384 = token_with(r#"{"alg":"HS384","kid":"h384"}"#, &claims, |m| {
            let mut mac = Hmac::<sha2::Sha384>::new_from_slice(&secret[..48]).unwrap();
            mac.update(m);
            mac.finalize().into_bytes().to_vec()
        });
        let t512 = token_with(r#"{"alg":"HS512","kid":"h512"}"#, &claims, |m| {
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&secret).unwrap();
            mac.update(m);
            mac.finalize().into_bytes().to_vec()
        });
        let opts = VerifyOptions::default();
        assert_eq!(verify(&t384, &ks, &opts, NOW).code(), "OK");
        assert_eq!(verify(&t512, &ks, &opts, NOW).code(), "OK");
        assert_eq!(
            verify(&flip_signature(&t512), &ks, &opts, NOW).code(),
            "UNAUTHORISED/bad_signature"
        );
        let cross = t384.replacen(
            &b64(br#"{"alg":"HS384","kid":"h384"}"#),
            &b64(br#"{"alg":"HS512","kid":"h384"}"#),
            1,
        );
        assert_eq!(
            verify(&cross, &ks, &opts, NOW).code(),
            "UNAUTHORISED/unsupported_algorithm"
        );
    }
}
