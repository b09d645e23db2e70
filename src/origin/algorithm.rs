//! The algorithms the origin signs with (SPEC §2, §7 `algorithm`): `EdDSA` (the default),
//! `ES256`, `RS256` and `HS256`. Its own type, not the verifier's `core::Algorithm`: the
//! verifier accepts more algorithms than the origin makes keys for, and a new verifier
//! algorithm must not become a configurable signing algorithm by accident.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// Ed25519.
    EdDsa,
    /// ECDSA on P-256 with SHA-256, JWS `r||s` signatures.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
    /// HMAC-SHA256: a shared secret, published only to the edge credential (SPEC §3).
    Hs256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [
        Algorithm::EdDsa,
        Algorithm::Es256,
        Algorithm::Rs256,
        Algorithm::Hs256,
    ];

    /// The JOSE name (`alg` value). Case-sensitive, as RFC 7515 requires.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256 => "ES256",
            Algorithm::Rs256 => "RS256",
            Algorithm::Hs256 => "HS256",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether its keys are secret material (published only with the edge credential).
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Algorithm::Hs256)
    }

    /// The accepted names, for messages.
    pub const NAMES: &'static str = "EdDSA, ES256, RS256 or HS256";
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("es256"), None);
        assert_eq!(Algorithm::from_name("RS384"), None);
        assert_eq!(Algorithm::from_name("none"), None);
        assert!(Algorithm::Hs256.is_symmetric());
        assert!(!Algorithm::Es256.is_symmetric());
    }
}
