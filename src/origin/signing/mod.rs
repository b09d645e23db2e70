//! Per-algorithm key material of the origin beyond Ed25519 and HMAC (which live in
//! `signer.rs`): [`ec`] for ES256, [`rsa`] for RS256, and [`jwk`], the JWK shapes the origin
//! publishes and imports; [`import`], the file formats `keys import` reads.

pub mod ec;
pub mod import;
pub mod jwk;
pub mod rsa;
