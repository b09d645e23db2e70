//! The JSON Web Key model (RFC 7517) as the verifier reads it from a keyset. Only what the
//! verifier uses is typed; other members (`x5c`, `x5t`, `ext`, `d`…) are ignored, and `key_ops` is
//! read by `Keyset` from the raw JSON. The origin publishes its own model
//! (`origin::signing::jwk`), so nothing the verifier learns to read is ever published by accident.

use serde::{Deserialize, Serialize};

/// One JWK as it appears in a keyset (`k` is secret material: HMAC keysets are private).
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
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A JWK Set: `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}
