//! jwtedge: JWT access tokens verified at the edge against a keyset that rotates without outages.
//!
//! - [`core`]: target-independent, no I/O, no clock. Token parsing, keys, signatures, claims, the
//!   verification outcome (SPEC §2–§4) and the keyset cache policy (SPEC §5).
//! - `wasm` (wasm32 only): the thin JavaScript adapter that `wasm-pack` packages into `pkg/`
//!   (SPEC §6).

pub mod core;

#[cfg(not(target_arch = "wasm32"))]
pub mod origin;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::{verify_with_keyset, Verifier};

pub use crate::core::{
    verify, Algorithm, Claims, Jwk, Jwks, Keyset, KeysetError, Outcome, Reason, Status,
    UntrustedToken, VerifyOptions,
};
