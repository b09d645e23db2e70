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
