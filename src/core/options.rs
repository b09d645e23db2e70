//! What a caller expects of a token (SPEC §4, §6). Defaults follow the SPEC: leeway 0 s, size
//! limit 8 KiB, every algorithm allowed (each key pins its own), `typ` of `at+jwt`, `JWT` or absent.

use super::Algorithm;

/// The `typ` header a token must carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TypeExpectation {
    /// `at+jwt`, `JWT` or absent (SPEC §2).
    #[default]
    AccessTokenOrJwt,
    /// Exactly this media type (compared case-insensitively, `application/` optional).
    Exactly(String),
}

impl TypeExpectation {
    pub fn accepts(&self, typ: Option<&str>) -> bool {
        match (self, typ) {
            (TypeExpectation::AccessTokenOrJwt, None) => true,
            (TypeExpectation::AccessTokenOrJwt, Some(typ)) => {
                same_media_type(typ, "at+jwt") || same_media_type(typ, "jwt")
            }
            (TypeExpectation::Exactly(want), Some(typ)) => same_media_type(typ, want),
            (TypeExpectation::Exactly(_), None) => false,
        }
    }
}

/// RFC 7515 §4.1.9: `typ` is a media type, case-insensitive, `application/` may be omitted.
fn same_media_type(a: &str, b: &str) -> bool {
    fn short(t: &str) -> &str {
        match (t.get(..12), t.get(12..)) {
            (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
            _ => t,
        }
    }
    short(a).eq_ignore_ascii_case(short(b))
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifyOptions {
    /// Algorithms a token may use; anything else is `unsupported_algorithm`.
    pub algorithms: Vec<Algorithm>,
    /// Accepted `iss` values (any of); `None` accepts any issuer.
    pub issuer: Option<Vec<String>>,
    /// Accepted audiences: the token's `aud` must contain one; `None` accepts any.
    pub audience: Option<Vec<String>>,
    pub token_type: TypeExpectation,
    /// Claims that must be present besides `exp` (which always must).
    pub required_claims: Vec<String>,
    /// Clock skew tolerated for `exp` and `nbf`, in seconds.
    pub leeway_seconds: f64,
    /// Tokens longer than this are `too_large` before anything else is looked at.
    pub max_token_bytes: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            algorithms: Algorithm::ALL.to_vec(),
            issuer: None,
            audience: None,
            token_type: TypeExpectation::default(),
            required_claims: Vec::new(),
            leeway_seconds: 0.0,
            max_token_bytes: 8 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_expectations() {
        let d = TypeExpectation::default();
        assert!(d.accepts(None) && d.accepts(Some("at+jwt")) && d.accepts(Some("JWT")));
        assert!(d.accepts(Some("application/at+JWT")));
        assert!(!d.accepts(Some("dpop+jwt")));
        let strict = TypeExpectation::Exactly("at+jwt".into());
        assert!(strict.accepts(Some("application/at+jwt")));
        assert!(!strict.accepts(None) && !strict.accepts(Some("JWT")));
    }
}
