//! A keyset ready for verification: JWKS parsed within limits, unsupported keys skipped, key
//! material decoded once (HMAC state precomputed, Ed25519 points decompressed, RSA/EC members
//! checked) so the hot path only looks keys up (SPEC §3, §5 limits).

use ed25519_dalek::VerifyingKey;

use super::hmac_sha2::HmacKey;
use super::json::{Invalid, Json, Parsed};
use super::jwk::RawJwk;
use super::{b64url_decode, Algorithm, Jwk, KeyKind, KeyNeed, Reason, RuntimeKey};

/// Why a JWKS document was rejected. Rejection keeps the previous keyset in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysetError {
    TooLarge,
    TooManyKeys,
    NotJson,
    NotAKeyset,
    NoUsableKey,
}

impl KeysetError {
    pub const fn code(self) -> &'static str {
        match self {
            KeysetError::TooLarge => "keyset_too_large",
            KeysetError::TooManyKeys => "keyset_too_many_keys",
            KeysetError::NotJson => "keyset_not_json",
            KeysetError::NotAKeyset => "keyset_not_a_jwks",
            KeysetError::NoUsableKey => "keyset_no_usable_key",
        }
    }
}

impl std::fmt::Display for KeysetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeysetLimits {
    pub max_bytes: usize,
    pub max_keys: usize,
}

impl Default for KeysetLimits {
    fn default() -> Self {
        KeysetLimits {
            max_bytes: 64 * 1024,
            max_keys: 100,
        }
    }
}

#[derive(Clone)]
pub(crate) enum KeyMaterial {
    Hmac(HmacKey),
    Ed25519(VerifyingKey),
    /// RSA or ECDSA: the signature is checked by the runtime's crypto.
    Runtime(RuntimeKey),
}

/// One usable verification key.
#[derive(Clone)]
pub struct VerifyKey {
    pub kid: Option<String>,
    /// The algorithm the key is pinned to; `None` for an RSA key without `alg`, which accepts
    /// the RSA family (`RS*`, `PS*`) named by the token (SPEC §3).
    pub alg: Option<Algorithm>,
    /// The key's position among the usable keys of its keyset: the runtime's cache of imported
    /// keys is per keyset, indexed by it.
    pub index: usize,
    pub(crate) material: KeyMaterial,
}

impl std::fmt::Debug for VerifyKey {
    // Never print key material: HMAC keys are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// An Ed25519 verification key from its 32-byte public key; `None` if it is not a point.
    pub fn ed25519(public_key: &[u8; 32]) -> Option<VerifyKey> {
        Some(VerifyKey {
            kid: None,
            alg: Some(Algorithm::EdDsa),
            index: 0,
            material: KeyMaterial::Ed25519(VerifyingKey::from_bytes(public_key).ok()?),
        })
    }

    /// Builds a key from a JWK, or `None` when the JWK is one the verifier cannot use (SPEC §3):
    /// an unknown `kty` or curve, `use` other than `sig`, an `alg` that is not its kind's, RSA
    /// under 2048 bits, bad parameters. (`key_ops` without `verify`: see `Keyset::from_jwks_json`.)
    pub fn from_jwk(jwk: &Jwk) -> Option<VerifyKey> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let named = match jwk.alg.as_deref() {
            None => None,
            Some(name) => Some(Algorithm::from_name(name)?),
        };
        let (alg, material) = match (&*jwk.kty, jwk.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => {
                let x = b64url_decode(jwk.x.as_deref()?.as_bytes())?;
                let bytes: [u8; 32] = x.as_slice().try_into().ok()?;
                let key = VerifyingKey::from_bytes(&bytes).ok()?;
                (Some(Algorithm::EdDsa), KeyMaterial::Ed25519(key))
            }
            ("oct", _) => {
                let alg = named.unwrap_or(Algorithm::Hs256);
                let k = b64url_decode(jwk.k.as_deref()?.as_bytes())?;
                (Some(alg), KeyMaterial::Hmac(HmacKey::new(alg, &k)?))
            }
            ("RSA", _) => (named, KeyMaterial::Runtime(RuntimeKey::rsa(jwk)?)),
            ("EC", _) => {
                let key = RuntimeKey::ec(jwk)?;
                (key.implied_algorithm(), KeyMaterial::Runtime(key))
            }
            _ => return None,
        };
        // A named `alg` must be of the key's kind (and, for EC, its curve's): an HMAC secret
        // never verifies an asymmetric alg, nor the reverse.
        let kind = match &material {
            KeyMaterial::Hmac(_) => KeyKind::Hmac,
            KeyMaterial::Ed25519(_) => KeyKind::Ed25519,
            KeyMaterial::Runtime(key) => key.kind(),
        };
        if named.is_some_and(|n| n.key_kind() != kind || alg.is_some_and(|a| a != n)) {
            return None;
        }
        Some(VerifyKey {
            kid: jwk.kid.as_deref().map(str::to_owned),
            alg,
            index: 0,
            material,
        })
    }

    /// True when a token signed with `alg` may be checked with this key (SPEC §3).
    pub fn accepts(&self, alg: Algorithm) -> bool {
        match self.alg {
            Some(own) => own == alg,
            None => alg.key_kind() == KeyKind::Rsa,
        }
    }

    /// The Ed25519 public key, for verifying with another implementation (the runtime's
    /// WebCrypto) that must reach the same verdict.
    /// `None` for a weak (small-order) key, which only the strict check here rejects.
    pub fn ed25519_public_key(&self) -> Option<[u8; 32]> {
        match &self.material {
            KeyMaterial::Ed25519(key) if !key.is_weak() => Some(key.to_bytes()),
            _ => None,
        }
    }

    /// The RSA or EC key whose signatures the runtime checks; `None` for keys checked here.
    pub fn runtime_key(&self) -> Option<&RuntimeKey> {
        match &self.material {
            KeyMaterial::Runtime(key) => Some(key),
            _ => None,
        }
    }

    /// Checks `signature` over `signing_input`. HMAC compares in constant time; Ed25519 uses
    /// strict verification (no malleable signatures, no weak keys). Always `false` for a
    /// runtime-checked key (RSA, ECDSA): those go through [`UntrustedToken::check`].
    ///
    /// [`UntrustedToken::check`]: super::UntrustedToken::check
    pub fn verify_signature(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            KeyMaterial::Hmac(mac) => mac.verify(signing_input, signature),
            KeyMaterial::Ed25519(key) => match ed25519_dalek::Signature::from_slice(signature) {
                Ok(sig) => key.verify_strict(signing_input, &sig).is_ok(),
                Err(_) => false,
            },
            KeyMaterial::Runtime(_) => false,
        }
    }
}

/// The usable keys of one JWKS document.
#[derive(Clone, Debug, Default)]
pub struct Keyset {
    keys: Vec<VerifyKey>,
}

/// What the top level of a keyset document held.
enum TopLevel<'a> {
    /// An object whose (last) `keys` member is an array: its elements, `None` for those that
    /// are not objects.
    Keys(Vec<Option<RawJwk<'a>>>),
    /// Valid JSON, but not `{"keys":[…]}`.
    NotAKeyset,
}

/// Reads the whole document, every string decoded and every number finite (a document a JSON
/// reader into values refuses is not JSON here either). `Err` when it is not JSON.
fn read_top_level(text: &[u8]) -> Parsed<TopLevel<'_>> {
    let mut json = Json::new(text);
    let mut top = TopLevel::NotAKeyset;
    if json.peek() == Some(b'{') {
        json.object(|json, name| {
            if name != "keys" {
                return json.skip(true);
            }
            if json.peek() != Some(b'[') {
                top = TopLevel::NotAKeyset;
                return json.skip(true);
            }
            let mut keys = Vec::new();
            json.array(|json| {
                keys.push(if json.peek() == Some(b'{') {
                    Some(RawJwk::read(json)?)
                } else {
                    json.skip(true)?;
                    None
                });
                Ok(())
            })?;
            top = TopLevel::Keys(keys);
            Ok(())
        })?;
    } else {
        json.skip(true)?;
    }
    json.end()?;
    Ok(top)
}

impl Keyset {
    /// Parses a JWKS document within `limits`. Keys of unsupported kinds are skipped (a
    /// third-party JWKS still loads); a document with no usable key — `{"keys":[]}` included —
    /// is rejected (SPEC §3), since swapping it in would fail every token.
    pub fn from_jwks_json(json: &[u8], limits: KeysetLimits) -> Result<Keyset, KeysetError> {
        if json.len() > limits.max_bytes {
            return Err(KeysetError::TooLarge);
        }
        let raw = match read_top_level(json).map_err(|Invalid| KeysetError::NotJson)? {
            TopLevel::Keys(keys) => keys,
            TopLevel::NotAKeyset => return Err(KeysetError::NotAKeyset),
        };
        if raw.len() > limits.max_keys {
            return Err(KeysetError::TooManyKeys);
        }
        let keys: Vec<VerifyKey> = raw
            .into_iter()
            .filter_map(|raw| raw?.into_jwk())
            .filter_map(|jwk| VerifyKey::from_jwk(&jwk))
            .enumerate()
            .map(|(index, key)| VerifyKey { index, ..key })
            .collect();
        if keys.is_empty() {
            return Err(KeysetError::NoUsableKey);
        }
        Ok(Keyset { keys })
    }

    pub fn keys(&self) -> &[VerifyKey] {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// True when a token needing `need` would find a key here (used by the cache to decide
    /// whether an unknown `kid` justifies a refetch).
    pub fn has(&self, need: &KeyNeed<'_>) -> bool {
        match need {
            KeyNeed::Kid(kid, _) => self.keys.iter().any(|k| k.kid.as_deref() == Some(kid)),
            KeyNeed::OnlyKeyFor(_) => true,
        }
    }

    /// Key selection (SPEC §3). With a `kid`: the key of that kid whose `alg` matches, else
    /// `unsupported_algorithm` if the kid exists with another alg, else `unknown_key`. Without a
    /// `kid`: the one key of the token's alg, else `malformed`.
    pub fn find(&self, need: &KeyNeed<'_>) -> Result<&VerifyKey, Reason> {
        match *need {
            KeyNeed::Kid(kid, alg) => {
                let mut kid_seen = false;
                for key in &self.keys {
                    if key.kid.as_deref() == Some(kid) {
                        if key.accepts(alg) {
                            return Ok(key);
                        }
                        kid_seen = true;
                    }
                }
                Err(if kid_seen {
                    Reason::UnsupportedAlgorithm
                } else {
                    Reason::UnknownKey
                })
            }
            KeyNeed::OnlyKeyFor(alg) => {
                let mut found = self.keys.iter().filter(|k| k.accepts(alg));
                match (found.next(), found.next()) {
                    (Some(key), None) => Ok(key),
                    _ => Err(Reason::Malformed),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"; // RFC 8037 A.2

    fn parse(json: &str) -> Result<Keyset, KeysetError> {
        Keyset::from_jwks_json(json.as_bytes(), KeysetLimits::default())
    }

    #[test]
    fn skips_unsupported_kinds_and_infers_alg() {
        let json = format!(
            r#"{{"keys":[{{"kty":"RSA","n":"abc","e":"AQAB","kid":"r"}},
                {{"kty":"OKP","crv":"X25519","x":"{ED_X}","kid":"x"}},
                {{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","kid":"e"}},
                {{"kty":"oct","k":"{}","kid":"h"}},
                {{"kty":"oct","k":"c2hvcnQ","kid":"short"}},
                {{"kty":"oct","k":"{}","kid":"enc","use":"enc"}},
                {{"kty":"EC","kid":5}}]}}"#,
            "A".repeat(43),
            "A".repeat(43)
        );
        let ks = parse(&json).unwrap();
        let kids: Vec<_> = ks
            .keys()
            .iter()
            .map(|k| (k.kid.clone().unwrap(), k.alg))
            .collect();
        assert_eq!(
            kids,
            vec![
                ("e".into(), Some(Algorithm::EdDsa)),
                ("h".into(), Some(Algorithm::Hs256))
            ]
        );
    }

    #[test]
    fn rejects_garbage_and_limits() {
        assert_eq!(parse("not json").unwrap_err(), KeysetError::NotJson);
        assert_eq!(
            parse(r#"{"nokeys":[]}"#).unwrap_err(),
            KeysetError::NotAKeyset
        );
        assert_eq!(parse(r#"[1,2]"#).unwrap_err(), KeysetError::NotAKeyset);
        assert_eq!(
            parse(r#"{"keys":[{"kty":"RSA"}]}"#).unwrap_err(),
            KeysetError::NoUsableKey
        );
        assert_eq!(
            parse(r#"{"keys":[]}"#).unwrap_err(),
            KeysetError::NoUsableKey
        );
        let many = format!(
            r#"{{"keys":[{}]}}"#,
            vec![format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}"#); 101].join(",")
        );
        assert_eq!(parse(&many).unwrap_err(), KeysetError::TooManyKeys);
        let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "a".repeat(70_000));
        assert_eq!(parse(&big).unwrap_err(), KeysetError::TooLarge);
        let deep = format!(r#"{{"keys":[],"x":{}{}}}"#, "[".repeat(40), "]".repeat(40));
        assert_eq!(parse(&deep).unwrap_err(), KeysetError::NotJson);
    }

    #[test]
    fn alg_must_match_kind() {
        let json =
            format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","alg":"HS256"}}]}}"#);
        assert_eq!(parse(&json).unwrap_err(), KeysetError::NoUsableKey);
    }

    #[test]
    fn find_by_kid_and_without() {
        let json = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","kid":"a"}},
                {{"kty":"oct","k":"{}","kid":"b"}}]}}"#,
            "Q".repeat(43)
        );
        let ks = parse(&json).unwrap();
        assert!(ks.find(&KeyNeed::Kid("a", Algorithm::EdDsa)).is_ok());
        assert_eq!(
            ks.find(&KeyNeed::Kid("a", Algorithm::Hs256)).unwrap_err(),
            Reason::UnsupportedAlgorithm
        );
        assert_eq!(
            ks.find(&KeyNeed::Kid("zz", Algorithm::Hs256)).unwrap_err(),
            Reason::UnknownKey
        );
        assert!(ks.find(&KeyNeed::OnlyKeyFor(Algorithm::Hs256)).is_ok());
        let two = format!(
            r#"{{"keys":[{{"kty":"oct","k":"{0}","kid":"a"}},{{"kty":"oct","k":"{0}","kid":"b"}}]}}"#,
            "Q".repeat(43)
        );
        assert_eq!(
            parse(&two)
                .unwrap()
                .find(&KeyNeed::OnlyKeyFor(Algorithm::Hs256))
                .unwrap_err(),
            Reason::Malformed
        );
    }
}
