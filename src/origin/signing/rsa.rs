//! RS256 keys (RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit): signed with `ring`, whose RSA
//! private-key operation is constant-time and blinded (no Marvin-style timing leak, unlike the
//! `rsa` crate up to 0.9). `ring` cannot generate RSA keys, so generation uses the `rsa` crate
//! (0.10, constant-time bignums): generation sees no attacker input and runs once per key. The
//! sealed secret is the PKCS#1 `RSAPrivateKey` DER, which `ring` opens; the stored public key
//! is the PKCS#1 `RSAPublicKey` DER.

use ring::rsa::{KeyPair, PublicKeyComponents};
use rsa::pkcs1::{EncodeRsaPrivateKey, RsaPrivateKeyRef, UintRef};
use rsa::rand_core::{TryCryptoRng, TryRng};

pub const BITS: usize = 2048;

/// The operating system's entropy for key generation, through the `getrandom` the origin
/// already uses.
struct OsEntropy;

#[derive(Debug)]
struct EntropyError;

impl std::fmt::Display for EntropyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the operating system's random source failed")
    }
}

impl std::error::Error for EntropyError {}

impl TryRng for OsEntropy {
    type Error = EntropyError;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|_| EntropyError)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(|_| EntropyError)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        getrandom::fill(dst).map_err(|_| EntropyError)
    }
}

impl TryCryptoRng for OsEntropy {}

/// A fresh 2048-bit key: (PKCS#1 private DER, PKCS#1 public DER).
pub fn generate() -> Result<(Vec<u8>, Vec<u8>), String> {
    let key = rsa::PrivateKey::new(&mut OsEntropy, BITS)
        .map_err(|e| format!("RSA key generation failed: {e}"))?;
    let der = key
        .to_pkcs1_der()
        .map_err(|e| format!("RSA key encoding failed: {e}"))?;
    let secret = der.as_bytes().to_vec();
    let pair = open(&secret).ok_or("the generated RSA key does not open")?;
    let public = pair.public().as_ref().to_vec();
    Ok((secret, public))
}

/// Opens a sealed PKCS#1 private key; `ring` validates it (and refuses under 2048 bits).
pub fn open(secret: &[u8]) -> Option<KeyPair> {
    KeyPair::from_der(secret).ok()
}

/// `(n, e)` big-endian.
pub fn components(pair: &KeyPair) -> (Vec<u8>, Vec<u8>) {
    let c = PublicKeyComponents::<Vec<u8>>::from(pair.public());
    (c.n, c.e)
}

/// The JWS signature of `message`.
pub fn sign(pair: &KeyPair, message: &[u8]) -> Result<Vec<u8>, String> {
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(|_| "RSA signing failed".to_string())?;
    Ok(signature)
}

/// The PKCS#1 private DER from JWK members (RFC 7518 §6.3.2: two-prime keys with the CRT
/// members), checked by opening it with `ring`.
pub struct Members<'a> {
    pub n: &'a [u8],
    pub e: &'a [u8],
    pub d: &'a [u8],
    pub p: &'a [u8],
    pub q: &'a [u8],
    pub dp: &'a [u8],
    pub dq: &'a [u8],
    pub qi: &'a [u8],
}

fn uint(bytes: &[u8]) -> Result<UintRef<'_>, String> {
    UintRef::new(bytes).map_err(|_| "an RSA member is not an integer".to_string())
}

pub fn from_members(m: &Members<'_>) -> Result<(Vec<u8>, Vec<u8>), String> {
    let key = RsaPrivateKeyRef {
        modulus: uint(m.n)?,
        public_exponent: uint(m.e)?,
        private_exponent: uint(m.d)?,
        prime1: uint(m.p)?,
        prime2: uint(m.q)?,
        exponent1: uint(m.dp)?,
        exponent2: uint(m.dq)?,
        coefficient: uint(m.qi)?,
        other_prime_infos: None,
    };
    let der = key
        .to_pkcs1_der()
        .map_err(|_| "the RSA key cannot be encoded".to_string())?;
    let secret = der.as_bytes().to_vec();
    let pair = open(&secret).ok_or(
        "not a valid RSA private key (ring refuses it: inconsistent members, or not 2048 to 4096 bits)",
    )?;
    let public = pair.public().as_ref().to_vec();
    Ok((secret, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_2048_bits_and_sign_verifiable_signatures() {
        let (secret, public) = generate().unwrap();
        let pair = open(&secret).unwrap();
        assert_eq!(pair.public().as_ref(), &public[..]);
        let (n, e) = components(&pair);
        assert_eq!(n.len() * 8, BITS);
        assert_eq!(e, vec![1, 0, 1]);
        let sig = sign(&pair, b"message").unwrap();
        let key = ring::signature::RsaPublicKeyComponents { n: &n, e: &e };
        key.verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            b"message",
            &sig,
        )
        .unwrap();
        assert!(key
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                b"messagf",
                &sig
            )
            .is_err());
        assert!(open(&secret[1..]).is_none());
    }
}
