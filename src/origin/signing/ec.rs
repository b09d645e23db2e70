//! ES256 keys (ECDSA on P-256 with SHA-256) with RustCrypto `p256`: generation from OS entropy,
//! signing with RFC 6979 deterministic nonces (no randomness needed at signing time) into the
//! JWS form (RFC 7518 §3.4: 64 bytes `r||s`, never DER), normalised to low S so that verifiers
//! that insist on it accept it too. The sealed secret is the 32-byte scalar; the stored public
//! key is the 65-byte uncompressed SEC1 point.

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

use crate::origin::crypto_at_rest::random_bytes;

pub const SECRET_LEN: usize = 32;
pub const PUBLIC_LEN: usize = 65;

/// A fresh key: (secret scalar, uncompressed public point).
pub fn generate() -> (Vec<u8>, Vec<u8>) {
    loop {
        // A random 32-byte string is a valid scalar except with probability ~2^-32 (zero or
        // at least the group order): draw again then.
        let bytes = random_bytes::<SECRET_LEN>();
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            return (bytes.to_vec(), public_point(&key));
        }
    }
}

pub fn open(secret: &[u8]) -> Option<SigningKey> {
    if secret.len() != SECRET_LEN {
        return None;
    }
    SigningKey::from_slice(secret).ok()
}

/// The uncompressed SEC1 point `0x04 || x || y`.
pub fn public_point(key: &SigningKey) -> Vec<u8> {
    key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
}

/// `(x, y)` of a stored uncompressed point, each 32 bytes.
pub fn coordinates(point: &[u8]) -> Option<(&[u8], &[u8])> {
    if point.len() != PUBLIC_LEN || point[0] != 0x04 {
        return None;
    }
    Some((&point[1..33], &point[33..]))
}

/// The point from JWK coordinates, checked to be on the curve.
pub fn point_from_coordinates(x: &[u8], y: &[u8]) -> Option<Vec<u8>> {
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let mut point = Vec::with_capacity(PUBLIC_LEN);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    VerifyingKey::from_sec1_bytes(&point).ok()?;
    Some(point)
}

/// The JWS signature of `message`: `r||s`, low S.
pub fn sign(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign(message);
    signature.normalize_s().to_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn signs_fixed_size_low_s_signatures_that_verify() {
        let (secret, public) = generate();
        let key = open(&secret).unwrap();
        assert_eq!(public_point(&key), public);
        let (x, y) = coordinates(&public).unwrap();
        assert_eq!(point_from_coordinates(x, y).unwrap(), public);
        let verifying = VerifyingKey::from_sec1_bytes(&public).unwrap();
        for i in 0..20u8 {
            let msg = [i; 9];
            let sig = sign(&key, &msg);
            assert_eq!(sig.len(), 64);
            let parsed = Signature::from_slice(&sig).unwrap();
            assert!(parsed.normalize_s() == parsed, "high S");
            verifying.verify(&msg, &parsed).unwrap();
        }
        assert!(open(&[0u8; 32]).is_none());
        assert!(open(&secret[..31]).is_none());
        let mut off_curve = public.clone();
        off_curve[64] ^= 1;
        let (x, y) = coordinates(&off_curve).unwrap();
        assert!(point_from_coordinates(x, y).is_none());
    }
}
