//! Verifies the origin's tokens of every signing algorithm against a served keyset, outside
//! the origin: EdDSA and HS256 with jwtedge's core verifier, ES256 with RustCrypto `p256` and
//! RS256 with `ring` (the core checks those through the runtime's crypto, which a native test
//! does not have), each from the JWK the keyset publishes under the token's kid. Included by
//! `#[path]` from the tests that need it, beside `mod origin_harness;`.
#![allow(dead_code)]

use jwtedge::core::{b64url_decode, Outcome};

use crate::origin_harness;

fn part(token: &str, i: usize) -> Result<serde_json::Value, String> {
    let seg = token.split('.').nth(i).ok_or("not a JWS")?;
    let bytes = b64url_decode(seg.as_bytes()).ok_or("bad base64url")?;
    serde_json::from_slice(&bytes).map_err(|e| format!("bad JSON: {e}"))
}

/// The token's `alg` header.
pub fn token_alg(token: &str) -> String {
    part(token, 0).unwrap()["alg"].as_str().unwrap().to_string()
}

/// `Ok` when `token` verifies against `keyset_json` at `now` (issuer, audience, type and expiry
/// as the test origins issue them); otherwise why not.
pub fn verify_token(token: &str, keyset_json: &str, now: f64) -> Result<(), String> {
    let header = part(token, 0)?;
    let (alg, kid) = (
        header["alg"].as_str().unwrap_or(""),
        header["kid"].as_str().unwrap_or(""),
    );
    let keyset: serde_json::Value = serde_json::from_str(keyset_json).map_err(|e| e.to_string())?;
    let jwk = keyset["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or_else(|| format!("unknown kid {kid}"))?;
    if jwk["alg"] != alg {
        return Err(format!("key {kid} is {}, token is {alg}", jwk["alg"]));
    }
    if alg == "EdDSA" || alg == "HS256" {
        let one = serde_json::json!({ "keys": [jwk] }).to_string();
        return match origin_harness::verify(token, &one, now) {
            Outcome::Ok(_) => Ok(()),
            other => Err(format!("{other:?}")),
        };
    }
    let m = |name: &str| -> Result<Vec<u8>, String> {
        jwk[name]
            .as_str()
            .and_then(|v| b64url_decode(v.as_bytes()))
            .ok_or_else(|| format!("JWK without {name}"))
    };
    let (input, sig) = token.rsplit_once('.').ok_or("not a JWS")?;
    let sig = b64url_decode(sig.as_bytes()).ok_or("bad signature encoding")?;
    let good = match alg {
        "ES256" => {
            use p256::ecdsa::signature::Verifier as _;
            if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
                return Err("ES256 key is not EC P-256".into());
            }
            let mut point = vec![4u8];
            point.extend(m("x")?);
            point.extend(m("y")?);
            let key =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| "bad EC point")?;
            sig.len() == 64
                && p256::ecdsa::Signature::from_slice(&sig)
                    .is_ok_and(|s| key.verify(input.as_bytes(), &s).is_ok())
        }
        "RS256" => {
            if jwk["kty"] != "RSA" || m("n")?.len() < 256 {
                return Err("RS256 key is not RSA ≥ 2048 bits".into());
            }
            ring::signature::RsaPublicKeyComponents {
                n: m("n")?,
                e: m("e")?,
            }
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &sig,
            )
            .is_ok()
        }
        other => return Err(format!("unexpected alg {other}")),
    };
    if !good {
        return Err("bad_signature".into());
    }
    let claims = part(token, 1)?;
    if header["typ"] != "at+jwt" {
        return Err("typ".into());
    }
    if claims["iss"] != "https://origin.test" || claims["aud"] != "api" {
        return Err("iss/aud".into());
    }
    match claims["exp"].as_f64() {
        Some(exp) if exp > now => Ok(()),
        Some(_) => Err("expired".into()),
        None => Err("no exp".into()),
    }
}
