//! RSA and ECDSA public keys, whose signatures the runtime's own crypto checks (WebCrypto,
//! `node:crypto`; SPEC §3a): no RSA or P-256 arithmetic is compiled into the core. What needs no
//! arithmetic is checked here, once, at keyset load: the members and their lengths, RSA of at
//! least 2048 bits, and each signature's exact length before it is handed out.

use super::{b64url_decode, Algorithm, Jwk, KeyKind};

/// RSA keys under this are skipped (SPEC §3; RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;
/// Larger moduli are refused by WebCrypto implementations and only cost time.
pub const MAX_RSA_BITS: usize = 16384;

/// A public key the runtime verifies with: its decoded parameters, from which the runtime builds
/// the minimal JWK it imports (`{"kty":"RSA","n","e"}` or `{"kty":"EC","crv","x","y"}`: no
/// `alg`, `use` or `key_ops` that could make an import refuse). Encoding it there keeps base64
/// encoding out of the `.wasm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeKey {
    kind: KeyKind,
    /// Decoded key parameters: RSA `n` (no leading zeros) and `e`; EC `x` and `y`.
    first: Vec<u8>,
    second: Vec<u8>,
    /// The length every well-formed signature has: the modulus' bytes (RFC 8017 §8.2.2), or
    /// twice the coordinate bytes for the JWS `r||s` form (RFC 7518 §3.4; DER never fits).
    signature_len: usize,
}

/// The parameters of a [`RuntimeKey`], for a runtime that wants them as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKeyParams<'a> {
    Rsa {
        n: &'a [u8],
        e: &'a [u8],
    },
    Ec {
        crv: &'static str,
        x: &'a [u8],
        y: &'a [u8],
    },
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn curve_name(coordinate_bytes: usize) -> Option<&'static str> {
    match coordinate_bytes {
        32 => Some("P-256"),
        48 => Some("P-384"),
        66 => Some("P-521"),
        _ => None,
    }
}

impl RuntimeKey {
    /// An RSA public key from the JWK's `n` and `e`; `None` when it is not usable (a member
    /// missing or not base64url, under 2048 or over 16384 bits, an even or tiny exponent).
    /// `n` may carry a leading zero byte (some providers encode it as a signed integer).
    pub fn rsa(jwk: &Jwk) -> Option<RuntimeKey> {
        let n_raw = b64url_decode(jwk.n.as_deref()?.as_bytes())?;
        let e_raw = b64url_decode(jwk.e.as_deref()?.as_bytes())?;
        let n = strip_leading_zeros(&n_raw);
        let e = strip_leading_zeros(&e_raw);
        let bits = n.len().checked_sub(1)? * 8 + (8 - n[0].leading_zeros() as usize);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) || n[n.len() - 1] & 1 == 0 {
            return None;
        }
        // An odd exponent above 1 and of at most 64 bits (WebCrypto refuses larger ones).
        if e.is_empty() || e.len() > 8 || e[e.len() - 1] & 1 == 0 || e == [1] {
            return None;
        }
        Some(RuntimeKey {
            kind: KeyKind::Rsa,
            signature_len: n.len(),
            first: n.to_vec(),
            second: e.to_vec(),
        })
    }

    /// An EC public key on P-256, P-384 or P-521; `None` for another curve or coordinates of
    /// the wrong length. Whether the point is on the curve is the runtime's import to decide (a
    /// key it refuses verifies nothing: `bad_signature`).
    pub fn ec(jwk: &Jwk) -> Option<RuntimeKey> {
        let coordinate_bytes = match jwk.crv.as_deref()? {
            "P-256" => 32,
            "P-384" => 48,
            "P-521" => 66,
            _ => return None,
        };
        let x = b64url_decode(jwk.x.as_deref()?.as_bytes())?;
        let y = b64url_decode(jwk.y.as_deref()?.as_bytes())?;
        if x.len() != coordinate_bytes || y.len() != coordinate_bytes {
            return None;
        }
        Some(RuntimeKey {
            kind: KeyKind::Ec(coordinate_bytes),
            signature_len: 2 * coordinate_bytes,
            first: x,
            second: y,
        })
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The key's parameters: RSA `n` without leading zero bytes and `e`; EC `x` and `y`.
    pub fn params(&self) -> RuntimeKeyParams<'_> {
        match self.kind {
            KeyKind::Ec(bytes) => RuntimeKeyParams::Ec {
                crv: curve_name(bytes).unwrap_or("P-256"),
                x: &self.first,
                y: &self.second,
            },
            _ => RuntimeKeyParams::Rsa {
                n: &self.first,
                e: &self.second,
            },
        }
    }

    /// True when `signature` has the one length a signature of this key can have. Anything else
    /// (a DER-encoded ECDSA signature, a truncated RSA one) is `bad_signature` without asking
    /// the runtime, whose implementations differ on such input.
    pub fn signature_fits(&self, signature: &[u8]) -> bool {
        signature.len() == self.signature_len
    }

    /// The algorithm this key's kind implies when its JWK names none (SPEC §3): ES256/384/512
    /// by curve; an RSA key has none (it accepts the RSA family).
    pub fn implied_algorithm(&self) -> Option<Algorithm> {
        match self.kind {
            KeyKind::Ec(32) => Some(Algorithm::Es256),
            KeyKind::Ec(48) => Some(Algorithm::Es384),
            KeyKind::Ec(66) => Some(Algorithm::Es512),
            _ => None,
        }
    }
}
