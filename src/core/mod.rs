//! The verifier's core: pure functions and a pure state machine, natively testable.
//! Flow: `UntrustedToken::parse` → `Keyset::find` → signature → `Claims` checks → `Outcome`.
//! RSA and ECDSA signatures are checked by the runtime: the pipeline then stops at a
//! [`Step::Runtime`] and resumes with the runtime's verdict.

mod algorithm;
mod b64;
pub mod cache;
mod cache_control;
mod claims;
mod hmac_sha2;
mod json;
mod json_depth;
mod jwk;
mod keyset;
mod options;
mod outcome;
mod reason;
mod runtime_key;
mod token;
mod verify;

pub use algorithm::{Algorithm, KeyKind};
pub use b64::{b64url_decode, b64url_encode};
pub use cache::{CacheConfig, FetchResponse, KeysetCache, Plan};
pub use cache_control::{age_seconds, max_age_seconds};
pub use claims::Claims;
pub use json_depth::{exceeds_depth, MAX_JSON_DEPTH};
pub use jwk::{Jwk, Jwks};
pub use keyset::{Keyset, KeysetError, KeysetLimits, VerifyKey};
pub use options::{TypeExpectation, VerifyOptions};
pub use outcome::{Outcome, Verified};
pub use reason::{Reason, Status};
pub use runtime_key::{RuntimeKey, RuntimeKeyParams, MAX_RSA_BITS, MIN_RSA_BITS};
pub use token::{KeyNeed, UntrustedToken};
pub use verify::{verify, verify_using, AwaitingSignature, RuntimeCheck, Step};
