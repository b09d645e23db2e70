//! RFC 8414 authorization server metadata (`/.well-known/oauth-authorization-server`): what a
//! generic client or gateway needs to find and use the keyset. jwtedge's origin is not an OAuth
//! authorization server (no authorization or RFC 6749 token endpoint), so it publishes only
//! the members that apply: `issuer`, `jwks_uri`, and the algorithms its published keys sign
//! with, as `access_token_signing_alg_values_supported` (an extension member, RFC 8414 §2
//! allows them; there is no registered member for access-token algorithms, and
//! `id_token_signing_alg_values_supported` would claim OpenID Connect ID tokens).

use serde::Serialize;

use super::algorithm::Algorithm;
use super::signing::jwk::PublishedKeyset;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Metadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
}

/// The path of an `http(s)` issuer URL without its trailing slash (`""` for none), or `None`
/// when the issuer is not such a URL (RFC 8414 §2: a URL without query or fragment).
pub fn issuer_path(issuer: &str) -> Option<&str> {
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))?;
    if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return None;
    }
    Some(path.trim_matches('/'))
}

/// The metadata of an origin with `issuer`, listing the algorithms of `published` keys (all of
/// them: an algorithm's name is not secret, even when its HMAC key is).
pub fn authorization_server(issuer: &str, published: &PublishedKeyset) -> Option<Metadata> {
    issuer_path(issuer)?;
    let mut algs: Vec<Algorithm> = published
        .keys
        .iter()
        .filter_map(|k| Algorithm::from_name(&k.alg))
        .collect();
    algs.sort();
    algs.dedup();
    Some(Metadata {
        issuer: issuer.to_string(),
        jwks_uri: format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')),
        access_token_signing_alg_values_supported: algs.into_iter().map(Algorithm::name).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::signing::jwk::PublishedJwk;

    #[test]
    fn issuer_paths() {
        assert_eq!(issuer_path("https://auth.example.com"), Some(""));
        assert_eq!(issuer_path("https://auth.example.com/"), Some(""));
        assert_eq!(issuer_path("http://127.0.0.1:8080"), Some(""));
        assert_eq!(
            issuer_path("https://example.com/tenant/a/"),
            Some("tenant/a")
        );
        assert_eq!(issuer_path("my-app"), None);
        assert_eq!(issuer_path("https://"), None);
        assert_eq!(issuer_path("https://example.com/?x=1"), None);
        assert_eq!(issuer_path("ftp://example.com"), None);
    }

    #[test]
    fn lists_the_algorithms_of_published_keys_once() {
        let keys = PublishedKeyset {
            keys: vec![
                PublishedJwk::ec_p256("a", &[1; 32], &[2; 32]),
                PublishedJwk::okp("b", &[3; 32]),
                PublishedJwk::okp("c", &[4; 32]),
                PublishedJwk::oct("d", &[5; 32]),
            ],
        };
        let m = authorization_server("https://auth.example.com/", &keys).unwrap();
        assert_eq!(m.issuer, "https://auth.example.com/");
        assert_eq!(m.jwks_uri, "https://auth.example.com/.well-known/jwks.json");
        assert_eq!(
            m.access_token_signing_alg_values_supported,
            ["EdDSA", "ES256", "HS256"]
        );
        assert!(authorization_server("not a url", &keys).is_none());
    }
}
