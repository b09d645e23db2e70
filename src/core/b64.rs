//! Strict base64url (RFC 7515 §2): no padding, no `+` or `/`, no stray trailing bits. A token has
//! exactly one encoding, so a tampered-but-equivalent spelling cannot slip through.

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes strict base64url; `None` for anything else.
pub fn b64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    STRICT.decode(input).ok()
}

pub fn b64url_encode(input: &[u8]) -> String {
    STRICT.encode(input)
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

    #[test]
    fn round_trips() {
        for len in 0..40u8 {
            let data: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(b64url_decode(b64url_encode(&data).as_bytes()), Some(data));
        }
    }
}
