//! An `UntrustedToken`: a compact JWS split, decoded and type-checked, whose signature has not
//! been verified yet. Parsing runs the first three stages of SPEC §4: size → structure → header.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{
    b64url_decode, exceeds_depth, Algorithm, Claims, Reason, VerifyOptions, MAX_JSON_DEPTH,
};

/// What key a token asks for: by `kid`, or (kid-less, SPEC §3) the only key of its algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyNeed<'a> {
    Kid(&'a str, Algorithm),
    OnlyKeyFor(Algorithm),
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "string_member")]
    kid: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "string_member")]
    typ: Option<Cow<'a, str>>,
    /// Present at all, whatever its value: no `crit` extension is understood.
    #[serde(default, deserialize_with = "crit_present")]
    crit: bool,
}

/// `crit` must be an array when present (RFC 7515 §4.1.11); `null` is not "absent" but a
/// malformed header, so it fails the header's parse (`malformed`) instead of being skipped.
fn crit_present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<IgnoredAny>::deserialize(d)? {
        Some(_) => Ok(true),
        None => Err(serde::de::Error::custom("crit is null")),
    }
}

/// `kid` and `typ` are strings when present (RFC 7515 §4.1.4, §4.1.9): `null` is a malformed
/// header, not an absent member (a `"kid": null` token would otherwise take the kid-less path).
/// Borrowed when the JSON has no escapes, as serde's own `Cow` borrowing does.
fn string_member<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(s))
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(s.to_owned()))
        }
        fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(s))
        }
    }
    d.deserialize_str(V).map(Some)
}

/// A token that parsed but is not trusted: nothing in it may be acted on until
/// [`UntrustedToken::verify_with`](super::verify) has checked its signature.
#[derive(Debug, Clone)]
pub struct UntrustedToken<'t> {
    signing_input: &'t [u8],
    signature: Vec<u8>,
    alg: Algorithm,
    kid: Option<String>,
    claims: Claims,
    claims_json: String,
}

impl<'t> UntrustedToken<'t> {
    pub fn parse(token: &'t str, opts: &VerifyOptions) -> Result<UntrustedToken<'t>, Reason> {
        // Size first: nothing else is looked at in an oversized token.
        if token.len() > opts.max_token_bytes {
            return Err(Reason::TooLarge);
        }
        // Structure: three strict-base64url parts, header and claims JSON objects.
        let bytes = token.as_bytes();
        let mut dots = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'.')
            .map(|(i, _)| i);
        let (Some(d1), Some(d2), None) = (dots.next(), dots.next(), dots.next()) else {
            return Err(Reason::Malformed);
        };
        let (header_b64, rest) = bytes.split_at(d1);
        let payload_b64 = rest.get(1..d2 - d1).ok_or(Reason::Malformed)?;
        let signature_b64 = bytes.get(d2 + 1..).ok_or(Reason::Malformed)?;
        let header_json = b64url_decode(header_b64).ok_or(Reason::Malformed)?;
        let claims_bytes = b64url_decode(payload_b64).ok_or(Reason::Malformed)?;
        let signature = b64url_decode(signature_b64).ok_or(Reason::Malformed)?;
        if exceeds_depth(&header_json, MAX_JSON_DEPTH)
            || exceeds_depth(&claims_bytes, MAX_JSON_DEPTH)
        {
            return Err(Reason::Malformed);
        }
        // serde would read a struct from a JSON array too; the JOSE header must be an object.
        if header_json.trim_ascii_start().first() != Some(&b'{') {
            return Err(Reason::Malformed);
        }
        let header: RawHeader<'_> =
            serde_json::from_slice(&header_json).map_err(|_| Reason::Malformed)?;
        let claims_json = String::from_utf8(claims_bytes).map_err(|_| Reason::Malformed)?;
        let claims = Claims::parse(&claims_json).ok_or(Reason::Malformed)?;

        // Header: the algorithm must be one we know and allow; `none` is not one. No `crit`
        // extension is understood, so any is fatal (RFC 7515 §4.1.11).
        let alg = Algorithm::from_name(&header.alg)
            .filter(|a| opts.algorithms.contains(a))
            .ok_or(Reason::UnsupportedAlgorithm)?;
        if header.crit {
            return Err(Reason::UnsupportedAlgorithm);
        }
        if !opts.token_type.accepts(header.typ.as_deref()) {
            return Err(Reason::InvalidType);
        }
        Ok(UntrustedToken {
            signing_input: bytes.get(..d2).ok_or(Reason::Malformed)?,
            signature,
            alg,
            kid: header.kid.map(Cow::into_owned),
            claims,
            claims_json,
        })
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The header `kid`, unverified: fit only for choosing a key.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn key_need(&self) -> KeyNeed<'_> {
        match &self.kid {
            Some(kid) => KeyNeed::Kid(kid, self.alg),
            None => KeyNeed::OnlyKeyFor(self.alg),
        }
    }

    /// `header.payload`: the bytes the signature covers.
    pub fn signing_input(&self) -> &'t [u8] {
        self.signing_input
    }

    /// The decoded signature, unverified.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    pub(crate) fn into_claims(self) -> (Claims, String) {
        (self.claims, self.claims_json)
    }
}
