//! Encryption of private keys at rest (SPEC §7): ChaCha20-Poly1305 under the 32-byte master key,
//! a fresh random nonce per seal, and associated data binding each ciphertext to its key's kid
//! and algorithm (a sealed secret cannot be swapped onto another key row). Also the randomness
//! the origin uses (OS entropy).

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS entropy source failing is not something a key server can work around.
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

/// A random identifier: `N` random bytes, base64url.
pub fn random_id<const N: usize>() -> String {
    crate::core::b64url_encode(&random_bytes::<N>())
}

/// A random key id: `N` random bytes in lowercase hex (safe in paths, shells and CLIs — it
/// never starts with `-`).
pub fn random_kid<const N: usize>() -> String {
    random_bytes::<N>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone)]
pub struct MasterKey {
    key: Key,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError;

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot decrypt: wrong master key or damaged data")
    }
}

impl MasterKey {
    pub fn generate() -> MasterKey {
        MasterKey {
            key: Key::from(random_bytes::<32>()),
        }
    }

    /// Parses 32 bytes written in base64 (standard or URL-safe alphabet, padding optional).
    pub fn from_base64(text: &str) -> Result<MasterKey, String> {
        let text = text.trim();
        let trimmed = text.trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
            .map_err(|_| "not valid base64".to_string())?;
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("must be 32 bytes, got {}", bytes.len()))?;
        Ok(MasterKey {
            key: Key::from(key),
        })
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.key.as_slice())
    }

    /// A 32-byte key for another purpose, derived from the master key (HMAC-SHA256 of `label`,
    /// the expand step of HKDF): one configured secret, independent keys per use.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.key.as_slice())
            .expect("HMAC takes a key of any length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    /// `version || nonce || ciphertext+tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = random_bytes::<NONCE_LEN>();
        let ct = ChaCha20Poly1305::new(&self.key)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("ChaCha20-Poly1305 encryption of a small buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(OpenError);
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        ChaCha20Poly1305::new(&self.key)
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| OpenError)
    }
}

/// The associated data of a signing key's sealed secret.
pub fn key_aad(kid: &str, alg: &str) -> Vec<u8> {
    format!("jwtedge/signing-key/v1/{alg}/{kid}").into_bytes()
}

/// Sealed under the master key when a database is created; opened at every start, so a wrong
/// master key is a clear startup error instead of undecryptable keys later.
pub const MASTER_CHECK_AAD: &[u8] = b"jwtedge/master-key-check/v1";
pub const MASTER_CHECK_PLAINTEXT: &[u8] = b"jwtedge master key check";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let mk = MasterKey::generate();
        let sealed = mk.seal(b"a", b"secret");
        assert_eq!(mk.open(b"a", &sealed).unwrap(), b"secret");
        assert!(mk.open(b"b", &sealed).is_err(), "aad binds");
        assert!(MasterKey::generate().open(b"a", &sealed).is_err());
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(mk.open(b"a", &bad).is_err());
        assert!(mk.open(b"a", &sealed[..10]).is_err());
        assert_ne!(mk.seal(b"a", b"secret"), sealed, "fresh nonce");
        assert!(!format!("{mk:?}").contains(&mk.to_base64()));
    }

    #[test]
    fn derived_keys_are_stable_and_separate() {
        let mk = MasterKey::generate();
        assert_eq!(mk.derive(b"a"), mk.derive(b"a"));
        assert_ne!(mk.derive(b"a"), mk.derive(b"b"));
        assert_ne!(mk.derive(b"a"), MasterKey::generate().derive(b"a"));
        assert_ne!(&mk.derive(b"a")[..], mk.key.as_slice());
    }

    #[test]
    fn parses_base64_forms() {
        let mk = MasterKey::generate();
        let std = mk.to_base64();
        let again = MasterKey::from_base64(&std).unwrap();
        assert_eq!(again.to_base64(), std);
        let url = std.replace('+', "-").replace('/', "_");
        assert_eq!(
            MasterKey::from_base64(url.trim_end_matches('='))
                .unwrap()
                .to_base64(),
            std
        );
        assert!(MasterKey::from_base64("c2hvcnQ=")
            .unwrap_err()
            .contains("32 bytes"));
        assert!(MasterKey::from_base64("!!").is_err());
    }
}
