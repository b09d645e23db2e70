//! The JSON Web Key model (RFC 7517) as the verifier reads it from a keyset. Only what the
//! verifier uses is read; other members (`x5c`, `x5t`, `ext`, `d`…) are skipped. The origin
//! publishes its own model (`origin::signing::jwk`), so nothing the verifier learns to read is
//! ever published by accident.
//!
//! Reading follows what a JSON reader into values would keep: a member written twice counts
//! with its last value, and `null` is the same as absent, except for `kty` (required) and
//! `key_ops` (RFC 7517 §4.3: a key whose `key_ops` does not list `verify` verifies nothing).

use std::borrow::Cow;

use super::json::{Json, Parsed};

/// One JWK as it appears in a keyset (`k` is secret material: HMAC keysets are private).
/// Members are borrowed from the keyset's text when they need no unescaping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Jwk<'a> {
    pub kty: Cow<'a, str>,
    pub crv: Option<Cow<'a, str>>,
    pub x: Option<Cow<'a, str>>,
    /// The second coordinate of an EC public key.
    pub y: Option<Cow<'a, str>>,
    /// RSA modulus and public exponent.
    pub n: Option<Cow<'a, str>>,
    pub e: Option<Cow<'a, str>>,
    pub k: Option<Cow<'a, str>>,
    pub kid: Option<Cow<'a, str>>,
    pub alg: Option<Cow<'a, str>>,
    pub use_: Option<Cow<'a, str>>,
}

/// A JWK Set: `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Jwks<'a> {
    pub keys: Vec<Jwk<'a>>,
}

/// A string member as last written: absent or `null`, a string, or another type.
#[derive(Default)]
enum Member<'a> {
    #[default]
    Absent,
    Text(Cow<'a, str>),
    WrongType,
}

impl<'a> Member<'a> {
    fn read(json: &mut Json<'a>) -> Parsed<Member<'a>> {
        Ok(match json.peek() {
            Some(b'"') => Member::Text(json.string()?),
            _ if json.null()? => Member::Absent,
            _ => {
                json.skip(true)?;
                Member::WrongType
            }
        })
    }

    /// `Err` for a wrong type, which makes the whole JWK unusable.
    fn get(self) -> Result<Option<Cow<'a, str>>, ()> {
        match self {
            Member::Absent => Ok(None),
            Member::Text(text) => Ok(Some(text)),
            Member::WrongType => Err(()),
        }
    }
}

/// The members of one JWK as read, before their types are judged.
#[derive(Default)]
pub(crate) struct RawJwk<'a> {
    members: [Member<'a>; 10],
    /// `None` when `key_ops` is absent; else whether it is an array listing `verify`.
    verify_op: Option<bool>,
}

const NAMES: [&str; 10] = ["kty", "crv", "x", "y", "n", "e", "k", "kid", "alg", "use"];

impl<'a> RawJwk<'a> {
    /// Reads one JWK object (the whole document is being decoded: every string checked).
    pub(crate) fn read(json: &mut Json<'a>) -> Parsed<RawJwk<'a>> {
        let mut raw = RawJwk::default();
        json.object(|json, name| {
            if let Some(i) = NAMES.iter().position(|n| *n == name) {
                raw.members[i] = Member::read(json)?;
            } else if name == "key_ops" {
                let mut verify = false;
                if json.peek() == Some(b'[') {
                    json.array(|json| {
                        if json.peek() != Some(b'"') {
                            return json.skip(true);
                        }
                        verify |= json.string()? == "verify";
                        Ok(())
                    })?;
                    raw.verify_op = Some(verify);
                } else {
                    json.skip(true)?;
                    raw.verify_op = Some(false);
                }
            } else {
                json.skip(true)?;
            }
            Ok(())
        })?;
        Ok(raw)
    }

    /// The JWK, or `None` when it verifies nothing: `kty` missing or not a string, another
    /// member of the wrong type, or `key_ops` without `verify`.
    pub(crate) fn into_jwk(self) -> Option<Jwk<'a>> {
        if self.verify_op == Some(false) {
            return None;
        }
        let [kty, crv, x, y, n, e, k, kid, alg, use_] = self.members.map(Member::get);
        Some(Jwk {
            kty: kty.ok()??,
            crv: crv.ok()?,
            x: x.ok()?,
            y: y.ok()?,
            n: n.ok()?,
            e: e.ok()?,
            k: k.ok()?,
            kid: kid.ok()?,
            alg: alg.ok()?,
            use_: use_.ok()?,
        })
    }
}
