//! The signature algorithms jwtedge knows (SPEC §2). Anything else, `none` included, is not an
//! `Algorithm` at all, so it cannot be selected by accident.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    EdDsa,
    Hs256,
    Hs384,
    Hs512,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

/// The kind of key an algorithm needs: a key of one kind never verifies another kind's
/// algorithm (SPEC §3: no HMAC secret for an asymmetric `alg`, and the reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ed25519,
    Hmac,
    Rsa,
    /// ECDSA on the curve of this many coordinate bytes (32 P-256, 48 P-384, 66 P-521).
    Ec(usize),
}

impl Algorithm {
    pub const ALL: [Algorithm; 13] = [
        Algorithm::EdDsa,
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
    ];

    /// The JOSE name (`alg` value). Case-sensitive, as RFC 7515 requires.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    pub const fn key_kind(self) -> KeyKind {
        match self {
            Algorithm::EdDsa => KeyKind::Ed25519,
            Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => KeyKind::Hmac,
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => KeyKind::Rsa,
            Algorithm::Es256 => KeyKind::Ec(32),
            Algorithm::Es384 => KeyKind::Ec(48),
            Algorithm::Es512 => KeyKind::Ec(66),
        }
    }

    /// Bytes of the SHA-2 output the algorithm uses (also the PSS salt length, RFC 7518 §3.5);
    /// Ed25519 hashes internally.
    pub const fn hash_bytes(self) -> usize {
        match self {
            Algorithm::EdDsa => 64,
            Algorithm::Hs256 | Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 => 32,
            Algorithm::Hs384 | Algorithm::Rs384 | Algorithm::Ps384 | Algorithm::Es384 => 48,
            Algorithm::Hs512 | Algorithm::Rs512 | Algorithm::Ps512 | Algorithm::Es512 => 64,
        }
    }

    /// True for the algorithms whose signature the runtime's crypto checks (RSA, ECDSA): no
    /// RSA or elliptic-curve arithmetic besides Ed25519 is compiled into the core.
    pub const fn checked_by_runtime(self) -> bool {
        matches!(self.key_kind(), KeyKind::Rsa | KeyKind::Ec(_))
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
