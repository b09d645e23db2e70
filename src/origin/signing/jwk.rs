//! The JWKs of the origin: the public keys it publishes (RFC 7517/7518: OKP, EC, RSA, and oct
//! for the edge credential only) and the private JWKs `keys import` reads. Its own model, not
//! the verifier's `core::Jwk`, so the verifier can grow members for other issuers without the
//! origin publishing or reading them by accident.

use serde::{Deserialize, Serialize};

/// One key as the keyset endpoint serves it. Every key has `kid`, `alg` and `use: "sig"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedJwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// HMAC secret: only in the keyset served to the edge credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl PublishedJwk {
    fn base(kty: &str, kid: &str, alg: &str) -> PublishedJwk {
        PublishedJwk {
            kty: kty.into(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            k: None,
            kid: kid.into(),
            alg: alg.into(),
            use_: "sig".into(),
        }
    }

    pub fn okp(kid: &str, x: &[u8]) -> PublishedJwk {
        PublishedJwk {
            crv: Some("Ed25519".into()),
            x: Some(crate::core::b64url_encode(x)),
            ..PublishedJwk::base("OKP", kid, "EdDSA")
        }
    }

    pub fn ec_p256(kid: &str, x: &[u8], y: &[u8]) -> PublishedJwk {
        PublishedJwk {
            crv: Some("P-256".into()),
            x: Some(crate::core::b64url_encode(x)),
            y: Some(crate::core::b64url_encode(y)),
            ..PublishedJwk::base("EC", kid, "ES256")
        }
    }

    /// `n` and `e` big-endian without leading zero bytes (RFC 7518 §6.3.1).
    pub fn rsa(kid: &str, n: &[u8], e: &[u8]) -> PublishedJwk {
        PublishedJwk {
            n: Some(crate::core::b64url_encode(strip_zeros(n))),
            e: Some(crate::core::b64url_encode(strip_zeros(e))),
            ..PublishedJwk::base("RSA", kid, "RS256")
        }
    }

    pub fn oct(kid: &str, secret: &[u8]) -> PublishedJwk {
        PublishedJwk {
            k: Some(crate::core::b64url_encode(secret)),
            ..PublishedJwk::base("oct", kid, "HS256")
        }
    }

    /// Secret material (SPEC §3): served only with the edge credential.
    pub fn is_secret(&self) -> bool {
        self.kty == "oct"
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[start..]
}

/// A keyset as served: `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PublishedKeyset {
    pub keys: Vec<PublishedJwk>,
}

/// A private JWK given to `keys import`. Unknown members are ignored (exports from other tools
/// carry `key_ops`, `ext`, `x5c`…); only what the origin reads is typed.
#[derive(Deserialize, Default)]
pub struct PrivateJwk {
    pub kty: String,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
    #[serde(default)]
    pub d: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub p: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub dp: Option<String>,
    #[serde(default)]
    pub dq: Option<String>,
    #[serde(default)]
    pub qi: Option<String>,
    #[serde(default)]
    pub k: Option<String>,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(rename = "use", default)]
    pub use_: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_members_carry_no_leading_zero() {
        let jwk = PublishedJwk::rsa("k", &[0, 0xc3, 1], &[0, 1, 0, 1]);
        assert_eq!(jwk.n.as_deref(), Some("wwE"));
        assert_eq!(jwk.e.as_deref(), Some("AQAB"));
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(json["use"], "sig");
        assert_eq!(json["alg"], "RS256");
        assert!(json.get("k").is_none() && json.get("crv").is_none());
    }
}
