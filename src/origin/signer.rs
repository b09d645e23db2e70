//! Key material and signing: generating Ed25519 and HMAC keys (sealed with the master key at
//! once), opening them, importing a user-supplied private JWK, building the public JWK the
//! keyset publishes, and producing JWS compact tokens (SPEC §2: header `alg`, `kid`,
//! `typ: "at+jwt"`).

use ed25519_dalek::{Signer as _, SigningKey};
use hmac::Mac;

use super::crypto_at_rest::{key_aad, random_bytes, random_kid, MasterKey};
use super::keys::{KeyError, KeyRecord, NewKey};
use crate::core::{b64url_decode, b64url_encode, Algorithm, Jwk};

/// HS256 keys the origin generates: 256 bits, the hash's output size (RFC 7518 §3.2 minimum).
const HMAC_KEY_BYTES: usize = 32;

/// Opened (decrypted) key material, held in memory only.
#[derive(Clone)]
pub enum Material {
    Ed25519(Box<SigningKey>),
    Hmac(Vec<u8>),
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Material::Ed25519(_) => f.write_str("Material::Ed25519(<redacted>)"),
            Material::Hmac(_) => f.write_str("Material::Hmac(<redacted>)"),
        }
    }
}

fn seal(master: &MasterKey, kid: &str, alg: Algorithm, secret: &[u8]) -> Vec<u8> {
    master.seal(&key_aad(kid, alg.name()), secret)
}

/// A fresh random key of `alg`, its secret sealed under `master`.
pub fn generate(alg: Algorithm, master: &MasterKey) -> NewKey {
    let kid = random_kid::<8>();
    match alg {
        Algorithm::EdDsa => {
            let seed = random_bytes::<32>();
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            NewKey {
                sealed_secret: seal(master, &kid, alg, &seed),
                kid,
                alg,
                public_key: public.to_vec(),
            }
        }
        Algorithm::Hs256 => {
            let secret = random_bytes::<HMAC_KEY_BYTES>();
            NewKey {
                sealed_secret: seal(master, &kid, alg, &secret),
                kid,
                alg,
                public_key: Vec::new(),
            }
        }
    }
}

/// Decrypts a stored key's secret. `None` when the key keeps no secret (retired, revoked).
pub fn open(key: &KeyRecord, master: &MasterKey) -> Result<Option<Material>, String> {
    let Some(sealed) = &key.sealed_secret else {
        return Ok(None);
    };
    let secret = master
        .open(&key_aad(&key.kid, key.alg.name()), sealed)
        .map_err(|e| format!("key {:?}: {e}", key.kid))?;
    Ok(Some(match key.alg {
        Algorithm::EdDsa => {
            let seed: [u8; 32] = secret
                .as_slice()
                .try_into()
                .map_err(|_| format!("key {:?}: bad Ed25519 seed length", key.kid))?;
            Material::Ed25519(Box::new(SigningKey::from_bytes(&seed)))
        }
        Algorithm::Hs256 => Material::Hmac(secret),
    }))
}

/// The JWK a keyset publishes for a key. HMAC keys need their secret (an HMAC keyset is
/// secret material, SPEC §3); `None` when it is not available.
pub fn public_jwk(key: &KeyRecord, material: Option<&Material>) -> Option<Jwk> {
    match key.alg {
        Algorithm::EdDsa => {
            let public: [u8; 32] = key.public_key.as_slice().try_into().ok()?;
            Some(Jwk::ed25519_public(&key.kid, &public))
        }
        Algorithm::Hs256 => match material? {
            Material::Hmac(secret) => Some(Jwk::hmac(&key.kid, secret)),
            Material::Ed25519(_) => None,
        },
    }
}

/// Signs `claims` (a JSON object, already serialized) as a JWS compact token.
pub fn sign(kid: &str, alg: Algorithm, material: &Material, claims_json: &str) -> String {
    let header = serde_json::json!({ "alg": alg.name(), "kid": kid, "typ": "at+jwt" });
    let mut token = b64url_encode(header.to_string().as_bytes());
    token.push('.');
    token.push_str(&b64url_encode(claims_json.as_bytes()));
    let signature = match material {
        Material::Ed25519(key) => key.sign(token.as_bytes()).to_bytes().to_vec(),
        Material::Hmac(secret) => {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
                .expect("HMAC accepts keys of any length");
            mac.update(token.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    token.push('.');
    token.push_str(&b64url_encode(&signature));
    token
}

/// Reads a user-supplied private JWK for `keys import`: `{"kty":"OKP","crv":"Ed25519","d":…}`
/// (with `x` checked against `d` when present) or `{"kty":"oct","k":…}` of at least 32 bytes.
/// The kid is the JWK's own, or a fresh random one.
pub fn import_jwk(json: &str, master: &MasterKey) -> Result<NewKey, KeyError> {
    let bad = |m: &str| KeyError::Material(m.to_string());
    let jwk: Jwk =
        serde_json::from_str(json).map_err(|e| KeyError::Material(format!("not a JWK: {e}")))?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err(bad("the JWK's \"use\" must be \"sig\""));
    }
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("OKP", Some("Ed25519")) => Algorithm::EdDsa,
        ("oct", _) => Algorithm::Hs256,
        _ => {
            return Err(bad(
                "unsupported key: expected kty \"OKP\" with crv \"Ed25519\", or kty \"oct\"",
            ))
        }
    };
    if let Some(declared) = jwk.alg.as_deref() {
        if Algorithm::from_name(declared) != Some(alg) {
            return Err(KeyError::Material(format!(
                "the JWK's alg {declared:?} does not match its key type (expected {})",
                alg.name()
            )));
        }
    }
    let kid = match jwk.kid.as_deref() {
        Some(kid) if kid.is_empty() || kid.len() > 128 => {
            return Err(bad("the JWK's kid must be 1 to 128 characters"))
        }
        Some(kid) if kid.chars().any(|c| c.is_control()) => {
            return Err(bad("the JWK's kid contains control characters"))
        }
        Some(kid) => kid.to_string(),
        None => random_kid::<8>(),
    };
    match alg {
        Algorithm::EdDsa => {
            let d = jwk
                .d
                .as_deref()
                .ok_or_else(|| bad("an Ed25519 JWK to import needs its private part \"d\""))?;
            let seed: [u8; 32] = b64url_decode(d.as_bytes())
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad("\"d\" must be 32 bytes of base64url"))?;
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            if let Some(x) = jwk.x.as_deref() {
                if b64url_decode(x.as_bytes()).as_deref() != Some(&public[..]) {
                    return Err(bad("\"x\" is not the public key of \"d\""));
                }
            }
            Ok(NewKey {
                sealed_secret: seal(master, &kid, alg, &seed),
                kid,
                alg,
                public_key: public.to_vec(),
            })
        }
        Algorithm::Hs256 => {
            let k = jwk
                .k
                .as_deref()
                .and_then(|k| b64url_decode(k.as_bytes()))
                .ok_or_else(|| bad("an HMAC JWK needs \"k\" in base64url"))?;
            if k.len() < HMAC_KEY_BYTES {
                return Err(bad("an HS256 key must be at least 32 bytes"));
            }
            Ok(NewKey {
                sealed_secret: seal(master, &kid, alg, &k),
                kid,
                alg,
                public_key: Vec::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{verify, Keyset, KeysetLimits, Outcome, VerifyOptions};
    use crate::origin::keys::KeyState;

    fn record(new: NewKey) -> KeyRecord {
        KeyRecord {
            kid: new.kid,
            alg: new.alg,
            state: KeyState::Current,
            created_at: 0,
            activated_at: Some(0),
            deactivated_at: None,
            revoked_at: None,
            public_key: new.public_key,
            sealed_secret: Some(new.sealed_secret),
        }
    }

    #[test]
    fn generated_keys_sign_tokens_the_core_verifies() {
        let master = MasterKey::generate();
        for alg in Algorithm::ALL {
            let key = record(generate(alg, &master));
            let material = open(&key, &master).unwrap().unwrap();
            let jwk = public_jwk(&key, Some(&material)).unwrap();
            assert!(jwk.d.is_none());
            let jwks = serde_json::to_string(&crate::core::Jwks { keys: vec![jwk] }).unwrap();
            let ks = Keyset::from_jwks_json(jwks.as_bytes(), KeysetLimits::default()).unwrap();
            let token = sign(&key.kid, alg, &material, r#"{"sub":"a","exp":100}"#);
            match verify(&token, &ks, &VerifyOptions::default(), 50.0) {
                Outcome::Ok(v) => assert_eq!(v.kid.as_deref(), Some(key.kid.as_str())),
                other => panic!("{alg}: {other:?}"),
            }
            assert!(open(&key, &MasterKey::generate()).is_err());
        }
    }

    #[test]
    fn imports_rfc8037_key_and_rejects_bad_ones() {
        let master = MasterKey::generate();
        // RFC 8037 appendix A.1.
        let jwk = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"rfc"}"#;
        let new = import_jwk(jwk, &master).unwrap();
        assert_eq!(new.kid, "rfc");
        assert_eq!(
            b64url_encode(&new.public_key),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        let wrong_x = jwk.replace("11qY", "22qY");
        assert!(import_jwk(&wrong_x, &master).is_err());
        assert!(import_jwk(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            &master
        )
        .is_err());
        assert!(import_jwk(r#"{"kty":"oct","k":"c2hvcnQ"}"#, &master).is_err());
        assert!(import_jwk(r#"{"kty":"RSA","n":"x","e":"AQAB"}"#, &master).is_err());
        assert!(import_jwk("nope", &master).is_err());
        let oct = format!(r#"{{"kty":"oct","k":"{}","alg":"HS256"}}"#, "A".repeat(43));
        assert_eq!(import_jwk(&oct, &master).unwrap().alg, Algorithm::Hs256);
        let confused = format!(r#"{{"kty":"oct","k":"{}","alg":"EdDSA"}}"#, "A".repeat(43));
        assert!(import_jwk(&confused, &master).is_err());
    }
}
