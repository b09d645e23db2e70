//! Strict base64url (RFC 7515 §2): no padding, no `+` or `/`, no stray trailing bits. A token has
//! exactly one encoding, so a tampered-but-equivalent spelling cannot slip through.
//! Written out (a few hundred bytes of `.wasm`) rather than taken from a general base64 crate.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 6-bit value of each base64url character; 0xff for anything else (`=`, `+`, `/`
/// included). A table: this runs for every byte of every token.
const SEXTETS: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

#[inline(always)]
fn sextet(c: u8) -> Option<u32> {
    match SEXTETS[c as usize] {
        0xff => None,
        v => Some(v as u32),
    }
}

/// Decodes strict base64url; `None` for anything else.
pub fn b64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    // A lone character in the last group carries less than a byte: no encoder writes it.
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut chunks = input.chunks_exact(4);
    for chunk in chunks.by_ref() {
        let mut bits = 0;
        for &c in chunk {
            bits = bits << 6 | sextet(c)?;
        }
        out.extend_from_slice(&bits.to_be_bytes()[1..]);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut bits = 0;
        for &c in tail {
            bits = bits << 6 | sextet(c)?;
        }
        // 2 characters: 12 bits, 1 byte and 4 zero bits; 3 characters: 18 bits, 2 bytes and 2.
        let spare = tail.len() * 6 % 8;
        if bits & ((1 << spare) - 1) != 0 {
            return None;
        }
        let bytes = (bits >> spare).to_be_bytes();
        out.extend_from_slice(&bytes[4 - (tail.len() - 1)..]);
    }
    Some(out)
}

pub fn b64url_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let bits = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_padding_plus_slash_and_trailing_bits() {
        assert_eq!(b64url_decode(b"YQ").as_deref(), Some(&b"a"[..]));
        assert!(b64url_decode(b"YQ==").is_none());
        assert!(b64url_decode(b"+/8").is_none());
        assert!(b64url_decode(b"YR").is_none(), "non-zero trailing bits");
        assert!(b64url_decode(b"Y").is_none(), "impossible length");
        assert_eq!(b64url_decode(b"-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert_eq!(b64url_decode(b"").as_deref(), Some(&b""[..]));
    }

    /// Against the general base64 crate the verifier used before, on every short input.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn agrees_with_the_base64_crate() {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        use base64::Engine;
        const STRICT: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new()
                .with_encode_padding(false)
                .with_decode_padding_mode(DecodePaddingMode::RequireNone)
                .with_decode_allow_trailing_bits(false),
        );
        let symbols = b"AQgw_-+/=.Z09a \x80";
        let mut input = Vec::new();
        for n in 0..symbols.len().pow(4) {
            input.clear();
            let mut rest = n;
            while rest > 0 {
                input.push(symbols[rest % symbols.len()]);
                rest /= symbols.len();
            }
            assert_eq!(
                b64url_decode(&input),
                STRICT.decode(&input).ok(),
                "{input:?}"
            );
        }
        for len in 0..70u8 {
            let data: Vec<u8> = (0..len).map(|i| i.wrapping_mul(151) ^ 0x5a).collect();
            assert_eq!(b64url_encode(&data), STRICT.encode(&data));
        }
    }

    #[test]
    fn round_trips() {
        for len in 0..40u8 {
            let data: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(b64url_decode(b64url_encode(&data).as_bytes()), Some(data));
        }
    }
}
