//! An `UntrustedToken`: a compact JWS split, decoded and type-checked, whose signature has not
//! been verified yet. Parsing runs the first three stages of SPEC §4: size → structure → header.

use std::borrow::Cow;

use super::json::{Invalid, Json, Parsed};
use super::{b64url_decode, Algorithm, Claims, Reason, VerifyOptions};

/// What key a token asks for: by `kid`, or (kid-less, SPEC §3) the only key of its algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyNeed<'a> {
    Kid(&'a str, Algorithm),
    OnlyKeyFor(Algorithm),
}

/// The JOSE header members jwtedge reads. Others are skipped (their syntax checked).
struct RawHeader<'a> {
    alg: Cow<'a, str>,
    kid: Option<Cow<'a, str>>,
    typ: Option<Cow<'a, str>>,
    /// Present at all, whatever its value: no `crit` extension is understood.
    crit: bool,
}

impl<'a> RawHeader<'a> {
    /// A JSON object with a string `alg`. `kid` and `typ` are strings when present (RFC 7515
    /// §4.1.4, §4.1.9), and `crit` is not `null` (§4.1.11): a `null` there is a malformed header,
    /// not an absent member (a `"kid": null` token would otherwise take the kid-less path). A
    /// member of these four written twice is malformed too.
    fn parse(json: &'a [u8]) -> Parsed<RawHeader<'a>> {
        let mut json = Json::new(json);
        let (mut alg, mut kid, mut typ, mut crit) = (None, None, None, false);
        json.object(|json, name| {
            let slot = match &*name {
                "alg" => &mut alg,
                "kid" => &mut kid,
                "typ" => &mut typ,
                "crit" => {
                    if crit || json.null()? {
                        return Err(Invalid);
                    }
                    crit = true;
                    return json.skip(false);
                }
                _ => return json.skip(false),
            };
            if slot.is_some() {
                return Err(Invalid);
            }
            *slot = Some(json.string()?);
            Ok(())
        })?;
        json.end()?;
        Ok(RawHeader {
            alg: alg.ok_or(Invalid)?,
            kid,
            typ,
            crit,
        })
    }
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
        // Depth, syntax, types and duplicates, in one pass each.
        let header = RawHeader::parse(&header_json).map_err(|_| Reason::Malformed)?;
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
