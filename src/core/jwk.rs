//! The JSON Web Key model (RFC 7517) shared by the verifier (which reads keysets) and the origin
//! (which publishes them). Only what jwtedge uses is typed; other members (`x5c`, `x5t`, `ext`…)
//! are ignored, and `key_ops` is read by `Keyset` from the raw JSON.

use serde::{Deserialize, Serialize};

/// One JWK as it appears in a keyset. Public members only, except `d`, which is read when a user
/// imports a private key into the origin and is never written by the origin's keyset endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The second coordinate of an EC public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus and public exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// A public Ed25519 signing key: `{"kty":"OKP","crv":"Ed25519","x":…}`.
    pub fn ed25519_public(kid: &str, public_key: &[u8; 32]) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some(crate::core::b64url_encode(public_key)),
            kid: Some(kid.into()),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
            ..Jwk::default()
        }
    }

    /// An HMAC key: `{"kty":"oct","k":…}`. This is secret material (SPEC §3).
    pub fn hmac(kid: &str, secret: &[u8]) -> Jwk {
        Jwk {
            kty: "oct".into(),
            k: Some(crate::core::b64url_encode(secret)),
            kid: Some(kid.into()),
            alg: Some("HS256".into()),
            use_: Some("sig".into()),
            ..Jwk::default()
        }
    }
}

/// A JWK Set: `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}
