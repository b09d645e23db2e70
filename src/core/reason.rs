//! The verification statuses and reason codes of SPEC §4. Codes are stable: they cross into
//! JavaScript, logs and dashboards verbatim.

/// The status of an outcome: what the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    TryRefreshToken,
    Unauthorised,
    KeysetUnavailable,
}

impl Status {
    pub const fn code(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::TryRefreshToken => "TRY_REFRESH_TOKEN",
            Status::Unauthorised => "UNAUTHORISED",
            Status::KeysetUnavailable => "KEYSET_UNAVAILABLE",
        }
    }
}

/// Why a token did not verify. Each reason belongs to exactly one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Expired,
    UnknownKey,
    Malformed,
    TooLarge,
    UnsupportedAlgorithm,
    BadSignature,
    NotYetValid,
    InvalidIssuer,
    InvalidAudience,
    InvalidType,
    MissingClaim,
    FetchFailed,
    InvalidKeyset,
}

impl Reason {
    pub const ALL: [Reason; 13] = [
        Reason::Expired,
        Reason::UnknownKey,
        Reason::Malformed,
        Reason::TooLarge,
        Reason::UnsupportedAlgorithm,
        Reason::BadSignature,
        Reason::NotYetValid,
        Reason::InvalidIssuer,
        Reason::InvalidAudience,
        Reason::InvalidType,
        Reason::MissingClaim,
        Reason::FetchFailed,
        Reason::InvalidKeyset,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Reason::Expired => "expired",
            Reason::UnknownKey => "unknown_key",
            Reason::Malformed => "malformed",
            Reason::TooLarge => "too_large",
            Reason::UnsupportedAlgorithm => "unsupported_algorithm",
            Reason::BadSignature => "bad_signature",
            Reason::NotYetValid => "not_yet_valid",
            Reason::InvalidIssuer => "invalid_issuer",
            Reason::InvalidAudience => "invalid_audience",
            Reason::InvalidType => "invalid_type",
            Reason::MissingClaim => "missing_claim",
            Reason::FetchFailed => "fetch_failed",
            Reason::InvalidKeyset => "invalid_keyset",
        }
    }

    pub const fn status(self) -> Status {
        match self {
            Reason::Expired | Reason::UnknownKey => Status::TryRefreshToken,
            Reason::FetchFailed | Reason::InvalidKeyset => Status::KeysetUnavailable,
            _ => Status::Unauthorised,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.status().code(), self.code())
    }
}
