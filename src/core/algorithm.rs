//! The signature algorithms jwtedge knows (SPEC §2). Anything else, `none` included, is not an
//! `Algorithm` at all, so it cannot be selected by accident.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    EdDsa,
    Hs256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::EdDsa, Algorithm::Hs256];

    /// The JOSE name (`alg` value). Case-sensitive, as RFC 7515 requires.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Hs256 => "HS256",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "EdDSA" => Some(Algorithm::EdDsa),
            "HS256" => Some(Algorithm::Hs256),
            _ => None,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
