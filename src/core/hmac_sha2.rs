//! HMAC-SHA-256/384/512 (RFC 2104) for verification, with both padded key blocks absorbed once
//! when the keyset is loaded: a verification then runs the SHA-2 compression function over the
//! signing input (straight from the token, no copy) and one block for the outer hash. Written on
//! `sha2`'s compression functions rather than the generic `hmac`/`digest` layers, which cost the
//! hot path a call per layer in a size-optimised `.wasm` and the module their code.

use sha2::digest::generic_array::GenericArray;

use super::Algorithm;

/// The chaining state of SHA-256 (`u32` words, 64-byte blocks) or SHA-384/512 (`u64` words,
/// 128-byte blocks) after a key block, and how to run it.
pub(crate) trait Sha2: Copy {
    const BLOCK: usize;
    /// Bytes of the big-endian message length in the final block.
    const LENGTH_BYTES: usize;
    fn initial(alg: Algorithm) -> Self;
    fn compress(&mut self, block: &[u8]);
    /// The first `out.len()` bytes of the digest.
    fn write(&self, out: &mut [u8]);
}

/// The SHA-256 round constants (FIPS 180-4 §4.2.2).
const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The SHA-256 compression function (FIPS 180-4 §6.2.2) on one 64-byte block. Written out: the
/// HS256 hot path spends most of its time here, and `sha2`'s version, built for size, calls a
/// helper every two rounds.
fn compress256(state: &mut [u32; 8], block: &[u8]) {
    let mut w = [0u32; 64];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    // Indexes, not `K256.iter().zip(w)`: at opt-level "s" the iterator over the moved array
    // compiles to a slower loop (measured ~10% of an HS256 verification).
    #[allow(clippy::needless_range_loop)]
    for i in 0..64 {
        let (k, w) = (&K256[i], w[i]);
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(w);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

#[derive(Clone, Copy)]
pub(crate) struct State256([u32; 8]);

#[derive(Clone, Copy)]
pub(crate) struct State512([u64; 8]);

impl Sha2 for State256 {
    const BLOCK: usize = 64;
    const LENGTH_BYTES: usize = 8;
    fn initial(_: Algorithm) -> Self {
        State256([
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ])
    }
    fn compress(&mut self, block: &[u8]) {
        compress256(&mut self.0, block);
    }
    fn write(&self, out: &mut [u8]) {
        for (chunk, word) in out.chunks_mut(4).zip(self.0) {
            chunk.copy_from_slice(&word.to_be_bytes()[..chunk.len()]);
        }
    }
}

impl Sha2 for State512 {
    const BLOCK: usize = 128;
    const LENGTH_BYTES: usize = 16;
    fn initial(alg: Algorithm) -> Self {
        State512(if alg == Algorithm::Hs384 {
            [
                0xcbbb9d5dc1059ed8,
                0x629a292a367cd507,
                0x9159015a3070dd17,
                0x152fecd8f70e5939,
                0x67332667ffc00b31,
                0x8eb44a8768581511,
                0xdb0c2e0d64f98fa7,
                0x47b5481dbefa4fa4,
            ]
        } else {
            [
                0x6a09e667f3bcc908,
                0xbb67ae8584caa73b,
                0x3c6ef372fe94f82b,
                0xa54ff53a5f1d36f1,
                0x510e527fade682d1,
                0x9b05688c2b3e6c1f,
                0x1f83d9abfb41bd6b,
                0x5be0cd19137e2179,
            ]
        })
    }
    fn compress(&mut self, block: &[u8]) {
        sha2::compress512(&mut self.0, &[*GenericArray::from_slice(block)]);
    }
    fn write(&self, out: &mut [u8]) {
        for (chunk, word) in out.chunks_mut(8).zip(self.0) {
            chunk.copy_from_slice(&word.to_be_bytes()[..chunk.len()]);
        }
    }
}

/// The inner and outer states of one HMAC key.
#[derive(Clone, Copy)]
pub(crate) struct Keyed<S> {
    inner: S,
    outer: S,
}

impl<S: Sha2> Keyed<S> {
    fn new(alg: Algorithm, key: &[u8]) -> Keyed<S> {
        // A key longer than a block is hashed first (RFC 2104 §2).
        let mut block = [0u8; 128];
        if key.len() > S::BLOCK {
            let mut digest = [0u8; 64];
            hash(S::initial(alg), 0, key, &mut digest[..alg.hash_bytes()]);
            block[..alg.hash_bytes()].copy_from_slice(&digest[..alg.hash_bytes()]);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut state = S::initial(alg);
            let mut padded = block;
            padded.iter_mut().for_each(|b| *b ^= byte);
            state.compress(&padded[..S::BLOCK]);
            state
        };
        Keyed {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// Constant-time comparison of the MAC of `message` with `mac`.
    fn verify(&self, alg: Algorithm, message: &[u8], mac: &[u8]) -> bool {
        let n = alg.hash_bytes();
        if mac.len() != n {
            return false;
        }
        let mut inner = [0u8; 64];
        hash(self.inner, S::BLOCK, message, &mut inner[..n]);
        let mut expected = [0u8; 64];
        hash(self.outer, S::BLOCK, &inner[..n], &mut expected[..n]);
        let diff = expected[..n]
            .iter()
            .zip(mac)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // Keeps the fold from being turned into an early-exit comparison.
        std::hint::black_box(diff) == 0
    }
}

/// Finishes a hash whose `state` has absorbed `before` bytes (0 or one block): absorbs
/// `message`, pads, and writes the first `out.len()` digest bytes.
fn hash<S: Sha2>(mut state: S, before: usize, message: &[u8], out: &mut [u8]) {
    let mut blocks = message.chunks_exact(S::BLOCK);
    for block in blocks.by_ref() {
        state.compress(block);
    }
    let rest = blocks.remainder();
    let mut last = [0u8; 256];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    let total = if rest.len() + 1 + S::LENGTH_BYTES > S::BLOCK {
        2 * S::BLOCK
    } else {
        S::BLOCK
    };
    let bits = (before as u128 + message.len() as u128) * 8;
    last[total - S::LENGTH_BYTES..total]
        .copy_from_slice(&bits.to_be_bytes()[16 - S::LENGTH_BYTES..]);
    for block in last[..total].chunks_exact(S::BLOCK) {
        state.compress(block);
    }
    state.write(out);
}

/// An HMAC key ready to verify, for HS256, HS384 or HS512.
#[derive(Clone)]
pub(crate) enum HmacKey {
    Sha256(Keyed<State256>),
    Sha512(Algorithm, Keyed<State512>),
}

impl HmacKey {
    /// RFC 7518 §3.2: a key at least as long as the hash output.
    pub(crate) fn new(alg: Algorithm, key: &[u8]) -> Option<HmacKey> {
        if key.len() < alg.hash_bytes() {
            return None;
        }
        match alg {
            Algorithm::Hs256 => Some(HmacKey::Sha256(Keyed::new(alg, key))),
            Algorithm::Hs384 | Algorithm::Hs512 => Some(HmacKey::Sha512(alg, Keyed::new(alg, key))),
            _ => None,
        }
    }

    /// Constant-time comparison of the MAC.
    pub(crate) fn verify(&self, message: &[u8], mac: &[u8]) -> bool {
        match self {
            HmacKey::Sha256(keyed) => keyed.verify(Algorithm::Hs256, message, mac),
            HmacKey::Sha512(alg, keyed) => keyed.verify(*alg, message, mac),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn reference(alg: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            let mut m = <M as Mac>::new_from_slice(key).unwrap();
            m.update(message);
            m.finalize().into_bytes().to_vec()
        }
        match alg {
            Algorithm::Hs256 => mac::<Hmac<sha2::Sha256>>(key, message),
            Algorithm::Hs384 => mac::<Hmac<sha2::Sha384>>(key, message),
            _ => mac::<Hmac<sha2::Sha512>>(key, message),
        }
    }

    /// Against the `hmac` crate, across every padding boundary and key-length case.
    #[test]
    fn agrees_with_the_hmac_crate() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            for key_len in [alg.hash_bytes(), 64, 65, 128, 129, 300] {
                let key: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
                let hmac_key = HmacKey::new(alg, &key).unwrap();
                for len in (0..300).chain([1000, 4096]) {
                    let message: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
                    let mut mac = reference(alg, &key, &message);
                    assert!(
                        hmac_key.verify(&message, &mac),
                        "{alg} key {key_len} len {len}"
                    );
                    let at = len % mac.len();
                    mac[at] ^= 1;
                    assert!(!hmac_key.verify(&message, &mac));
                    assert!(!hmac_key.verify(&message, &mac[1..]));
                }
            }
        }
        assert!(
            HmacKey::new(Algorithm::Hs512, &[0; 63]).is_none(),
            "short key"
        );
    }
}
