//! What `keys import` reads: the file's format, recognised from its text, and the key in it.
//! A private JWK or a JWKS holding exactly one (checked by `signer::import_jwk`); or PEM:
//! PKCS#8 `PRIVATE KEY` (what `openssl genpkey` writes) for Ed25519, EC P-256 and RSA, SEC1
//! `EC PRIVATE KEY` and PKCS#1 `RSA PRIVATE KEY`. Errors name the format recognised and what is
//! wrong with it, never the key material; public keys and certificates are refused as such.

use p256::pkcs8::der::pem;
use p256::pkcs8::der::zeroize::Zeroizing;
use p256::pkcs8::{DecodePrivateKey as _, ObjectIdentifier, PrivateKeyInfoRef};
use rsa::pkcs1::RsaPrivateKeyRef;

use super::{ec, rsa as rsa_keys};
use crate::origin::algorithm::Algorithm;
use crate::origin::crypto_at_rest::{random_kid, MasterKey};
use crate::origin::keys::{KeyError, NewKey};
use crate::origin::signer;

const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// RSA moduli `ring` signs with (it refuses the others when the key is opened).
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 4096;

const UNRECOGNISED: &str =
    "unrecognised format: expected a private JWK, a one-key JWKS or a PKCS#8 PEM \
     (-----BEGIN PRIVATE KEY-----; EC PRIVATE KEY and RSA PRIVATE KEY PEM work too)";

/// A key read from the file, not yet sealed.
enum Parsed {
    /// One private JWK, as JSON, for `signer::import_jwk`.
    Jwk(String),
    /// Key material from PEM, in the form the origin seals (see `signer`, `ec`, `rsa`).
    Pem {
        alg: Algorithm,
        secret: Zeroizing<Vec<u8>>,
        public: Vec<u8>,
    },
}

/// The algorithm the key in `text` would be imported as (read before importing, to say what
/// an import of another algorithm changes).
pub fn algorithm(text: &str) -> Result<Algorithm, KeyError> {
    match parse(text)? {
        Parsed::Jwk(json) => signer::jwk_algorithm(&json).map_err(prefixed("JSON")),
        Parsed::Pem { alg, .. } => Ok(alg),
    }
}

/// The key in `text`, sealed under `master`. A JWK keeps its kid; a PEM key gets a fresh one.
pub fn read(text: &str, master: &MasterKey) -> Result<NewKey, KeyError> {
    match parse(text)? {
        Parsed::Jwk(json) => signer::import_jwk(&json, master).map_err(prefixed("JSON")),
        Parsed::Pem {
            alg,
            secret,
            public,
        } => Ok(signer::new_key(
            master,
            random_kid::<8>(),
            alg,
            &secret,
            public,
        )),
    }
}

fn material(msg: impl Into<String>) -> KeyError {
    KeyError::Material(msg.into())
}

fn prefixed(format: &'static str) -> impl Fn(KeyError) -> KeyError {
    move |e| match e {
        KeyError::Material(msg) => material(format!("{format}: {msg}")),
        other => other,
    }
}

fn parse(text: &str) -> Result<Parsed, KeyError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return one_jwk(trimmed).map(Parsed::Jwk);
    }
    if trimmed.contains("-----BEGIN ") {
        return pem_key(trimmed);
    }
    Err(material(UNRECOGNISED))
}

/// The one private JWK of a JWK or a JWKS, as JSON.
fn one_jwk(json: &str) -> Result<String, KeyError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| material(format!("JSON: not valid JSON ({e})")))?;
    let jwk = match value.get("keys") {
        Some(serde_json::Value::Array(keys)) => match keys.as_slice() {
            [one] => one,
            [] => return Err(material("JSON: the JWKS holds no key")),
            many => {
                return Err(material(format!(
                    "JSON: the JWKS holds {} keys; import takes one key at a time (one file \
                     per key)",
                    many.len()
                )))
            }
        },
        Some(_) => return Err(material("JSON: not a JWKS (\"keys\" is not an array)")),
        None => &value,
    };
    if !jwk.is_object() {
        return Err(material("JSON: not a JWK (not an object)"));
    }
    if jwk.get("kty").is_none() {
        return Err(material("JSON: not a JWK (no kty)"));
    }
    Ok(jwk.to_string())
}

/// The one private key among the PEM blocks of `text` (`EC PARAMETERS`, which `openssl
/// ecparam -genkey` writes before the key, is skipped).
fn pem_key(text: &str) -> Result<Parsed, KeyError> {
    let mut keys = Vec::new();
    for block in pem_blocks(text)? {
        let (label, der) = pem::decode_vec(block.as_bytes())
            .map_err(|e| material(format!("PEM: malformed ({e})")))?;
        let der = Zeroizing::new(der);
        match label {
            "EC PARAMETERS" => continue,
            "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
                keys.push((label.to_string(), der))
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(material(
                    "PKCS#8 PEM: the key is encrypted; decrypt it first (openssl pkey -in FILE \
                     -out PLAIN.pem)",
                ))
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "EC PUBLIC KEY" => {
                return Err(material(format!(
                    "PEM {label}: this is a public key; import needs the private key"
                )))
            }
            "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" | "CERTIFICATE REQUEST" => {
                return Err(material(format!(
                    "PEM {label}: this holds a public key only; import needs the private key"
                )))
            }
            other => {
                return Err(material(format!(
                    "PEM: unsupported block {other:?}; expected PRIVATE KEY (PKCS#8), EC \
                     PRIVATE KEY or RSA PRIVATE KEY"
                )))
            }
        }
    }
    let (label, der) = match keys.len() {
        1 => keys.remove(0),
        0 => return Err(material("PEM: no private key in the file")),
        n => {
            return Err(material(format!(
                "PEM: the file holds {n} private keys; import takes one key at a time"
            )))
        }
    };
    match label.as_str() {
        "PRIVATE KEY" => pkcs8(&der).map_err(|m| material(format!("PKCS#8 PEM: {m}"))),
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der)
            .map_err(|_| material("not a P-256 private key (another curve, or damaged)"))
            .and_then(p256_key)
            .map_err(prefixed("SEC1 PEM")),
        _ => rsa_key(&der).map_err(|m| material(format!("PKCS#1 PEM: {m}"))),
    }
}

/// Each `-----BEGIN X-----` … `-----END X-----` of `text`, boundaries included; text between
/// blocks (openssl's "Bag Attributes", comments) is ignored.
fn pem_blocks(text: &str) -> Result<Vec<&str>, KeyError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| material("PEM: malformed (unterminated BEGIN line)"))?;
        let end_marker = format!("-----END {}-----", &after[..label_end]);
        let end = rest[start..]
            .find(&end_marker)
            .ok_or_else(|| material("PEM: malformed (no END line matching the BEGIN line)"))?;
        let stop = start + end + end_marker.len();
        blocks.push(&rest[start..stop]);
        rest = &rest[stop..];
    }
    Ok(blocks)
}

/// A PKCS#8 `PrivateKeyInfo` (RFC 5958) of Ed25519, EC P-256 or RSA.
fn pkcs8(der: &[u8]) -> Result<Parsed, String> {
    let info = PrivateKeyInfoRef::try_from(der).map_err(|e| format!("malformed ({e})"))?;
    let oid = info.algorithm.oid;
    if oid == ED25519 {
        // RFC 8410 §7: the private key is an OCTET STRING of the 32-byte seed, itself in the
        // PrivateKeyInfo's OCTET STRING.
        let inner = info.private_key.as_bytes();
        let seed: [u8; 32] = match inner {
            [0x04, 0x20, seed @ ..] => seed
                .try_into()
                .map_err(|_| "Ed25519 seed is not 32 bytes")?,
            _ => return Err("Ed25519 seed is not 32 bytes".into()),
        };
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        if let Some(declared) = info.public_key.and_then(|k| k.as_bytes()) {
            if declared != public {
                return Err("the Ed25519 public key is not that of the private key".into());
            }
        }
        return Ok(Parsed::Pem {
            alg: Algorithm::EdDsa,
            secret: Zeroizing::new(seed.to_vec()),
            public: public.to_vec(),
        });
    }
    if oid == EC_PUBLIC_KEY {
        let curve = info.algorithm.parameters_oid().ok();
        if curve != Some(P256) {
            return Err(format!(
                "EC key on curve {}; only P-256 (ES256) is supported",
                curve.map_or("unknown".into(), |c| curve_name(c).to_string())
            ));
        }
        let key = p256::SecretKey::from_pkcs8_der(der)
            .map_err(|_| "not a valid P-256 private key".to_string())?;
        return p256_key(key).map_err(|e| e.to_string());
    }
    if oid == RSA_ENCRYPTION {
        return rsa_key(info.private_key.as_bytes());
    }
    Err(format!(
        "{} keys are not supported; expected Ed25519, EC P-256 or RSA",
        key_name(oid)
    ))
}

fn p256_key(key: p256::SecretKey) -> Result<Parsed, KeyError> {
    let secret = Zeroizing::new(key.to_bytes().to_vec());
    let signing = ec::open(&secret).ok_or_else(|| material("not a valid P-256 private key"))?;
    Ok(Parsed::Pem {
        alg: Algorithm::Es256,
        public: ec::public_point(&signing),
        secret,
    })
}

/// A PKCS#1 `RSAPrivateKey` of 2048 to 4096 bits, re-encoded and checked by `rsa::from_members`.
fn rsa_key(der: &[u8]) -> Result<Parsed, String> {
    let key = RsaPrivateKeyRef::try_from(der).map_err(|e| format!("malformed RSA key ({e})"))?;
    let n = key.modulus.as_bytes();
    let bits = n
        .first()
        .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
    if bits < RSA_MIN_BITS {
        return Err(format!(
            "RSA key of {bits} bits; at least {RSA_MIN_BITS} needed"
        ));
    }
    if bits > RSA_MAX_BITS {
        return Err(format!(
            "RSA key of {bits} bits; at most {RSA_MAX_BITS} supported"
        ));
    }
    if key.other_prime_infos.is_some() {
        return Err("multi-prime RSA keys are not supported".into());
    }
    let (secret, public) = rsa_keys::from_members(&rsa_keys::Members {
        n,
        e: key.public_exponent.as_bytes(),
        d: key.private_exponent.as_bytes(),
        p: key.prime1.as_bytes(),
        q: key.prime2.as_bytes(),
        dp: key.exponent1.as_bytes(),
        dq: key.exponent2.as_bytes(),
        qi: key.coefficient.as_bytes(),
    })?;
    Ok(Parsed::Pem {
        alg: Algorithm::Rs256,
        secret: Zeroizing::new(secret),
        public,
    })
}

fn curve_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        other => other.into(),
    }
}

fn key_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.101.110" => "X25519".into(),
        "1.3.101.111" => "X448".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.113549.1.1.10" => "RSA-PSS".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        other => format!("algorithm {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text) {
            Err(KeyError::Material(m)) => m,
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("accepted {text:?}"),
        }
    }

    #[test]
    fn names_the_format_it_recognised() {
        assert!(err("hello").starts_with("unrecognised format"));
        assert!(err("{\"x\":1}").contains("JSON: not a JWK (no kty)"));
        assert!(err("{nope").starts_with("JSON: not valid JSON"));
        assert!(err(r#"{"keys":[{"kty":"oct"},{"kty":"oct"}]}"#).contains("2 keys"));
        assert!(err(r#"{"keys":[]}"#).contains("no key"));
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert!(err(public).contains("this is a public key"));
        assert!(err("-----BEGIN PRIVATE KEY-----\nAAAA").contains("no END line"));
    }

    #[test]
    fn reads_rfc8410_ed25519_pkcs8() {
        // RFC 8410 §10.3's example private key.
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        match parse(pem).unwrap() {
            Parsed::Pem { alg, public, .. } => {
                assert_eq!(alg, Algorithm::EdDsa);
                assert_eq!(public.len(), 32);
            }
            Parsed::Jwk(_) => panic!("not a JWK"),
        }
    }
}
