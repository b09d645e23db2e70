//! The key origin (SPEC §7), native only: the `jwtedge-origin` binary's library half.
//!
//! - [`config`]: settings from defaults, TOML, `JWTEDGE_*` variables and flags (one table of
//!   settings, defaults and meanings); [`config_print`]: `config print`.
//! - [`secrets`]: master key and credentials, configured or generated into the data directory.
//! - [`keys`]: the pure key lifecycle; [`algorithm`]: the signing algorithms; [`signer`] and
//!   [`signing`]: key material, published JWKs and JWS signing;
//!   [`crypto_at_rest`]: AEAD sealing of private keys; [`keyring`]: the opened keys in memory.
//! - [`sessions`]: sessions and refresh-token rotation with theft detection (pure);
//!   [`session_service`]: the session operations.
//! - [`store`]: the storage trait and its SQLite and PostgreSQL backends.
//! - [`service`]: the origin's state and its operations (startup, key operations);
//!   [`http`]: the HTTP API (the router, then one file per concern: bodies, credentials,
//!   keyset, sessions, keys, operational endpoints); [`metadata`]: RFC 8414 metadata;
//!   [`serve`]: connections (timeouts, cap, lingering close, shutdown deadline);
//!   [`rotation`]: the scheduler; [`adoption`]: which keyset versions edges hold (the counts,
//!   and the report read out of them);
//!   [`readiness`]: whether the next key may sign;
//!   [`metrics`]: Prometheus metrics (prometheus-client); [`error`]: request errors;
//!   [`cli`]: the command line.

pub mod adoption;
pub mod algorithm;
pub mod cli;
pub mod config;
pub mod config_print;
mod console;
pub mod crypto_at_rest;
pub mod error;
pub mod http;
pub mod keyring;
pub mod keys;
pub mod metadata;
pub mod metrics;
pub mod readiness;
pub mod rotation;
pub mod secrets;
pub mod serve;
pub mod service;
pub mod session_service;
pub mod sessions;
pub mod shared_config;
pub mod signer;
pub mod signing;
pub mod store;

/// How long a change made through one replica may take to reach the others (they poll the
/// store every [`rotation::TICK`]). Added to the retirement time of previous keys, since a
/// replica that has not yet seen a rotation may still sign with the old current key.
pub const PROPAGATION_BOUND: std::time::Duration = std::time::Duration::from_secs(1);
