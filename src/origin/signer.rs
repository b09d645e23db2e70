//! Key material and signing: generating keys of each signing algorithm (sealed with the master
//! key at once), opening them, importing a user-supplied private JWK, building the public JWK
//! the keyset publishes, and producing JWS compact tokens (SPEC §2: header `alg`, `kid`,
//! `typ: "at+jwt"`). Ed25519 and HMAC are here; ES256 and RS256 in `signing/`.

use std::sync::Arc;

use ed25519_dalek::{Signer as _, SigningKey};
use hmac::Mac;

use super::algorithm::Algorithm;
use super::crypto_at_rest::{key_aad, random_bytes, random_kid, MasterKey};
use super::keys::{KeyError, KeyRecord, NewKey};
use super::signing::jwk::{PrivateJwk, PublishedJwk};
use super::signing::{ec, rsa};
use crate::core::{b64url_decode, b64url_encode};

/// HS256 keys the origin generates: 256 bits, the hash's output size (RFC 7518 §3.2 minimum).
const HMAC_KEY_BYTES: usize = 32;

/// Opened (decrypted) key material, held in memory only.
#[derive(Clone)]
pub enum Material {
    Ed25519(Box<SigningKey>),
    P256(Box<p256::ecdsa::SigningKey>),
    Rsa(Arc<::ring::rsa::KeyPair>),
    Hmac(Vec<u8>),
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Material::Ed25519(_) => "Material::Ed25519(<redacted>)",
            Material::P256(_) => "Material::P256(<redacted>)",
            Material::Rsa(_) => "Material::Rsa(<redacted>)",
            Material::Hmac(_) => "Material::Hmac(<redacted>)",
        })
    }
}

fn seal(master: &MasterKey, kid: &str, alg: Algorithm, secret: &[u8]) -> Vec<u8> {
    master.seal(&key_aad(kid, alg.name()), secret)
}

pub(crate) fn new_key(
    master: &MasterKey,
    kid: String,
    alg: Algorithm,
    secret: &[u8],
    public: Vec<u8>,
) -> NewKey {
    NewKey {
        sealed_secret: seal(master, &kid, alg, secret),
        kid,
        alg,
        public_key: public,
    }
}

/// A fresh random key of `alg`, its secret sealed under `master`.
pub fn generate(alg: Algorithm, master: &MasterKey) -> Result<NewKey, KeyError> {
    let kid = random_kid::<8>();
    Ok(match alg {
        Algorithm::EdDsa => {
            let seed = random_bytes::<32>();
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            new_key(master, kid, alg, &seed, public.to_vec())
        }
        Algorithm::Es256 => {
            let (secret, public) = ec::generate();
            new_key(master, kid, alg, &secret, public)
        }
        Algorithm::Rs256 => {
            let (secret, public) = rsa::generate().map_err(KeyError::Material)?;
            new_key(master, kid, alg, &secret, public)
        }
        Algorithm::Hs256 => {
            let secret = random_bytes::<HMAC_KEY_BYTES>();
            new_key(master, kid, alg, &secret, Vec::new())
        }
    })
}

/// Decrypts a stored key's secret. `None` when the key keeps no secret (retired, revoked).
pub fn open(key: &KeyRecord, master: &MasterKey) -> Result<Option<Material>, String> {
    let Some(sealed) = &key.sealed_secret else {
        return Ok(None);
    };
    let secret = master
        .open(&key_aad(&key.kid, key.alg.name()), sealed)
        .map_err(|e| format!("key {:?}: {e}", key.kid))?;
    let damaged = || format!("key {:?}: damaged {} key material", key.kid, key.alg);
    Ok(Some(match key.alg {
        Algorithm::EdDsa => {
            let seed: [u8; 32] = secret.as_slice().try_into().map_err(|_| damaged())?;
            Material::Ed25519(Box::new(SigningKey::from_bytes(&seed)))
        }
        Algorithm::Es256 => Material::P256(Box::new(ec::open(&secret).ok_or_else(damaged)?)),
        Algorithm::Rs256 => Material::Rsa(Arc::new(rsa::open(&secret).ok_or_else(damaged)?)),
        Algorithm::Hs256 => Material::Hmac(secret),
    }))
}

/// The JWK a keyset publishes for a key. HMAC keys need their secret (an HMAC key is secret
/// material, SPEC §3) and RSA keys their opened pair; `None` when it is not available.
pub fn public_jwk(key: &KeyRecord, material: Option<&Material>) -> Option<PublishedJwk> {
    match key.alg {
        Algorithm::EdDsa => {
            let public: [u8; 32] = key.public_key.as_slice().try_into().ok()?;
            Some(PublishedJwk::okp(&key.kid, &public))
        }
        Algorithm::Es256 => {
            let (x, y) = ec::coordinates(&key.public_key)?;
            Some(PublishedJwk::ec_p256(&key.kid, x, y))
        }
        Algorithm::Rs256 => match material? {
            Material::Rsa(pair) => {
                let (n, e) = rsa::components(pair);
                Some(PublishedJwk::rsa(&key.kid, &n, &e))
            }
            _ => None,
        },
        Algorithm::Hs256 => match material? {
            Material::Hmac(secret) => Some(PublishedJwk::oct(&key.kid, secret)),
            _ => None,
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
        Material::P256(key) => ec::sign(key, token.as_bytes()),
        // ring fails only for a buffer not of the modulus length, which rsa::sign sizes itself.
        Material::Rsa(pair) => rsa::sign(pair, token.as_bytes())
            .expect("ring signs into a buffer of the modulus length"),
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

/// The algorithm a private JWK would be imported as, from its key type (and `alg`, which must
/// agree). Read before importing, to say what an import of another algorithm changes.
pub fn jwk_algorithm(json: &str) -> Result<Algorithm, KeyError> {
    let jwk: PrivateJwk =
        serde_json::from_str(json).map_err(|e| KeyError::Material(format!("not a JWK: {e}")))?;
    algorithm_of(&jwk)
}

fn algorithm_of(jwk: &PrivateJwk) -> Result<Algorithm, KeyError> {
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("OKP", Some("Ed25519")) => Algorithm::EdDsa,
        ("EC", Some("P-256")) => Algorithm::Es256,
        ("RSA", _) => Algorithm::Rs256,
        ("oct", _) => Algorithm::Hs256,
        _ => {
            return Err(KeyError::Material(
                "unsupported key: expected kty \"OKP\" with crv \"Ed25519\", \"EC\" with crv \"P-256\", \"RSA\", or \"oct\"".into(),
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
    Ok(alg)
}

/// Reads a user-supplied private JWK for `keys import`: `{"kty":"OKP","crv":"Ed25519","d":…}`,
/// `{"kty":"EC","crv":"P-256","d":…}`, an RSA key with all its private members
/// (`d`, `p`, `q`, `dp`, `dq`, `qi`), or `{"kty":"oct","k":…}` of at least 32 bytes. Public
/// members present (`x`, `y`, `n`, `e`) are checked against the private part. The kid is the
/// JWK's own, or a fresh random one.
pub fn import_jwk(json: &str, master: &MasterKey) -> Result<NewKey, KeyError> {
    let bad = |m: &str| KeyError::Material(m.to_string());
    let jwk: PrivateJwk =
        serde_json::from_str(json).map_err(|e| KeyError::Material(format!("not a JWK: {e}")))?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err(bad("the JWK's \"use\" must be \"sig\""));
    }
    let alg = algorithm_of(&jwk)?;
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
    let member = |value: &Option<String>, name: &str| -> Result<Vec<u8>, KeyError> {
        value
            .as_deref()
            .and_then(|v| b64url_decode(v.as_bytes()))
            .ok_or_else(|| {
                KeyError::Material(format!(
                    "a {} JWK to import needs \"{name}\" in base64url",
                    alg.name()
                ))
            })
    };
    match alg {
        Algorithm::EdDsa => {
            let seed: [u8; 32] = member(&jwk.d, "d")?
                .try_into()
                .map_err(|_| bad("\"d\" must be 32 bytes of base64url"))?;
            let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            if jwk.x.is_some() && member(&jwk.x, "x")? != public {
                return Err(bad("\"x\" is not the public key of \"d\""));
            }
            Ok(new_key(master, kid, alg, &seed, public.to_vec()))
        }
        Algorithm::Es256 => {
            let d = member(&jwk.d, "d")?;
            let key = ec::open(&d).ok_or_else(|| bad("\"d\" is not a P-256 private key"))?;
            let public = ec::public_point(&key);
            if jwk.x.is_some() || jwk.y.is_some() {
                let (x, y) = (member(&jwk.x, "x")?, member(&jwk.y, "y")?);
                if ec::coordinates(&public) != Some((&x[..], &y[..])) {
                    return Err(bad("\"x\"/\"y\" are not the public key of \"d\""));
                }
            }
            Ok(new_key(master, kid, alg, &d, public))
        }
        Algorithm::Rs256 => {
            let (n, e, d) = (
                member(&jwk.n, "n")?,
                member(&jwk.e, "e")?,
                member(&jwk.d, "d")?,
            );
            let (p, q) = (member(&jwk.p, "p")?, member(&jwk.q, "q")?);
            let (dp, dq, qi) = (
                member(&jwk.dp, "dp")?,
                member(&jwk.dq, "dq")?,
                member(&jwk.qi, "qi")?,
            );
            let members = rsa::Members {
                n: &n,
                e: &e,
                d: &d,
                p: &p,
                q: &q,
                dp: &dp,
                dq: &dq,
                qi: &qi,
            };
            let (secret, public) = rsa::from_members(&members).map_err(KeyError::Material)?;
            Ok(new_key(master, kid, alg, &secret, public))
        }
        Algorithm::Hs256 => {
            let k = member(&jwk.k, "k")?;
            if k.len() < HMAC_KEY_BYTES {
                return Err(bad("an HS256 key must be at least 32 bytes"));
            }
            Ok(new_key(master, kid, alg, &k, Vec::new()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{verify, Keyset, KeysetLimits, Outcome, VerifyOptions};
    use crate::origin::keys::KeyState;
    use crate::origin::signing::jwk::PublishedKeyset;

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

    /// Checks a token's signature against its published JWK, independently of the signer:
    /// the core verifier for EdDSA/HS256, `p256` and `ring` verification for ES256/RS256.
    fn check(token: &str, jwk: &PublishedJwk) -> bool {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = b64url_decode(sig.as_bytes()).unwrap();
        let m = |v: &Option<String>| b64url_decode(v.as_deref().unwrap().as_bytes()).unwrap();
        match jwk.alg.as_str() {
            "ES256" => {
                use p256::ecdsa::signature::Verifier as _;
                let point = ec::point_from_coordinates(&m(&jwk.x), &m(&jwk.y)).unwrap();
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
                p256::ecdsa::Signature::from_slice(&sig)
                    .is_ok_and(|s| key.verify(input.as_bytes(), &s).is_ok())
            }
            "RS256" => ::ring::signature::RsaPublicKeyComponents {
                n: m(&jwk.n),
                e: m(&jwk.e),
            }
            .verify(
                &::ring::signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &sig,
            )
            .is_ok(),
            _ => {
                let jwks = serde_json::to_string(&PublishedKeyset {
                    keys: vec![jwk.clone()],
                })
                .unwrap();
                let ks = Keyset::from_jwks_json(jwks.as_bytes(), KeysetLimits::default()).unwrap();
                matches!(
                    verify(token, &ks, &VerifyOptions::default(), 50.0),
                    Outcome::Ok(_)
                )
            }
        }
    }

    #[test]
    fn generated_keys_sign_tokens_their_published_jwk_verifies() {
        let master = MasterKey::generate();
        for alg in Algorithm::ALL {
            let key = record(generate(alg, &master).unwrap());
            let material = open(&key, &master).unwrap().unwrap();
            let jwk = public_jwk(&key, Some(&material)).unwrap();
            assert_eq!(jwk.alg, alg.name());
            assert_eq!(jwk.use_, "sig");
            assert_eq!(jwk.is_secret(), alg.is_symmetric());
            let token = sign(&key.kid, alg, &material, r#"{"sub":"a","exp":100}"#);
            assert!(check(&token, &jwk), "{alg}");
            // A changed payload does not verify.
            let mut parts: Vec<&str> = token.split('.').collect();
            let other = b64url_encode(br#"{"sub":"b","exp":100}"#);
            parts[1] = &other;
            assert!(!check(&parts.join("."), &jwk), "{alg} tampered");
            assert!(open(&key, &MasterKey::generate()).is_err());
        }
    }

    #[test]
    fn published_ec_and_rsa_jwks_have_the_rfc7518_members() {
        let master = MasterKey::generate();
        let ec_key = record(generate(Algorithm::Es256, &master).unwrap());
        let jwk = serde_json::to_value(public_jwk(&ec_key, None).unwrap()).unwrap();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
        assert_eq!(jwk["y"].as_str().unwrap().len(), 43);
        assert!(jwk.get("d").is_none());
        let rsa_key = record(generate(Algorithm::Rs256, &master).unwrap());
        let material = open(&rsa_key, &master).unwrap().unwrap();
        let jwk = serde_json::to_value(public_jwk(&rsa_key, Some(&material)).unwrap()).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
        // 2048 bits: 256 bytes, 342 base64url characters, no leading zero.
        let n = b64url_decode(jwk["n"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(n.len(), 256);
        assert!(n[0] >= 0x80);
        assert!(jwk.get("d").is_none() && jwk.get("p").is_none());
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
        assert!(import_jwk(r#"{"kty":"EC","crv":"P-384","d":"AA"}"#, &master).is_err());
        assert!(import_jwk("nope", &master).is_err());
        let oct = format!(r#"{{"kty":"oct","k":"{}","alg":"HS256"}}"#, "A".repeat(43));
        assert_eq!(import_jwk(&oct, &master).unwrap().alg, Algorithm::Hs256);
        assert_eq!(jwk_algorithm(&oct).unwrap(), Algorithm::Hs256);
        let confused = format!(r#"{{"kty":"oct","k":"{}","alg":"EdDSA"}}"#, "A".repeat(43));
        assert!(import_jwk(&confused, &master).is_err());
    }

    #[test]
    fn imports_p256_keys_checking_x_and_y() {
        let master = MasterKey::generate();
        let (d, point) = ec::generate();
        let (x, y) = ec::coordinates(&point).unwrap();
        let (d, x, y) = (b64url_encode(&d), b64url_encode(x), b64url_encode(y));
        let jwk =
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","d":"{d}","kid":"a3"}}"#);
        let jwk = jwk.as_str();
        let new = import_jwk(jwk, &master).unwrap();
        assert_eq!(new.alg, Algorithm::Es256);
        let key = record(new);
        let published = public_jwk(&key, None).unwrap();
        assert_eq!(published.x.as_deref(), Some(x.as_str()));
        assert_eq!(published.y.as_deref(), Some(y.as_str()));
        let material = open(&key, &master).unwrap().unwrap();
        let token = sign("a3", Algorithm::Es256, &material, "{}");
        assert!(check(&token, &published));
        assert!(import_jwk(&jwk.replace(&y, &x), &master).is_err());
        assert!(import_jwk(&jwk.replace(r#""alg""#, "z"), &master).is_ok());
        let declared_rs = jwk.replace(r#""kid""#, r#""alg":"RS256","kid""#);
        assert!(import_jwk(&declared_rs, &master).is_err());
    }

    #[test]
    fn imports_rsa_keys_with_all_private_members() {
        let master = MasterKey::generate();
        // A 2048-bit key exported as a JWK: the members from a generated PKCS#1 key.
        let (secret, _) = rsa::generate().unwrap();
        let k = ::rsa::pkcs1::RsaPrivateKeyRef::try_from(&secret[..]).unwrap();
        let b = |u: ::rsa::pkcs1::UintRef<'_>| b64url_encode(u.as_bytes());
        let jwk = serde_json::json!({
            "kty": "RSA", "kid": "r1", "alg": "RS256",
            "n": b(k.modulus), "e": b(k.public_exponent), "d": b(k.private_exponent),
            "p": b(k.prime1), "q": b(k.prime2), "dp": b(k.exponent1),
            "dq": b(k.exponent2), "qi": b(k.coefficient),
        });
        let new = import_jwk(&jwk.to_string(), &master).unwrap();
        assert_eq!(new.alg, Algorithm::Rs256);
        let key = record(new);
        let material = open(&key, &master).unwrap().unwrap();
        let published = public_jwk(&key, Some(&material)).unwrap();
        assert_eq!(published.n.as_deref(), jwk["n"].as_str());
        assert!(check(
            &sign("r1", Algorithm::Rs256, &material, "{}"),
            &published
        ));
        // A public-only or inconsistent key is refused.
        let mut public_only = jwk.clone();
        public_only.as_object_mut().unwrap().remove("d");
        assert!(import_jwk(&public_only.to_string(), &master).is_err());
        let mut swapped = jwk.clone();
        swapped["p"] = jwk["q"].clone();
        assert!(import_jwk(&swapped.to_string(), &master).is_err());
    }
}
