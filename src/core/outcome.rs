//! The one result every verification returns (SPEC §4): verified claims, or a reason.

use super::{Algorithm, Claims, Reason, Status};

/// A token whose signature and claims checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The typed registered claims.
    pub claims: Claims,
    /// The whole claims set as the issuer wrote it (UTF-8 JSON object), custom claims included.
    pub claims_json: String,
    /// The kid of the key that verified the token (absent only for a kid-less third-party key).
    pub kid: Option<String>,
    pub alg: Algorithm,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Verified),
    Rejected(Reason),
}

impl Outcome {
    pub fn status(&self) -> Status {
        match self {
            Outcome::Ok(_) => Status::Ok,
            Outcome::Rejected(reason) => reason.status(),
        }
    }

    pub fn reason(&self) -> Option<Reason> {
        match self {
            Outcome::Ok(_) => None,
            Outcome::Rejected(reason) => Some(*reason),
        }
    }

    pub fn verified(&self) -> Option<&Verified> {
        match self {
            Outcome::Ok(v) => Some(v),
            Outcome::Rejected(_) => None,
        }
    }

    /// `OK` or `STATUS/reason`, for logs and test expectations.
    pub fn code(&self) -> String {
        match self {
            Outcome::Ok(_) => "OK".to_string(),
            Outcome::Rejected(reason) => reason.to_string(),
        }
    }
}
